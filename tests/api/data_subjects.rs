//! One person, one data subject: the attacks of issue 14, written as the
//! attacker or the administrator would run them, over real HTTP and real
//! PostgreSQL. Before the fix a matching phone or email joined different
//! people into one subject, so one person's export held another's data, an
//! erasure left a bridging complaint findable, and the subject id told a
//! write-only caller whether a phone number was already known.

use std::path::PathBuf;

use crate::helpers::postgres::TestDatabase;
use crate::helpers::*;
use opsledger::domain::Role;
use opsledger::startup::config::{ImportArgs, MasterKeyArgs, RepairArgs, StrongIdentifier, StrongIdentifierArgs};
use opsledger::startup::{backup, maintenance};
use opsledger::store::verify::{Verdict, verify_streams};
use serde_json::{Value, json};
use uuid::Uuid;

const BOBS_PHONE: &str = "+86 139 0000 0001";
const ALICES_EMAIL: &str = "a@x.example";

fn filing(title: &str, complainant: Value, description: &str) -> Value {
    json!({
        "title": title, "description": description, "channel": "phone", "category": "broadband",
        "priority": "P3", "complainant": complainant
    })
}

fn subject_of(view: &Value) -> String {
    view["subject"]
        .as_str()
        .expect("a subject, for a caller with pii:read")
        .to_owned()
}

/// The four filings of the attack: Alice, Bob, Xavier (with Alice's email
/// and Bob's phone), and Bob again with a private description.
async fn four_filings(app: &TestApp) -> [Value; 4] {
    let a = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing("A", json!({"name": "Alice Archer", "email": ALICES_EMAIL}), "router"),
        )
        .await;
    let b = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing("B", json!({"name": "Bob Baker", "phone": BOBS_PHONE}), "noisy line"),
        )
        .await;
    let x = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing(
                "X",
                json!({"name": "Xavier Xu", "email": ALICES_EMAIL, "phone": BOBS_PHONE}),
                "shares both contacts",
            ),
        )
        .await;
    let b2 = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing("B2", json!({"name": "Bob Baker", "phone": BOBS_PHONE}), "private"),
        )
        .await;
    [a, b, x, b2]
}

/// `GET /v1/subjects?{query}`: the subjects a contact identifies.
async fn subjects_by(app: &TestApp, query: &str) -> Vec<String> {
    let page = json_of(app.get(&format!("/v1/subjects?{query}"), &admin()).await, 200).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["subject"].as_str().expect("subject").to_owned())
        .collect()
}

async fn export(app: &TestApp, subject: &str) -> Value {
    json_of(app.get(&format!("/v1/subjects/{subject}/export"), &admin()).await, 200).await
}

async fn erase(app: &TestApp, subject: &str) -> Value {
    let r = app
        .post(
            &format!("/v1/subjects/{subject}/erasure"),
            &admin(),
            &json!({"reason": "erasure request ER-14"}),
        )
        .await;
    json_of(r, 200).await
}

async fn tickets_with(app: &TestApp, query: &str) -> Vec<String> {
    let page = json_of(app.get(&format!("/v1/tickets?{query}"), &agent()).await, 200).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect()
}

#[tokio::test]
async fn a_shared_contact_never_joins_two_people() {
    let app = spawn_app().await;
    let [a, b, x, b2] = four_filings(&app).await;
    let subjects: Vec<String> = [&a, &b, &x, &b2].into_iter().map(subject_of).collect();
    let distinct: std::collections::BTreeSet<&String> = subjects.iter().collect();
    assert_eq!(distinct.len(), 4, "every filing has a subject of its own: {subjects:?}");

    // Alice's export holds Alice's complaint and nothing of Bob's or Xavier's.
    let alice = export(&app, &subjects[0]).await;
    assert_eq!(alice["tickets"].as_array().map(Vec::len), Some(1));
    let text = alice.to_string();
    assert!(text.contains("Alice Archer"));
    for foreign in ["Bob Baker", "private", "Xavier", "139 0000 0001"] {
        assert!(!text.contains(foreign), "Alice's export holds {foreign:?}");
    }

    // A contact shared by several people identifies each of them.
    let by_phone = subjects_by(&app, "phone=%2B8613900000001").await;
    assert_eq!(by_phone.len(), 3, "Bob's two filings and Xavier's");
    for s in [&subjects[1], &subjects[2], &subjects[3]] {
        assert!(by_phone.contains(s));
    }
    let by_email = subjects_by(&app, &format!("email={ALICES_EMAIL}")).await;
    assert_eq!(by_email.len(), 2);
    assert_eq!(tickets_with(&app, "phone=%2B86%20139%200000%200001").await.len(), 3);
}

