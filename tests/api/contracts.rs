//! Contract tests: files committed for other people and tools must equal
//! what the code generates.
//!
//! - `openapi/openapi.json` is the OpenAPI document of the HTTP API;
//! - `schema/<type>.v<version>.json` is a JSON Schema (draft 2020-12) of the
//!   payload of each event type, for consumers of the event stream;
//! - the permission matrix in `README.md` is the one the code enforces.
//!
//! After an intended change, regenerate them all with
//! `UPDATE_CONTRACTS=1 cargo test --test api contracts::` and commit the result.
//! No database is needed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use uuid::Uuid;

use opsledger::domain::DomainEvent;
use opsledger::domain::Personal;
use opsledger::domain::business_calendar::BusinessCalendarEvent;
use opsledger::domain::business_calendar::aggregate::{BusinessCalendarAmended, BusinessCalendarDefined};
use opsledger::domain::business_calendar::shipped::shipped_calendars;
use opsledger::domain::change::calendar::{CalendarBooked, CalendarEvent, CalendarReleased};
use opsledger::domain::change::freeze::{FreezeDeclared, FreezeEvent, FreezeLifted};
use opsledger::domain::change::{
    ChangeAmended, ChangeApproved, ChangeAssigned, ChangeClosed, ChangeCompleted, ChangeDrafted, ChangeEvent,
    ChangeFailed, ChangeImplementationStarted, ChangeNoteAdded, ChangePlanned, ChangeRejected, ChangeReviewed,
    ChangeRolledBack, ChangeRolloutStepRecorded, ChangeScheduled, ChangeStartAuthorised, ChangeSubmitted, ChangeType,
    ChangeUnscheduled, FollowUpAction, ReviewOutcome, Risk, RolloutStepKind,
};
use opsledger::domain::complaint::{
    Channel, ChannelCorrection, ComplainantCorrected, ComplainantRecord, ComplaintAcknowledged, ComplaintAssigned,
    ComplaintClosed, ComplaintDetailsCorrected, ComplaintEscalated, ComplaintEvent, ComplaintFiled,
    ComplaintLinkedFaultReopened, ComplaintLinkedFaultResolved, ComplaintNoteAdded, ComplaintPersonalDataResealed,
    ComplaintPriorityChanged, ComplaintReopened, ComplaintResolved, ComplaintResumed, ComplaintSatisfactionRecorded,
    ComplaintWaitingOnCustomer, NoteVisibility, Priority, ResealCause, ResealedValue, SubjectJoin, TextCorrection,
};
use opsledger::domain::fault::{
    DetectedBy, FaultActionItemCompleted, FaultAffectedServiceCorrected, FaultClosed, FaultEvaluated, FaultEvent,
    FaultInvestigationStarted, FaultMitigated, FaultNoteAdded, FaultReopened, FaultRepairLogged, FaultRepairVoided,
    FaultReported, FaultResolved, FaultReviewWritten, FaultTechnicianAssigned, FaultTriaged, ReviewActionItem,
};
use opsledger::domain::link::{LinkRelation, TicketLinked, TicketRef, TicketUnlinked};
use opsledger::domain::maintenance::MaintenanceType;
use opsledger::domain::sla::clock::{PinnedTarget, Remaining, ResumedTarget};
use opsledger::domain::sla::policy::SlaPolicyAmended;
use opsledger::domain::sla::{
    CalendarRef, PinCause, PolicyKey, SlaClockStopped, SlaClocksPaused, SlaClocksPinned, SlaClocksResumed,
    SlaPolicyEvent, Target, default_table,
};
use opsledger::domain::subject::{SubjectErased, SubjectEvent, SubjectMerged, SubjectRepaired};
use opsledger::domain::ticket::TicketKind;

const UPDATE_HINT: &str = "run `UPDATE_CONTRACTS=1 cargo test --test api contracts::` and commit the result";
const JSON_SCHEMA_DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";
const MATRIX_START: &str = "<!-- permission-matrix:start -->";
const MATRIX_END: &str = "<!-- permission-matrix:end -->";

// ---------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------

#[test]
fn committed_openapi_matches_the_generated_spec() {
    check_or_update(
        &repo_path("openapi/openapi.json"),
        &opsledger::http::openapi::pretty_json(),
    );
}

/// Every request body states its limits, so that none is forgotten when a
/// field is added: each string has a `maxLength`, an `enum` or a `format`
/// that bounds it (`date`, `date-time`, `uuid`), each number a `minimum` and
/// a `maximum`, each list a `maxItems`; each property says what it is; and
/// each body has an example its own schema accepts. The domain's tests
/// (`domain::body_limits`) hold the limits equal to what the server accepts.
#[test]
fn every_request_body_states_its_limits_and_describes_its_fields() {
    let doc: Value = serde_json::from_str(&opsledger::http::openapi::pretty_json()).expect("the spec is JSON");
    let components = &doc["components"]["schemas"];
    let mut bodies = BTreeSet::new();
    for operations in doc["paths"].as_object().expect("paths").values() {
        for operation in operations.as_object().expect("operations").values() {
            if let Some(reference) = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            {
                bodies.insert(reference.trim_start_matches("#/components/schemas/").to_owned());
            }
        }
    }
    assert!(bodies.len() > 40, "only {} request bodies found", bodies.len());

    let mut problems = Vec::new();
    for name in &bodies {
        let schema = &components[name.as_str()];
        let examples = schema["examples"].as_array().map(Vec::as_slice).unwrap_or_default();
        if examples.is_empty() {
            problems.push(format!("{name} has no example"));
        }
        let validator = jsonschema::draft202012::new(&json!({
            "$schema": JSON_SCHEMA_DRAFT,
            "components": doc["components"],
            "allOf": [{"$ref": format!("#/components/schemas/{name}")}],
        }))
        .unwrap_or_else(|e| panic!("the schema of {name} does not compile: {e}"));
        for example in examples {
            if let Err(e) = validator.validate(example) {
                problems.push(format!("{name}: its example {example} does not fit its schema: {e}"));
            }
        }
        check_body_limits(components, schema, name, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "request bodies that do not state their limits:\n{}",
        problems.join("\n")
    );
}

/// Walks the object `schema` (named `at` in messages) and its nested
/// objects and lists, noting each property that lacks a limit or a description.
fn check_body_limits(components: &Value, schema: &Value, at: &str, problems: &mut Vec<String>) {
    // Times people type: RFC 3339 or local, their shape a pattern; the
    // server reads a fraction of a second of any length, so no maxLength.
    const UNBOUNDED: [&str; 4] = [
        "DeclareFreeze.start",
        "DeclareFreeze.end",
        "ScheduleChange.start",
        "ScheduleChange.end",
    ];
    let resolve = |schema: &Value| -> Value {
        let mut schema = schema.clone();
        if let Some(options) = schema["oneOf"].as_array()
            && let Some(other) = options.iter().find(|o| o["type"] != "null")
        {
            schema = other.clone();
        }
        match schema["$ref"].as_str() {
            Some(reference) => components[reference.trim_start_matches("#/components/schemas/")].clone(),
            None => schema,
        }
    };
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (field, property) in properties {
        let path = format!("{at}.{field}");
        let described = property["description"].is_string()
            || property["oneOf"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o["description"].is_string()));
        if !described {
            problems.push(format!("{path} has no description"));
        }
        check_value_limits(&resolve(property), &path, &UNBOUNDED, components, problems, &resolve);
    }
}

fn check_value_limits(
    schema: &Value,
    path: &str,
    unbounded: &[&str],
    components: &Value,
    problems: &mut Vec<String>,
    resolve: &dyn Fn(&Value) -> Value,
) {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if schema.get("properties").is_some() {
        check_body_limits(components, schema, path, problems);
    } else if types.contains(&"string") {
        let bounded = schema.get("maxLength").is_some()
            || schema.get("enum").is_some()
            || matches!(schema["format"].as_str(), Some("date" | "date-time" | "uuid"));
        if !bounded && !unbounded.contains(&path) {
            problems.push(format!(
                "{path} is a string without maxLength, enum or a bounding format"
            ));
        }
    } else if types.contains(&"integer") || types.contains(&"number") {
        if schema.get("minimum").is_none() || schema.get("maximum").is_none() {
            problems.push(format!("{path} is a number without minimum and maximum"));
        }
    } else if types.contains(&"array") {
        if schema.get("maxItems").is_none() {
            problems.push(format!("{path} is a list without maxItems"));
        }
        check_value_limits(
            &resolve(&schema["items"]),
            &format!("{path}[]"),
            unbounded,
            components,
            problems,
            resolve,
        );
    }
}

