//! The committed spec holds for requests made from its own constraints and
//! examples. For every operation this test sends the documented example
//! body, and for every bounded field or parameter the values just inside
//! and just outside its bounds; without a token; and with the operation's
//! `If-Match` left out where it is required. Every answer must have a
//! documented status, a body valid against the documented schema, and the
//! headers the document declares for it. A request valid against the
//! schema is never refused as malformed (400) or invalid (422), and one
//! outside a bound always is.

use serde_json::{Value, json};

use crate::helpers::spec::Spec;
use crate::helpers::*;
use opsledger::domain::Role;

/// Tickets and other things the paths and bodies name.
struct Fixtures {
    complaint: String,
    fault: String,
    fault_number: String,
    change: String,
    freeze: String,
    subject: String,
    other_subject: String,
}

impl Fixtures {
    async fn create(app: &TestApp, token: &str) -> Fixtures {
        let filed = json_of(app.post("/v1/complaints", token, &sample_complaint()).await, 201).await;
        let mut other = sample_complaint();
        other["complainant"]["phone"] = json!("+86 139 0000 0002");
        other["complainant"]["email"] = json!("li.na@example.cn");
        let other = json_of(app.post("/v1/complaints", token, &other).await, 201).await;
        let fault = json_of(
            app.post(
                "/v1/faults",
                token,
                &json!({"title": "光缆中断", "description": "7 区光缆中断", "affected_service": "fibre", "detected_by": "monitoring"}),
            )
            .await,
            201,
        )
        .await;
        let change = json_of(
            app.post(
                "/v1/changes",
                token,
                &json!({"change_type": "normal", "title": "更换分光器", "description": "7 区", "affected_services": ["fibre"], "maintenance_type": "corrective"}),
            )
            .await,
            201,
        )
        .await;
        let freeze = json_of(
            app.post(
                "/v1/changes/freezes",
                token,
                &json!({"reason": "春节", "start": "2099-01-01T00:00:00+08:00", "end": "2099-01-08T00:00:00+08:00"}),
            )
            .await,
            201,
        )
        .await;
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}")).to_owned();
        Fixtures {
            complaint: text(&filed, "id"),
            fault: text(&fault, "id"),
            fault_number: text(&fault, "number"),
            change: text(&change, "id"),
            freeze: text(&freeze, "id"),
            subject: text(&filed, "subject"),
            other_subject: text(&other, "subject"),
        }
    }

    /// A concrete path for a documented template.
    fn path(&self, template: &str) -> String {
        let id = if template.starts_with("/v1/faults/") {
            &self.fault
        } else if template.starts_with("/v1/changes/freezes/") {
            &self.freeze
        } else if template.starts_with("/v1/changes/") {
            &self.change
        } else if template.starts_with("/v1/subjects/") {
            &self.subject
        } else {
            &self.complaint
        };
        template.replace("{id}", id)
    }

    /// The example, with references to things that exist here, and
    /// windows in the future: the schema allows a value that names nothing
    /// or a window already over, and only the descriptions can say that
    /// the server refuses them.
    fn referring(&self, mut body: Value) -> Value {
        let start = chrono::Utc::now() + chrono::TimeDelta::days(2);
        let end = start + chrono::TimeDelta::hours(2);
        if let Some(map) = body.as_object_mut() {
            for (field, value) in map.iter_mut() {
                match field.as_str() {
                    "start" => *value = json!(start.to_rfc3339()),
                    "end" => *value = json!(end.to_rfc3339()),
                    "target" => *value = json!(self.fault_number),
                    "linked_faults" => *value = json!([self.fault_number]),
                    "into" => *value = json!(self.other_subject),
                    "subject" => *value = Value::Null,
                    _ => {}
                }
            }
            map.retain(|_, v| !v.is_null());
        }
        body
    }
}

/// Query parameters an operation's description requires beyond what the
/// schema can say (`GET /v1/subjects` needs exactly one contact).
fn required_by_rule(operation: &Value) -> Vec<(String, String)> {
    match operation["operationId"].as_str() {
        Some("subjects_find") => vec![("phone".into(), "+86 138 0013 8000".into())],
        _ => Vec::new(),
    }
}

/// One request to send: what is varied, and whether the schema allows it.
struct Case {
    label: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    valid: bool,
}

