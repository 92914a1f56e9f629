//! Fault rules as usage examples: report or escalate, decide, fold, look at
//! the view.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::domain::complaint::{
    self, Acknowledge, Assign, Channel, Complainant, Complaint, ComplaintCommand, ComplaintEscalated, ComplaintEvent,
    ComplaintStatus, FileComplaint, Priority, WaitOnCustomer,
};
use crate::domain::link::{self, Link, LinkRelation, LinkTickets, TicketLinked, TicketRef, TicketUnlinked};
use crate::domain::maintenance::MaintenanceType;
use crate::domain::test_clock::{at, meta};
use crate::domain::ticket::TicketKind;
use crate::domain::{DomainError, FieldError, Message, StreamCorrupt, messages};

// ---------------------------------------------------------------- fixtures

/// Reports and triages faults.
const DISPATCHER: &str = "https://idp.example|dana";
/// Named as evaluator at triage in every fixture.
const EVALUATOR: &str = "https://idp.example|erin";
const TECH: &str = "tom";
const OTHER_TECH: &str = "tina";
const ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0f01);
const NUMBER: &str = "FLT-2026-000007";
const COMPLAINT_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0c01);
const COMPLAINT_NUMBER: &str = "CMP-2026-000042";
const SUBJECT: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0051);

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, d).unwrap()
}

fn reporting() -> ReportFault {
    ReportFault {
        title: "Fibre cut on the Northgate ring".to_owned(),
        description: "Loss of light on ports 3 and 4 since 09:12.".to_owned(),
        affected_service: "broadband-north".to_owned(),
        detected_by: DetectedBy::Monitoring,
    }
}

/// A fault being worked on: its view plus the next version and minute.
struct Ledger {
    view: Fault,
    next: u64,
}

impl Ledger {
    fn reported() -> Ledger {
        let events = report(ID, NUMBER, &reporting(), at(0)).unwrap();
        Ledger::from_events(&events)
    }

    fn from_events(events: &[FaultEvent]) -> Ledger {
        let mut view = None;
        for (i, e) in events.iter().enumerate() {
            view = Some(evolve(view, e, &meta(i as u64 + 1, DISPATCHER)).unwrap());
        }
        Ledger {
            view: view.unwrap(),
            next: events.len() as u64 + 1,
        }
    }

    /// The minute the next decision is taken.
    fn now(&self) -> DateTime<Utc> {
        at(self.next as i64)
    }

    /// The minute the last event was recorded.
    fn last_at(&self) -> DateTime<Utc> {
        at(self.next as i64 - 1)
    }

    /// Decides `cmd` as `actor` now, without recording anything.
    fn try_run_as(&self, actor: &str, cmd: FaultCommand) -> Result<Vec<FaultEvent>, DomainError> {
        decide(&self.view, &cmd, actor, self.now())
    }

    fn try_run(&self, cmd: FaultCommand) -> Result<Vec<FaultEvent>, DomainError> {
        self.try_run_as(DISPATCHER, cmd)
    }

    fn apply(&mut self, events: &[FaultEvent], actor: &str) {
        for e in events {
            self.view = evolve(Some(self.view.clone()), e, &meta(self.next, actor)).unwrap();
            self.next += 1;
        }
    }

    /// Decides `cmd` as `actor` and folds the events in; panics on refusal.
    fn run_as(&mut self, actor: &str, cmd: FaultCommand) -> Vec<FaultEvent> {
        let events = self
            .try_run_as(actor, cmd.clone())
            .unwrap_or_else(|e| panic!("{} refused: {e:?}", cmd.name()));
        self.apply(&events, actor);
        events
    }

    fn run(&mut self, cmd: FaultCommand) -> Vec<FaultEvent> {
        self.run_as(DISPATCHER, cmd)
    }
}

fn triage(severity: u8, technician: Option<&str>) -> FaultCommand {
    FaultCommand::Triage(Triage {
        severity,
        evaluator: EVALUATOR.to_owned(),
        technician: technician.map(str::to_owned),
    })
}

fn evaluate() -> FaultCommand {
    FaultCommand::Evaluate(Evaluate {
        nature: "Physical damage to the duct.".to_owned(),
        estimated_effort_minutes: 240,
        proposed_priority: 2,
    })
}

fn assign(technician: &str) -> FaultCommand {
    FaultCommand::AssignTechnician(AssignTechnician {
        technician: technician.to_owned(),
    })
}

fn start() -> FaultCommand {
    FaultCommand::StartInvestigation(StartInvestigation { note: None })
}

fn mitigate() -> FaultCommand {
    FaultCommand::Mitigate(Mitigate {
        workaround: "Traffic rerouted over the southern ring.".to_owned(),
    })
}

fn resolve() -> FaultCommand {
    FaultCommand::Resolve(Resolve {
        resolution: "Spliced the cut fibre.".to_owned(),
        root_cause: "Excavator hit the duct.".to_owned(),
    })
}

fn close() -> FaultCommand {
    FaultCommand::Close(Close { comment: None })
}

fn reopen() -> FaultCommand {
    FaultCommand::Reopen(Reopen {
        reason: "Loss of light again on port 4.".to_owned(),
    })
}

fn repair_cmd(maintenance_type: MaintenanceType, person_minutes: u32) -> LogRepair {
    LogRepair {
        technician: TECH.to_owned(),
        action_taken: "Spliced fibres 3 and 4.".to_owned(),
        started_at: at(-90),
        ended_at: at(-30),
        person_minutes,
        maintenance_type,
        parts: vec!["splice sleeve".to_owned()],
    }
}

fn repair(maintenance_type: MaintenanceType, person_minutes: u32) -> FaultCommand {
    FaultCommand::LogRepair(repair_cmd(maintenance_type, person_minutes))
}

fn action_item(description: &str, owner: &str, due: u32) -> NewActionItem {
    NewActionItem {
        description: description.to_owned(),
        owner: owner.to_owned(),
        due_on: day(due),
    }
}

fn review_cmd() -> WriteReview {
    WriteReview {
        summary: "Northgate ring down for 3 hours.".to_owned(),
        root_cause: "Excavator hit an unmarked duct.".to_owned(),
        contributing_factors: vec!["Duct missing from the utility map.".to_owned()],
        action_items: vec![
            action_item("Add the duct to the utility map.", "gis-team", 15),
            action_item("Alarm on loss of light within 1 minute.", "noc", 30),
        ],
    }
}

fn review() -> FaultCommand {
    FaultCommand::WriteReview(review_cmd())
}

fn complete(item: u32, note: Option<&str>) -> FaultCommand {
    FaultCommand::CompleteActionItem(CompleteActionItem {
        item,
        note: note.map(str::to_owned),
    })
}

fn note(body: &str) -> FaultCommand {
    FaultCommand::AddNote(AddNote { body: body.to_owned() })
}

/// A severity 3 fault brought into `status` by the shortest ordinary path.
fn void(repair: u32, reason: &str) -> FaultCommand {
    FaultCommand::VoidRepair(VoidRepair {
        repair,
        reason: reason.to_owned(),
    })
}

fn correct_service(affected_service: &str) -> FaultCommand {
    FaultCommand::CorrectAffectedService(CorrectAffectedService {
        affected_service: affected_service.to_owned(),
        reason: "Triage found the other ring.".to_owned(),
    })
}

fn fault_in(status: FaultStatus) -> Ledger {
    fault_with(3, status)
}

fn fault_with(severity: u8, status: FaultStatus) -> Ledger {
    let mut l = Ledger::reported();
    let path: Vec<FaultCommand> = match status {
        FaultStatus::Reported => vec![],
        FaultStatus::Triaged => vec![triage(severity, Some(TECH))],
        FaultStatus::Investigating => vec![triage(severity, Some(TECH)), start()],
        FaultStatus::Mitigated => vec![triage(severity, Some(TECH)), start(), mitigate()],
        FaultStatus::Resolved => vec![triage(severity, Some(TECH)), start(), resolve()],
        FaultStatus::Closed => {
            if severity <= 2 {
                vec![triage(severity, Some(TECH)), start(), resolve(), review(), close()]
            } else {
                vec![triage(severity, Some(TECH)), start(), resolve(), close()]
            }
        }
    };
    for cmd in path {
        l.run(cmd);
    }
    assert_eq!(l.view.status, status);
    l
}