/// Every property of every component schema says what it is, so that a
/// reader of the documentation (or of a generated client) never meets a
/// bare field name: request bodies and responses alike, including the
/// properties of objects nested inline, of list items, and of each
/// alternative of a `oneOf`. A property that is a `$ref` counts as described
/// when a description sits beside the `$ref` (OpenAPI 3.1 allows it); a
/// nullable one (`oneOf` of `null` and a `$ref`) when every alternative but
/// `null` carries one.
#[test]
fn every_component_property_has_a_description() {
    let doc: Value = serde_json::from_str(&opsledger::http::openapi::pretty_json()).expect("the spec is JSON");
    let schemas = doc["components"]["schemas"].as_object().expect("component schemas");
    let mut properties = 0;
    let mut undescribed = Vec::new();
    for (name, schema) in schemas {
        collect_undescribed(schema, name, &mut properties, &mut undescribed);
    }
    assert!(properties > 400, "only {properties} properties found");
    assert!(
        undescribed.is_empty(),
        "{} of {properties} component properties have no description:\n{}",
        undescribed.len(),
        undescribed.join("\n")
    );
}

/// Counts the properties under `schema` (named `at` in messages) and notes
/// each one without a description.
fn collect_undescribed(schema: &Value, at: &str, properties: &mut usize, undescribed: &mut Vec<String>) {
    for keyword in ["oneOf", "anyOf", "allOf"] {
        for (i, alternative) in schema[keyword].as_array().into_iter().flatten().enumerate() {
            collect_undescribed(alternative, &format!("{at}/{keyword}/{i}"), properties, undescribed);
        }
    }
    if schema.get("items").is_some() {
        collect_undescribed(&schema["items"], &format!("{at}[]"), properties, undescribed);
    }
    if schema["additionalProperties"].is_object() {
        collect_undescribed(
            &schema["additionalProperties"],
            &format!("{at}{{}}"),
            properties,
            undescribed,
        );
    }
    let Some(fields) = schema["properties"].as_object() else {
        return;
    };
    for (field, property) in fields {
        let path = format!("{at}.{field}");
        *properties += 1;
        if !is_described(property) {
            undescribed.push(path.clone());
        }
        collect_undescribed(property, &path, properties, undescribed);
    }
}

/// Whether a property carries a description: beside its type or `$ref`, or,
/// for a `oneOf`/`anyOf`, on every alternative that is not `null`.
fn is_described(property: &Value) -> bool {
    if property["description"].as_str().is_some_and(|d| !d.trim().is_empty()) {
        return true;
    }
    ["oneOf", "anyOf"].iter().any(|keyword| {
        property[keyword].as_array().is_some_and(|alternatives| {
            let values: Vec<&Value> = alternatives.iter().filter(|a| a["type"] != "null").collect();
            !values.is_empty()
                && values
                    .iter()
                    .all(|a| a["description"].as_str().is_some_and(|d| !d.trim().is_empty()))
        })
    })
}

// ---------------------------------------------------------------------------
// Event payload schemas
// ---------------------------------------------------------------------------

#[test]
fn committed_event_schemas_match_the_generated_ones() {
    let events = samples();
    assert_covers_every_event_type(&events);

    let mut expected = BTreeMap::new();
    for event in &events {
        let file_name = schema_file_name(event);
        let schema = &event.schema;
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("the generated schema {file_name} is not a valid draft 2020-12 schema: {e}");
        }
        expected.insert(file_name, pretty(schema));
    }

    let dir = repo_path("schema");
    if updating() {
        fs::create_dir_all(&dir).expect("create schema/");
    }
    for (file_name, text) in &expected {
        check_or_update(&dir.join(file_name), text);
    }

    // A file nobody produces any more is a stale contract.
    let mut stale = Vec::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}; {UPDATE_HINT}", dir.display())) {
        let entry = entry.expect("read schema/ entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || expected.contains_key(&name) {
            continue;
        }
        if updating() && entry.path().is_file() {
            fs::remove_file(entry.path()).unwrap_or_else(|e| panic!("cannot remove stale schema/{name}: {e}"));
            eprintln!("removed stale schema/{name}");
        } else {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "schema/ contains files that no event type produces: {stale:?}; {UPDATE_HINT} (or remove them)"
    );
}

#[test]
fn every_event_type_serializes_to_json_its_schema_accepts() {
    let events = samples();
    assert_covers_every_event_type(&events);

    let mut validators = BTreeMap::new();
    for event in &events {
        let file_name = schema_file_name(event);
        let validator = validators.entry(file_name.clone()).or_insert_with(|| {
            // While regenerating, the committed file may not have been written
            // yet by the other test; validate against what it will contain.
            let schema = if updating() {
                event.schema.clone()
            } else {
                committed_schema(&file_name)
            };
            jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("schema/{file_name} does not compile: {e}"))
        });

        let payload = &event.payload;
        let errors: Vec<String> = validator
            .iter_errors(payload)
            .map(|e| format!("{e} (at `{}`)", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{} payload {payload} is rejected by schema/{file_name}: {errors:#?}",
            event.event_type
        );

        // The payload must also round-trip through the stored form.
        if let Err(e) = &event.round_trip {
            panic!("{} payload {payload} does not round-trip: {e}", event.event_type);
        }

        let schema = &event.schema;
        let object = payload.as_object().expect("payloads are JSON objects");

        // Payloads are closed: an unknown property is a contract violation.
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            let mut extra = object.clone();
            extra.insert("unexpected_extra".to_owned(), json!("意外的字段"));
            assert!(
                !validator.is_valid(&Value::Object(extra)),
                "schema/{file_name} accepts an unknown property"
            );
        }

        // Every required field really is required.
        for field in required_fields(schema) {
            let mut missing = object.clone();
            assert!(
                missing.remove(&field).is_some(),
                "{file_name}: required field {field} absent from sample"
            );
            assert!(
                !validator.is_valid(&Value::Object(missing)),
                "schema/{file_name} accepts a payload without its required field {field}"
            );
        }
    }

    // A few targeted refusals on the richest payload.
    let filed = events
        .iter()
        .find(|e| e.event_type == "complaint.filed")
        .expect("a complaint.filed sample");
    let validator = &validators[&schema_file_name(filed)];
    let payload = filed.payload.clone();
    let rejects = |pointer: &str, value: Value, why: &str| {
        let mut bad = payload.clone();
        *bad.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} exists in the sample")) = value;
        assert!(!validator.is_valid(&bad), "complaint.filed schema accepts {why}: {bad}");
    };
    rejects("/channel", json!("carrier_pigeon"), "an unknown channel");
    rejects("/priority", json!("P9"), "an unknown priority");
    rejects("/id", json!("not-a-uuid"), "an id that is not a UUID");
    rejects("/title", json!(42), "a number as title");
    rejects("/subject", json!("not-a-uuid"), "a data subject that is not a UUID");
    rejects("/description", json!(42), "a number as a personal value");
    rejects("/description", json!(["sealed"]), "an array as a personal value");
    rejects(
        "/complainant/name",
        json!({"plaintext": "张伟"}),
        "an unknown property in a sealed value",
    );
    rejects(
        "/complainant/email/subject",
        json!("zhang.wei"),
        "a sealed value whose subject is not a UUID",
    );
    rejects("/complainant/phone/ciphertext", json!(1), "a number as ciphertext");
    let mut complainant_extra = payload.clone();
    complainant_extra["complainant"]["wechat"] = json!("wxid_zhangsan");
    assert!(
        !validator.is_valid(&complainant_extra),
        "complaint.filed schema accepts an unknown complainant field (complainant records are closed)"
    );
    let mut nameless = payload.clone();
    nameless["complainant"]
        .as_object_mut()
        .expect("complainant object")
        .remove("name");
    assert!(
        !validator.is_valid(&nameless),
        "complaint.filed schema accepts a complainant without a name"
    );

    let note = events
        .iter()
        .find(|e| e.event_type == "complaint.note_added")
        .expect("a complaint.note_added sample");
    let mut bad = note.payload.clone();
    bad["visibility"] = json!("public");
    assert!(
        !validators[&schema_file_name(note)].is_valid(&bad),
        "note visibility accepts \"public\""
    );
}

/// One sample event of any aggregate, as the tests need it: its stored type
/// and version, its payload, the schema generated for its type, and whether
/// the payload decodes back to the same event.
struct Sample {
    event_type: &'static str,
    version: u32,
    payload: Value,
    schema: Value,
    round_trip: Result<(), String>,
}

