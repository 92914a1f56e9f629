//! Change rules as usage examples: draft, decide, schedule, fold, look at
//! the view. Each test is named for the rule it shows.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::calendar::{Booking, CalendarEvent, ServiceCalendar, evolve_calendar};
use super::freeze::{DeclareFreeze, FreezeCalendar, declare_freeze, evolve_freezes};
use super::*;
use crate::domain::link::{LinkRelation, TicketLinked, TicketRef, TicketUnlinked};
use crate::domain::maintenance::MaintenanceType;
use crate::domain::test_clock::at;
use crate::domain::ticket::TicketKind;
use crate::domain::{DomainError, EventMeta, Message, StreamCorrupt, messages};

// ---------------------------------------------------------------- fixtures

/// Drafts every change in these tests.
const REQUESTER: &str = "https://idp.example|rita";
const APPROVER: &str = "https://idp.example|mona";
const SECOND_APPROVER: &str = "https://idp.example|max";
const ENGINEER: &str = "https://idp.example|eve";
const ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0c9a);
const NUMBER: &str = "CHG-2026-000011";

fn services() -> Vec<String> {
    vec!["billing".to_owned(), "dns".to_owned()]
}

fn drafting(change_type: ChangeType) -> DraftChange {
    DraftChange {
        title: "Upgrade the billing database to PostgreSQL 17".to_owned(),
        description: "Major version upgrade with logical replication.".to_owned(),
        affected_services: services(),
        maintenance_type: MaintenanceType::Adaptive,
        change_type,
        linked_faults: Vec::new(),
    }
}

fn fault(n: u128) -> TicketRef {
    TicketRef {
        id: Uuid::from_u128(n),
        number: format!("FLT-2026-{n:06}"),
        kind: TicketKind::Fault,
    }
}

fn other_change(n: u128) -> TicketRef {
    TicketRef {
        id: Uuid::from_u128(n),
        number: format!("CHG-2026-{n:06}"),
        kind: TicketKind::Change,
    }
}

/// A distinct stored hash for each version, as the store's chain gives.
fn hash_of(version: u64) -> [u8; 32] {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&version.to_be_bytes());
    hash[31] = 0xab;
    hash
}

/// A change being worked on: its view, the next version, and how many
/// minutes the clock runs ahead of it (each event is recorded at minute
/// `next + ahead`).
struct Ledger {
    view: Change,
    next: u64,
    ahead: i64,
}

impl Ledger {
    fn drafted(change_type: ChangeType) -> Ledger {
        let events = draft(ID, NUMBER, &drafting(change_type), Vec::new(), at(0)).unwrap();
        let hash = hash_of(1);
        let meta = EventMeta {
            recorded_at: at(1),
            actor: REQUESTER,
            version: 1,
            hash: &hash,
        };
        Ledger {
            view: evolve(None, &events[0], &meta).unwrap(),
            next: 2,
            ahead: 0,
        }
    }

    /// Drafted, submitted and assessed with `risk`.
    fn assessed(change_type: ChangeType, risk: Risk) -> Ledger {
        let mut l = Ledger::drafted(change_type);
        l.run_as(REQUESTER, submit());
        l.run_as(ENGINEER, assess(risk));
        l
    }

    /// An approved normal change of low risk.
    fn approved() -> Ledger {
        let mut l = Ledger::assessed(ChangeType::Normal, Risk::Low);
        l.run_as(APPROVER, approve());
        l
    }

    /// Scheduled on empty calendars with no freezes.
    fn scheduled(mut self) -> Ledger {
        self.schedule(&window(1000, 1060), &FreezeCalendar::default(), &[])
            .unwrap();
        self
    }

    /// Started at the beginning of the window [`Ledger::scheduled`] books.
    fn implementing(mut self) -> Ledger {
        self.start_at(1000, &FreezeCalendar::default()).unwrap();
        self
    }

    /// Moves the clock to minute `minute` (never backwards) and starts
    /// implementing as an engineer.
    fn start_at(&mut self, minute: i64, freezes: &FreezeCalendar) -> Result<Vec<ChangeEvent>, DomainError> {
        self.ahead = self.ahead.max(minute - self.next as i64);
        let events = start_implementation(&self.view, &StartImplementation {}, freezes, self.now())?;
        self.apply(&events, ENGINEER);
        Ok(events)
    }

    fn completed(mut self) -> Ledger {
        self.run_as(ENGINEER, step(RolloutStepKind::FullRollout, None));
        self.run_as(ENGINEER, ChangeCommand::Complete(Complete {}));
        self
    }

    fn now(&self) -> DateTime<Utc> {
        at(self.next as i64 + self.ahead)
    }

    fn try_as(&self, actor: &str, cmd: ChangeCommand) -> Result<Vec<ChangeEvent>, DomainError> {
        decide(&self.view, &cmd, actor, self.now())
    }

    fn apply(&mut self, events: &[ChangeEvent], actor: &str) {
        for e in events {
            let hash = hash_of(self.next);
            let meta = EventMeta {
                recorded_at: self.now(),
                actor,
                version: self.next,
                hash: &hash,
            };
            self.view = evolve(Some(self.view.clone()), e, &meta).unwrap();
            self.next += 1;
        }
    }

    fn run_as(&mut self, actor: &str, cmd: ChangeCommand) -> Vec<ChangeEvent> {
        let events = self
            .try_as(actor, cmd.clone())
            .unwrap_or_else(|e| panic!("{} refused: {e:?}", cmd.name()));
        self.apply(&events, actor);
        events
    }

    /// Schedules as a manager and folds the change's events in.
    fn schedule(
        &mut self,
        cmd: &ScheduleChange,
        freezes: &FreezeCalendar,
        calendars: &[ServiceCalendar],
    ) -> Result<Scheduled, DomainError> {
        let scheduled = schedule(&self.view, cmd, freezes, calendars, self.now())?;
        self.apply(&scheduled.change, APPROVER);
        Ok(scheduled)
    }
}

fn submit() -> ChangeCommand {
    ChangeCommand::Submit(Submit {})
}

fn plan(risk: Risk) -> Assess {
    Assess {
        risk,
        impact: "Billing read-only for 10 minutes.".to_owned(),
        implementation_plan: "Replicate, switch over, verify.".to_owned(),
        test_plan: "Run the billing smoke tests.".to_owned(),
        test_evidence: None,
        rollback_plan: "Switch back to the old primary.".to_owned(),
    }
}

fn assess(risk: Risk) -> ChangeCommand {
    ChangeCommand::Assess(plan(risk))
}

fn amend_plan(risk: Risk) -> ChangeCommand {
    let mut p = plan(risk);
    p.test_evidence = Some("Rehearsed on staging.".to_owned());
    ChangeCommand::AmendPlan(p)
}

fn approve() -> ChangeCommand {
    ChangeCommand::Approve(Approve {
        comment: "Looks safe.".to_owned(),
    })
}

fn reject() -> ChangeCommand {
    ChangeCommand::Reject(Reject {
        comment: "Not during the sales campaign.".to_owned(),
    })
}

fn step(kind: RolloutStepKind, percent: Option<u8>) -> ChangeCommand {
    ChangeCommand::RecordRolloutStep(RecordRolloutStep {
        kind,
        percent,
        note: None,
    })
}

fn review() -> ChangeCommand {
    ChangeCommand::Review(Review {
        outcome: ReviewOutcome::Successful,
        went_well: "Switch-over took 4 minutes.".to_owned(),
        went_wrong: "Replication lag alarm was noisy.".to_owned(),
        follow_up_actions: vec![FollowUpAction {
            description: "Tune the lag alarm.".to_owned(),
            owner: "dba-team".to_owned(),
            due_on: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        }],
    })
}

fn close(reason: Option<&str>) -> ChangeCommand {
    ChangeCommand::Close(Close {
        reason: reason.map(str::to_owned),
    })
}

fn note(text: &str) -> ChangeCommand {
    ChangeCommand::AddNote(AddNote { body: text.to_owned() })
}

