//! Service levels as a desk lives them: clocks pinned on each ticket's own
//! stream, on the `CN` and `24x7` calendars, with a manual clock (nothing
//! here sleeps).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use opsledger::app::clock::ManualClock;
use opsledger::domain::business_calendar::shipped::shipped_calendars;
use opsledger::projections::rebuild;
use opsledger::startup::config::SlaSwitch;
use serde_json::{Value, json};

use crate::helpers::postgres::TestDatabase;
use crate::helpers::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

/// An instant as views show it.
fn shown(s: &str) -> Value {
    json!(at(s).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn actor_id(subject: &str) -> String {
    format!("{ISSUER}|{subject}")
}

/// A desk with service-level clocks on, whose commands happen when `clock` says.
async fn desk_at(start: &str) -> (TestApp, Arc<ManualClock>) {
    let clock = ManualClock::starting_at(at(start));
    let db = TestDatabase::create().await;
    let (base, handle) = start_server_on(&db, |args| args.sla = SlaSwitch::On, clock.clone()).await;
    let app = TestApp {
        base,
        http: reqwest::Client::new(),
        db,
        handle,
    };
    (app, clock)
}

async fn file(app: &TestApp, priority: &str) -> (String, Value, String) {
    let mut body = sample_complaint();
    body["priority"] = json!(priority);
    let response = app.post("/v1/complaints", &agent(), &body).await;
    assert_eq!(response.status(), 201);
    let etag = etag_of(&response);
    let view: Value = response.json().await.expect("json");
    (view["id"].as_str().expect("id").to_owned(), view, etag)
}

async fn report_fault(app: &TestApp) -> (String, String) {
    let report = json!({"title": "Core router down", "description": "Alarm from monitoring",
                        "affected_service": "backbone", "detected_by": "monitoring"});
    let (status, fault, etag) = app.command("/v1/faults", &engineer("eng-1"), "", report).await;
    assert_eq!(status, 201, "{fault}");
    assert_eq!(
        fault["sla"],
        Value::Null,
        "a fault has no severity, so no clocks, when reported"
    );
    (fault["id"].as_str().expect("id").to_owned(), etag)
}

async fn ids_of(app: &TestApp, query: &str) -> Vec<String> {
    let page = json_of(app.get(&format!("/v1/tickets?{query}"), &agent()).await, 200).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Rebuilds every view from the log; asserts each equals the live one
/// (columns of the queue included).
async fn rebuild_finds_every_view_as_it_was(app: &TestApp) {
    let mut client = app.db.connect_admin().await;
    let reading = rebuild::Reading::Dealt {
        reader: Box::new(app.db.connect_admin().await),
        folds: 1,
        read_ahead: rebuild::READ_AHEAD,
    };
    let report = rebuild::rebuild(&mut client, reading, &|_, _| {})
        .await
        .expect("rebuild");
    assert_eq!((report.replaced, report.added, report.removed), (0, 0, 0), "{report:?}");
}

async fn history_types(app: &TestApp, id: &str) -> Vec<String> {
    event_types(&json_of(app.get(&format!("/v1/tickets/{id}/history"), &auditor()).await, 200).await)
}

#[tokio::test]
async fn a_p1_complaint_filed_the_friday_before_spring_festival_skips_the_holiday_and_counts_the_make_up_saturday() {
    // Friday 13 February 2026, 17:50 in Beijing. Saturday 14 is a make-up
    // workday; 15 to 23 February are the Spring Festival holiday.
    let (app, _clock) = desk_at("2026-02-13T17:50:00+08:00").await;
    let (id, view, _) = file(&app, "P1").await;

    let sla = &view["sla"];
    assert_eq!(sla["key"], "complaint/P1");
    let response = &sla["first_response"];
    assert_eq!(response["minutes"], 30);
    assert_eq!(
        response["due_at"],
        shown("2026-02-14T09:20:00+08:00"),
        "10 minutes on Friday, 20 on the make-up Saturday"
    );
    assert_eq!(response["warn_at"], shown("2026-02-14T09:14:00+08:00"), "at 80 %");
    assert_eq!(
        (
            &response["paused"],
            &response["cycle"],
            &response["warned_at"],
            &response["breached_at"]
        ),
        (&json!(false), &json!(1), &Value::Null, &Value::Null)
    );
    assert_eq!(
        response["calendar"],
        json!({"code": "CN", "version": 0}),
        "the shipped calendar"
    );
    assert_eq!(response["policy_version"], 0, "the shipped policy");
    assert_eq!(
        sla["resolution"]["due_at"],
        shown("2026-02-24T17:50:00+08:00"),
        "two business days: Friday's 10 minutes, Saturday, then Tuesday 24 after the holiday"
    );
    assert!(view.get("time_remaining").is_none() && response.get("remaining").is_none());
    assert_eq!(view["version"], 2, "the clocks are an event of the ticket's own stream");
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), &auditor()).await, 200).await;
    assert_eq!(event_types(&history), ["complaint.filed", "sla.clocks_pinned"]);
    let (filed, pinned) = (&history["events"][0], &history["events"][1]);
    assert_eq!(
        (pinned["actor"].as_str(), &pinned["request_id"]),
        (Some("opsledger|system"), &filed["request_id"]),
        "the system pins the clocks, in the filing's request"
    );

    // The admin loads CN and then declares Tuesday 24 a holiday as well.
    let cn = shipped_calendars()
        .expect("shipped")
        .into_iter()
        .find(|c| c.code == "CN")
        .expect("CN");
    let defined = app
        .created(
            "/v1/business-calendars",
            &admin(),
            &serde_json::to_value(&cn).expect("json"),
        )
        .await;
    let mut definition = cn.definition.clone();
    definition
        .holidays
        .push(serde_json::from_value(json!({"date": "2026-02-24", "name": "Extra day off"})).expect("holiday"));
    let amended = app
        .http
        .put(app.url(&format!(
            "/v1/business-calendars/{}",
            defined["id"].as_str().expect("id")
        )))
        .bearer_auth(admin())
        .json(&definition)
        .send()
        .await
        .expect("request");
    assert_eq!(json_of(amended, 200).await["version"], 2);

    // A complaint filed now counts on version 2 ...
    let (_, later, _) = file(&app, "P1").await;
    assert_eq!(
        later["sla"]["resolution"]["calendar"],
        json!({"code": "CN", "version": 2})
    );
    assert_eq!(later["sla"]["resolution"]["due_at"], shown("2026-02-25T17:50:00+08:00"));
    // ... while the first keeps what was pinned, live and after a rebuild.
    let (live, _) = app.view(&id, &agent()).await;
    assert_eq!(live["sla"], view["sla"]);
    let mut client = app.db.connect_admin().await;
    let reading = rebuild::Reading::Dealt {
        reader: Box::new(app.db.connect_admin().await),
        folds: 1,
        read_ahead: rebuild::READ_AHEAD,
    };
    let report = rebuild::rebuild(&mut client, reading, &|_, _| {})
        .await
        .expect("rebuild");
    assert_eq!((report.replaced, report.added, report.removed), (0, 0, 0), "{report:?}");
    let (rebuilt, _) = app.view(&id, &agent()).await;
    assert_eq!(
        rebuilt["sla"]["resolution"]["due_at"],
        shown("2026-02-24T17:50:00+08:00")
    );
    let as_of: Value = json_of(app.get(&format!("/v1/tickets/{id}?version=2"), &agent()).await, 200).await;
    assert_eq!(as_of["sla"], view["sla"], "the as-of read folds the same pinned values");
}

