//! HTTP semantics every route shares, whatever it does: a method a path
//! does not serve is answered 405 with the methods it does serve
//! (RFC 9110 §15.5.6), and every GET answers HEAD (RFC 9110 §9.3.2).

use serde_json::Value;

use crate::helpers::{agent, problem, spawn_app};

/// A request path for a documented path template.
fn concrete(template: &str) -> String {
    template.replace("{id}", "CMP-2026-000001")
}

#[tokio::test]
async fn every_documented_path_answers_a_method_it_does_not_serve_with_405_and_allow() {
    let app = spawn_app().await;
    let spec: Value =
        serde_json::from_str(&opsledger::http::openapi::pretty_json()).expect("the generated spec is JSON");
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.len() > 40, "the whole API is documented");
    for (template, item) in paths {
        let mut documented: Vec<String> = item
            .as_object()
            .expect("a path item")
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        if documented.iter().any(|m| m == "GET") {
            documented.push("HEAD".to_owned());
        }
        documented.sort();
        // No operation of the API deletes anything.
        let response = app
            .http
            .delete(app.url(&concrete(template)))
            .bearer_auth(agent())
            .send()
            .await
            .expect("request");
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("DELETE {template}: no Allow header"))
            .to_owned();
        let mut allowed: Vec<String> = allow.split(',').map(|m| m.trim().to_owned()).collect();
        allowed.sort();
        assert_eq!(allowed, documented, "Allow of {template}");
        problem(response, 405, "method-not-allowed").await;
    }
}

#[tokio::test]
async fn head_answers_what_get_would_without_the_body() {
    let app = spawn_app().await;
    let (complaint, _) = app.file_complaint().await;
    let path = format!("/v1/tickets/{}", complaint["id"].as_str().expect("id"));
    let get = app.get(&path, &agent()).await;
    assert_eq!(get.status(), 200);
    let get_etag = get.headers().get("etag").cloned().expect("an ETag");
    let get_length = get.bytes().await.expect("body").len();
    assert!(get_length > 0);

    let head = app
        .http
        .head(app.url(&path))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers().get("etag"), Some(&get_etag), "the same ETag");
    assert_eq!(
        head.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert!(head.bytes().await.expect("body").is_empty(), "no body");

    // HEAD is a GET without the body: the same checks apply.
    let anonymous = app.http.head(app.url(&path)).send().await.expect("request");
    assert_eq!(anonymous.status(), 401);
    let list = app
        .http
        .head(app.url("/v1/tickets?limit=1"))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request");
    assert_eq!(list.status(), 200);
    let queue = app
        .http
        .head(app.url("/v1/faults/queue"))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request");
    assert_eq!(
        queue.status(),
        403,
        "agents may not read the fault queue, with HEAD either"
    );

    // The stream's HEAD answers its headers and does not follow the log.
    let stream = app
        .http
        .head(app.url("/v1/events/stream"))
        .bearer_auth(crate::helpers::auditor())
        .send()
        .await
        .expect("request");
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
}

/// A HEAD shows nothing, so it records no read of personal data.
#[tokio::test]
async fn head_records_no_read_of_personal_data() {
    let app = spawn_app().await;
    let (complaint, _) = app.file_complaint().await;
    let path = format!("/v1/tickets/{}", complaint["id"].as_str().expect("id"));
    let reads = async |app: &crate::helpers::TestApp| {
        let page: Value = app
            .get("/v1/audit/pii-access?limit=500", &crate::helpers::auditor())
            .await
            .json()
            .await
            .expect("json");
        page["items"].as_array().map_or(0, Vec::len)
    };
    let before = reads(&app).await;
    let head = app
        .http
        .head(app.url(&path))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request");
    assert_eq!(head.status(), 200);
    assert_eq!(reads(&app).await, before, "a HEAD is no read");
    assert_eq!(app.get(&path, &agent()).await.status(), 200);
    assert_eq!(reads(&app).await, before + 1, "a GET is one");
}