/// A window from minute `start` to minute `end`, given as UTC instants.
fn window(start: i64, end: i64) -> ScheduleChange {
    ScheduleChange {
        start: at(start).to_rfc3339(),
        end: at(end).to_rfc3339(),
        time_zone: None,
        override_conflicts: false,
        override_reason: None,
    }
}

fn pointers<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Vec<String> {
    match result {
        Err(DomainError::Validation(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn rule<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Message {
    match result {
        Err(DomainError::RuleViolated(detail)) => detail,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

fn invalid<T: std::fmt::Debug>(result: Result<T, DomainError>) -> (&'static str, &'static str) {
    match result {
        Err(DomainError::InvalidTransition {
            aggregate: "change",
            state,
            command,
        }) => (state, command),
        other => panic!("expected an invalid transition, got {other:?}"),
    }
}

/// A calendar of `service` with `change` booked from minute `start` to `end`.
fn calendar_with(service: &str, change: TicketRef, start: i64, end: i64) -> ServiceCalendar {
    ServiceCalendar {
        service: service.to_owned(),
        bookings: vec![Booking {
            change,
            start: at(start),
            end: at(end),
        }],
        version: 1,
    }
}

/// A freeze of `service` (all if None) from minute `start` to `end`.
fn freezes_with(service: Option<&str>, start: i64, end: i64) -> FreezeCalendar {
    let cmd = DeclareFreeze {
        service: service.map(str::to_owned),
        start: at(start).to_rfc3339(),
        end: at(end).to_rfc3339(),
        time_zone: Some("Asia/Shanghai".to_owned()),
        reason: "Quarter-end close".to_owned(),
    };
    let events = declare_freeze(Uuid::from_u128(0xf1), &cmd, at(0)).unwrap();
    let hash = hash_of(1);
    let meta = EventMeta {
        recorded_at: at(0),
        actor: "admin",
        version: 1,
        hash: &hash,
    };
    evolve_freezes(None, &events[0], &meta).unwrap()
}

// ---------------------------------------------------------------- drafting

#[test]
fn the_drafting_actor_is_the_requester() {
    let l = Ledger::drafted(ChangeType::Normal);
    let c = &l.view;
    assert_eq!(c.requester, REQUESTER);
    assert_eq!(c.status, ChangeStatus::Draft);
    assert_eq!(c.number, NUMBER);
    assert_eq!(c.affected_services, services());
    assert_eq!(c.plan, None);
    assert_eq!(c.plan_revision, 0);
    assert_eq!(
        c.ticket_ref(),
        TicketRef {
            id: ID,
            number: NUMBER.to_owned(),
            kind: TicketKind::Change,
        }
    );
    assert!(!c.is_approved());
    assert!(!c.requires_review());
}

#[test]
fn drafting_validates_title_description_and_services() {
    let mut cmd = drafting(ChangeType::Normal);
    cmd.title = " ".to_owned();
    cmd.description = String::new();
    cmd.affected_services = Vec::new();
    assert_eq!(
        pointers(draft(ID, NUMBER, &cmd, Vec::new(), at(0))),
        ["/title", "/description", "/affected_services"]
    );
}

#[test]
fn affected_services_are_1_to_20_distinct_labels() {
    let mut cmd = drafting(ChangeType::Normal);
    cmd.affected_services = (0..21).map(|i| format!("svc-{i}")).collect();
    assert_eq!(
        pointers(draft(ID, NUMBER, &cmd, Vec::new(), at(0))),
        ["/affected_services"]
    );
    cmd.affected_services = vec!["dns".to_owned(), "x".repeat(101), "dns".to_owned()];
    assert_eq!(
        pointers(draft(ID, NUMBER, &cmd, Vec::new(), at(0))),
        ["/affected_services/1", "/affected_services/2"]
    );
    cmd.affected_services = (0..20).map(|i| format!("svc-{i}")).collect();
    assert!(draft(ID, NUMBER, &cmd, Vec::new(), at(0)).is_ok());
}

#[test]
fn linked_faults_are_distinct_faults_at_most_50() {
    let cmd = drafting(ChangeType::Normal);
    let complaint = TicketRef {
        id: Uuid::from_u128(99),
        number: "CMP-2026-000099".to_owned(),
        kind: TicketKind::Complaint,
    };
    assert_eq!(
        pointers(draft(ID, NUMBER, &cmd, vec![fault(1), complaint, fault(1)], at(0))),
        ["/linked_faults/1", "/linked_faults/2"]
    );
    let many: Vec<TicketRef> = (1..=51).map(fault).collect();
    assert_eq!(pointers(draft(ID, NUMBER, &cmd, many, at(0))), ["/linked_faults"]);
    let events = draft(ID, NUMBER, &cmd, vec![fault(1), fault(2)], at(0)).unwrap();
    let ChangeEvent::Drafted(d) = &events[0] else {
        panic!("expected change.drafted");
    };
    assert_eq!(d.linked_faults, [fault(1), fault(2)]);
}

#[test]
fn amending_is_allowed_in_draft_or_submitted_and_needs_a_field() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    let empty = AmendChange {
        title: None,
        description: None,
        affected_services: None,
        maintenance_type: None,
    };
    assert_eq!(pointers(l.try_as(REQUESTER, ChangeCommand::Amend(empty.clone()))), [""]);
    let amend = ChangeCommand::Amend(AmendChange {
        title: Some("Upgrade to PostgreSQL 17.2".to_owned()),
        affected_services: Some(vec!["billing".to_owned()]),
        ..empty.clone()
    });
    l.run_as(REQUESTER, amend.clone());
    assert_eq!(l.view.title, "Upgrade to PostgreSQL 17.2");
    assert_eq!(l.view.affected_services, ["billing"]);
    assert_eq!(l.view.description, drafting(ChangeType::Normal).description);
    l.run_as(REQUESTER, submit());
    l.run_as(REQUESTER, amend.clone());
    l.run_as(ENGINEER, assess(Risk::Low));
    assert_eq!(invalid(l.try_as(REQUESTER, amend)), ("assessed", "amend"));
    // Fields are checked before the state.
    let bad = ChangeCommand::Amend(AmendChange {
        affected_services: Some(Vec::new()),
        ..empty
    });
    assert_eq!(pointers(l.try_as(REQUESTER, bad)), ["/affected_services"]);
}

#[test]
fn submit_moves_a_draft_to_submitted_once() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    l.run_as(REQUESTER, submit());
    assert_eq!(l.view.status, ChangeStatus::Submitted);
    assert_eq!(invalid(l.try_as(REQUESTER, submit())), ("submitted", "submit"));
}

// ---------------------------------------------------------------- plan and approval

#[test]
fn assessing_records_the_plan_and_the_stored_hash_of_its_event() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    assert_eq!(invalid(l.try_as(ENGINEER, assess(Risk::Low))), ("draft", "assess"));
    l.run_as(REQUESTER, submit());
    l.run_as(ENGINEER, assess(Risk::High));
    let c = &l.view;
    assert_eq!(c.status, ChangeStatus::Assessed);
    let p = c.plan.as_ref().unwrap();
    assert_eq!((p.risk, p.by.as_str(), p.at), (Risk::High, ENGINEER, at(3)));
    assert_eq!(c.plan_hash.as_deref(), Some(hex::encode(hash_of(3)).as_str()));
    assert_eq!(c.plan_revision, 1);
    assert_eq!(c.approvals_required, 2);
    let mut bad = plan(Risk::Low);
    bad.rollback_plan = String::new();
    bad.test_evidence = Some(String::new());
    assert_eq!(
        pointers(l.try_as(ENGINEER, ChangeCommand::AmendPlan(bad))),
        ["/test_evidence", "/rollback_plan"]
    );
}

#[test]
fn the_plan_may_be_amended_when_assessed_approved_or_rejected() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    l.run_as(REQUESTER, submit());
    assert_eq!(
        invalid(l.try_as(ENGINEER, amend_plan(Risk::Low))),
        ("submitted", "amend the plan of")
    );
    l.run_as(ENGINEER, assess(Risk::Low));
    l.run_as(ENGINEER, amend_plan(Risk::Medium));
    assert_eq!(l.view.plan_revision, 2);
    l.run_as(APPROVER, reject());
    assert_eq!(l.view.status, ChangeStatus::Rejected);
    l.run_as(ENGINEER, amend_plan(Risk::Low));
    assert_eq!(l.view.status, ChangeStatus::Assessed);
    l.run_as(APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Approved);
    l.run_as(ENGINEER, amend_plan(Risk::Low));
    assert_eq!(l.view.status, ChangeStatus::Assessed);
    assert_eq!(l.view.plan_revision, 4);
    let l = l.clone_scheduled();
    assert_eq!(
        invalid(l.try_as(ENGINEER, amend_plan(Risk::Low))),
        ("scheduled", "amend the plan of")
    );
}

impl Ledger {
    /// The same change, to try something on without touching this one.
    fn clone_as_is(&self) -> Ledger {
        Ledger {
            view: self.view.clone(),
            next: self.next,
            ahead: self.ahead,
        }
    }

    /// Approves again and schedules, for tests that need a later status.
    fn clone_scheduled(&self) -> Ledger {
        let mut l = Ledger {
            view: self.view.clone(),
            next: self.next,
            ahead: self.ahead,
        };
        l.run_as(SECOND_APPROVER, approve());
        l.scheduled()
    }
}

#[test]
fn requester_cannot_approve_own_change() {
    let l = Ledger::assessed(ChangeType::Normal, Risk::Low);
    assert_eq!(
        rule(l.try_as(REQUESTER, approve())),
        messages::rule_requester_cannot_approve()
    );
    assert_eq!(
        rule(l.try_as(REQUESTER, reject())),
        messages::rule_requester_cannot_reject()
    );
    let l = Ledger::assessed(ChangeType::Emergency, Risk::Low);
    assert!(matches!(
        l.try_as(REQUESTER, approve()),
        Err(DomainError::RuleViolated(_))
    ));
}

#[test]
fn approval_records_the_current_plan_hash() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::Low);
    let events = l.run_as(APPROVER, approve());
    assert_eq!(
        events,
        [ChangeEvent::Approved(ChangeApproved {
            comment: "Looks safe.".to_owned(),
            plan_hash: hex::encode(hash_of(3)),
        })]
    );
    let a = &l.view.approvals[0];
    assert_eq!((a.by.as_str(), a.at, a.counts), (APPROVER, at(4), true));
    assert_eq!(l.view.status, ChangeStatus::Approved);
    assert!(l.view.approved && l.view.is_approved());
}