impl Sample {
    fn of<E: DomainEvent + PartialEq + std::fmt::Debug>(event: &E, schema: (Value, BTreeMap<String, Value>)) -> Sample {
        let payload = event.payload_json();
        // Both ways a payload is decoded: from a parsed tree (reads) and
        // from the stored JSON text (a rebuild).
        let text = serde_json::value::to_raw_value(&payload).expect("a payload is JSON");
        let decoded = [
            E::from_stored(event.event_type(), event.schema_version(), payload.clone()),
            E::from_stored(event.event_type(), event.schema_version(), &*text),
        ];
        let round_trip = decoded.into_iter().try_for_each(|decoded| match decoded {
            Ok(back) if &back == event => Ok(()),
            Ok(back) => Err(format!("decodes to {back:?}")),
            Err(e) => Err(e.to_string()),
        });
        Sample {
            event_type: event.event_type(),
            version: event.schema_version(),
            schema: standalone(schema, event.event_type(), event.schema_version()),
            payload,
            round_trip,
        }
    }
}

/// Samples of every event type of every aggregate.
fn samples() -> Vec<Sample> {
    let complaints = complaint_samples();
    let faults = fault_samples();
    let changes = change_samples();
    let (calendars, freezes) = calendar_samples();
    complaints
        .iter()
        .map(|e| Sample::of(e, complaint_schema(e)))
        .chain(faults.iter().map(|e| Sample::of(e, fault_schema(e))))
        .chain(changes.iter().map(|e| Sample::of(e, change_schema(e))))
        .chain(calendars.iter().map(|e| Sample::of(e, calendar_schema(e))))
        .chain(freezes.iter().map(|e| Sample::of(e, freeze_schema(e))))
        .chain(subject_samples().iter().map(|e| Sample::of(e, subject_schema(e))))
        .chain(
            business_calendar_samples()
                .iter()
                .map(|e| Sample::of(e, business_calendar_schema(e))),
        )
        .chain(sla_policy_samples().iter().map(|e| Sample::of(e, sla_policy_schema(e))))
        .collect()
}

/// Every event of a data subject's own stream. None holds personal data.
fn subject_samples() -> Vec<SubjectEvent> {
    let zhang = Uuid::parse_str(SUBJECT_ZHANG).expect("valid uuid");
    let rossi = Uuid::parse_str(SUBJECT_ROSSI).expect("valid uuid");
    let successor = Uuid::parse_str("5d1c6f0e-8a7b-4c3d-9e2f-1a0b9c8d7e6f").expect("valid uuid");
    let ticket = Uuid::parse_str("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").expect("valid uuid");
    vec![
        SubjectEvent::Erased(SubjectErased {
            subject: rossi,
            reason: "客户请求删除 CMP-2025-000043".to_owned(),
        }),
        SubjectEvent::Merged(SubjectMerged {
            subject: rossi,
            merged_into: zhang,
            reason: "同一客户，两次来电".to_owned(),
            merged_tickets: vec![ticket],
        }),
        SubjectEvent::Repaired(SubjectRepaired {
            subject: zhang,
            successors: vec![successor, rossi],
            reason: opsledger::domain::subject::REPAIR_REASON.to_owned(),
        }),
    ]
}

fn subject_schema(event: &SubjectEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        SubjectEvent::Erased(_) => payload_schema::<SubjectErased>(),
        SubjectEvent::Merged(_) => payload_schema::<SubjectMerged>(),
        SubjectEvent::Repaired(_) => payload_schema::<SubjectRepaired>(),
    }
}

/// The first sample complainant's data subject and data key.
const SUBJECT_ZHANG: &str = "0193a1b0-11aa-7b2c-9d3e-4f5a6b7c8d90";
const KEY_ZHANG: &str = "0193a1b0-11ab-7c4d-8e5f-6a7b8c9d0e1f";
/// The second sample complainant's data subject and data key.
const SUBJECT_ROSSI: &str = "0193a1b0-22bb-7d3e-8f4a-5b6c7d8e9fa1";
const KEY_ROSSI: &str = "0193a1b0-22bc-7e5f-9a6b-7c8d9e0f1a2b";

/// A personal value as it is stored: sealed under its data subject's key
/// (nonce and ciphertext are base64url without padding; the contents are
/// made up, the schemas do not look inside).
fn sealed(subject: &str, key_id: &str, nonce: &str, ciphertext: &str) -> Personal {
    let Value::Object(envelope) = json!({
        "subject": subject,
        "key_id": key_id,
        "nonce": nonce,
        "ciphertext": ciphertext,
    }) else {
        unreachable!("json!({{...}}) is an object")
    };
    Personal::Protected(envelope)
}

/// A personal value as stored after its data subject was erased.
fn erased() -> Personal {
    let Value::Object(marker) = json!({"erased": true}) else {
        unreachable!("json!({{...}}) is an object")
    };
    Personal::Protected(marker)
}

