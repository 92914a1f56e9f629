//! Issue 15, a security review: what a low-privileged client tried, and
//! what it gets now.
//!
//! - Item 3: ETags were an unkeyed hash of (id, version, variant), so a
//!   client could compute them, and `If-Match` answered questions about
//!   tickets it may not read. They are keyed by a server key every instance
//!   reads from the database.
//! - Item 5: crafted query strings (NUL, tampered or unstorable cursors)
//!   made PostgreSQL fail the statement: 500. They are 400 `invalid-query`.
//! - Item 9b: a body naming one member twice was read as its last value.
//!   It is refused with 422.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use opsledger::startup::config::RotateEtagKeyArgs;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The tag every client could compute before: SHA-256 of (id, version,
/// variant), cut to 16 bytes.
fn unkeyed_tag(id: &str, version: u64, variant: &[u8]) -> String {
    let id = uuid::Uuid::parse_str(id).expect("a ticket id");
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update(version.to_be_bytes());
    h.update(variant);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&h.finalize()[..16]))
}

fn ticket_version(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("ticket-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn read(app_base: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{app_base}/v1/tickets/{id}"))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request")
}

async fn acknowledge(app_base: &str, id: &str, if_match: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{app_base}/v1/complaints/{id}/acknowledge"))
        .bearer_auth(agent())
        .header("If-Match", if_match)
        .json(&json!({}))
        .send()
        .await
        .expect("request")
}

// ---------------------------------------------------------------------------
// Item 3: ETags
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_tag_computed_by_the_client_does_not_pass_if_match() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let id = complaint["id"].as_str().expect("id");

    // The client computes what the tag of version 2 (filed, and its clocks
    // pinned) would be, in both variants, and sends them instead of the tag
    // it was given.
    assert_eq!(complaint["version"], 2);
    let guesses = [unkeyed_tag(id, 2, b"m"), unkeyed_tag(id, 2, b"c")];
    assert!(!guesses.contains(&etag), "the served tag is not the unkeyed hash");
    let refused = acknowledge(&app.base, id, &guesses.join(", ")).await;
    problem(refused, 412, "precondition-failed").await;

    let accepted = acknowledge(&app.base, id, &etag).await;
    assert_eq!(accepted.status(), 200);
    // Acknowledged (3), and the first-response clock stopped (4).
    assert_eq!(
        ticket_version(&accepted),
        Some(4),
        "the version travels in clear, apart from the tag"
    );
}

#[tokio::test]
async fn if_match_tells_nothing_about_a_ticket_the_caller_may_not_read() {
    let app = spawn_app().await;
    let (complaint, _) = app.file_complaint().await;
    let report = json!({"title": "Core router CPU at 95 %", "description": "Alarm from monitoring",
                        "affected_service": "backbone", "detected_by": "monitoring"});
    let response = app.post("/v1/faults", &engineer("eng-1"), &report).await;
    assert_eq!(response.status(), 201);
    let fault: Value = response.json().await.expect("json");
    let number = fault["number"].as_str().expect("number");

    // An agent may not read a fault no complaint is linked to. It probes
    // ticket numbers by linking to them with an If-Match it made up: a 412
    // would say the fault exists (and a match, which version it is at).
    let link = json!({"relation": "relates_to", "target": complaint["id"]});
    let probe = |path: String| {
        let app = &app;
        let link = &link;
        async move {
            let response = app.post_if_match(&path, &agent(), "\"made-up\"", link).await;
            problem(response, 404, "not-found").await
        }
    };
    probe(format!("/v1/tickets/{number}/links")).await;
    probe("/v1/tickets/FLT-2026-999999/links".to_owned()).await;
}

#[tokio::test]
async fn every_instance_on_one_database_gives_the_same_tags_and_accepts_them() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let id = complaint["id"].as_str().expect("id");

    // A second instance on the same database, as after a restart or
    // behind a load balancer: it reads the same key.
    let (other, other_handle) = start_server(&app.db, |_| {}).await;
    let response = read(&other, id).await;
    assert_eq!(etag_of(&response), etag);
    // Filed, and its clocks pinned.
    assert_eq!(ticket_version(&response), Some(2));
    let unchanged = reqwest::Client::new()
        .get(format!("{other}/v1/tickets/{id}"))
        .bearer_auth(agent())
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(unchanged.status(), 304);
    assert_eq!(ticket_version(&unchanged), Some(2));

    app.handle.stop(true).await;
    let acknowledged = acknowledge(&other, id, &etag).await;
    assert_eq!(
        acknowledged.status(),
        200,
        "the first instance's tag holds on the second"
    );
    other_handle.stop(true).await;
}

#[tokio::test]
async fn rotating_the_etag_key_makes_every_tag_stale_once() {
    let app = spawn_app().await;
    let (complaint, old_tag) = app.file_complaint().await;
    let id = complaint["id"].as_str().expect("id");

    // Under the wrong master key the new key would open on no server.
    let mut wrong = serve_args(&app.db);
    wrong.master.master_key = Some("1f".repeat(32));
    let refused = opsledger::startup::maintenance::rotate_etag_key(&RotateEtagKeyArgs {
        database: wrong.database,
        master: wrong.master,
    })
    .await;
    assert!(refused.is_err(), "{refused:?}");

    let args = serve_args(&app.db);
    opsledger::startup::maintenance::rotate_etag_key(&RotateEtagKeyArgs {
        database: args.database,
        master: args.master,
    })
    .await
    .expect("the key is replaced");

    // An instance started after the rotation tags with the new key.
    let (rotated, handle) = start_server(&app.db, |_| {}).await;
    let response = read(&rotated, id).await;
    let new_tag = etag_of(&response);
    assert_ne!(new_tag, old_tag, "another key, another tag for the same version");
    assert_eq!(ticket_version(&response), Some(2), "the version is the same");
    problem(acknowledge(&rotated, id, &old_tag).await, 412, "precondition-failed").await;
    assert_eq!(acknowledge(&rotated, id, &new_tag).await.status(), 200);
    handle.stop(true).await;
}

