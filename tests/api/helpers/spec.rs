//! The committed OpenAPI document, as a client generated from it knows
//! the API: its operations, their parameters, and the schemas of what they
//! take and answer.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{Value, json};

pub struct Spec {
    pub doc: Value,
    /// "METHOD /template" of every operation a test called.
    called: Mutex<BTreeSet<String>>,
}

impl Spec {
    pub fn load() -> Spec {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json");
        Spec {
            doc: serde_json::from_str(&text).expect("the committed spec is JSON"),
            called: Mutex::new(BTreeSet::new()),
        }
    }

    /// Notes that a test called operation `name`.
    pub fn called(&self, name: &str) {
        self.called.lock().expect("lock").insert(name.to_owned());
    }

    /// The operations a test called so far.
    pub fn calls(&self) -> BTreeSet<String> {
        self.called.lock().expect("lock").clone()
    }

    /// `value`, or what its `$ref` points to in this document.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => self
                .doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{reference} points nowhere")),
            None => value,
        }
    }

    /// The documented response of `operation` with `status`, if any.
    pub fn response<'a>(&'a self, operation: &'a Value, status: u16) -> Option<&'a Value> {
        operation["responses"]
            .get(status.to_string())
            .map(|response| self.resolve(response))
    }

    /// The documented operation a concrete path and method reach.
    pub fn operation(&self, method: &str, path: &str) -> (String, &Value) {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object().expect("paths");
        // Literal segments win over parameters, as the server routes them.
        let mut candidates: Vec<(&String, usize)> = paths
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (t, s) in parts.iter().zip(&segments) {
                    if t.starts_with('{') {
                        continue;
                    }
                    if t != s {
                        return None;
                    }
                    literal += 1;
                }
                Some((template, literal))
            })
            .collect();
        candidates.sort_by_key(|(_, literal)| std::cmp::Reverse(*literal));
        for (template, _) in candidates {
            if let Some(op) = paths[template].get(method.to_lowercase()) {
                return (template.clone(), op);
            }
        }
        panic!("{method} {path} is not a documented operation");
    }

    /// Checks `instance` against `schema`, whose references point into this document.
    pub fn validate(&self, schema: &Value, instance: &Value, what: &str) {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator =
            jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{what}: schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not match the spec: {errors:#?}\n{instance}"
        );
    }

    /// Checks an answer of operation `name` against the document: its
    /// status is documented, its body valid against the documented schema
    /// of its media type, and the headers the server always sends with
    /// such an answer are there. Returns the body as JSON (null for none).
    pub fn check_answer(
        &self,
        name: &str,
        operation: &Value,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Value {
        let documented = self
            .response(operation, status)
            .unwrap_or_else(|| panic!("{name} answered {status}, which it does not document"));
        let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let declared = |h: &str| documented["headers"].get(h).is_some();
        // Every header a client acts on is declared where it is sent.
        for h in [
            "Location",
            "ETag",
            "Ticket-Version",
            "Idempotent-Replayed",
            "Preference-Applied",
            "Complaint-ETag",
            "Retry-After",
            "WWW-Authenticate",
        ] {
            if status != 304 && header(h).is_some() {
                assert!(declared(h), "{name} {status} sends {h} but does not declare it");
            }
        }
        // And what is declared for these answers is always sent.
        for (h, when) in [
            ("WWW-Authenticate", status == 401),
            ("Retry-After", status == 503),
            ("Location", status == 201 && declared("Location")),
            ("ETag", (200..300).contains(&status) && declared("ETag")),
        ] {
            if when {
                assert!(header(h).is_some(), "{name} {status} declares {h} but did not send it");
            }
        }
        if body.is_empty() {
            return Value::Null;
        }
        let media = header("content-type").unwrap_or_default();
        let media = media.split(';').next().unwrap_or_default().trim();
        let schema = &documented["content"][media]["schema"];
        assert!(!schema.is_null(), "{name} {status}: {media} is not documented");
        if !media.ends_with("json") {
            return Value::Null; // text (metrics): documented, and not JSON
        }
        let instance: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{name} {status}: not JSON: {e}"));
        self.validate(schema, &instance, &format!("the {status} answer of {name}"));
        instance
    }
}
