//! Change management over HTTP, as a client drives it: a normal high-risk
//! change from draft to closed with a canary step; an emergency change
//! implemented inside a freeze window and approved retrospectively; calendar
//! conflicts, refused or overridden, and never both taken under concurrency;
//! and who may see and do what.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use opsledger::app::clock::ManualClock;
use opsledger::domain::Role;
use serde_json::{Value, json};

fn utc_of_shanghai(local: &str) -> DateTime<Utc> {
    format!("{local}:00+08:00").parse().expect("a valid instant")
}

fn draft(title: &str, change_type: &str, services: &[&str]) -> Value {
    json!({
        "title": title,
        "description": "Upgrade the database cluster to the next minor version",
        "affected_services": services,
        "maintenance_type": "adaptive",
        "change_type": change_type,
    })
}

fn plan(risk: &str, implementation: &str) -> Value {
    json!({
        "risk": risk,
        "impact": "Writes pause for up to 30 s per node",
        "implementation_plan": implementation,
        "test_plan": "Replay yesterday's traffic on staging",
        "test_evidence": "Staging run #4411: no errors, p99 +3 %",
        "rollback_plan": "Fail back to the old primary; restore the snapshot if needed",
    })
}

/// Drafts, submits and assesses a change; returns (id, etag).
async fn assessed(app: &TestApp, requester: &str, title: &str, change_type: &str, risk: &str) -> (String, String) {
    let (change, etag) = app
        .ok(
            "/v1/changes",
            requester,
            "",
            draft(title, change_type, &["payments-db"]),
        )
        .await;
    let id = change["id"].as_str().expect("id").to_owned();
    let (_, etag) = app
        .ok(&format!("/v1/changes/{id}/submit"), requester, &etag, json!({}))
        .await;
    let (_, etag) = app
        .ok(
            &format!("/v1/changes/{id}/assess"),
            requester,
            &etag,
            plan(risk, "Rolling upgrade, one node at a time"),
        )
        .await;
    (id, etag)
}

