//! Issue 15, item 8: an agent following the filtered stream, with the
//! test of `tests/api/read_rules.rs` that counts a process-wide metric.
//!
//! It counts `opsledger_feed_reads_total`, which every server in the test
//! process adds to. In the `api` binary, tests that poll the feed (feed.rs,
//! global_log.rs, the feed test of read_rules.rs) would run beside it and
//! count as its idle reads; here it runs alone (see `crate::RECORDER`).

use std::time::Duration;

use crate::helpers::*;
use futures_util::StreamExt;
use serde_json::json;

/// Reads the SSE stream until an event of `stream` arrives; returns its frame.
async fn next_event_of(response: &mut reqwest::Response, stream: &str) -> String {
    let mut buffer = String::new();
    while let Some(chunk) = response.chunk().await.expect("stream readable") {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains(stream) {
                return frame;
            }
        }
    }
    panic!("the stream ended before an event of {stream}");
}

async fn feed_reads(app: &TestApp) -> f64 {
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
        .find_map(|l| l.strip_prefix("opsledger_feed_reads_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn an_agent_following_the_stream_gets_a_new_complaint_past_a_thousand_hidden_changes() {
    let _alone = crate::RECORDER.lock().await;
    let app = spawn_app().await;
    let mut response = app
        .http
        .get(app.url("/v1/events/stream"))
        .bearer_auth(agent())
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);

    // 1,000 changes the agent may not read, eight writers at a time.
    let drafts = futures_util::stream::iter(0..1000)
        .map(|i| {
            let app = &app;
            async move {
                let draft = json!({"title": format!("change {i}"), "description": "d", "affected_services": ["svc"],
                                   "maintenance_type": "adaptive", "change_type": "normal"});
                app.post("/v1/changes", &engineer("eng-1"), &draft)
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    assert!(drafts.iter().all(|s| *s == 201));

    let (complaint, _) = app.file_complaint().await;
    let id = complaint["id"].as_str().expect("id");
    let frame = tokio::time::timeout(Duration::from_secs(2), next_event_of(&mut response, id))
        .await
        .expect("the complaint arrives within 2 s of its filing");
    assert!(frame.contains("complaint.filed") && !frame.contains("change.drafted"));

    // Idle now: a follower that waited for a position it had passed would
    // read the log over and over.
    let before = feed_reads(&app).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_reads = feed_reads(&app).await - before;
    assert!(idle_reads < 20.0, "{idle_reads} feed reads in one idle second");
}
