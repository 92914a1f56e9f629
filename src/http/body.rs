//! The JSON body extractor of every command.
//!
//! It refuses a body that is not `application/json` (415), larger than the
//! configured limit (413), not JSON at all (400), or JSON of the wrong shape
//! (422, naming the field by JSON Pointer), or JSON that gives a member name
//! twice in one object (422, naming the second). Unknown fields are refused
//! by the command types themselves. It keeps the raw bytes for the idempotency
//! fingerprint.

use std::cell::RefCell;
use std::fmt;

use actix_web::{HttpRequest, http::header, web};
use futures_util::StreamExt;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::domain::{FieldError, Message};

use super::error::ApiError;
use super::messages;

/// The configured maximum body size, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

pub struct JsonBody<T> {
    pub value: T,
    pub raw: web::Bytes,
}

/// Reads and parses the body of `req`. Handlers call this after checking
/// permissions, so a caller without the right gets 403 whatever it sent.
pub async fn read<T: DeserializeOwned>(req: &HttpRequest, mut payload: web::Payload) -> Result<JsonBody<T>, ApiError> {
    let limit = req.app_data::<BodyLimit>().map_or(64 * 1024, |l| l.0);
    check_content_type(req)?;
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(messages::body_unreadable(e)))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    let raw = body.freeze();
    let value = parse(&raw)?;
    Ok(JsonBody { value, raw })
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let value = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        Ok(())
    } else if value.is_empty() {
        Err(ApiError::UnsupportedMediaType(messages::content_type_missing()))
    } else {
        Err(ApiError::UnsupportedMediaType(messages::content_type_unsupported(
            value,
        )))
    }
}

/// Parses in two steps so that malformed JSON (400) and well-formed JSON of
/// the wrong shape (422 with a pointer) are told apart. A member name given
/// twice in one object is refused (422, pointing at the second): RFC 8259
/// leaves its meaning open, so a proxy, a log reader or a signature checker
/// may read the first where serde would keep the last.
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let value = parse_unique(raw)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = pointer_of(e.path());
        let detail = e.inner().to_string();
        // serde reports a missing field at its parent; point at the field.
        if let Some(field) = detail
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            pointer.push('/');
            pointer.push_str(&escape(field));
        }
        ApiError::Validation(vec![FieldError::new(pointer, serde_message(&detail))])
    })
}

/// serde's words for a value of the wrong shape, read back into a message
/// of their own. serde gives its errors only as English text, in the few
/// fixed shapes of `serde::de::Error`'s provided methods; anything else is
/// a type's own words (a date, say), kept as they are.
pub fn serde_message(text: &str) -> Message {
    // `name` and what follows it.
    let quoted = |s: &str| -> Option<(String, String)> {
        let (name, rest) = s.strip_prefix('`')?.split_once('`')?;
        Some((name.to_owned(), rest.to_owned()))
    };
    // serde's `OneOf`: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
    let allowed = |s: &str| s.strip_prefix("one of ").unwrap_or(s).replace("` or `", "`, `");
    if let Some((field, rest)) = text.strip_prefix("missing field ").and_then(quoted)
        && rest.is_empty()
    {
        return messages::field_missing(field);
    }
    if let Some((field, rest)) = text.strip_prefix("duplicate field ").and_then(quoted)
        && rest.is_empty()
    {
        return messages::field_duplicate(field);
    }
    if let Some((field, rest)) = text.strip_prefix("unknown field ").and_then(quoted) {
        if rest == ", there are no fields" {
            return messages::field_unknown_none_expected(field);
        }
        if let Some(expected) = rest.strip_prefix(", expected ") {
            return messages::field_unknown(field, allowed(expected));
        }
    }
    if let Some((variant, rest)) = text.strip_prefix("unknown variant ").and_then(quoted)
        && let Some(expected) = rest.strip_prefix(", expected ")
    {
        return messages::field_unknown_variant(variant, allowed(expected));
    }
    // What was found may quote the client's text; what was expected is
    // the type's, so the last ", expected " divides them.
    let found_and_expected = |prefix: &str| text.strip_prefix(prefix)?.rsplit_once(", expected ");
    if let Some((found, expected)) = found_and_expected("invalid type: ") {
        return messages::field_invalid_type(found, expected);
    }
    if let Some((found, expected)) = found_and_expected("invalid value: ") {
        return messages::field_invalid_value(found, expected);
    }
    if let Some((length, expected)) = found_and_expected("invalid length ") {
        return messages::field_invalid_length(length, expected);
    }
    if let Some(cause) = text.strip_prefix("UUID parsing failed: ") {
        return messages::field_not_uuid(cause);
    }
    messages::field_unreadable(text)
}