/// `n` characters of CJK text: three bytes each, so a limit counted in
/// bytes would show.
fn text_of(n: u64) -> String {
    "缆".repeat(n as usize)
}

/// The object schema behind `schema` (following `$ref` and a nullable `oneOf`).
fn object_schema<'a>(spec: &'a Spec, schema: &'a Value) -> &'a Value {
    let schema = spec.resolve(schema);
    match schema.get("oneOf").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .map(|s| spec.resolve(s))
            .find(|s| s.get("type") != Some(&json!("null")))
            .unwrap_or(schema),
        None => schema,
    }
}

/// The cases of an operation: its example, and each bound of its body's
/// top-level fields and of its query parameters, both sides.
fn cases(spec: &Spec, operation: &Value, fixtures: &Fixtures) -> Vec<Case> {
    let mut cases = Vec::new();
    let body_schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    let example = if body_schema.is_null() {
        None
    } else {
        let schema = object_schema(spec, body_schema);
        let example = schema["examples"][0].clone();
        assert!(!example.is_null(), "{} has no example body", operation["operationId"]);
        Some(fixtures.referring(example))
    };
    cases.push(Case {
        label: "the example".into(),
        query: Vec::new(),
        body: example.clone(),
        valid: true,
    });
    if let (Some(example), false) = (&example, body_schema.is_null()) {
        let schema = object_schema(spec, body_schema);
        for (field, property) in schema["properties"].as_object().cloned().unwrap_or_default() {
            let property = object_schema(spec, &property).clone();
            let with = |value: Value| {
                let mut body = example.clone();
                body[&field] = value;
                body
            };
            let mut push = |label: String, body: Value, valid: bool| {
                // Only values the schema judges as this case says: a
                // pattern may refuse the filler text, and then the bound
                // cannot be probed with it.
                if schema_accepts(spec, &property, &body[&field]) == valid {
                    cases.push(Case {
                        label,
                        query: Vec::new(),
                        body: Some(body),
                        valid,
                    });
                }
            };
            if let Some(max) = property["maxLength"].as_u64() {
                push(
                    format!("{field} at its maxLength {max}"),
                    with(json!(text_of(max))),
                    true,
                );
                push(
                    format!("{field} past its maxLength {max}"),
                    with(json!(text_of(max + 1))),
                    false,
                );
            }
            if let Some(min) = property["minLength"].as_u64().filter(|m| *m > 0) {
                push(
                    format!("{field} under its minLength {min}"),
                    with(json!(text_of(min - 1))),
                    false,
                );
            }
            if let Some(max) = property["maximum"].as_i64() {
                push(format!("{field} at its maximum {max}"), with(json!(max)), true);
                push(format!("{field} past its maximum {max}"), with(json!(max + 1)), false);
            }
            if let Some(min) = property["minimum"].as_i64() {
                push(format!("{field} at its minimum {min}"), with(json!(min)), true);
                push(format!("{field} under its minimum {min}"), with(json!(min - 1)), false);
            }
        }
    }
    for parameter in operation["parameters"].as_array().cloned().unwrap_or_default() {
        let parameter = spec.resolve(&parameter).clone();
        if parameter["in"] != "query" {
            continue;
        }
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        let schema = object_schema(spec, &parameter["schema"]).clone();
        let mut bound = |label: String, value: String, valid: bool| {
            cases.push(Case {
                label,
                query: vec![(name.clone(), value)],
                body: example.clone(),
                valid,
            })
        };
        if let Some(max) = schema["maximum"].as_i64() {
            bound(format!("{name}={max}"), max.to_string(), true);
            bound(format!("{name}={}", max + 1), (max + 1).to_string(), false);
        }
        if let Some(min) = schema["minimum"].as_i64() {
            bound(format!("{name}={min}"), min.to_string(), true);
            bound(format!("{name}={}", min - 1), (min - 1).to_string(), false);
        }
        if let Some(values) = schema["enum"].as_array() {
            let first = values[0]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| values[0].to_string());
            bound(format!("{name}={first}"), first, true);
            bound(format!("{name}=no-such-value"), "no-such-value".into(), false);
        }
        if schema["pattern"].is_string() {
            // A control character fits no pattern of the API.
            let odd = "a\u{1}b".to_owned();
            assert!(!schema_accepts(spec, &schema, &json!(odd)), "{name}: {schema}");
            bound(format!("{name} with a control character"), odd, false);
        }
        if schema["format"] == "date-time" {
            bound(format!("{name} an instant"), "2026-12-02T10:00:00Z".into(), true);
            bound(format!("{name} not an instant"), "yesterday".into(), false);
        }
    }
    cases
}