#[tokio::test]
async fn erasing_bobs_subjects_found_by_his_phone_leaves_the_bridging_complaint() {
    let app = spawn_app().await;
    let [_, b, x, b2] = four_filings(&app).await;

    // The administrator handling Bob's request looks his phone up and
    // erases the subjects whose exports are Bob's.
    let mut erased = 0;
    for subject in subjects_by(&app, "phone=%2B8613900000001").await {
        let held = export(&app, &subject).await;
        if held["tickets"][0]["view"]["complainant"]["name"] == "Bob Baker" {
            erase(&app, &subject).await;
            erased += 1;
        }
    }
    assert_eq!(erased, 2);

    // Neither of Bob's complaints is found by his phone or readable.
    assert_eq!(subjects_by(&app, "phone=%2B8613900000001").await, [subject_of(&x)]);
    assert_eq!(tickets_with(&app, "phone=%2B8613900000001").await, ["X"]);
    for bob in [&b, &b2] {
        let v = app.view(bob["id"].as_str().expect("id"), &agent()).await.0;
        assert_eq!(v["complainant"]["name"], "[erased]");
        assert_eq!(v["complainant"]["phone"], "[erased]");
        assert_eq!(v["description"], "[erased]");
    }
    // Auditors follow every erasure in the feed, but not whose it was.
    // (The sequencer numbers events in the background: wait for both.)
    let auditor = token("aud-1", &[Role::Auditor]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let feed = loop {
        let feed = json_of(app.get("/v1/events?limit=1000", &auditor).await, 200).await;
        let erased = feed["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["type"] == "subject.erased")
            .count();
        if erased >= 2 || std::time::Instant::now() > deadline {
            break feed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let erasures: Vec<&Value> = feed["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "subject.erased")
        .collect();
    assert_eq!(erasures.len(), 2);
    for e in erasures {
        assert!(
            e.get("stream_id").is_none() && e["payload"].get("subject").is_none(),
            "{e}"
        );
    }

    // Xavier's complaint is as it was, his copy of the phone in clear.
    let xavier = app.view(x["id"].as_str().expect("id"), &agent()).await.0;
    assert_eq!(xavier["complainant"]["name"], "Xavier Xu");
    assert_eq!(xavier["complainant"]["phone"], BOBS_PHONE);
    assert_eq!(xavier["complainant"]["email"], ALICES_EMAIL);
}

#[tokio::test]
async fn a_retry_after_erasure_replays_the_scrubbed_response_and_files_nothing() {
    let app = spawn_app().await;
    let body = filing("B", json!({"name": "Bob Baker", "phone": BOBS_PHONE}), "noisy line");
    let send = || {
        app.http
            .post(app.url("/v1/complaints"))
            .bearer_auth(agent())
            .header("Idempotency-Key", "bob-first-call")
            .json(&body)
            .send()
    };
    let first = send().await.expect("request");
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].to_str().expect("location").to_owned();
    let filed: Value = first.json().await.expect("json");

    let receipt = erase(&app, &subject_of(&filed)).await;
    assert_eq!(
        receipt["responses_scrubbed"], 1,
        "the stored response is kept as a tombstone"
    );

    let retry = send().await.expect("request");
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["location"].to_str().expect("location"), location);
    let replayed: Value = retry.json().await.expect("json");
    assert_eq!(replayed["id"], filed["id"]);
    assert_eq!(replayed["complainant"]["name"], "[erased]");
    assert!(!replayed.to_string().contains("Bob Baker"));
    assert_eq!(
        tickets_with(&app, "kind=complaint").await.len(),
        1,
        "nothing was filed anew"
    );
}

#[tokio::test]
async fn a_write_only_principal_learns_nothing_from_the_subject() {
    let app = spawn_app().await;
    let victim = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing("V", json!({"name": "Vera Victim", "phone": BOBS_PHONE}), "mine"),
        )
        .await;
    let victims_subject = subject_of(&victim);
    assert_eq!(
        Uuid::parse_str(&victims_subject).expect("uuid").get_version_num(),
        4,
        "subject ids are random, so their time says nothing"
    );

    // The probe: a principal that may only write complaints files with the
    // victim's phone and reads what comes back.
    let writer = token_with_scopes("crm-bot", &[Role::Integration], &["complaints:write"]);
    let probe = filing(
        "P",
        json!({"name": "Probe", "phone": BOBS_PHONE}),
        "is this number known?",
    );
    let answer = json_of(app.post("/v1/complaints", &writer, &probe).await, 201).await;
    for member in ["subject", "subject_joined"] {
        assert!(answer.get(member).is_none(), "the answer names {member}: {answer}");
    }
    assert!(!answer.to_string().contains(&victims_subject));

    // The probe has a subject of its own and is not in the victim's export.
    let by_phone = subjects_by(&app, "phone=%2B8613900000001").await;
    assert_eq!(by_phone.len(), 2);
    let held = export(&app, &victims_subject).await;
    assert_eq!(held["tickets"].as_array().map(Vec::len), Some(1));
    assert!(!held.to_string().contains("is this number known?"));

    // Naming a subject takes the right to see whose data is whose.
    let mut joining = probe.clone();
    joining["subject"] = json!(victims_subject);
    problem(app.post("/v1/complaints", &writer, &joining).await, 403, "forbidden").await;

    // Nor does any other read of a caller without pii:read name a subject.
    let engineer = token("eng-1", &[Role::Engineer]);
    let id = victim["id"].as_str().expect("id");
    for path in [
        format!("/v1/tickets/{id}"),
        format!("/v1/tickets/{id}/history"),
        "/v1/tickets".to_owned(),
    ] {
        let body = json_of(app.get(&path, &engineer).await, 200).await.to_string();
        assert!(!body.contains(&victims_subject), "{path} names the subject: {body}");
    }
}

#[tokio::test]
async fn a_filer_who_may_read_personal_data_joins_a_subject_by_naming_it() {
    let app = spawn_app().await;
    let first = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing("1", json!({"name": "Bob Baker", "phone": BOBS_PHONE}), "first"),
        )
        .await;
    let subject = subject_of(&first);
    let mut again = filing("2", json!({"name": "Bob Baker", "email": "bob@b.example"}), "second");
    again["subject"] = json!(subject);
    let second = app.created("/v1/complaints", &agent(), &again).await;
    assert_eq!(subject_of(&second), subject);
    let history = json_of(
        app.get(
            &format!("/v1/tickets/{}/history", second["id"].as_str().expect("id")),
            &agent(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(history["events"][0]["payload"]["subject_joined"], "named");
    assert_eq!(
        export(&app, &subject).await["tickets"].as_array().map(Vec::len),
        Some(2)
    );
    // The new contact now finds the subject too.
    assert_eq!(subjects_by(&app, "email=bob@b.example").await, [subject.as_str()]);

    // A subject that does not exist is the client's mistake.
    again["subject"] = json!(Uuid::new_v4());
    let refused = problem(
        app.post("/v1/complaints", &agent(), &again).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["pointer"], "/subject");
}

#[tokio::test]
async fn a_deployment_that_declares_customer_ref_strong_joins_on_it_and_nothing_else() {
    let app = spawn_app_with(|args| {
        args.strong = StrongIdentifierArgs {
            strong_identifiers: vec![StrongIdentifier::CustomerRef],
        }
    })
    .await;
    let carol = |title: &str, phone: &str| {
        filing(
            title,
            json!({"name": "Carol Chen", "customer_ref": "CRM-0042", "phone": phone}),
            title,
        )
    };
    let c1 = app
        .created("/v1/complaints", &agent(), &carol("C1", "+86 139 0000 0003"))
        .await;
    let c2 = app
        .created("/v1/complaints", &agent(), &carol("C2", "+86 139 0000 0009"))
        .await;
    assert_eq!(subject_of(&c1), subject_of(&c2));
    let history = json_of(
        app.get(
            &format!("/v1/tickets/{}/history", c2["id"].as_str().expect("id")),
            &agent(),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(history["events"][0]["payload"]["subject_joined"], "strong_identifier");
    // The same phone without the reference is someone else.
    let d = app
        .created(
            "/v1/complaints",
            &agent(),
            &filing("D", json!({"name": "Dan Du", "phone": "+86 139 0000 0003"}), "D"),
        )
        .await;
    assert_ne!(subject_of(&d), subject_of(&c1));
}

#[tokio::test]
async fn an_administrator_merges_two_subjects_of_one_person() {
    let app = spawn_app().await;
    let [_, b, _, b2] = four_filings(&app).await;
    let (keep, merged) = (subject_of(&b), subject_of(&b2));
    let merge = |subject: String, body: Value| {
        let app = &app;
        async move {
            app.post(&format!("/v1/subjects/{subject}/merge"), &admin(), &body)
                .await
        }
    };
    problem(
        app.post(
            &format!("/v1/subjects/{merged}/merge"),
            &agent(),
            &json!({"into": keep, "reason": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let itself = problem(
        merge(merged.clone(), json!({"into": merged, "reason": "x"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(itself["errors"][0]["pointer"], "/into");

    let merging = json!({"into": keep, "reason": "same caller, request CMP-14"});
    let send = || {
        app.http
            .post(app.url(&format!("/v1/subjects/{merged}/merge")))
            .bearer_auth(admin())
            .header("Idempotency-Key", "merge-1")
            .json(&merging)
            .send()
    };
    let receipt = json_of(send().await.expect("request"), 200).await;
    assert_eq!(receipt["merged_into"], keep);
    assert_eq!(receipt["tickets"], json!([b2["id"]]));
    // A retry with the same key gets the same receipt, not a refusal.
    let retry = send().await.expect("request");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(retry, 200).await, receipt);

    // B2 belongs to Bob's first subject now: its view is sealed under it,
    // its old events read [merged], and the merge event holds the values.
    let id = b2["id"].as_str().expect("id");
    assert_eq!(subject_of(&app.view(id, &agent()).await.0), keep);
    assert_eq!(app.view(id, &agent()).await.0["description"], "private");
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), &agent()).await, 200).await;
    let events = history["events"].as_array().expect("events");
    assert_eq!(events[0]["payload"]["complainant"]["name"], "[merged]");
    let resealed = events.last().expect("the merge");
    assert_eq!(resealed["type"], "complaint.personal_data_resealed");
    assert_eq!(resealed["payload"]["cause"], "merge");
    assert_eq!(resealed["payload"]["reseal_reason"], "same caller, request CMP-14");
    let values: Vec<&Value> = resealed["payload"]["values"]
        .as_array()
        .expect("values")
        .iter()
        .collect();
    assert!(
        values
            .iter()
            .any(|v| v["pointer"] == "/description" && v["value"] == "private")
    );
    assert_eq!(export(&app, &keep).await["tickets"].as_array().map(Vec::len), Some(2));
    assert_eq!(export(&app, &merged).await["status"], "merged");

    // The repair leaves a merge alone, run after run: the merged filing
    // moved here deliberately, and its contacts are sealed under this key.
    for _ in 0..2 {
        let report = maintenance::repair_subjects(&repair_args(&app.db, false))
            .await
            .expect("repair");
        assert!(report.split.is_empty(), "{report:?}");
    }
    assert_eq!(
        subjects_by(&app, "phone=%2B8613900000001").await.len(),
        2,
        "Bob's and Xavier's"
    );

    // Merged away, the subject can be neither merged nor erased again;
    // erasing the one that remains erases both complaints.
    problem(
        merge(merged.clone(), json!({"into": keep, "reason": "again"})).await,
        409,
        "rule-violated",
    )
    .await;
    problem(
        app.post(
            &format!("/v1/subjects/{merged}/erasure"),
            &admin(),
            &json!({"reason": "x"}),
        )
        .await,
        409,
        "rule-violated",
    )
    .await;
    erase(&app, &keep).await;
    for bob in [&b, &b2] {
        assert_eq!(
            app.view(bob["id"].as_str().expect("id"), &agent()).await.0["description"],
            "[erased]"
        );
    }
}

#[tokio::test]
async fn a_ticket_id_is_no_data_subject() {
    let app = spawn_app().await;
    let (filed, _) = app.file_complaint().await;
    let id = filed["id"].as_str().expect("id");
    problem(
        app.get(&format!("/v1/subjects/{id}/export"), &admin()).await,
        404,
        "not-found",
    )
    .await;
    problem(
        app.post(&format!("/v1/subjects/{id}/erasure"), &admin(), &json!({"reason": "x"}))
            .await,
        404,
        "not-found",
    )
    .await;
    let owner = app.db.connect_admin().await;
    let reads: i64 = owner
        .query_one(
            "SELECT count(*) FROM pii_access WHERE endpoint LIKE '%/v1/subjects/%'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(reads, 0, "a refused export records no access");
}

// ---------------------------------------------------------------- repair

/// The fixture's tickets, by title (see tests/fixtures/make-merged-store.sh,
/// run with the binary of the last commit that merged subjects).
async fn fixture_ids(app: &TestApp) -> std::collections::BTreeMap<String, String> {
    let page = json_of(app.get("/v1/tickets?limit=50", &agent()).await, 200).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            let title = t["title"].as_str().expect("title");
            (
                title.split(':').next().unwrap_or(title).to_owned(),
                t["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

fn repair_args(db: &TestDatabase, dry_run: bool) -> RepairArgs {
    RepairArgs {
        dry_run,
        strong: StrongIdentifierArgs {
            strong_identifiers: vec![StrongIdentifier::CustomerRef],
        },
        database: database_args(db),
        master: MasterKeyArgs {
            master_key: Some(MASTER_KEY.to_owned()),
            master_key_file: None,
        },
    }
}

#[tokio::test]
async fn the_repair_splits_subjects_that_a_matching_contact_had_joined() {
    let db = TestDatabase::create().await;
    backup::import(&ImportArgs {
        from: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/merged-store.ndjson.gz"),
        database: database_args(&db),
    })
    .await
    .expect("the fixture imports");
    let (base, _handle) = start_server(&db, |_| {}).await;
    let app = TestApp {
        base,
        http: reqwest::Client::new(),
        db,
        handle: _handle,
    };
    let ids = fixture_ids(&app).await;
    let subject_of_ticket = |title: &str| {
        let app = &app;
        let id = ids[title].clone();
        async move { subject_of(&app.view(&id, &agent()).await.0) }
    };

    // Before: the old rules sealed X and B2 under Alice's subject.
    let merged = subject_of_ticket("A").await;
    assert_eq!(subject_of_ticket("X").await, merged);
    assert_eq!(subject_of_ticket("B2").await, merged);
    let before = export(&app, &merged).await;
    assert!(
        before.to_string().contains("We will call Bob back on Monday"),
        "the defect, as stored"
    );
    let carol = subject_of_ticket("C1").await;
    assert_eq!(subject_of_ticket("C2").await, carol, "joined on the CRM reference");

    // What an operator sees first: a dry run reports and changes nothing.
    let report = maintenance::repair_subjects(&repair_args(&app.db, true))
        .await
        .expect("dry run");
    assert_eq!(report.subjects_examined, 2);
    assert_eq!(report.subjects_kept, 1, "Carol's filings share a strong identifier");
    assert_eq!(report.split.len(), 1);
    assert_eq!(report.split[0].subject.to_string(), merged);
    let numbers = |title: &str| {
        let app = &app;
        let id = ids[title].clone();
        async move {
            app.view(&id, &agent()).await.0["number"]
                .as_str()
                .expect("number")
                .to_owned()
        }
    };
    assert_eq!(
        report.split[0].groups,
        [
            vec![numbers("A").await],
            vec![numbers("X").await],
            vec![numbers("B2").await]
        ]
    );
    assert_eq!(subject_of_ticket("X").await, merged, "a dry run changes nothing");

    // The repair, while the server serves.
    let report = maintenance::repair_subjects(&repair_args(&app.db, false))
        .await
        .expect("repair");
    assert_eq!(report.split.len(), 1);
    let successors: Vec<String> = report.split[0].successors.iter().map(Uuid::to_string).collect();
    assert_eq!(successors.len(), 3);
    for (title, successor) in ["A", "X", "B2"].into_iter().zip(&successors) {
        assert_eq!(&subject_of_ticket(title).await, successor);
    }
    assert_eq!(subject_of_ticket("C1").await, carol, "a strong join is kept");

    // Each export holds its own filing only; the merged subject says what became of it.
    let alice = export(&app, &successors[0]).await;
    assert_eq!(alice["tickets"].as_array().map(Vec::len), Some(1));
    assert!(!alice.to_string().contains("Bob"));
    assert_eq!(export(&app, &merged).await["status"], "repaired");

    // The old events read [repaired]; the repair event holds the values,
    // and the view reads in clear.
    let x = &ids["X"];
    let history = json_of(app.get(&format!("/v1/tickets/{x}/history"), &agent()).await, 200).await;
    let events = history["events"].as_array().expect("events");
    assert_eq!(events[0]["payload"]["complainant"]["name"], "[repaired]");
    assert_eq!(events[1]["payload"]["message"], "[repaired]");
    let repair = events.last().expect("the repair");
    assert_eq!(repair["type"], "complaint.personal_data_resealed");
    assert_eq!(repair["payload"]["cause"], "repair");
    assert!(
        repair["payload"]["values"]
            .to_string()
            .contains("Xavier, we are looking into it")
    );
    assert_eq!(app.view(x, &agent()).await.0["complainant"]["name"], "Xavier Xu");
    assert_eq!(
        app.view(x, &agent()).await.0["first_response"],
        "Xavier, we are looking into it"
    );

    // The index was rebuilt: Bob's phone finds B, X and B2, never the merged subject.
    let by_phone = subjects_by(&app, "phone=%2B8613900000001").await;
    assert_eq!(by_phone.len(), 3);
    assert!(!by_phone.contains(&merged));
    assert_eq!(subjects_by(&app, &format!("email={ALICES_EMAIL}")).await.len(), 2);

    // An erasure after the repair: B2's subject only.
    erase(&app, &successors[2]).await;
    assert_eq!(app.view(&ids["B2"], &agent()).await.0["notes"][0]["body"], "[erased]");
    assert_eq!(app.view(x, &agent()).await.0["complainant"]["phone"], BOBS_PHONE);
    assert_eq!(
        app.view(&ids["B"], &agent()).await.0["complainant"]["name"],
        "Bob Baker"
    );
    assert_eq!(tickets_with(&app, "phone=%2B8613900000001").await.len(), 2);

    // The log was only appended to: every chain verifies, and a second run
    // finds nothing left to split.
    match verify_streams(&app.db.connect_admin().await).await.expect("verify") {
        Verdict::Intact { .. } => {}
        broken => panic!("{broken:?}"),
    }
    let again = maintenance::repair_subjects(&repair_args(&app.db, false))
        .await
        .expect("again");
    assert!(again.split.is_empty());
}

/// An erasure retried with its `Idempotency-Key` (its answer lost, say)
/// gets the first erasure's account again, not a refusal that the subject
/// is erased already; without the key, a second erasure is refused.
#[tokio::test]
async fn a_retried_erasure_replays_its_first_answer() {
    let app = spawn_app().await;
    let (filed, _) = app.file_complaint().await;
    let subject = subject_of(&filed);
    let path = format!("/v1/subjects/{subject}/erasure");
    let body = json!({"reason": "erasure request ER-15"});
    let send = || {
        app.http
            .post(app.url(&path))
            .bearer_auth(admin())
            .header("Idempotency-Key", "erase-once")
            .json(&body)
            .send()
    };
    let first = send().await.expect("request");
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("json");

    let retried = send().await.expect("request");
    assert_eq!(retried.status(), 200);
    assert_eq!(
        retried
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(retried.json::<Value>().await.expect("json"), first);

    let again = app.post(&path, &admin(), &body).await;
    problem(again, 409, "rule-violated").await;
}