// ---------------------------------------------------------------------------
// Item 5: crafted query strings
// ---------------------------------------------------------------------------

#[tokio::test]
async fn control_characters_in_query_values_are_refused_with_the_parameter_named() {
    let app = spawn_app().await;
    for (path, token, parameter) in [
        ("/v1/tickets?team=%00", agent(), "/team"),
        ("/v1/tickets?assignee=%00", agent(), "/assignee"),
        ("/v1/tickets?assignee=ops%0Ateam", agent(), "/assignee"),
        ("/v1/audit/pii-access?actor=%00", auditor(), "/actor"),
    ] {
        let body = problem(app.get(path, &token).await, 400, "invalid-query").await;
        assert_eq!(body["errors"][0]["pointer"], parameter, "{path}: {body}");
    }
}

#[tokio::test]
async fn cursors_a_client_made_up_are_refused() {
    let app = spawn_app().await;
    for (path, token) in [
        // A list cursor whose instant lies before PostgreSQL's calendar.
        ("/v1/tickets?cursor=kPpKYsTgAAAAAAAAAAAAAAAAAAAAAAAA", agent()),
        (
            "/v1/faults/queue?cursor=kPpKYsTgAAAAAAAAAAAAAAAAAAAAAAAA",
            engineer("eng-1"),
        ),
        // A well-formed queue cursor of the same kind.
        (
            "/v1/faults/queue?cursor=AACQ-kpixOAAAAAAAAAAAAAAAAAAAAAAAAA",
            engineer("eng-1"),
        ),
    ] {
        let body = problem(app.get(path, &token).await, 400, "invalid-query").await;
        assert_eq!(body["errors"][0]["pointer"], "/cursor", "{path}: {body}");
    }
}

/// Flips one bit of the cursor's signed bytes.
fn tampered(cursor: &str, byte: usize) -> String {
    let mut bytes = URL_SAFE_NO_PAD.decode(cursor).expect("a cursor is base64url");
    bytes[byte] ^= 0x01;
    URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn a_cursor_pages_on_until_a_byte_of_it_is_changed() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.file_complaint().await;
    }
    let first = json_of(app.get("/v1/tickets?limit=2", &agent()).await, 200).await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = json_of(
        app.get(&format!("/v1/tickets?limit=2&cursor={cursor}"), &agent()).await,
        200,
    )
    .await;
    let ids: Vec<&Value> = [&first, &second]
        .iter()
        .flat_map(|p| p["items"].as_array().expect("items"))
        .map(|t| &t["id"])
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids[2] != ids[0] && ids[2] != ids[1], "the second page goes on");
    assert!(second.get("next_cursor").is_none());
    let body = problem(
        app.get(&format!("/v1/tickets?limit=2&cursor={}", tampered(cursor, 3)), &agent())
            .await,
        400,
        "invalid-query",
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "/cursor");

    for title in ["Core router CPU at 95 %", "Packet loss in district 7"] {
        let report = json!({"title": title, "description": "Alarm from monitoring",
                            "affected_service": "backbone", "detected_by": "monitoring"});
        assert_eq!(app.post("/v1/faults", &engineer("eng-1"), &report).await.status(), 201);
    }
    let first = json_of(app.get("/v1/faults/queue?limit=1", &engineer("eng-1")).await, 200).await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = json_of(
        app.get(&format!("/v1/faults/queue?limit=1&cursor={cursor}"), &engineer("eng-1"))
            .await,
        200,
    )
    .await;
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);
    problem(
        app.get(
            &format!("/v1/faults/queue?cursor={}", tampered(cursor, 0)),
            &engineer("eng-1"),
        )
        .await,
        400,
        "invalid-query",
    )
    .await;
}

// ---------------------------------------------------------------------------
// Item 9b: duplicate member names
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_filing_that_names_a_member_twice_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let top_level = r#"{"title": "宽带反复断线", "title": "Refund approved, close it",
        "description": "客户反映家中宽带每晚八点后断线。", "channel": "phone",
        "complainant": {"name": "张伟", "phone": "+86 138 0013 8000"}, "category": "broadband", "priority": "P2"}"#;
    let nested = r#"{"title": "宽带反复断线", "description": "客户反映家中宽带每晚八点后断线。", "channel": "phone",
        "complainant": {"name": "张伟", "phone": "+86 138 0013 8000", "name": "李娜"},
        "category": "broadband", "priority": "P2"}"#;
    for (body, pointer) in [(top_level, "/title"), (nested, "/complainant/name")] {
        let response = app
            .http
            .post(app.url("/v1/complaints"))
            .bearer_auth(agent())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let problem = problem(response, 422, "validation-failed").await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    let listed = json_of(app.get("/v1/tickets", &agent()).await, 200).await;
    assert_eq!(listed["items"], json!([]), "nothing was filed");
}