fn schema_accepts(spec: &Spec, schema: &Value, value: &Value) -> bool {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": spec.doc["components"],
        "allOf": [schema],
    });
    jsonschema::draft202012::new(&root)
        .map(|v| v.is_valid(value))
        .unwrap_or(false)
}

/// The ticket a path is about, for its current ETag.
fn ticket_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/")?;
    let mut parts = rest.split('/');
    let collection = parts.next()?;
    let id = parts.next()?;
    matches!(collection, "complaints" | "faults" | "changes" | "tickets")
        .then(|| id.to_owned())
        .filter(|id| id.len() == 36)
}

#[tokio::test]
async fn every_operation_answers_its_examples_and_bounds_as_documented() {
    let app = spawn_app().await;
    let spec = Spec::load();
    let everyone = token(
        "everyone",
        &[Role::Agent, Role::Engineer, Role::Manager, Role::Auditor, Role::Admin],
    );
    let fixtures = Fixtures::create(&app, &everyone).await;
    let mut checked = 0;
    let paths = spec.doc["paths"].as_object().expect("paths").clone();
    for (template, item) in &paths {
        for (method, operation) in item.as_object().expect("a path item") {
            let name = format!("{} {template}", method.to_uppercase());
            if template == "/v1/events/stream" {
                continue; // never ends; `feed` covers it
            }
            let path = fixtures.path(template);
            let secured = operation.get("security").is_some();
            let needs_if_match = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match" && p["required"] == true));
            for case in cases(&spec, operation, &fixtures) {
                let mut request = app
                    .http
                    .request(method.to_uppercase().parse().expect("a method"), app.url(&path))
                    .query(&required_by_rule(operation))
                    .query(&case.query)
                    .bearer_auth(&everyone)
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
                if needs_if_match && let Some(ticket) = ticket_of(&path) {
                    let current = app.get(&format!("/v1/tickets/{ticket}"), &everyone).await;
                    request = request.header("If-Match", etag_of(&current));
                }
                if let Some(body) = &case.body {
                    request = request.json(body);
                }
                let response = request.send().await.expect("the server answers");
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.bytes().await.expect("a body");
                let what = format!("{name} with {}", case.label);
                let answer = spec.check_answer(&what, operation, status, &headers, &body);
                assert!(status < 500, "{what}: {status} {answer}");
                if case.valid {
                    assert!(
                        ![400, 422].contains(&status),
                        "{what} is valid against the schema, yet refused: {status} {answer}"
                    );
                } else {
                    assert!(
                        [400, 422].contains(&status),
                        "{what} is outside the schema, yet answered {status} {answer}"
                    );
                }
                checked += 1;
            }
            if secured {
                let anonymous = app
                    .http
                    .request(method.to_uppercase().parse().expect("a method"), app.url(&path))
                    .send()
                    .await
                    .expect("the server answers");
                let status = anonymous.status().as_u16();
                let headers = anonymous.headers().clone();
                let body = anonymous.bytes().await.expect("a body");
                spec.check_answer(&format!("{name} without a token"), operation, status, &headers, &body);
                assert_eq!(status, 401, "{name} without a token");
            }
            if needs_if_match {
                // The example body, so that only the missing header is wrong.
                let example = cases(&spec, operation, &fixtures).remove(0).body.unwrap_or(json!({}));
                let response = app
                    .http
                    .request(method.to_uppercase().parse().expect("a method"), app.url(&path))
                    .bearer_auth(&everyone)
                    .json(&example)
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.bytes().await.expect("a body");
                spec.check_answer(&format!("{name} without If-Match"), operation, status, &headers, &body);
                assert_eq!(status, 428, "{name} without If-Match");
            }
        }
    }
    assert!(checked > 150, "only {checked} requests were checked");
}