#[tokio::test]
async fn a_normal_high_risk_change_from_draft_to_closed_with_a_canary() {
    // The server acts at the instants this clock says: the change is
    // implemented when its window comes, without waiting for it.
    let clock = ManualClock::starting_at(Utc::now());
    let app = spawn_app_at(clock.clone()).await;
    let requester = manager("mgr-req");

    // The fault the change addresses; the link shows on the fault.
    let (fault, _) = app
        .ok(
            "/v1/faults",
            &engineer("eng-1"),
            "",
            json!({"title": "Replication lag", "description": "Replicas lag by minutes at peak",
               "affected_service": "payments-db", "detected_by": "monitoring"}),
        )
        .await;
    let fault_number = fault["number"].as_str().expect("number").to_owned();
    let mut body = draft("Upgrade payments-db to 15.8", "normal", &["payments-db"]);
    body["linked_faults"] = json!([fault_number]);
    let (change, etag) = app.ok("/v1/changes", &requester, "", body).await;
    assert_eq!(change["kind"], "change");
    assert_eq!(change["status"], "draft");
    assert!(change["number"].as_str().expect("number").starts_with("CHG-"));
    assert_eq!(change["linked_faults"][0]["number"], fault_number);
    let id = change["id"].as_str().expect("id").to_owned();
    let (fault, _) = app.view(&fault_number, &engineer("eng-1")).await;
    assert_eq!(fault["links"][0]["other"]["id"], id, "{fault}");

    // An unknown linked fault is missing, as one the drafter may not read
    // would be: the problem names the reference.
    let mut unknown = draft("x", "normal", &["payments-db"]);
    unknown["linked_faults"] = json!(["FLT-2020-999999"]);
    let refused = app.post("/v1/changes", &requester, &unknown).await;
    let problem_body = problem(refused, 404, "not-found").await;
    assert!(
        problem_body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("FLT-2020-999999"))
    );

    let path = |command: &str| format!("/v1/changes/{id}/{command}");
    let (_, etag) = app.ok(&path("submit"), &requester, &etag, json!({})).await;
    let (change, etag) = app
        .ok(
            &path("assess"),
            &engineer("eng-1"),
            &etag,
            plan("high", "Rolling upgrade"),
        )
        .await;
    assert_eq!(change["status"], "assessed");
    assert_eq!(change["approvals_required"], 2);
    let first_plan_hash = change["plan_hash"].as_str().expect("plan hash").to_owned();
    assert_eq!(first_plan_hash.len(), 64);

    // The requester never approves their own change; engineers may not approve at all.
    let refused = app
        .post_if_match(&path("approve"), &requester, &etag, &json!({"comment": "LGTM"}))
        .await;
    problem(refused, 409, "rule-violated").await;
    let refused = app
        .post_if_match(&path("approve"), &engineer("eng-1"), &etag, &json!({"comment": "LGTM"}))
        .await;
    problem(refused, 403, "forbidden").await;

    // High risk: one approval is not enough, and the same person twice does not count twice.
    let (change, etag) = app
        .ok(
            &path("approve"),
            &manager("mgr-a"),
            &etag,
            json!({"comment": "Plan is sound"}),
        )
        .await;
    assert_eq!(change["status"], "assessed");
    assert_eq!(change["approvals"][0]["plan_hash"], first_plan_hash);
    let refused = app
        .post_if_match(&path("approve"), &manager("mgr-a"), &etag, &json!({"comment": "again"}))
        .await;
    problem(refused, 409, "rule-violated").await;
    let (change, etag) = app
        .ok(&path("approve"), &manager("mgr-b"), &etag, json!({"comment": "Agreed"}))
        .await;
    assert_eq!(change["status"], "approved");
    assert_eq!(change["approved"], true);

    // Amending the plan voids both approvals: approve again.
    let (change, etag) = app
        .ok(
            &path("plan"),
            &engineer("eng-1"),
            &etag,
            plan("high", "Rolling upgrade, replicas first, then a switchover"),
        )
        .await;
    assert_eq!(change["status"], "assessed");
    assert_eq!(change["approved"], false);
    assert_ne!(change["plan_hash"], first_plan_hash);
    assert!(
        change["approvals"]
            .as_array()
            .expect("approvals")
            .iter()
            .all(|a| a["counts"] == false)
    );
    let (_, etag) = app
        .ok(&path("approve"), &manager("mgr-a"), &etag, json!({"comment": "Better"}))
        .await;
    let (change, etag) = app
        .ok(&path("approve"), &manager("mgr-b"), &etag, json!({"comment": "Yes"}))
        .await;
    assert_eq!(change["status"], "approved");

    // A freeze on the service refuses the window; outside it, the change is booked.
    let (freeze, _) = app
        .ok(
            "/v1/changes/freezes",
            &admin(),
            "",
            json!({"service": "payments-db", "start": shanghai(10, 0), "end": shanghai(11, 0),
               "reason": "Singles' Day sales"}),
        )
        .await;
    assert_eq!(freeze["time_zone"], "Asia/Shanghai");
    let frozen = json!({"start": shanghai(10, 2), "end": shanghai(10, 4)});
    let refused = app
        .post_if_match(&path("schedule"), &manager("mgr-a"), &etag, &frozen)
        .await;
    let body = problem(refused, 409, "rule-violated").await;
    assert!(body["detail"].as_str().expect("detail").contains("freeze"), "{body}");
    let window = json!({"start": shanghai(12, 2), "end": shanghai(12, 4), "time_zone": "Asia/Shanghai"});
    let (change, etag) = app.ok(&path("schedule"), &manager("mgr-a"), &etag, window).await;
    assert_eq!(change["status"], "scheduled");
    assert_eq!(
        change["window"]["start"]
            .as_str()
            .expect("start")
            .parse::<DateTime<Utc>>()
            .expect("instant"),
        utc_of_shanghai(&shanghai(12, 2)),
        "local times are stored in UTC"
    );
    assert!(
        change["window"]["start_local"]
            .as_str()
            .expect("local")
            .ends_with("+08:00")
    );

    // Implementation, when the window has come: a canary, then the full
    // rollout; completing needs the final step.
    clock.set(instant_in_shanghai(12, 2));
    let (_, etag) = app.ok(&path("start"), &engineer("eng-1"), &etag, json!({})).await;
    let (_, etag) = app
        .ok(
            &path("rollout-steps"),
            &engineer("eng-1"),
            &etag,
            json!({"kind": "canary", "percent": 10}),
        )
        .await;
    let refused = app
        .post_if_match(&path("complete"), &engineer("eng-1"), &etag, &json!({}))
        .await;
    problem(refused, 409, "rule-violated").await;
    let refused = app
        .post_if_match(
            &path("rollout-steps"),
            &engineer("eng-1"),
            &etag,
            &json!({"kind": "canary", "percent": 5}),
        )
        .await;
    problem(refused, 409, "rule-violated").await;
    let (_, etag) = app
        .ok(
            &path("rollout-steps"),
            &engineer("eng-1"),
            &etag,
            json!({"kind": "full_rollout"}),
        )
        .await;
    let (change, etag) = app.ok(&path("complete"), &engineer("eng-1"), &etag, json!({})).await;
    assert_eq!(change["status"], "completed");
    assert_eq!(change["rollout"].as_array().map(Vec::len), Some(2));

    // A normal change closes only after its post-implementation review.
    let refused = app
        .post_if_match(&path("close"), &engineer("eng-1"), &etag, &json!({}))
        .await;
    problem(refused, 409, "rule-violated").await;
    let review = json!({
        "outcome": "successful", "went_well": "Canary caught nothing; switchover took 12 s",
        "went_wrong": "The runbook missed one replica",
        "follow_up_actions": [{"description": "Fix the runbook", "owner": "eng-1", "due_on": "2027-01-31"}]
    });
    let (_, etag) = app.ok(&path("review"), &engineer("eng-1"), &etag, review).await;
    let (change, _) = app.ok(&path("close"), &engineer("eng-1"), &etag, json!({})).await;
    assert_eq!(change["status"], "closed");

    let history: Value = app
        .get(
            &format!("/v1/tickets/{id}/history"),
            &token("auditor-1", &[Role::Auditor]),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        event_types(&history),
        [
            "change.drafted",
            "change.submitted",
            "change.assessed",
            "change.approved",
            "change.approved",
            "change.plan_amended",
            "change.approved",
            "change.approved",
            "change.scheduled",
            "change.implementation_started",
            "change.rollout_step_recorded",
            "change.rollout_step_recorded",
            "change.completed",
            "change.reviewed",
            "change.closed",
        ]
    );
}

