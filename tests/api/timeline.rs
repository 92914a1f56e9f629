//! The readable timeline, as an auditor reads it: a sentence per event in
//! Chinese or English by `Accept-Language`, what each event changed in the
//! view down to the element, masked for callers without `pii:read`, and
//! the history as CSV a spreadsheet opens without running anything.

use crate::helpers::*;
use serde_json::{Value, json};

/// A ticket's history read with these headers; returns the response.
async fn history(app: &TestApp, id: &str, token: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .get(app.url(&format!("/v1/tickets/{id}/history")))
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

async fn timeline(app: &TestApp, id: &str, token: &str, language: &str) -> (String, Vec<Value>) {
    let response = history(app, id, token, &[("Accept-Language", language)]).await;
    assert_eq!(response.status(), 200);
    let content_language = response
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.expect("json");
    (content_language, body["events"].as_array().expect("events").clone())
}

fn summaries(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["summary"].as_str().expect("summary")).collect()
}

fn paths(event: &Value) -> Vec<&str> {
    event["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["path"].as_str().expect("path"))
        .collect()
}

/// Files a complaint and takes it to resolved; returns its id.
async fn resolved_complaint(app: &TestApp) -> String {
    let (c, etag) = app.ok("/v1/complaints", &agent(), "", sample_complaint()).await;
    let id = c["id"].as_str().expect("id").to_owned();
    let path = |command: &str| format!("/v1/complaints/{id}/{command}");
    let (_, etag) = app
        .ok(
            &path("acknowledge"),
            &agent(),
            &etag,
            json!({"message": "您好张伟，已收到您的投诉。"}),
        )
        .await;
    let (_, etag) = app
        .ok(&path("assign"), &agent(), &etag, json!({"team": "宽带组"}))
        .await;
    let (_, etag) = app
        .ok(
            &path("resolve"),
            &agent(),
            &etag,
            json!({"resolution": "更换光猫", "root_cause": "光猫老化"}),
        )
        .await;
    let _ = etag;
    id
}

#[tokio::test]
async fn the_timeline_speaks_chinese_or_english_and_masks_what_the_view_masks() {
    let app = spawn_app().await;
    let id = resolved_complaint(&app).await;

    // An agent (pii:read) in Chinese: the complainant by name.
    let (language, events) = timeline(&app, &id, &agent(), "zh-CN,zh;q=0.9,en;q=0.5").await;
    assert_eq!(language, "zh-CN");
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        types,
        [
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.acknowledged",
            "sla.clock_stopped",
            "complaint.assigned",
            "complaint.resolved",
            "sla.clock_stopped"
        ]
    );
    let said = summaries(&events);
    assert!(said[0].contains("登记了投诉") && said[0].contains("张伟"), "{said:?}");
    assert!(said[0].contains("电话"), "the channel in Chinese: {}", said[0]);
    assert!(said[1].starts_with("已固定服务级别计时（filed）"), "{}", said[1]);
    assert!(said[4].contains("宽带组"), "{}", said[4]);
    assert_eq!(said[5], "agent-1 解决了投诉：更换光猫（根本原因：光猫老化）");

    // An auditor (no pii:read) in English, by q-value: no name, no phone,
    // in the sentences or the changes.
    let (language, events) = timeline(&app, &id, &auditor(), "fr;q=1, en;q=0.8, zh;q=0.1").await;
    assert_eq!(language, "en");
    let said = summaries(&events);
    assert!(said[0].starts_with("agent-1 filed complaint CMP-"), "{}", said[0]);
    assert!(
        said[1].starts_with("Service-level clocks pinned (filed) under policy version"),
        "{}",
        said[1]
    );
    assert_eq!(
        said[5],
        "agent-1 resolved the complaint: 更换光猫 (root cause: 光猫老化)"
    );
    let whole = serde_json::to_string(&events).expect("json");
    for secret in ["张伟", "0013 8000", "zhang.wei"] {
        assert!(!whole.contains(secret), "{secret} shown to an auditor: {whole}");
    }
    // The data subject is personal data too: no change names it.
    assert!(!paths(&events[0]).contains(&"/subject"), "{:?}", paths(&events[0]));

    // What each event changed, down to the element.
    assert!(paths(&events[0]).contains(&"/complainant"));
    let resolved = &events[5];
    assert!(paths(resolved).contains(&"/status"), "{resolved}");
    let status = resolved["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["path"] == "/status")
        .expect("status changed");
    assert_eq!(
        (&status["old"], &status["new"]),
        (&json!("in_progress"), &json!("resolved"))
    );

    // No Accept-Language: the server's default (English here).
    let response = history(&app, &id, &auditor(), &[]).await;
    assert_eq!(
        response.headers().get("content-language").and_then(|v| v.to_str().ok()),
        Some("en")
    );

    // After erasure, the name is gone from the sentences, for everyone.
    let (view, _) = app.view(&id, &agent()).await;
    let subject = view["subject"].as_str().expect("subject").to_owned();
    app.ok(
        &format!("/v1/subjects/{subject}/erasure"),
        &admin(),
        "",
        json!({"reason": "erasure request ER-7"}),
    )
    .await;
    let (_, events) = timeline(&app, &id, &agent(), "zh-CN").await;
    let said = summaries(&events);
    assert!(!said[0].contains("张伟") && said[0].contains("[erased]"), "{}", said[0]);
}

#[tokio::test]
async fn each_note_changes_one_element_and_a_later_page_folds_from_the_start() {
    let app = spawn_app().await;
    let (c, _) = app.ok("/v1/complaints", &agent(), "", sample_complaint()).await;
    let id = c["id"].as_str().expect("id").to_owned();
    for n in 0..30 {
        app.ok(
            &format!("/v1/complaints/{id}/notes"),
            &agent(),
            "",
            json!({"body": format!("巡检记录 {n}"), "visibility": "internal"}),
        )
        .await;
    }
    let (_, events) = timeline(&app, &id, &agent(), "en").await;
    // The filing, its clocks, then the notes (which move no clock).
    assert_eq!(events.len(), 32);
    assert_eq!(events[1]["type"], "sla.clocks_pinned");
    for (n, event) in events[2..].iter().enumerate() {
        assert_eq!(paths(event), [format!("/notes/{n}").as_str()], "{event}");
        assert_eq!(event["changes"][0]["old"], Value::Null);
        assert_eq!(event["changes"][0]["new"]["body"], format!("巡检记录 {n}"));
    }
    assert_eq!(events[31]["summary"], "agent-1 added an internal note: “巡检记录 29”");

    // The second page names the same elements: the view before it is
    // folded from the stream's first event.
    let response = app
        .http
        .get(app.url(&format!("/v1/tickets/{id}/history?after_version=20&limit=5")))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request");
    let page: Value = response.json().await.expect("json");
    let page = page["events"].as_array().expect("events");
    assert_eq!(page.len(), 5);
    for (event, whole) in page.iter().zip(&events[20..25]) {
        assert_eq!(event["changes"], whole["changes"]);
        assert_eq!(event["summary"], whole["summary"]);
    }
}

#[tokio::test]
async fn the_history_as_csv_opens_in_a_spreadsheet_without_running_anything() {
    let app = spawn_app().await;
    let (c, etag) = app.ok("/v1/complaints", &agent(), "", sample_complaint()).await;
    let id = c["id"].as_str().expect("id").to_owned();
    let number = c["number"].as_str().expect("number").to_owned();
    let (_, etag) = app
        .ok(&format!("/v1/complaints/{id}/acknowledge"), &agent(), &etag, json!({}))
        .await;
    app.ok(
        &format!("/v1/complaints/{id}/wait-on-customer"),
        &agent(),
        &etag,
        json!({"reason": "=HYPERLINK(\"http://evil.example\",\"click\")"}),
    )
    .await;

    let response = history(
        &app,
        &id,
        &auditor(),
        &[("Accept", "text/csv"), ("Accept-Language", "zh-CN")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(header("content-language"), "zh-CN");
    assert!(header("content-disposition").contains(&number));
    let text = response.text().await.expect("text");
    assert!(text.starts_with('\u{feff}'), "a byte-order mark for spreadsheets");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        [
            "time",
            "actor",
            "event_type",
            "version",
            "summary",
            "path",
            "old",
            "new"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    // One row per changed element, at least one per event.
    assert!(rows.len() >= 3);
    assert_eq!(&rows[0][2], "complaint.filed");
    assert!(
        rows.iter()
            .all(|r| !r.iter().any(|cell| cell.starts_with(['=', '+', '-', '@', '\t', '\r']))),
        "no cell a spreadsheet would run: {rows:?}"
    );
    let waiting = rows
        .iter()
        .find(|r| &r[5] == "/waiting_reason")
        .expect("the reason's row");
    assert_eq!(&waiting[7], "'=HYPERLINK(\"http://evil.example\",\"click\")");
    assert!(waiting[4].contains("正在等待客户回复"), "{:?}", &waiting[4]);
    // Masked as in JSON: the auditor sees no name.
    assert!(!text.contains("张伟"));

    // JSON stays the default.
    let response = history(&app, &id, &auditor(), &[("Accept", "application/json, text/csv;q=0.5")]).await;
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"))
    );
}

#[tokio::test]
async fn a_correction_reads_in_the_timeline_with_its_reason_and_what_it_replaced() {
    let app = spawn_app().await;
    let (c, etag) = app.ok("/v1/complaints", &agent(), "", sample_complaint()).await;
    let id = c["id"].as_str().expect("id").to_owned();
    app.ok(
        &format!("/v1/complaints/{id}/priority"),
        &agent(),
        &etag,
        json!({"priority": "P1", "reason": "客户是医院，断网影响急诊"}),
    )
    .await;
    let (_, events) = timeline(&app, &id, &auditor(), "zh-CN").await;
    let changed = events
        .iter()
        .find(|e| e["type"] == "complaint.priority_changed")
        .expect("the correction is in the timeline");
    assert_eq!(
        changed["summary"],
        "agent-1 将优先级从 P2 调整为 P1：客户是医院，断网影响急诊"
    );
    let priority = changed["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["path"] == "/priority")
        .expect("the priority changed");
    assert_eq!((&priority["old"], &priority["new"]), (&json!("P2"), &json!("P1")));
    let (_, events) = timeline(&app, &id, &auditor(), "en").await;
    // After the filing and its clocks; the clocks are pinned again after it.
    assert_eq!(
        events[2]["summary"],
        "agent-1 changed the priority from P2 to P1: 客户是医院，断网影响急诊"
    );
    assert!(
        events[3]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Service-level clocks pinned (priority_changed)")),
        "{}",
        events[3]["summary"]
    );
}

#[tokio::test]
async fn a_problem_speaks_the_requests_language_and_keeps_its_type() {
    let app = spawn_app().await;
    let bad = json!({"title": "", "description": "", "channel": "phone", "category": "x", "priority": "P2",
                     "complainant": {"name": "张伟"}});
    let send = |language: &'static str| {
        let app = &app;
        let bad = bad.clone();
        async move {
            app.http
                .post(app.url("/v1/complaints"))
                .bearer_auth(agent())
                .header("Accept-Language", language)
                .json(&bad)
                .send()
                .await
                .expect("request")
        }
    };
    let response = send("zh-CN").await;
    assert_eq!(
        response.headers().get("content-language").and_then(|v| v.to_str().ok()),
        Some("zh-CN")
    );
    let body = problem(response, 422, "validation-failed").await;
    assert_eq!(body["title"], "请求无效");
    let fields = body["errors"].as_array().expect("errors").len();
    assert_eq!(body["detail"], format!("请求中有 {fields} 个字段无效"));

    let body = problem(send("en").await, 422, "validation-failed").await;
    assert_eq!(body["title"], "Invalid request");

    // The framework's own errors too.
    let response = app
        .http
        .get(app.url("/v1/no-such-thing"))
        .bearer_auth(agent())
        .header("Accept-Language", "zh")
        .send()
        .await
        .expect("request");
    let body = problem(response, 404, "not-found").await;
    assert_eq!(body["title"], "未找到");
}
