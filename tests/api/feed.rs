//! The event feed and as-of reads, driven over HTTP as an integration and
//! an auditor would.

use std::time::{Duration, Instant};

use crate::helpers::*;
use opsledger::domain::Role;
use serde_json::{Value, json};

/// Waits until the feed has reached `position` (the sequencer runs in the background).
async fn wait_for_position(app: &TestApp, position: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = app
            .get("/v1/events?limit=1000", &auditor())
            .await
            .json()
            .await
            .expect("json");
        if page["events"].as_array().map_or(0, Vec::len) as i64 >= position {
            return;
        }
        assert!(Instant::now() < deadline, "the feed did not reach position {position}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_feed_pages_by_position_and_shows_personal_data_as_the_views_do() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");
    app.transition(id, "acknowledge", &etag, json!({"message": "收到"}))
        .await;
    // Each command's events, then the clocks they move.
    wait_for_position(&app, 4).await;

    let page: Value = app
        .get("/v1/events?after=0&limit=1", &auditor())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["events"][0]["position"], 1);
    assert_eq!(page["events"][0]["type"], "complaint.filed");
    assert_eq!(page["next_after"], 1);
    assert_eq!(
        page["events"][0]["payload"]["complainant"]["name"], "张**",
        "auditors see masks"
    );
    assert_eq!(page["events"][0]["global_hash"].as_str().map(str::len), Some(64));
    let next: Value = app
        .get("/v1/events?after=1", &auditor())
        .await
        .json()
        .await
        .expect("json");
    let positions_and_types: Vec<(i64, &str)> = next["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["position"].as_i64().unwrap_or(-1), e["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        positions_and_types,
        [
            (2, "sla.clocks_pinned"),
            (3, "complaint.acknowledged"),
            (4, "sla.clock_stopped")
        ]
    );
    assert_eq!(next["head"], 4);
    let empty: Value = app
        .get("/v1/events?after=4", &auditor())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(empty["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(empty["next_after"], 4);

    // An integration follows the events of the tickets it may read; with
    // pii:read it sees clear text. events:read alone shows no ticket, yet
    // moves past every position it read.
    let crm = token_with_scopes(
        "crm",
        &[Role::Integration],
        &["events:read", "tickets:read", "pii:read"],
    );
    let clear: Value = app.get("/v1/events", &crm).await.json().await.expect("json");
    assert_eq!(clear["events"][0]["payload"]["complainant"]["name"], "张伟");
    let feed_only = token_with_scopes("crm", &[Role::Integration], &["events:read"]);
    let nothing: Value = app.get("/v1/events", &feed_only).await.json().await.expect("json");
    assert_eq!(nothing["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(nothing["next_after"], 4);
    let writer = token_with_scopes("crm", &[Role::Integration], &["faults:write"]);
    problem(app.get("/v1/events", &writer).await, 403, "forbidden").await;
    problem(
        app.get("/v1/events?limit=0&after=-1", &auditor()).await,
        400,
        "invalid-query",
    )
    .await;
}

/// Reads SSE frames until `n` events arrived; returns their (id, type).
async fn read_events(response: &mut reqwest::Response, n: usize) -> Vec<(i64, String)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while events.len() < n {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(remaining, response.chunk())
            .await
            .expect("events arrive before the deadline")
            .expect("stream readable")
            .expect("stream still open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut id = None;
            let mut kind = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse::<i64>().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    kind = v.to_owned();
                }
            }
            if let Some(id) = id {
                events.push((id, kind));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_live_stream_delivers_every_event_once_and_resumes_from_last_event_id() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.file_complaint().await;
    }
    let mut stream = app
        .http
        .get(app.url("/v1/events/stream"))
        .bearer_auth(auditor())
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert!(
        stream
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
    );
    // Each filing, then its clocks pinned.
    let filing = |from: i64| {
        vec![
            (from, "complaint.filed".to_owned()),
            (from + 1, "sla.clocks_pinned".to_owned()),
        ]
    };
    let first = read_events(&mut stream, 6).await;
    assert_eq!(first, [filing(1), filing(3), filing(5)].concat());

    // Live: events filed while following arrive without polling.
    app.file_complaint().await;
    assert_eq!(read_events(&mut stream, 2).await, filing(7));
    drop(stream);

    // Reconnecting with Last-Event-ID resumes right after it, overriding `after`.
    app.file_complaint().await;
    let mut resumed = app
        .http
        .get(app.url("/v1/events/stream?after=0"))
        .bearer_auth(auditor())
        .header("Last-Event-ID", "6")
        .send()
        .await
        .expect("stream");
    let rest = read_events(&mut resumed, 4).await;
    assert_eq!(rest, [filing(7), filing(9)].concat());

    let bad = app
        .http
        .get(app.url("/v1/events/stream"))
        .bearer_auth(auditor())
        .header("Last-Event-ID", "not-a-position")
        .send()
        .await
        .expect("request");
    problem(bad, 400, "bad-request").await;
}

#[tokio::test]
async fn the_stream_ends_when_the_callers_token_expires() {
    let app = spawn_app().await;
    let short_lived = opsledger::http::auth::mint_dev_token(
        SECRET.as_bytes(),
        &opsledger::http::auth::DevToken {
            issuer: ISSUER,
            audience: AUDIENCE,
            subject: "aud-2",
            name: None,
            roles: &[Role::Auditor],
            scopes: &[],
            ttl_secs: 2,
        },
    )
    .expect("token");
    let response = app
        .http
        .get(app.url("/v1/events/stream"))
        .bearer_auth(short_lived)
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(Duration::from_secs(30), response.text())
        .await
        .expect("the stream ends by itself")
        .expect("body");
    assert!(body.contains("event: end"), "{body}");
}

#[tokio::test]
async fn a_ticket_reads_as_it_stood_at_a_version_an_instant_or_a_position() {
    let app = spawn_app().await;
    let (filed, etag) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id").to_owned();
    let before_ack = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (_, _, etag) = app.transition(&id, "acknowledge", &etag, json!({})).await;
    app.transition(&id, "assign", &etag, json!({"team": "broadband"})).await;
    // Filed (1), its clocks pinned (2), acknowledged (3), the first-response
    // clock stopped (4), assigned (5).
    wait_for_position(&app, 5).await;

    let at = |query: String| {
        let app = &app;
        let id = id.clone();
        async move { app.get(&format!("/v1/tickets/{id}?{query}"), &agent()).await }
    };
    let v1: Value = at("version=1".into()).await.json().await.expect("json");
    assert_eq!(
        (v1["status"].as_str(), v1["version"].as_u64()),
        (Some("filed"), Some(1))
    );
    assert_eq!(
        v1["complainant"]["name"], "张伟",
        "as-of views render personal data as live views do"
    );
    assert_eq!(v1["sla"], Value::Null, "the clocks come with the next event");
    let v2: Value = at("version=2".into()).await.json().await.expect("json");
    assert_eq!(
        (v2["status"].as_str(), v2["sla"]["key"].as_str()),
        (Some("filed"), Some("complaint/P2"))
    );
    let v3: Value = at("version=3".into()).await.json().await.expect("json");
    assert_eq!(v3["status"], "acknowledged");
    let then: Value = at(format!("as_of={}", before_ack.to_rfc3339().replace('+', "%2B")))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(then["version"], 2, "filed with its clocks, not yet acknowledged");
    let p3: Value = at("position=3".into()).await.json().await.expect("json");
    assert_eq!(
        (p3["status"].as_str(), p3["version"].as_u64()),
        (Some("acknowledged"), Some(3))
    );
    let p5: Value = at("position=5".into()).await.json().await.expect("json");
    assert_eq!(
        (p5["status"].as_str(), p5["team"].as_str()),
        (Some("in_progress"), Some("broadband"))
    );
    let now: Value = app
        .get(&format!("/v1/tickets/{id}"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(p5, now, "the fold up to the newest position is the live view");

    problem(at("as_of=2000-01-01T00:00:00Z".into()).await, 404, "not-found").await;
    problem(at("version=1&position=1".into()).await, 400, "invalid-query").await;
    problem(at("as_of=yesterday".into()).await, 400, "invalid-query").await;
}