#[tokio::test]
async fn a_severity_1_fault_triaged_ten_minutes_after_its_report_is_due_five_minutes_after_the_triage() {
    let (app, clock) = desk_at("2026-03-02T03:00:00Z").await;
    let (id, etag) = report_fault(&app).await;
    clock.advance(Duration::minutes(10));
    let (fault, etag) = app
        .ok(
            &format!("/v1/faults/{id}/triage"),
            &manager("mgr-1"),
            &etag,
            json!({"severity": 1, "evaluator": actor_id("eng-1"), "technician": "tech-7"}),
        )
        .await;
    let response = &fault["sla"]["first_response"];
    assert_eq!(response["runs_from"], shown("2026-03-02T03:00:00Z"), "from the report");
    assert_eq!(
        response["due_at"],
        shown("2026-03-02T03:15:00Z"),
        "five minutes after the triage"
    );
    assert_eq!(response["calendar"]["code"], "24x7");
    assert_eq!(fault["sla"]["resolution"]["due_at"], shown("2026-03-02T07:00:00Z"));

    // The investigation starts three minutes later: the response is met.
    clock.advance(Duration::minutes(3));
    let (fault, etag) = app
        .ok(
            &format!("/v1/faults/{id}/investigate"),
            &engineer("tech-7"),
            &etag,
            json!({}),
        )
        .await;
    let response = &fault["sla"]["first_response"];
    assert_eq!(response["stopped_at"], shown("2026-03-02T03:13:00Z"));
    assert_eq!(response["met"], true);
    assert_eq!(fault["sla"]["resolution"]["stopped_at"], Value::Null, "still running");

    // Re-triaged as severity 2 at 04:00: the resolution runs anew from the
    // change, on severity 2's eight hours; the response stays met.
    clock.advance(Duration::minutes(47));
    let (fault, _) = app
        .ok(
            &format!("/v1/faults/{id}/triage"),
            &manager("mgr-1"),
            &etag,
            json!({"severity": 2, "evaluator": actor_id("eng-1")}),
        )
        .await;
    let sla = &fault["sla"];
    assert_eq!(sla["key"], "fault/2");
    assert_eq!(sla["resolution"]["runs_from"], shown("2026-03-02T04:00:00Z"));
    assert_eq!(sla["resolution"]["due_at"], shown("2026-03-02T12:00:00Z"));
    assert_eq!(sla["first_response"]["met"], true);
    assert_eq!(
        sla["first_response"]["due_at"],
        shown("2026-03-02T03:15:00Z"),
        "not pinned again"
    );
}

