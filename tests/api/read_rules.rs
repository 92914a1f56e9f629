//! Issue 15, items 1, 2, 3 and 8: every door checks who may read.
//!
//! - Write scopes acted on tickets their holder may not read, and answered
//!   with the full view; a principal that may write but not read now acts
//!   only on tickets it created, sees any other as missing, and gets
//!   receipts, never views.
//! - A replay answered with the stored view whatever the caller may read
//!   now; it answers under the current read rules.
//! - `If-Match` on an unreadable ticket answered 412 where a missing one
//!   answered 404; read rules now come before every precondition.
//! - The feed showed every event to anyone with `events:read`; it is
//!   filtered by the rules of `GET /v1/tickets/{id}` for everyone but
//!   auditors and administrators, and moves past what it hides.
//!
//! The matrix test asks the one permission matrix what each principal may
//! do, and checks that the server agrees, through every command door.
//!
//! One test of the filtered feed counts `opsledger_feed_reads_total`, a
//! process-wide counter: it runs in the `process_metrics` test binary
//! (tests/process_metrics/read_rules.rs), where no other test reads a feed
//! while it counts.

use std::time::Duration;

use crate::helpers::*;
use opsledger::domain::Role;
use opsledger::domain::permissions::{Permission, Reader, allows};
use opsledger::domain::ticket::TicketKind;
use serde_json::{Value, json};

/// A principal of the matrix: its token, roles and scopes.
struct Caller {
    name: &'static str,
    sub: &'static str,
    roles: &'static [Role],
    scopes: &'static [&'static str],
}

impl Caller {
    fn token(&self) -> String {
        token_with_scopes(self.sub, self.roles, self.scopes)
    }

    fn scopes(&self) -> Vec<String> {
        self.scopes.iter().map(|s| (*s).to_owned()).collect()
    }

    fn may(&self, permission: Permission) -> bool {
        allows(self.roles, &self.scopes(), permission)
    }

    fn reader(&self) -> Reader {
        Reader::new(self.roles, &self.scopes(), format!("{ISSUER}|{}", self.sub))
    }
}

const CALLERS: &[Caller] = &[
    Caller {
        name: "agent",
        sub: "m-agent",
        roles: &[Role::Agent],
        scopes: &[],
    },
    Caller {
        name: "engineer",
        sub: "m-eng",
        roles: &[Role::Engineer],
        scopes: &[],
    },
    Caller {
        name: "manager",
        sub: "m-mgr",
        roles: &[Role::Manager],
        scopes: &[],
    },
    Caller {
        name: "auditor",
        sub: "m-aud",
        roles: &[Role::Auditor],
        scopes: &[],
    },
    Caller {
        name: "admin",
        sub: "m-admin",
        roles: &[Role::Admin],
        scopes: &[],
    },
    Caller {
        name: "complaints:write",
        sub: "m-cw",
        roles: &[Role::Integration],
        scopes: &["complaints:write"],
    },
    Caller {
        name: "faults:write",
        sub: "m-fw",
        roles: &[Role::Integration],
        scopes: &["faults:write"],
    },
    Caller {
        name: "changes:write",
        sub: "m-chw",
        roles: &[Role::Integration],
        scopes: &["changes:write"],
    },
    Caller {
        name: "tickets:read",
        sub: "m-tr",
        roles: &[Role::Integration],
        scopes: &["tickets:read"],
    },
    Caller {
        name: "tickets:read+faults:write",
        sub: "m-trfw",
        roles: &[Role::Integration],
        scopes: &["tickets:read", "faults:write"],
    },
];

/// One command door: the path after `/v1/…/{id}`, which kind of ticket it
/// takes (`None`: any), the permission it needs, and a body it accepts.
struct Door {
    prefix: &'static str,
    command: &'static str,
    kind: Option<TicketKind>,
    permission: Permission,
    body: fn() -> Value,
}

const fn door(
    prefix: &'static str,
    command: &'static str,
    kind: Option<TicketKind>,
    permission: Permission,
    body: fn() -> Value,
) -> Door {
    Door {
        prefix,
        command,
        kind,
        permission,
        body,
    }
}