#[test]
fn the_same_person_cannot_approve_the_same_plan_twice() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::High);
    l.run_as(APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Assessed);
    assert_eq!(
        rule(l.try_as(APPROVER, approve())),
        messages::rule_already_approved_by_you()
    );
}

#[test]
fn high_risk_needs_two_different_approvers() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::High);
    assert_eq!(l.view.approvals_required, 2);
    l.run_as(APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Assessed);
    assert!(!l.view.is_approved());
    l.run_as(SECOND_APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Approved);
    assert_eq!(l.view.counting_approvers(), 2);
    assert!(l.view.approved);
    // Low and medium risk need one.
    for risk in [Risk::Low, Risk::Medium] {
        let mut l = Ledger::assessed(ChangeType::Normal, risk);
        assert_eq!(l.view.approvals_required, 1);
        l.run_as(APPROVER, approve());
        assert_eq!(l.view.status, ChangeStatus::Approved, "{risk:?}");
    }
}

#[test]
fn a_normal_change_is_approved_or_rejected_only_while_assessed() {
    let l = Ledger::drafted(ChangeType::Normal);
    assert_eq!(invalid(l.try_as(APPROVER, approve())), ("draft", "approve"));
    let l = Ledger::approved();
    assert_eq!(invalid(l.try_as(SECOND_APPROVER, approve())), ("approved", "approve"));
    assert_eq!(invalid(l.try_as(SECOND_APPROVER, reject())), ("approved", "reject"));
}

#[test]
fn rejecting_an_assessed_change_records_the_plan_and_moves_it_to_rejected() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::Low);
    l.run_as(APPROVER, reject());
    assert_eq!(l.view.status, ChangeStatus::Rejected);
    let r = &l.view.rejections[0];
    assert_eq!(
        (r.by.as_str(), r.plan_hash.clone()),
        (APPROVER, hex::encode(hash_of(3)))
    );
    assert_eq!(invalid(l.try_as(APPROVER, approve())), ("rejected", "approve"));
}

#[test]
fn amending_the_plan_after_approval_voids_earlier_approvals() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::High);
    l.run_as(APPROVER, approve());
    l.run_as(SECOND_APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Approved);
    l.run_as(ENGINEER, amend_plan(Risk::High));
    let c = &l.view;
    assert_eq!(c.status, ChangeStatus::Assessed);
    assert_eq!(c.plan_hash.as_deref(), Some(hex::encode(hash_of(6)).as_str()));
    assert!(c.approvals.iter().all(|a| !a.counts));
    assert!(!c.approved && !c.is_approved());
    // The same people may approve the new plan; it needs two again.
    l.run_as(APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Assessed);
    l.run_as(SECOND_APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Approved);
    let counts: Vec<bool> = l.view.approvals.iter().map(|a| a.counts).collect();
    assert_eq!(counts, [false, false, true, true]);
}

#[test]
fn an_approval_counts_by_stored_hash_so_refolding_keeps_it() {
    // Folding the same events with the same stored hashes gives the same
    // view: nothing is recomputed from the payload's serialisation.
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::Low);
    let approved = l.run_as(APPROVER, approve());
    let stored = approved[0].payload_json();
    let back = ChangeEvent::from_stored("change.approved", 1, stored).unwrap();
    assert_eq!(back, approved[0]);
    assert!(l.view.approvals[0].counts);
}

#[test]
fn standard_changes_are_pre_approved_and_schedule_straight_from_assessed() {
    let mut l = Ledger::assessed(ChangeType::Standard, Risk::Medium);
    assert!(l.view.is_approved() && l.view.approved);
    assert_eq!(
        rule(l.try_as(APPROVER, approve())),
        messages::rule_standard_change_pre_approved()
    );
    assert_eq!(
        rule(l.try_as(APPROVER, reject())),
        messages::rule_standard_change_pre_approved()
    );
    l.schedule(&window(1000, 1060), &FreezeCalendar::default(), &[])
        .unwrap();
    assert_eq!(l.view.status, ChangeStatus::Scheduled);
}

#[test]
fn a_normal_change_is_scheduled_only_once_approved() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::Low);
    assert_eq!(
        invalid(l.schedule(&window(1000, 1060), &FreezeCalendar::default(), &[])),
        ("assessed", "schedule")
    );
    l.run_as(APPROVER, approve());
    l.schedule(&window(1000, 1060), &FreezeCalendar::default(), &[])
        .unwrap();
    assert_eq!(l.view.status, ChangeStatus::Scheduled);
    let l = Ledger::drafted(ChangeType::Emergency);
    assert_eq!(
        invalid(schedule(
            &l.view,
            &window(1000, 1060),
            &FreezeCalendar::default(),
            &[],
            l.now()
        )),
        ("draft", "schedule")
    );
}

#[test]
fn emergency_change_may_be_scheduled_and_implemented_before_approval() {
    // Booked for minute 1000, started at minute 5: at once.
    let mut l = Ledger::assessed(ChangeType::Emergency, Risk::High).scheduled();
    l.start_at(5, &FreezeCalendar::default()).unwrap();
    assert_eq!(l.view.status, ChangeStatus::Implementing);
    assert!(!l.view.is_approved());
    assert_eq!(l.view.implementation_started_at, Some(at(5)));
}

