//! Problems in the language of the request: the same refusal asked for in
//! Chinese and in English differs only in its words (`title`, `detail`,
//! each `errors[].detail`); `type`, `status`, the pointers and the other
//! members are the same, and `Content-Language` names the language.

use crate::helpers::*;
use serde_json::{Value, json};

/// POSTs `body` to `path` as `token`, with `If-Match` unless `etag` is
/// empty, asking for the problem in `language`.
async fn post_in(
    app: &TestApp,
    language: &str,
    path: &str,
    token: &str,
    etag: &str,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .header("Accept-Language", language)
        .json(body);
    if !etag.is_empty() {
        request = request.header("If-Match", etag);
    }
    request.send().await.expect("request")
}

/// The same refusal in Chinese and in English: asserts the status, the
/// kind and `Content-Language`, and that only the words differ; returns
/// both problem documents, Chinese first.
async fn in_both_languages(
    app: &TestApp,
    (path, token, etag, body): (&str, &str, &str, &Value),
    status: u16,
    kind: &str,
) -> (Value, Value) {
    let mut problems = Vec::new();
    for language in ["zh-CN", "en"] {
        let response = post_in(app, language, path, token, etag, body).await;
        assert_eq!(header(&response, "content-language"), language, "{path}");
        problems.push(problem(response, status, kind).await);
    }
    let (zh, en) = (problems.remove(0), problems.remove(0));
    assert_ne!(zh["title"], en["title"]);
    assert_ne!(zh["detail"], en["detail"]);
    assert_eq!(without_words(&zh), without_words(&en), "only the words differ");
    (zh, en)
}

/// A problem document without its words: no `title`, no `detail`, and no
/// `detail` in any of its `errors`.
fn without_words(problem: &Value) -> Value {
    let mut rest = problem.clone();
    let object = rest.as_object_mut().expect("a problem is an object");
    object.remove("title");
    object.remove("detail");
    for field in object
        .get_mut("errors")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(field) = field.as_object_mut() {
            field.remove("detail");
        }
    }
    rest
}

/// The details of a problem's `errors`, by pointer.
fn field_details(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            let text = |member: &str| e[member].as_str().expect("text").to_owned();
            (text("pointer"), text("detail"))
        })
        .collect()
}

#[tokio::test]
async fn every_invalid_field_is_named_by_the_same_pointer_and_explained_in_the_requests_language() {
    let app = spawn_app().await;
    let mut filing = sample_complaint();
    filing["title"] = json!("");
    filing["complainant"]["phone"] = json!("12");
    filing["complainant"]["email"] = json!("not an address");
    let (zh, en) = in_both_languages(
        &app,
        ("/v1/complaints", &agent(), "", &filing),
        422,
        "validation-failed",
    )
    .await;

    assert_eq!(zh["detail"], "请求中有 3 个字段无效");
    assert_eq!(
        field_details(&zh),
        [
            ("/title".to_owned(), "不能为空".to_owned()),
            (
                "/complainant/phone".to_owned(),
                "必须是 3 到 32 个由数字、空格和 + - ( ) . 组成的字符，且至少含 3 个数字".to_owned()
            ),
            (
                "/complainant/email".to_owned(),
                "必须是电子邮件地址，例如 name@example.com".to_owned()
            ),
        ]
    );
    assert_eq!(en["detail"], "the request has 3 invalid field(s)");
    assert_eq!(
        field_details(&en),
        [
            ("/title".to_owned(), "must not be empty".to_owned()),
            (
                "/complainant/phone".to_owned(),
                "must be 3 to 32 characters of digits, spaces and + - ( ) ., with at least 3 digits".to_owned()
            ),
            (
                "/complainant/email".to_owned(),
                "must be an email address such as name@example.com".to_owned()
            ),
        ]
    );

    // A body of the wrong shape too, in serde's terms around the values it quotes.
    let mut shaped = sample_complaint();
    shaped["priority"] = json!("P9");
    let (zh, en) = in_both_languages(
        &app,
        ("/v1/complaints", &agent(), "", &shaped),
        422,
        "validation-failed",
    )
    .await;
    let (pointer, said) = &field_details(&zh)[0];
    assert_eq!(pointer, "/priority");
    assert!(said.starts_with("未知的取值 `P9`，应为以下之一：`P1`"), "{said}");
    assert!(
        field_details(&en)[0]
            .1
            .starts_with("unknown variant `P9`, expected one of `P1`")
    );
}