/// At least one realistic sample of every complaint event type, as stored,
/// with optional fields both present and absent. Personal values are sealed
/// (or erased), as the application stores them; internal notes are staff
/// text and stay plain.
fn complaint_samples() -> Vec<ComplaintEvent> {
    let id = Uuid::parse_str("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").expect("valid uuid");
    let zhang = |nonce: &str, ciphertext: &str| sealed(SUBJECT_ZHANG, KEY_ZHANG, nonce, ciphertext);
    let rossi = |nonce: &str, ciphertext: &str| sealed(SUBJECT_ROSSI, KEY_ROSSI, nonce, ciphertext);
    vec![
        ComplaintEvent::Filed(ComplaintFiled {
            id,
            number: "CMP-2025-000042".to_owned(),
            subject: Uuid::parse_str(SUBJECT_ZHANG).expect("valid uuid"),
            subject_joined: None,
            title: "宽带连续三天断线".to_owned(),
            description: zhang(
                "q0Fh3kYtN2v8xWcB",
                "h2V0ZkR3bUpxS0x0c1ZnWm5hY0pZc2VQd3RrRm9ZbGxKV0h0dGRhNWZ1dkx3a0lDb2J0cXh6R3Q4a1Z0N3lB",
            ),
            channel: Channel::Phone,
            complainant: ComplainantRecord {
                name: zhang("Tz9rVb2mQe7LxPa1", "8mXr2ZkQvT0hN1a4cFb6Wd3yPq"),
                phone: Some(zhang("c3RhYmxlbm9uY2Ux", "Jk2LmN3pQr4StU5vWx6Yz7Ab8Cd9EfGh0IjKlM")),
                email: Some(zhang("bm9uY2UtZW1haWwx", "Zq1Xw2Ev3Rc4Tb5Yn6Um7Io8Pa9Sd0FgHjKlZxCvBnM")),
                customer_ref: Some(zhang("cmVmLW5vbmNlLTAx", "Qw8Er7Ty6Ui5Op4As3Df2Gh1JkLzXc")),
            },
            category: "network".to_owned(),
            priority: Priority::P2,
        }),
        ComplaintEvent::Filed(ComplaintFiled {
            id: Uuid::parse_str("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c").expect("valid uuid"),
            number: "CMP-2025-000043".to_owned(),
            subject: Uuid::parse_str(SUBJECT_ROSSI).expect("valid uuid"),
            subject_joined: Some(SubjectJoin::Named),
            title: "Invoice charged twice".to_owned(),
            // Maria Rossi asked to be forgotten: her values were erased.
            description: erased(),
            channel: Channel::InPerson,
            complainant: ComplainantRecord {
                name: erased(),
                phone: None,
                email: None,
                customer_ref: Some(erased()),
            },
            category: "billing".to_owned(),
            priority: Priority::P1,
        }),
        ComplaintEvent::Acknowledged(ComplaintAcknowledged {
            message: Some(zhang(
                "YWNrLW5vbmNlLTAx",
                "Vb3Nm4Kl5Jh6Gf7Ds8Aq9Wp0Oi1Uy2Tr3Ee4Ww5Qq6Zz7Xx8Cc9Bb0Nn1Mm2",
            )),
        }),
        ComplaintEvent::Acknowledged(ComplaintAcknowledged {
            message: Some(rossi("YWNrLW5vbmNlLTAy", "Lk9Jh8Gf7Ds6Aq5Wp4Oi3Uy2Tr1")),
        }),
        ComplaintEvent::Acknowledged(ComplaintAcknowledged { message: None }),
        ComplaintEvent::Assigned(ComplaintAssigned {
            team: Some("网络运维二组".to_owned()),
            assignee: Some("li.na".to_owned()),
        }),
        ComplaintEvent::Assigned(ComplaintAssigned {
            team: Some("billing".to_owned()),
            assignee: None,
        }),
        ComplaintEvent::Assigned(ComplaintAssigned {
            team: None,
            assignee: None,
        }),
        ComplaintEvent::NoteAdded(ComplaintNoteAdded {
            body: Personal::clear("已联系区域机房，疑似光衰过大。"),
            visibility: NoteVisibility::Internal,
        }),
        ComplaintEvent::NoteAdded(ComplaintNoteAdded {
            body: zhang("bm90ZS1ub25jZS0x", "Tc4Vb5Nm6Kl7Jh8Gf9Ds0Aq1Wp2Oi3Uy4Tr5Ee6Ww7Qq8Zz9"),
            visibility: NoteVisibility::Complainant,
        }),
        ComplaintEvent::WaitingOnCustomer(ComplaintWaitingOnCustomer {
            reason: "请提供光猫背面的序列号照片。".to_owned(),
        }),
        ComplaintEvent::Resumed(ComplaintResumed {
            note: Some("客户已发送照片。".to_owned()),
        }),
        ComplaintEvent::Resumed(ComplaintResumed { note: None }),
        ComplaintEvent::Resolved(ComplaintResolved {
            resolution: "更换了光猫并重新熔接光纤，连续观察48小时无断线。".to_owned(),
            root_cause: Some("入户光纤接头老化".to_owned()),
        }),
        ComplaintEvent::Resolved(ComplaintResolved {
            resolution: "Duplicate debit refunded.".to_owned(),
            root_cause: None,
        }),
        ComplaintEvent::SatisfactionRecorded(ComplaintSatisfactionRecorded {
            rating: 5,
            comment: Some(zhang("c2F0LW5vbmNlLTAx", "Mn7Bv6Cx5Zl4Kj3Hg2Fd1Sa0")),
        }),
        ComplaintEvent::SatisfactionRecorded(ComplaintSatisfactionRecorded {
            rating: 1,
            comment: None,
        }),
        ComplaintEvent::SatisfactionRecorded(ComplaintSatisfactionRecorded {
            rating: 2,
            comment: Some(erased()),
        }),
        ComplaintEvent::Closed(ComplaintClosed {
            comment: Some("客户确认问题已解决。".to_owned()),
        }),
        ComplaintEvent::Closed(ComplaintClosed { comment: None }),
        ComplaintEvent::Reopened(ComplaintReopened {
            reason: "问题再次出现：昨晚又断线两次。".to_owned(),
        }),
        ComplaintEvent::Escalated(ComplaintEscalated { fault: fault_ref() }),
        ComplaintEvent::LinkedFaultResolved(ComplaintLinkedFaultResolved {
            fault: fault_ref(),
            resolution: "更换分光器".to_owned(),
        }),
        ComplaintEvent::LinkedFaultReopened(ComplaintLinkedFaultReopened {
            fault: fault_ref(),
            reason: "分光器更换后仍然断线".to_owned(),
        }),
        ComplaintEvent::Linked(TicketLinked {
            other: fault_ref(),
            relation: LinkRelation::CausedBy,
            comment: Some("同一小区的断线".to_owned()),
        }),
        ComplaintEvent::Linked(TicketLinked {
            other: fault_ref(),
            relation: LinkRelation::RelatesTo,
            comment: None,
        }),
        ComplaintEvent::Unlinked(TicketUnlinked {
            other: fault_ref(),
            reason: "误关联：不同小区".to_owned(),
        }),
        ComplaintEvent::PersonalDataResealed(ComplaintPersonalDataResealed {
            subject: Uuid::parse_str("5d1c6f0e-8a7b-4c3d-9e2f-1a0b9c8d7e6f").expect("valid uuid"),
            previous_subject: Uuid::parse_str(SUBJECT_ZHANG).expect("valid uuid"),
            cause: ResealCause::Repair,
            reseal_reason: opsledger::domain::subject::REPAIR_REASON.to_owned(),
            values: vec![ResealedValue {
                version: 1,
                pointer: "/complainant/name".to_owned(),
                replaces: "Tz9rVb2mQe7LxPa1".to_owned(),
                value: sealed(
                    "5d1c6f0e-8a7b-4c3d-9e2f-1a0b9c8d7e6f",
                    "8e2d7c1b-0a9f-4e8d-b7c6-5a4f3e2d1c0b",
                    "bmV3LW5vbmNlLTAx",
                    "WnF1Y2tRdzJFdjNSYzRUYjVZbjZVbTdJbw",
                ),
            }],
        }),
        // The same person's phone number, mistyped at filing.
        ComplaintEvent::DetailsCorrected(ComplaintDetailsCorrected {
            category: Some(TextCorrection {
                from: "network".to_owned(),
                to: "broadband".to_owned(),
            }),
            channel: None,
            complainant: Some(ComplainantCorrected {
                name: None,
                phone: Some(zhang("cGhvbmUtZml4LTAx", "Lm3Kn4Jo5Ip6Hq7Gr8Fs9Et0Du1Cv")),
                email: None,
                customer_ref: None,
                another_person: false,
            }),
            subject: None,
            previous_subject: None,
            subject_joined: None,
            resealed: Vec::new(),
            reason: "电话号码录入错误，客户已确认".to_owned(),
        }),
        // Another person's complaint, filed under Zhang Wei by mistake.
        ComplaintEvent::DetailsCorrected(ComplaintDetailsCorrected {
            category: None,
            channel: Some(ChannelCorrection {
                from: Channel::Phone,
                to: Channel::Chat,
            }),
            complainant: Some(ComplainantCorrected {
                name: Some(rossi("bmFtZS1maXgtMDAx", "Yt5Rd6Es7Wa8Qz9Xc0Vb1Nm2")),
                phone: None,
                email: Some(rossi("ZW1haWwtZml4LTAx", "Pl0Ok9Ij8Uh7Yg6Tf5Rd4Es3Wa2Qz1")),
                customer_ref: None,
                another_person: true,
            }),
            subject: Some(Uuid::parse_str(SUBJECT_ROSSI).expect("valid uuid")),
            previous_subject: Some(Uuid::parse_str(SUBJECT_ZHANG).expect("valid uuid")),
            subject_joined: Some(SubjectJoin::Named),
            resealed: vec![ResealedValue {
                version: 1,
                pointer: "/description".to_owned(),
                replaces: "q0Fh3kYtN2v8xWcB".to_owned(),
                value: rossi("ZGVzYy1maXgtMDAx", "Mn1Bv2Cx3Zl4Kj5Hg6Fd7Sa8Po9Iu0Yt"),
            }],
            reason: "Filed under the wrong customer: the chat was Maria Rossi's".to_owned(),
        }),
        ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
            from: Priority::P2,
            to: Priority::P1,
            reason: "客户经营诊所，依赖该线路".to_owned(),
        }),
    ]
    .into_iter()
    .chain(sla_samples().into_iter().map(ComplaintEvent::from_clock))
    .collect()
}

/// Samples of the `sla.*` events, which complaint and fault streams share:
/// a P1 complaint filed the Friday evening before Spring Festival 2026.
fn sla_samples() -> Vec<opsledger::domain::sla::ClockEvent> {
    use opsledger::domain::sla::ClockEvent;
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("a valid instant");
    let cn = CalendarRef {
        code: "CN".to_owned(),
        version: 0,
    };
    vec![
        ClockEvent::Pinned(SlaClocksPinned {
            cause: PinCause::Filed,
            key: PolicyKey::Complaint { priority: Priority::P1 },
            policy_version: 0,
            calendar: cn.clone(),
            warning_percent: 80,
            first_response: Some(PinnedTarget {
                minutes: 30,
                runs_from: at("2026-02-13T09:50:00Z"),
                due_at: Some(at("2026-02-14T01:20:00Z")),
                warn_at: Some(at("2026-02-14T01:14:00Z")),
                cycle: 1,
                calendar_data_missing: false,
            }),
            resolution: Some(PinnedTarget {
                minutes: 960,
                runs_from: at("2026-02-13T09:50:00Z"),
                due_at: Some(at("2026-02-24T09:50:00Z")),
                warn_at: Some(at("2026-02-24T06:38:00Z")),
                cycle: 1,
                calendar_data_missing: false,
            }),
        }),
        ClockEvent::Pinned(SlaClocksPinned {
            cause: PinCause::Reopened,
            key: PolicyKey::Fault { severity: 4 },
            policy_version: 3,
            calendar: CalendarRef {
                code: "CN".to_owned(),
                version: 2,
            },
            warning_percent: 80,
            first_response: None,
            resolution: Some(PinnedTarget {
                minutes: 4800,
                runs_from: at("2026-12-30T02:00:00Z"),
                due_at: None,
                warn_at: None,
                cycle: 2,
                calendar_data_missing: true,
            }),
        }),
        ClockEvent::Paused(SlaClocksPaused {
            calendar: cn.clone(),
            first_response: None,
            resolution: Some(Remaining {
                due_seconds: Some(27_600),
                warn_seconds: Some(16_080),
            }),
        }),
        ClockEvent::Resumed(SlaClocksResumed {
            calendar: cn,
            first_response: Some(ResumedTarget {
                due_at: Some(at("2026-02-24T01:40:00Z")),
                warn_at: Some(at("2026-02-24T01:34:00Z")),
                calendar_data_missing: false,
            }),
            resolution: Some(ResumedTarget {
                due_at: Some(at("2026-02-25T09:40:00Z")),
                warn_at: Some(at("2026-02-25T06:28:00Z")),
                calendar_data_missing: false,
            }),
        }),
        ClockEvent::Stopped(SlaClockStopped {
            target: Target::FirstResponse,
            cycle: 1,
            met: Some(true),
        }),
        ClockEvent::Stopped(SlaClockStopped {
            target: Target::Resolution,
            cycle: 2,
            met: None,
        }),
    ]
}

