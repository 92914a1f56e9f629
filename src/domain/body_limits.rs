//! Test support: a request body's OpenAPI schema and the domain's
//! validation must agree on every limit the schema states.
//!
//! [`check_every_limit`] starts from the body's documented example, which
//! both must accept, and walks the schema. At each limit it builds a body
//! just inside (both accept it) and one just outside (both refuse it, the
//! domain naming the field): a text of the maximum number of characters and
//! one more, the smallest and largest number and one past each, a list of
//! the most items and one more, a duplicate where items must be unique, a
//! blank text and a control character where text must be neither, a body
//! without a required field. utoipa only takes literals for `minLength`,
//! `maximum` and the like, so this is what keeps those literals equal to
//! the validators' constants.
//!
//! Texts are made of CJK characters, three bytes each in UTF-8, so a limit
//! that counted bytes instead of characters would fail here.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::text;
use super::{DomainError, complaint, ticket, zoned};

/// The patterns of strings that are not free text: each has tests of its
/// own beside the code that reads such strings.
const FORMAT_PATTERNS: [&str; 5] = [
    complaint::PHONE_PATTERN,
    complaint::EMAIL_PATTERN,
    ticket::REFERENCE_PATTERN,
    zoned::TIME_PATTERN,
    zoned::ZONE_PATTERN,
];

/// What the domain said to one body.
#[derive(Debug)]
enum Verdict {
    Accepted,
    /// Refused while reading the JSON (a missing field, a number out of the
    /// field's type), at this pointer.
    Unreadable(String),
    /// Refused by validation, naming these fields.
    Invalid(Vec<String>),
    /// Read and valid, but refused for another reason.
    Other(#[allow(dead_code, reason = "shown in failure messages")] DomainError),
}

/// A request body type and the domain call that decides it.
pub struct Body<T, F> {
    name: String,
    schema: Value,
    validator: jsonschema::Validator,
    decide: F,
    _type: std::marker::PhantomData<T>,
}

/// Checks every limit `T`'s schema states against `decide`, the domain's
/// decision on the command (in a state that allows it). See the module
/// documentation.
pub fn check_every_limit<T, F>(decide: F)
where
    T: ToSchema + DeserializeOwned,
    F: Fn(T) -> Result<(), DomainError>,
{
    let body = Body::<T, F>::new(decide);
    let example = body.example();
    body.assert_accepted(&example, "the documented example");
    let schema = body.schema.clone();
    body.walk(&example, &schema, "");
}

/// `T`'s schema and `decide`, for checking chosen bodies.
pub fn body<T, F>(decide: F) -> Body<T, F>
where
    T: ToSchema + DeserializeOwned,
    F: Fn(T) -> Result<(), DomainError>,
{
    Body::new(decide)
}

impl<T, F> Body<T, F>
where
    T: ToSchema + DeserializeOwned,
    F: Fn(T) -> Result<(), DomainError>,
{
    /// Both the schema and the domain accept `body`.
    pub fn accepts(&self, body: Value) {
        self.assert_accepted(&body, &body.to_string());
    }

    /// Both refuse `body`, the domain naming `pointer`.
    pub fn refuses(&self, body: Value, pointer: &str) {
        self.assert_refused(&body, pointer, &body.to_string());
    }

    /// The schema accepts `body` but the domain refuses it at `pointer`: a
    /// rule across fields, or on the state, that the schema cannot state
    /// (its description says it in words).
    pub fn only_the_domain_refuses(&self, body: Value, pointer: &str) {
        let name = &self.name;
        let errors = self.schema_errors(&body);
        assert!(errors.is_empty(), "{name}: the schema refuses {body}: {errors:?}");
        match self.verdict(&body) {
            Verdict::Invalid(pointers) if pointers.iter().any(|p| p == pointer) => {}
            other => panic!("{name}: expected the domain to refuse {body} at {pointer}, got {other:?}"),
        }
    }

    /// The documented example with `changes` merged into it (a `null`
    /// removes a member).
    pub fn example_with(&self, changes: Value) -> Value {
        let mut body = self.example();
        merge(&mut body, changes);
        body
    }

    fn new(decide: F) -> Body<T, F> {
        let name = T::name().into_owned();
        let schema = standalone::<T>();
        let validator = jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|e| panic!("the schema of {name} does not compile: {e}\n{schema:#}"));
        Body {
            name,
            schema,
            validator,
            decide,
            _type: std::marker::PhantomData,
        }
    }

    /// The first example the schema documents.
    pub fn example(&self) -> Value {
        self.schema["examples"][0].clone()
    }

    fn verdict(&self, body: &Value) -> Verdict {
        let cmd: T = match serde_path_to_error::deserialize(body.clone()) {
            Ok(cmd) => cmd,
            Err(e) => return Verdict::Unreadable(pointer_of(e.path())),
        };
        match (self.decide)(cmd) {
            Ok(()) => Verdict::Accepted,
            Err(DomainError::Validation(errors)) => Verdict::Invalid(errors.into_iter().map(|e| e.pointer).collect()),
            Err(other) => Verdict::Other(other),
        }
    }

