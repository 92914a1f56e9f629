//! Issue 19 item 5: corrections as compensating events. Staff make
//! mistakes and the log never changes, so a correction is a command with a
//! reason, recorded as an event of its own and shown with what it replaced.

use crate::helpers::*;
use opsledger::domain::Role;
use opsledger::startup::config::{StrongIdentifier, StrongIdentifierArgs};
use serde_json::{Value, json};

fn filing(name: &str, contacts: Value) -> Value {
    let mut complainant = json!({"name": name});
    if let (Some(into), Some(from)) = (complainant.as_object_mut(), contacts.as_object()) {
        into.extend(from.clone());
    }
    json!({
        "title": "宽带反复断线", "description": "每晚八点后断线，已持续一周。", "channel": "phone",
        "category": "broadband", "priority": "P2", "complainant": complainant
    })
}

/// Files a complaint as an agent; returns its id, its view and its ETag.
async fn file(app: &TestApp, body: &Value) -> (String, Value, String) {
    let r = app.post("/v1/complaints", &agent(), body).await;
    let etag = etag_of(&r);
    let view = json_of(r, 201).await;
    (view["id"].as_str().expect("id").to_owned(), view, etag)
}

/// The last event of a ticket's history, as `token` reads it.
async fn last_event(app: &TestApp, id: &str, token: &str) -> Value {
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), token).await, 200).await;
    history["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("an event")
}