fn sla_policy_samples() -> Vec<SlaPolicyEvent> {
    vec![SlaPolicyEvent::Amended(SlaPolicyAmended {
        table: default_table(),
        reason: "投诉响应目标按新合同调整".to_owned(),
    })]
}

fn sla_policy_schema(event: &SlaPolicyEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        SlaPolicyEvent::Amended(_) => payload_schema::<SlaPolicyAmended>(),
    }
}

/// At least one realistic sample of every fault event type, with optional
/// fields both present and absent. Faults hold no personal data.
fn fault_samples() -> Vec<FaultEvent> {
    let id = fault_ref().id;
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("a valid instant");
    let complaint = TicketRef {
        id: Uuid::parse_str("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").expect("uuid"),
        number: "CMP-2025-000042".to_owned(),
        kind: TicketKind::Complaint,
    };
    vec![
        FaultEvent::Reported(FaultReported {
            id,
            number: fault_ref().number,
            title: "支付网关超时".to_owned(),
            description: "Card payments time out after 30 s for about 5 % of requests.".to_owned(),
            affected_service: "payments".to_owned(),
            detected_by: DetectedBy::CustomerComplaint,
            escalated_from: Some(complaint.clone()),
        }),
        FaultEvent::Reported(FaultReported {
            id,
            number: fault_ref().number,
            title: "Disk 90 % full on db-3".to_owned(),
            description: "Alert from monitoring.".to_owned(),
            affected_service: "database".to_owned(),
            detected_by: DetectedBy::Monitoring,
            escalated_from: None,
        }),
        FaultEvent::Triaged(FaultTriaged {
            severity: 1,
            evaluator: "https://idp.example|li.na".to_owned(),
            technician: Some("https://idp.example|wang.fang".to_owned()),
        }),
        FaultEvent::Triaged(FaultTriaged {
            severity: 3,
            evaluator: "https://idp.example|li.na".to_owned(),
            technician: None,
        }),
        FaultEvent::Evaluated(FaultEvaluated {
            nature: "Connection pool exhaustion under load".to_owned(),
            estimated_effort_minutes: 240,
            proposed_priority: 1,
        }),
        FaultEvent::TechnicianAssigned(FaultTechnicianAssigned {
            technician: "https://idp.example|wang.fang".to_owned(),
        }),
        FaultEvent::InvestigationStarted(FaultInvestigationStarted {
            note: Some("Reproduced on staging.".to_owned()),
        }),
        FaultEvent::InvestigationStarted(FaultInvestigationStarted { note: None }),
        FaultEvent::Mitigated(FaultMitigated {
            workaround: "Traffic moved to the secondary gateway.".to_owned(),
        }),
        FaultEvent::Resolved(FaultResolved {
            resolution: "Pool size raised and leak fixed.".to_owned(),
            root_cause: "Connections leaked on a timeout path.".to_owned(),
        }),
        FaultEvent::Closed(FaultClosed {
            comment: Some("Review done.".to_owned()),
        }),
        FaultEvent::Closed(FaultClosed { comment: None }),
        FaultEvent::Reopened(FaultReopened {
            reason: "Timeouts are back.".to_owned(),
        }),
        FaultEvent::RepairLogged(FaultRepairLogged {
            repair: 1,
            technician: "https://idp.example|wang.fang".to_owned(),
            action_taken: "Replaced the gateway's connection pool library.".to_owned(),
            started_at: at("2026-03-01T08:00:00Z"),
            ended_at: at("2026-03-01T09:30:00Z"),
            person_minutes: 180,
            maintenance_type: MaintenanceType::Corrective,
            parts: vec!["pool-lib 2.4".to_owned()],
        }),
        FaultEvent::RepairLogged(FaultRepairLogged {
            repair: 2,
            technician: "https://idp.example|wang.fang".to_owned(),
            action_taken: "Added an alert on pool saturation.".to_owned(),
            started_at: at("2026-03-01T10:00:00Z"),
            ended_at: at("2026-03-01T10:45:00Z"),
            person_minutes: 45,
            maintenance_type: MaintenanceType::Preventive,
            parts: Vec::new(),
        }),
        FaultEvent::ReviewWritten(FaultReviewWritten {
            summary: "Payments failed for 40 minutes.".to_owned(),
            root_cause: "Connections leaked on a timeout path.".to_owned(),
            contributing_factors: vec!["No saturation alert".to_owned()],
            action_items: vec![ReviewActionItem {
                item: 1,
                description: "Load-test the timeout path.".to_owned(),
                owner: "https://idp.example|li.na".to_owned(),
                due_on: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("a valid date"),
            }],
        }),
        FaultEvent::ReviewWritten(FaultReviewWritten {
            summary: "Minor.".to_owned(),
            root_cause: "Unknown.".to_owned(),
            contributing_factors: Vec::new(),
            action_items: Vec::new(),
        }),
        FaultEvent::ActionItemCompleted(FaultActionItemCompleted {
            item: 1,
            note: Some("Done in sprint 12.".to_owned()),
        }),
        FaultEvent::ActionItemCompleted(FaultActionItemCompleted { item: 1, note: None }),
        FaultEvent::NoteAdded(FaultNoteAdded {
            body: "Vendor ticket #4411 opened.".to_owned(),
        }),
        FaultEvent::Linked(TicketLinked {
            other: complaint.clone(),
            relation: LinkRelation::Causes,
            comment: Some("Same outage.".to_owned()),
        }),
        FaultEvent::Unlinked(TicketUnlinked {
            other: complaint,
            reason: "Linked in error: another district.".to_owned(),
        }),
        FaultEvent::RepairVoided(FaultRepairVoided {
            repair: 2,
            reason: "Logged twice: the same visit as repair 1.".to_owned(),
        }),
        FaultEvent::AffectedServiceCorrected(FaultAffectedServiceCorrected {
            from: "payments-gateway".to_owned(),
            to: "payments-api".to_owned(),
            reason: "The gateway was healthy; the API's pool leaked.".to_owned(),
        }),
    ]
}

/// The payload schema of a fault event's type; exhaustive, like [`complaint_schema`].
fn fault_schema(event: &FaultEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        FaultEvent::Reported(_) => payload_schema::<FaultReported>(),
        FaultEvent::Triaged(_) => payload_schema::<FaultTriaged>(),
        FaultEvent::Evaluated(_) => payload_schema::<FaultEvaluated>(),
        FaultEvent::TechnicianAssigned(_) => payload_schema::<FaultTechnicianAssigned>(),
        FaultEvent::InvestigationStarted(_) => payload_schema::<FaultInvestigationStarted>(),
        FaultEvent::Mitigated(_) => payload_schema::<FaultMitigated>(),
        FaultEvent::Resolved(_) => payload_schema::<FaultResolved>(),
        FaultEvent::Closed(_) => payload_schema::<FaultClosed>(),
        FaultEvent::Reopened(_) => payload_schema::<FaultReopened>(),
        FaultEvent::RepairLogged(_) => payload_schema::<FaultRepairLogged>(),
        FaultEvent::ReviewWritten(_) => payload_schema::<FaultReviewWritten>(),
        FaultEvent::ActionItemCompleted(_) => payload_schema::<FaultActionItemCompleted>(),
        FaultEvent::NoteAdded(_) => payload_schema::<FaultNoteAdded>(),
        FaultEvent::Linked(_) => payload_schema::<TicketLinked>(),
        FaultEvent::Unlinked(_) => payload_schema::<TicketUnlinked>(),
        FaultEvent::RepairVoided(_) => payload_schema::<FaultRepairVoided>(),
        FaultEvent::AffectedServiceCorrected(_) => payload_schema::<FaultAffectedServiceCorrected>(),
        FaultEvent::SlaClocksPinned(_) => payload_schema::<SlaClocksPinned>(),
        FaultEvent::SlaClocksPaused(_) => payload_schema::<SlaClocksPaused>(),
        FaultEvent::SlaClocksResumed(_) => payload_schema::<SlaClocksResumed>(),
        FaultEvent::SlaClockStopped(_) => payload_schema::<SlaClockStopped>(),
    }
}