const C: Option<TicketKind> = Some(TicketKind::Complaint);
const F: Option<TicketKind> = Some(TicketKind::Fault);
const X: Option<TicketKind> = Some(TicketKind::Change);

fn empty() -> Value {
    json!({})
}

fn reason() -> Value {
    json!({"reason": "r"})
}

const DOORS: &[Door] = &[
    door("complaints", "acknowledge", C, Permission::ComplaintHandle, empty),
    door(
        "complaints",
        "assign",
        C,
        Permission::ComplaintAssign,
        || json!({"team": "t"}),
    ),
    door(
        "complaints",
        "notes",
        C,
        Permission::ComplaintNote,
        || json!({"body": "b", "visibility": "internal"}),
    ),
    door("complaints", "wait-on-customer", C, Permission::ComplaintHandle, reason),
    door("complaints", "resume", C, Permission::ComplaintHandle, empty),
    door(
        "complaints",
        "resolve",
        C,
        Permission::ComplaintHandle,
        || json!({"resolution": "r"}),
    ),
    door(
        "complaints",
        "satisfaction",
        C,
        Permission::ComplaintHandle,
        || json!({"rating": 4}),
    ),
    door("complaints", "close", C, Permission::ComplaintHandle, empty),
    door("complaints", "reopen", C, Permission::ComplaintHandle, reason),
    door(
        "complaints",
        "correct",
        C,
        Permission::ComplaintHandle,
        || json!({"category": "billing", "reason": "r"}),
    ),
    door(
        "complaints",
        "priority",
        C,
        Permission::ComplaintHandle,
        || json!({"priority": "P1", "reason": "r"}),
    ),
    door(
        "complaints",
        "escalate",
        C,
        Permission::ComplaintEscalate,
        || json!({"description": "d", "affected_service": "svc"}),
    ),
    door(
        "faults",
        "triage",
        F,
        Permission::FaultTriage,
        || json!({"severity": 3, "evaluator": "idp|eng-1"}),
    ),
    door(
        "faults",
        "assign",
        F,
        Permission::FaultTriage,
        || json!({"technician": "idp|eng-1"}),
    ),
    door(
        "faults",
        "evaluate",
        F,
        Permission::FaultWork,
        || json!({"nature": "n", "estimated_effort_minutes": 5, "proposed_priority": 3}),
    ),
    door("faults", "investigate", F, Permission::FaultWork, empty),
    door(
        "faults",
        "mitigate",
        F,
        Permission::FaultWork,
        || json!({"workaround": "w"}),
    ),
    door(
        "faults",
        "resolve",
        F,
        Permission::FaultWork,
        || json!({"resolution": "r", "root_cause": "c"}),
    ),
    door("faults", "close", F, Permission::FaultWork, empty),
    door("faults", "reopen", F, Permission::FaultWork, reason),
    door("faults", "repairs", F, Permission::FaultWork, || {
        json!({"technician": "idp|eng-1", "action_taken": "a", "started_at": "2026-01-10T09:00:00Z",
               "ended_at": "2026-01-10T10:00:00Z", "person_minutes": 60, "maintenance_type": "corrective"})
    }),
    door(
        "faults",
        "review",
        F,
        Permission::FaultWork,
        || json!({"summary": "s", "root_cause": "c", "action_items": []}),
    ),
    door(
        "faults",
        "review/completed-items",
        F,
        Permission::FaultWork,
        || json!({"item": 1}),
    ),
    door("faults", "notes", F, Permission::FaultWork, || json!({"body": "b"})),
    door(
        "faults",
        "repairs/voided",
        F,
        Permission::FaultWork,
        || json!({"repair": 1, "reason": "r"}),
    ),
    door(
        "faults",
        "affected-service",
        F,
        Permission::FaultWork,
        || json!({"affected_service": "svc2", "reason": "r"}),
    ),
    door(
        "changes",
        "amend",
        X,
        Permission::ChangeRequest,
        || json!({"title": "t"}),
    ),
    door("changes", "submit", X, Permission::ChangeRequest, empty),
    door("changes", "assess", X, Permission::ChangeAssess, plan),
    door("changes", "plan", X, Permission::ChangeAssess, plan),
    door(
        "changes",
        "approve",
        X,
        Permission::ChangeApprove,
        || json!({"comment": "c"}),
    ),
    door(
        "changes",
        "reject",
        X,
        Permission::ChangeApprove,
        || json!({"comment": "c"}),
    ),
    door(
        "changes",
        "assign",
        X,
        Permission::ChangeSchedule,
        || json!({"assignee": "idp|eng-1"}),
    ),
    door(
        "changes",
        "schedule",
        X,
        Permission::ChangeSchedule,
        || json!({"start": "2030-01-01T01:00:00Z", "end": "2030-01-01T02:00:00Z"}),
    ),
    door("changes", "unschedule", X, Permission::ChangeSchedule, reason),
    door("changes", "authorise-start", X, Permission::ChangeSchedule, reason),
    door("changes", "start", X, Permission::ChangeImplement, empty),
    door(
        "changes",
        "rollout-steps",
        X,
        Permission::ChangeImplement,
        || json!({"kind": "full_rollout"}),
    ),
    door("changes", "complete", X, Permission::ChangeImplement, empty),
    door("changes", "rollback", X, Permission::ChangeImplement, reason),
    door("changes", "fail", X, Permission::ChangeImplement, reason),
    door(
        "changes",
        "review",
        X,
        Permission::ChangeImplement,
        || json!({"outcome": "successful", "went_well": "w", "went_wrong": "n"}),
    ),
    door("changes", "close", X, Permission::ChangeImplement, empty),
    door(
        "changes",
        "notes",
        X,
        Permission::ChangeRequest,
        || json!({"body": "b"}),
    ),
    door(
        "tickets",
        "links",
        None,
        Permission::TicketLink,
        || json!({"relation": "relates_to", "target": LINK_TARGET}),
    ),
    door(
        "tickets",
        "unlink",
        None,
        Permission::TicketLink,
        || json!({"target": LINK_TARGET, "reason": "r"}),
    ),
];