#[tokio::test]
async fn an_emergency_change_runs_inside_a_freeze_and_closes_after_retrospective_approval() {
    let app = spawn_app().await;
    let requester = engineer("eng-9");
    app.ok(
        "/v1/changes/freezes",
        &admin(),
        "",
        json!({"start": shanghai(1, 0), "end": shanghai(3, 0), "reason": "Year-end close, all services"}),
    )
    .await;
    let (id, etag) = assessed(
        &app,
        &requester,
        "Hotfix the card gateway TLS config",
        "emergency",
        "medium",
    )
    .await;
    let path = |command: &str| format!("/v1/changes/{id}/{command}");

    // No approval yet, and inside the freeze: an emergency may go ahead.
    let window = json!({"start": shanghai(1, 2), "end": shanghai(1, 3)});
    let (change, etag) = app.ok(&path("schedule"), &manager("mgr-a"), &etag, window).await;
    assert_eq!(change["status"], "scheduled");
    assert_eq!(change["approved"], false);
    let (_, etag) = app.ok(&path("start"), &requester, &etag, json!({})).await;
    let (_, etag) = app
        .ok(
            &path("rollout-steps"),
            &requester,
            &etag,
            json!({"kind": "blue_green_switch"}),
        )
        .await;
    let (_, etag) = app.ok(&path("complete"), &requester, &etag, json!({})).await;
    let review = json!({"outcome": "successful", "went_well": "Fixed in 20 minutes", "went_wrong": "Expired certificate not monitored"});
    let (_, etag) = app.ok(&path("review"), &requester, &etag, review).await;

    // Not closable until approved retrospectively.
    let refused = app.post_if_match(&path("close"), &requester, &etag, &json!({})).await;
    let body = problem(refused, 409, "rule-violated").await;
    assert!(body["detail"].as_str().expect("detail").contains("approv"), "{body}");
    let (change, etag) = app
        .ok(
            &path("approve"),
            &manager("mgr-a"),
            &etag,
            json!({"comment": "Justified"}),
        )
        .await;
    assert_eq!(change["status"], "reviewed");
    assert_eq!(change["approved"], true);
    let (change, _) = app.ok(&path("close"), &requester, &etag, json!({})).await;
    assert_eq!(change["status"], "closed");
}