#[test]
fn emergency_change_is_approved_retrospectively_without_changing_status() {
    let mut l = Ledger::assessed(ChangeType::Emergency, Risk::Low)
        .scheduled()
        .implementing()
        .completed();
    l.run_as(APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Completed);
    assert!(l.view.is_approved());
    l.run_as(ENGINEER, review());
    l.run_as(SECOND_APPROVER, reject());
    assert_eq!(l.view.status, ChangeStatus::Reviewed);
    // Approved straight from assessed, it moves to approved.
    let mut l = Ledger::assessed(ChangeType::Emergency, Risk::Low);
    l.run_as(APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Approved);
    // Not before assessment, nor after closing.
    let l = Ledger::drafted(ChangeType::Emergency);
    assert_eq!(invalid(l.try_as(APPROVER, approve())), ("draft", "approve"));
}

#[test]
fn assigning_is_allowed_in_any_open_status() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    let assign = |who: &str| {
        ChangeCommand::Assign(Assign {
            assignee: who.to_owned(),
        })
    };
    l.run_as(APPROVER, assign(ENGINEER));
    assert_eq!(l.view.assignee.as_deref(), Some(ENGINEER));
    assert_eq!(
        rule(l.try_as(APPROVER, assign(ENGINEER))),
        messages::rule_already_the_assignee(ENGINEER)
    );
    assert_eq!(pointers(l.try_as(APPROVER, assign(""))), ["/assignee"]);
    l.run_as(REQUESTER, close(Some("No longer needed.")));
    assert_eq!(invalid(l.try_as(APPROVER, assign("bob"))), ("closed", "assign"));
}

// ---------------------------------------------------------------- scheduling

#[test]
fn scheduling_books_every_affected_service_in_order_and_shows_local_times() {
    let mut l = Ledger::approved();
    let cmd = ScheduleChange {
        start: "2025-03-02T10:00".to_owned(),
        end: "2025-03-02T11:30:00".to_owned(),
        time_zone: None,
        override_conflicts: false,
        override_reason: None,
    };
    let s = l.schedule(&cmd, &FreezeCalendar::default(), &[]).unwrap();
    let start = DateTime::parse_from_rfc3339("2025-03-02T02:00:00Z").unwrap().to_utc();
    let end = DateTime::parse_from_rfc3339("2025-03-02T03:30:00Z").unwrap().to_utc();
    assert_eq!(
        s.change,
        [ChangeEvent::Scheduled(ChangeScheduled {
            start,
            end,
            time_zone: "Asia/Shanghai".to_owned(),
            overrides: Vec::new(),
            override_reason: None,
            freezes_overridden: Vec::new(),
        })]
    );
    let booked: Vec<(String, TicketRef, DateTime<Utc>)> = s
        .bookings
        .iter()
        .map(|b| match b {
            CalendarEvent::Booked(b) => (b.service.clone(), b.change.clone(), b.start),
            other => panic!("expected a booking, got {other:?}"),
        })
        .collect();
    let me = l.view.ticket_ref();
    assert_eq!(
        booked,
        [("billing".to_owned(), me.clone(), start), ("dns".to_owned(), me, start)]
    );
    let w = l.view.window.as_ref().unwrap();
    assert_eq!(w.start_local, "2025-03-02T10:00:00+08:00");
    assert_eq!(w.end_local, "2025-03-02T11:30:00+08:00");
    assert_eq!(w.time_zone, "Asia/Shanghai");
}

#[test]
fn the_window_must_end_after_it_starts_in_the_future_within_30_days() {
    let mut l = Ledger::approved();
    let none = FreezeCalendar::default();
    assert_eq!(pointers(l.schedule(&window(1060, 1000), &none, &[])), ["/end"]);
    assert_eq!(pointers(l.schedule(&window(-100, -10), &none, &[])), ["/end"]);
    assert_eq!(
        pointers(l.schedule(&window(1000, 1000 + 30 * 1440 + 1), &none, &[])),
        ["/end"]
    );
    let mut bad = window(1000, 1060);
    bad.start = "tomorrow".to_owned();
    bad.time_zone = Some("Asia/Nowhere".to_owned());
    assert_eq!(pointers(l.schedule(&bad, &none, &[])), ["/time_zone"]);
    bad.time_zone = None;
    assert_eq!(pointers(l.schedule(&bad, &none, &[])), ["/start"]);
    // Fields come before the state.
    let drafted = Ledger::drafted(ChangeType::Normal);
    assert_eq!(
        pointers(schedule(&drafted.view, &window(1060, 1000), &none, &[], at(0))),
        ["/end"]
    );
    l.schedule(&window(1000, 1000 + 30 * 1440), &none, &[]).unwrap();
}

#[test]
fn freeze_window_refuses_scheduling_except_for_emergencies() {
    let freezes = freezes_with(Some("dns"), 900, 1100);
    let mut l = Ledger::approved();
    let detail = rule(l.schedule(&window(1000, 1060), &freezes, &[]));
    let w = &freezes.windows[0];
    assert_eq!(
        detail,
        messages::window_in_freeze_on_service(w.id, "Quarter-end close", &w.start_local, &w.end_local, "dns")
    );
    // Outside the freeze, or on other services, it is fine.
    l.schedule(&window(1100, 1160), &freezes, &[]).unwrap();
    assert!(
        freezes_with(Some("mail"), 900, 1100)
            .active_overlapping(&l.view.affected_services, at(1000), at(1060))
            .is_empty()
    );

    let mut e = Ledger::assessed(ChangeType::Emergency, Risk::High);
    let s = e.schedule(&window(1000, 1060), &freezes, &[]).unwrap();
    let ChangeEvent::Scheduled(scheduled) = &s.change[0] else {
        panic!("expected change.scheduled");
    };
    assert_eq!(scheduled.freezes_overridden, [w.id]);
    assert_eq!(e.view.status, ChangeStatus::Scheduled);
}

#[test]
fn overlap_with_another_change_is_a_conflict_unless_overridden_with_a_reason() {
    let mut l = Ledger::approved();
    let none = FreezeCalendar::default();
    let calendars = [
        calendar_with("billing", other_change(7), 1030, 1090),
        calendar_with("dns", other_change(8), 1050, 1070),
    ];
    let Err(DomainError::ScheduleConflict { detail, conflicts }) = l.schedule(&window(1000, 1060), &none, &calendars)
    else {
        panic!("an overlap must conflict");
    };
    assert_eq!(conflicts, [other_change(7), other_change(8)]);
    assert_eq!(detail, messages::window_taken("CHG-2026-000007, CHG-2026-000008"));

    // Back to back is no overlap.
    let mut ok = Ledger::approved();
    ok.schedule(&window(970, 1030), &none, &calendars).unwrap();

    let mut cmd = window(1000, 1060);
    cmd.override_conflicts = true;
    assert_eq!(pointers(l.schedule(&cmd, &none, &calendars)), ["/override_reason"]);
    cmd.override_reason = Some("Both are read-only checks.".to_owned());
    let s = l.schedule(&cmd, &none, &calendars).unwrap();
    let ChangeEvent::Scheduled(scheduled) = &s.change[0] else {
        panic!("expected change.scheduled");
    };
    assert_eq!(scheduled.overrides, [other_change(7), other_change(8)]);
    assert_eq!(scheduled.override_reason, cmd.override_reason);
    let per_service: Vec<Vec<TicketRef>> = s
        .bookings
        .iter()
        .map(|b| match b {
            CalendarEvent::Booked(b) => {
                assert_eq!(b.override_reason, cmd.override_reason);
                b.overrides.clone()
            }
            other => panic!("expected a booking, got {other:?}"),
        })
        .collect();
    assert_eq!(per_service, [vec![other_change(7)], vec![other_change(8)]]);
}

#[test]
fn rescheduling_does_not_conflict_with_own_booking() {
    let mut l = Ledger::approved();
    let none = FreezeCalendar::default();
    let s = l.schedule(&window(1000, 1060), &none, &[]).unwrap();
    // Fold the bookings into the calendars, as the application would.
    let calendars: Vec<ServiceCalendar> = s
        .bookings
        .iter()
        .map(|b| {
            let hash = hash_of(1);
            let meta = EventMeta {
                recorded_at: at(5),
                actor: APPROVER,
                version: 1,
                hash: &hash,
            };
            evolve_calendar(None, b, &meta).unwrap()
        })
        .collect();
    let s = l.schedule(&window(1030, 1090), &none, &calendars).unwrap();
    assert_eq!(s.bookings.len(), 2);
    assert_eq!(l.view.status, ChangeStatus::Scheduled);
    assert_eq!(l.view.window.as_ref().unwrap().start, at(1030));
}