/// serde_json's syntax errors, each with the code the catalogues word it
/// by (the `reason` of `malformed-body-not-json`).
pub const JSON_SYNTAX_ERRORS: [(&str, &str); 21] = [
    ("EOF while parsing a list", "eof-list"),
    ("EOF while parsing an object", "eof-object"),
    ("EOF while parsing a string", "eof-string"),
    ("EOF while parsing a value", "eof-value"),
    ("expected `:`", "expected-colon"),
    ("expected `,` or `]`", "expected-comma-or-bracket"),
    ("expected `,` or `}`", "expected-comma-or-brace"),
    ("expected ident", "expected-ident"),
    ("expected value", "expected-value"),
    ("expected `\"`", "expected-quote"),
    ("invalid escape", "invalid-escape"),
    ("invalid number", "invalid-number"),
    ("number out of range", "number-out-of-range"),
    ("invalid unicode code point", "invalid-unicode-code-point"),
    (
        "control character (\\u0000-\\u001F) found while parsing a string",
        "control-character",
    ),
    ("key must be a string", "key-must-be-a-string"),
    ("lone leading surrogate in hex escape", "lone-leading-surrogate"),
    ("trailing comma", "trailing-comma"),
    ("trailing characters", "trailing-characters"),
    ("unexpected end of hex escape", "unexpected-end-of-hex-escape"),
    ("recursion limit exceeded", "recursion-limit-exceeded"),
];

/// Why `raw` is not JSON, and where.
fn not_json(e: &serde_json::Error) -> Message {
    let (line, column) = (e.line(), e.column());
    let text = e.to_string();
    let said = text
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&text);
    let reason = JSON_SYNTAX_ERRORS
        .iter()
        .find(|(words, _)| *words == said)
        .map_or(said, |(_, code)| code);
    messages::body_not_json(reason, line, column)
}

/// The JSON value of `raw`, built in the one pass that also looks for
/// duplicate member names.
fn parse_unique(raw: &[u8]) -> Result<Value, ApiError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let parsed = UniqueMembers { duplicate: &duplicate }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| match duplicate.into_inner() {
        Some(mut path) => {
            // Segments were collected from the duplicate outwards.
            path.reverse();
            let name = path.last().cloned().unwrap_or_default();
            let pointer: String = path.iter().map(|segment| format!("/{}", escape(segment))).collect();
            ApiError::Validation(vec![FieldError::new(pointer, messages::field_member_given_twice(name))])
        }
        None => ApiError::MalformedBody(not_json(&e)),
    })
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a [`Value`] as `serde_json` does, but fails on a member name
/// repeated within one object. On failure `duplicate` holds the path to the
/// repeated member, innermost segment first; it is only built on that path,
/// so a valid body costs no more than an ordinary parse.
#[derive(Clone, Copy)]
struct UniqueMembers<'a> {
    duplicate: &'a RefCell<Option<Vec<String>>>,
}

impl UniqueMembers<'_> {
    /// Adds the segment a failing child sat under, if a duplicate caused it.
    fn under(self, segment: impl FnOnce() -> String) {
        if let Some(path) = self.duplicate.borrow_mut().as_mut() {
            path.push(segment());
        }
    }
}

impl<'de> DeserializeSeed<'de> for UniqueMembers<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueMembers<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.under(|| items.len().to_string());
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                *self.duplicate.borrow_mut() = Some(vec![name]);
                return Err(de::Error::custom("a member name is given more than once"));
            }
            match map.next_value_seed(self) {
                Ok(value) => {
                    members.insert(name, value);
                }
                Err(e) => {
                    self.under(|| name);
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(members))
    }
}