#[tokio::test]
async fn a_change_starts_in_its_window_early_only_when_a_manager_authorises_it_and_never_in_a_later_freeze() {
    let clock = ManualClock::starting_at(Utc::now());
    let app = spawn_app_at(clock.clone()).await;
    let requester = manager("mgr-req");
    let (id, etag) = assessed(&app, &requester, "Rotate the API gateway certificates", "normal", "low").await;
    let path = |command: &str| format!("/v1/changes/{id}/{command}");
    let (_, etag) = app
        .ok(&path("approve"), &manager("mgr-a"), &etag, json!({"comment": "Fine"}))
        .await;
    let window = json!({"start": shanghai(5, 2), "end": shanghai(5, 4)});
    let (change, etag) = app.ok(&path("schedule"), &manager("mgr-a"), &etag, window).await;
    let number = change["number"].as_str().expect("number").to_owned();

    // Five days early: refused, naming the window, and nothing is written.
    let refused = app
        .post_if_match(&path("start"), &engineer("eng-1"), &etag, &json!({}))
        .await;
    let body = problem(refused, 409, "outside-change-window").await;
    assert_eq!(body["window"]["kind"], "change", "{body}");
    assert_eq!(
        body["window"]["start"]
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok()),
        Some(instant_in_shanghai(5, 2))
    );
    assert_eq!(body["window"]["start_local"], change["window"]["start_local"]);
    let detail = body["detail"].as_str().expect("detail");
    assert!(detail.contains(&number) && detail.contains("authorise"), "{detail}");

    // Only a manager other than the requester may waive the window.
    let reason = json!({"reason": "Certificates expire tonight; traffic is low"});
    let refused = app
        .post_if_match(&path("authorise-start"), &engineer("eng-1"), &etag, &reason)
        .await;
    problem(refused, 403, "forbidden").await;
    let refused = app
        .post_if_match(&path("authorise-start"), &requester, &etag, &reason)
        .await;
    problem(refused, 409, "rule-violated").await;

    // A freeze declared after the scheduling, over the second half of the window.
    let (freeze, _) = app
        .ok(
            "/v1/changes/freezes",
            &admin(),
            "",
            json!({"service": "payments-db", "start": shanghai(5, 3), "end": shanghai(5, 6),
                   "reason": "Settlement run"}),
        )
        .await;

    let (change, etag) = app.ok(&path("authorise-start"), &manager("mgr-a"), &etag, reason).await;
    assert_eq!(change["status"], "scheduled");
    assert_eq!(
        change["start_authorisation"]["reason"],
        "Certificates expire tonight; traffic is low"
    );
    assert!(
        change["start_authorisation"]["by"]
            .as_str()
            .is_some_and(|by| by.ends_with("mgr-a"))
    );

    // Authorised, but the work it commits to runs into the freeze.
    let refused = app
        .post_if_match(&path("start"), &engineer("eng-1"), &etag, &json!({}))
        .await;
    let body = problem(refused, 409, "change-frozen").await;
    assert_eq!(body["window"]["kind"], "freeze", "{body}");
    assert_eq!(body["window"]["freeze_id"], freeze["id"]);
    assert_eq!(body["window"]["reason"], "Settlement run");

    // With the freeze lifted, it starts now.
    let freeze_id = freeze["id"].as_str().expect("id");
    app.ok(
        &format!("/v1/changes/freezes/{freeze_id}/lift"),
        &admin(),
        "",
        json!({"reason": "Settlement moved to Sunday"}),
    )
    .await;
    let (change, _) = app.ok(&path("start"), &engineer("eng-1"), &etag, json!({})).await;
    assert_eq!(change["status"], "implementing");

    // The authorisation is its own event in the change's history.
    let history: Value = app
        .get(
            &format!("/v1/tickets/{id}/history"),
            &token("auditor-1", &[Role::Auditor]),
        )
        .await
        .json()
        .await
        .expect("json");
    let types = event_types(&history);
    assert_eq!(
        &types[types.len() - 2..],
        ["change.start_authorised", "change.implementation_started"]
    );
    let authorised = &history["events"][types.len() - 2];
    assert_eq!(
        authorised["payload"]["window_start"]
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok()),
        Some(instant_in_shanghai(5, 2)),
        "{authorised}"
    );
}