#[test]
fn unscheduling_releases_the_bookings_and_returns_to_approved_or_assessed() {
    let mut l = Ledger::approved().scheduled();
    let cmd = Unschedule {
        reason: "Vendor postponed.".to_owned(),
    };
    let (change, releases) = unschedule(&l.view, &cmd).unwrap();
    assert_eq!(releases.len(), 2);
    assert!(
        releases
            .iter()
            .all(|r| matches!(r, CalendarEvent::Released(r) if r.change.id == ID))
    );
    l.apply(&change, APPROVER);
    assert_eq!(l.view.status, ChangeStatus::Approved);
    assert_eq!(l.view.window, None);
    assert_eq!(invalid(unschedule(&l.view, &cmd)), ("approved", "unschedule"));
    assert_eq!(
        pointers(unschedule(&l.view, &Unschedule { reason: String::new() })),
        ["/reason"]
    );

    let mut e = Ledger::assessed(ChangeType::Emergency, Risk::Low).scheduled();
    let (change, _) = unschedule(&e.view, &cmd).unwrap();
    e.apply(&change, APPROVER);
    assert_eq!(e.view.status, ChangeStatus::Assessed);
}

// ---------------------------------------------------------------- implementation

#[test]
fn implementation_starts_only_from_scheduled() {
    let mut l = Ledger::approved();
    assert_eq!(
        invalid(l.start_at(1000, &FreezeCalendar::default())),
        ("approved", "start implementing")
    );
    let l = Ledger::approved().scheduled().implementing();
    assert_eq!(l.view.status, ChangeStatus::Implementing);
}

/// The window of a refused start, for tests that expect one.
fn outside(result: Result<Vec<ChangeEvent>, DomainError>) -> (Message, RefusingWindow) {
    match result {
        Err(DomainError::OutsideWindow { detail, window }) => (detail, *window),
        other => panic!("expected a start outside the window, got {other:?}"),
    }
}

fn frozen(result: Result<Vec<ChangeEvent>, DomainError>) -> (Message, RefusingWindow) {
    match result {
        Err(DomainError::Frozen { detail, window }) => (detail, *window),
        other => panic!("expected a start inside a freeze, got {other:?}"),
    }
}

fn authorise(reason: &str) -> ChangeCommand {
    ChangeCommand::AuthoriseStart(AuthoriseStart {
        reason: reason.to_owned(),
    })
}

#[test]
fn a_change_starts_only_inside_its_window_which_the_refusal_names() {
    // Booked for minutes 1000 to 1060 (half-open).
    let scheduled = Ledger::approved().scheduled();
    for minute in [999, 1060, 5000] {
        let mut l = scheduled.clone_as_is();
        let (detail, window) = outside(l.start_at(minute, &FreezeCalendar::default()));
        assert_eq!(window.kind, RefusingWindowKind::Change);
        assert_eq!((window.start, window.end), (at(1000), at(1060)));
        assert_eq!(window.freeze_id, None);
        let expected = if minute < 1000 {
            "window-not-yet-open"
        } else {
            "window-closed"
        };
        assert_eq!(detail.id(), expected);
        assert_eq!(detail.arg("change"), Some(NUMBER));
        assert_eq!(
            (detail.arg("start"), detail.arg("end")),
            (Some(window.start_local.as_str()), Some(window.end_local.as_str()))
        );
        assert_eq!(l.view.status, ChangeStatus::Scheduled);
    }
    let mut l = scheduled.clone_as_is();
    l.start_at(1059, &FreezeCalendar::default()).unwrap();
    assert_eq!(l.view.status, ChangeStatus::Implementing);
    assert_eq!(l.view.implementation_started_at, Some(at(1059)));
}

#[test]
fn an_emergency_change_starts_at_once_even_inside_a_freeze() {
    let freezes = freezes_with(None, 0, 2000);
    let mut e = Ledger::assessed(ChangeType::Emergency, Risk::High);
    e.schedule(&window(1000, 1060), &freezes, &[]).unwrap();
    e.start_at(10, &freezes).unwrap();
    assert_eq!(e.view.status, ChangeStatus::Implementing);
    // There is nothing to authorise.
    let e = Ledger::assessed(ChangeType::Emergency, Risk::High).scheduled();
    assert_eq!(
        rule(e.try_as(APPROVER, authorise("Now"))),
        messages::rule_emergency_needs_no_authorisation()
    );
}

#[test]
fn a_manager_authorises_an_out_of_window_start_once_per_window() {
    let mut l = Ledger::approved().scheduled();
    // Four eyes; a reason is required.
    assert_eq!(
        rule(l.try_as(REQUESTER, authorise("I am in a hurry"))),
        messages::rule_requester_cannot_authorise()
    );
    assert_eq!(pointers(l.try_as(APPROVER, authorise(" "))), ["/reason"]);

    let events = l.run_as(APPROVER, authorise("Traffic is low tonight"));
    assert_eq!(
        events,
        [ChangeEvent::StartAuthorised(ChangeStartAuthorised {
            reason: "Traffic is low tonight".to_owned(),
            window_start: at(1000),
            window_end: at(1060),
        })]
    );
    let given = l.view.start_authorisation.clone().expect("authorised");
    assert_eq!(
        (given.by.as_str(), given.reason.as_str()),
        (APPROVER, "Traffic is low tonight")
    );
    assert_eq!(
        rule(l.try_as(SECOND_APPROVER, authorise("again"))).id(),
        "rule-start-already-authorised"
    );

    // Rescheduling voids it: the new window needs its own.
    let mut moved = l.clone_as_is();
    moved
        .schedule(&window(2000, 2060), &FreezeCalendar::default(), &[])
        .unwrap();
    assert_eq!(moved.view.start_authorisation, None);
    let (_, window) = outside(moved.start_at(moved.next as i64 + moved.ahead, &FreezeCalendar::default()));
    assert_eq!(window.start, at(2000));

    // Authorised, it starts now, long before its window.
    let now = l.next as i64 + l.ahead;
    assert!(now < 1000);
    l.start_at(now, &FreezeCalendar::default()).unwrap();
    assert_eq!(l.view.status, ChangeStatus::Implementing);
}

#[test]
fn a_start_inside_a_freeze_declared_after_scheduling_is_refused_naming_it() {
    let scheduled = Ledger::approved().scheduled();
    // Declared later over the second half of the window, on one of the
    // change's services.
    let freezes = freezes_with(Some("dns"), 1030, 1100);
    let w = &freezes.windows[0];
    let mut l = scheduled.clone_as_is();
    let (detail, window) = frozen(l.start_at(1000, &freezes));
    assert_eq!(window.kind, RefusingWindowKind::Freeze);
    assert_eq!(window.freeze_id, Some(w.id));
    assert_eq!((window.start, window.end), (at(1030), at(1100)));
    assert_eq!(window.reason.as_deref(), Some("Quarter-end close"));
    assert_eq!(detail.id(), "window-frozen-on-service");
    assert_eq!(detail.arg("id"), Some(w.id.to_string().as_str()));
    assert_eq!(detail.arg("service"), Some("dns"));
    assert_eq!(l.view.status, ChangeStatus::Scheduled);

    // Other services' freezes and lifted ones do not count.
    let mut l = scheduled.clone_as_is();
    l.start_at(1000, &freezes_with(Some("mail"), 1030, 1100)).unwrap();
    let mut lifted = freezes.clone();
    lifted.windows[0].lifted = Some(freeze::FreezeLift {
        reason: "Close done early".to_owned(),
        by: APPROVER.to_owned(),
        at: at(2),
    });
    let mut l = scheduled.clone_as_is();
    l.start_at(1000, &lifted).unwrap();

    // An authorised early start commits the service until the window ends,
    // so a freeze in between refuses it too.
    let mut l = scheduled.clone_as_is();
    l.run_as(APPROVER, authorise("Quiet night"));
    let now = l.next as i64 + l.ahead;
    let (_, window) = frozen(l.start_at(now, &freezes_with(None, 500, 600)));
    assert_eq!(window.start, at(500));
}