/// Turns serde's path (`complainant.phone`, `items[2]`) into a JSON Pointer.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::i18n::{self, Language};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    fn problem(raw: &str) -> ApiError {
        match parse::<Outer>(raw.as_bytes()) {
            Err(e) => e,
            Ok(v) => panic!("parsed {v:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(problem("{\"inner\":"), ApiError::MalformedBody(_)));
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        match problem(r#"{"inner": {"n": 300}}"#) {
            ApiError::Validation(errors) => assert_eq!(errors[0].pointer, "/inner/n"),
            other => panic!("{other:?}"),
        }
        match problem(r#"{"inner": {}}"#) {
            ApiError::Validation(errors) => assert_eq!(errors[0].pointer, "/inner/n"),
            other => panic!("{other:?}"),
        }
        match problem(r#"{"inner": {"n": 1}, "extra": true}"#) {
            ApiError::Validation(errors) => assert_eq!(errors[0].message, messages::field_unknown("extra", "`inner`")),
            other => panic!("{other:?}"),
        }
    }

    /// serde's words, in the language asked for.
    fn said(raw: &str, language: Language) -> String {
        match problem(raw) {
            ApiError::Validation(errors) => i18n::catalogue().say(language, &errors[0].message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serde_s_words_are_read_back_into_messages_that_keep_them_in_english() {
        let cases = [
            (r#"{"inner": {"n": 300}}"#, "invalid value: integer `300`, expected u8"),
            (r#"{"inner": {"n": "x"}}"#, r#"invalid type: string "x", expected u8"#),
            (r#"{"inner": {}}"#, "missing field `n`"),
            (
                r#"{"inner": {"n": 1}, "extra": true}"#,
                "unknown field `extra`, expected one of `inner`",
            ),
            (
                r#"{"inner": []}"#,
                "invalid length 0, expected struct Inner with 1 element",
            ),
        ];
        for (raw, english) in cases {
            assert_eq!(said(raw, Language::En), english, "{raw}");
            assert!(!said(raw, Language::ZhCn).contains("expected"), "{raw}");
        }
        assert_eq!(
            said(r#"{"inner": {"n": "x"}}"#, Language::ZhCn),
            r#"类型不符：应为 u8，实际为 string "x""#
        );
        assert_eq!(
            serde_message("unknown variant `fax`, expected one of `phone`, `email`"),
            messages::field_unknown_variant("fax", "`phone`, `email`")
        );
        assert_eq!(
            serde_message("unknown variant `fax`, expected `phone` or `email`"),
            messages::field_unknown_variant("fax", "`phone`, `email`")
        );
        assert_eq!(
            serde_message("premature end of input"),
            messages::field_unreadable("premature end of input")
        );
    }

    #[test]
    fn json_syntax_errors_keep_serde_json_s_words_in_english_and_are_worded_in_chinese() {
        for (words, code) in JSON_SYNTAX_ERRORS {
            let message = messages::body_not_json(code, 1, 7);
            assert_eq!(
                i18n::catalogue().say(Language::En, &message),
                format!("the request body is not valid JSON: {words} at line 1 column 7")
            );
            let chinese = i18n::catalogue().say(Language::ZhCn, &message);
            assert!(
                !chinese.contains(code) && chinese.contains("第 1 行第 7 列"),
                "{chinese}"
            );
        }
        let ApiError::MalformedBody(message) = problem("{\"inner\":") else {
            panic!("not JSON");
        };
        assert_eq!(
            i18n::catalogue().say(Language::En, &message),
            "the request body is not valid JSON: EOF while parsing a value at line 1 column 9"
        );
        assert_eq!(message.arg("reason"), Some("eof-value"));
    }

    fn duplicate_pointer(raw: &str) -> String {
        match parse_unique(raw.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors[0].pointer.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_member_given_twice_is_refused_wherever_it_is() {
        assert_eq!(duplicate_pointer(r#"{"inner": {"n": 1}, "inner": {"n": 2}}"#), "/inner");
        assert_eq!(duplicate_pointer(r#"{"inner": {"n": 1, "n": 2}}"#), "/inner/n");
        assert_eq!(
            duplicate_pointer(r#"{"a": [{}, {"b/c": {"x": 1, "x": 1}}]}"#),
            "/a/1/b~1c/x"
        );
        // An escape spells the same name: it is still a duplicate.
        assert_eq!(duplicate_pointer(r#"{"n": 1, "\u006e": 2}"#), "/n");
        assert!(matches!(
            problem(r#"{"inner": {"n": 1, "n": 1}}"#),
            ApiError::Validation(_)
        ));
    }

    #[test]
    fn unique_members_parse_exactly_as_serde_json_does() {
        let raw = r#"{"a": [1, -2, 3.5, 18446744073709551615, true, null, "一"], "b": {"a": {}}, "c": []}"#;
        let expected: Value = serde_json::from_str(raw).expect("json");
        assert_eq!(parse_unique(raw.as_bytes()).expect("unique"), expected);
        assert!(matches!(parse_unique(b"{} trailing"), Err(ApiError::MalformedBody(_))));
        assert!(matches!(parse_unique(b"{\"a\": 1,}"), Err(ApiError::MalformedBody(_))));
    }
}