fn change_ref() -> TicketRef {
    TicketRef {
        id: Uuid::parse_str("01930000-0000-7000-8000-0000000000c1").expect("uuid"),
        number: "CHG-2026-000003".to_owned(),
        kind: TicketKind::Change,
    }
}

fn instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().expect("a valid instant")
}

/// At least one sample of every change event type, optional fields both
/// present and absent. Changes hold no personal data.
fn change_samples() -> Vec<ChangeEvent> {
    let plan = |evidence: Option<&str>| ChangePlanned {
        risk: Risk::High,
        impact: "Writes pause for up to 30 s per node".to_owned(),
        implementation_plan: "Rolling upgrade, replicas first".to_owned(),
        test_plan: "Replay yesterday's traffic on staging".to_owned(),
        test_evidence: evidence.map(str::to_owned),
        rollback_plan: "Fail back to the old primary".to_owned(),
    };
    let other = TicketRef {
        id: Uuid::parse_str("01930000-0000-7000-8000-0000000000c2").expect("uuid"),
        number: "CHG-2026-000004".to_owned(),
        kind: TicketKind::Change,
    };
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned();
    vec![
        ChangeEvent::Drafted(ChangeDrafted {
            id: change_ref().id,
            number: change_ref().number,
            change_type: ChangeType::Normal,
            title: "升级支付数据库".to_owned(),
            description: "Upgrade payments-db to 15.8".to_owned(),
            affected_services: vec!["payments-db".to_owned(), "payments-api".to_owned()],
            maintenance_type: MaintenanceType::Adaptive,
            linked_faults: vec![fault_ref()],
        }),
        ChangeEvent::Drafted(ChangeDrafted {
            id: change_ref().id,
            number: change_ref().number,
            change_type: ChangeType::Emergency,
            title: "Hotfix".to_owned(),
            description: "Renew the gateway certificate".to_owned(),
            affected_services: vec!["gateway".to_owned()],
            maintenance_type: MaintenanceType::Corrective,
            linked_faults: Vec::new(),
        }),
        ChangeEvent::Amended(ChangeAmended {
            title: Some("Upgrade payments-db to 15.9".to_owned()),
            description: None,
            affected_services: Some(vec!["payments-db".to_owned()]),
            maintenance_type: Some(MaintenanceType::Perfective),
        }),
        ChangeEvent::Submitted(ChangeSubmitted {}),
        ChangeEvent::Assessed(plan(Some("Staging run #4411 passed"))),
        ChangeEvent::PlanAmended(plan(None)),
        ChangeEvent::Approved(ChangeApproved {
            comment: "Plan is sound".to_owned(),
            plan_hash: hash.clone(),
        }),
        ChangeEvent::Rejected(ChangeRejected {
            comment: "No rollback test".to_owned(),
            plan_hash: hash,
        }),
        ChangeEvent::Assigned(ChangeAssigned {
            assignee: "https://idp.example|wang.fang".to_owned(),
        }),
        ChangeEvent::Scheduled(ChangeScheduled {
            start: instant("2026-12-01T02:00:00Z"),
            end: instant("2026-12-01T04:00:00Z"),
            time_zone: "Asia/Shanghai".to_owned(),
            overrides: vec![other],
            override_reason: Some("Different tables".to_owned()),
            freezes_overridden: vec![Uuid::parse_str("01930000-0000-7000-8000-0000000000f9").expect("uuid")],
        }),
        ChangeEvent::Scheduled(ChangeScheduled {
            start: instant("2026-12-01T02:00:00Z"),
            end: instant("2026-12-01T04:00:00Z"),
            time_zone: "Asia/Shanghai".to_owned(),
            overrides: Vec::new(),
            override_reason: None,
            freezes_overridden: Vec::new(),
        }),
        ChangeEvent::Unscheduled(ChangeUnscheduled {
            reason: "Moved a week".to_owned(),
        }),
        ChangeEvent::StartAuthorised(ChangeStartAuthorised {
            reason: "Traffic is low tonight; the vendor engineer is on site now".to_owned(),
            window_start: "2026-11-12T18:00:00Z".parse().expect("an instant"),
            window_end: "2026-11-12T20:00:00Z".parse().expect("an instant"),
        }),
        ChangeEvent::ImplementationStarted(ChangeImplementationStarted {}),
        ChangeEvent::RolloutStepRecorded(ChangeRolloutStepRecorded {
            kind: RolloutStepKind::Canary,
            percent: Some(10),
            note: Some("One node".to_owned()),
        }),
        ChangeEvent::RolloutStepRecorded(ChangeRolloutStepRecorded {
            kind: RolloutStepKind::FullRollout,
            percent: None,
            note: None,
        }),
        ChangeEvent::Completed(ChangeCompleted {}),
        ChangeEvent::RolledBack(ChangeRolledBack {
            reason: "Replication broke".to_owned(),
        }),
        ChangeEvent::Failed(ChangeFailed {
            reason: "Upgrade aborted".to_owned(),
        }),
        ChangeEvent::Reviewed(ChangeReviewed {
            outcome: ReviewOutcome::PartiallySuccessful,
            went_well: "Canary caught the issue".to_owned(),
            went_wrong: "The runbook missed a replica".to_owned(),
            follow_up_actions: vec![FollowUpAction {
                description: "Fix the runbook".to_owned(),
                owner: "https://idp.example|li.na".to_owned(),
                due_on: chrono::NaiveDate::from_ymd_opt(2027, 1, 31).expect("a valid date"),
            }],
        }),
        ChangeEvent::Reviewed(ChangeReviewed {
            outcome: ReviewOutcome::Successful,
            went_well: "All of it".to_owned(),
            went_wrong: "Nothing".to_owned(),
            follow_up_actions: Vec::new(),
        }),
        ChangeEvent::Closed(ChangeClosed {
            reason: Some("Withdrawn".to_owned()),
        }),
        ChangeEvent::Closed(ChangeClosed { reason: None }),
        ChangeEvent::NoteAdded(ChangeNoteAdded {
            body: "DBA team informed".to_owned(),
        }),
        ChangeEvent::Linked(TicketLinked {
            other: fault_ref(),
            relation: LinkRelation::RelatesTo,
            comment: None,
        }),
        ChangeEvent::Unlinked(TicketUnlinked {
            other: fault_ref(),
            reason: "The fault was fixed by another change".to_owned(),
        }),
    ]
}

/// The payload schema of a change event's type; exhaustive, like [`complaint_schema`].
fn change_schema(event: &ChangeEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        ChangeEvent::Drafted(_) => payload_schema::<ChangeDrafted>(),
        ChangeEvent::Amended(_) => payload_schema::<ChangeAmended>(),
        ChangeEvent::Submitted(_) => payload_schema::<ChangeSubmitted>(),
        ChangeEvent::Assessed(_) | ChangeEvent::PlanAmended(_) => payload_schema::<ChangePlanned>(),
        ChangeEvent::Approved(_) => payload_schema::<ChangeApproved>(),
        ChangeEvent::Rejected(_) => payload_schema::<ChangeRejected>(),
        ChangeEvent::Assigned(_) => payload_schema::<ChangeAssigned>(),
        ChangeEvent::Scheduled(_) => payload_schema::<ChangeScheduled>(),
        ChangeEvent::Unscheduled(_) => payload_schema::<ChangeUnscheduled>(),
        ChangeEvent::StartAuthorised(_) => payload_schema::<ChangeStartAuthorised>(),
        ChangeEvent::ImplementationStarted(_) => payload_schema::<ChangeImplementationStarted>(),
        ChangeEvent::RolloutStepRecorded(_) => payload_schema::<ChangeRolloutStepRecorded>(),
        ChangeEvent::Completed(_) => payload_schema::<ChangeCompleted>(),
        ChangeEvent::RolledBack(_) => payload_schema::<ChangeRolledBack>(),
        ChangeEvent::Failed(_) => payload_schema::<ChangeFailed>(),
        ChangeEvent::Reviewed(_) => payload_schema::<ChangeReviewed>(),
        ChangeEvent::Closed(_) => payload_schema::<ChangeClosed>(),
        ChangeEvent::NoteAdded(_) => payload_schema::<ChangeNoteAdded>(),
        ChangeEvent::Linked(_) => payload_schema::<TicketLinked>(),
        ChangeEvent::Unlinked(_) => payload_schema::<TicketUnlinked>(),
    }
}