#[tokio::test]
async fn a_corrected_category_channel_and_phone_show_with_what_they_replaced_masked_for_those_without_pii_read() {
    let app = spawn_app().await;
    let (id, _, etag) = file(&app, &sample_complaint()).await;

    let (view, _) = app
        .ok(
            &format!("/v1/complaints/{id}/correct"),
            &agent(),
            &etag,
            json!({"category": "billing", "channel": "chat", "complainant": {"phone": "+86 139 0013 9000"},
                   "reason": "录入错误：客户通过在线客服联系，电话号码有误"}),
        )
        .await;
    assert_eq!(
        (&view["category"], &view["channel"]),
        (&json!("billing"), &json!("chat"))
    );
    assert_eq!(view["complainant"]["phone"], "+86 139 0013 9000");
    assert_eq!(view["complainant"]["name"], "张伟", "what was not corrected stays");
    let correction = &view["corrections"][0];
    assert_eq!(correction["reason"], "录入错误：客户通过在线客服联系，电话号码有误");
    assert_eq!(correction["by"], format!("{ISSUER}|agent-1"));
    assert_eq!(correction["category"], json!({"from": "broadband", "to": "billing"}));
    assert_eq!(correction["channel"], json!({"from": "phone", "to": "chat"}));
    assert_eq!(correction["complainant"]["from"]["phone"], "+86 138 0013 8000");
    assert_eq!(correction["complainant"]["to"]["phone"], "+86 139 0013 9000");

    // The history holds the correction as its own event, with its reason,
    // after the filing and its clocks (a correction moves no clock).
    let event = last_event(&app, &id, &agent()).await;
    assert_eq!(event["type"], "complaint.details_corrected");
    assert_eq!(event["version"], 3);
    assert_eq!(
        event["payload"]["reason"],
        "录入错误：客户通过在线客服联系，电话号码有误"
    );
    assert_eq!(event["payload"]["complainant"], json!({"phone": "+86 139 0013 9000"}));
    assert_eq!(
        event["payload"]["category"],
        json!({"from": "broadband", "to": "billing"})
    );

    // An engineer may read complaints but not personal data: masked
    // everywhere, the replaced value included.
    let (masked, _) = app.view(&id, &engineer("eng-1")).await;
    assert_eq!(masked["complainant"]["phone"], "*********9000");
    assert_eq!(
        masked["corrections"][0]["complainant"]["from"]["phone"],
        "*********8000"
    );
    assert_eq!(masked["corrections"][0]["complainant"]["to"]["name"], "张**");
    assert_eq!(masked["corrections"][0]["category"]["to"], "billing", "not personal");
    let event = last_event(&app, &id, &engineer("eng-1")).await;
    assert_eq!(event["payload"]["complainant"]["phone"], "*********9000");
    assert_eq!(
        event["payload"]["reason"],
        "录入错误：客户通过在线客服联系，电话号码有误"
    );

    // The corrected number finds the complaint, as a filed one would.
    let found = json_of(app.get("/v1/tickets?phone=%2B8613900139000", &agent()).await, 200).await;
    assert_eq!(found["items"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_complaint_found_to_be_another_persons_is_resolved_to_their_subject_as_a_filing_would_be() {
    let app = spawn_app_with(|args| {
        args.strong = StrongIdentifierArgs {
            strong_identifiers: vec![StrongIdentifier::CustomerRef],
        }
    })
    .await;
    let (wrong, filed, etag) = file(&app, &filing("张伟", json!({"phone": "+86 138 0013 8000"}))).await;
    let zhang = filed["subject"].as_str().expect("subject").to_owned();
    let (_, li_na, _) = file(&app, &filing("李娜", json!({"email": "li.na@example.cn"}))).await;
    let li_na = li_na["subject"].as_str().expect("subject").to_owned();

    // The agent filed Li Na's complaint under Zhang Wei and names her subject.
    let (view, _) = app
        .ok(
            &format!("/v1/complaints/{wrong}/correct"),
            &agent(),
            &etag,
            json!({"complainant": {"name": "李娜", "email": "li.na@example.cn"}, "another_person": true,
                   "subject": li_na, "reason": "Filed under the wrong customer"}),
        )
        .await;
    assert_eq!(view["subject"], li_na.as_str());
    assert_eq!(
        view["complainant"],
        json!({"name": "李娜", "email": "li.na@example.cn"})
    );
    assert_eq!(
        view["description"], "每晚八点后断线，已持续一周。",
        "sealed anew, still readable"
    );
    assert_eq!(view["corrections"][0]["complainant"]["another_person"], true);
    let event = last_event(&app, &wrong, &agent()).await;
    assert_eq!(
        (&event["payload"]["subject"], &event["payload"]["previous_subject"]),
        (&json!(li_na), &json!(zhang))
    );
    assert_eq!(event["payload"]["subject_joined"], "named");
    assert_eq!(event["payload"]["resealed"][0]["pointer"], "/description");

    // Her export holds the complaint now; his holds nothing of it.
    let export = |subject: String| {
        let app = &app;
        async move { json_of(app.get(&format!("/v1/subjects/{subject}/export"), &admin()).await, 200).await }
    };
    let hers = export(li_na.clone()).await;
    let held: Vec<&Value> = hers["tickets"].as_array().expect("tickets").iter().collect();
    let moved = held
        .iter()
        .find(|t| t["view"]["id"] == wrong.as_str())
        .expect("her export holds it");
    assert_eq!(moved["view"]["description"], "每晚八点后断线，已持续一周。");
    let his = export(zhang.clone()).await;
    assert!(
        his["tickets"]
            .as_array()
            .is_none_or(|t| t.iter().all(|t| t["view"]["id"] != wrong.as_str())),
        "{his}"
    );

    // Without a subject named: a customer reference the deployment declares
    // strong joins the subject it identifies, exactly as a filing would.
    let (_, carol, _) = file(&app, &filing("Carol Chen", json!({"customer_ref": "CRM-0042"}))).await;
    let (other, _, etag) = file(&app, &filing("Dan Wu", json!({"customer_ref": "CRM-0077"}))).await;
    let (view, _) = app
        .ok(
            &format!("/v1/complaints/{other}/correct"),
            &agent(),
            &etag,
            json!({"complainant": {"name": "Carol Chen", "customer_ref": "CRM-0042"}, "another_person": true,
                   "reason": "Carol called from Dan's line"}),
        )
        .await;
    assert_eq!(view["subject"], carol["subject"]);
    let event = last_event(&app, &other, &agent()).await;
    assert_eq!(event["payload"]["subject_joined"], "strong_identifier");

    // Nothing known about the other person: a subject of their own, found
    // by their contact; a phone alone never joins another subject.
    let (third, _, etag) = file(&app, &filing("Wang Fang", json!({"phone": "+86 137 0000 0003"}))).await;
    let (view, _) = app
        .ok(
            &format!("/v1/complaints/{third}/correct"),
            &agent(),
            &etag,
            json!({"complainant": {"name": "Zhou Min", "phone": "+86 138 0013 8000"}, "another_person": true,
                   "reason": "Wrong caller recorded"}),
        )
        .await;
    let own = view["subject"].as_str().expect("subject").to_owned();
    assert!(own != zhang && own != li_na, "{own}");
    let found = json_of(app.get("/v1/subjects?phone=%2B8613800138000", &admin()).await, 200).await;
    let subjects: Vec<&Value> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| &m["subject"])
        .collect();
    assert!(
        subjects.contains(&&json!(own)) && subjects.contains(&&json!(zhang)),
        "{found}"
    );

    // A caller without pii:read reads the correction without any subject,
    // and the other person's details masked.
    let masked = last_event(&app, &third, &engineer("eng-1")).await;
    for member in ["subject", "previous_subject", "subject_joined"] {
        assert!(masked["payload"].get(member).is_none(), "{masked}");
    }
    assert_eq!(masked["payload"]["complainant"]["name"], "Z**");
    let (view, _) = app.view(&third, &engineer("eng-1")).await;
    assert!(view.get("subject").is_none());
    assert_eq!(view["corrections"][0]["complainant"]["from"]["name"], "W**");
}

#[tokio::test]
async fn a_priority_change_is_recorded_with_its_reason_while_the_complaint_is_open() {
    let app = spawn_app().await;
    let (id, _, etag) = file(&app, &sample_complaint()).await;
    let path = format!("/v1/complaints/{id}/priority");

    let (view, etag) = app
        .ok(
            &path,
            &agent(),
            &etag,
            json!({"priority": "P1", "reason": "客户经营诊所，依赖该线路"}),
        )
        .await;
    assert_eq!(view["priority"], "P1");
    assert_eq!(view["corrections"][0]["priority"], json!({"from": "P2", "to": "P1"}));
    // The change is recorded with its reason, and the clocks are pinned
    // again under the new priority, from the change.
    let history = json_of(app.get(&format!("/v1/tickets/{id}/history"), &agent()).await, 200).await;
    assert_eq!(
        event_types(&history),
        [
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.priority_changed",
            "sla.clocks_pinned"
        ]
    );
    let event = &history["events"][2];
    assert_eq!(
        event["payload"],
        json!({"from": "P2", "to": "P1", "reason": "客户经营诊所，依赖该线路"})
    );
    assert_eq!(history["events"][3]["payload"]["cause"], "priority_changed");
    assert_eq!(view["sla"]["key"], "complaint/P1");
    let listed = json_of(app.get("/v1/tickets?priority=P1", &agent()).await, 200).await;
    assert_eq!(listed["items"][0]["id"], id.as_str());

    // Refusals: the same priority, no reason, a complaint no longer open.
    let same = problem(
        app.post_if_match(&path, &agent(), &etag, &json!({"priority": "P1", "reason": "again"}))
            .await,
        409,
        "rule-violated",
    )
    .await;
    assert_eq!(same["detail"], "the complaint's priority is P1 already");
    let unexplained = problem(
        app.post_if_match(&path, &agent(), &etag, &json!({"priority": "P3"}))
            .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(unexplained["errors"][0]["pointer"], "/reason");
    let (_, etag) = app
        .ok(&format!("/v1/complaints/{id}/acknowledge"), &agent(), &etag, json!({}))
        .await;
    let (_, etag) = app
        .ok(
            &format!("/v1/complaints/{id}/resolve"),
            &agent(),
            &etag,
            json!({"resolution": "done"}),
        )
        .await;
    let late = problem(
        app.post_if_match(&path, &agent(), &etag, &json!({"priority": "P3", "reason": "r"}))
            .await,
        409,
        "invalid-transition",
    )
    .await;
    assert_eq!(late["state"], "resolved");
}

/// A triaged fault with two repairs logged; returns its id and ETag.
async fn fault_with_repairs(app: &TestApp) -> (String, String) {
    let fault = app
        .created(
            "/v1/faults",
            &engineer("eng-1"),
            &json!({"title": "光纤中断", "description": "d", "affected_service": "broadband-north",
                    "detected_by": "monitoring"}),
        )
        .await;
    let id = fault["id"].as_str().expect("id").to_owned();
    let (_, etag) = app.view(&id, &manager("mgr-1")).await;
    app.ok(
        &format!("/v1/faults/{id}/triage"),
        &manager("mgr-1"),
        &etag,
        json!({"severity": 3, "evaluator": format!("{ISSUER}|eng-1")}),
    )
    .await;
    for (minutes, kind) in [(60, "corrective"), (45, "preventive")] {
        app.ok(
            &format!("/v1/faults/{id}/repairs"),
            &engineer("eng-1"),
            "",
            json!({"technician": format!("{ISSUER}|eng-1"), "action_taken": "Replaced the splitter",
                   "started_at": "2026-01-10T09:00:00Z", "ended_at": "2026-01-10T10:00:00Z",
                   "person_minutes": minutes, "maintenance_type": kind}),
        )
        .await;
    }
    let (_, etag) = app.view(&id, &engineer("eng-1")).await;
    (id, etag)
}

#[tokio::test]
async fn a_voided_repair_stays_visible_as_voided_and_leaves_the_person_minutes() {
    let app = spawn_app().await;
    let (id, etag) = fault_with_repairs(&app).await;
    let path = format!("/v1/faults/{id}/repairs/voided");

    let (view, etag) = app
        .ok(
            &path,
            &engineer("eng-1"),
            &etag,
            json!({"repair": 1, "reason": "Logged on the wrong fault"}),
        )
        .await;
    assert_eq!(view["repairs"].as_array().map(Vec::len), Some(2), "still shown");
    let voided = &view["repairs"][0]["voided"];
    assert_eq!(voided["by"], format!("{ISSUER}|eng-1"));
    assert_eq!(voided["reason"], "Logged on the wrong fault");
    assert!(voided["at"].is_string());
    assert!(view["repairs"][1].get("voided").is_none());
    assert_eq!(
        view["person_minutes"],
        json!({"corrective": 0, "adaptive": 0, "perfective": 0, "preventive": 45, "total": 45})
    );
    let event = last_event(&app, &id, &engineer("eng-1")).await;
    assert_eq!(event["type"], "fault.repair_voided");
    assert_eq!(
        event["payload"],
        json!({"repair": 1, "reason": "Logged on the wrong fault"})
    );

    let twice = problem(
        app.post_if_match(
            &path,
            &engineer("eng-1"),
            &etag,
            &json!({"repair": 1, "reason": "again"}),
        )
        .await,
        409,
        "rule-violated",
    )
    .await;
    assert_eq!(twice["detail"], "repair 1 is already voided");
    let missing = problem(
        app.post_if_match(&path, &engineer("eng-1"), &etag, &json!({"repair": 3, "reason": "r"}))
            .await,
        409,
        "rule-violated",
    )
    .await;
    assert_eq!(missing["detail"], "the fault has no repair 3 (it has 2)");
}

#[tokio::test]
async fn the_affected_service_is_corrected_only_after_triage() {
    let app = spawn_app().await;
    let fault = app
        .created(
            "/v1/faults",
            &engineer("eng-1"),
            &json!({"title": "t", "description": "d", "affected_service": "broadband-north",
                    "detected_by": "staff"}),
        )
        .await;
    let id = fault["id"].as_str().expect("id");
    let path = format!("/v1/faults/{id}/affected-service");
    let body = json!({"affected_service": "broadband-south", "reason": "The cabinet is on the southern ring"});
    let (_, etag) = app.view(id, &engineer("eng-1")).await;
    let early = problem(
        app.post_if_match(&path, &engineer("eng-1"), &etag, &body).await,
        409,
        "invalid-transition",
    )
    .await;
    assert_eq!(early["state"], "reported");

    let (_, etag) = app
        .ok(
            &format!("/v1/faults/{id}/triage"),
            &manager("mgr-1"),
            &etag,
            json!({"severity": 3, "evaluator": format!("{ISSUER}|eng-1")}),
        )
        .await;
    let (view, etag) = app.ok(&path, &engineer("eng-1"), &etag, body.clone()).await;
    assert_eq!(view["affected_service"], "broadband-south");
    let correction = &view["affected_service_corrections"][0];
    assert_eq!(
        (&correction["from"], &correction["to"]),
        (&json!("broadband-north"), &json!("broadband-south"))
    );
    assert_eq!(correction["reason"], "The cabinet is on the southern ring");
    let event = last_event(&app, id, &engineer("eng-1")).await;
    assert_eq!(event["type"], "fault.affected_service_corrected");
    assert_eq!(event["payload"]["from"], "broadband-north");

    problem(
        app.post_if_match(&path, &engineer("eng-1"), &etag, &body).await,
        409,
        "rule-violated",
    )
    .await;
}

#[tokio::test]
async fn corrections_need_if_match_a_reason_and_the_permission() {
    let app = spawn_app().await;
    let (complaint, _, etag) = file(&app, &sample_complaint()).await;
    let (fault, fault_etag) = fault_with_repairs(&app).await;
    let doors = [
        (
            format!("/v1/complaints/{complaint}/correct"),
            json!({"category": "billing", "reason": "r"}),
            agent(),
        ),
        (
            format!("/v1/complaints/{complaint}/priority"),
            json!({"priority": "P1", "reason": "r"}),
            agent(),
        ),
        (
            format!("/v1/faults/{fault}/repairs/voided"),
            json!({"repair": 1, "reason": "r"}),
            engineer("eng-1"),
        ),
        (
            format!("/v1/faults/{fault}/affected-service"),
            json!({"affected_service": "svc", "reason": "r"}),
            engineer("eng-1"),
        ),
    ];
    let before = app.count_events().await;
    for (path, body, token) in &doors {
        problem(app.post(path, token, body).await, 428, "precondition-required").await;
        let mut unexplained = body.clone();
        unexplained.as_object_mut().expect("object").remove("reason");
        let tag = if path.contains("/complaints/") {
            &etag
        } else {
            &fault_etag
        };
        let refused = problem(
            app.post_if_match(path, token, tag, &unexplained).await,
            422,
            "validation-failed",
        )
        .await;
        assert_eq!(refused["errors"][0]["pointer"], "/reason", "{path}");
    }
    // Engineers do not handle complaints, agents do not work faults, and
    // auditors change nothing.
    for (path, body, token) in [
        (&doors[0].0, &doors[0].1, engineer("eng-1")),
        (&doors[1].0, &doors[1].1, auditor()),
        (&doors[2].0, &doors[2].1, agent()),
        (&doors[3].0, &doors[3].1, auditor()),
    ] {
        let tag = if path.contains("/complaints/") {
            &etag
        } else {
            &fault_etag
        };
        problem(app.post_if_match(path, &token, tag, body).await, 403, "forbidden").await;
    }
    // An integration that may handle complaints but not see personal data
    // may correct the category, not the complainant: whether a value is
    // the one recorded would show in the answer.
    let crm = token_with_scopes("crm", &[Role::Integration], &["complaints:write", "tickets:read"]);
    problem(
        app.post_if_match(
            &doors[0].0,
            &crm,
            &etag,
            &json!({"complainant": {"phone": "+86 138 0013 8000"}, "reason": "r"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.count_events().await, before, "a refused request writes nothing");
    let (view, _) = app.ok(&doors[0].0, &crm, &etag, doors[0].1.clone()).await;
    assert_eq!(view["category"], "billing");

    // A correction that changes nothing is refused.
    let (_, etag) = app.view(&complaint, &agent()).await;
    let unchanged = problem(
        app.post_if_match(
            &doors[0].0,
            &agent(),
            &etag,
            &json!({"category": "billing", "complainant": {"name": "张伟"}, "reason": "r"}),
        )
        .await,
        409,
        "rule-violated",
    )
    .await;
    assert_eq!(
        unchanged["detail"],
        "the correction changes nothing: every value given is the one recorded"
    );
}
