//! The complaint API end to end: real server, real HTTP, real PostgreSQL.

use crate::helpers::*;
use opsledger::domain::Role;
use serde_json::{Value, json};

#[tokio::test]
async fn a_complaint_goes_from_filing_to_closed_with_the_customers_rating() {
    let app = spawn_app().await;

    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id").to_owned();
    let number = filed["number"].as_str().expect("number").to_owned();
    assert!(
        number.starts_with("CMP-") && number.len() == "CMP-2026-000001".len(),
        "{number}"
    );
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["kind"], "complaint");
    assert_eq!(filed["title"], "宽带反复断线", "Chinese text round-trips unchanged");

    // The number works wherever the id does.
    let by_number = app.get(&format!("/v1/tickets/{number}"), &agent()).await;
    assert_eq!(by_number.status(), 200);
    assert_eq!(by_number.json::<Value>().await.expect("json")["id"], id.as_str());

    let (s, v, etag) = app
        .transition(&id, "acknowledge", &etag, json!({"message": "您好，我们已收到。"}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("acknowledged")));
    let (s, v, etag) = app
        .transition(&id, "assign", &etag, json!({"team": "broadband", "assignee": "li.na"}))
        .await;
    assert_eq!(
        (s, v["status"].as_str(), v["team"].as_str()),
        (200, Some("in_progress"), Some("broadband"))
    );

    // A note commutes: no If-Match needed.
    let note = app
        .post(
            &format!("/v1/complaints/{id}/notes"),
            &agent(),
            &json!({"body": "已安排工程师上门", "visibility": "complainant"}),
        )
        .await;
    assert_eq!(note.status(), 200);
    let etag_after_note = etag_of(&note);
    assert_ne!(etag_after_note, etag);

    let (s, v, etag) = app
        .transition(
            &id,
            "wait-on-customer",
            &etag_after_note,
            json!({"reason": "等待客户确认上门时间"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("waiting_on_customer")));
    let (s, _, etag) = app.transition(&id, "resume", &etag, json!({})).await;
    assert_eq!(s, 200);
    let (s, v, etag) = app
        .transition(
            &id,
            "resolve",
            &etag,
            json!({"resolution": "更换光猫", "root_cause": "光猫老化"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("resolved")));
    let (s, v, etag) = app
        .transition(&id, "satisfaction", &etag, json!({"rating": 5, "comment": "很满意"}))
        .await;
    assert_eq!((s, v["satisfaction"]["rating"].as_u64()), (200, Some(5)));
    let (s, v, etag) = app.transition(&id, "close", &etag, json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("closed")));

    // Closed is final: the refusal names the state and the command.
    let (s, problem, _) = app.transition(&id, "reopen", &etag, json!({"reason": "again"})).await;
    assert_eq!(s, 409);
    assert_eq!(problem["type"], "urn:opsledger:problem:invalid-transition");
    assert_eq!(
        (problem["state"].as_str(), problem["command"].as_str()),
        (Some("closed"), Some("reopen"))
    );

    // The history is the audit view: every event, in order, with who did it.
    let history: Value = app
        .get(&format!("/v1/tickets/{id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        event_types(&history),
        [
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.acknowledged",
            "sla.clock_stopped",
            "complaint.assigned",
            "complaint.note_added",
            "complaint.waiting_on_customer",
            "sla.clocks_paused",
            "complaint.resumed",
            "sla.clocks_resumed",
            "complaint.resolved",
            "sla.clock_stopped",
            "complaint.satisfaction_recorded",
            "complaint.closed"
        ]
    );
    let first = &history["events"][0];
    assert_eq!(first["actor"], format!("{ISSUER}|agent-1"));
    assert_eq!(first["version"], 1);
    let clocks = &history["events"][1];
    assert_eq!(clocks["actor"], "opsledger|system", "the clocks are the system's");
    assert_eq!(clocks["version"], 2);
    assert_eq!(first["payload"]["complainant"]["name"], "张伟");
    assert_eq!(first["hash"].as_str().map(str::len), Some(64));
}

#[tokio::test]
async fn every_client_mistake_is_a_problem_with_the_right_status() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");

    // 401: no token, a forged token; with WWW-Authenticate.
    let r = app.http.get(app.url("/v1/tickets")).send().await.expect("request");
    assert!(r.headers().get("www-authenticate").is_some());
    problem(r, 401, "unauthenticated").await;
    let forged = opsledger::http::auth::mint_dev_token(
        b"another-secret-another-secret-xxxx",
        &opsledger::http::auth::DevToken {
            issuer: ISSUER,
            audience: AUDIENCE,
            subject: "x",
            name: None,
            roles: &[Role::Admin],
            scopes: &[],
            ttl_secs: 60,
        },
    )
    .expect("token");
    problem(app.get("/v1/tickets", &forged).await, 401, "unauthenticated").await;

    // 403: an engineer may not file a complaint; an auditor may not write.
    let engineer = engineer("eng-1");
    problem(
        app.post("/v1/complaints", &engineer, &sample_complaint()).await,
        403,
        "forbidden",
    )
    .await;
    let auditor = auditor();
    let r = app
        .post_if_match(&format!("/v1/complaints/{id}/acknowledge"), &auditor, &etag, &json!({}))
        .await;
    problem(r, 403, "forbidden").await;

    // 404: unknown ticket, unknown route; 405: wrong method.
    let unknown = uuid::Uuid::now_v7();
    problem(
        app.get(&format!("/v1/tickets/{unknown}"), &agent()).await,
        404,
        "not-found",
    )
    .await;
    problem(app.get("/v1/tickets/CMP-1999-999999", &agent()).await, 404, "not-found").await;
    problem(app.get("/v1/no-such-thing", &agent()).await, 404, "not-found").await;
    let r = app
        .http
        .delete(app.url("/v1/complaints"))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request");
    problem(r, 405, "method-not-allowed").await;

    // 409: resolving before acknowledging.
    let r = app
        .post_if_match(
            &format!("/v1/complaints/{id}/resolve"),
            &agent(),
            &etag,
            &json!({"resolution": "x"}),
        )
        .await;
    let body = problem(r, 409, "invalid-transition").await;
    assert_eq!(body["state"], "filed");

    // 412: a stale If-Match; 428: none at all.
    let (status, _, _) = app.transition(id, "acknowledge", &etag, json!({})).await;
    assert_eq!(status, 200);
    let r = app
        .post_if_match(
            &format!("/v1/complaints/{id}/assign"),
            &agent(),
            &etag,
            &json!({"team": "t"}),
        )
        .await;
    problem(r, 412, "precondition-failed").await;
    let r = app
        .post(&format!("/v1/complaints/{id}/assign"), &agent(), &json!({"team": "t"}))
        .await;
    problem(r, 428, "precondition-required").await;

    // 413: a body over the limit (64 KiB).
    let mut huge = sample_complaint();
    huge["description"] = json!("x".repeat(100 * 1024));
    problem(
        app.post("/v1/complaints", &agent(), &huge).await,
        413,
        "payload-too-large",
    )
    .await;

    // 415: not JSON.
    let r = app
        .http
        .post(app.url("/v1/complaints"))
        .bearer_auth(agent())
        .header("content-type", "text/plain")
        .body(sample_complaint().to_string())
        .send()
        .await
        .expect("request");
    problem(r, 415, "unsupported-media-type").await;

    // 400: malformed JSON.
    let r = app
        .http
        .post(app.url("/v1/complaints"))
        .bearer_auth(agent())
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .expect("request");
    problem(r, 400, "malformed-body").await;

    // 422: every bad field at once.
    let mut bad = sample_complaint();
    bad["title"] = json!("");
    bad["complainant"]["email"] = json!("not-an-email");
    bad["description"] = json!("说".repeat(10_001));
    let body = problem(
        app.post("/v1/complaints", &agent(), &bad).await,
        422,
        "validation-failed",
    )
    .await;
    let pointers: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    for expected in ["/title", "/description", "/complainant/email"] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }

    // 422: unknown fields are refused, with a pointer.
    let mut extra = sample_complaint();
    extra["severity"] = json!(1);
    problem(
        app.post("/v1/complaints", &agent(), &extra).await,
        422,
        "validation-failed",
    )
    .await;

    // 400: bad query parameters, all listed.
    let r = app.get("/v1/tickets?limit=500&priority=P9", &agent()).await;
    let body = problem(r, 400, "invalid-query").await;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn refused_requests_write_nothing() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");
    let events_before = app.count_events().await;

    let mut bad = sample_complaint();
    bad["priority"] = json!("P9");
    assert_eq!(app.post("/v1/complaints", &agent(), &bad).await.status(), 422);
    let r = app
        .post_if_match(&format!("/v1/complaints/{id}/close"), &agent(), &etag, &json!({}))
        .await;
    assert_eq!(r.status(), 409);
    let r = app
        .post_if_match(
            &format!("/v1/complaints/{id}/acknowledge"),
            &agent(),
            "\"stale\"",
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 412);

    assert_eq!(app.count_events().await, events_before);
    let view: Value = app
        .get(&format!("/v1/tickets/{id}"), &agent())
        .await
        .json()
        .await
        .expect("json");
    // Filed, and its clocks pinned: nothing since.
    assert_eq!(view["version"], 2);
}