/// Samples of the service-calendar and freeze-window events.
fn calendar_samples() -> (Vec<CalendarEvent>, Vec<FreezeEvent>) {
    let freeze = Uuid::parse_str("01930000-0000-7000-8000-0000000000f9").expect("uuid");
    (
        vec![
            CalendarEvent::Booked(CalendarBooked {
                service: "payments-db".to_owned(),
                change: change_ref(),
                start: instant("2026-12-01T02:00:00Z"),
                end: instant("2026-12-01T04:00:00Z"),
                overrides: vec![fault_ref()],
                override_reason: Some("Different tables".to_owned()),
            }),
            CalendarEvent::Booked(CalendarBooked {
                service: "payments-db".to_owned(),
                change: change_ref(),
                start: instant("2026-12-01T02:00:00Z"),
                end: instant("2026-12-01T04:00:00Z"),
                overrides: Vec::new(),
                override_reason: None,
            }),
            CalendarEvent::Released(CalendarReleased {
                service: "payments-db".to_owned(),
                change: change_ref(),
                reason: "Unscheduled".to_owned(),
            }),
        ],
        vec![
            FreezeEvent::Declared(FreezeDeclared {
                id: freeze,
                service: Some("payments-db".to_owned()),
                start: instant("2026-11-10T16:00:00Z"),
                end: instant("2026-11-11T16:00:00Z"),
                time_zone: "Asia/Shanghai".to_owned(),
                reason: "双十一".to_owned(),
            }),
            FreezeEvent::Declared(FreezeDeclared {
                id: freeze,
                service: None,
                start: instant("2026-12-31T16:00:00Z"),
                end: instant("2027-01-01T16:00:00Z"),
                time_zone: "Asia/Shanghai".to_owned(),
                reason: "Year-end close".to_owned(),
            }),
            FreezeEvent::Lifted(FreezeLifted {
                id: freeze,
                reason: "Sales moved".to_owned(),
            }),
        ],
    )
}

/// Samples of the business-calendar events: the shipped CN calendar as
/// defined, and the 24x7 one as amended.
fn business_calendar_samples() -> Vec<BusinessCalendarEvent> {
    let shipped = shipped_calendars().expect("the shipped calendars read");
    let mut samples = Vec::new();
    for calendar in shipped {
        let id = opsledger::domain::business_calendar::business_calendar_id(&calendar.code);
        samples.push(BusinessCalendarEvent::Defined(BusinessCalendarDefined {
            id,
            code: calendar.code.clone(),
            definition: calendar.definition.clone(),
        }));
        samples.push(BusinessCalendarEvent::Amended(BusinessCalendarAmended {
            id,
            definition: calendar.definition,
        }));
    }
    samples
}

fn business_calendar_schema(event: &BusinessCalendarEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        BusinessCalendarEvent::Defined(_) => payload_schema::<BusinessCalendarDefined>(),
        BusinessCalendarEvent::Amended(_) => payload_schema::<BusinessCalendarAmended>(),
    }
}

fn calendar_schema(event: &CalendarEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        CalendarEvent::Booked(_) => payload_schema::<CalendarBooked>(),
        CalendarEvent::Released(_) => payload_schema::<CalendarReleased>(),
    }
}

fn freeze_schema(event: &FreezeEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        FreezeEvent::Declared(_) => payload_schema::<FreezeDeclared>(),
        FreezeEvent::Lifted(_) => payload_schema::<FreezeLifted>(),
    }
}

fn fault_ref() -> TicketRef {
    TicketRef {
        id: Uuid::parse_str("01930000-0000-7000-8000-0000000000f1").expect("uuid"),
        number: "FLT-2026-000007".to_owned(),
        kind: TicketKind::Fault,
    }
}

/// The payload schema of a complaint event's type. Exhaustive on purpose: a
/// new variant does not compile until it is given a schema here.
fn complaint_schema(event: &ComplaintEvent) -> (Value, BTreeMap<String, Value>) {
    match event {
        ComplaintEvent::Filed(_) => payload_schema::<ComplaintFiled>(),
        ComplaintEvent::Acknowledged(_) => payload_schema::<ComplaintAcknowledged>(),
        ComplaintEvent::Assigned(_) => payload_schema::<ComplaintAssigned>(),
        ComplaintEvent::NoteAdded(_) => payload_schema::<ComplaintNoteAdded>(),
        ComplaintEvent::WaitingOnCustomer(_) => payload_schema::<ComplaintWaitingOnCustomer>(),
        ComplaintEvent::Resumed(_) => payload_schema::<ComplaintResumed>(),
        ComplaintEvent::Resolved(_) => payload_schema::<ComplaintResolved>(),
        ComplaintEvent::SatisfactionRecorded(_) => payload_schema::<ComplaintSatisfactionRecorded>(),
        ComplaintEvent::Closed(_) => payload_schema::<ComplaintClosed>(),
        ComplaintEvent::Reopened(_) => payload_schema::<ComplaintReopened>(),
        ComplaintEvent::Escalated(_) => payload_schema::<ComplaintEscalated>(),
        ComplaintEvent::LinkedFaultResolved(_) => payload_schema::<ComplaintLinkedFaultResolved>(),
        ComplaintEvent::LinkedFaultReopened(_) => payload_schema::<ComplaintLinkedFaultReopened>(),
        ComplaintEvent::Linked(_) => payload_schema::<TicketLinked>(),
        ComplaintEvent::Unlinked(_) => payload_schema::<TicketUnlinked>(),
        ComplaintEvent::PersonalDataResealed(_) => payload_schema::<ComplaintPersonalDataResealed>(),
        ComplaintEvent::DetailsCorrected(_) => payload_schema::<ComplaintDetailsCorrected>(),
        ComplaintEvent::PriorityChanged(_) => payload_schema::<ComplaintPriorityChanged>(),
        ComplaintEvent::SlaClocksPinned(_) => payload_schema::<SlaClocksPinned>(),
        ComplaintEvent::SlaClocksPaused(_) => payload_schema::<SlaClocksPaused>(),
        ComplaintEvent::SlaClocksResumed(_) => payload_schema::<SlaClocksResumed>(),
        ComplaintEvent::SlaClockStopped(_) => payload_schema::<SlaClockStopped>(),
    }
}

/// The utoipa schema of `T` plus every component schema it references.
fn payload_schema<T: utoipa::ToSchema>() -> (Value, BTreeMap<String, Value>) {
    let root = serde_json::to_value(<T as utoipa::PartialSchema>::schema()).expect("schema serializes");
    let mut referenced = Vec::new();
    <T as utoipa::ToSchema>::schemas(&mut referenced);
    let defs = referenced
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).expect("schema serializes")))
        .collect();
    (root, defs)
}

/// Turns an OpenAPI component schema into a standalone JSON Schema document.
fn standalone((root, defs): (Value, BTreeMap<String, Value>), event_type: &str, version: u32) -> Value {
    let Value::Object(root) = root else {
        panic!("the payload schema of {event_type} is not an object schema: {root}")
    };
    let mut doc = Map::new();
    doc.insert("$schema".to_owned(), json!(JSON_SCHEMA_DRAFT));
    doc.insert(
        "$id".to_owned(),
        json!(format!("urn:opsledger:event:{event_type}:v{version}")),
    );
    doc.insert("title".to_owned(), json!(event_type));
    doc.insert("x-schema-version".to_owned(), json!(version));
    for (key, value) in root {
        doc.entry(key).or_insert(value);
    }
    if !defs.is_empty() {
        doc.insert("$defs".to_owned(), Value::Object(defs.into_iter().collect()));
    }
    let mut doc = Value::Object(doc);
    rewrite_refs(&mut doc);
    close_objects(&mut doc);
    doc
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

/// Payload structs are closed records: every object schema gets
/// `additionalProperties: false` unless it already says otherwise. Walks the
/// schema structurally (not every JSON object), so a property named `type`
/// cannot confuse it.
fn close_objects(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let is_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if is_object && map.contains_key("properties") {
        map.entry("additionalProperties").or_insert(Value::Bool(false));
    }
    for key in ["properties", "$defs", "patternProperties"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(close_objects);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(close_objects);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            close_objects(child);
        }
    }
}