#[tokio::test]
async fn a_refusal_by_a_business_rule_says_its_values_in_the_requests_language() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let path = format!("/v1/complaints/{}/priority", complaint["id"].as_str().expect("id"));
    let same = json!({"priority": "P2", "reason": "客户再次来电"});
    let (zh, en) = in_both_languages(&app, (&path, &agent(), &etag, &same), 409, "rule-violated").await;
    assert_eq!(zh["title"], "违反业务规则");
    assert_eq!(zh["detail"], "投诉的优先级已经是 P2");
    assert_eq!(en["title"], "Refused by a business rule");
    assert_eq!(en["detail"], "the complaint's priority is P2 already");
}

#[tokio::test]
async fn a_command_the_state_does_not_allow_is_refused_in_the_requests_language_with_the_same_members() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let path = format!("/v1/complaints/{}/satisfaction", complaint["id"].as_str().expect("id"));
    let rating = json!({"rating": 5});
    let (zh, en) = in_both_languages(&app, (&path, &agent(), &etag, &rating), 409, "invalid-transition").await;
    assert_eq!(zh["title"], "当前状态不允许此操作");
    assert_eq!(zh["detail"], "投诉当前为“已登记”状态，不能记录满意度");
    assert_eq!(en["title"], "Not allowed in the current state");
    assert_eq!(en["detail"], "cannot record satisfaction for a complaint that is filed");
    // The members a client reads stay as the code names them.
    assert_eq!(
        (&zh["state"], &zh["command"]),
        (&json!("filed"), &json!("record satisfaction for"))
    );
}

#[tokio::test]
async fn a_caller_who_may_not_is_told_why_in_the_requests_language() {
    let app = spawn_app().await;
    // Without a token: the route's own guard refuses, before any handler.
    let anonymous = app
        .http
        .get(app.url("/v1/tickets"))
        .header("Accept-Language", "zh-CN")
        .send()
        .await
        .expect("request");
    assert_eq!(header(&anonymous, "content-language"), "zh-CN");
    assert!(header(&anonymous, "www-authenticate").starts_with("Bearer"));
    let refused = problem(anonymous, 401, "unauthenticated").await;
    assert_eq!(
        refused["detail"],
        "缺少 Authorization 请求头：请发送 `Authorization: Bearer <token>`"
    );

    // With a token that lacks the permission: the permission is named.
    let (zh, en) = in_both_languages(
        &app,
        ("/v1/complaints", &auditor(), "", &sample_complaint()),
        403,
        "forbidden",
    )
    .await;
    assert_eq!(zh["detail"], "此操作需要以下权限：登记投诉");
    assert_eq!(en["detail"], "this requires the permission to file a complaint");
}

#[tokio::test]
async fn a_body_that_is_not_json_says_where_in_the_requests_language() {
    let app = spawn_app().await;
    let send = |language: &'static str| {
        app.http
            .post(app.url("/v1/complaints"))
            .bearer_auth(agent())
            .header("Accept-Language", language)
            .header("Content-Type", "application/json")
            .body("{\"title\": ")
            .send()
    };
    let zh = problem(send("zh-CN").await.expect("request"), 400, "malformed-body").await;
    assert_eq!(
        zh["detail"],
        "请求体不是有效的 JSON：第 1 行第 10 列，内容不完整，缺少值"
    );
    let en = problem(send("en").await.expect("request"), 400, "malformed-body").await;
    assert_eq!(
        en["detail"],
        "the request body is not valid JSON: EOF while parsing a value at line 1 column 10"
    );
}