/// What every link door names as the other ticket: a complaint every
/// ticket reader may read (filed first, so its number is known).
const LINK_TARGET: &str = "CMP-2026-000001";

fn plan() -> Value {
    json!({"risk": "low", "impact": "i", "implementation_plan": "p", "test_plan": "t", "rollback_plan": "r"})
}

/// A ticket of the matrix, with what read rules need to know of it.
struct Target {
    name: &'static str,
    id: String,
    kind: TicketKind,
    created_by: String,
}

/// Whether a ticket is linked to a complaint now.
async fn linked(app: &TestApp, id: &str) -> bool {
    app.db
        .connect_admin()
        .await
        .query_one("SELECT complaint_linked FROM tickets WHERE id = $1::text::uuid", &[&id])
        .await
        .expect("ticket")
        .get(0)
}

/// A complaint (the link target, filed first), a fault escalated from a
/// complaint, a fault nobody linked, and a change.
async fn targets(app: &TestApp) -> Vec<Target> {
    let filer = format!("{ISSUER}|agent-1");
    let link_target = app.created("/v1/complaints", &agent(), &sample_complaint()).await;
    assert_eq!(link_target["number"], LINK_TARGET);
    let complaint = app.created("/v1/complaints", &agent(), &sample_complaint()).await;
    let escalated = app.created("/v1/complaints", &agent(), &sample_complaint()).await;
    let id = escalated["id"].as_str().expect("id");
    let etag = etag_of(&app.get(&format!("/v1/tickets/{id}"), &agent()).await);
    let (status, _, etag) = app.transition(id, "acknowledge", &etag, json!({})).await;
    assert_eq!(status, 200);
    let r = app
        .post_if_match(
            &format!("/v1/complaints/{id}/escalate"),
            &agent(),
            &etag,
            &json!({"description": "d", "affected_service": "svc"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let linked_fault: Value = r.json().await.expect("json");
    let fault = app
        .created(
            "/v1/faults",
            &engineer("eng-1"),
            &json!({"title": "t", "description": "d", "affected_service": "svc", "detected_by": "staff"}),
        )
        .await;
    let change = app
        .created(
            "/v1/changes",
            &engineer("eng-1"),
            &json!({"title": "t", "description": "d", "affected_services": ["svc"],
               "maintenance_type": "adaptive", "change_type": "normal"}),
        )
        .await;
    let engineer_id = format!("{ISSUER}|eng-1");
    let of = |name, view: &Value, kind, created_by: &str| Target {
        name,
        id: view["id"].as_str().expect("id").to_owned(),
        kind,
        created_by: created_by.to_owned(),
    };
    vec![
        of("complaint", &complaint, TicketKind::Complaint, &filer),
        of("linked fault", &linked_fault, TicketKind::Fault, &filer),
        of("unlinked fault", &fault, TicketKind::Fault, &engineer_id),
        of("change", &change, TicketKind::Change, &engineer_id),
    ]
}

#[tokio::test]
async fn every_command_door_refuses_what_the_matrix_refuses_and_hides_what_the_caller_may_not_read() {
    let app = spawn_app().await;
    let targets = targets(&app).await;
    let mut checked = 0;
    for caller in CALLERS {
        let token = caller.token();
        let reader = caller.reader();
        for target in &targets {
            // Links made by earlier callers may have linked a fault to a
            // complaint since: read rules follow the ticket as it is now.
            let complaint_linked = linked(&app, &target.id).await;
            let may_act = reader.may_act_on(target.kind, complaint_linked, Some(&target.created_by));
            for door in DOORS {
                let path = format!("/v1/{}/{}/{}", door.prefix, target.id, door.command);
                let before = app.count_events().await;
                // `If-Match: *` matches any version: whatever the caller may
                // not learn, it learns here if the read check comes late.
                let r = app.post_if_match(&path, &token, "*", &(door.body)()).await;
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                let what = format!("{} {path} on the {}: {status} {body}", caller.name, target.name);
                let expected = if !caller.may(door.permission) {
                    Some((403, "forbidden"))
                } else if !may_act || door.kind.is_some_and(|k| k != target.kind) {
                    Some((404, "not-found"))
                } else {
                    None
                };
                match expected {
                    Some((status_expected, kind)) => {
                        assert_eq!(status, status_expected, "{what}");
                        assert_eq!(body["type"], format!("urn:opsledger:problem:{kind}"), "{what}");
                        if status == 404 && !may_act {
                            // Nothing about the ticket: not its number, kind or version.
                            assert_eq!(body["detail"], "no such ticket", "{what}");
                        }
                        assert_eq!(app.count_events().await, before, "nothing was written: {what}");
                    }
                    None => assert!(
                        ![403, 404, 500].contains(&status),
                        "a caller who may act on the ticket reaches the rules: {what}"
                    ),
                }
                checked += 1;
            }
            // Every read of the ticket agrees with the matrix too: the view,
            // an as-of view and the history.
            let readable = reader.may_read(target.kind, linked(&app, &target.id).await);
            let expected = match (caller.may(Permission::TicketRead) || readable, readable) {
                (false, _) => 403,
                (true, true) => 200,
                (true, false) => 404,
            };
            for path in [
                format!("/v1/tickets/{}", target.id),
                format!("/v1/tickets/{}?version=1", target.id),
                format!("/v1/tickets/{}/history", target.id),
            ] {
                let read = app.get(&path, &token).await;
                let status = read.status().as_u16();
                let text = read.text().await.unwrap_or_default();
                assert_eq!(status, expected, "{} reads {path}: {text}", caller.name);
            }
        }
        // The doors that create a ticket: what the matrix allows, answered
        // with the view only to a caller who may read it.
        for (path, permission, kind, body) in [
            (
                "/v1/complaints",
                Permission::ComplaintFile,
                TicketKind::Complaint,
                sample_complaint(),
            ),
            (
                "/v1/faults",
                Permission::FaultReport,
                TicketKind::Fault,
                json!({"title": "t", "description": "d", "affected_service": "svc", "detected_by": "staff"}),
            ),
            (
                "/v1/changes",
                Permission::ChangeRequest,
                TicketKind::Change,
                json!({"title": "t", "description": "d", "affected_services": ["svc"],
                       "maintenance_type": "adaptive", "change_type": "normal"}),
            ),
        ] {
            let before = app.count_events().await;
            let r = app.post(path, &token, &body).await;
            let status = r.status().as_u16();
            let answer: Value = r.json().await.unwrap_or(Value::Null);
            if caller.may(permission) {
                assert_eq!(status, 201, "{} POST {path}: {answer}", caller.name);
                let view = answer.get("title").is_some();
                assert_eq!(
                    view,
                    reader.may_read(kind, false),
                    "{} POST {path}: {answer}",
                    caller.name
                );
            } else {
                assert_eq!(status, 403, "{} POST {path}: {answer}", caller.name);
                assert_eq!(app.count_events().await, before, "nothing was written");
            }
        }
    }
    assert_eq!(checked, CALLERS.len() * targets.len() * DOORS.len());
}

#[tokio::test]
async fn a_principal_that_may_write_but_not_read_acts_on_its_own_tickets_and_gets_receipts() {
    let app = spawn_app().await;
    let writer = token_with_scopes("crm-faults", &[Role::Integration], &["faults:write"]);
    let report = json!({"title": "t", "description": "d", "affected_service": "svc", "detected_by": "monitoring"});
    let r = app.post("/v1/faults", &writer, &report).await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("etag"));
    let receipt: Value = r.json().await.expect("json");
    let own = receipt["id"].as_str().expect("id").to_owned();
    assert_eq!(receipt["kind"], "fault");
    assert_eq!(receipt["version"], 1);
    assert!(receipt["number"].as_str().is_some_and(|n| n.starts_with("FLT-")));
    assert!(receipt.get("title").is_none(), "a receipt, not the view: {receipt}");

    // Its own fault: a note lands, answered with a receipt.
    let r = app
        .post(
            &format!("/v1/faults/{own}/notes"),
            &writer,
            &json!({"body": "from the CRM"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let receipt: Value = r.json().await.expect("json");
    assert_eq!(receipt["version"], 2);
    assert!(receipt.get("notes").is_none(), "{receipt}");
    // Reading is not its to do at all, its own tickets included.
    problem(app.get(&format!("/v1/tickets/{own}"), &writer).await, 403, "forbidden").await;

    // Anyone else's fault does not exist for it: not by id, not by number
    // (numbers are sequential), not behind If-Match.
    let other = app.created("/v1/faults", &engineer("eng-1"), &report).await;
    let (id, number) = (
        other["id"].as_str().expect("id"),
        other["number"].as_str().expect("number"),
    );
    for target in [id, number] {
        problem(
            app.post(
                &format!("/v1/faults/{target}/notes"),
                &writer,
                &json!({"body": "probe"}),
            )
            .await,
            404,
            "not-found",
        )
        .await;
        problem(
            app.post_if_match(
                &format!("/v1/faults/{target}/investigate"),
                &writer,
                "\"x\"",
                &json!({}),
            )
            .await,
            404,
            "not-found",
        )
        .await;
    }
    let seen = app.get(&format!("/v1/tickets/{id}"), &engineer("eng-1")).await;
    assert_eq!(
        seen.json::<Value>().await.expect("json")["version"],
        1,
        "nothing was written"
    );

    // A change drafted by a principal that may not read faults cannot link one.
    let drafter = token_with_scopes("crm-changes", &[Role::Integration], &["changes:write"]);
    let draft = json!({"title": "t", "description": "d", "affected_services": ["svc"],
                       "maintenance_type": "adaptive", "change_type": "normal", "linked_faults": [number]});
    let refused = problem(app.post("/v1/changes", &drafter, &draft).await, 404, "not-found").await;
    assert!(
        !refused.to_string().contains("is a"),
        "the kind is not named: {refused}"
    );
    let fault: Value = app
        .get(&format!("/v1/tickets/{id}"), &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(fault["links"], json!([]), "no link was written onto the fault");
    // Naming a complaint as a linked fault says nothing of its kind either.
    let complaint = app.created("/v1/complaints", &agent(), &sample_complaint()).await;
    let mut misnamed = draft.clone();
    misnamed["linked_faults"] = json!([complaint["number"]]);
    problem(app.post("/v1/changes", &drafter, &misnamed).await, 404, "not-found").await;
}

#[tokio::test]
async fn prefer_return_minimal_answers_with_a_receipt() {
    let app = spawn_app().await;
    let r = app
        .http
        .post(app.url("/v1/complaints"))
        .bearer_auth(agent())
        .header("Prefer", "handling=lenient, return=minimal")
        .json(&sample_complaint())
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["preference-applied"], "return=minimal");
    assert!(r.headers().contains_key("location") && r.headers().contains_key("etag"));
    let receipt: Value = r.json().await.expect("json");
    assert_eq!(
        receipt.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["id".into(), "kind".into(), "number".into(), "version".into()])
    );
}

#[tokio::test]
async fn a_replay_answers_under_the_callers_current_read_rules() {
    let app = spawn_app().await;
    let fault = app
        .created(
            "/v1/faults",
            &engineer("eng-1"),
            &json!({"title": "t", "description": "d", "affected_service": "svc", "detected_by": "staff"}),
        )
        .await;
    let id = fault["id"].as_str().expect("id");
    let note = |token: String| {
        app.http
            .post(app.url(&format!("/v1/faults/{id}/notes")))
            .bearer_auth(token)
            .header("Idempotency-Key", "note-1")
            .json(&json!({"body": "checked the router"}))
            .send()
    };
    // One person, first as an engineer, then with a token that may only
    // write faults: the key belongs to the person, so it replays.
    let first = note(token("dual", &[Role::Engineer])).await.expect("request");
    assert_eq!(first.status(), 200);
    assert!(first.json::<Value>().await.expect("json").get("notes").is_some());
    let before = app.count_events().await;
    let narrowed = token_with_scopes("dual", &[Role::Integration], &["faults:write"]);
    let replay = note(narrowed.clone()).await.expect("request");
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let body: Value = replay.json().await.expect("json");
    assert!(
        body.get("notes").is_none() && body.get("title").is_none(),
        "a receipt: {body}"
    );
    assert_eq!(body["id"], id);
    assert_eq!(app.count_events().await, before, "replayed, not written again");
    problem(app.get(&format!("/v1/tickets/{id}"), &narrowed).await, 403, "forbidden").await;
}

// ------------------------------------------------------------------ feed

async fn feed(app: &TestApp, token: &str, after: i64) -> Value {
    json_of(
        app.get(&format!("/v1/events?after={after}&limit=1000"), token).await,
        200,
    )
    .await
}

#[tokio::test]
async fn the_feed_shows_each_principal_only_what_it_may_read_and_moves_past_the_rest() {
    let app = spawn_app().await;
    let (complaint, _) = app.file_complaint().await;
    let fault = app
        .created(
            "/v1/faults",
            &engineer("eng-1"),
            &json!({"title": "t", "description": "d", "affected_service": "svc", "detected_by": "staff"}),
        )
        .await;
    app.created(
        "/v1/changes",
        &engineer("eng-1"),
        &json!({"title": "t", "description": "d", "affected_services": ["svc"],
               "maintenance_type": "adaptive", "change_type": "normal"}),
    )
    .await;
    let auditor = auditor();
    // The sequencer gives positions just after commit: wait for all four
    // (the complaint's filing and its clocks, the fault, the change).
    let mut whole = feed(&app, &auditor, 0).await;
    for _ in 0..100 {
        if whole["events"].as_array().map(Vec::len) == Some(4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        whole = feed(&app, &auditor, 0).await;
    }
    let head = whole["next_after"].as_i64().expect("next_after");
    assert_eq!(
        whole["events"].as_array().map(Vec::len),
        Some(4),
        "auditors see every event, gap-free"
    );

    let streams = |page: &Value| -> Vec<String> {
        page["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["stream_id"].as_str().expect("stream").to_owned())
            .collect()
    };
    let agent_page = feed(&app, &agent(), 0).await;
    let complaint_id = complaint["id"].as_str().expect("id");
    assert_eq!(streams(&agent_page), [complaint_id, complaint_id]);
    assert_eq!(event_types(&agent_page), ["complaint.filed", "sla.clocks_pinned"]);
    assert_eq!(agent_page["next_after"], head, "past the hidden positions");
    let engineer_page = feed(&app, &engineer("eng-1"), 0).await;
    assert_eq!(streams(&engineer_page).len(), 4);
    assert!(!engineer_page.to_string().contains("张伟"), "masked as in the views");
    let integration = token_with_scopes("crm", &[Role::Integration], &["events:read"]);
    let nothing = feed(&app, &integration, 0).await;
    assert_eq!(nothing["events"], json!([]), "events:read alone reads no ticket");
    assert_eq!(nothing["next_after"], head);
    assert!(!nothing.to_string().contains(fault["id"].as_str().expect("id")));
}

#[tokio::test]
async fn a_view_names_no_ticket_its_reader_may_not_read() {
    let app = spawn_app().await;
    let (complaint, _) = app.file_complaint().await;
    let id = complaint["id"].as_str().expect("id");
    let change = app
        .created(
            "/v1/changes",
            &engineer("eng-1"),
            &json!({"title": "t", "description": "d", "affected_services": ["svc"],
                   "maintenance_type": "adaptive", "change_type": "normal"}),
        )
        .await;
    let number = change["number"].as_str().expect("number");
    let r = app
        .post(
            &format!("/v1/tickets/{id}/links"),
            &engineer("eng-1"),
            &json!({"relation": "relates_to", "target": number}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // The engineer reads both, and sees the link.
    let seen: Value = app
        .get(&format!("/v1/tickets/{id}"), &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seen["links"][0]["other"]["number"], number);

    // An agent reads the complaint but not changes: neither its view, its
    // history nor the feed says which change it is linked to.
    let change_id = change["id"].as_str().expect("id");
    let view: Value = app
        .get(&format!("/v1/tickets/{id}"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["links"], json!([]), "{view}");
    let history: Value = app
        .get(&format!("/v1/tickets/{id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    let linked = history["events"]
        .as_array()
        .expect("events")
        .last()
        .expect("the link")
        .clone();
    assert_eq!(linked["type"], "complaint.linked");
    assert_eq!(linked["payload"]["other"], json!({"kind": "change", "hidden": true}));
    let feed = feed(&app, &agent(), 0).await;
    for text in [view.to_string(), history.to_string(), feed.to_string()] {
        assert!(!text.contains(number) && !text.contains(change_id), "{text}");
    }
}

/// A caller who may act on a ticket but not read it (a write-only
/// integration on a complaint it filed) learns nothing of the ticket's
/// current version from a refusal: no ETag comes with it.
#[tokio::test]
async fn a_refusal_names_the_version_only_to_callers_who_may_read_the_ticket() {
    let app = spawn_app().await;
    let crm = token_with_scopes("crm", &[Role::Integration], &["complaints:write"]);
    let filed = app.post("/v1/complaints", &crm, &sample_complaint()).await;
    assert_eq!(filed.status(), 201);
    let first = etag_of(&filed);
    let id = filed.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let acknowledged = app
        .post_if_match(&format!("/v1/complaints/{id}/acknowledge"), &crm, &first, &json!({}))
        .await;
    assert_eq!(acknowledged.status(), 200);

    let stale = app
        .post_if_match(&format!("/v1/complaints/{id}/acknowledge"), &crm, &first, &json!({}))
        .await;
    assert_eq!(stale.status(), 412);
    assert!(stale.headers().get("etag").is_none(), "{:?}", stale.headers());
    assert!(stale.headers().get("ticket-version").is_none());

    // The agent, who may read it, gets the current tag with the refusal.
    let (_, current) = app.view(&id, &agent()).await;
    let refused = app
        .post_if_match(
            &format!("/v1/complaints/{id}/acknowledge"),
            &agent(),
            &current,
            &json!({}),
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert_eq!(etag_of(&refused), current);
}