fn required_fields(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|fields| fields.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn schema_file_name(event: &Sample) -> String {
    format!("{}.v{}.json", event.event_type, event.version)
}

fn committed_schema(file_name: &str) -> Value {
    let path = repo_path("schema").join(file_name);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}; {UPDATE_HINT}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn assert_covers_every_event_type(events: &[Sample]) {
    let sampled: BTreeSet<&str> = events.iter().map(|e| e.event_type).collect();
    let known: BTreeSet<&str> = ComplaintEvent::EVENT_TYPES
        .iter()
        .chain(FaultEvent::EVENT_TYPES)
        .chain(ChangeEvent::EVENT_TYPES)
        .chain(CalendarEvent::EVENT_TYPES)
        .chain(FreezeEvent::EVENT_TYPES)
        .chain(SubjectEvent::EVENT_TYPES)
        .chain(BusinessCalendarEvent::EVENT_TYPES)
        .chain(SlaPolicyEvent::EVENT_TYPES)
        .copied()
        .collect();
    assert_eq!(sampled, known, "the samples must cover exactly the known event types");
}

// ---------------------------------------------------------------------------
// README permission matrix
// ---------------------------------------------------------------------------

#[test]
fn readme_shows_the_permission_matrix_from_code() {
    let matrix = opsledger::domain::permissions::render_markdown();
    let path = repo_path("README.md");
    let readme = fs::read_to_string(&path).unwrap_or_default();

    let current = between_markers(&readme);
    if current.is_some_and(|text| text.trim_matches('\n') == matrix.trim_end_matches('\n')) {
        return;
    }
    if !updating() {
        let problem = match current {
            None if readme.is_empty() => "README.md is missing or empty".to_owned(),
            None => format!("README.md lacks the markers {MATRIX_START} … {MATRIX_END}"),
            Some(text) => format!(
                "the permission matrix in README.md differs from permissions::render_markdown() (lines counted \
                 from the table's first line); {}",
                first_difference(text.trim_matches('\n'), matrix.trim_end_matches('\n'))
            ),
        };
        panic!("{problem}\nTo fix: {UPDATE_HINT}.");
    }

    let section = format!("\n\n{matrix}\n");
    let updated = match readme.find(MATRIX_START) {
        // Replace only what lies between the markers; the rest is the lead's prose.
        Some(start) if current.is_some() => {
            let inner_start = start + MATRIX_START.len();
            let inner_end = inner_start + readme[inner_start..].find(MATRIX_END).expect("end marker found above");
            format!("{}{section}{}", &readme[..inner_start], &readme[inner_end..])
        }
        _ => {
            let mut text = readme.clone();
            if text.is_empty() {
                text.push_str("# OpsLedger\n");
            }
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("\n## Permissions\n\n{MATRIX_START}{section}{MATRIX_END}\n"));
            text
        }
    };
    fs::write(&path, updated).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    eprintln!("updated the permission matrix in {}", path.display());
}

/// The text strictly between the start and end markers, if both are there
/// in that order.
fn between_markers(readme: &str) -> Option<&str> {
    let start = readme.find(MATRIX_START)? + MATRIX_START.len();
    let end = start + readme[start..].find(MATRIX_END)?;
    Some(&readme[start..end])
}

// ---------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------

fn updating() -> bool {
    std::env::var("UPDATE_CONTRACTS").is_ok_and(|v| v == "1")
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON serializes") + "\n"
}

/// Compares a committed file with its generated content, or rewrites it when
/// `UPDATE_CONTRACTS=1`.
fn check_or_update(path: &Path, generated: &str) {
    let committed = fs::read_to_string(path);
    if committed.as_deref().is_ok_and(|text| text == generated) {
        return;
    }
    if updating() {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        fs::write(path, generated).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("updated {}", path.display());
        return;
    }
    match committed {
        Err(e) => panic!("cannot read {}: {e}; {UPDATE_HINT}", path.display()),
        Ok(text) => panic!(
            "{} differs from what the code generates; {UPDATE_HINT}.\n{}",
            path.display(),
            first_difference(&text, generated)
        ),
    }
}

/// Describes the first line where `committed` and `generated` differ.
fn first_difference(committed: &str, generated: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut generated_lines = generated.lines();
    let mut number = 1;
    loop {
        match (committed_lines.next(), generated_lines.next()) {
            (Some(c), Some(g)) if c == g => number += 1,
            (None, None) => return "the files differ only in line endings or the final newline".to_owned(),
            (c, g) => {
                return format!(
                    "first difference at line {number}:\n  committed: {}\n  generated: {}",
                    c.unwrap_or("<end of file>"),
                    g.unwrap_or("<end of file>")
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Timeline sentences
// ---------------------------------------------------------------------------

/// Every event type has a sentence in every language, and each sentence
/// names only parameters its event type can have: its payload's members
/// (as the schema lists them and the samples flatten them), `actor` and
/// `number`. Rendered from each sample, no sentence is left with a
/// placeholder.
#[test]
fn every_event_type_has_a_sentence_in_both_languages_from_its_own_members() {
    use opsledger::http::i18n::{self, Language};
    use opsledger::http::timeline;

    let catalogue = i18n::catalogue();
    let mut allowed: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for sample in samples() {
        let names = allowed.entry(sample.event_type).or_default();
        names.extend(["actor".to_owned(), "number".to_owned()]);
        if let Some(properties) = sample.schema["properties"].as_object() {
            for (name, property) in properties {
                names.insert(name.clone());
                names.insert(format!("{name}_count"));
                // An object member's own members, through a `$ref` to the
                // schema's `$defs` (sealed values render as text).
                let definition = property["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .map(|d| &sample.schema["$defs"][d])
                    .unwrap_or(property);
                if let Some(inner) = definition["properties"].as_object() {
                    names.extend(inner.keys().map(|k| format!("{name}_{k}")));
                }
            }
        }
        names.extend(timeline::parameters(&sample.payload, "https://idp|x", "N").into_keys());
    }
    let mut problems = Vec::new();
    for sample in samples() {
        let id = i18n::event_message_id(sample.event_type);
        for language in Language::ALL {
            let Some(named) = catalogue.parameters(language, &id) else {
                problems.push(format!("{id} has no {} sentence", language.tag()));
                continue;
            };
            for name in named {
                if !allowed[sample.event_type].contains(name) {
                    problems.push(format!(
                        "{id} ({}) names ${name}, which {} does not have",
                        language.tag(),
                        sample.event_type
                    ));
                }
            }
            let said = timeline::summary(
                language,
                sample.event_type,
                &sample.payload,
                "https://idp.example|li.na",
                "CMP-2026-000001",
            );
            if said.contains('{') || said.contains('}') || said == sample.event_type || said.is_empty() {
                problems.push(format!("{id} ({}) renders as {said:?}", language.tag()));
            }
        }
    }
    // And no sentence for a type that does not exist.
    let known: BTreeSet<String> = samples().iter().map(|s| i18n::event_message_id(s.event_type)).collect();
    for id in catalogue.ids(Language::En).filter(|id| id.starts_with("event-")) {
        if !known.contains(id) {
            problems.push(format!("{id} is no event type"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every message a problem can say is declared in the code with its
/// parameters (`domain::messages`, `http::messages`), said in both
/// languages with exactly those parameters, and every problem message of
/// the catalogues is one of them or a kind's title: no sentence lacks a
/// translation, none is left behind that nothing says.
#[test]
fn every_problem_message_is_declared_and_said_in_both_languages_with_its_own_parameters() {
    use opsledger::domain::messages as domain_messages;
    use opsledger::http::error::ApiError;
    use opsledger::http::i18n::{self, Language, Parameters};
    use opsledger::http::messages as http_messages;

    let catalogue = i18n::catalogue();
    let mut problems = Vec::new();
    let mut declared = BTreeSet::new();
    for message in domain_messages::ALL.iter().chain(http_messages::ALL) {
        if !declared.insert(message.id) {
            problems.push(format!("{} is declared twice", message.id));
        }
        let parameters: BTreeSet<String> = message.parameters.iter().map(|p| (*p).to_owned()).collect();
        let arguments: Parameters = message
            .parameters
            .iter()
            .map(|p| ((*p).to_owned(), format!("<{p}>")))
            .collect();
        for language in Language::ALL {
            let tag = language.tag();
            match catalogue.parameters(language, message.id) {
                None => problems.push(format!("{} has no {tag} sentence", message.id)),
                Some(named) if *named != parameters => problems.push(format!(
                    "{} ({tag}) names {named:?}, the code gives {parameters:?}",
                    message.id
                )),
                Some(_) => {
                    let said = catalogue.render(language, message.id, &arguments).unwrap_or_default();
                    if said.is_empty() || said.contains('{') {
                        problems.push(format!("{} ({tag}) renders as {said:?}", message.id));
                    }
                }
            }
        }
    }
    let titles: BTreeSet<String> = ApiError::catalogue()
        .iter()
        .map(|(problem_type, _, _)| problem_type.replace("urn:opsledger:problem:", "problem-"))
        .collect();
    for language in Language::ALL {
        for id in catalogue.ids(language).filter(|id| !id.starts_with("event-")) {
            if !declared.contains(id) && !titles.contains(id) {
                problems.push(format!(
                    "{id} ({}) is neither a problem's title nor a declared message",
                    language.tag()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
