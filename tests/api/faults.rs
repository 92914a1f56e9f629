//! Faults over HTTP, as a client drives them: a complaint escalated into a
//! fault, triaged, repaired, resolved, reviewed and closed, the complainant
//! informed; links between tickets; who may see which fault; and that an
//! escalation is atomic across its two streams.

use crate::helpers::*;
use opsledger::domain::Role;
use serde_json::{Value, json};

fn actor_id(subject: &str) -> String {
    format!("{ISSUER}|{subject}")
}

#[tokio::test]
async fn a_complaint_escalated_into_a_critical_fault_from_report_to_closure() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let complaint_id = complaint["id"].as_str().expect("id").to_owned();
    let (_, _, etag) = app.transition(&complaint_id, "acknowledge", &etag, json!({})).await;

    // Customer service escalates the complaint: a fault appears, linked both ways.
    let escalation = json!({"description": "Fibre drops every evening in district 7", "affected_service": "broadband"});
    let (status, fault, fault_etag) = app
        .command(
            &format!("/v1/complaints/{complaint_id}/escalate"),
            &agent(),
            &etag,
            escalation.clone(),
        )
        .await;
    assert_eq!(status, 201, "{fault}");
    assert_eq!(fault["kind"], "fault");
    assert_eq!(fault["status"], "reported");
    assert_eq!(fault["detected_by"], "customer_complaint");
    assert_eq!(fault["escalated_from"]["id"], complaint_id);
    assert_eq!(
        fault["title"], complaint["title"],
        "the title defaults to the complaint's"
    );
    assert!(fault["number"].as_str().expect("number").starts_with("FLT-"));
    let fault_id = fault["id"].as_str().expect("id").to_owned();
    let (complaint, _) = app.view(&complaint_id, &agent()).await;
    assert_eq!(complaint["escalated_to"]["id"], fault_id);
    // A second escalation of the same complaint is refused.
    let (_, complaint_etag) = app.view(&complaint_id, &agent()).await;
    let again = app
        .post_if_match(
            &format!("/v1/complaints/{complaint_id}/escalate"),
            &agent(),
            &complaint_etag,
            &escalation,
        )
        .await;
    problem(again, 409, "rule-violated").await;

    // Triage at severity 1 must name the technician at once.
    let fault_path = format!("/v1/faults/{fault_id}");
    let triage = json!({"severity": 1, "evaluator": actor_id("eng-1")});
    let refused = app
        .post_if_match(&format!("{fault_path}/triage"), &manager("mgr-1"), &fault_etag, &triage)
        .await;
    let body = problem(refused, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["pointer"], "/technician", "{body}");
    // Engineers cannot triage.
    let refused = app
        .post_if_match(
            &format!("{fault_path}/triage"),
            &engineer("eng-1"),
            &fault_etag,
            &triage,
        )
        .await;
    problem(refused, 403, "forbidden").await;
    let (status, fault, etag) = app
        .command(
            &format!("{fault_path}/triage"),
            &manager("mgr-1"),
            &fault_etag,
            json!({"severity": 1, "evaluator": actor_id("eng-1"), "technician": "tech-7"}),
        )
        .await;
    assert_eq!(status, 200, "{fault}");
    assert_eq!(
        (fault["severity"].as_u64(), fault["technician"].as_str()),
        (Some(1), Some("tech-7"))
    );

    // Only the evaluator named at triage evaluates.
    let evaluation =
        json!({"nature": "Optical splitter degraded", "estimated_effort_minutes": 120, "proposed_priority": 1});
    let refused = app
        .post_if_match(
            &format!("{fault_path}/evaluate"),
            &engineer("eng-2"),
            &etag,
            &evaluation,
        )
        .await;
    problem(refused, 409, "rule-violated").await;
    let (status, _, etag) = app
        .command(&format!("{fault_path}/evaluate"), &engineer("eng-1"), &etag, evaluation)
        .await;
    assert_eq!(status, 200);
    let (status, fault, _) = app
        .command(
            &format!("{fault_path}/investigate"),
            &engineer("eng-1"),
            &etag,
            json!({}),
        )
        .await;
    assert_eq!((status, fault["status"].as_str()), (200, Some("investigating")));

    // Two repairs of different maintenance types; they commute (no If-Match).
    let repair = |kind: &str, minutes: u32, start: &str, end: &str| {
        json!({"technician": "tech-7", "action_taken": format!("{kind} work"), "started_at": start, "ended_at": end,
               "person_minutes": minutes, "maintenance_type": kind, "parts": ["splitter 1x8"]})
    };
    let backwards = app
        .post(
            &format!("{fault_path}/repairs"),
            &engineer("eng-1"),
            &repair("corrective", 30, "2026-01-10T10:00:00Z", "2026-01-10T09:00:00Z"),
        )
        .await;
    let body = problem(backwards, 422, "validation-failed").await;
    assert_eq!(body["errors"][0]["pointer"], "/ended_at", "{body}");
    for (kind, minutes) in [("corrective", 30), ("preventive", 45)] {
        let (status, body, _) = app
            .command(
                &format!("{fault_path}/repairs"),
                &engineer("eng-1"),
                "",
                repair(kind, minutes, "2026-01-10T09:00:00Z", "2026-01-10T10:00:00Z"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (fault, etag) = app.view(&fault_id, &engineer("eng-1")).await;
    assert_eq!(fault["repairs"].as_array().map(Vec::len), Some(2));
    assert_eq!(fault["person_minutes"]["corrective"], 30);
    assert_eq!(fault["person_minutes"]["preventive"], 45);
    assert_eq!(fault["person_minutes"]["total"], 75);

    let (status, fault, etag) = app
        .command(
            &format!("{fault_path}/mitigate"),
            &engineer("eng-1"),
            &etag,
            json!({"workaround": "Traffic rerouted through district 6"}),
        )
        .await;
    assert_eq!((status, fault["status"].as_str()), (200, Some("mitigated")));
    let (status, fault, etag) = app
        .command(
            &format!("{fault_path}/resolve"),
            &engineer("eng-1"),
            &etag,
            json!({"resolution": "Splitter replaced", "root_cause": "Water ingress in cabinet 7-14"}),
        )
        .await;
    assert_eq!((status, fault["status"].as_str()), (200, Some("resolved")));

    // The complaint learns of the resolution on its own stream.
    let (complaint, complaint_etag) = app.view(&complaint_id, &agent()).await;
    assert_eq!(
        complaint["linked_fault_resolutions"][0]["fault"]["id"], fault_id,
        "{complaint}"
    );
    assert_eq!(
        complaint["linked_fault_resolutions"][0]["resolution"],
        "Splitter replaced"
    );
    let history: Value = app
        .get(&format!("/v1/tickets/{complaint_id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert!(event_types(&history).contains(&"complaint.linked_fault_resolved".to_owned()));

    // Severity 1 cannot close without a post-incident review.
    let refused = app
        .post_if_match(&format!("{fault_path}/close"), &engineer("eng-1"), &etag, &json!({}))
        .await;
    problem(refused, 409, "rule-violated").await;
    let review = json!({
        "summary": "Evening outages in district 7 for a week",
        "root_cause": "Water ingress in cabinet 7-14",
        "contributing_factors": ["Cabinet seal not inspected since 2023"],
        "action_items": [{"description": "Inspect all cabinet seals in district 7", "owner": "tech-7", "due_on": "2026-02-01"}]
    });
    let (status, fault, etag) = app
        .command(&format!("{fault_path}/review"), &engineer("eng-1"), &etag, review)
        .await;
    assert_eq!(status, 200, "{fault}");
    assert_eq!(fault["review"]["action_items"][0]["item"], 1);
    let (status, fault, etag) = app
        .command(
            &format!("{fault_path}/review/completed-items"),
            &engineer("eng-1"),
            &etag,
            json!({"item": 1, "note": "All 31 cabinets inspected"}),
        )
        .await;
    assert_eq!(status, 200, "{fault}");
    assert!(fault["review"]["action_items"][0]["done"].is_object(), "{fault}");
    let (status, fault, _) = app
        .command(&format!("{fault_path}/close"), &engineer("eng-1"), &etag, json!({}))
        .await;
    assert_eq!((status, fault["status"].as_str()), (200, Some("closed")));

    // Customer service informs the complainant, resolves, rates and closes.
    let (status, _, etag) = app
        .command(
            &format!("/v1/complaints/{complaint_id}/notes"),
            &agent(),
            &complaint_etag,
            json!({"body": "The fault in your area has been repaired.", "visibility": "complainant"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, etag) = app
        .transition(
            &complaint_id,
            "resolve",
            &etag,
            json!({"resolution": "Network fault repaired"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, etag) = app
        .transition(&complaint_id, "satisfaction", &etag, json!({"rating": 4}))
        .await;
    assert_eq!(status, 200);
    let (status, complaint, _) = app.transition(&complaint_id, "close", &etag, json!({})).await;
    assert_eq!((status, complaint["status"].as_str()), (200, Some("closed")));

    // The fault's history tells the whole story, in order.
    let history: Value = app
        .get(
            &format!("/v1/tickets/{fault_id}/history"),
            &token("auditor-1", &[Role::Auditor]),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        event_types(&history),
        [
            "fault.reported",
            "fault.triaged",
            "sla.clocks_pinned",
            "fault.evaluated",
            "fault.investigation_started",
            "sla.clock_stopped",
            "fault.repair_logged",
            "fault.repair_logged",
            "fault.mitigated",
            "fault.resolved",
            "sla.clock_stopped",
            "fault.review_written",
            "fault.action_item_completed",
            "fault.closed",
        ]
    );
}

#[tokio::test]
async fn reopening_a_fault_tells_its_complaints_that_the_resolution_no_longer_holds() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let complaint_id = complaint["id"].as_str().expect("id").to_owned();
    let (status, fault, _) = app
        .command(
            &format!("/v1/complaints/{complaint_id}/escalate"),
            &agent(),
            &etag,
            json!({"description": "Fibre drops every evening", "affected_service": "broadband"}),
        )
        .await;
    assert_eq!(status, 201, "{fault}");
    let fault_path = format!("/v1/faults/{}", fault["id"].as_str().expect("id"));
    let (_, fault_etag) = app.view(fault["id"].as_str().expect("id"), &engineer("eng-1")).await;
    let steps = [
        (
            "triage",
            manager("mgr-1"),
            json!({"severity": 3, "evaluator": actor_id("eng-1"), "technician": "tech-7"}),
        ),
        ("investigate", engineer("eng-1"), json!({})),
        (
            "resolve",
            engineer("eng-1"),
            json!({"resolution": "Splitter replaced", "root_cause": "Water ingress"}),
        ),
        (
            "reopen",
            engineer("eng-1"),
            json!({"reason": "Drops resumed the next evening"}),
        ),
        (
            "resolve",
            engineer("eng-1"),
            json!({"resolution": "Cabinet resealed", "root_cause": "Broken seal"}),
        ),
    ];
    let mut etag = fault_etag;
    for (step, who, body) in steps {
        let (status, body, next) = app.command(&format!("{fault_path}/{step}"), &who, &etag, body).await;
        assert_eq!(status, 200, "{step}: {body}");
        etag = next;
    }

    let (complaint, _) = app.view(&complaint_id, &agent()).await;
    let resolutions = complaint["linked_fault_resolutions"].as_array().expect("resolutions");
    assert_eq!(resolutions.len(), 2, "{complaint}");
    assert_eq!(resolutions[0]["resolution"], "Splitter replaced");
    assert_eq!(resolutions[0]["reopened"]["reason"], "Drops resumed the next evening");
    assert_eq!(resolutions[1]["resolution"], "Cabinet resealed");
    assert!(resolutions[1].get("reopened").is_none(), "the new resolution holds");
    assert_eq!(
        complaint["status"], "filed",
        "facts from the fault do not move the complaint"
    );
    let history: Value = app
        .get(&format!("/v1/tickets/{complaint_id}/history"), &agent())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        event_types(&history),
        [
            "complaint.filed",
            "sla.clocks_pinned",
            "complaint.escalated",
            "complaint.linked_fault_resolved",
            "complaint.linked_fault_reopened",
            "complaint.linked_fault_resolved",
        ]
    );
}

#[tokio::test]
async fn agents_see_only_faults_linked_to_complaints_and_links_show_on_both_tickets() {
    let app = spawn_app().await;
    let report = json!({"title": "Core router CPU at 95 %", "description": "Alarm from monitoring",
                        "affected_service": "backbone", "detected_by": "monitoring"});
    let refused = app.post("/v1/faults", &agent(), &report).await;
    problem(refused, 403, "forbidden").await;
    let (status, fault, _) = app.command("/v1/faults", &engineer("eng-1"), "", report).await;
    assert_eq!(status, 201, "{fault}");
    let fault_id = fault["id"].as_str().expect("id").to_owned();

    // Not linked to any complaint: agents can neither read nor list it.
    problem(
        app.get(&format!("/v1/tickets/{fault_id}"), &agent()).await,
        404,
        "not-found",
    )
    .await;
    let listed = |body: &Value| {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|t| t["id"] == fault_id.as_str())
    };
    let page: Value = app
        .get("/v1/tickets?kind=fault", &agent())
        .await
        .json()
        .await
        .expect("json");
    assert!(!listed(&page), "{page}");
    let page: Value = app
        .get("/v1/tickets?kind=fault", &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    assert!(listed(&page), "{page}");

    // An engineer links a complaint to it: the link shows on both, and agents now see the fault.
    let (complaint, _) = app.file_complaint().await;
    let complaint_id = complaint["id"].as_str().expect("id").to_owned();
    let number = fault["number"].as_str().expect("number");
    let link = json!({"relation": "caused_by", "target": number});
    let (status, complaint, _) = app
        .command(
            &format!("/v1/tickets/{complaint_id}/links"),
            &engineer("eng-1"),
            "",
            link.clone(),
        )
        .await;
    assert_eq!(status, 200, "{complaint}");
    assert_eq!(complaint["links"][0]["relation"], "caused_by");
    assert_eq!(complaint["links"][0]["other"]["id"], fault_id);
    let (fault, _) = app.view(&fault_id, &agent()).await;
    assert_eq!(fault["links"][0]["relation"], "causes");
    assert_eq!(fault["links"][0]["other"]["id"], complaint_id);
    let page: Value = app
        .get("/v1/tickets?kind=fault", &agent())
        .await
        .json()
        .await
        .expect("json");
    assert!(listed(&page), "{page}");

    // Refusals: the same link again, a link to itself, an unknown target.
    let again = app
        .post(&format!("/v1/tickets/{complaint_id}/links"), &agent(), &link)
        .await;
    problem(again, 409, "rule-violated").await;
    let to_itself = json!({"relation": "relates_to", "target": complaint_id});
    problem(
        app.post(&format!("/v1/tickets/{complaint_id}/links"), &agent(), &to_itself)
            .await,
        409,
        "rule-violated",
    )
    .await;
    let unknown = json!({"relation": "relates_to", "target": "FLT-2026-999999"});
    let body = problem(
        app.post(&format!("/v1/tickets/{complaint_id}/links"), &agent(), &unknown)
            .await,
        404,
        "not-found",
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("FLT-2026-999999")));
    // Auditors read, but never write.
    problem(
        app.post(
            &format!("/v1/tickets/{complaint_id}/links"),
            &token("aud", &[Role::Auditor]),
            &to_itself,
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // The link was a mistake: removing it takes a reason, shows on both
    // tickets, and the fault is no longer the agents' to read.
    let unlink = json!({"target": fault_id, "reason": "Another district's fault"});
    problem(
        app.post(
            &format!("/v1/tickets/{complaint_id}/unlink"),
            &agent(),
            &json!({"target": fault_id, "reason": ""}),
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    let (status, complaint, _) = app
        .command(
            &format!("/v1/tickets/{complaint_id}/unlink"),
            &agent(),
            "",
            unlink.clone(),
        )
        .await;
    assert_eq!(status, 200, "{complaint}");
    assert_eq!(complaint["links"], json!([]));
    let (fault, _) = app.view(&fault_id, &engineer("eng-1")).await;
    assert_eq!(fault["links"], json!([]));
    problem(
        app.get(&format!("/v1/tickets/{fault_id}"), &agent()).await,
        404,
        "not-found",
    )
    .await;
    // To the agent the fault is now unknown; to an engineer, no longer linked.
    let hidden = app
        .post(&format!("/v1/tickets/{complaint_id}/unlink"), &agent(), &unlink)
        .await;
    let body = problem(hidden, 404, "not-found").await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("you may read")));
    let again = app
        .post(
            &format!("/v1/tickets/{complaint_id}/unlink"),
            &engineer("eng-1"),
            &unlink,
        )
        .await;
    problem(again, 409, "rule-violated").await;
    let history: Value = app
        .get(&format!("/v1/tickets/{fault_id}/history"), &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    let types = event_types(&history);
    assert_eq!(types[types.len() - 2..], ["fault.linked", "fault.unlinked"]);
    assert_eq!(
        history["events"][types.len() - 1]["payload"]["reason"],
        "Another district's fault"
    );
}

#[tokio::test]
async fn the_fault_queue_puts_untriaged_then_critical_first() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for title in ["minor", "critical", "untriaged"] {
        let report = json!({"title": title, "description": "d", "affected_service": "svc", "detected_by": "staff"});
        let (status, fault, etag) = app.command("/v1/faults", &engineer("eng-1"), "", report).await;
        assert_eq!(status, 201);
        let id = fault["id"].as_str().expect("id").to_owned();
        let triage = match title {
            "minor" => Some(json!({"severity": 4, "evaluator": actor_id("eng-1")})),
            "critical" => Some(json!({"severity": 1, "evaluator": actor_id("eng-1"), "technician": "tech-1"})),
            _ => None,
        };
        if let Some(triage) = triage {
            let (status, body, _) = app
                .command(&format!("/v1/faults/{id}/triage"), &manager("mgr-1"), &etag, triage)
                .await;
            assert_eq!(status, 200, "{body}");
        }
        ids.push((title, id));
    }
    let queue: Value = app
        .get("/v1/faults/queue", &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    let titles: Vec<&str> = queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(titles, ["untriaged", "critical", "minor"]);
    assert!(queue.get("next_cursor").is_none(), "one page holds it all");
    // One at a time, following the cursor: the same order, nothing twice.
    let mut paged = Vec::new();
    let mut path = "/v1/faults/queue?limit=1".to_owned();
    for _ in 0..4 {
        let page: Value = app.get(&path, &engineer("eng-1")).await.json().await.expect("json");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
        paged.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|t| t["title"].as_str().map(str::to_owned)),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/faults/queue?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, ["untriaged", "critical", "minor"]);
    problem(
        app.get("/v1/faults/queue?cursor=bm90LWEtY3Vyc29y", &engineer("eng-1"))
            .await,
        400,
        "invalid-query",
    )
    .await;
    problem(app.get("/v1/faults/queue", &agent()).await, 403, "forbidden").await;
    let critical = &ids[1].1;
    let page: Value = app
        .get("/v1/tickets?kind=fault&severity=1", &engineer("eng-1"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["items"][0]["id"], critical.as_str());
}

#[tokio::test]
async fn an_escalation_whose_second_write_fails_leaves_both_streams_untouched() {
    let app = spawn_app().await;
    let (complaint, etag) = app.file_complaint().await;
    let complaint_id = complaint["id"].as_str().expect("id").to_owned();
    let admin = app.db.connect_admin().await;
    // Make the fault's view write fail inside the escalation's transaction.
    admin
        .batch_execute(
            "CREATE FUNCTION refuse_faults() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER refuse_faults BEFORE INSERT ON tickets
                 FOR EACH ROW WHEN (NEW.kind = 'fault') EXECUTE FUNCTION refuse_faults();",
        )
        .await
        .expect("trigger");
    let count = |sql: &'static str| {
        let admin = &admin;
        async move { admin.query_one(sql, &[]).await.expect("count").get::<_, i64>(0) }
    };
    let events_before = count("SELECT count(*) FROM events").await;
    let response = app
        .post_if_match(
            &format!("/v1/complaints/{complaint_id}/escalate"),
            &agent(),
            &etag,
            &json!({"description": "d", "affected_service": "broadband"}),
        )
        .await;
    assert_eq!(response.status(), 500);
    assert_eq!(count("SELECT count(*) FROM events").await, events_before);
    assert_eq!(count("SELECT count(*) FROM tickets WHERE kind = 'fault'").await, 0);
    let (complaint, etag_after) = app.view(&complaint_id, &agent()).await;
    assert_eq!(etag_after, etag, "the complaint's version is unchanged");
    assert!(complaint["escalated_to"].is_null(), "{complaint}");

    // Once the failure is gone, the same escalation succeeds.
    admin
        .batch_execute("DROP TRIGGER refuse_faults ON tickets")
        .await
        .expect("drop");
    let response = app
        .post_if_match(
            &format!("/v1/complaints/{complaint_id}/escalate"),
            &agent(),
            &etag,
            &json!({"description": "d", "affected_service": "broadband"}),
        )
        .await;
    assert_eq!(response.status(), 201);
}
