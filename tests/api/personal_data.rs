//! Personal data over real HTTP and real PostgreSQL: sealed at rest,
//! erasable by crypto-shredding, every clear-text read recorded, keys
//! rotatable without touching an event.

use crate::helpers::*;
use opsledger::domain::Role;
use opsledger::store::verify::{Verdict, verify_streams};
use serde_json::{Value, json};

const NAME: &str = "欧阳娜娜";
const PHONE: &str = "+86 139-1234-5678";
const EMAIL: &str = "ouyang.nana@example.cn";
const REF: &str = "CUST-778899";
const DESCRIPTION: &str = "家里光纤每天凌晨断开，路由器指示灯闪红。";
const UPDATE: &str = "师傅周二上午上门更换光猫";
const COMMENT: &str = "师傅很专业，谢谢";

fn complaint_of(name: &str, phone: &str, email: &str, customer_ref: &str, description: &str) -> Value {
    json!({
        "title": "光纤断线", "description": description, "channel": "phone", "category": "broadband",
        "priority": "P2",
        "complainant": {"name": name, "phone": phone, "email": email, "customer_ref": customer_ref}
    })
}

/// Files a complaint and takes it through the steps that carry personal
/// data: the first response, a progress update and the customer's comment.
async fn complaint_with_history(app: &TestApp, body: &Value) -> Value {
    let r = app
        .http
        .post(app.url("/v1/complaints"))
        .bearer_auth(agent())
        .header("Idempotency-Key", format!("file-{}", uuid::Uuid::now_v7()))
        .json(body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 201);
    let etag = etag_of(&r);
    let filed: Value = r.json().await.expect("json");
    let id = filed["id"].as_str().expect("id").to_owned();
    let (s, body, _) = app
        .transition(&id, "acknowledge", &etag, json!({"message": "您好，已收到"}))
        .await;
    assert_eq!(s, 200, "{body}");
    let note = app
        .post(
            &format!("/v1/complaints/{id}/notes"),
            &agent(),
            &json!({"body": UPDATE, "visibility": "complainant"}),
        )
        .await;
    assert_eq!(note.status(), 200);
    let etag = etag_of(&note);
    let (s, _, etag) = app
        .transition(&id, "resolve", &etag, json!({"resolution": "更换光猫"}))
        .await;
    assert_eq!(s, 200);
    let (s, view, _) = app
        .transition(&id, "satisfaction", &etag, json!({"rating": 5, "comment": COMMENT}))
        .await;
    assert_eq!(s, 200);
    view
}

/// Every row of every table of the database, as text: what a stolen dump holds.
async fn dump(app: &TestApp) -> String {
    let client = app.db.connect_admin().await;
    let tables: Vec<String> = client
        .query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", &[])
        .await
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut text = String::new();
    for table in tables {
        // bytea columns print as hex; decode the stored JSON envelopes too.
        let rows = client
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .await
            .expect("rows");
        for row in rows {
            text.push_str(&row.get::<_, String>(0));
            text.push('\n');
        }
    }
    for row in client
        .query("SELECT convert_from(stored, 'UTF8') FROM events", &[])
        .await
        .expect("events")
    {
        text.push_str(&row.get::<_, String>(0));
    }
    text
}

fn assert_reveals_nothing(dump: &str) {
    for secret in [
        NAME,
        "13912345678",
        "139-1234-5678",
        EMAIL,
        REF,
        DESCRIPTION,
        UPDATE,
        COMMENT,
        "您好，已收到",
    ] {
        assert!(!dump.contains(secret), "the dump reveals {secret:?}");
    }
}

#[tokio::test]
async fn a_database_dump_reveals_no_personal_data_without_the_master_key() {
    let app = spawn_app().await;
    let view = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    assert_eq!(view["complainant"]["name"], NAME, "the agent sees clear text");
    assert_eq!(view["satisfaction"]["comment"], COMMENT);
    let dump = dump(&app).await;
    assert!(
        dump.contains("光纤断线"),
        "the dump is real: the title is not personal data"
    );
    assert_reveals_nothing(&dump);
}