#[tokio::test]
async fn waiting_on_the_customer_pauses_the_clocks_and_the_resume_moves_due_at_by_the_business_time_waited() {
    // Monday 2 March 2026, 09:00 in Beijing.
    let (app, clock) = desk_at("2026-03-02T09:00:00+08:00").await;
    let (id, _, etag) = file(&app, "P2").await;
    clock.advance(Duration::minutes(30));
    let (_, _, etag) = app.transition(&id, "acknowledge", &etag, json!({})).await;
    clock.advance(Duration::minutes(30));
    let (status, view, etag) = app
        .transition(
            &id,
            "wait-on-customer",
            &etag,
            json!({"reason": "等待客户确认上门时间"}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let resolution = &view["sla"]["resolution"];
    assert_eq!(resolution["paused"], true);
    assert_eq!(
        resolution["due_at"],
        shown("2026-03-04T18:00:00+08:00"),
        "as pinned, until the resume"
    );
    assert_eq!(view["sla"]["first_response"]["met"], true);
    assert_eq!(ids_of(&app, "sla_state=paused").await, vec![id.clone()]);
    assert!(ids_of(&app, "sla_state=on_track").await.is_empty());

    // The customer answers at 10:00 the next day: eight business hours later.
    clock.set(at("2026-03-03T10:00:00+08:00"));
    let (status, view, _) = app.transition(&id, "resume", &etag, json!({})).await;
    assert_eq!(status, 200, "{view}");
    let resolution = &view["sla"]["resolution"];
    assert_eq!(resolution["paused"], false);
    assert_eq!(resolution["due_at"], shown("2026-03-05T18:00:00+08:00"));
    assert_eq!(ids_of(&app, "sla_state=on_track").await, vec![id.clone()]);
    rebuild_finds_every_view_as_it_was(&app).await;
    let types = history_types(&app, &id).await;
    assert_eq!(
        types[types.len() - 4..],
        [
            "complaint.waiting_on_customer",
            "sla.clocks_paused",
            "complaint.resumed",
            "sla.clocks_resumed"
        ]
    );
}

#[tokio::test]
async fn resolving_stops_the_clock_and_a_reopen_starts_resolution_cycle_two() {
    let (app, clock) = desk_at("2026-03-02T09:00:00+08:00").await;
    let (id, _, etag) = file(&app, "P3").await;
    let (_, _, etag) = app.transition(&id, "acknowledge", &etag, json!({})).await;
    clock.advance(Duration::hours(2));
    let (burning, _, _) = file(&app, "P3").await;
    let (_, view, etag) = app
        .transition(&id, "resolve", &etag, json!({"resolution": "更换光猫"}))
        .await;
    assert_eq!(view["sla"]["resolution"]["met"], true);
    assert_eq!(
        ids_of(&app, "sort=due_at").await,
        [burning.clone(), id.clone()],
        "a ticket with nothing burning is listed after every one that burns"
    );
    // Page by page, the cursor crosses from due times to none.
    let first = json_of(app.get("/v1/tickets?sort=due_at&limit=1", &agent()).await, 200).await;
    assert_eq!(first["items"][0]["id"], burning.as_str());
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = json_of(
        app.get(&format!("/v1/tickets?sort=due_at&limit=1&cursor={cursor}"), &agent())
            .await,
        200,
    )
    .await;
    assert_eq!(second["items"][0]["id"], id.as_str());
    assert_eq!(
        ids_of(&app, "sla_state=on_track").await,
        [burning],
        "a resolved ticket burns nothing"
    );

    clock.set(at("2026-03-04T09:00:00+08:00"));
    let (status, view, _) = app
        .transition(&id, "reopen", &etag, json!({"reason": "又断线了"}))
        .await;
    assert_eq!(status, 200, "{view}");
    let resolution = &view["sla"]["resolution"];
    assert_eq!(resolution["cycle"], 2);
    assert_eq!(resolution["runs_from"], shown("2026-03-04T09:00:00+08:00"));
    assert_eq!(resolution["stopped_at"], Value::Null);
    assert_eq!(
        resolution["due_at"],
        shown("2026-03-10T18:00:00+08:00"),
        "five business days"
    );
    assert_eq!(
        view["sla"]["first_response"]["cycle"], 1,
        "the first response was given once"
    );
}

#[tokio::test]
async fn a_priority_raised_mid_flight_runs_from_the_change_and_does_not_breach_at_once() {
    let (app, clock) = desk_at("2026-03-02T09:00:00+08:00").await;
    let (id, _, etag) = file(&app, "P4").await;
    clock.set(at("2026-03-05T10:00:00+08:00"));
    let (view, _) = app
        .ok(
            &format!("/v1/complaints/{id}/priority"),
            &manager("mgr-1"),
            &etag,
            json!({"priority": "P1", "reason": "客户经营诊所，依赖该线路"}),
        )
        .await;
    let response = &view["sla"]["first_response"];
    assert_eq!(view["sla"]["key"], "complaint/P1");
    assert_eq!(response["runs_from"], shown("2026-03-05T10:00:00+08:00"));
    assert_eq!(response["due_at"], shown("2026-03-05T10:30:00+08:00"));
    assert_eq!(ids_of(&app, "sla_state=on_track").await, vec![id.clone()]);
    assert!(ids_of(&app, "sla_state=breached").await.is_empty());
}

#[tokio::test]
async fn the_queue_filters_by_sla_state_and_lists_what_burns_first_page_by_page() {
    let (app, clock) = desk_at("2026-03-02T09:00:00+08:00").await;
    let (p3, _, _) = file(&app, "P3").await;
    let (p1, _, _) = file(&app, "P1").await;
    let (p2, _, _) = file(&app, "P2").await;
    let (p1b, _, _) = file(&app, "P1").await;
    let (fault, _) = report_fault(&app).await;

    // 25 minutes in, both P1s are past 80 % of their 30 minutes.
    clock.advance(Duration::minutes(25));
    let mut at_risk = ids_of(&app, "sla_state=at_risk").await;
    at_risk.sort();
    let mut p1s = vec![p1.clone(), p1b.clone()];
    p1s.sort();
    assert_eq!(at_risk, p1s);
    let mut on_track = ids_of(&app, "sla_state=on_track").await;
    on_track.sort();
    let mut others = vec![p2.clone(), p3.clone()];
    others.sort();
    assert_eq!(on_track, others);
    clock.advance(Duration::minutes(6));
    assert_eq!(ids_of(&app, "sla_state=breached").await.len(), 2);

    // What burns first, two at a time; the untriaged fault has no clock.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("/v1/tickets?sort=due_at&limit=2&cursor={c}"),
            None => "/v1/tickets?sort=due_at&limit=2".to_owned(),
        };
        let page = json_of(app.get(&query, &agent()).await, 200).await;
        for item in page["items"].as_array().expect("items") {
            seen.push(item["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut first_two = seen[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, p1s, "the P1s burn first (equal due times, then by id)");
    assert_eq!(seen[2..], [p2.clone(), p3.clone()]);
    // The fault is visible only to roles that read faults; agents do not.
    assert!(!seen.contains(&fault));
    assert_eq!(seen.len(), 4);

    // A cursor of one order is not one of the other.
    let page = json_of(app.get("/v1/tickets?limit=1", &agent()).await, 200).await;
    let newest = page["next_cursor"].as_str().expect("cursor");
    problem(
        app.get(&format!("/v1/tickets?sort=due_at&cursor={newest}"), &agent())
            .await,
        400,
        "invalid-query",
    )
    .await;
    problem(
        app.get("/v1/tickets?sla_state=late", &agent()).await,
        400,
        "invalid-query",
    )
    .await;
}

#[tokio::test]
async fn the_policy_is_read_by_the_desk_and_amended_by_admins_under_a_new_version() {
    let (app, _clock) = desk_at("2026-03-02T09:00:00+08:00").await;
    let policy = json_of(app.get("/v1/sla-policy", &agent()).await, 200).await;
    assert_eq!(policy["version"], 0);
    assert_eq!(policy["table"]["fault"]["1"]["first_response_minutes"], 15);
    assert_eq!(policy["table"]["complaint"]["P1"]["calendar"], "CN");

    let put = |token: String, body: Value| put_policy(&app, &app.base, token, body);
    let body = p1_answered_in_ten_minutes(&policy);
    problem(put(agent(), body.clone()).await, 403, "forbidden").await;
    let mut unknown = body.clone();
    unknown["table"]["complaint"]["P2"]["calendar"] = json!("SH-office");
    let refused = problem(put(admin(), unknown).await, 422, "validation-failed").await;
    assert_eq!(refused["errors"][0]["pointer"], "/table/complaint/P2/calendar");
    let amended = json_of(put(admin(), body.clone()).await, 200).await;
    assert_eq!(amended["version"], 1);
    problem(put(admin(), body).await, 409, "rule-violated").await;

    let (_, view, _) = file(&app, "P1").await;
    assert_timed_by_the_ten_minute_amendment(&view);
}

/// The policy amended so that P1 complaints are answered within ten
/// minutes, as an admin sends it.
fn p1_answered_in_ten_minutes(policy: &Value) -> Value {
    let mut table = policy["table"].clone();
    table["complaint"]["P1"]["first_response_minutes"] = json!(10);
    json!({"table": table, "reason": "新合同：P1 十分钟内响应"})
}

async fn put_policy(app: &TestApp, base: &str, token: String, body: Value) -> reqwest::Response {
    app.http
        .put(format!("{base}/v1/sla-policy"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// A P1 complaint filed at 09:00 on Monday 2 March under policy version 1.
fn assert_timed_by_the_ten_minute_amendment(view: &Value) {
    let response = &view["sla"]["first_response"];
    assert_eq!(
        (&response["minutes"], &response["policy_version"]),
        (&json!(10), &json!(1))
    );
    assert_eq!(response["due_at"], shown("2026-03-02T09:10:00+08:00"));
}

#[tokio::test]
async fn a_policy_amended_on_another_instance_governs_the_next_filing_here() {
    let (app, clock) = desk_at("2026-03-02T09:00:00+08:00").await;
    let (other, other_handle) = start_server_on(&app.db, |args| args.sla = SlaSwitch::On, clock).await;
    // This instance files first, so it holds the shipped policy in memory.
    let (_, before, _) = file(&app, "P1").await;
    assert_eq!(before["sla"]["first_response"]["policy_version"], 0);

    let policy = json_of(app.get("/v1/sla-policy", &agent()).await, 200).await;
    let amended = put_policy(&app, &other, admin(), p1_answered_in_ten_minutes(&policy)).await;
    assert_eq!(json_of(amended, 200).await["version"], 1);

    // The next filing here is timed by the amendment, not by what this
    // instance had read before it.
    let (id, after, _) = file(&app, "P1").await;
    assert_timed_by_the_ten_minute_amendment(&after);
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), &auditor()).await, 200).await;
    let pinned = &history["events"][1];
    assert_eq!(
        (&pinned["type"], &pinned["payload"]["policy_version"]),
        (&json!("sla.clocks_pinned"), &json!(1))
    );
    other_handle.stop(true).await;
}

#[tokio::test]
async fn open_tickets_from_before_clocks_get_them_once_by_the_system() {
    // A server without clocks files two complaints and resolves one.
    let app = spawn_app_with(|args| args.sla = SlaSwitch::Off).await;
    let (complaint, _) = app.file_complaint().await;
    let id = complaint["id"].as_str().expect("id").to_owned();
    assert_eq!(complaint["sla"], Value::Null);
    let (closed, _, etag) = file(&app, "P4").await;
    let (_, _, etag) = app.transition(&closed, "acknowledge", &etag, json!({})).await;
    let (status, _, _) = app
        .transition(&closed, "resolve", &etag, json!({"resolution": "done"}))
        .await;
    assert_eq!(status, 200);
    let (fault, etag) = report_fault(&app).await;
    let (triaged, _) = app
        .ok(
            &format!("/v1/faults/{fault}/triage"),
            &manager("mgr-1"),
            &etag,
            json!({"severity": 3, "evaluator": actor_id("eng-1")}),
        )
        .await;
    let (untriaged, _) = report_fault(&app).await;
    let before = app.count_events().await;

    // The upgrade runs as a server with clocks starts.
    let clock = ManualClock::starting_at(Utc::now());
    let (_base, handle) = start_server_on(&app.db, |args| args.sla = SlaSwitch::On, clock.clone()).await;
    let (view, _) = app.view(&id, &agent()).await;
    let resolution = &view["sla"]["resolution"];
    assert_eq!(
        resolution["runs_from"], complaint["created_at"],
        "from when it was filed"
    );
    assert_eq!(view["sla"]["key"], "complaint/P2");
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), &auditor()).await, 200).await;
    let pinned = history["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["type"] == "sla.clocks_pinned"))
        .cloned()
        .expect("a pin");
    assert_eq!(pinned["payload"]["cause"], "upgraded");
    assert_eq!(
        pinned["actor"], "opsledger|system",
        "appended by the system actor: {pinned}"
    );
    let (resolved, _) = app.view(&closed, &agent()).await;
    assert_eq!(resolved["sla"], Value::Null, "a resolved ticket needs no clocks");
    let (fault_view, _) = app.view(&fault, &engineer("eng-1")).await;
    assert_eq!(fault_view["sla"]["key"], "fault/3");
    assert_eq!(fault_view["sla"]["resolution"]["runs_from"], triaged["created_at"]);
    let (untriaged_view, _) = app.view(&untriaged, &engineer("eng-1")).await;
    assert_eq!(untriaged_view["sla"], Value::Null, "no severity, nothing to pin");
    assert_eq!(app.count_events().await, before + 2);

    // Another instance starting finds nothing to do.
    let (_base, again) = start_server_on(&app.db, |args| args.sla = SlaSwitch::On, clock).await;
    assert_eq!(app.count_events().await, before + 2);
    again.stop(true).await;
    handle.stop(true).await;
}