    fn schema_errors(&self, body: &Value) -> Vec<String> {
        self.validator
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect()
    }

    fn assert_accepted(&self, body: &Value, what: &str) {
        let name = &self.name;
        let errors = self.schema_errors(body);
        assert!(errors.is_empty(), "{name}: the schema refuses {what}: {errors:?}");
        match self.verdict(body) {
            Verdict::Accepted => {}
            other => panic!("{name}: the domain refuses {what}, which the schema accepts: {other:?}"),
        }
    }

    /// Both refuse `body`; the domain names `pointer` (a body without a
    /// required field is refused at its parent, so any pointer does there).
    fn assert_refused(&self, body: &Value, pointer: &str, what: &str) {
        let name = &self.name;
        assert!(
            !self.validator.is_valid(body),
            "{name}: the schema accepts {what} at {pointer}, which the domain refuses"
        );
        match self.verdict(body) {
            Verdict::Invalid(pointers) if pointers.iter().any(|p| p == pointer) => {}
            Verdict::Unreadable(_) if what.starts_with("a body without") => {}
            Verdict::Unreadable(at) if at.starts_with(pointer) => {}
            other => panic!("{name}: expected the domain to refuse {what} at {pointer}, got {other:?}"),
        }
    }

    /// `base` with `value` at `pointer`.
    fn with(&self, base: &Value, pointer: &str, value: Value) -> Value {
        let mut body = base.clone();
        set(&mut body, pointer, value);
        body
    }

    fn walk(&self, base: &Value, schema: &Value, pointer: &str) {
        let schema = self.resolve(schema);
        if let Some(required) = schema["required"].as_array() {
            for field in required.iter().filter_map(Value::as_str) {
                let mut body = base.clone();
                if let Some(parent) = body.pointer_mut(pointer).and_then(Value::as_object_mut) {
                    parent.remove(field);
                }
                self.assert_refused(&body, pointer, &format!("a body without {field}"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (field, property) in properties {
                let description = property["description"].as_str().unwrap_or_default();
                self.property(base, property, &format!("{pointer}/{field}"), description);
            }
        }
    }

    /// Checks the property at `pointer`; `description` is its own, or the
    /// list's for an item of a list.
    fn property(&self, base: &Value, schema: &Value, pointer: &str, description: &str) {
        let schema = self.resolve(schema);
        let types = types(&schema);
        if schema.get("properties").is_some() {
            if base.pointer(pointer).is_some_and(Value::is_object) {
                self.walk(base, &schema, pointer);
            }
        } else if types.contains(&"string") {
            self.string(base, &schema, pointer, description);
        } else if types.contains(&"integer") {
            self.integer(base, &schema, pointer);
        } else if types.contains(&"array") {
            self.array(base, &schema, pointer, description);
        }
    }

    fn string(&self, base: &Value, schema: &Value, pointer: &str, description: &str) {
        let name = &self.name;
        let Some(pattern) = schema["pattern"].as_str() else {
            assert!(
                schema.get("minLength").is_none() && schema.get("maxLength").is_none(),
                "{name}: the text at {pointer} has a length but not text::PATTERN"
            );
            return;
        };
        if pattern != text::PATTERN {
            assert!(
                FORMAT_PATTERNS.contains(&pattern),
                "{name}: {pointer} has a pattern that is neither text::PATTERN nor one of the known formats"
            );
            return;
        }
        let (Some(min), Some(max)) = (number(schema, "minLength"), number(schema, "maxLength")) else {
            panic!("{name}: the text at {pointer} has text::PATTERN but no minLength and maxLength");
        };
        let said = format!(
            "{} to {} characters (Unicode scalar values), not blank",
            thousands(min),
            thousands(max)
        );
        assert!(
            description.replace('\n', " ").contains(&said),
            "{name}: the description of {pointer} does not say \"{said}\": {description:?}"
        );
        let chars = |n: u64| json!("投".repeat(n as usize));
        let n = |what: u64| format!("a text of {what} characters");
        self.assert_accepted(
            &self.with(base, pointer, chars(max)),
            &format!("{} at {pointer}", n(max)),
        );
        self.assert_refused(&self.with(base, pointer, chars(max + 1)), pointer, &n(max + 1));
        if min > 1 {
            self.assert_accepted(&self.with(base, pointer, chars(min)), &n(min));
        }
        self.assert_refused(&self.with(base, pointer, chars(min - 1)), pointer, &n(min - 1));
        self.assert_refused(&self.with(base, pointer, json!(" \t\r\n")), pointer, "a blank text");
        self.assert_refused(
            &self.with(base, pointer, json!("a\u{7}b")),
            pointer,
            "a text with a control character",
        );
    }

    fn integer(&self, base: &Value, schema: &Value, pointer: &str) {
        if let Some(min) = number(schema, "minimum") {
            self.assert_accepted(&self.with(base, pointer, json!(min)), &format!("{min} at {pointer}"));
            if min > 0 {
                self.assert_refused(
                    &self.with(base, pointer, json!(min - 1)),
                    pointer,
                    &(min - 1).to_string(),
                );
            } else {
                self.assert_refused(&self.with(base, pointer, json!(-1)), pointer, "-1");
            }
        }
        if let Some(max) = number(schema, "maximum") {
            self.assert_accepted(&self.with(base, pointer, json!(max)), &format!("{max} at {pointer}"));
            self.assert_refused(
                &self.with(base, pointer, json!(max + 1)),
                pointer,
                &(max + 1).to_string(),
            );
        }
    }

    fn array(&self, base: &Value, schema: &Value, pointer: &str, description: &str) {
        let Some(first) = base.pointer(pointer).and_then(|a| a.get(0)).cloned() else {
            panic!(
                "{}: give the example at least one item at {pointer}, so its items can be checked",
                self.name
            );
        };
        let items = |n: u64| Value::Array((0..n).map(|i| nth(&first, i)).collect());
        if let Some(max) = number(schema, "maxItems") {
            let at_max = self.with(base, pointer, items(max));
            self.assert_accepted(&at_max, &format!("{max} items at {pointer}"));
            self.assert_refused(&self.with(base, pointer, items(max + 1)), pointer, "one item too many");
        }
        if let Some(min) = number(schema, "minItems").filter(|min| *min > 0) {
            self.assert_refused(&self.with(base, pointer, items(min - 1)), pointer, "too few items");
        }
        if schema["uniqueItems"] == true {
            let twice = self.with(base, pointer, json!([first.clone(), first.clone()]));
            self.assert_refused(&twice, &format!("{pointer}/1"), "an item given twice");
        }
        let one = self.with(base, pointer, json!([first]));
        self.property(&one, &schema["items"], &format!("{pointer}/0"), description);
    }

    /// The schema a `$ref` names, or `schema` itself; the `null` of an
    /// optional reference (`oneOf: [null, $ref]`) is looked through.
    fn resolve(&self, schema: &Value) -> Value {
        if let Some(name) = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
            return self.schema["$defs"][name].clone();
        }
        if let Some(options) = schema["oneOf"].as_array() {
            let mut not_null = options.iter().filter(|o| o["type"] != "null");
            if let (Some(only), None) = (not_null.next(), not_null.next()) {
                return self.resolve(only);
            }
        }
        schema.clone()
    }
}

/// The `n`-th of a list of items like `first`, each different: a number at
/// the end of a text counts up, another text gets a number appended, and
/// objects repeat (no list of objects needs unique items).
fn nth(first: &Value, n: u64) -> Value {
    match first {
        Value::String(s) => {
            let digits = s.chars().rev().take_while(char::is_ascii_digit).count();
            if digits >= 3 {
                let stem = &s[..s.len() - digits];
                json!(format!("{stem}{n:0digits$}"))
            } else {
                json!(format!("{s} {n}"))
            }
        }
        other => other.clone(),
    }
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|segment| match segment {
            Segment::Seq { index } => format!("/{index}"),
            Segment::Map { key } | Segment::Enum { variant: key } => format!("/{key}"),
            Segment::Unknown => String::new(),
        })
        .collect()
}

/// JSON Merge Patch (RFC 7396).
fn merge(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("an object");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(&key);
        } else {
            merge(map.entry(key).or_insert(Value::Null), value);
        }
    }
}