#[tokio::test]
async fn a_change_in_its_window_does_not_start_inside_a_freeze_declared_after_it_was_scheduled() {
    let clock = ManualClock::starting_at(Utc::now());
    let app = spawn_app_at(clock.clone()).await;
    let (id, etag) = assessed(&app, &manager("mgr-req"), "Patch the kernel", "standard", "low").await;
    let path = |command: &str| format!("/v1/changes/{id}/{command}");
    let window = json!({"start": shanghai(3, 9), "end": shanghai(3, 12)});
    let (_, etag) = app.ok(&path("schedule"), &manager("mgr-a"), &etag, window).await;
    // Every service frozen from 10:00, declared after the booking.
    app.ok(
        "/v1/changes/freezes",
        &admin(),
        "",
        json!({"start": shanghai(3, 10), "end": shanghai(3, 18), "reason": "Regulator audit"}),
    )
    .await;

    // Inside the freeze: refused. Before it, the rest of the window still
    // runs into it: refused too.
    for hour in [10, 9] {
        clock.set(instant_in_shanghai(3, hour));
        let refused = app
            .post_if_match(&path("start"), &engineer("eng-1"), &etag, &json!({}))
            .await;
        let body = problem(refused, 409, "change-frozen").await;
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("Regulator audit") && d.contains("every service")),
            "{body}"
        );
    }
    // Moved after the freeze, it starts in its new window.
    let later = json!({"start": shanghai(3, 18), "end": shanghai(3, 20)});
    let (_, etag) = app.ok(&path("schedule"), &manager("mgr-a"), &etag, later).await;
    clock.set(instant_in_shanghai(3, 18));
    let (change, _) = app.ok(&path("start"), &engineer("eng-1"), &etag, json!({})).await;
    assert_eq!(change["status"], "implementing");
}