fn field_errors<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Vec<FieldError> {
    match result {
        Err(DomainError::Validation(errors)) => errors,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn pointers<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Vec<String> {
    field_errors(result).into_iter().map(|e| e.pointer).collect()
}

fn rule(message: Message) -> DomainError {
    DomainError::RuleViolated(message)
}

fn complaint_ref() -> TicketRef {
    TicketRef {
        id: COMPLAINT_ID,
        number: COMPLAINT_NUMBER.to_owned(),
        kind: TicketKind::Complaint,
    }
}

fn fault_ref() -> TicketRef {
    TicketRef {
        id: ID,
        number: NUMBER.to_owned(),
        kind: TicketKind::Fault,
    }
}

/// A complaint brought into `status`, as escalation sees it.
fn complaint_in(status: ComplaintStatus) -> Complaint {
    let filing = FileComplaint {
        title: "No internet since this morning".to_owned(),
        description: "Jane Doe at 1 High St has had no connection since 9am.".to_owned(),
        channel: Channel::Phone,
        complainant: Complainant {
            name: "Jane Doe".to_owned(),
            phone: Some("+44 20 7946 0958".to_owned()),
            email: None,
            customer_ref: None,
        },
        category: "outage".to_owned(),
        priority: Priority::P2,
        subject: None,
    };
    let mut events = complaint::file(COMPLAINT_ID, COMPLAINT_NUMBER, SUBJECT, &filing, at(0)).unwrap();
    let mut view = complaint::evolve(None, &events.remove(0), &meta(1, DISPATCHER)).unwrap();
    let resolve = ComplaintCommand::Resolve(complaint::Resolve {
        resolution: "Service restored.".to_owned(),
        root_cause: None,
    });
    let path = match status {
        ComplaintStatus::Filed => vec![],
        ComplaintStatus::Acknowledged => vec![ComplaintCommand::Acknowledge(Acknowledge { message: None })],
        ComplaintStatus::InProgress => vec![
            ComplaintCommand::Acknowledge(Acknowledge { message: None }),
            ComplaintCommand::Assign(Assign {
                team: Some("noc".to_owned()),
                assignee: None,
            }),
        ],
        ComplaintStatus::WaitingOnCustomer => vec![
            ComplaintCommand::Acknowledge(Acknowledge { message: None }),
            ComplaintCommand::WaitOnCustomer(WaitOnCustomer {
                reason: "Router lights?".to_owned(),
            }),
        ],
        ComplaintStatus::Resolved => vec![ComplaintCommand::Acknowledge(Acknowledge { message: None }), resolve],
        ComplaintStatus::Closed => vec![
            ComplaintCommand::Acknowledge(Acknowledge { message: None }),
            resolve,
            ComplaintCommand::Close(complaint::Close { comment: None }),
        ],
    };
    for cmd in path {
        for e in complaint::decide(&view, &cmd, at(0)).unwrap() {
            let version = view.version + 1;
            view = complaint::evolve(Some(view), &e, &meta(version, DISPATCHER)).unwrap();
        }
    }
    assert_eq!(view.status, status);
    view
}

fn escalation(title: Option<&str>) -> EscalateComplaint {
    EscalateComplaint {
        title: title.map(str::to_owned),
        description: "Several customers on the Northgate ring report no service.".to_owned(),
        affected_service: "broadband-north".to_owned(),
    }
}

/// One event of every type, with every optional field filled in.
fn one_of_each_event() -> Vec<FaultEvent> {
    vec![
        FaultEvent::Reported(FaultReported {
            id: ID,
            number: NUMBER.to_owned(),
            title: "Fibre cut".to_owned(),
            description: "Loss of light.".to_owned(),
            affected_service: "broadband-north".to_owned(),
            detected_by: DetectedBy::CustomerComplaint,
            escalated_from: Some(complaint_ref()),
        }),
        FaultEvent::Triaged(FaultTriaged {
            severity: 1,
            evaluator: EVALUATOR.to_owned(),
            technician: Some(TECH.to_owned()),
        }),
        FaultEvent::Evaluated(FaultEvaluated {
            nature: "Physical damage.".to_owned(),
            estimated_effort_minutes: 240,
            proposed_priority: 1,
        }),
        FaultEvent::TechnicianAssigned(FaultTechnicianAssigned {
            technician: OTHER_TECH.to_owned(),
        }),
        FaultEvent::InvestigationStarted(FaultInvestigationStarted {
            note: Some("On site at 10:05.".to_owned()),
        }),
        FaultEvent::Mitigated(FaultMitigated {
            workaround: "Rerouted.".to_owned(),
        }),
        FaultEvent::Resolved(FaultResolved {
            resolution: "Spliced.".to_owned(),
            root_cause: "Excavator.".to_owned(),
        }),
        FaultEvent::Closed(FaultClosed {
            comment: Some("Done.".to_owned()),
        }),
        FaultEvent::Reopened(FaultReopened {
            reason: "Down again.".to_owned(),
        }),
        FaultEvent::RepairLogged(FaultRepairLogged {
            repair: 1,
            technician: TECH.to_owned(),
            action_taken: "Spliced fibres.".to_owned(),
            started_at: at(-90),
            ended_at: at(-30),
            person_minutes: 120,
            maintenance_type: MaintenanceType::Corrective,
            parts: vec!["splice sleeve".to_owned(), "patch cord".to_owned()],
        }),
        FaultEvent::ReviewWritten(FaultReviewWritten {
            summary: "Down 3 hours.".to_owned(),
            root_cause: "Unmarked duct.".to_owned(),
            contributing_factors: vec!["Map out of date.".to_owned()],
            action_items: vec![ReviewActionItem {
                item: 1,
                description: "Fix the map.".to_owned(),
                owner: "gis-team".to_owned(),
                due_on: day(15),
            }],
        }),
        FaultEvent::ActionItemCompleted(FaultActionItemCompleted {
            item: 1,
            note: Some("Map updated.".to_owned()),
        }),
        FaultEvent::NoteAdded(FaultNoteAdded {
            body: "Council notified.".to_owned(),
        }),
        FaultEvent::Linked(TicketLinked {
            other: complaint_ref(),
            relation: LinkRelation::Causes,
            comment: Some("Same street.".to_owned()),
        }),
        FaultEvent::Unlinked(TicketUnlinked {
            other: complaint_ref(),
            reason: "Another street.".to_owned(),
        }),
        FaultEvent::RepairVoided(FaultRepairVoided {
            repair: 1,
            reason: "Logged twice.".to_owned(),
        }),
        FaultEvent::AffectedServiceCorrected(FaultAffectedServiceCorrected {
            from: "broadband-north".to_owned(),
            to: "broadband-south".to_owned(),
            reason: "Southern ring.".to_owned(),
        }),
    ]
    .into_iter()
    .chain(
        crate::domain::sla::clock::one_of_each()
            .into_iter()
            .map(FaultEvent::from_clock),
    )
    .collect()
}

// ------------------------------------------------------------------ report

#[test]
fn reporting_records_the_fault_and_starts_the_view() {
    let events = report(ID, NUMBER, &reporting(), at(0)).unwrap();
    assert_eq!(
        events,
        vec![FaultEvent::Reported(FaultReported {
            id: ID,
            number: NUMBER.to_owned(),
            title: "Fibre cut on the Northgate ring".to_owned(),
            description: "Loss of light on ports 3 and 4 since 09:12.".to_owned(),
            affected_service: "broadband-north".to_owned(),
            detected_by: DetectedBy::Monitoring,
            escalated_from: None,
        })]
    );

    let view = evolve(None, &events[0], &meta(1, DISPATCHER)).unwrap();
    assert_eq!(
        view,
        Fault {
            id: ID,
            number: NUMBER.to_owned(),
            status: FaultStatus::Reported,
            title: "Fibre cut on the Northgate ring".to_owned(),
            description: "Loss of light on ports 3 and 4 since 09:12.".to_owned(),
            affected_service: "broadband-north".to_owned(),
            detected_by: DetectedBy::Monitoring,
            escalated_from: None,
            severity: None,
            evaluator: None,
            evaluation: None,
            technician: None,
            workaround: None,
            mitigated_at: None,
            resolution: None,
            repairs: vec![],
            person_minutes: PersonMinutes::default(),
            review: None,
            notes: vec![],
            links: vec![],
            created_at: at(1),
            created_by: DISPATCHER.to_owned(),
            updated_at: at(1),
            version: 1,
            triaged_at: None,
            closed_at: None,
            reopen_count: 0,
            affected_service_corrections: vec![],
            sla: None,
        }
    );
    assert_eq!(view.ticket_ref(), fault_ref());
    assert!(view.complaints_to_inform().is_empty());
}

#[test]
fn a_report_lists_every_bad_field_at_once() {
    let cmd = ReportFault {
        title: " ".to_owned(),
        description: "x".repeat(10_001),
        affected_service: "s".repeat(101),
        detected_by: DetectedBy::Staff,
    };
    assert_eq!(
        pointers(report(ID, NUMBER, &cmd, at(0))),
        ["/title", "/description", "/affected_service"]
    );
}

// -------------------------------------------------------------- escalation

#[test]
fn escalation_records_events_on_both_sides() {
    let complaint = complaint_in(ComplaintStatus::InProgress);
    let (complaint_events, fault_events) = escalate(&complaint, ID, NUMBER, &escalation(None), at(9)).unwrap();
    assert_eq!(
        complaint_events,
        vec![ComplaintEvent::Escalated(ComplaintEscalated { fault: fault_ref() })]
    );
    assert_eq!(
        fault_events,
        vec![FaultEvent::Reported(FaultReported {
            id: ID,
            number: NUMBER.to_owned(),
            // Defaults to the complaint's title.
            title: "No internet since this morning".to_owned(),
            description: "Several customers on the Northgate ring report no service.".to_owned(),
            affected_service: "broadband-north".to_owned(),
            detected_by: DetectedBy::CustomerComplaint,
            escalated_from: Some(complaint_ref()),
        })]
    );

    // Both sides fold: the complaint knows its fault, the fault its complaint.
    let version = complaint.version + 1;
    let complaint_after = complaint::evolve(
        Some(complaint.clone()),
        &complaint_events[0],
        &meta(version, DISPATCHER),
    )
    .unwrap();
    assert_eq!(complaint_after.escalated_to, Some(fault_ref()));
    assert_eq!(complaint_after.status, ComplaintStatus::InProgress);
    let fault = Ledger::from_events(&fault_events).view;
    assert_eq!(fault.escalated_from, Some(complaint_ref()));
    assert_eq!(fault.detected_by, DetectedBy::CustomerComplaint);
    assert_eq!(fault.status, FaultStatus::Reported);
    assert_eq!(fault.complaints_to_inform(), [complaint_ref()]);

    // The complainant's words and details stay on the complaint.
    let payload = fault_events[0].payload_json().to_string();
    assert!(!payload.contains("Jane"), "{payload}");

    // An explicit title wins.
    let (_, fault_events) = escalate(&complaint, ID, NUMBER, &escalation(Some("Northgate outage")), at(9)).unwrap();
    let FaultEvent::Reported(r) = &fault_events[0] else {
        panic!("not a report: {fault_events:?}");
    };
    assert_eq!(r.title, "Northgate outage");
}

#[test]
fn escalation_is_allowed_while_the_complaint_is_open() {
    for status in [
        ComplaintStatus::Filed,
        ComplaintStatus::Acknowledged,
        ComplaintStatus::InProgress,
        ComplaintStatus::WaitingOnCustomer,
    ] {
        let complaint = complaint_in(status);
        assert!(
            escalate(&complaint, ID, NUMBER, &escalation(None), at(9)).is_ok(),
            "{status:?}"
        );
    }
}

#[test]
fn escalation_is_refused_once_the_complaint_is_resolved_or_closed() {
    for status in [ComplaintStatus::Resolved, ComplaintStatus::Closed] {
        let complaint = complaint_in(status);
        let err = escalate(&complaint, ID, NUMBER, &escalation(None), at(9)).unwrap_err();
        assert_eq!(
            err,
            DomainError::InvalidTransition {
                aggregate: "complaint",
                state: status.as_str(),
                command: "escalate",
            }
        );
        assert_eq!(
            err.to_string(),
            format!("cannot escalate a complaint that is {}", status.as_str())
        );
    }
}

#[test]
fn a_complaint_is_escalated_at_most_once() {
    let mut complaint = complaint_in(ComplaintStatus::Acknowledged);
    let (events, _) = escalate(&complaint, ID, NUMBER, &escalation(None), at(9)).unwrap();
    let version = complaint.version + 1;
    complaint = complaint::evolve(Some(complaint), &events[0], &meta(version, DISPATCHER)).unwrap();

    let other_id = Uuid::from_u128(0x0f02);
    assert_eq!(
        escalate(&complaint, other_id, "FLT-2026-000008", &escalation(None), at(9)),
        Err(rule(messages::rule_already_escalated("FLT-2026-000007")))
    );
}

#[test]
fn escalation_fields_are_checked_before_the_complaint_state() {
    let complaint = complaint_in(ComplaintStatus::Closed);
    let cmd = EscalateComplaint {
        title: Some(String::new()),
        description: "\u{7}".to_owned(),
        affected_service: String::new(),
    };
    assert_eq!(
        pointers(escalate(&complaint, ID, NUMBER, &cmd, at(9))),
        ["/title", "/description", "/affected_service"]
    );
}

// ------------------------------------------------------------------ triage

#[test]
fn triage_moves_a_reported_fault_to_triaged() {
    let mut l = Ledger::reported();
    let events = l.run(triage(3, None));
    assert_eq!(
        events,
        vec![FaultEvent::Triaged(FaultTriaged {
            severity: 3,
            evaluator: EVALUATOR.to_owned(),
            technician: None,
        })]
    );
    // Technician is left out of the payload when the command gave none.
    assert_eq!(events[0].payload_json(), json!({"severity": 3, "evaluator": EVALUATOR}));
    assert_eq!(l.view.status, FaultStatus::Triaged);
    assert_eq!(l.view.severity, Some(3));
    assert_eq!(l.view.evaluator.as_deref(), Some(EVALUATOR));
    assert_eq!(l.view.technician, None);
    assert_eq!(l.view.triaged_at, Some(l.last_at()));
}

#[test]
fn severity_1_triage_without_a_technician_is_refused() {
    let l = Ledger::reported();
    assert_eq!(
        field_errors(l.try_run(triage(1, None))),
        [FieldError::new(
            "/technician",
            messages::field_severity_one_needs_technician()
        )]
    );
    // Reported together with the other bad fields.
    let cmd = FaultCommand::Triage(Triage {
        severity: 1,
        evaluator: String::new(),
        technician: None,
    });
    assert_eq!(pointers(l.try_run(cmd)), ["/evaluator", "/technician"]);
}

#[test]
fn severity_1_triage_with_a_technician_assigns_them() {
    let mut l = Ledger::reported();
    let events = l.run(triage(1, Some(TECH)));
    assert_eq!(
        events,
        vec![FaultEvent::Triaged(FaultTriaged {
            severity: 1,
            evaluator: EVALUATOR.to_owned(),
            technician: Some(TECH.to_owned()),
        })]
    );
    assert_eq!(l.view.severity, Some(1));
    assert_eq!(l.view.technician.as_deref(), Some(TECH));
}

#[test]
fn re_triage_to_severity_1_is_allowed_when_a_technician_is_already_assigned() {
    let mut l = Ledger::reported();
    l.run(triage(3, None));
    let first_triage = l.view.triaged_at;
    assert_eq!(pointers(l.try_run(triage(1, None))), ["/technician"]);
    l.run(assign(TECH));
    l.run(start());

    let events = l.run(triage(1, None));
    assert_eq!(
        events,
        vec![FaultEvent::Triaged(FaultTriaged {
            severity: 1,
            evaluator: EVALUATOR.to_owned(),
            technician: None,
        })]
    );
    assert_eq!(l.view.severity, Some(1));
    // A re-triage keeps the status, the technician and the first triage time.
    assert_eq!(l.view.status, FaultStatus::Investigating);
    assert_eq!(l.view.technician.as_deref(), Some(TECH));
    assert_eq!(l.view.triaged_at, first_triage);
}

#[test]
fn re_triage_keeps_triaged_and_mitigated_faults_where_they_are() {
    for status in [FaultStatus::Triaged, FaultStatus::Mitigated] {
        let mut l = fault_in(status);
        let cmd = FaultCommand::Triage(Triage {
            severity: 2,
            evaluator: "https://idp.example|fred".to_owned(),
            technician: Some(OTHER_TECH.to_owned()),
        });
        l.run(cmd);
        assert_eq!(l.view.status, status);
        assert_eq!(l.view.severity, Some(2));
        assert_eq!(l.view.evaluator.as_deref(), Some("https://idp.example|fred"));
        assert_eq!(l.view.technician.as_deref(), Some(OTHER_TECH));
    }
}

#[test]
fn severities_are_one_to_four() {
    for severity in 1..=4 {
        assert!(Ledger::reported().try_run(triage(severity, Some(TECH))).is_ok());
    }
    for severity in [0, 5, 255] {
        let l = Ledger::reported();
        assert_eq!(
            pointers(l.try_run(triage(severity, Some(TECH)))),
            ["/severity"],
            "{severity}"
        );
    }
}

// ---------------------------------------------------------------- evaluate

#[test]
fn only_the_evaluator_named_at_triage_may_evaluate() {
    let mut l = fault_in(FaultStatus::Triaged);
    assert_eq!(
        l.try_run_as(DISPATCHER, evaluate()),
        Err(rule(messages::rule_not_the_evaluator("https://idp.example|erin")))
    );

    let events = l.run_as(EVALUATOR, evaluate());
    assert_eq!(
        events,
        vec![FaultEvent::Evaluated(FaultEvaluated {
            nature: "Physical damage to the duct.".to_owned(),
            estimated_effort_minutes: 240,
            proposed_priority: 2,
        })]
    );
    assert_eq!(
        l.view.evaluation,
        Some(Evaluation {
            nature: "Physical damage to the duct.".to_owned(),
            estimated_effort_minutes: 240,
            proposed_priority: 2,
            evaluated_at: l.last_at(),
            evaluated_by: EVALUATOR.to_owned(),
        })
    );
    assert_eq!(l.view.status, FaultStatus::Triaged);
}

#[test]
fn an_evaluation_checks_its_fields() {
    let l = fault_in(FaultStatus::Triaged);
    let cmd = FaultCommand::Evaluate(Evaluate {
        nature: String::new(),
        estimated_effort_minutes: 0,
        proposed_priority: 5,
    });
    assert_eq!(
        pointers(l.try_run_as(EVALUATOR, cmd)),
        ["/nature", "/estimated_effort_minutes", "/proposed_priority"]
    );
    let cmd = FaultCommand::Evaluate(Evaluate {
        nature: "n".to_owned(),
        estimated_effort_minutes: 1,
        proposed_priority: 0,
    });
    assert_eq!(pointers(l.try_run_as(EVALUATOR, cmd)), ["/proposed_priority"]);
}

// ------------------------------------------------------ technician and work

#[test]
fn assigning_a_technician() {
    let mut l = fault_in(FaultStatus::Triaged);
    let events = l.run(assign(OTHER_TECH));
    assert_eq!(
        events,
        vec![FaultEvent::TechnicianAssigned(FaultTechnicianAssigned {
            technician: OTHER_TECH.to_owned(),
        })]
    );
    assert_eq!(l.view.technician.as_deref(), Some(OTHER_TECH));
    assert_eq!(l.view.status, FaultStatus::Triaged);
}

#[test]
fn assigning_the_same_technician_again_is_refused() {
    let l = fault_in(FaultStatus::Investigating);
    assert_eq!(
        l.try_run(assign(TECH)),
        Err(rule(messages::rule_already_the_technician("tom")))
    );
}

#[test]
fn an_investigation_needs_a_technician() {
    let mut l = Ledger::reported();
    l.run(triage(3, None));
    assert_eq!(
        l.try_run(start()),
        Err(rule(messages::rule_investigation_needs_technician()))
    );
    l.run(assign(TECH));
    let events = l.run(FaultCommand::StartInvestigation(StartInvestigation {
        note: Some("On my way.".to_owned()),
    }));
    assert_eq!(
        events,
        vec![FaultEvent::InvestigationStarted(FaultInvestigationStarted {
            note: Some("On my way.".to_owned()),
        })]
    );
    assert_eq!(l.view.status, FaultStatus::Investigating);
}

#[test]
fn mitigating_records_the_workaround() {
    let mut l = fault_in(FaultStatus::Investigating);
    let events = l.run(mitigate());
    assert_eq!(
        events,
        vec![FaultEvent::Mitigated(FaultMitigated {
            workaround: "Traffic rerouted over the southern ring.".to_owned(),
        })]
    );
    assert_eq!(l.view.status, FaultStatus::Mitigated);
    assert_eq!(
        l.view.workaround.as_deref(),
        Some("Traffic rerouted over the southern ring.")
    );
    assert_eq!(l.view.mitigated_at, Some(l.last_at()));
}

#[test]
fn resolving_from_investigating_or_mitigated_records_the_root_cause() {
    for from in [FaultStatus::Investigating, FaultStatus::Mitigated] {
        let mut l = fault_in(from);
        let events = l.run_as(EVALUATOR, resolve());
        assert_eq!(
            events,
            vec![FaultEvent::Resolved(FaultResolved {
                resolution: "Spliced the cut fibre.".to_owned(),
                root_cause: "Excavator hit the duct.".to_owned(),
            })]
        );
        assert_eq!(l.view.status, FaultStatus::Resolved);
        assert_eq!(
            l.view.resolution,
            Some(FaultResolution {
                resolution: "Spliced the cut fibre.".to_owned(),
                root_cause: "Excavator hit the duct.".to_owned(),
                resolved_at: l.last_at(),
                resolved_by: EVALUATOR.to_owned(),
            })
        );
    }
}

#[test]
fn a_resolution_needs_both_the_fix_and_the_root_cause() {
    let l = fault_in(FaultStatus::Investigating);
    let cmd = FaultCommand::Resolve(Resolve {
        resolution: String::new(),
        root_cause: " ".to_owned(),
    });
    assert_eq!(pointers(l.try_run(cmd)), ["/resolution", "/root_cause"]);
}

// ------------------------------------------------------------ close, reopen

#[test]
fn a_severity_3_fault_closes_without_a_review() {
    for severity in [3, 4] {
        let mut l = fault_with(severity, FaultStatus::Resolved);
        let events = l.run(FaultCommand::Close(Close {
            comment: Some("Customer confirmed.".to_owned()),
        }));
        assert_eq!(
            events,
            vec![FaultEvent::Closed(FaultClosed {
                comment: Some("Customer confirmed.".to_owned()),
            })]
        );
        assert_eq!(l.view.status, FaultStatus::Closed);
        assert_eq!(l.view.closed_at, Some(l.last_at()));
        assert!(l.view.resolution.is_some());
    }
}

#[test]
fn a_severity_1_or_2_fault_closes_only_after_a_review() {
    for severity in [1, 2] {
        let mut l = fault_with(severity, FaultStatus::Resolved);
        assert_eq!(l.try_run(close()), Err(rule(messages::rule_close_needs_fault_review())));
        l.run(review());
        l.run(close());
        assert_eq!(l.view.status, FaultStatus::Closed);
    }
}

#[test]
fn reopening_clears_the_resolution_and_closing_time() {
    for from in [FaultStatus::Resolved, FaultStatus::Closed] {
        let mut l = fault_in(from);
        let events = l.run(reopen());
        assert_eq!(
            events,
            vec![FaultEvent::Reopened(FaultReopened {
                reason: "Loss of light again on port 4.".to_owned(),
            })]
        );
        assert_eq!(l.view.status, FaultStatus::Investigating);
        assert_eq!(l.view.resolution, None);
        assert_eq!(l.view.closed_at, None);
        assert_eq!(l.view.reopen_count, 1);

        // Round two.
        l.run(resolve());
        l.run(reopen());
        assert_eq!(l.view.reopen_count, 2);
    }
}

// ----------------------------------------------------------------- repairs

#[test]
fn logging_a_repair_numbers_it_and_keeps_it_on_the_view() {
    let mut l = fault_in(FaultStatus::Investigating);
    let events = l.run_as(EVALUATOR, repair(MaintenanceType::Corrective, 120));
    let cmd = repair_cmd(MaintenanceType::Corrective, 120);
    assert_eq!(
        events,
        vec![FaultEvent::RepairLogged(FaultRepairLogged {
            repair: 1,
            technician: cmd.technician.clone(),
            action_taken: cmd.action_taken.clone(),
            started_at: cmd.started_at,
            ended_at: cmd.ended_at,
            person_minutes: 120,
            maintenance_type: MaintenanceType::Corrective,
            parts: cmd.parts.clone(),
        })]
    );
    assert_eq!(
        l.view.repairs,
        vec![Repair {
            repair: 1,
            technician: TECH.to_owned(),
            action_taken: cmd.action_taken,
            started_at: cmd.started_at,
            ended_at: cmd.ended_at,
            person_minutes: 120,
            maintenance_type: MaintenanceType::Corrective,
            parts: cmd.parts,
            logged_at: l.last_at(),
            logged_by: EVALUATOR.to_owned(),
            voided: None,
        }]
    );
    assert_eq!(l.view.status, FaultStatus::Investigating);

    let events = l.run(repair(MaintenanceType::Corrective, 30));
    let FaultEvent::RepairLogged(second) = &events[0] else {
        panic!("not a repair: {events:?}");
    };
    assert_eq!(second.repair, 2);
}

#[test]
fn person_minutes_are_summed_by_maintenance_type() {
    let mut l = fault_in(FaultStatus::Investigating);
    l.run(repair(MaintenanceType::Corrective, 120));
    l.run(repair(MaintenanceType::Preventive, 45));
    assert_eq!(
        l.view.person_minutes,
        PersonMinutes {
            corrective: 120,
            adaptive: 0,
            perfective: 0,
            preventive: 45,
            total: 165,
        }
    );
    l.run(repair(MaintenanceType::Corrective, 15));
    assert_eq!(l.view.person_minutes.corrective, 135);
    assert_eq!(l.view.person_minutes.total, 180);
}

#[test]
fn a_repair_cannot_end_before_it_started() {
    let l = fault_in(FaultStatus::Investigating);
    let mut cmd = repair_cmd(MaintenanceType::Corrective, 60);
    cmd.ended_at = cmd.started_at - TimeDelta::minutes(1);
    assert_eq!(
        field_errors(l.try_run(FaultCommand::LogRepair(cmd.clone()))),
        [FieldError::new("/ended_at", messages::field_repair_ends_before_start())]
    );
    cmd.ended_at = cmd.started_at;
    assert_eq!(pointers(l.try_run(FaultCommand::LogRepair(cmd))), ["/ended_at"]);
}

#[test]
fn a_repair_cannot_be_recorded_as_finished_in_the_future() {
    let l = fault_in(FaultStatus::Investigating);
    let mut cmd = repair_cmd(MaintenanceType::Corrective, 60);
    cmd.ended_at = l.now() + TimeDelta::minutes(6);
    assert_eq!(
        field_errors(l.try_run(FaultCommand::LogRepair(cmd.clone()))),
        [FieldError::new("/ended_at", messages::field_repair_in_future())]
    );
    // Clocks disagree a little; five minutes ahead is tolerated.
    cmd.ended_at = l.now() + TimeDelta::minutes(5);
    assert!(l.try_run(FaultCommand::LogRepair(cmd)).is_ok());
}

#[test]
fn a_repair_takes_some_person_minutes() {
    let l = fault_in(FaultStatus::Investigating);
    assert_eq!(
        field_errors(l.try_run(repair(MaintenanceType::Corrective, 0))),
        [FieldError::new("/person_minutes", messages::field_more_than_zero())]
    );
}

#[test]
fn repair_fields_and_parts_are_checked() {
    let l = fault_in(FaultStatus::Investigating);
    let mut cmd = repair_cmd(MaintenanceType::Adaptive, 10);
    cmd.technician = String::new();
    cmd.action_taken = String::new();
    cmd.parts = vec!["ok".to_owned(), String::new(), "p".repeat(101)];
    assert_eq!(
        pointers(l.try_run(FaultCommand::LogRepair(cmd))),
        ["/technician", "/action_taken", "/parts/1", "/parts/2"]
    );

    let mut cmd = repair_cmd(MaintenanceType::Adaptive, 10);
    cmd.parts = vec!["washer".to_owned(); 50];
    assert!(l.try_run(FaultCommand::LogRepair(cmd.clone())).is_ok());
    cmd.parts.push("one too many".to_owned());
    assert_eq!(
        field_errors(l.try_run(FaultCommand::LogRepair(cmd))),
        [FieldError::new("/parts", messages::field_too_many_items(50, 51))]
    );
}

#[test]
fn repairs_are_logged_after_resolution_but_not_once_closed() {
    let mut l = fault_in(FaultStatus::Resolved);
    l.run(repair(MaintenanceType::Perfective, 30));
    assert_eq!(l.view.status, FaultStatus::Resolved);
    assert_eq!(l.view.person_minutes.perfective, 30);
    l.run(close());
    assert_eq!(
        l.try_run(repair(MaintenanceType::Perfective, 30)),
        Err(DomainError::InvalidTransition {
            aggregate: "fault",
            state: "closed",
            command: "log a repair on",
        })
    );
}

// ------------------------------------------------------------------ review

#[test]
fn a_review_numbers_its_action_items() {
    let mut l = fault_in(FaultStatus::Resolved);
    let events = l.run(review());
    assert_eq!(
        events,
        vec![FaultEvent::ReviewWritten(FaultReviewWritten {
            summary: "Northgate ring down for 3 hours.".to_owned(),
            root_cause: "Excavator hit an unmarked duct.".to_owned(),
            contributing_factors: vec!["Duct missing from the utility map.".to_owned()],
            action_items: vec![
                ReviewActionItem {
                    item: 1,
                    description: "Add the duct to the utility map.".to_owned(),
                    owner: "gis-team".to_owned(),
                    due_on: day(15),
                },
                ReviewActionItem {
                    item: 2,
                    description: "Alarm on loss of light within 1 minute.".to_owned(),
                    owner: "noc".to_owned(),
                    due_on: day(30),
                },
            ],
        })]
    );
    assert_eq!(events[0].payload_json()["action_items"][1]["due_on"], "2025-04-30");
    let review = l.view.review.clone().unwrap();
    assert_eq!(review.written_at, l.last_at());
    assert_eq!(review.written_by, DISPATCHER);
    assert_eq!(
        review.action_items[0],
        ActionItem {
            item: 1,
            description: "Add the duct to the utility map.".to_owned(),
            owner: "gis-team".to_owned(),
            due_on: day(15),
            done: None,
        }
    );
    assert_eq!(l.view.status, FaultStatus::Resolved);
}

#[test]
fn a_review_can_be_written_after_closing() {
    let mut l = fault_in(FaultStatus::Closed);
    l.run(review());
    assert!(l.view.review.is_some());
    assert_eq!(l.view.status, FaultStatus::Closed);
}

#[test]
fn a_second_review_is_refused() {
    let mut l = fault_in(FaultStatus::Resolved);
    l.run(review());
    assert_eq!(l.try_run(review()), Err(rule(messages::rule_fault_review_written())));
    // Reopening keeps the review, so it is still one per fault.
    l.run(reopen());
    l.run(resolve());
    assert_eq!(l.try_run(review()), Err(rule(messages::rule_fault_review_written())));
}

#[test]
fn review_fields_are_checked_with_pointers_into_the_lists() {
    let l = fault_in(FaultStatus::Resolved);
    let mut cmd = review_cmd();
    cmd.summary = String::new();
    cmd.contributing_factors = vec!["ok".to_owned(), " ".to_owned()];
    cmd.action_items.push(action_item("Train the crew.", "", 20));
    cmd.action_items[0].description = String::new();
    assert_eq!(
        pointers(l.try_run(FaultCommand::WriteReview(cmd))),
        [
            "/summary",
            "/contributing_factors/1",
            "/action_items/0/description",
            "/action_items/2/owner"
        ]
    );

    let mut cmd = review_cmd();
    cmd.contributing_factors = vec!["f".to_owned(); 51];
    cmd.action_items = vec![action_item("a", "o", 1); 101];
    assert_eq!(
        field_errors(l.try_run(FaultCommand::WriteReview(cmd))),
        [
            FieldError::new("/contributing_factors", messages::field_too_many_items(50, 51)),
            FieldError::new("/action_items", messages::field_too_many_items(100, 101)),
        ]
    );

    let mut cmd = review_cmd();
    cmd.contributing_factors = vec![];
    cmd.action_items = vec![action_item("a", "o", 1); 100];
    assert!(l.try_run(FaultCommand::WriteReview(cmd)).is_ok());
}

#[test]
fn completing_an_action_item_once() {
    let mut l = fault_in(FaultStatus::Resolved);
    l.run(review());
    let events = l.run_as(EVALUATOR, complete(2, Some("Alarm live.")));
    assert_eq!(
        events,
        vec![FaultEvent::ActionItemCompleted(FaultActionItemCompleted {
            item: 2,
            note: Some("Alarm live.".to_owned()),
        })]
    );
    let items = &l.view.review.as_ref().unwrap().action_items;
    assert_eq!(items[0].done, None);
    assert_eq!(
        items[1].done,
        Some(ActionItemDone {
            at: l.last_at(),
            by: EVALUATOR.to_owned(),
            note: Some("Alarm live.".to_owned()),
        })
    );

    assert_eq!(
        l.try_run(complete(2, None)),
        Err(rule(messages::rule_action_item_done(2)))
    );
}

#[test]
fn completing_an_unknown_action_item_is_refused() {
    let mut l = fault_in(FaultStatus::Resolved);
    l.run(review());
    assert_eq!(
        field_errors(l.try_run(complete(3, None))),
        [FieldError::new("/item", messages::field_no_such_action_item(3, 2))]
    );
    // Numbers no review can have are malformed, whatever the review holds.
    for item in [0, 101] {
        assert_eq!(
            field_errors(l.try_run(complete(item, None))),
            [FieldError::new("/item", messages::field_range(1, 100))]
        );
    }
}

#[test]
fn action_items_need_a_review_and_then_work_in_any_status() {
    let l = fault_in(FaultStatus::Resolved);
    assert_eq!(
        l.try_run(complete(1, None)),
        Err(rule(messages::rule_no_fault_review()))
    );

    let mut l = fault_with(1, FaultStatus::Closed);
    l.run(complete(1, None));
    l.run(reopen());
    assert_eq!(l.view.status, FaultStatus::Investigating);
    l.run(complete(2, None));
    assert!(
        l.view
            .review
            .as_ref()
            .unwrap()
            .action_items
            .iter()
            .all(|a| a.done.is_some())
    );
}

// ------------------------------------------------------------------- notes

#[test]
fn notes_are_kept_in_order_with_author_and_time_in_every_status() {
    for status in FaultStatus::ALL {
        let mut l = fault_in(status);
        let events = l.run_as(EVALUATOR, note("Council notified."));
        assert_eq!(
            events,
            vec![FaultEvent::NoteAdded(FaultNoteAdded {
                body: "Council notified.".to_owned(),
            })]
        );
        l.run(note("Second."));
        assert_eq!(l.view.status, status);
        assert_eq!(
            l.view.notes,
            vec![
                FaultNote {
                    at: l.last_at() - TimeDelta::minutes(1),
                    by: EVALUATOR.to_owned(),
                    body: "Council notified.".to_owned(),
                },
                FaultNote {
                    at: l.last_at(),
                    by: DISPATCHER.to_owned(),
                    body: "Second.".to_owned(),
                },
            ]
        );
    }
    assert_eq!(pointers(Ledger::reported().try_run(note(""))), ["/body"]);
}

// ------------------------------------------------------------------- links

#[test]
fn links_fold_into_the_views_on_both_sides() {
    let mut fault = fault_in(FaultStatus::Investigating);
    let mut complaint = complaint_in(ComplaintStatus::InProgress);
    let cmd = LinkTickets {
        relation: LinkRelation::CausedBy,
        target: NUMBER.to_owned(),
        comment: Some("Same street.".to_owned()),
    };
    let (on_complaint, on_fault) = link::link_pair(
        &complaint.ticket_ref(),
        &complaint.links,
        &fault.view.ticket_ref(),
        &fault.view.links,
        &cmd,
    )
    .unwrap();

    fault.apply(&[FaultEvent::Linked(on_fault.clone())], DISPATCHER);
    let version = complaint.version + 1;
    complaint = complaint::evolve(
        Some(complaint),
        &ComplaintEvent::Linked(on_complaint),
        &meta(version, DISPATCHER),
    )
    .unwrap();

    assert_eq!(
        fault.view.links,
        vec![Link {
            other: complaint_ref(),
            relation: LinkRelation::Causes,
            comment: Some("Same street.".to_owned()),
            at: fault.last_at(),
            by: DISPATCHER.to_owned(),
        }]
    );
    assert_eq!(complaint.links.len(), 1);
    assert_eq!(complaint.links[0].other, fault_ref());
    assert_eq!(complaint.links[0].relation, LinkRelation::CausedBy);
    assert_eq!(fault.view.complaints_to_inform(), [complaint_ref()]);

    // The same pair again is refused from either side.
    let again = link::link_pair(
        &fault.view.ticket_ref(),
        &fault.view.links,
        &complaint.ticket_ref(),
        &complaint.links,
        &cmd,
    );
    assert_eq!(
        again,
        Err(rule(messages::rule_already_linked(
            "FLT-2026-000007",
            "causes",
            "CMP-2026-000042"
        )))
    );

    // Unlinked from the fault's side: both views lose the link, and the
    // complaint is no longer told of the fault's resolution.
    let unlink = link::UnlinkTickets {
        target: "CMP-2026-000042".to_owned(),
        reason: "Another street.".to_owned(),
    };
    let (on_fault, on_complaint) = link::unlink_pair(
        &fault.view.ticket_ref(),
        &fault.view.links,
        &complaint.ticket_ref(),
        &complaint.links,
        &unlink,
    )
    .unwrap();
    fault.apply(&[FaultEvent::Unlinked(on_fault)], DISPATCHER);
    let version = complaint.version + 1;
    complaint = complaint::evolve(
        Some(complaint),
        &ComplaintEvent::Unlinked(on_complaint),
        &meta(version, DISPATCHER),
    )
    .unwrap();
    assert!(fault.view.links.is_empty());
    assert!(complaint.links.is_empty());
    assert!(fault.view.complaints_to_inform().is_empty());
}

#[test]
fn complaints_to_inform_are_the_escalating_and_linked_complaints_once_each() {
    let complaint = complaint_in(ComplaintStatus::Acknowledged);
    let (_, events) = escalate(&complaint, ID, NUMBER, &escalation(None), at(9)).unwrap();
    let mut l = Ledger::from_events(&events);
    let other_complaint = TicketRef {
        id: Uuid::from_u128(0x0c02),
        number: "CMP-2026-000043".to_owned(),
        kind: TicketKind::Complaint,
    };
    let other_fault = TicketRef {
        id: Uuid::from_u128(0x0f03),
        number: "FLT-2026-000009".to_owned(),
        kind: TicketKind::Fault,
    };
    let linked = |other: TicketRef| {
        FaultEvent::Linked(TicketLinked {
            other,
            relation: LinkRelation::RelatesTo,
            comment: None,
        })
    };
    l.apply(
        &[
            linked(other_fault),
            // The escalating complaint linked as well: still told once.
            linked(complaint_ref()),
            linked(other_complaint.clone()),
        ],
        DISPATCHER,
    );
    assert_eq!(l.view.complaints_to_inform(), [complaint_ref(), other_complaint]);
}

// --------------------------------------------------- state × command table

/// Whether the rules allow the command kind in the state.
fn allowed(status: FaultStatus, cmd: &FaultCommand) -> bool {
    use FaultStatus::*;
    match cmd {
        FaultCommand::Triage(_) => [Reported, Triaged, Investigating, Mitigated].contains(&status),
        FaultCommand::Evaluate(_) | FaultCommand::AssignTechnician(_) => {
            [Triaged, Investigating, Mitigated].contains(&status)
        }
        FaultCommand::StartInvestigation(_) => status == Triaged,
        FaultCommand::Mitigate(_) => status == Investigating,
        FaultCommand::Resolve(_) => [Investigating, Mitigated].contains(&status),
        FaultCommand::Close(_) => status == Resolved,
        FaultCommand::Reopen(_) => [Resolved, Closed].contains(&status),
        FaultCommand::LogRepair(_) => [Triaged, Investigating, Mitigated, Resolved].contains(&status),
        FaultCommand::WriteReview(_) => [Resolved, Closed].contains(&status),
        FaultCommand::CompleteActionItem(_) | FaultCommand::AddNote(_) => true,
        FaultCommand::VoidRepair(_) => true,
        FaultCommand::CorrectAffectedService(_) => status != Reported,
    }
}

#[test]
fn every_state_accepts_exactly_the_commands_the_rules_allow() {
    // Action items are left out: their rule is about the review, not the
    // status, and `action_items_need_a_review_and_then_work_in_any_status`
    // covers them.
    let commands = [
        triage(2, None),
        evaluate(),
        assign(OTHER_TECH),
        start(),
        mitigate(),
        resolve(),
        close(),
        reopen(),
        repair(MaintenanceType::Corrective, 60),
        review(),
        note("n"),
        // Every fixture affects broadband-north.
        correct_service("broadband-south"),
    ];
    let mut allowed_count = 0;
    for status in FaultStatus::ALL {
        let l = fault_in(status);
        for cmd in &commands {
            // As the evaluator, so that evaluation is judged on status alone.
            let result = l.try_run_as(EVALUATOR, cmd.clone());
            if allowed(status, cmd) {
                allowed_count += 1;
                let events = result.unwrap_or_else(|e| panic!("{} in {status:?} refused: {e:?}", cmd.name()));
                assert_eq!(events.len(), 1);
            } else {
                assert_eq!(
                    result,
                    Err(DomainError::InvalidTransition {
                        aggregate: "fault",
                        state: status.as_str(),
                        command: cmd.name(),
                    }),
                    "{} in {status:?}",
                    cmd.name()
                );
            }
        }
    }
    // Guards the table itself: 4 + 3 + 3 + 1 + 1 + 2 + 1 + 2 + 4 + 2 + 6 + 5.
    assert_eq!(allowed_count, 34);
}

#[test]
fn refusals_read_as_sentences() {
    let l = fault_in(FaultStatus::Reported);
    let err = l.try_run(start()).unwrap_err();
    assert_eq!(err.to_string(), "cannot start investigating a fault that is reported");
    let l = fault_in(FaultStatus::Closed);
    let err = l.try_run(repair(MaintenanceType::Corrective, 1)).unwrap_err();
    assert_eq!(err.to_string(), "cannot log a repair on a fault that is closed");
}

#[test]
fn validation_errors_win_over_a_wrong_state() {
    let l = fault_in(FaultStatus::Closed);
    assert_eq!(pointers(l.try_run(triage(9, Some(TECH)))), ["/severity"]);
    assert_eq!(
        pointers(l.try_run(repair(MaintenanceType::Corrective, 0))),
        ["/person_minutes"]
    );
    let l = fault_in(FaultStatus::Reported);
    assert_eq!(
        pointers(l.try_run_as(
            DISPATCHER,
            FaultCommand::Mitigate(Mitigate {
                workaround: String::new()
            })
        )),
        ["/workaround"]
    );
}

#[test]
fn every_command_checks_its_text_fields() {
    let empty = || Some(String::new());
    let cases: Vec<(FaultStatus, FaultCommand, Vec<&str>)> = vec![
        (
            FaultStatus::Reported,
            FaultCommand::Triage(Triage {
                severity: 3,
                evaluator: "e".repeat(101),
                technician: empty(),
            }),
            vec!["/evaluator", "/technician"],
        ),
        (FaultStatus::Triaged, assign(""), vec!["/technician"]),
        (
            FaultStatus::Triaged,
            FaultCommand::StartInvestigation(StartInvestigation { note: empty() }),
            vec!["/note"],
        ),
        (
            FaultStatus::Resolved,
            FaultCommand::Close(Close { comment: empty() }),
            vec!["/comment"],
        ),
        (
            FaultStatus::Resolved,
            FaultCommand::Reopen(Reopen {
                reason: "\t\n".to_owned(),
            }),
            vec!["/reason"],
        ),
        (FaultStatus::Resolved, complete(1, Some("")), vec!["/note"]),
    ];
    for (status, cmd, expected) in cases {
        let l = fault_in(status);
        assert_eq!(pointers(l.try_run(cmd.clone())), expected, "{}", cmd.name());
    }
}

#[test]
fn every_event_advances_version_and_updated_at() {
    let mut l = Ledger::reported();
    let script = [
        triage(2, None),
        assign(TECH),
        start(),
        mitigate(),
        repair(MaintenanceType::Corrective, 30),
        note("n"),
        resolve(),
        review(),
        complete(1, None),
        close(),
        reopen(),
    ];
    for cmd in script {
        let before = l.view.version;
        l.run(cmd);
        assert_eq!(l.view.version, before + 1);
        assert_eq!(l.view.updated_at, at(l.view.version as i64));
    }
    let before = l.view.version;
    l.run_as(EVALUATOR, evaluate());
    assert_eq!(l.view.version, before + 1);
    assert_eq!(l.view.created_at, at(1));
}

// ------------------------------------------------------------------- fold

#[test]
fn a_stream_must_start_with_exactly_one_report() {
    let events = one_of_each_event();
    for e in &events[1..] {
        assert!(
            matches!(evolve(None, e, &meta(1, DISPATCHER)), Err(StreamCorrupt(_))),
            "{} first",
            e.event_type()
        );
    }
    let view = evolve(None, &events[0], &meta(1, DISPATCHER)).unwrap();
    assert_eq!(
        evolve(Some(view), &events[0], &meta(2, DISPATCHER)),
        Err(StreamCorrupt(format!(
            "fault {ID} was reported twice (second time at version 2)"
        )))
    );
}

#[test]
fn evolve_folds_any_event_in_any_state_without_panicking() {
    // Stored events are facts: the fold does not re-judge them, even when no
    // decision could have produced them in that order.
    for status in FaultStatus::ALL {
        for e in &one_of_each_event()[1..] {
            let l = fault_in(status);
            let version = l.view.version + 1;
            assert!(evolve(Some(l.view), e, &meta(version, DISPATCHER)).is_ok());
        }
    }
    let mut view = fault_in(FaultStatus::Resolved).view;
    view.reopen_count = u32::MAX;
    view.person_minutes.total = u64::MAX;
    let reopened = FaultEvent::Reopened(FaultReopened { reason: "r".to_owned() });
    let view = evolve(Some(view), &reopened, &meta(9, DISPATCHER)).unwrap();
    assert_eq!(view.reopen_count, u32::MAX);
    let repaired = evolve(Some(view), &one_of_each_event()[9], &meta(10, DISPATCHER)).unwrap();
    assert_eq!(repaired.person_minutes.total, u64::MAX);
}

// ---------------------------------------------------------- serialization

#[test]
fn every_event_type_is_listed_and_decodes_from_storage() {
    let events = one_of_each_event();
    let types: Vec<&str> = events.iter().map(FaultEvent::event_type).collect();
    assert_eq!(types, FaultEvent::EVENT_TYPES);
    for e in events {
        assert_eq!(e.schema_version(), 1);
        // Through text, as the event store keeps it.
        let stored: Value = serde_json::from_str(&e.payload_json().to_string()).unwrap();
        let decoded = FaultEvent::from_stored(e.event_type(), e.schema_version(), stored);
        assert_eq!(decoded, Ok(e.clone()));
        // And through the trait the store uses.
        let as_domain: &dyn crate::domain::DomainEvent = &e;
        assert_eq!(as_domain.event_type(), e.event_type());
        assert_eq!(as_domain.payload_json(), e.payload_json());
    }
}

#[test]
fn unknown_types_versions_and_payloads_are_corrupt() {
    let payload = json!({"reason": "x"});
    assert_eq!(
        FaultEvent::from_stored("fault.exploded", 1, payload.clone()),
        Err(StreamCorrupt("fault.exploded is not a fault event type".to_owned()))
    );
    assert!(matches!(
        FaultEvent::from_stored("complaint.reopened", 1, payload.clone()),
        Err(StreamCorrupt(_))
    ));
    for version in [0, 2] {
        assert_eq!(
            FaultEvent::from_stored("fault.reopened", version, payload.clone()),
            Err(StreamCorrupt(format!(
                "fault.reopened has schema version {version}, which this build does not understand"
            )))
        );
    }
    assert!(matches!(
        FaultEvent::from_stored("fault.reopened", 1, json!({"why": "x"})),
        Err(StreamCorrupt(_))
    ));
    assert!(matches!(
        FaultEvent::from_stored("fault.triaged", 1, json!({"severity": 1.5, "evaluator": "e"})),
        Err(StreamCorrupt(_))
    ));
}

#[test]
fn events_serialize_as_type_and_payload() {
    for e in one_of_each_event() {
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
        assert_eq!(json["type"], e.event_type());
        assert_eq!(json["payload"], e.payload_json());
        assert!(e.payload_json().is_object());
        let back: FaultEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
    assert_eq!(
        one_of_each_event()[9].payload_json(),
        json!({
            "repair": 1,
            "technician": "tom",
            "action_taken": "Spliced fibres.",
            "started_at": "2025-03-01T07:30:00Z",
            "ended_at": "2025-03-01T08:30:00Z",
            "person_minutes": 120,
            "maintenance_type": "corrective",
            "parts": ["splice sleeve", "patch cord"]
        })
    );
    assert_eq!(
        one_of_each_event()[0].payload_json()["escalated_from"],
        json!({"id": COMPLAINT_ID.to_string(), "number": COMPLAINT_NUMBER, "kind": "complaint"})
    );
}

#[test]
fn absent_optional_fields_are_left_out_of_payloads() {
    let e = report(ID, NUMBER, &reporting(), at(0)).unwrap().remove(0);
    assert!(e.payload_json().get("escalated_from").is_none());
    let e = FaultEvent::Closed(FaultClosed { comment: None });
    assert_eq!(e.payload_json(), json!({}));
    assert_eq!(FaultEvent::from_stored("fault.closed", 1, json!({})), Ok(e));
    let mut cmd = repair_cmd(MaintenanceType::Corrective, 1);
    cmd.parts.clear();
    let e = fault_in(FaultStatus::Investigating)
        .try_run(FaultCommand::LogRepair(cmd))
        .unwrap()
        .remove(0);
    assert!(e.payload_json().get("parts").is_none());
    assert_eq!(FaultEvent::from_stored(e.event_type(), 1, e.payload_json()), Ok(e));
}

#[test]
fn payloads_never_contain_floats() {
    fn assert_no_floats(v: &Value) {
        match v {
            Value::Number(n) => assert!(n.is_u64() || n.is_i64(), "float {n}"),
            Value::Array(items) => items.iter().for_each(assert_no_floats),
            Value::Object(map) => map.values().for_each(assert_no_floats),
            _ => {}
        }
    }
    for e in one_of_each_event() {
        assert_no_floats(&e.payload_json());
    }
}

#[test]
fn views_round_trip_through_json() {
    let mut l = fault_with(1, FaultStatus::Closed);
    l.run(complete(1, Some("Done.")));
    l.apply(&one_of_each_event()[13..], DISPATCHER);
    let text = serde_json::to_string(&l.view).unwrap();
    let back: Fault = serde_json::from_str(&text).unwrap();
    assert_eq!(back, l.view);
}

#[test]
fn value_types_use_their_documented_spellings() {
    for status in FaultStatus::ALL {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert_eq!(
        FaultStatus::ALL.map(FaultStatus::as_str),
        [
            "reported",
            "triaged",
            "investigating",
            "mitigated",
            "resolved",
            "closed"
        ]
    );
    for d in DetectedBy::ALL {
        assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
    }
    assert_eq!(DetectedBy::CustomerComplaint.as_str(), "customer_complaint");
}

#[test]
fn command_bodies_deserialize_as_documented() {
    let t: Triage = serde_json::from_value(json!({"severity": 2, "evaluator": "e"})).unwrap();
    assert_eq!(t.technician, None);
    let s: StartInvestigation = serde_json::from_str("{}").unwrap();
    assert_eq!(s, StartInvestigation { note: None });
    let c: CompleteActionItem = serde_json::from_value(json!({"item": 2})).unwrap();
    assert_eq!(c, CompleteActionItem { item: 2, note: None });
    let e: EscalateComplaint = serde_json::from_value(json!({"description": "d", "affected_service": "s"})).unwrap();
    assert_eq!(e.title, None);

    let r: LogRepair = serde_json::from_value(json!({
        "technician": "tom",
        "action_taken": "a",
        "started_at": "2025-03-01T07:30:00Z",
        "ended_at": "2025-03-01T08:30:00+01:00",
        "person_minutes": 60,
        "maintenance_type": "preventive"
    }))
    .unwrap();
    assert_eq!(r.parts, Vec::<String>::new());
    assert_eq!(r.ended_at, at(-90));
    assert_eq!(r.maintenance_type, MaintenanceType::Preventive);

    let w: WriteReview = serde_json::from_value(json!({
        "summary": "s",
        "root_cause": "r",
        "action_items": [{"description": "d", "owner": "o", "due_on": "2025-04-15"}]
    }))
    .unwrap();
    assert_eq!(w.contributing_factors, Vec::<String>::new());
    assert_eq!(w.action_items[0].due_on, day(15));

    assert!(serde_json::from_value::<Close>(json!({"comment": "x", "force": true})).is_err());
    assert!(serde_json::from_value::<Triage>(json!({"severity": 300, "evaluator": "e"})).is_err());
    assert!(
        serde_json::from_value::<Evaluate>(
            json!({"nature": "n", "estimated_effort_minutes": -1, "proposed_priority": 1})
        )
        .is_err()
    );
    assert!(
        serde_json::from_value::<ReportFault>(
            json!({"title": "t", "description": "d", "affected_service": "s", "detected_by": "psychic"})
        )
        .is_err()
    );
    assert!(
        serde_json::from_value::<WriteReview>(json!({
            "summary": "s",
            "root_cause": "r",
            "action_items": [{"description": "d", "owner": "o", "due_on": "2025-04-15", "done": true}]
        }))
        .is_err()
    );
    // Review action items are required, even if empty.
    assert!(serde_json::from_value::<WriteReview>(json!({"summary": "s", "root_cause": "r"})).is_err());
}

#[test]
fn command_names_complete_the_refusal_sentence() {
    let names: Vec<&str> = [
        triage(1, None),
        evaluate(),
        assign(""),
        start(),
        mitigate(),
        resolve(),
        close(),
        reopen(),
        repair(MaintenanceType::Corrective, 1),
        review(),
        complete(1, None),
        note(""),
    ]
    .iter()
    .map(FaultCommand::name)
    .collect();
    assert_eq!(
        names,
        [
            "triage",
            "evaluate",
            "assign a technician to",
            "start investigating",
            "mitigate",
            "resolve",
            "close",
            "reopen",
            "log a repair on",
            "write a review of",
            "complete an action item of",
            "add a note to",
        ]
    );
}

#[test]
fn openapi_schemas_build() {
    use utoipa::PartialSchema;
    let event = serde_json::to_value(FaultEvent::schema()).unwrap();
    let text = event.to_string();
    for t in FaultEvent::EVENT_TYPES {
        assert!(text.contains(t), "{t} missing from the event schema");
    }
    for schema in [
        Fault::schema(),
        ReportFault::schema(),
        EscalateComplaint::schema(),
        Triage::schema(),
        LogRepair::schema(),
        WriteReview::schema(),
        LinkTickets::schema(),
    ] {
        assert!(serde_json::to_value(schema).unwrap().is_object());
    }
}

// ------------------------------------------------------- the bodies' schemas

/// Every body's OpenAPI schema states the limits the domain enforces: its
/// example is accepted, and at each limit a body one step inside is
/// accepted and one step outside refused, by the schema and the domain
/// alike (see `domain::body_limits`).
#[test]
fn every_body_schema_states_the_limits_the_domain_enforces() {
    use crate::domain::body_limits::check_every_limit;
    use FaultStatus::{Investigating, Reported, Resolved, Triaged};
    let by = |actor: &'static str, status, cmd| fault_in(status).try_run_as(actor, cmd).map(drop);
    let in_state = |status, cmd| by(DISPATCHER, status, cmd);

    check_every_limit(|cmd: ReportFault| report(ID, NUMBER, &cmd, at(0)).map(drop));
    let complaint = complaint_in(ComplaintStatus::Acknowledged);
    check_every_limit(|cmd: EscalateComplaint| escalate(&complaint, ID, NUMBER, &cmd, at(9)).map(drop));
    check_every_limit(|cmd| in_state(Reported, FaultCommand::Triage(cmd)));
    check_every_limit(|cmd| by(EVALUATOR, Triaged, FaultCommand::Evaluate(cmd)));
    check_every_limit(|cmd| in_state(Triaged, FaultCommand::AssignTechnician(cmd)));
    check_every_limit(|cmd| in_state(Triaged, FaultCommand::StartInvestigation(cmd)));
    check_every_limit(|cmd| in_state(Investigating, FaultCommand::Mitigate(cmd)));
    check_every_limit(|cmd| in_state(Investigating, FaultCommand::Resolve(cmd)));
    check_every_limit(|cmd| in_state(Resolved, FaultCommand::Close(cmd)));
    check_every_limit(|cmd| in_state(Resolved, FaultCommand::Reopen(cmd)));
    check_every_limit(|cmd| in_state(Investigating, FaultCommand::AddNote(cmd)));
    check_every_limit(|cmd| in_state(Resolved, FaultCommand::WriteReview(cmd)));
    // The example's repair was in March 2026; the decision is taken later.
    let investigating = fault_in(Investigating);
    let later = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc();
    check_every_limit(|cmd| decide(&investigating.view, &FaultCommand::LogRepair(cmd), DISPATCHER, later).map(drop));
    // A review of as many action items as a review may have.
    let mut reviewed = fault_in(Resolved);
    let mut most = review_cmd();
    most.action_items = (1..=100)
        .map(|i| action_item(&format!("Step {i}"), "noc", 30))
        .collect();
    reviewed.run(FaultCommand::WriteReview(most));
    check_every_limit(|cmd| reviewed.try_run(FaultCommand::CompleteActionItem(cmd)).map(drop));
    check_every_limit(|cmd| in_state(Triaged, FaultCommand::CorrectAffectedService(cmd)));
    // A fault whose repair has the ordinal the body names, whatever it is.
    let mut repaired = fault_in(Investigating);
    repaired.run(repair(MaintenanceType::Corrective, 60));
    check_every_limit(|cmd: VoidRepair| {
        let mut view = repaired.view.clone();
        view.repairs[0].repair = cmd.repair;
        decide(&view, &FaultCommand::VoidRepair(cmd), DISPATCHER, later).map(drop)
    });
}

/// Rules across fields, or on the fault's state, are in the bodies'
/// descriptions: the schema accepts what only the domain refuses.
#[test]
fn rules_across_fields_are_the_domains_alone() {
    use crate::domain::body_limits::body;
    let triage = body(|cmd| {
        fault_in(FaultStatus::Reported)
            .try_run(FaultCommand::Triage(cmd))
            .map(drop)
    });
    triage.accepts(json!({"severity": 1, "evaluator": EVALUATOR, "technician": TECH}));
    triage.only_the_domain_refuses(json!({"severity": 1, "evaluator": EVALUATOR}), "/technician");

    let repairs = body(|cmd| {
        fault_in(FaultStatus::Investigating)
            .try_run(FaultCommand::LogRepair(cmd))
            .map(drop)
    });
    let started = at(-90).to_rfc3339();
    let repair = |ended_at: String| repairs.example_with(json!({"started_at": started, "ended_at": ended_at}));
    repairs.accepts(repair(at(-30).to_rfc3339()));
    repairs.only_the_domain_refuses(repair(at(-90).to_rfc3339()), "/ended_at");
    repairs.only_the_domain_refuses(repair(at(60).to_rfc3339()), "/ended_at");
}

// ------------------------------------------------------------- corrections

#[test]
fn a_voided_repair_stays_on_the_fault_and_leaves_the_person_minutes() {
    let mut l = fault_in(FaultStatus::Investigating);
    l.run(repair(MaintenanceType::Corrective, 120));
    l.run(repair(MaintenanceType::Corrective, 120));
    l.run(repair(MaintenanceType::Preventive, 45));
    assert_eq!(
        (l.view.person_minutes.corrective, l.view.person_minutes.total),
        (240, 285)
    );

    let events = l.run(void(2, "Logged twice: the same visit as repair 1."));
    assert_eq!(
        events,
        [FaultEvent::RepairVoided(FaultRepairVoided {
            repair: 2,
            reason: "Logged twice: the same visit as repair 1.".to_owned(),
        })]
    );
    assert_eq!(
        l.view.person_minutes,
        PersonMinutes {
            corrective: 120,
            adaptive: 0,
            perfective: 0,
            preventive: 45,
            total: 165,
        }
    );
    assert_eq!(l.view.repairs.len(), 3, "the voided repair is still shown");
    assert_eq!(
        l.view.repairs[1].voided,
        Some(Voiding {
            at: l.last_at(),
            by: DISPATCHER.to_owned(),
            reason: "Logged twice: the same visit as repair 1.".to_owned(),
        })
    );
    assert!(l.view.repairs[0].voided.is_none() && l.view.repairs[2].voided.is_none());
    assert_eq!(l.view.status, FaultStatus::Investigating);
}

#[test]
fn a_repair_is_voided_once_and_must_exist() {
    let mut l = fault_in(FaultStatus::Resolved);
    l.run(repair(MaintenanceType::Adaptive, 30));
    l.run(void(1, "Wrong fault."));
    assert_eq!(
        l.try_run(void(1, "Again.")),
        Err(rule(messages::rule_repair_already_voided(1)))
    );
    assert_eq!(
        l.try_run(void(2, "Which?")),
        Err(rule(messages::rule_no_such_repair(2, 1)))
    );
    assert_eq!(pointers(l.try_run(void(0, ""))), ["/repair", "/reason"]);
    // Person-minutes are reported on closed faults too.
    let mut closed = fault_in(FaultStatus::Closed);
    closed.view.repairs = l.view.repairs.clone();
    closed.view.repairs[0].voided = None;
    assert!(closed.try_run(void(1, "Wrong fault.")).is_ok());
}

#[test]
fn correcting_the_affected_service_records_both_after_triage() {
    let mut l = fault_in(FaultStatus::Mitigated);
    let events = l.run(correct_service("broadband-south"));
    assert_eq!(
        events,
        [FaultEvent::AffectedServiceCorrected(FaultAffectedServiceCorrected {
            from: "broadband-north".to_owned(),
            to: "broadband-south".to_owned(),
            reason: "Triage found the other ring.".to_owned(),
        })]
    );
    assert_eq!(l.view.affected_service, "broadband-south");
    assert_eq!(
        l.view.affected_service_corrections,
        [AffectedServiceCorrection {
            from: "broadband-north".to_owned(),
            to: "broadband-south".to_owned(),
            reason: "Triage found the other ring.".to_owned(),
            at: l.last_at(),
            by: DISPATCHER.to_owned(),
        }]
    );
    assert_eq!(l.view.status, FaultStatus::Mitigated);

    assert_eq!(
        l.try_run(correct_service("broadband-south")),
        Err(rule(messages::rule_affected_service_unchanged("broadband-south")))
    );
    let err = fault_in(FaultStatus::Reported)
        .try_run(correct_service("broadband-south"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot correct the affected service of a fault that is reported"
    );
    let no_reason = FaultCommand::CorrectAffectedService(CorrectAffectedService {
        affected_service: " ".to_owned(),
        reason: String::new(),
    });
    assert_eq!(pointers(l.try_run(no_reason)), ["/affected_service", "/reason"]);
}

#[test]
fn views_stored_before_corrections_still_read() {
    let mut l = fault_in(FaultStatus::Investigating);
    l.run(repair(MaintenanceType::Corrective, 60));
    let mut stored = serde_json::to_value(&l.view).unwrap();
    stored.as_object_mut().unwrap().remove("affected_service_corrections");
    let back: Fault = serde_json::from_value(stored).unwrap();
    assert_eq!(back, l.view);
}