#[test]
fn a_canary_needs_a_percent_of_1_to_99_and_final_steps_take_none() {
    let l = Ledger::approved().scheduled().implementing();
    for bad in [None, Some(0), Some(100)] {
        assert_eq!(
            pointers(l.try_as(ENGINEER, step(RolloutStepKind::Canary, bad))),
            ["/percent"]
        );
    }
    for kind in [RolloutStepKind::BlueGreenSwitch, RolloutStepKind::FullRollout] {
        assert_eq!(pointers(l.try_as(ENGINEER, step(kind, Some(50)))), ["/percent"]);
    }
}

#[test]
fn canary_percentages_must_increase() {
    let mut l = Ledger::approved().scheduled().implementing();
    l.run_as(ENGINEER, step(RolloutStepKind::Canary, Some(5)));
    l.run_as(ENGINEER, step(RolloutStepKind::Canary, Some(25)));
    assert_eq!(
        rule(l.try_as(ENGINEER, step(RolloutStepKind::Canary, Some(25)))),
        messages::rule_canary_must_grow(25, 25)
    );
    assert!(matches!(
        l.try_as(ENGINEER, step(RolloutStepKind::Canary, Some(10))),
        Err(DomainError::RuleViolated(_))
    ));
    l.run_as(ENGINEER, step(RolloutStepKind::Canary, Some(50)));
    let percents: Vec<Option<u8>> = l.view.rollout.iter().map(|s| s.percent).collect();
    assert_eq!(percents, [Some(5), Some(25), Some(50)]);
    assert_eq!(l.view.rollout[0].by, ENGINEER);
}

#[test]
fn nothing_may_follow_a_final_rollout_step() {
    for last in [RolloutStepKind::BlueGreenSwitch, RolloutStepKind::FullRollout] {
        let mut l = Ledger::approved().scheduled().implementing();
        l.run_as(ENGINEER, step(last, None));
        assert_eq!(
            rule(l.try_as(ENGINEER, step(RolloutStepKind::Canary, Some(10)))),
            messages::rule_rollout_ended(last.as_str())
        );
        assert!(matches!(
            l.try_as(ENGINEER, step(RolloutStepKind::FullRollout, None)),
            Err(DomainError::RuleViolated(_))
        ));
    }
}

#[test]
fn rollout_steps_are_recorded_only_while_implementing() {
    let l = Ledger::approved().scheduled();
    assert_eq!(
        invalid(l.try_as(ENGINEER, step(RolloutStepKind::FullRollout, None))),
        ("scheduled", "record a rollout step of")
    );
}

#[test]
fn completing_needs_a_final_rollout_step() {
    let mut l = Ledger::approved().scheduled().implementing();
    let complete = ChangeCommand::Complete(Complete {});
    assert_eq!(
        rule(l.try_as(ENGINEER, complete.clone())),
        messages::rule_complete_needs_final_step()
    );
    l.run_as(ENGINEER, step(RolloutStepKind::Canary, Some(10)));
    assert!(matches!(
        l.try_as(ENGINEER, complete.clone()),
        Err(DomainError::RuleViolated(_))
    ));
    l.run_as(ENGINEER, step(RolloutStepKind::BlueGreenSwitch, None));
    l.run_as(ENGINEER, complete.clone());
    assert_eq!(l.view.status, ChangeStatus::Completed);
    assert_eq!(invalid(l.try_as(ENGINEER, complete)), ("completed", "complete"));
}

#[test]
fn a_change_is_rolled_back_from_implementing_or_completed_with_its_reason() {
    let roll_back = ChangeCommand::RollBack(RollBack {
        reason: "Error rate doubled.".to_owned(),
    });
    let mut l = Ledger::approved().scheduled().implementing();
    l.run_as(ENGINEER, roll_back.clone());
    assert_eq!(l.view.status, ChangeStatus::RolledBack);
    let o = l.view.rolled_back.as_ref().unwrap();
    assert_eq!((o.reason.as_str(), o.by.as_str()), ("Error rate doubled.", ENGINEER));
    let mut l = Ledger::approved().scheduled().implementing().completed();
    l.run_as(ENGINEER, roll_back.clone());
    assert_eq!(l.view.status, ChangeStatus::RolledBack);
    let l = Ledger::approved().scheduled();
    assert_eq!(invalid(l.try_as(ENGINEER, roll_back)), ("scheduled", "roll back"));
}

#[test]
fn a_change_fails_only_while_implementing() {
    let fail = ChangeCommand::Fail(Fail {
        reason: "Replication never caught up.".to_owned(),
    });
    let mut l = Ledger::approved().scheduled().implementing();
    assert_eq!(
        pointers(l.try_as(ENGINEER, ChangeCommand::Fail(Fail { reason: " ".to_owned() }))),
        ["/reason"]
    );
    l.run_as(ENGINEER, fail.clone());
    assert_eq!(l.view.status, ChangeStatus::Failed);
    assert_eq!(l.view.failed.as_ref().unwrap().reason, "Replication never caught up.");
    let l = Ledger::approved().scheduled().implementing().completed();
    assert_eq!(invalid(l.try_as(ENGINEER, fail)), ("completed", "fail"));
}

#[test]
fn the_review_follows_completion_roll_back_or_failure() {
    let l = Ledger::approved().scheduled().implementing();
    assert_eq!(invalid(l.try_as(ENGINEER, review())), ("implementing", "review"));
    let mut l = Ledger::approved().scheduled().implementing().completed();
    let mut too_many = review();
    if let ChangeCommand::Review(r) = &mut too_many {
        r.follow_up_actions = vec![r.follow_up_actions[0].clone(); 101];
        r.follow_up_actions[3].owner = String::new();
    }
    assert_eq!(
        pointers(l.try_as(ENGINEER, too_many)),
        ["/follow_up_actions", "/follow_up_actions/3/owner"]
    );
    l.run_as(ENGINEER, review());
    assert_eq!(l.view.status, ChangeStatus::Reviewed);
    let r = l.view.review.as_ref().unwrap();
    assert_eq!(
        (r.outcome, r.by.as_str(), r.follow_up_actions.len()),
        (ReviewOutcome::Successful, ENGINEER, 1)
    );
}

// ---------------------------------------------------------------- closing

#[test]
fn normal_change_needs_a_review_before_closing() {
    let mut l = Ledger::approved().scheduled().implementing().completed();
    assert!(l.view.requires_review());
    assert_eq!(
        rule(l.try_as(ENGINEER, close(None))),
        messages::rule_close_needs_change_review("normal")
    );
    l.run_as(ENGINEER, review());
    l.run_as(ENGINEER, close(None));
    assert_eq!(l.view.status, ChangeStatus::Closed);
    assert_eq!(l.view.closed.as_ref().unwrap().by, ENGINEER);
    assert_eq!(invalid(l.try_as(ENGINEER, close(None))), ("closed", "close"));
}

#[test]
fn a_standard_change_may_close_without_a_review() {
    let mut l = Ledger::assessed(ChangeType::Standard, Risk::Low)
        .scheduled()
        .implementing();
    assert!(!l.view.requires_review());
    l.run_as(
        ENGINEER,
        ChangeCommand::Fail(Fail {
            reason: "Timeout.".to_owned(),
        }),
    );
    l.run_as(ENGINEER, close(None));
    assert_eq!(l.view.status, ChangeStatus::Closed);
}

#[test]
fn withdrawing_a_change_never_implemented_needs_a_reason() {
    let mut l = Ledger::approved();
    assert_eq!(pointers(l.try_as(REQUESTER, close(None))), ["/reason"]);
    l.run_as(REQUESTER, close(Some("Superseded by CHG-2026-000012.")));
    assert_eq!(l.view.status, ChangeStatus::Closed);
    assert_eq!(
        l.view.closed.as_ref().unwrap().reason.as_deref(),
        Some("Superseded by CHG-2026-000012.")
    );
    let mut d = Ledger::drafted(ChangeType::Normal);
    d.run_as(REQUESTER, close(Some("Duplicate.")));
    assert_eq!(d.view.status, ChangeStatus::Closed);
}