#[tokio::test]
async fn erasure_shreds_one_subject_and_leaves_others_and_every_chain_intact() {
    let app = spawn_app().await;
    let erased = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    let kept = complaint_with_history(
        &app,
        &complaint_of(
            "王强",
            "+86 137 0000 1111",
            "wang.qiang@example.cn",
            "CUST-1",
            "另一位客户",
        ),
    )
    .await;
    let subject = erased["subject"].as_str().expect("subject").to_owned();
    let id = erased["id"].as_str().expect("id").to_owned();

    // Only an admin may erase; a reason is required.
    let r = app
        .post(
            &format!("/v1/subjects/{subject}/erasure"),
            &agent(),
            &json!({"reason": "x"}),
        )
        .await;
    problem(r, 403, "forbidden").await;
    let r = app
        .post(
            &format!("/v1/subjects/{subject}/erasure"),
            &admin(),
            &json!({"reason": ""}),
        )
        .await;
    problem(r, 422, "validation-failed").await;

    let r = app
        .post(
            &format!("/v1/subjects/{subject}/erasure"),
            &admin(),
            &json!({"reason": "erasure request ER-7"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let receipt: Value = r.json().await.expect("json");
    assert_eq!(receipt["tickets_scrubbed"], 1);
    assert_eq!(
        receipt["responses_scrubbed"], 1,
        "the stored idempotent filing response is scrubbed, and kept as a tombstone"
    );

    // Views, history, lists and lookups show the data as erased.
    let view: Value = app
        .get(&format!("/v1/tickets/{id}"), &agent())
        .await
        .json()
        .await
        .expect("json");
    for field in ["name", "phone", "email", "customer_ref"] {
        assert_eq!(view["complainant"][field], "[erased]", "{field}");
    }
    assert_eq!(view["description"], "[erased]");
    assert_eq!(view["notes"][0]["body"], "[erased]");
    assert_eq!(view["satisfaction"]["comment"], "[erased]");
    assert_eq!(view["title"], "光纤断线", "what is not personal data stays");
    let history: Value = app
        .get(&format!("/v1/tickets/{id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    let history_text = history.to_string();
    assert!(!history_text.contains(NAME) && !history_text.contains(UPDATE));
    assert_eq!(history["events"][0]["payload"]["complainant"]["name"], "[erased]");
    let found: Value = app
        .get(&format!("/v1/tickets?phone={}", "8613912345678"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        found["items"].as_array().map(Vec::len),
        Some(0),
        "the blind index forgot the subject"
    );
    let export: Value = app
        .get(&format!("/v1/subjects/{subject}/export"), &admin())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(export["erased"], true);
    assert!(!export.to_string().contains(NAME));

    // Nothing else is touched, and nothing new can be recorded about them.
    let other: Value = app
        .get(&format!("/v1/tickets/{}", kept["id"].as_str().expect("id")), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(other["complainant"]["name"], "王强");
    assert_eq!(other["notes"][0]["body"], UPDATE);
    let r = app
        .post(
            &format!("/v1/complaints/{id}/notes"),
            &agent(),
            &json!({"body": "again", "visibility": "complainant"}),
        )
        .await;
    problem(r, 409, "rule-violated").await;
    let r = app
        .post(
            &format!("/v1/subjects/{subject}/erasure"),
            &admin(),
            &json!({"reason": "twice"}),
        )
        .await;
    problem(r, 409, "rule-violated").await;
    let r = app
        .post(
            &format!("/v1/subjects/{}/erasure", uuid::Uuid::now_v7()),
            &admin(),
            &json!({"reason": "?"}),
        )
        .await;
    problem(r, 404, "not-found").await;

    // The chains still verify, the erasure is in the log, and even with the
    // master key the database holds nothing that opens the subject's data.
    let owner = app.db.connect_admin().await;
    match verify_streams(&owner).await.expect("verify") {
        Verdict::Intact { streams, .. } => assert_eq!(streams, 3, "two complaints and one subject stream"),
        broken => panic!("{broken:?}"),
    }
    let erasure_event: String = owner
        .query_one(
            "SELECT convert_from(stored, 'UTF8') FROM events WHERE event_type = 'subject.erased'",
            &[],
        )
        .await
        .expect("erasure event")
        .get(0);
    assert!(erasure_event.contains("erasure request ER-7") && erasure_event.contains("admin-1"));
    let keys: i64 = owner
        .query_one(
            "SELECT count(*) FROM subject_keys WHERE subject_id = $1::text::uuid",
            &[&subject],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(keys, 0);
    assert_reveals_nothing(&dump(&app).await);
}

#[tokio::test]
async fn clear_text_reads_are_recorded_and_masked_reads_are_not() {
    let app = spawn_app().await;
    let view = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    let id = view["id"].as_str().expect("id");
    let subject = view["subject"].as_str().expect("subject");
    let auditor = auditor();
    let before = records(&app, &auditor, subject).await;
    // Filing and each transition returned clear text to the agent: 1 + 4.
    assert_eq!(before.len(), 5, "{before:?}");

    let r = app
        .http
        .get(app.url(&format!("/v1/tickets/{id}")))
        .bearer_auth(agent())
        .header("x-request-id", "read-42")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let request_id = header(&r, "x-request-id");
    let after = records(&app, &auditor, subject).await;
    assert_eq!(after.len(), 6);
    let newest = &after[0];
    assert_eq!(newest["actor"], format!("{ISSUER}|agent-1"));
    assert_eq!(newest["endpoint"], "GET /v1/tickets/{id}");
    assert_eq!(newest["request_id"], request_id.as_str());
    assert_eq!(newest["client_request_id"], "read-42");
    assert_eq!(newest["subject"], subject);

    // Masked reads reveal nothing and leave no record.
    let engineer = engineer("eng-1");
    let masked: Value = app
        .get(&format!("/v1/tickets/{id}"), &engineer)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(masked["complainant"]["name"], "欧**");
    assert_eq!(masked["description"], "***");
    app.get(&format!("/v1/tickets/{id}/history"), &engineer).await;
    app.get("/v1/tickets", &auditor).await;
    assert_eq!(records(&app, &auditor, subject).await.len(), 6);

    // Filters, and who may read the log.
    let by_actor: Value = app
        .get(
            &format!("/v1/audit/pii-access?actor={ISSUER}%7Cagent-1&limit=2"),
            &auditor,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_actor["items"].as_array().map(Vec::len), Some(2));
    assert!(by_actor["next_before"].is_i64());
    problem(app.get("/v1/audit/pii-access", &agent()).await, 403, "forbidden").await;
}

/// Another principal sends the request id a victim used, to muddle the
/// trail: the trail records the server's own ids, which tell the two apart,
/// and keeps the id each client sent only as `client_request_id`.
#[tokio::test]
async fn a_request_id_chosen_by_the_client_never_becomes_the_id_of_record() {
    let app = spawn_app().await;
    let view = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    let id = view["id"].as_str().expect("id");
    let subject = view["subject"].as_str().expect("subject");
    let victim = agent();
    let intruder = token("agent-2", &[Role::Agent]);

    let mut server_ids = Vec::new();
    for who in [&victim, &intruder] {
        let read = app
            .http
            .get(app.url(&format!("/v1/tickets/{id}")))
            .bearer_auth(who)
            .header("x-request-id", "victim-id")
            .send()
            .await
            .expect("request");
        assert_eq!(read.status(), 200);
        assert_eq!(
            header(&read, "x-client-request-id"),
            "victim-id",
            "echoed for correlation"
        );
        let server_id = header(&read, "x-request-id");
        let parsed = uuid::Uuid::parse_str(&server_id).expect("the server's id is a UUID");
        assert_eq!(parsed.get_version_num(), 7);
        server_ids.push(server_id);
    }
    assert_ne!(server_ids[0], server_ids[1]);
    let note = app
        .http
        .post(app.url(&format!("/v1/complaints/{id}/notes")))
        .bearer_auth(&intruder)
        .header("x-request-id", "victim-id")
        .json(&json!({"body": "internal note", "visibility": "internal"}))
        .send()
        .await
        .expect("request");
    assert_eq!(note.status(), 200);
    let note_id = header(&note, "x-request-id");

    let auditor = auditor();
    let reads = records(&app, &auditor, subject).await;
    let sent_victim_id: Vec<(&str, &str)> = reads
        .iter()
        .filter(|r| r["client_request_id"] == "victim-id")
        .map(|r| {
            (
                r["actor"].as_str().expect("actor"),
                r["request_id"].as_str().expect("id"),
            )
        })
        .collect();
    let (victim_actor, intruder_actor) = (format!("{ISSUER}|agent-1"), format!("{ISSUER}|agent-2"));
    assert_eq!(
        sent_victim_id,
        [
            // Newest first: the note's response showed the ticket too.
            (intruder_actor.as_str(), note_id.as_str()),
            (intruder_actor.as_str(), server_ids[1].as_str()),
            (victim_actor.as_str(), server_ids[0].as_str()),
        ]
    );
    assert!(reads.iter().all(|r| r["request_id"] != "victim-id"));

    let history: Value = app
        .get(&format!("/v1/tickets/{id}/history"), &auditor)
        .await
        .json()
        .await
        .expect("json");
    let events = history["events"].as_array().expect("events");
    let noted = events.last().expect("the note");
    assert_eq!(noted["type"], "complaint.note_added");
    assert_eq!(noted["request_id"], note_id.as_str());
    assert_eq!(noted["client_request_id"], "victim-id");
    assert_eq!(
        noted["correlation_id"],
        note_id.as_str(),
        "correlated with the server's id"
    );
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|e| e["request_id"] != "victim-id" && e.get("client_request_id").is_none()),
        "{events:#?}"
    );

    // As stored in the envelope the log's hashes cover.
    let owner = app.db.connect_admin().await;
    let stored: Value = owner
        .query_one(
            "SELECT convert_from(stored, 'UTF8')::jsonb -> 'metadata' FROM events
             WHERE stream_id = $1::text::uuid ORDER BY version DESC LIMIT 1",
            &[&id],
        )
        .await
        .expect("event")
        .get(0);
    assert_eq!(stored["request_id"], note_id.as_str());
    assert_eq!(stored["client_request_id"], "victim-id");
}

async fn records(app: &TestApp, auditor: &str, subject: &str) -> Vec<Value> {
    let page: Value = app
        .get(&format!("/v1/audit/pii-access?subject={subject}"), auditor)
        .await
        .json()
        .await
        .expect("json");
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn agents_find_a_callers_complaints_by_exact_contact() {
    let app = spawn_app().await;
    let view = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    let mut again = complaint_of(NAME, "+86 139 1234 5678", EMAIL, REF, "第二次投诉");
    again["complainant"].as_object_mut().expect("object").remove("email");
    let second: Value = app
        .post("/v1/complaints", &agent(), &again)
        .await
        .json()
        .await
        .expect("json");
    assert_ne!(
        second["subject"], view["subject"],
        "a matching contact never joins two filings into one data subject"
    );

    // Each filing is found by the contacts it carries: the second one gave
    // no email, and a shared contact does not lend it the first one's.
    for (query, found) in [
        ("phone=8613912345678", 2),
        ("email=OUYANG.NANA@example.cn", 1),
        ("customer_ref=cust-778899", 2),
    ] {
        let page: Value = app
            .get(&format!("/v1/tickets?{query}"), &agent())
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(found), "{query}");
    }
    let none: Value = app
        .get("/v1/tickets?phone=10086", &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    let engineer = engineer("eng-1");
    problem(
        app.get("/v1/tickets?phone=8613912345678", &engineer).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_export_returns_everything_in_clear_and_is_itself_recorded() {
    let app = spawn_app().await;
    let view = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    let subject = view["subject"].as_str().expect("subject");
    problem(
        app.get(&format!("/v1/subjects/{subject}/export"), &agent()).await,
        403,
        "forbidden",
    )
    .await;

    let export: Value = app
        .get(&format!("/v1/subjects/{subject}/export"), &admin())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(export["erased"], false);
    let ticket = &export["tickets"][0];
    assert_eq!(ticket["view"]["complainant"]["email"], EMAIL);
    assert_eq!(ticket["history"].as_array().map(Vec::len), Some(8));
    let types: Vec<&str> = ticket["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.acknowledged",
            "sla.clock_stopped",
            "complaint.note_added",
            "complaint.resolved",
            "sla.clock_stopped",
            "complaint.satisfaction_recorded"
        ]
    );
    assert_eq!(ticket["history"][4]["payload"]["body"], UPDATE);
    assert!(export["access_log"].as_array().is_some_and(|l| !l.is_empty()));

    let auditor = auditor();
    let page: Value = app
        .get(
            &format!("/v1/audit/pii-access?subject={subject}&actor={ISSUER}%7Cadmin-1"),
            &auditor,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"][0]["endpoint"], "GET /v1/subjects/{id}/export");
    problem(
        app.get(&format!("/v1/subjects/{}/export", uuid::Uuid::now_v7()), &admin())
            .await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn rotating_the_master_key_rewraps_every_key_and_changes_no_event() {
    let app = spawn_app().await;
    let view = complaint_with_history(&app, &complaint_of(NAME, PHONE, EMAIL, REF, DESCRIPTION)).await;
    let id = view["id"].as_str().expect("id").to_owned();
    let owner = app.db.connect_admin().await;
    let events_before: Vec<Vec<u8>> = owner
        .query("SELECT stored FROM events ORDER BY seq_id", &[])
        .await
        .expect("events")
        .iter()
        .map(|r| r.get(0))
        .collect();

    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let new_key_file = dir.join(format!("new-master-{}.key", uuid::Uuid::now_v7()));
    let new_key = "1f".repeat(32);
    std::fs::write(&new_key_file, &new_key).expect("key file");
    let output = std::process::Command::new(BIN)
        .arg("rotate-master-key")
        .arg("--new-key")
        .arg(&new_key_file)
        .env("DATABASE_URL", url_of(&app.db.admin, None))
        .env("OPSLEDGER_MASTER_KEY", MASTER_KEY)
        .env_remove("OPSLEDGER_MIGRATION_DATABASE_URL")
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // The system keys: the blind index's, the ETags' and the cursors'.
    assert!(String::from_utf8_lossy(&output.stdout).contains("re-wrapped 1 subject key(s) and 3 system key(s)"));

    // The old key opens nothing any more.
    let old = opsledger::privacy::crypto::MasterKey::parse(MASTER_KEY).expect("key");
    for row in owner
        .query("SELECT subject_id, wrapped_key FROM subject_keys", &[])
        .await
        .expect("keys")
    {
        let subject: uuid::Uuid = row.get(0);
        let wrapped: Vec<u8> = row.get(1);
        assert!(old.unwrap(&wrapped, subject.as_bytes()).is_err());
    }
    let events_after: Vec<Vec<u8>> = owner
        .query("SELECT stored FROM events ORDER BY seq_id", &[])
        .await
        .expect("events")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(events_before, events_after, "no event was touched");

    // A server with the new key reads everything as before.
    let (base, _handle) = start_server(&app.db, |args| args.master.master_key = Some(new_key.clone())).await;
    let reread: Value = app
        .http
        .get(format!("{base}/v1/tickets/{id}"))
        .bearer_auth(agent())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(reread["complainant"]["name"], NAME);
    assert_eq!(reread["notes"][0]["body"], UPDATE);
    let _ = std::fs::remove_file(new_key_file);
}
