//! Anyone who can reach the server, unauthenticated, chooses the method and
//! the path of a request. The request metrics must not grow with them: the
//! recorder keeps every series it has seen for the life of the process.
//!
//! It runs in the `process_metrics` test binary, not in `api`, and holds
//! `crate::RECORDER` while it runs, so that no other test adds request
//! series to the shared recorder while the series are counted.

use crate::helpers::*;

/// The lines of `/metrics` that are series of the request metrics (the
/// counter, and the buckets, sum and count of the latency histogram).
async fn request_series(app: &TestApp) -> Vec<String> {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with("opsledger_http_request"))
        .map(|l| l.rsplit_once(' ').map_or(l, |(series, _value)| series).to_owned())
        .collect()
}

/// The `i`th probe: a junk method on a junk path, a junk method on a real
/// route, or a known method on a junk path.
async fn probe(app: &TestApp, i: usize) -> u16 {
    // Some methods are as long as the request line allows the attacker.
    let junk_method = if i.is_multiple_of(100) {
        format!("PTPROBE{i}{}", "A".repeat(4_000))
    } else {
        format!("PTPROBE{i}")
    };
    let junk_path = format!("/probe-{i}/{}", uuid::Uuid::now_v7());
    let (method, path) = match i % 3 {
        0 => (junk_method.as_str(), junk_path.as_str()),
        1 => (junk_method.as_str(), "/healthz"),
        _ => ("GET", junk_path.as_str()),
    };
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method token");
    app.http
        .request(method, app.url(path))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn junk_methods_and_paths_add_no_metric_series() {
    let _alone = crate::RECORDER.lock().await;
    let app = spawn_app().await;
    // One probe of each kind, then one read of /metrics, whose own series
    // only shows from the next read on.
    for i in 0..3 {
        probe(&app, i).await;
    }
    request_series(&app).await;
    let before = request_series(&app).await;

    for i in 3..1_003 {
        let status = probe(&app, i).await;
        assert!((400..500).contains(&status), "probe {i} got {status}");
    }

    let after = request_series(&app).await;
    let added: Vec<String> = after
        .iter()
        .filter(|s| !before.contains(s))
        .take(10)
        .map(|s| s.chars().take(160).collect())
        .collect();
    assert_eq!(after.len(), before.len(), "new series: {added:#?}");

    // What an operator sees of the probes: fixed labels.
    assert!(
        after
            .iter()
            .any(|s| s.contains(r#"method="other",route="unmatched",status="404""#)),
        "{after:#?}"
    );
    assert!(
        after
            .iter()
            .any(|s| s.contains(r#"method="other",route="/healthz",status="405""#)),
        "{after:#?}"
    );
}