#[test]
fn a_scheduled_or_implementing_change_cannot_be_closed() {
    let l = Ledger::approved().scheduled();
    assert_eq!(invalid(l.try_as(REQUESTER, close(Some("x")))), ("scheduled", "close"));
    let l = l.implementing();
    assert_eq!(
        invalid(l.try_as(REQUESTER, close(Some("x")))),
        ("implementing", "close")
    );
}

#[test]
fn emergency_change_closes_only_after_retrospective_approval() {
    let mut l = Ledger::assessed(ChangeType::Emergency, Risk::High)
        .scheduled()
        .implementing()
        .completed();
    l.run_as(ENGINEER, review());
    assert_eq!(
        rule(l.try_as(ENGINEER, close(None))),
        messages::rule_emergency_close_needs_approval()
    );
    l.run_as(APPROVER, approve());
    assert!(matches!(
        l.try_as(ENGINEER, close(None)),
        Err(DomainError::RuleViolated(_))
    ));
    l.run_as(SECOND_APPROVER, approve());
    assert_eq!(l.view.status, ChangeStatus::Reviewed);
    l.run_as(ENGINEER, close(None));
    assert_eq!(l.view.status, ChangeStatus::Closed);
    // Never implemented, it may be withdrawn unapproved.
    let mut w = Ledger::assessed(ChangeType::Emergency, Risk::High);
    w.run_as(REQUESTER, close(Some("Outage resolved itself.")));
    assert_eq!(w.view.status, ChangeStatus::Closed);
}

#[test]
fn notes_are_accepted_in_any_status_but_closed() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    l.run_as(ENGINEER, note("Talked to the DBA team."));
    assert_eq!(l.view.notes[0].body, "Talked to the DBA team.");
    assert_eq!(l.view.notes[0].by, ENGINEER);
    assert_eq!(pointers(l.try_as(ENGINEER, note(""))), ["/body"]);
    l.run_as(REQUESTER, close(Some("Dropped.")));
    assert_eq!(invalid(l.try_as(ENGINEER, note("late"))), ("closed", "add a note to"));
}

// ---------------------------------------------------------------- folding and storage

#[test]
fn links_fold_into_the_view() {
    let mut l = Ledger::drafted(ChangeType::Normal);
    let linked = ChangeEvent::Linked(TicketLinked {
        other: fault(3),
        relation: LinkRelation::RelatesTo,
        comment: None,
    });
    l.apply(&[linked], ENGINEER);
    assert_eq!(l.view.links[0].other, fault(3));
    assert_eq!(l.view.version, 2);
    let unlinked = ChangeEvent::Unlinked(TicketUnlinked {
        other: fault(3),
        reason: "Linked in error".to_owned(),
    });
    l.apply(&[unlinked], ENGINEER);
    assert!(l.view.links.is_empty());
    assert_eq!(l.view.version, 3);
}

#[test]
fn a_stream_starts_with_one_drafted_event() {
    let hash = hash_of(1);
    let meta = EventMeta {
        recorded_at: at(1),
        actor: REQUESTER,
        version: 1,
        hash: &hash,
    };
    assert_eq!(
        evolve(None, &ChangeEvent::Submitted(ChangeSubmitted {}), &meta),
        Err(StreamCorrupt(
            "a change stream must start with change.drafted, not change.submitted".to_owned()
        ))
    );
    let l = Ledger::drafted(ChangeType::Normal);
    let drafted = draft(ID, NUMBER, &drafting(ChangeType::Normal), Vec::new(), at(0)).unwrap();
    assert!(evolve(Some(l.view), &drafted[0], &meta).is_err());
}

#[test]
fn every_event_round_trips_through_from_stored_payload_json() {
    let planned = ChangePlanned {
        risk: Risk::High,
        impact: "i".to_owned(),
        implementation_plan: "p".to_owned(),
        test_plan: "t".to_owned(),
        test_evidence: Some("e".to_owned()),
        rollback_plan: "r".to_owned(),
    };
    let events = vec![
        draft(ID, NUMBER, &drafting(ChangeType::Emergency), vec![fault(1)], at(0))
            .unwrap()
            .remove(0),
        ChangeEvent::Amended(ChangeAmended {
            title: Some("t".to_owned()),
            description: None,
            affected_services: Some(vec!["dns".to_owned()]),
            maintenance_type: Some(MaintenanceType::Corrective),
        }),
        ChangeEvent::Submitted(ChangeSubmitted {}),
        ChangeEvent::Assessed(planned.clone()),
        ChangeEvent::PlanAmended(planned),
        ChangeEvent::Approved(ChangeApproved {
            comment: "ok".to_owned(),
            plan_hash: hex::encode(hash_of(4)),
        }),
        ChangeEvent::Rejected(ChangeRejected {
            comment: "no".to_owned(),
            plan_hash: hex::encode(hash_of(4)),
        }),
        ChangeEvent::Assigned(ChangeAssigned {
            assignee: ENGINEER.to_owned(),
        }),
        ChangeEvent::Scheduled(ChangeScheduled {
            start: at(10),
            end: at(20),
            time_zone: "Europe/Berlin".to_owned(),
            overrides: vec![other_change(7)],
            override_reason: Some("why".to_owned()),
            freezes_overridden: vec![Uuid::from_u128(0xf1)],
        }),
        ChangeEvent::Unscheduled(ChangeUnscheduled {
            reason: "later".to_owned(),
        }),
        ChangeEvent::StartAuthorised(ChangeStartAuthorised {
            reason: "Quiet night".to_owned(),
            window_start: at(1000),
            window_end: at(1060),
        }),
        ChangeEvent::ImplementationStarted(ChangeImplementationStarted {}),
        ChangeEvent::RolloutStepRecorded(ChangeRolloutStepRecorded {
            kind: RolloutStepKind::Canary,
            percent: Some(5),
            note: Some("n".to_owned()),
        }),
        ChangeEvent::Completed(ChangeCompleted {}),
        ChangeEvent::RolledBack(ChangeRolledBack { reason: "r".to_owned() }),
        ChangeEvent::Failed(ChangeFailed { reason: "f".to_owned() }),
        match review() {
            ChangeCommand::Review(r) => ChangeEvent::Reviewed(ChangeReviewed {
                outcome: r.outcome,
                went_well: r.went_well,
                went_wrong: r.went_wrong,
                follow_up_actions: r.follow_up_actions,
            }),
            _ => unreachable!(),
        },
        ChangeEvent::Closed(ChangeClosed { reason: None }),
        ChangeEvent::NoteAdded(ChangeNoteAdded { body: "n".to_owned() }),
        ChangeEvent::Linked(TicketLinked {
            other: fault(2),
            relation: LinkRelation::CausedBy,
            comment: Some("c".to_owned()),
        }),
        ChangeEvent::Unlinked(TicketUnlinked {
            other: fault(2),
            reason: "r".to_owned(),
        }),
    ];
    let mut seen: Vec<&str> = Vec::new();
    for e in &events {
        let back = ChangeEvent::from_stored(e.event_type(), e.schema_version(), e.payload_json()).unwrap();
        assert_eq!(&back, e);
        assert_eq!(serde_json::to_value(e).unwrap()["type"], e.event_type());
        seen.push(e.event_type());
    }
    assert_eq!(seen, ChangeEvent::EVENT_TYPES);
    assert!(ChangeEvent::from_stored("change.drafted", 2, json!({})).is_err());
    assert!(ChangeEvent::from_stored("change.merged", 1, json!({})).is_err());
    assert_eq!(ChangeEvent::Submitted(ChangeSubmitted {}).payload_json(), json!({}));
}

