//! The committed OpenAPI document is what an outside client is generated
//! from, so it must describe the server exactly. This test is such a client:
//! it knows the API only through `openapi/openapi.json`. Every request it
//! sends goes to a documented operation, with a body valid against that
//! operation's request schema and only documented headers. Every answer it
//! gets must have a documented status, and its body must be valid against
//! the documented schema. With it, the test drives the fault story and both
//! change stories (a normal high-risk change and an emergency change), with
//! refusals along the way.

use crate::helpers::spec::Spec;
use crate::helpers::*;
use chrono::Utc;
use opsledger::app::clock::ManualClock;
use opsledger::domain::Role;
use serde_json::{Value, json};

/// One call as the spec allows it; returns (status, body, ETag, Location).
async fn call(
    app: &TestApp,
    spec: &Spec,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, String, String) {
    let (template, op) = spec.operation(method, path);
    let name = format!("{method} {template}");
    spec.called(&name);
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let documents_header = |header: &str| {
        params
            .iter()
            .any(|p| p["in"] == "header" && p["name"].as_str() == Some(header))
    };
    if if_match.is_some() {
        assert!(documents_header("If-Match"), "{name} does not document If-Match");
    }
    let mut request = app
        .http
        .request(method.parse().expect("method"), app.url(path))
        .bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    if let Some(body) = &body {
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "{name} documents no JSON request body");
        spec.validate(schema, body, &format!("the request body of {name}"));
        request = request.json(body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let header = |h: &str| {
        response
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (etag, location, content_type) = (header("etag"), header("location"), header("content-type"));
    let documented = spec
        .response(op, status)
        .unwrap_or_else(|| panic!("{name} answered {status}, which it does not document"));
    let body: Value = if status == 304 {
        Value::Null
    } else {
        response.json().await.expect("a JSON body")
    };
    let media = content_type.split(';').next().unwrap_or_default().trim().to_owned();
    let schema = &documented["content"][&media]["schema"];
    assert!(!schema.is_null(), "{name} {status}: {media} is not documented");
    spec.validate(schema, &body, &format!("the {status} response of {name}"));
    (status, body, etag, location)
}

#[tokio::test]
async fn a_client_that_knows_only_the_spec_drives_the_fault_and_change_stories() {
    // Commands happen when this clock says; it moves only when the story
    // needs a change's window to have come.
    let clock = ManualClock::starting_at(Utc::now());
    let app = spawn_app_at(clock.clone()).await;
    let spec = Spec::load();
    let agent = agent();
    let manager = token("mgr-1", &[Role::Manager]);
    let manager2 = token("mgr-2", &[Role::Manager]);
    let engineer = token("eng-1", &[Role::Engineer]);
    let admin = token("admin-1", &[Role::Admin]);
    let auditor = token("auditor-1", &[Role::Auditor]);
    let me = |sub: &str| format!("{ISSUER}|{sub}");
    macro_rules! go {
        ($method:literal, $path:expr, $token:expr, $etag:expr, $body:expr, $expect:literal) => {{
            let (status, body, etag, location) = call(&app, &spec, $method, &$path, &$token, $etag, $body).await;
            assert_eq!(status, $expect, "{} {}: {body}", $method, $path);
            (body, etag, location)
        }};
    }

    // --- The fault story -------------------------------------------------
    let (complaint, etag, location) = go!("POST", "/v1/complaints", agent, None, Some(sample_complaint()), 201);
    let cmp = complaint["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("/v1/tickets/{cmp}"));
    let (_, etag, _) = go!(
        "POST",
        format!("/v1/complaints/{cmp}/acknowledge"),
        agent,
        Some(&etag),
        Some(json!({})),
        200
    );
    go!(
        "POST",
        format!("/v1/complaints/{cmp}/escalate"),
        agent,
        None,
        Some(json!({"description": "d", "affected_service": "fibre"})),
        428
    );
    let (fault, etag_f, _) = go!(
        "POST",
        format!("/v1/complaints/{cmp}/escalate"),
        agent,
        Some(&etag),
        Some(json!({"description": "Fibre outage in district 7", "affected_service": "fibre"})),
        201
    );
    let flt = fault["id"].as_str().expect("id").to_owned();
    let fp = |c: &str| format!("/v1/faults/{flt}/{c}");
    go!(
        "POST",
        fp("triage"),
        manager,
        Some(&etag_f),
        Some(json!({"severity": 1, "evaluator": me("eng-1")})),
        422
    );
    let (_, etag_f, _) = go!(
        "POST",
        fp("triage"),
        manager,
        Some(&etag_f),
        Some(json!({"severity": 1, "evaluator": me("eng-1"), "technician": me("eng-1")})),
        200
    );
    let (_, etag_f, _) = go!(
        "POST",
        fp("evaluate"),
        engineer,
        Some(&etag_f),
        Some(json!({"nature": "Splitter", "estimated_effort_minutes": 90, "proposed_priority": 1})),
        200
    );
    go!("POST", fp("investigate"), engineer, Some(&etag_f), Some(json!({})), 200);
    for (kind, minutes) in [("corrective", 60), ("preventive", 45)] {
        go!(
            "POST",
            fp("repairs"),
            engineer,
            None,
            Some(
                json!({"technician": me("eng-1"), "action_taken": "work", "started_at": "2026-01-10T09:00:00Z",
                        "ended_at": "2026-01-10T10:00:00Z", "person_minutes": minutes, "maintenance_type": kind})
            ),
            200
        );
    }
    let (_, etag_f, _) = go!("GET", format!("/v1/tickets/{flt}"), engineer, None, None, 200);
    let (_, etag_f, _) = go!(
        "POST",
        fp("mitigate"),
        engineer,
        Some(&etag_f),
        Some(json!({"workaround": "Rerouted"})),
        200
    );
    let (_, etag_f, _) = go!(
        "POST",
        fp("resolve"),
        engineer,
        Some(&etag_f),
        Some(json!({"resolution": "Replaced", "root_cause": "Water"})),
        200
    );
    go!("POST", fp("close"), engineer, Some(&etag_f), Some(json!({})), 409);
    go!(
        "POST",
        fp("review"),
        engineer,
        Some(&etag_f),
        Some(json!({"summary": "s", "root_cause": "Water", "action_items": [
            {"description": "Seal cabinets", "owner": me("eng-1"), "due_on": "2027-02-01"}]})),
        200
    );
    let (_, etag_f, _) = go!(
        "POST",
        fp("review/completed-items"),
        engineer,
        None,
        Some(json!({"item": 1})),
        200
    );
    let (fault, _, _) = go!("POST", fp("close"), engineer, Some(&etag_f), Some(json!({})), 200);
    assert_eq!(fault["person_minutes"]["total"], 105);
    go!("GET", "/v1/faults/queue", engineer, None, None, 200);
    go!("GET", format!("/v1/tickets/{flt}"), agent, None, None, 200);
    go!("GET", format!("/v1/tickets/{cmp}"), agent, None, None, 200);
    let (_, etag, _) = go!(
        "POST",
        format!("/v1/complaints/{cmp}/notes"),
        agent,
        None,
        Some(json!({"body": "Repaired", "visibility": "complainant"})),
        200
    );
    let (_, etag, _) = go!(
        "POST",
        format!("/v1/complaints/{cmp}/resolve"),
        agent,
        Some(&etag),
        Some(json!({"resolution": "Fixed"})),
        200
    );
    let (_, etag, _) = go!(
        "POST",
        format!("/v1/complaints/{cmp}/satisfaction"),
        agent,
        Some(&etag),
        Some(json!({"rating": 4})),
        200
    );
    go!(
        "POST",
        format!("/v1/complaints/{cmp}/close"),
        agent,
        Some(&etag),
        Some(json!({})),
        200
    );
    go!("GET", format!("/v1/tickets/{flt}/history"), auditor, None, None, 200);

    // --- A normal high-risk change, draft to closed, with a canary -------
    let (change, etag, _) = go!(
        "POST",
        "/v1/changes",
        engineer,
        None,
        Some(
            json!({"title": "Replace splitters", "description": "d", "affected_services": ["fibre"],
                    "maintenance_type": "preventive", "change_type": "normal", "linked_faults": [flt]})
        ),
        201
    );
    let chg = change["id"].as_str().expect("id").to_owned();
    let cp = |c: &str| format!("/v1/changes/{chg}/{c}");
    let plan = json!({"risk": "high", "impact": "i", "implementation_plan": "p", "test_plan": "t",
                      "test_evidence": "e", "rollback_plan": "r"});
    let (_, etag, _) = go!("POST", cp("submit"), engineer, Some(&etag), Some(json!({})), 200);
    let (_, etag, _) = go!("POST", cp("assess"), engineer, Some(&etag), Some(plan.clone()), 200);
    go!(
        "POST",
        cp("approve"),
        engineer,
        Some(&etag),
        Some(json!({"comment": "c"})),
        403
    );
    let (_, etag, _) = go!(
        "POST",
        cp("approve"),
        manager,
        Some(&etag),
        Some(json!({"comment": "ok"})),
        200
    );
    let (_, etag, _) = go!(
        "POST",
        cp("approve"),
        manager2,
        Some(&etag),
        Some(json!({"comment": "ok"})),
        200
    );
    let mut amended = plan.clone();
    amended["implementation_plan"] = json!("p2");
    let (change, etag, _) = go!("POST", cp("plan"), engineer, Some(&etag), Some(amended), 200);
    assert_eq!(change["status"], "assessed");
    let (_, etag, _) = go!(
        "POST",
        cp("approve"),
        manager,
        Some(&etag),
        Some(json!({"comment": "ok"})),
        200
    );
    let (_, etag, _) = go!(
        "POST",
        cp("approve"),
        manager2,
        Some(&etag),
        Some(json!({"comment": "ok"})),
        200
    );
    let (_, etag, _) = go!(
        "POST",
        cp("assign"),
        manager,
        Some(&etag),
        Some(json!({"assignee": me("eng-1")})),
        200
    );
    let (freeze, _, _) = go!(
        "POST",
        "/v1/changes/freezes",
        admin,
        None,
        Some(json!({"service": "fibre", "start": shanghai(3, 0), "end": shanghai(4, 0), "reason": "Festival"})),
        201
    );
    go!(
        "POST",
        cp("schedule"),
        manager,
        Some(&etag),
        Some(json!({"start": shanghai(3, 1), "end": shanghai(3, 2)})),
        409
    );
    let (_, etag, _) = go!(
        "POST",
        cp("schedule"),
        manager,
        Some(&etag),
        Some(json!({"start": shanghai(2, 1), "end": shanghai(2, 3), "time_zone": "Asia/Shanghai"})),
        200
    );
    // Too early: the refusal names the window. At its start, it goes ahead.
    let (refusal, _, _) = go!("POST", cp("start"), engineer, Some(&etag), Some(json!({})), 409);
    assert_eq!(refusal["type"], "urn:opsledger:problem:outside-change-window");
    clock.set(instant_in_shanghai(2, 1));
    let (_, etag, _) = go!("POST", cp("start"), engineer, Some(&etag), Some(json!({})), 200);
    let (_, etag, _) = go!(
        "POST",
        cp("rollout-steps"),
        engineer,
        Some(&etag),
        Some(json!({"kind": "canary", "percent": 5})),
        200
    );
    let (_, etag, _) = go!(
        "POST",
        cp("rollout-steps"),
        engineer,
        Some(&etag),
        Some(json!({"kind": "full_rollout"})),
        200
    );
    let (_, etag, _) = go!("POST", cp("complete"), engineer, Some(&etag), Some(json!({})), 200);
    go!("POST", cp("close"), engineer, Some(&etag), Some(json!({})), 409);
    go!(
        "POST",
        cp("review"),
        engineer,
        Some(&etag),
        Some(json!({"outcome": "successful", "went_well": "w", "went_wrong": "n",
                    "follow_up_actions": [{"description": "d", "owner": me("eng-1"), "due_on": "2027-03-01"}]})),
        200
    );
    let (_, etag, _) = go!("POST", cp("notes"), engineer, None, Some(json!({"body": "Done"})), 200);
    let (change, _, _) = go!("POST", cp("close"), engineer, Some(&etag), Some(json!({})), 200);
    assert_eq!(change["status"], "closed");

    // --- An emergency change inside the freeze, approved retrospectively --
    let (change, etag, _) = go!(
        "POST",
        "/v1/changes",
        engineer,
        None,
        Some(
            json!({"title": "Hotfix", "description": "d", "affected_services": ["fibre"],
                    "maintenance_type": "corrective", "change_type": "emergency"})
        ),
        201
    );
    let chg = change["id"].as_str().expect("id").to_owned();
    let cp = |c: &str| format!("/v1/changes/{chg}/{c}");
    let (_, etag, _) = go!("POST", cp("submit"), engineer, Some(&etag), Some(json!({})), 200);
    let mut low = plan.clone();
    low["risk"] = json!("low");
    let (_, etag, _) = go!("POST", cp("assess"), engineer, Some(&etag), Some(low), 200);
    let (_, etag, _) = go!(
        "POST",
        cp("schedule"),
        manager,
        Some(&etag),
        Some(json!({"start": shanghai(3, 5), "end": shanghai(3, 6)})),
        200
    );
    let (_, etag, _) = go!("POST", cp("start"), engineer, Some(&etag), Some(json!({})), 200);
    let (_, etag, _) = go!(
        "POST",
        cp("rollout-steps"),
        engineer,
        Some(&etag),
        Some(json!({"kind": "blue_green_switch"})),
        200
    );
    let (_, etag, _) = go!("POST", cp("complete"), engineer, Some(&etag), Some(json!({})), 200);
    let (_, etag, _) = go!(
        "POST",
        cp("review"),
        engineer,
        Some(&etag),
        Some(json!({"outcome": "successful", "went_well": "w", "went_wrong": "n"})),
        200
    );
    go!("POST", cp("close"), engineer, Some(&etag), Some(json!({})), 409);
    let (_, etag, _) = go!(
        "POST",
        cp("approve"),
        manager,
        Some(&etag),
        Some(json!({"comment": "Justified"})),
        200
    );
    go!("POST", cp("close"), engineer, Some(&etag), Some(json!({})), 200);

    let freeze_id = freeze["id"].as_str().expect("id");
    go!(
        "POST",
        format!("/v1/changes/freezes/{freeze_id}/lift"),
        admin,
        None,
        Some(json!({"reason": "Moved"})),
        200
    );
    let (calendar, _, _) = go!(
        "GET",
        format!("/v1/changes/calendar?from={}&to={}", shanghai(2, 0), shanghai(7, 0)),
        engineer,
        None,
        None,
        200
    );
    assert_eq!(calendar["changes"].as_array().map(Vec::len), Some(2), "{calendar}");
    assert_eq!(calendar["freezes"].as_array().map(Vec::len), Some(1), "{calendar}");
    go!("GET", "/v1/changes/calendar", agent, None, None, 403);
    go!("GET", format!("/v1/tickets?kind=change"), auditor, None, None, 200);

    let called = spec.calls();
    assert!(
        called.len() >= 36,
        "the stories reach {} operations: {called:?}",
        called.len()
    );
}
