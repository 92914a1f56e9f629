//! `/metrics` exposes what operators watch, in the Prometheus text format.

use std::time::{Duration, Instant};

use crate::helpers::*;

#[tokio::test]
async fn metrics_show_requests_appends_sequencing_and_the_pool() {
    let app = spawn_app().await;
    let (filed, _) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");
    app.get(&format!("/v1/tickets/{id}"), &agent()).await;
    app.get("/v1/tickets/not-a-ticket", &agent()).await;

    // The sequencer positions the filing in the background.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let r = app.http.get(app.url("/metrics")).send().await.expect("metrics");
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()
                .get("content-type")
                .is_some_and(|v| v.to_str().is_ok_and(|t| t.starts_with("text/plain")))
        );
        let text = r.text().await.expect("text");
        if text.contains("opsledger_commit_to_position_seconds_count") {
            break text;
        }
        assert!(Instant::now() < deadline, "no sequencing metrics appeared:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for expected in [
        r#"opsledger_http_requests_total{method="POST",route="/v1/complaints",status="201"}"#,
        r#"opsledger_http_requests_total{method="GET",route="/v1/tickets/{id}",status="200"}"#,
        r#"opsledger_http_requests_total{method="GET",route="/v1/tickets/{id}",status="404"}"#,
        "opsledger_http_request_duration_seconds_bucket",
        r#"opsledger_events_appended_total{type="complaint.filed"}"#,
        "opsledger_sequencer_events_total",
        "opsledger_log_head_position",
        r#"opsledger_db_pool_connections{state="max"}"#,
        r#"opsledger_projection_lag_events{projection="tickets"} 0"#,
        "opsledger_pii_access_records_total",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    assert!(!text.contains(id), "routes are patterns, never ids");
}

#[tokio::test]
async fn every_metric_the_dashboard_plots_is_exposed() {
    let app = spawn_app().await;
    app.file_complaint().await;
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docker/grafana/dashboards/opsledger.json"
        ))
        .expect("dashboard"),
    )
    .expect("dashboard JSON");
    let mut names = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            let mut rest = expr;
            while let Some(start) = rest.find("opsledger_") {
                let name: String = rest[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[start + name.len()..];
                names.push(name);
            }
        }
    }
    assert!(names.len() >= 10, "the dashboard plots the server's metrics: {names:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let missing: Vec<&String> = names.iter().filter(|n| !text.contains(n.as_str())).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard plots metrics the server never exposes: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_configured_metrics_token_is_required() {
    let dir = std::env::temp_dir().join(format!("opsledger-metrics-token-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("token");
    std::fs::write(&file, "scrape-token-0123456789\n").expect("write");
    let app = spawn_app_with(|args| args.metrics_token_file = Some(file.clone())).await;

    let missing = app.http.get(app.url("/metrics")).send().await.expect("metrics");
    assert!(missing.headers().contains_key("www-authenticate"));
    problem(missing, 401, "unauthenticated").await;
    let wrong = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("scrape-token-0123456780")
        .send()
        .await
        .expect("metrics");
    problem(wrong, 401, "unauthenticated").await;
    // A user's JWT is not the scrape credential.
    let jwt = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(token("ops-admin", &[opsledger::domain::Role::Admin]))
        .send()
        .await
        .expect("metrics");
    problem(jwt, 401, "unauthenticated").await;

    let right = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("scrape-token-0123456789")
        .send()
        .await
        .expect("metrics");
    assert_eq!(right.status(), 200);
    assert!(
        right
            .text()
            .await
            .expect("text")
            .contains("opsledger_http_requests_total")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_short_metrics_token_stops_the_server_from_starting() {
    let dir = std::env::temp_dir().join(format!("opsledger-metrics-token-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("token");
    std::fs::write(&file, "short").expect("write");
    let db = crate::helpers::postgres::TestDatabase::create().await;
    let mut args = serve_args(&db);
    args.metrics_token_file = Some(file);
    let error = opsledger::startup::server::Application::build(args)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("at least 16 characters"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