#[test]
fn enums_spell_as_their_as_str() {
    for s in ChangeStatus::ALL {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for t in ChangeType::ALL {
        assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
    }
    for r in Risk::ALL {
        assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
    }
    for o in ReviewOutcome::ALL {
        assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
    }
    for k in RolloutStepKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        assert_eq!(k.is_final(), k != RolloutStepKind::Canary);
    }
    assert_eq!(ChangeStatus::RolledBack.as_str(), "rolled_back");
}

#[test]
fn command_bodies_deserialize_as_documented() {
    let s: ScheduleChange =
        serde_json::from_value(json!({"start": "2026-03-01T10:00", "end": "2026-03-01T11:00"})).unwrap();
    assert!(!s.override_conflicts);
    assert_eq!(s.time_zone, None);
    assert!(serde_json::from_value::<ScheduleChange>(json!({"start": "a", "end": "b", "force": true})).is_err());
    assert_eq!(serde_json::from_value::<Submit>(json!({})).unwrap(), Submit {});
    assert!(serde_json::from_value::<Complete>(json!({"now": true})).is_err());
    let d: DraftChange = serde_json::from_value(json!({
        "title": "t", "description": "d", "affected_services": ["dns"],
        "maintenance_type": "perfective", "change_type": "standard"
    }))
    .unwrap();
    assert!(d.linked_faults.is_empty());
}

#[test]
fn the_view_serializes_and_deserializes() {
    let mut l = Ledger::assessed(ChangeType::Normal, Risk::High);
    l.run_as(APPROVER, approve());
    let l = l.clone_scheduled();
    let json = serde_json::to_value(&l.view).unwrap();
    assert_eq!(json["status"], "scheduled");
    assert_eq!(json["approvals_required"], 2);
    assert_eq!(serde_json::from_value::<Change>(json).unwrap(), l.view);
}

// ------------------------------------------------------- the bodies' schemas

/// Every body's OpenAPI schema states the limits the domain enforces: its
/// example is accepted, and at each limit a body one step inside is
/// accepted and one step outside refused, by the schema and the domain
/// alike (see `domain::body_limits`).
#[test]
fn every_body_schema_states_the_limits_the_domain_enforces() {
    use super::freeze::{LiftFreeze, lift_freeze};
    use crate::domain::body_limits::check_every_limit;

    // The application resolves each linked fault; an id and a number of the
    // same fault would resolve alike.
    check_every_limit(|cmd: DraftChange| {
        let faults = cmd
            .linked_faults
            .iter()
            .map(|named| TicketRef {
                id: Uuid::new_v5(&Uuid::NAMESPACE_OID, named.to_ascii_uppercase().as_bytes()),
                number: named.to_ascii_uppercase(),
                kind: TicketKind::Fault,
            })
            .collect();
        draft(ID, NUMBER, &cmd, faults, at(0)).map(drop)
    });
    let drafted = Ledger::drafted(ChangeType::Normal);
    let by = |l: &Ledger, actor: &str, cmd| l.try_as(actor, cmd).map(drop);
    check_every_limit(|cmd| by(&drafted, REQUESTER, ChangeCommand::Amend(cmd)));
    check_every_limit(|cmd| by(&drafted, REQUESTER, ChangeCommand::Submit(cmd)));
    check_every_limit(|cmd| by(&drafted, REQUESTER, ChangeCommand::Assign(cmd)));
    check_every_limit(|cmd| by(&drafted, REQUESTER, ChangeCommand::Close(cmd)));
    check_every_limit(|cmd| by(&drafted, REQUESTER, ChangeCommand::AddNote(cmd)));
    let mut submitted = Ledger::drafted(ChangeType::Normal);
    submitted.run_as(REQUESTER, submit());
    check_every_limit(|cmd| by(&submitted, ENGINEER, ChangeCommand::Assess(cmd)));
    let assessed = Ledger::assessed(ChangeType::Normal, Risk::Low);
    check_every_limit(|cmd| by(&assessed, APPROVER, ChangeCommand::Approve(cmd)));
    check_every_limit(|cmd| by(&assessed, APPROVER, ChangeCommand::Reject(cmd)));
    let approved = Ledger::approved();
    check_every_limit(|cmd: ScheduleChange| {
        schedule(&approved.view, &cmd, &FreezeCalendar::default(), &[], approved.now()).map(drop)
    });
    let scheduled = Ledger::approved().scheduled();
    check_every_limit(|cmd: Unschedule| unschedule(&scheduled.view, &cmd).map(drop));
    check_every_limit(|cmd: StartImplementation| {
        start_implementation(&scheduled.view, &cmd, &FreezeCalendar::default(), at(1000)).map(drop)
    });
    check_every_limit(|cmd| by(&scheduled, APPROVER, ChangeCommand::AuthoriseStart(cmd)));
    let implementing = Ledger::approved().scheduled().implementing();
    check_every_limit(|cmd| by(&implementing, ENGINEER, ChangeCommand::RecordRolloutStep(cmd)));
    check_every_limit(|cmd| by(&implementing, ENGINEER, ChangeCommand::RollBack(cmd)));
    check_every_limit(|cmd| by(&implementing, ENGINEER, ChangeCommand::Fail(cmd)));
    let mut rolled_out = Ledger::approved().scheduled().implementing();
    rolled_out.run_as(ENGINEER, step(RolloutStepKind::FullRollout, None));
    check_every_limit(|cmd| by(&rolled_out, ENGINEER, ChangeCommand::Complete(cmd)));
    let completed = Ledger::approved().scheduled().implementing().completed();
    check_every_limit(|cmd| by(&completed, ENGINEER, ChangeCommand::Review(cmd)));

    check_every_limit(|cmd: DeclareFreeze| declare_freeze(Uuid::from_u128(0xf1), &cmd, at(0)).map(drop));
    let freezes = freezes_with(None, 100, 200);
    let window = freezes.windows[0].id;
    check_every_limit(|cmd: LiftFreeze| lift_freeze(&freezes, window, &cmd).map(drop));
}

/// Rules across fields, or on the change's state, are in the bodies'
/// descriptions: the schema accepts what only the domain refuses.
#[test]
fn rules_across_fields_are_the_domains_alone() {
    use crate::domain::body_limits::body;
    let drafted = Ledger::drafted(ChangeType::Normal);
    let amend = body(|cmd| drafted.try_as(REQUESTER, ChangeCommand::Amend(cmd)).map(drop));
    amend.only_the_domain_refuses(json!({}), "");
    amend.only_the_domain_refuses(json!({"title": null}), "");
    let close = body(|cmd| drafted.try_as(REQUESTER, ChangeCommand::Close(cmd)).map(drop));
    close.only_the_domain_refuses(json!({}), "/reason");

    let approved = Ledger::approved();
    let booking = body(|cmd: ScheduleChange| {
        schedule(&approved.view, &cmd, &FreezeCalendar::default(), &[], approved.now()).map(drop)
    });
    booking.only_the_domain_refuses(
        booking.example_with(json!({"override_conflicts": true})),
        "/override_reason",
    );
    booking.only_the_domain_refuses(booking.example_with(json!({"end": "2026-12-01T01:00"})), "/end");
    booking.only_the_domain_refuses(booking.example_with(json!({"end": "2027-01-01T04:00"})), "/end");
    booking.only_the_domain_refuses(booking.example_with(json!({"start": "2026-02-30T02:00"})), "/start");
    booking.only_the_domain_refuses(
        booking.example_with(json!({"time_zone": "Mars/Olympus_Mons"})),
        "/time_zone",
    );
    booking.refuses(
        booking.example_with(json!({"time_zone": "Asia Shanghai"})),
        "/time_zone",
    );
    booking.refuses(booking.example_with(json!({"start": "2026-12-01 02:00"})), "/start");

    let implementing = Ledger::approved().scheduled().implementing();
    let steps = body(|cmd| {
        implementing
            .try_as(ENGINEER, ChangeCommand::RecordRolloutStep(cmd))
            .map(drop)
    });
    steps.accepts(json!({"kind": "full_rollout"}));
    steps.only_the_domain_refuses(json!({"kind": "canary"}), "/percent");
    steps.only_the_domain_refuses(json!({"kind": "full_rollout", "percent": 50}), "/percent");
}