/// Sets `pointer` in `body`, creating the last member if it is absent.
fn set(body: &mut Value, pointer: &str, value: Value) {
    let (parent, last) = pointer.rsplit_once('/').expect("a pointer below the root");
    match body.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last.to_owned(), value);
        }
        Some(Value::Array(items)) => {
            let i: usize = last.parse().expect("an index");
            items[i] = value;
        }
        _ => panic!("{parent} is not in the body"),
    }
}

/// `n` as the descriptions write it: 10,000.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn number(schema: &Value, keyword: &str) -> Option<u64> {
    schema.get(keyword).and_then(Value::as_u64)
}

/// `T`'s schema as a standalone JSON Schema, the schemas it references
/// under `$defs`.
pub fn standalone<T: ToSchema>() -> Value {
    let Value::Object(mut root) = serde_json::to_value(<T as utoipa::PartialSchema>::schema()).expect("serializes")
    else {
        panic!("{} is not an object schema", T::name())
    };
    let mut referenced = Vec::new();
    <T as ToSchema>::schemas(&mut referenced);
    let defs: BTreeMap<String, Value> = referenced
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).expect("serializes")))
        .collect();
    root.insert(
        "$schema".to_owned(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert(
        "$defs".to_owned(),
        Value::Object(defs.into_iter().collect::<Map<_, _>>()),
    );
    let mut root = Value::Object(root);
    rewrite_refs(&mut root);
    root
}

/// `#/components/schemas/X` → `#/$defs/X`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "$ref" => {
                        if let Some(name) = s.strip_prefix("#/components/schemas/") {
                            *s = format!("#/$defs/{name}");
                        }
                    }
                    _ => rewrite_refs(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}