#[tokio::test]
async fn of_two_writers_with_the_same_if_match_exactly_one_wins() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");

    let ack = app.transition(id, "acknowledge", &etag, json!({"message": "first"}));
    let assign = app.transition(id, "assign", &etag, json!({"team": "second"}));
    let ((s1, _, _), (s2, p2, _)) = tokio::join!(ack, assign);
    let mut statuses = [s1, s2];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "one wins, one is told the ticket changed ({p2})");

    let history: Value = app
        .get(&format!("/v1/tickets/{id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    // The winner's events, with the clocks they move, and nothing of the loser's.
    let expected: &[&str] = if s1 == 200 {
        &[
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.acknowledged",
            "sla.clock_stopped",
        ]
    } else {
        &["complaint.filed", "sla.clocks_pinned", "complaint.assigned"]
    };
    assert_eq!(event_types(&history), expected, "nothing half-written");
}

#[tokio::test]
async fn concurrent_notes_all_land_without_if_match() {
    let app = spawn_app().await;
    let (filed, _) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id").to_owned();
    let notes = (0..12).map(|i| {
        let app = &app;
        let id = id.clone();
        async move {
            app.post(
                &format!("/v1/complaints/{id}/notes"),
                &agent(),
                &json!({"body": format!("note {i}"), "visibility": "internal"}),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(notes).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let view: Value = app
        .get(&format!("/v1/tickets/{id}"), &agent())
        .await
        .json()
        .await
        .expect("json");
    // Filed, its clocks pinned, and twelve notes (which move no clock).
    assert_eq!(view["version"], 14);
    assert_eq!(view["notes"].as_array().map(Vec::len), Some(12));

    // The history in pages of 5: versions 1-5, 6-10, 11-14, and the whole
    // history in one page when no limit is given.
    let mut versions = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let page: Value = app
            .get(
                &format!("/v1/tickets/{id}/history?limit=5&after_version={after}"),
                &agent(),
            )
            .await
            .json()
            .await
            .expect("json");
        pages += 1;
        let events = page["events"].as_array().expect("events");
        versions.extend(events.iter().filter_map(|e| e["version"].as_u64()));
        match page["next_after_version"].as_u64() {
            Some(next) => {
                assert_eq!(Some(next), events.last().and_then(|e| e["version"].as_u64()));
                after = next;
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(versions, (1..=14).collect::<Vec<u64>>());
    let whole: Value = app
        .get(&format!("/v1/tickets/{id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(whole["events"].as_array().map(Vec::len), Some(14));
    let mut expected = vec!["complaint.filed", "sla.clocks_pinned"];
    expected.extend(["complaint.note_added"; 12]);
    assert_eq!(event_types(&whole), expected);
    assert!(whole.get("next_after_version").is_none(), "one page holds it all");
    for bad in [
        "limit=0",
        "limit=1001",
        "after_version=-1",
        "after_version=99999999999",
        "page=2",
    ] {
        let response = app.get(&format!("/v1/tickets/{id}/history?{bad}"), &agent()).await;
        problem(response, 400, "invalid-query").await;
    }
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_first_response() {
    let app = spawn_app().await;
    let send = |body: Value, token: String| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/v1/complaints"))
                .bearer_auth(token)
                .header("Idempotency-Key", "file-once-123")
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    let first = send(sample_complaint(), agent()).await;
    assert_eq!(first.status(), 201);
    let first_location = first.headers().get("location").cloned();
    let first_body: Value = first.json().await.expect("json");

    let retry = send(sample_complaint(), agent()).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(
        retry.headers().get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(retry.headers().get("location").cloned(), first_location);
    assert_eq!(retry.json::<Value>().await.expect("json"), first_body);

    // Same key, different body: refused, nothing written.
    let mut other = sample_complaint();
    other["title"] = json!("another complaint");
    problem(send(other, agent()).await, 422, "idempotency-key-reused").await;

    // Keys are scoped to the principal: another agent's same key is a new request.
    let second_agent = token("agent-2", &[Role::Agent]);
    let theirs: Value = send(sample_complaint(), second_agent).await.json().await.expect("json");
    assert_ne!(theirs["id"], first_body["id"]);

    let page: Value = app.get("/v1/tickets", &agent()).await.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn idempotency_keys_are_honoured_for_the_retention_period_then_pruned() {
    let app = spawn_app().await;
    let send = |key: &'static str, title: &'static str| {
        let app = &app;
        async move {
            let mut body = sample_complaint();
            body["title"] = json!(title);
            app.http
                .post(app.url("/v1/complaints"))
                .bearer_auth(agent())
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(send("old-key", "first").await.status(), 201);
    assert_eq!(send("fresh-key", "second").await.status(), 201);
    // The first was recorded 25 hours ago.
    let owner = app.db.connect_admin().await;
    owner
        .execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'",
            &[],
        )
        .await
        .expect("backdate");

    // Pruned as the server's role, which may delete these rows and no others.
    let config: tokio_postgres::Config = url_of(&app.db.admin, Some("opsledger_app")).parse().expect("url");
    let pool = opsledger::infra::database::pool(config, 1).expect("pool");
    let retention = std::time::Duration::from_secs(24 * 3600);
    let pruned = opsledger::startup::retention::prune_idempotency(&pool, retention)
        .await
        .expect("prune");
    assert_eq!(pruned, 1);
    assert_eq!(
        opsledger::startup::retention::prune_idempotency(&pool, retention)
            .await
            .expect("prune"),
        0,
        "nothing left to prune"
    );

    // The expired key is a new request now (another body is not refused);
    // the fresh one still replays.
    let reused = send("old-key", "third").await;
    assert_eq!(reused.status(), 201);
    assert!(reused.headers().get("idempotent-replayed").is_none());
    let replayed = send("fresh-key", "second").await;
    assert_eq!(
        replayed.headers().get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let page: Value = app.get("/v1/tickets", &agent()).await.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
}

/// What one of several concurrent requests sharing an `Idempotency-Key` got.
#[derive(Debug)]
struct Answer {
    status: u16,
    replayed: bool,
    location: Option<String>,
    etag: String,
    body: Value,
}

async fn send_keyed(app: &TestApp, path: &str, key: &str, if_match: Option<&str>, body: &Value) -> Answer {
    let mut request = app
        .http
        .post(app.url(path))
        .bearer_auth(agent())
        .header("Idempotency-Key", key)
        .json(body);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    let r = request.send().await.expect("request");
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Answer {
        status: r.status().as_u16(),
        replayed: header("idempotent-replayed").as_deref() == Some("true"),
        location: header("location"),
        etag: header("etag").unwrap_or_default(),
        body: r.json().await.unwrap_or(Value::Null),
    }
}

/// Every answer is the first response (once as itself, otherwise replayed)
/// or `409 idempotency-in-progress`; returns the first response.
fn one_response_replayed(answers: &[Answer], status: u16) -> &Answer {
    let firsts: Vec<&Answer> = answers.iter().filter(|a| a.status == status && !a.replayed).collect();
    assert_eq!(firsts.len(), 1, "one request did the work: {answers:#?}");
    let first = firsts[0];
    for a in answers {
        if a.status == 409 {
            assert_eq!(a.body["type"], "urn:opsledger:problem:idempotency-in-progress", "{a:?}");
            continue;
        }
        assert_eq!(a.status, status, "{a:?}");
        assert_eq!(
            (&a.body, &a.location, &a.etag),
            (&first.body, &first.location, &first.etag)
        );
    }
    first
}

/// A client that times out and retries, or several workers handed the
/// same job, send one filing many times at once under one key.
#[tokio::test]
async fn concurrent_filings_sharing_a_key_file_once_and_all_get_its_response() {
    let app = spawn_app().await;
    let mut numbers = Vec::new();
    for round in 0..25 {
        let key = format!("file-race-{round}");
        let body = sample_complaint();
        let answers =
            futures_util::future::join_all((0..32).map(|_| send_keyed(&app, "/v1/complaints", &key, None, &body)))
                .await;
        let first = one_response_replayed(&answers, 201);
        numbers.push(first.body["number"].as_str().expect("number").to_owned());
    }

    let owner = app.db.connect_admin().await;
    let filed_per_key: Vec<(String, i64)> = owner
        .query(
            "SELECT convert_from(stored, 'UTF8')::jsonb #>> '{metadata,idempotency_key}', count(*)
             FROM events WHERE event_type = 'complaint.filed' GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .expect("events")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(filed_per_key.len(), 25, "{filed_per_key:?}");
    assert!(filed_per_key.iter().all(|(_, n)| *n == 1), "{filed_per_key:?}");
    let tickets: Vec<String> = owner
        .query("SELECT number FROM tickets ORDER BY number", &[])
        .await
        .expect("tickets")
        .iter()
        .map(|r| r.get(0))
        .collect();
    numbers.sort();
    assert_eq!(tickets, numbers, "one ticket per key, the one its response names");
    let drawn: Vec<String> = (1..=25).map(|n| format!("CMP-{}-{n:06}", &numbers[0][4..8])).collect();
    assert_eq!(numbers, drawn, "the requests that replayed drew no number");
}

/// The same race on a state change: every request carries the If-Match it
/// read before the first of them acknowledged the complaint.
#[tokio::test]
async fn concurrent_acknowledgements_sharing_a_key_apply_once_and_all_get_its_response() {
    let app = spawn_app().await;
    for round in 0..10 {
        let (filed, etag) = app.file_complaint().await;
        let id = filed["id"].as_str().expect("id");
        let key = format!("ack-race-{round}");
        let path = format!("/v1/complaints/{id}/acknowledge");
        let body = json!({"message": "您好，我们已收到。"});
        let answers =
            futures_util::future::join_all((0..32).map(|_| send_keyed(&app, &path, &key, Some(&etag), &body))).await;
        let first = one_response_replayed(&answers, 200);
        assert_eq!(first.body["status"], "acknowledged");

        let history: Value = app
            .get(&format!("/v1/tickets/{id}/history"), &auditor())
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            event_types(&history),
            [
                "complaint.filed",
                "sla.clocks_pinned",
                "complaint.acknowledged",
                "sla.clock_stopped"
            ]
        );
    }
}

/// A state change retried after it committed (its answer lost, say) gets
/// its first answer again, status, ETag and body, not a 412 for the
/// If-Match that the change itself made stale; and so does an escalation,
/// with the Location of the fault it created.
#[tokio::test]
async fn a_retried_state_change_replays_its_first_answer_not_a_412() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");
    let path = format!("/v1/complaints/{id}/acknowledge");
    let body = json!({"message": "您好，我们已收到。"});
    let first = send_keyed(&app, &path, "ack-once", Some(&etag), &body).await;
    assert_eq!((first.status, first.replayed), (200, false), "{first:?}");
    assert_eq!(first.body["status"], "acknowledged");

    let retried = send_keyed(&app, &path, "ack-once", Some(&etag), &body).await;
    assert_eq!((retried.status, retried.replayed), (200, true), "{retried:?}");
    assert_eq!(retried.etag, first.etag);
    assert_eq!(retried.body, first.body);

    // Without the key, the same request is a new one: stale.
    let unkeyed = app.post_if_match(&path, &agent(), &etag, &body).await;
    problem(unkeyed, 412, "precondition-failed").await;

    let escalation = json!({"description": "宽带中断", "affected_service": "broadband"});
    let path = format!("/v1/complaints/{id}/escalate");
    let first = send_keyed(&app, &path, "escalate-once", Some(&retried.etag), &escalation).await;
    assert_eq!((first.status, first.replayed), (201, false), "{first:?}");
    let retried = send_keyed(&app, &path, "escalate-once", Some(&retried.etag), &escalation).await;
    assert_eq!((retried.status, retried.replayed), (201, true), "{retried:?}");
    assert_eq!(retried.location, first.location);
    assert_eq!(retried.body["number"], first.body["number"]);
    assert_eq!(retried.body["kind"], "fault");
}

/// A refusal by the ticket carries its current ETag, so the client can
/// decide what to do next without reading the ticket first; and an
/// escalation, whose answer is the new fault, carries the complaint's new
/// ETag too.
#[tokio::test]
async fn refusals_and_escalations_carry_the_etags_the_client_needs_next() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");

    // 409: resolving before acknowledging.
    let refused = app
        .post_if_match(
            &format!("/v1/complaints/{id}/resolve"),
            &agent(),
            &etag,
            &json!({"resolution": "x"}),
        )
        .await;
    assert_eq!(etag_of(&refused), etag, "the current version's tag");
    problem(refused, 409, "invalid-transition").await;

    let (status, _, acknowledged) = app.transition(id, "acknowledge", &etag, json!({})).await;
    assert_eq!(status, 200);

    // 412: the tag the client held is stale; the answer names the current one.
    let stale = app
        .post_if_match(
            &format!("/v1/complaints/{id}/resolve"),
            &agent(),
            &etag,
            &json!({"resolution": "x"}),
        )
        .await;
    assert_eq!(etag_of(&stale), acknowledged);
    problem(stale, 412, "precondition-failed").await;

    let escalated = app
        .post_if_match(
            &format!("/v1/complaints/{id}/escalate"),
            &agent(),
            &acknowledged,
            &json!({"description": "宽带中断", "affected_service": "broadband"}),
        )
        .await;
    assert_eq!(escalated.status(), 201);
    let complaint_etag = escalated
        .headers()
        .get("complaint-etag")
        .and_then(|v| v.to_str().ok())
        .expect("the complaint's new ETag")
        .to_owned();
    let (_, now) = app.view(id, &agent()).await;
    assert_eq!(complaint_etag, now);
    let (status, _, _) = app
        .transition(id, "resolve", &complaint_etag, json!({"resolution": "换光猫"}))
        .await;
    assert_eq!(status, 200, "the complaint's ETag from the escalation is current");
}

/// A request whose key is held by one still in progress (here a session
/// standing in for it) waits for it only so long, then is told to retry,
/// having written nothing.
#[tokio::test]
async fn a_key_held_past_the_wait_gets_409_idempotency_in_progress_and_writes_nothing() {
    let app = spawn_app().await;
    let (class, hash) = opsledger::store::idempotency::lock_key(&format!("{ISSUER}|agent-1"), "slow-key");
    let mut holder = app.db.connect_admin().await;
    let in_progress = holder.transaction().await.expect("transaction");
    in_progress
        .execute("SELECT pg_advisory_xact_lock($1, $2)", &[&class, &hash])
        .await
        .expect("lock");

    let refused = send_keyed(&app, "/v1/complaints", "slow-key", None, &sample_complaint()).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(refused.body["type"], "urn:opsledger:problem:idempotency-in-progress");
    in_progress.rollback().await.expect("rollback");

    let retried = send_keyed(&app, "/v1/complaints", "slow-key", None, &sample_complaint()).await;
    assert_eq!((retried.status, retried.replayed), (201, false), "{retried:?}");
    let page: Value = app.get("/v1/tickets", &agent()).await.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn personal_data_is_masked_for_roles_without_pii_read() {
    let app = spawn_app().await;
    let (filed, _) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");
    assert_eq!(
        filed["complainant"]["phone"], "+86 138 0013 8000",
        "agents see clear text"
    );

    for role in [Role::Engineer, Role::Auditor] {
        let t = token("reader", &[role]);
        let r = app.get(&format!("/v1/tickets/{id}"), &t).await;
        assert_eq!(
            r.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"private, no-store"[..])
        );
        let masked_etag = etag_of(&r);
        let view: Value = r.json().await.expect("json");
        assert_eq!(view["complainant"]["name"], "张**", "{role:?}");
        assert_eq!(view["complainant"]["phone"], "*********8000");
        assert_eq!(view["complainant"]["email"], "z***@example.cn");
        assert_eq!(view["title"], "宽带反复断线", "non-personal fields stay");

        let clear_etag = etag_of(&app.get(&format!("/v1/tickets/{id}"), &agent()).await);
        assert_ne!(
            masked_etag, clear_etag,
            "masked and clear representations have different tags"
        );

        let history: Value = app
            .get(&format!("/v1/tickets/{id}/history"), &t)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(history["events"][0]["payload"]["complainant"]["name"], "张**");
        let page: Value = app.get("/v1/tickets", &t).await.json().await.expect("json");
        assert_eq!(page["items"][0]["complainant"]["phone"], "*********8000");
    }

    // An integration sees clear text only with the pii:read scope.
    let plain = token_with_scopes("crm", &[Role::Integration], &["tickets:read"]);
    let view: Value = app
        .get(&format!("/v1/tickets/{id}"), &plain)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["complainant"]["name"], "张**");
    let trusted = token_with_scopes("crm", &[Role::Integration], &["tickets:read", "pii:read"]);
    let view: Value = app
        .get(&format!("/v1/tickets/{id}"), &trusted)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["complainant"]["name"], "张伟");
}

#[tokio::test]
async fn lists_filter_and_page_in_a_stable_order() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for priority in ["P1", "P2", "P2", "P3", "P2"] {
        let mut body = sample_complaint();
        body["priority"] = json!(priority);
        let r: Value = app
            .post("/v1/complaints", &agent(), &body)
            .await
            .json()
            .await
            .expect("json");
        ids.push(r["id"].as_str().expect("id").to_owned());
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/tickets?priority=P2&limit=2&cursor={c}"),
            None => "/v1/tickets?priority=P2&limit=2".to_owned(),
        };
        let page: Value = app.get(&path, &agent()).await.json().await.expect("json");
        for item in page["items"].as_array().expect("items") {
            assert_eq!(item["priority"], "P2");
            seen.push(item["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = [&ids[4], &ids[2], &ids[1]].iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, expected, "newest first, each exactly once");

    let none: Value = app
        .get("/v1/tickets?status=closed", &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn operations_endpoints_and_request_ids() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-request-id").is_some(), "a request id is generated");
    assert!(r.headers().get("x-client-request-id").is_none());
    let r = app
        .http
        .get(app.url("/readyz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    // The server's id is the request's; the client's is echoed beside it.
    let server_id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id");
    assert!(uuid::Uuid::parse_str(server_id).is_ok(), "{server_id}");
    assert_eq!(
        r.headers().get("x-client-request-id").map(|v| v.as_bytes()),
        Some(&b"trace-me-42"[..])
    );

    let spec: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    assert!(spec["paths"]["/v1/complaints"]["post"].is_object());

    let docs = app.http.get(app.url("/docs/")).send().await.expect("docs");
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(
        html.contains("swagger-ui"),
        "the interactive docs are served from the binary"
    );
}

#[tokio::test]
async fn commands_happen_at_the_instant_the_servers_clock_says() {
    // A test sets the time instead of sleeping: the SLA and change-window
    // rules that depend on it are tested the same way.
    let filed_at = "2026-02-13T09:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .expect("instant");
    let clock = opsledger::app::clock::ManualClock::starting_at(filed_at);
    let app = spawn_app_at(clock.clone()).await;
    let (view, etag) = app.file_complaint().await;
    assert_eq!(view["created_at"], "2026-02-13T09:00:00Z");

    clock.advance(chrono::Duration::minutes(10));
    let id = view["id"].as_str().expect("id");
    let (status, acknowledged, _) = app.transition(id, "acknowledge", &etag, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(acknowledged["acknowledged_at"], "2026-02-13T09:10:00Z");
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), &agent()).await, 200).await;
    assert_eq!(
        event_types(&history),
        [
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.acknowledged",
            "sla.clock_stopped"
        ]
    );
    // The clocks move at the instant of the command that moves them.
    let recorded: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["recorded_at"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        recorded,
        [
            "2026-02-13T09:00:00Z",
            "2026-02-13T09:00:00Z",
            "2026-02-13T09:10:00Z",
            "2026-02-13T09:10:00Z"
        ]
    );
}

/// A number is taken only for a ticket that will be recorded: filings,
/// escalations and drafts are decided before the ticket has a number, so a
/// refused one leaves no gap in the numbers.
#[tokio::test]
async fn a_refused_creation_takes_no_number() {
    let app = spawn_app().await;
    let mut blank = sample_complaint();
    blank["title"] = json!("  ");
    problem(
        app.post("/v1/complaints", &agent(), &blank).await,
        422,
        "validation-failed",
    )
    .await;
    let (filed, etag) = app.file_complaint().await;
    assert!(
        filed["number"].as_str().expect("number").ends_with("-000001"),
        "{filed}"
    );

    let id = filed["id"].as_str().expect("id");
    let escalate = format!("/v1/complaints/{id}/escalate");
    let refused = app
        .post_if_match(
            &escalate,
            &agent(),
            &etag,
            &json!({"description": "", "affected_service": "fibre"}),
        )
        .await;
    problem(refused, 422, "validation-failed").await;
    let fault = app
        .post_if_match(
            &escalate,
            &agent(),
            &etag,
            &json!({"description": "光缆中断", "affected_service": "fibre"}),
        )
        .await;
    let fault = json_of(fault, 201).await;
    assert!(
        fault["number"].as_str().expect("number").ends_with("-000001"),
        "{fault}"
    );
    // Refused by the complaint's state, not its fields: escalated already.
    let (_, now) = app.view(id, &agent()).await;
    let again = app
        .post_if_match(
            &escalate,
            &agent(),
            &now,
            &json!({"description": "再次", "affected_service": "fibre"}),
        )
        .await;
    problem(again, 409, "rule-violated").await;
    let (other, other_etag) = app.file_complaint().await;
    let other_id = other["id"].as_str().expect("id");
    let second = app
        .post_if_match(
            &format!("/v1/complaints/{other_id}/escalate"),
            &agent(),
            &other_etag,
            &json!({"description": "另一处中断", "affected_service": "fibre"}),
        )
        .await;
    let second = json_of(second, 201).await;
    assert!(
        second["number"].as_str().expect("number").ends_with("-000002"),
        "{second}"
    );

    let manager = token("mgr-1", &[Role::Manager]);
    let draft = |services: Value| {
        json!({"change_type": "normal", "title": "更换分光器", "description": "7 区",
               "affected_services": services, "maintenance_type": "corrective"})
    };
    problem(
        app.post("/v1/changes", &manager, &draft(json!([]))).await,
        422,
        "validation-failed",
    )
    .await;
    let change = json_of(app.post("/v1/changes", &manager, &draft(json!(["fibre"]))).await, 201).await;
    assert!(
        change["number"].as_str().expect("number").ends_with("-000001"),
        "{change}"
    );
}

#[tokio::test]
async fn a_long_complaint_s_view_and_receipt_are_compressed_with_lz4_where_postgres_has_it() {
    let app = spawn_app().await;
    // 3,000 characters of description make the view and the receipt longer
    // than a row PostgreSQL keeps whole, so both are compressed.
    let mut filing = sample_complaint();
    filing["description"] = json!("宽带断线。".repeat(600));
    let response = app
        .http
        .post(app.url("/v1/complaints"))
        .bearer_auth(agent())
        .header("Idempotency-Key", "long-complaint")
        .json(&filing)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let id: uuid::Uuid = response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");

    let owner = app.db.connect_admin().await;
    let has_lz4: bool = owner
        .query_one(
            "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'",
            &[],
        )
        .await
        .expect("settings")
        .get(0);
    let expected = if has_lz4 { "lz4" } else { "pglz" };
    let row = owner
        .query_one(
            "SELECT pg_column_compression(t.view), pg_column_compression(k.body)
             FROM tickets t, idempotency_keys k WHERE t.id = $1 AND k.key = 'long-complaint'",
            &[&id],
        )
        .await
        .expect("the view and the receipt");
    let (view, receipt): (Option<String>, Option<String>) = (row.get(0), row.get(1));
    assert_eq!(view.as_deref(), Some(expected), "the view");
    assert_eq!(receipt.as_deref(), Some(expected), "the receipt");
}