#[tokio::test]
async fn overlapping_windows_are_refused_or_overridden_with_a_recorded_reason() {
    let app = spawn_app().await;
    let (first, etag) = assessed(&app, &manager("mgr-req"), "First", "standard", "low").await;
    app.ok(
        &format!("/v1/changes/{first}/schedule"),
        &manager("mgr-a"),
        &etag,
        json!({"start": shanghai(5, 9), "end": shanghai(5, 11)}),
    )
    .await;

    let (second, etag) = assessed(&app, &manager("mgr-req"), "Second", "standard", "low").await;
    let overlapping = json!({"start": shanghai(5, 10), "end": shanghai(5, 12)});
    let refused = app
        .post_if_match(
            &format!("/v1/changes/{second}/schedule"),
            &manager("mgr-a"),
            &etag,
            &overlapping,
        )
        .await;
    let body = problem(refused, 409, "schedule-conflict").await;
    assert_eq!(body["conflicts"][0]["id"], first, "{body}");

    // Back to back is not an overlap.
    let adjacent = json!({"start": shanghai(5, 11), "end": shanghai(5, 12)});
    let (_, etag) = app
        .ok(
            &format!("/v1/changes/{second}/schedule"),
            &manager("mgr-a"),
            &etag,
            adjacent,
        )
        .await;
    let (_, etag) = app
        .ok(
            &format!("/v1/changes/{second}/unschedule"),
            &manager("mgr-a"),
            &etag,
            json!({"reason": "Moving it"}),
        )
        .await;

    // An override needs a reason, and records what it overrode.
    let no_reason = json!({"start": shanghai(5, 10), "end": shanghai(5, 12), "override_conflicts": true});
    let refused = app
        .post_if_match(
            &format!("/v1/changes/{second}/schedule"),
            &manager("mgr-a"),
            &etag,
            &no_reason,
        )
        .await;
    let body = problem(refused, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["pointer"], "/override_reason");
    let overridden = json!({"start": shanghai(5, 10), "end": shanghai(5, 12), "override_conflicts": true,
                            "override_reason": "Both touch different tables"});
    let (change, _) = app
        .ok(
            &format!("/v1/changes/{second}/schedule"),
            &manager("mgr-a"),
            &etag,
            overridden,
        )
        .await;
    assert_eq!(change["status"], "scheduled");

    // The calendar shows both changes and the override is in the history.
    let from = shanghai(5, 0);
    let to = shanghai(6, 0);
    let calendar: Value = app
        .get(
            &format!("/v1/changes/calendar?from={from}&to={to}&time_zone=Europe/Berlin"),
            &engineer("eng-1"),
        )
        .await
        .json()
        .await
        .expect("json");
    let numbers: Vec<&str> = calendar["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(numbers, [first.as_str(), second.as_str()], "{calendar}");
    assert_eq!(calendar["time_zone"], "Europe/Berlin");
    let local = calendar["changes"][0]["start_local"].as_str().expect("start_local");
    assert!(
        local.ends_with("+01:00") || local.ends_with("+02:00"),
        "in Berlin time: {local}"
    );
    let instant = chrono::DateTime::parse_from_rfc3339(local).expect("RFC 3339");
    assert_eq!(
        instant,
        chrono::DateTime::parse_from_rfc3339(calendar["changes"][0]["start"].as_str().expect("start")).expect("start")
    );
    let history: Value = app
        .get(&format!("/v1/tickets/{second}/history"), &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    let scheduled = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .rev()
        .find(|e| e["type"] == "change.scheduled")
        .expect("scheduled");
    assert_eq!(scheduled["payload"]["overrides"][0]["id"], first, "{scheduled}");
    assert_eq!(scheduled["payload"]["override_reason"], "Both touch different tables");
    assert!(
        calendar["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["frozen_by"] == json!([])),
        "no freeze yet: {calendar}"
    );

    // A freeze declared afterwards over the first change's window is
    // allowed; the calendar flags the changes it now covers.
    let (freeze, _) = app
        .ok(
            "/v1/changes/freezes",
            &admin(),
            "",
            json!({"start": shanghai(5, 8), "end": shanghai(5, 9), "reason": "Audit"}),
        )
        .await;
    let (late, _) = app
        .ok(
            "/v1/changes/freezes",
            &admin(),
            "",
            json!({"start": shanghai(5, 10), "end": shanghai(5, 12), "reason": "Network maintenance"}),
        )
        .await;
    let calendar: Value = app
        .get(&format!("/v1/changes/calendar?from={from}&to={to}"), &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    let flags: Vec<(&str, &Value)> = calendar["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or_default(), &c["frozen_by"]))
        .collect();
    assert_eq!(
        flags,
        [
            (first.as_str(), &json!([late["id"]])),
            (second.as_str(), &json!([late["id"]]))
        ],
        "the 08:00-09:00 freeze ends as the first change starts: {calendar}"
    );
    assert_ne!(freeze["id"], late["id"]);
}

#[tokio::test]
async fn two_changes_racing_for_one_window_never_both_get_it() {
    let app = spawn_app().await;
    for round in 0..4 {
        let (a, etag_a) = assessed(&app, &manager("mgr-req"), "A", "standard", "low").await;
        let (b, etag_b) = assessed(&app, &manager("mgr-req"), "B", "standard", "low").await;
        let window = json!({"start": shanghai(20 + round, 9), "end": shanghai(20 + round, 10)});
        let path_a = format!("/v1/changes/{a}/schedule");
        let path_b = format!("/v1/changes/{b}/schedule");
        let (mgr_a, mgr_b) = (manager("mgr-a"), manager("mgr-b"));
        let (ra, rb) = tokio::join!(
            app.command(&path_a, &mgr_a, &etag_a, window.clone()),
            app.command(&path_b, &mgr_b, &etag_b, window.clone()),
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: {} / {}", ra.1, rb.1);
        let loser = if ra.0 == 409 { &ra.1 } else { &rb.1 };
        assert_eq!(loser["type"], "urn:opsledger:problem:schedule-conflict", "{loser}");
    }
}

#[tokio::test]
async fn who_may_see_and_do_what_with_changes() {
    let app = spawn_app().await;
    let (id, etag) = assessed(&app, &engineer("eng-1"), "Rotate keys", "normal", "low").await;

    // Customer-service agents see no changes at all: not by id, not in lists, not the calendar.
    let response = app.get(&format!("/v1/tickets/{id}"), &agent()).await;
    problem(response, 404, "not-found").await;
    let list: Value = app
        .get("/v1/tickets?kind=change", &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"], json!([]));
    let response = app.get("/v1/changes/calendar", &agent()).await;
    problem(response, 403, "forbidden").await;
    let response = app.post("/v1/changes", &agent(), &draft("x", "normal", &["a"])).await;
    problem(response, 403, "forbidden").await;

    // Auditors read them; only admins manage freeze windows; engineers cannot schedule.
    let list: Value = app
        .get("/v1/tickets?kind=change", &token("auditor-1", &[Role::Auditor]))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"][0]["id"], id);
    let freeze = json!({"start": shanghai(40, 0), "end": shanghai(41, 0), "reason": "r"});
    let response = app.post("/v1/changes/freezes", &manager("mgr-a"), &freeze).await;
    problem(response, 403, "forbidden").await;
    let window = json!({"start": shanghai(30, 9), "end": shanghai(30, 10)});
    let response = app
        .post_if_match(
            &format!("/v1/changes/{id}/schedule"),
            &engineer("eng-1"),
            &etag,
            &window,
        )
        .await;
    problem(response, 403, "forbidden").await;

    // Bad input: an unknown zone and an ambiguous local time are field errors.
    let response = app
        .post_if_match(
            &format!("/v1/changes/{id}/schedule"),
            &manager("mgr-a"),
            &etag,
            &json!({"start": shanghai(30, 9), "end": shanghai(30, 10), "time_zone": "Mars/Olympus"}),
        )
        .await;
    let body = problem(response, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["pointer"], "/time_zone");
    let (freeze, _) = app.ok("/v1/changes/freezes", &admin(), "", freeze).await;
    let freeze_id = freeze["id"].as_str().expect("id");
    let (lifted, _) = app
        .ok(
            &format!("/v1/changes/freezes/{freeze_id}/lift"),
            &admin(),
            "",
            json!({"reason": "Sales moved"}),
        )
        .await;
    assert_eq!(lifted["lifted"]["reason"], "Sales moved");
    let response = app
        .post(
            &format!("/v1/changes/freezes/{freeze_id}/lift"),
            &admin(),
            &json!({"reason": "again"}),
        )
        .await;
    problem(response, 409, "rule-violated").await;
    let response = app
        .post(
            "/v1/changes/freezes/00000000-0000-7000-8000-000000000000/lift",
            &admin(),
            &json!({"reason": "x"}),
        )
        .await;
    problem(response, 404, "not-found").await;
}
