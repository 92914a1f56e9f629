//! Complaint rules as usage examples: file, decide, fold, look at the view.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::domain::link::{Link, LinkRelation, TicketLinked, TicketRef, TicketUnlinked};
use crate::domain::test_clock::{at, meta};
use crate::domain::ticket::TicketKind;
use crate::domain::{DomainError, FieldError, Personal, PersonalField, StreamCorrupt, messages};

// ---------------------------------------------------------------- fixtures

const AGENT: &str = "https://idp.example|alice";
const ENGINEER: &str = "https://idp.example|bob";
const ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0042);
/// The complainant's data subject.
const SUBJECT: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0051);
/// The subject's data key, as named in sealed values.
const KEY_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0052);

fn filing() -> FileComplaint {
    FileComplaint {
        title: "Charged twice for March".to_owned(),
        description: "My card was debited twice on 3 March.".to_owned(),
        channel: Channel::Phone,
        complainant: Complainant {
            name: "Jane Doe".to_owned(),
            phone: Some("+44 20 7946 0958".to_owned()),
            email: Some("jane@example.com".to_owned()),
            customer_ref: None,
        },
        category: "billing".to_owned(),
        priority: Priority::P2,
        subject: None,
    }
}

/// A complaint being worked on: its view plus the next version and minute.
struct Ledger {
    view: Complaint,
    next: u64,
}

impl Ledger {
    fn file(cmd: &FileComplaint) -> Ledger {
        let events = file(ID, "CMP-2025-000042", SUBJECT, cmd, at(0)).unwrap();
        let mut view = None;
        for (i, e) in events.iter().enumerate() {
            let version = i as u64 + 1;
            view = Some(evolve(view, e, &meta(version, AGENT)).unwrap());
        }
        Ledger {
            view: view.unwrap(),
            next: events.len() as u64 + 1,
        }
    }

    fn filed() -> Ledger {
        Ledger::file(&filing())
    }

    /// Decides `cmd` now, without recording anything.
    fn try_run(&self, cmd: ComplaintCommand) -> Result<Vec<ComplaintEvent>, DomainError> {
        decide(&self.view, &cmd, at(self.next as i64))
    }

    /// Decides a correction now, the complainant (if it names one) resolved
    /// to `subject`, without recording anything. The fixtures' values are
    /// in clear, as the application opens them before deciding.
    fn try_correct(&self, cmd: &CorrectDetails, subject: Uuid) -> Result<Vec<ComplaintEvent>, DomainError> {
        let found = CorrectedComplainant {
            recorded: self.view.complainant.clone(),
            subject: FilingSubject {
                id: subject,
                joined: (subject != self.view.subject).then_some(SubjectJoin::Named),
            },
            resealed: Vec::new(),
        };
        correct_details(&self.view, cmd, cmd.complainant.as_ref().map(|_| &found))
    }

    /// Records events as `actor` would have.
    fn apply(&mut self, events: &[ComplaintEvent], actor: &str) {
        for e in events {
            self.view = evolve(Some(self.view.clone()), e, &meta(self.next, actor)).unwrap();
            self.next += 1;
        }
    }

    /// Decides `cmd` as `actor` and folds the events in; panics on refusal.
    fn run_as(&mut self, actor: &str, cmd: ComplaintCommand) -> Vec<ComplaintEvent> {
        let events = self
            .try_run(cmd.clone())
            .unwrap_or_else(|e| panic!("{} refused: {e:?}", cmd.name()));
        for e in &events {
            self.view = evolve(Some(self.view.clone()), e, &meta(self.next, actor)).unwrap();
            self.next += 1;
        }
        events
    }

    fn run(&mut self, cmd: ComplaintCommand) -> Vec<ComplaintEvent> {
        self.run_as(AGENT, cmd)
    }

    /// The minute the last event was recorded.
    fn last_at(&self) -> DateTime<Utc> {
        at(self.next as i64 - 1)
    }
}

fn acknowledge(message: Option<&str>) -> ComplaintCommand {
    ComplaintCommand::Acknowledge(Acknowledge {
        message: message.map(str::to_owned),
    })
}

fn assign(team: Option<&str>, assignee: Option<&str>) -> ComplaintCommand {
    ComplaintCommand::Assign(Assign {
        team: team.map(str::to_owned),
        assignee: assignee.map(str::to_owned),
    })
}

fn note(body: &str, visibility: NoteVisibility) -> ComplaintCommand {
    ComplaintCommand::AddNote(AddNote {
        body: body.to_owned(),
        visibility,
    })
}

fn wait(reason: &str) -> ComplaintCommand {
    ComplaintCommand::WaitOnCustomer(WaitOnCustomer {
        reason: reason.to_owned(),
    })
}

fn resume(note: Option<&str>) -> ComplaintCommand {
    ComplaintCommand::Resume(Resume {
        note: note.map(str::to_owned),
    })
}

fn resolve(resolution: &str, root_cause: Option<&str>) -> ComplaintCommand {
    ComplaintCommand::Resolve(Resolve {
        resolution: resolution.to_owned(),
        root_cause: root_cause.map(str::to_owned),
    })
}

fn rate(rating: u8, comment: Option<&str>) -> ComplaintCommand {
    ComplaintCommand::RecordSatisfaction(RecordSatisfaction {
        rating,
        comment: comment.map(str::to_owned),
    })
}

fn close(comment: Option<&str>) -> ComplaintCommand {
    ComplaintCommand::Close(Close {
        comment: comment.map(str::to_owned),
    })
}

fn reopen(reason: &str) -> ComplaintCommand {
    ComplaintCommand::Reopen(Reopen {
        reason: reason.to_owned(),
    })
}

/// A complaint brought into `status` by the shortest ordinary path.
fn change_priority(priority: Priority, reason: &str) -> ComplaintCommand {
    ComplaintCommand::ChangePriority(ChangePriority {
        priority,
        reason: reason.to_owned(),
    })
}

fn ledger_in(status: ComplaintStatus) -> Ledger {
    let mut l = Ledger::filed();
    let path: Vec<ComplaintCommand> = match status {
        ComplaintStatus::Filed => vec![],
        ComplaintStatus::Acknowledged => vec![acknowledge(None)],
        ComplaintStatus::InProgress => vec![acknowledge(None), assign(Some("billing"), None)],
        ComplaintStatus::WaitingOnCustomer => {
            vec![acknowledge(None), wait("need the bank statement")]
        }
        ComplaintStatus::Resolved => vec![acknowledge(None), resolve("refunded", None)],
        ComplaintStatus::Closed => {
            vec![acknowledge(None), resolve("refunded", None), close(None)]
        }
    };
    for cmd in path {
        l.run(cmd);
    }
    assert_eq!(l.view.status, status);
    l
}

fn field_errors(result: Result<Vec<ComplaintEvent>, DomainError>) -> Vec<FieldError> {
    match result {
        Err(DomainError::Validation(errors)) => errors,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn pointers(result: Result<Vec<ComplaintEvent>, DomainError>) -> Vec<String> {
    field_errors(result).into_iter().map(|e| e.pointer).collect()
}

fn file_pointers(cmd: &FileComplaint) -> Vec<String> {
    pointers(file(ID, "CMP-1", SUBJECT, cmd, at(0)))
}

/// One event of every type, with every optional field filled in.
fn one_of_each_event() -> Vec<ComplaintEvent> {
    vec![
        ComplaintEvent::Filed(ComplaintFiled {
            id: ID,
            number: "CMP-2025-000042".to_owned(),
            subject: SUBJECT,
            subject_joined: None,
            title: "Charged twice".to_owned(),
            description: Personal::clear("Debited twice."),
            channel: Channel::InPerson,
            complainant: ComplainantRecord {
                name: Personal::clear("Jane Doe"),
                phone: Some(Personal::clear("+44 20 7946 0958")),
                email: Some(Personal::clear("jane@example.com")),
                customer_ref: Some(Personal::clear("C-1001")),
            },
            category: "billing".to_owned(),
            priority: Priority::P1,
        }),
        ComplaintEvent::Acknowledged(ComplaintAcknowledged {
            message: Some(Personal::clear("We are on it.")),
        }),
        ComplaintEvent::Assigned(ComplaintAssigned {
            team: Some("billing".to_owned()),
            assignee: Some("carol".to_owned()),
        }),
        ComplaintEvent::NoteAdded(ComplaintNoteAdded {
            body: Personal::clear("Called the bank."),
            visibility: NoteVisibility::Complainant,
        }),
        ComplaintEvent::WaitingOnCustomer(ComplaintWaitingOnCustomer {
            reason: "Need the statement.".to_owned(),
        }),
        ComplaintEvent::Resumed(ComplaintResumed {
            note: Some("Statement received.".to_owned()),
        }),
        ComplaintEvent::Resolved(ComplaintResolved {
            resolution: "Refunded.".to_owned(),
            root_cause: Some("Retry bug.".to_owned()),
        }),
        ComplaintEvent::SatisfactionRecorded(ComplaintSatisfactionRecorded {
            rating: 4,
            comment: Some(Personal::clear("Quick.")),
        }),
        ComplaintEvent::Closed(ComplaintClosed {
            comment: Some("Done.".to_owned()),
        }),
        ComplaintEvent::Reopened(ComplaintReopened {
            reason: "Charged again.".to_owned(),
        }),
        ComplaintEvent::Escalated(ComplaintEscalated { fault: fault_ref() }),
        ComplaintEvent::LinkedFaultResolved(ComplaintLinkedFaultResolved {
            fault: fault_ref(),
            resolution: "Gateway patched.".to_owned(),
        }),
        ComplaintEvent::LinkedFaultReopened(ComplaintLinkedFaultReopened {
            fault: fault_ref(),
            reason: "Dropped again.".to_owned(),
        }),
        ComplaintEvent::Linked(TicketLinked {
            other: fault_ref(),
            relation: LinkRelation::CausedBy,
            comment: Some("Same gateway.".to_owned()),
        }),
        ComplaintEvent::Unlinked(TicketUnlinked {
            other: fault_ref(),
            reason: "Another district.".to_owned(),
        }),
        ComplaintEvent::PersonalDataResealed(ComplaintPersonalDataResealed {
            subject: Uuid::from_u128(0x77),
            previous_subject: SUBJECT,
            cause: ResealCause::Merge,
            reseal_reason: "Same customer.".to_owned(),
            values: vec![ResealedValue {
                version: 1,
                pointer: "/complainant/name".to_owned(),
                replaces: "n-name".to_owned(),
                value: Personal::clear("Jane Doe"),
            }],
        }),
        ComplaintEvent::DetailsCorrected(ComplaintDetailsCorrected {
            category: Some(TextCorrection {
                from: "billing".to_owned(),
                to: "payments".to_owned(),
            }),
            channel: Some(ChannelCorrection {
                from: Channel::InPerson,
                to: Channel::Phone,
            }),
            complainant: Some(ComplainantCorrected {
                name: None,
                phone: Some(Personal::clear("+44 20 7946 0959")),
                email: None,
                customer_ref: None,
                another_person: false,
            }),
            subject: Some(Uuid::from_u128(0x78)),
            previous_subject: Some(Uuid::from_u128(0x77)),
            subject_joined: None,
            resealed: vec![ResealedValue {
                version: 1,
                pointer: "/description".to_owned(),
                replaces: "n-description".to_owned(),
                value: Personal::clear("Debited twice."),
            }],
            reason: "Misheard on the phone.".to_owned(),
        }),
        ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
            from: Priority::P1,
            to: Priority::P3,
            reason: "Refund already issued.".to_owned(),
        }),
    ]
    .into_iter()
    .chain(
        crate::domain::sla::clock::one_of_each()
            .into_iter()
            .map(ComplaintEvent::from_clock),
    )
    .collect()
}

fn fault_ref() -> TicketRef {
    TicketRef {
        id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0f01),
        number: "FLT-2025-000007".to_owned(),
        kind: TicketKind::Fault,
    }
}

/// The text of a value the domain has not sealed; panics on anything else.
fn clear_text(value: &Personal) -> &str {
    match value {
        Personal::Clear(text) => text,
        Personal::Protected(p) => panic!("expected clear text, got {p:?}"),
    }
}

/// The JSON of a value sealed under [`SUBJECT`]'s key, as the application
/// stores it; the domain never looks inside.
fn sealed_json(nonce: &str, ciphertext: &str) -> Value {
    json!({
        "subject": SUBJECT.to_string(),
        "key_id": KEY_ID.to_string(),
        "nonce": nonce,
        "ciphertext": ciphertext,
    })
}

fn sealed(nonce: &str, ciphertext: &str) -> Personal {
    let Value::Object(map) = sealed_json(nonce, ciphertext) else {
        unreachable!("json!({{...}}) is an object")
    };
    Personal::Protected(map)
}

/// A value whose subject was erased.
fn erased() -> Personal {
    let mut map = serde_json::Map::new();
    map.insert("erased".to_owned(), Value::Bool(true));
    Personal::Protected(map)
}

/// What [`ComplaintEvent::personal_mut`] reports, as owned values.
fn personal_of(event: &ComplaintEvent) -> Vec<(PersonalField, Personal)> {
    let mut event = event.clone();
    event
        .personal_mut()
        .into_iter()
        .map(|(field, value)| (field, value.clone()))
        .collect()
}

/// JSON Pointers of the leaves or subtrees that differ between two values
/// of the same shape (a value replaced by an object counts once).
fn changed_pointers(before: &Value, after: &Value, at: &str) -> Vec<String> {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    let here = format!("{at}/{k}");
                    match (b.get(k), a.get(k)) {
                        (Some(b), Some(a)) => changed_pointers(b, a, &here),
                        _ => vec![here],
                    }
                })
                .collect()
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => b
            .iter()
            .zip(a)
            .enumerate()
            .flat_map(|(i, (b, a))| changed_pointers(b, a, &format!("{at}/{i}")))
            .collect(),
        (b, a) if b == a => vec![],
        _ => vec![at.to_owned()],
    }
}

// ------------------------------------------------------- allowed transitions

#[test]
fn filing_records_the_complaint_and_starts_the_view() {
    let events = file(ID, "CMP-2025-000042", SUBJECT, &filing(), at(0)).unwrap();
    let cmd = filing();
    assert_eq!(
        events,
        vec![ComplaintEvent::Filed(ComplaintFiled {
            id: ID,
            number: "CMP-2025-000042".to_owned(),
            subject: SUBJECT,
            subject_joined: None,
            title: cmd.title.clone(),
            description: Personal::clear("My card was debited twice on 3 March."),
            channel: Channel::Phone,
            complainant: ComplainantRecord {
                name: Personal::clear("Jane Doe"),
                phone: Some(Personal::clear("+44 20 7946 0958")),
                email: Some(Personal::clear("jane@example.com")),
                customer_ref: None,
            },
            category: "billing".to_owned(),
            priority: Priority::P2,
        })]
    );

    let view = evolve(None, &events[0], &meta(1, AGENT)).unwrap();
    assert_eq!(
        view,
        Complaint {
            id: ID,
            number: "CMP-2025-000042".to_owned(),
            subject: SUBJECT,
            status: ComplaintStatus::Filed,
            title: cmd.title,
            description: Personal::Clear(cmd.description),
            channel: Channel::Phone,
            complainant: ComplainantRecord::from_command(&cmd.complainant),
            category: "billing".to_owned(),
            priority: Priority::P2,
            team: None,
            assignee: None,
            created_at: at(1),
            created_by: AGENT.to_owned(),
            updated_at: at(1),
            version: 1,
            acknowledged_at: None,
            first_response: None,
            notes: vec![],
            waiting_reason: None,
            resolution: None,
            satisfaction: None,
            closed_at: None,
            reopen_count: 0,
            escalated_to: None,
            linked_fault_resolutions: vec![],
            links: vec![],
            corrections: vec![],
            sla: None,
        }
    );
    assert_eq!(
        view.ticket_ref(),
        TicketRef {
            id: ID,
            number: "CMP-2025-000042".to_owned(),
            kind: TicketKind::Complaint,
        }
    );
}

#[test]
fn acknowledging_records_the_first_response() {
    let mut l = Ledger::filed();
    let events = l.run(acknowledge(Some("Sorry, we are looking into it.")));
    assert_eq!(
        events,
        vec![ComplaintEvent::Acknowledged(ComplaintAcknowledged {
            message: Some(Personal::clear("Sorry, we are looking into it.")),
        })]
    );
    assert_eq!(l.view.status, ComplaintStatus::Acknowledged);
    assert_eq!(l.view.acknowledged_at, Some(at(2)));
    assert_eq!(
        l.view.first_response,
        Some(Personal::clear("Sorry, we are looking into it."))
    );
    assert_eq!(l.view.version, 2);
    assert_eq!(l.view.updated_at, at(2));
    assert_eq!(l.view.created_at, at(1));
}

#[test]
fn acknowledging_without_a_message_is_fine() {
    let mut l = Ledger::filed();
    let events = l.run(acknowledge(None));
    assert_eq!(
        events,
        vec![ComplaintEvent::Acknowledged(ComplaintAcknowledged { message: None })]
    );
    assert_eq!(l.view.status, ComplaintStatus::Acknowledged);
    assert_eq!(l.view.first_response, None);
}

#[test]
fn assigning_a_filed_complaint_keeps_it_filed() {
    let mut l = Ledger::filed();
    let events = l.run(assign(Some("billing"), Some("carol")));
    assert_eq!(
        events,
        vec![ComplaintEvent::Assigned(ComplaintAssigned {
            team: Some("billing".to_owned()),
            assignee: Some("carol".to_owned()),
        })]
    );
    // Still nobody has answered the complainant.
    assert_eq!(l.view.status, ComplaintStatus::Filed);
    assert_eq!(l.view.team.as_deref(), Some("billing"));
    assert_eq!(l.view.assignee.as_deref(), Some("carol"));
}

#[test]
fn assigning_an_acknowledged_complaint_starts_work() {
    let mut l = ledger_in(ComplaintStatus::Acknowledged);
    l.run(assign(None, Some("carol")));
    assert_eq!(l.view.status, ComplaintStatus::InProgress);
    assert_eq!(l.view.team, None);
    assert_eq!(l.view.assignee.as_deref(), Some("carol"));
}

#[test]
fn reassigning_in_progress_or_waiting_keeps_the_status() {
    for status in [ComplaintStatus::InProgress, ComplaintStatus::WaitingOnCustomer] {
        let mut l = ledger_in(status);
        l.run(assign(Some("escalations"), Some("dave")));
        assert_eq!(l.view.status, status);
        assert_eq!(l.view.team.as_deref(), Some("escalations"));
        assert_eq!(l.view.assignee.as_deref(), Some("dave"));
    }
}

#[test]
fn a_partial_assignment_keeps_the_other_half_and_the_event_states_both() {
    let mut l = Ledger::filed();
    l.run(assign(Some("billing"), Some("carol")));

    let events = l.run(assign(None, Some("dave")));
    assert_eq!(
        events,
        vec![ComplaintEvent::Assigned(ComplaintAssigned {
            team: Some("billing".to_owned()),
            assignee: Some("dave".to_owned()),
        })]
    );

    let events = l.run(assign(Some("escalations"), None));
    assert_eq!(
        events,
        vec![ComplaintEvent::Assigned(ComplaintAssigned {
            team: Some("escalations".to_owned()),
            assignee: Some("dave".to_owned()),
        })]
    );
    assert_eq!(l.view.team.as_deref(), Some("escalations"));
    assert_eq!(l.view.assignee.as_deref(), Some("dave"));
}

#[test]
fn an_assignment_that_changes_nothing_is_refused() {
    let mut l = Ledger::filed();
    l.run(assign(Some("billing"), Some("carol")));
    let same = DomainError::RuleViolated(messages::rule_complaint_already_assigned());
    assert_eq!(l.try_run(assign(Some("billing"), Some("carol"))), Err(same.clone()));
    // Giving only one half that matches also changes nothing.
    assert_eq!(l.try_run(assign(Some("billing"), None)), Err(same.clone()));
    assert_eq!(l.try_run(assign(None, Some("carol"))), Err(same));
}

#[test]
fn notes_are_kept_in_order_with_author_and_time() {
    let mut l = ledger_in(ComplaintStatus::Acknowledged);
    let events = l.run_as(
        ENGINEER,
        note("Retry bug in the card gateway.", NoteVisibility::Internal),
    );
    assert_eq!(
        events,
        vec![ComplaintEvent::NoteAdded(ComplaintNoteAdded {
            body: Personal::clear("Retry bug in the card gateway."),
            visibility: NoteVisibility::Internal,
        })]
    );
    l.run(note("We found the cause.", NoteVisibility::Complainant));

    assert_eq!(l.view.status, ComplaintStatus::Acknowledged);
    assert_eq!(
        l.view.notes,
        vec![
            Note {
                at: at(3),
                by: ENGINEER.to_owned(),
                body: Personal::clear("Retry bug in the card gateway."),
                visibility: NoteVisibility::Internal,
            },
            Note {
                at: at(4),
                by: AGENT.to_owned(),
                body: Personal::clear("We found the cause."),
                visibility: NoteVisibility::Complainant,
            },
        ]
    );
}

#[test]
fn internal_notes_are_accepted_even_when_closed() {
    let mut l = ledger_in(ComplaintStatus::Closed);
    l.run(note(
        "Customer called again, told them it is closed.",
        NoteVisibility::Internal,
    ));
    assert_eq!(l.view.status, ComplaintStatus::Closed);
    assert_eq!(l.view.notes.len(), 1);
}

#[test]
fn waiting_on_the_customer_records_why() {
    for from in [ComplaintStatus::Acknowledged, ComplaintStatus::InProgress] {
        let mut l = ledger_in(from);
        let events = l.run(wait("Need the bank statement."));
        assert_eq!(
            events,
            vec![ComplaintEvent::WaitingOnCustomer(ComplaintWaitingOnCustomer {
                reason: "Need the bank statement.".to_owned(),
            })]
        );
        assert_eq!(l.view.status, ComplaintStatus::WaitingOnCustomer);
        assert_eq!(l.view.waiting_reason.as_deref(), Some("Need the bank statement."));
    }
}

#[test]
fn resuming_goes_back_to_work_and_forgets_the_reason() {
    let mut l = ledger_in(ComplaintStatus::WaitingOnCustomer);
    let events = l.run(resume(Some("Statement received.")));
    assert_eq!(
        events,
        vec![ComplaintEvent::Resumed(ComplaintResumed {
            note: Some("Statement received.".to_owned()),
        })]
    );
    assert_eq!(l.view.status, ComplaintStatus::InProgress);
    assert_eq!(l.view.waiting_reason, None);
}

#[test]
fn resolving_records_the_resolution() {
    for from in [
        ComplaintStatus::Acknowledged,
        ComplaintStatus::InProgress,
        ComplaintStatus::WaitingOnCustomer,
    ] {
        let mut l = ledger_in(from);
        let events = l.run_as(
            ENGINEER,
            resolve("Refunded the duplicate charge.", Some("Gateway retry.")),
        );
        assert_eq!(
            events,
            vec![ComplaintEvent::Resolved(ComplaintResolved {
                resolution: "Refunded the duplicate charge.".to_owned(),
                root_cause: Some("Gateway retry.".to_owned()),
            })]
        );
        assert_eq!(l.view.status, ComplaintStatus::Resolved);
        assert_eq!(l.view.waiting_reason, None, "from {from:?}");
        assert_eq!(
            l.view.resolution,
            Some(Resolution {
                resolution: "Refunded the duplicate charge.".to_owned(),
                root_cause: Some("Gateway retry.".to_owned()),
                resolved_at: l.last_at(),
                resolved_by: ENGINEER.to_owned(),
            })
        );
    }
}

#[test]
fn satisfaction_can_be_recorded_when_resolved_or_closed() {
    for status in [ComplaintStatus::Resolved, ComplaintStatus::Closed] {
        let mut l = ledger_in(status);
        let events = l.run(rate(5, Some("Thanks!")));
        assert_eq!(
            events,
            vec![ComplaintEvent::SatisfactionRecorded(ComplaintSatisfactionRecorded {
                rating: 5,
                comment: Some(Personal::clear("Thanks!")),
            })]
        );
        assert_eq!(l.view.status, status);
        assert_eq!(
            l.view.satisfaction,
            Some(Satisfaction {
                rating: 5,
                comment: Some(Personal::clear("Thanks!")),
                recorded_at: l.last_at(),
                recorded_by: AGENT.to_owned(),
            })
        );
    }
}

#[test]
fn closing_a_resolved_complaint() {
    let mut l = ledger_in(ComplaintStatus::Resolved);
    let events = l.run(close(Some("No reply for 14 days.")));
    assert_eq!(
        events,
        vec![ComplaintEvent::Closed(ComplaintClosed {
            comment: Some("No reply for 14 days.".to_owned()),
        })]
    );
    assert_eq!(l.view.status, ComplaintStatus::Closed);
    assert_eq!(l.view.closed_at, Some(l.last_at()));
    // Closing keeps the resolution on the view.
    assert!(l.view.resolution.is_some());
}

#[test]
fn reopening_sets_the_resolution_aside() {
    let mut l = ledger_in(ComplaintStatus::Resolved);
    l.run(rate(1, Some("Still charged twice.")));
    let events = l.run(reopen("The refund never arrived."));
    assert_eq!(
        events,
        vec![ComplaintEvent::Reopened(ComplaintReopened {
            reason: "The refund never arrived.".to_owned(),
        })]
    );
    assert_eq!(l.view.status, ComplaintStatus::InProgress);
    assert_eq!(l.view.reopen_count, 1);
    assert_eq!(l.view.resolution, None);
    assert_eq!(l.view.satisfaction, None);
}

#[test]
fn an_escalation_names_the_fault_and_keeps_the_status() {
    let mut l = ledger_in(ComplaintStatus::InProgress);
    let escalated = ComplaintEvent::Escalated(ComplaintEscalated { fault: fault_ref() });
    l.view = evolve(Some(l.view), &escalated, &meta(l.next, AGENT)).unwrap();
    assert_eq!(l.view.escalated_to, Some(fault_ref()));
    assert_eq!(l.view.status, ComplaintStatus::InProgress);
    assert_eq!(l.view.version, l.next);
}

#[test]
fn a_reopened_fault_sets_aside_its_latest_resolution_in_every_status() {
    let other_fault = TicketRef {
        id: Uuid::now_v7(),
        number: "FLT-2026-000099".to_owned(),
        kind: TicketKind::Fault,
    };
    for status in ComplaintStatus::ALL {
        let l = ledger_in(status);
        let mut view = l.view;
        let mut next = l.next;
        for (fault, resolution) in [
            (fault_ref(), "Gateway patched."),
            (other_fault.clone(), "Cable spliced."),
            (fault_ref(), "Gateway replaced."),
        ] {
            view = evolve(
                Some(view),
                &linked_fault_resolved(&fault, resolution),
                &meta(next, AGENT),
            )
            .unwrap();
            next += 1;
        }
        let reopened = linked_fault_reopened(&fault_ref(), "Dropped again.");
        assert!(personal_of(&reopened).is_empty());
        view = evolve(Some(view), &reopened, &meta(next, AGENT)).unwrap();
        assert_eq!(view.status, status, "a fact from the fault, not a transition");
        assert_eq!(view.version, next);
        let marks: Vec<Option<&str>> = view
            .linked_fault_resolutions
            .iter()
            .map(|r| r.reopened.as_ref().map(|o| o.reason.as_str()))
            .collect();
        assert_eq!(
            marks,
            [None, None, Some("Dropped again.")],
            "only the fault's latest resolution"
        );
        assert_eq!(
            view.linked_fault_resolutions[2].reopened,
            Some(LinkedFaultReopening {
                reason: "Dropped again.".to_owned(),
                at: at(next as i64),
            })
        );
        // Told twice (an older stream may lack the first telling): the
        // superseded resolution is not set aside with this reason.
        let again = linked_fault_reopened(&fault_ref(), "Told twice.");
        view = evolve(Some(view), &again, &meta(next + 1, AGENT)).unwrap();
        let marks: Vec<Option<&str>> = view
            .linked_fault_resolutions
            .iter()
            .map(|r| r.reopened.as_ref().map(|o| o.reason.as_str()))
            .collect();
        assert_eq!(marks, [None, None, Some("Dropped again.")]);
    }
}

#[test]
fn a_reopened_fault_without_a_recorded_resolution_changes_only_the_version() {
    let l = ledger_in(ComplaintStatus::InProgress);
    let before = l.view.clone();
    let view = evolve(
        Some(l.view),
        &linked_fault_reopened(&fault_ref(), "Dropped again."),
        &meta(l.next, AGENT),
    )
    .unwrap();
    assert_eq!(view.linked_fault_resolutions, before.linked_fault_resolutions);
    assert_eq!(view.version, l.next);
}

#[test]
fn a_linked_fault_resolution_is_a_fact_accepted_in_every_status() {
    let event = linked_fault_resolved(&fault_ref(), "Gateway patched.");
    assert_eq!(
        event,
        ComplaintEvent::LinkedFaultResolved(ComplaintLinkedFaultResolved {
            fault: fault_ref(),
            resolution: "Gateway patched.".to_owned(),
        })
    );
    for status in ComplaintStatus::ALL {
        let l = ledger_in(status);
        let view = evolve(Some(l.view), &event, &meta(l.next, AGENT)).unwrap();
        assert_eq!(view.status, status);
        assert_eq!(
            view.linked_fault_resolutions,
            vec![LinkedFaultResolution {
                fault: fault_ref(),
                resolution: "Gateway patched.".to_owned(),
                at: at(l.next as i64),
                reopened: None,
            }]
        );
        // Nothing in it is the complainant's.
        assert!(personal_of(&event).is_empty());
    }
}

#[test]
fn links_are_kept_on_the_view_in_order() {
    let mut l = ledger_in(ComplaintStatus::Acknowledged);
    let linked = ComplaintEvent::Linked(TicketLinked {
        other: fault_ref(),
        relation: LinkRelation::CausedBy,
        comment: None,
    });
    l.view = evolve(Some(l.view), &linked, &meta(l.next, ENGINEER)).unwrap();
    assert_eq!(
        l.view.links,
        vec![Link {
            other: fault_ref(),
            relation: LinkRelation::CausedBy,
            comment: None,
            at: at(l.next as i64),
            by: ENGINEER.to_owned(),
        }]
    );
    assert_eq!(l.view.status, ComplaintStatus::Acknowledged);
}

#[test]
fn views_stored_before_escalation_and_links_still_deserialize() {
    let view = ledger_in(ComplaintStatus::InProgress).view;
    let mut old = serde_json::to_value(&view).unwrap();
    let object = old.as_object_mut().unwrap();
    for field in ["escalated_to", "linked_fault_resolutions", "links"] {
        assert!(object.remove(field).is_some(), "{field}");
    }
    let back: Complaint = serde_json::from_value(old).unwrap();
    assert_eq!(back, view);
}

#[test]
fn satisfaction_is_recorded_once_per_resolution() {
    let mut l = ledger_in(ComplaintStatus::Resolved);
    l.run(rate(2, None));

    let twice = DomainError::RuleViolated(messages::rule_satisfaction_already_recorded());
    assert_eq!(l.try_run(rate(5, None)), Err(twice.clone()));
    l.run(close(None));
    assert_eq!(
        l.try_run(rate(5, None)),
        Err(twice.clone()),
        "closing does not reset it"
    );

    // A new resolution can be rated again.
    let mut l = ledger_in(ComplaintStatus::Resolved);
    l.run(rate(2, None));
    l.run(reopen("Not fixed."));
    l.run(resolve("Fixed for real.", None));
    assert_eq!(l.view.satisfaction, None);
    l.run(rate(5, Some("Now it works.")));
    assert_eq!(l.view.satisfaction.as_ref().map(|s| s.rating), Some(5));
    assert_eq!(l.view.reopen_count, 1);
    assert_eq!(l.try_run(rate(4, None)), Err(twice));
}

#[test]
fn every_event_advances_version_and_updated_at() {
    let mut l = Ledger::filed();
    let script = [
        acknowledge(None),
        assign(Some("billing"), None),
        note("n", NoteVisibility::Internal),
        wait("w"),
        resume(None),
        resolve("r", None),
        rate(3, None),
        reopen("again"),
        resolve("r2", None),
        close(None),
    ];
    for cmd in script {
        let before = l.view.version;
        l.run(cmd);
        assert_eq!(l.view.version, before + 1);
        assert_eq!(l.view.updated_at, at(l.view.version as i64));
    }
    assert_eq!(l.view.created_at, at(1));
}

// --------------------------------------------------- state × command table

/// Whether the rules allow the command kind in the state.
fn allowed(status: ComplaintStatus, cmd: &ComplaintCommand) -> bool {
    use ComplaintStatus::*;
    match cmd {
        ComplaintCommand::Acknowledge(_) => status == Filed,
        ComplaintCommand::Assign(_) => [Filed, Acknowledged, InProgress, WaitingOnCustomer].contains(&status),
        ComplaintCommand::AddNote(n) => match n.visibility {
            NoteVisibility::Internal => true,
            NoteVisibility::Complainant => status != Closed,
        },
        ComplaintCommand::WaitOnCustomer(_) => [Acknowledged, InProgress].contains(&status),
        ComplaintCommand::Resume(_) => status == WaitingOnCustomer,
        ComplaintCommand::Resolve(_) => [Acknowledged, InProgress, WaitingOnCustomer].contains(&status),
        ComplaintCommand::RecordSatisfaction(_) => [Resolved, Closed].contains(&status),
        ComplaintCommand::Close(_) => status == Resolved,
        ComplaintCommand::Reopen(_) => status == Resolved,
        ComplaintCommand::ChangePriority(_) => [Filed, Acknowledged, InProgress, WaitingOnCustomer].contains(&status),
    }
}

#[test]
fn every_state_accepts_exactly_the_commands_the_rules_allow() {
    let commands = [
        acknowledge(Some("hello")),
        // A team no fixture uses, so the assignment always changes something.
        assign(Some("table-test-team"), None),
        note("internal", NoteVisibility::Internal),
        note("update", NoteVisibility::Complainant),
        wait("why"),
        resume(None),
        resolve("done", None),
        rate(3, None),
        close(None),
        reopen("again"),
        // Every fixture is P2.
        change_priority(Priority::P1, "why"),
    ];
    let mut allowed_count = 0;
    for status in ComplaintStatus::ALL {
        let l = ledger_in(status);
        for cmd in &commands {
            let result = l.try_run(cmd.clone());
            if allowed(status, cmd) {
                allowed_count += 1;
                let events = result.unwrap_or_else(|e| panic!("{} in {status:?} refused: {e:?}", cmd.name()));
                assert_eq!(events.len(), 1);
            } else {
                assert_eq!(
                    result,
                    Err(DomainError::InvalidTransition {
                        aggregate: "complaint",
                        state: status.as_str(),
                        command: cmd.name(),
                    }),
                    "{} in {status:?}",
                    cmd.name()
                );
            }
        }
    }
    // Guards the table itself: 1 + 4 + 6 + 5 + 2 + 1 + 3 + 2 + 1 + 1 + 4.
    assert_eq!(allowed_count, 30);
}

#[test]
fn refusals_read_as_sentences() {
    let l = ledger_in(ComplaintStatus::WaitingOnCustomer);
    let err = l.try_run(close(None)).unwrap_err();
    assert_eq!(err.to_string(), "cannot close a complaint that is waiting_on_customer");
    let l = ledger_in(ComplaintStatus::Closed);
    let err = l.try_run(note("hi", NoteVisibility::Complainant)).unwrap_err();
    assert_eq!(err.to_string(), "cannot add a note to a complaint that is closed");
}

#[test]
fn validation_errors_win_over_a_wrong_state() {
    let l = ledger_in(ComplaintStatus::Closed);
    assert_eq!(pointers(l.try_run(resolve("", None))), ["/resolution"]);
    assert_eq!(pointers(l.try_run(rate(9, None))), ["/rating"]);
    let l = ledger_in(ComplaintStatus::Resolved);
    assert_eq!(pointers(l.try_run(assign(None, None))), [""]);
}

// ----------------------------------------------------------------- validation

#[test]
fn a_valid_filing_passes() {
    assert!(file(ID, "CMP-1", SUBJECT, &filing(), at(0)).is_ok());
}

#[test]
fn title_description_name_and_category_are_checked() {
    let mut cmd = filing();
    cmd.title = "   ".to_owned();
    assert_eq!(file_pointers(&cmd), ["/title"]);

    let mut cmd = filing();
    cmd.description = "x".repeat(10_001);
    assert_eq!(file_pointers(&cmd), ["/description"]);

    let mut cmd = filing();
    cmd.complainant.name = String::new();
    assert_eq!(file_pointers(&cmd), ["/complainant/name"]);

    let mut cmd = filing();
    cmd.category = "c".repeat(101);
    assert_eq!(file_pointers(&cmd), ["/category"]);

    let mut cmd = filing();
    cmd.complainant.customer_ref = Some("r".repeat(101));
    assert_eq!(file_pointers(&cmd), ["/complainant/customer_ref"]);
}

#[test]
fn limits_count_characters_not_bytes() {
    let mut cmd = filing();
    cmd.title = "重复扣款".repeat(50); // 200 characters, 600 bytes
    assert_eq!(cmd.title.chars().count(), 200);
    assert!(file(ID, "CMP-1", SUBJECT, &cmd, at(0)).is_ok());

    cmd.title.push('款');
    let errors = field_errors(file(ID, "CMP-1", SUBJECT, &cmd, at(0)));
    assert_eq!(errors, [FieldError::new("/title", messages::field_length(1, 200, 201))]);
}

#[test]
fn phone_numbers() {
    let ok = [
        "+44 20 7946 0958",
        "(020) 7946-0958",
        "555.123.4567",
        "112",
        "+86 10 1234 5678",
        &"1".repeat(32),
    ];
    // The schema says the same: the body schema and the domain agree on each.
    let schema =
        crate::domain::body_limits::body(|cmd: FileComplaint| file(ID, "CMP-1", SUBJECT, &cmd, at(0)).map(drop));
    let with_phone = |phone: &str| schema.example_with(json!({"complainant": {"phone": phone}}));
    for phone in ok {
        let mut cmd = filing();
        cmd.complainant.phone = Some(phone.to_owned());
        assert!(file(ID, "CMP-1", SUBJECT, &cmd, at(0)).is_ok(), "{phone:?} should pass");
        schema.accepts(with_phone(phone));
    }
    let bad = [
        "",
        "12",
        "1-2",
        "+-() .",
        "call 555 1234",
        "555-1234 ext 5",
        "５５５１２３４", // full-width digits
        "555\u{7}1234",
        &"1".repeat(33),
    ];
    for phone in bad {
        let mut cmd = filing();
        cmd.complainant.phone = Some(phone.to_owned());
        assert_eq!(file_pointers(&cmd), ["/complainant/phone"], "{phone:?} should fail");
        schema.refuses(with_phone(phone), "/complainant/phone");
    }
}

#[test]
fn email_addresses() {
    let long_ok = format!("{}@example.com", "a".repeat(254 - 12));
    let ok = [
        "jane@example.com",
        "j.doe+tag@mail.example.co.uk",
        "张伟@例子.中国",
        &long_ok,
    ];
    // The schema says the same: the body schema and the domain agree on each.
    let schema =
        crate::domain::body_limits::body(|cmd: FileComplaint| file(ID, "CMP-1", SUBJECT, &cmd, at(0)).map(drop));
    let with_email = |email: &str| schema.example_with(json!({"complainant": {"email": email}}));
    for email in ok {
        let mut cmd = filing();
        cmd.complainant.email = Some(email.to_owned());
        assert!(file(ID, "CMP-1", SUBJECT, &cmd, at(0)).is_ok(), "{email:?} should pass");
        schema.accepts(with_email(email));
    }
    let too_long = format!("{}@example.com", "a".repeat(254 - 11));
    let bad = [
        "",
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "jane@.example.com",
        "jane@example.com.",
        "jane@@example.com",
        "jane@ex@ample.com",
        "jane doe@example.com",
        "jane@example.com\n",
        "jane@exa\u{3000}mple.com",
        "jane@example.com\u{7f}",
        &too_long,
    ];
    for email in bad {
        let mut cmd = filing();
        cmd.complainant.email = Some(email.to_owned());
        assert_eq!(file_pointers(&cmd), ["/complainant/email"], "{email:?} should fail");
        schema.refuses(with_email(email), "/complainant/email");
    }
}

#[test]
fn a_complainant_must_be_reachable_or_identified() {
    let mut cmd = filing();
    cmd.complainant.phone = None;
    cmd.complainant.email = None;
    cmd.complainant.customer_ref = None;
    assert_eq!(
        field_errors(file(ID, "CMP-1", SUBJECT, &cmd, at(0))),
        [FieldError::new("/complainant", messages::field_give_contact())]
    );

    // Any one of the three is enough.
    cmd.complainant.customer_ref = Some("C-1001".to_owned());
    assert!(file(ID, "CMP-1", SUBJECT, &cmd, at(0)).is_ok());
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let mut cmd = filing();
    cmd.title = String::new();
    cmd.complainant.email = Some("not-an-address".to_owned());
    cmd.complainant.phone = Some("call me".to_owned());
    cmd.category = "\u{1b}[31mred".to_owned();
    assert_eq!(
        file_pointers(&cmd),
        ["/title", "/complainant/phone", "/complainant/email", "/category"]
    );

    let l = ledger_in(ComplaintStatus::Resolved);
    assert_eq!(
        field_errors(l.try_run(rate(9, Some("")))),
        [
            FieldError::new("/rating", messages::field_between(1, 5)),
            FieldError::new("/comment", messages::field_empty()),
        ]
    );
    assert_eq!(
        pointers(l.try_run(ComplaintCommand::Resolve(Resolve {
            resolution: " ".to_owned(),
            root_cause: Some("x".repeat(10_001)),
        }))),
        ["/resolution", "/root_cause"]
    );
}

#[test]
fn ratings_are_one_to_five() {
    for rating in 1..=5 {
        assert!(ledger_in(ComplaintStatus::Resolved).try_run(rate(rating, None)).is_ok());
    }
    for rating in [0, 6, 9, 255] {
        let l = ledger_in(ComplaintStatus::Resolved);
        assert_eq!(pointers(l.try_run(rate(rating, None))), ["/rating"], "{rating}");
    }
}

#[test]
fn every_command_checks_its_text_fields() {
    let empty = || Some(String::new());
    let cases: Vec<(ComplaintStatus, ComplaintCommand, Vec<&str>)> = vec![
        (
            ComplaintStatus::Filed,
            ComplaintCommand::Acknowledge(Acknowledge { message: empty() }),
            vec!["/message"],
        ),
        (ComplaintStatus::Filed, assign(None, None), vec![""]),
        (
            ComplaintStatus::Filed,
            ComplaintCommand::Assign(Assign {
                team: empty(),
                assignee: Some("a".repeat(101)),
            }),
            vec!["/team", "/assignee"],
        ),
        (
            ComplaintStatus::Filed,
            note("", NoteVisibility::Internal),
            vec!["/body"],
        ),
        (ComplaintStatus::InProgress, wait(""), vec!["/reason"]),
        (
            ComplaintStatus::WaitingOnCustomer,
            ComplaintCommand::Resume(Resume { note: empty() }),
            vec!["/note"],
        ),
        (
            ComplaintStatus::Resolved,
            ComplaintCommand::Close(Close { comment: empty() }),
            vec!["/comment"],
        ),
        (ComplaintStatus::Resolved, reopen("\t\n"), vec!["/reason"]),
    ];
    for (status, cmd, expected) in cases {
        let l = ledger_in(status);
        assert_eq!(pointers(l.try_run(cmd.clone())), expected, "{}", cmd.name());
    }
}

#[test]
fn long_text_keeps_newlines_and_characters_exactly() {
    let mut l = ledger_in(ComplaintStatus::InProgress);
    let body = "  第一行\n\tsecond line  \r\n".to_owned();
    l.run(note(&body, NoteVisibility::Internal));
    assert_eq!(l.view.notes[0].body, Personal::Clear(body));
}

// ------------------------------------------------------------- serialization

#[test]
fn events_serialize_as_type_and_payload() {
    let events = one_of_each_event();
    for e in &events {
        let json = serde_json::to_value(e).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), 2, "{json}");
        assert_eq!(json["type"], e.event_type());
        assert_eq!(json["payload"], e.payload_json());
        assert!(e.payload_json().is_object());
    }

    assert_eq!(
        serde_json::to_value(&events[0]).unwrap(),
        json!({
            "type": "complaint.filed",
            "payload": {
                "id": "01930000-0000-7000-8000-000000000042",
                "number": "CMP-2025-000042",
                "subject": "01930000-0000-7000-8000-000000000051",
                "title": "Charged twice",
                "description": "Debited twice.",
                "channel": "in_person",
                "complainant": {
                    "name": "Jane Doe",
                    "phone": "+44 20 7946 0958",
                    "email": "jane@example.com",
                    "customer_ref": "C-1001"
                },
                "category": "billing",
                "priority": "P1"
            }
        })
    );
}

#[test]
fn absent_optional_fields_are_left_out_of_payloads() {
    let e = ComplaintEvent::Assigned(ComplaintAssigned {
        team: Some("billing".to_owned()),
        assignee: None,
    });
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"type": "complaint.assigned", "payload": {"team": "billing"}})
    );
    let e = ComplaintEvent::Closed(ComplaintClosed { comment: None });
    assert_eq!(e.payload_json(), json!({}));
    assert_eq!(ComplaintEvent::from_stored("complaint.closed", 1, json!({})), Ok(e));

    let e = file(ID, "CMP-1", SUBJECT, &filing(), at(0)).unwrap().remove(0);
    assert_eq!(
        e.payload_json()["complainant"],
        json!({"name": "Jane Doe", "phone": "+44 20 7946 0958", "email": "jane@example.com"})
    );
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
fn every_event_type_is_listed_and_decodes_from_storage() {
    let events = one_of_each_event();
    let types: Vec<&str> = events.iter().map(ComplaintEvent::event_type).collect();
    assert_eq!(types, ComplaintEvent::EVENT_TYPES);
    for e in events {
        assert_eq!(e.schema_version(), 1);
        let decoded = ComplaintEvent::from_stored(e.event_type(), e.schema_version(), e.payload_json());
        assert_eq!(decoded, Ok(e));
    }
}

#[test]
fn unknown_types_versions_and_payloads_are_corrupt() {
    let payload = json!({"reason": "x"});
    assert!(matches!(
        ComplaintEvent::from_stored("complaint.exploded", 1, payload.clone()),
        Err(StreamCorrupt(_))
    ));
    assert!(matches!(
        ComplaintEvent::from_stored("incident.reopened", 1, payload.clone()),
        Err(StreamCorrupt(_))
    ));
    for version in [0, 2] {
        assert!(matches!(
            ComplaintEvent::from_stored("complaint.reopened", version, payload.clone()),
            Err(StreamCorrupt(_))
        ));
    }
    assert!(matches!(
        ComplaintEvent::from_stored("complaint.reopened", 1, json!({"why": "x"})),
        Err(StreamCorrupt(_))
    ));
    assert!(matches!(
        ComplaintEvent::from_stored("complaint.satisfaction_recorded", 1, json!({"rating": 4.5})),
        Err(StreamCorrupt(_))
    ));
}

#[test]
fn a_stream_must_start_with_exactly_one_filing() {
    let events = one_of_each_event();
    for e in &events[1..] {
        assert!(
            matches!(evolve(None, e, &meta(1, AGENT)), Err(StreamCorrupt(_))),
            "{} first",
            e.event_type()
        );
    }
    let view = evolve(None, &events[0], &meta(1, AGENT)).unwrap();
    assert!(matches!(
        evolve(Some(view), &events[0], &meta(2, AGENT)),
        Err(StreamCorrupt(_))
    ));
}

#[test]
fn evolve_folds_any_event_in_any_state_without_panicking() {
    // Stored events are facts: the fold does not re-judge them, even when no
    // decision could have produced them in that order.
    for status in ComplaintStatus::ALL {
        for e in &one_of_each_event()[1..] {
            let l = ledger_in(status);
            let version = l.view.version + 1;
            assert!(evolve(Some(l.view), e, &meta(version, AGENT)).is_ok());
        }
    }
    let mut view = ledger_in(ComplaintStatus::Resolved).view;
    view.reopen_count = u32::MAX;
    let reopened = ComplaintEvent::Reopened(ComplaintReopened { reason: "r".to_owned() });
    assert_eq!(
        evolve(Some(view), &reopened, &meta(9, AGENT)).unwrap().reopen_count,
        u32::MAX
    );
}

#[test]
fn chinese_text_round_trips_unchanged() {
    let mut cmd = filing();
    cmd.title = "账单重复扣款，请尽快处理".to_owned();
    cmd.description = "三月三日我的信用卡被扣了两次。\n订单号：２０２５—０３—０３。".to_owned();
    cmd.complainant.name = "张伟".to_owned();
    let event = file(ID, "CMP-1", SUBJECT, &cmd, at(0)).unwrap().remove(0);

    let text = serde_json::to_string(&event).unwrap();
    // Stored as UTF-8, not as \u escapes.
    assert!(text.contains("账单重复扣款，请尽快处理"));
    let back: ComplaintEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(back, event);
    let ComplaintEvent::Filed(f) = &back else {
        panic!("not a filing: {back:?}");
    };
    assert_eq!(f.title.as_bytes(), cmd.title.as_bytes());
    assert_eq!(clear_text(&f.description).as_bytes(), cmd.description.as_bytes());
    assert_eq!(clear_text(&f.complainant.name).as_bytes(), "张伟".as_bytes());

    let stored = ComplaintEvent::from_stored(
        event.event_type(),
        event.schema_version(),
        serde_json::from_str::<serde_json::Value>(&event.payload_json().to_string()).unwrap(),
    );
    assert_eq!(stored, Ok(event.clone()));

    let view = evolve(None, &event, &meta(1, AGENT)).unwrap();
    let view_back: Complaint = serde_json::from_str(&serde_json::to_string(&view).unwrap()).unwrap();
    assert_eq!(view_back.title.as_bytes(), cmd.title.as_bytes());
    assert_eq!(view_back, view);
}

// -------------------------------------------------------------- personal data

#[test]
fn a_filing_reports_its_description_and_every_complainant_field() {
    assert_eq!(
        personal_of(&one_of_each_event()[0]),
        [
            (PersonalField::Text, Personal::clear("Debited twice.")),
            (PersonalField::Name, Personal::clear("Jane Doe")),
            (PersonalField::Phone, Personal::clear("+44 20 7946 0958")),
            (PersonalField::Email, Personal::clear("jane@example.com")),
            (PersonalField::CustomerRef, Personal::clear("C-1001")),
        ]
    );

    // Absent contact details are not reported; the subject, the title and
    // the other fields are not personal data.
    let mut cmd = filing();
    cmd.complainant.phone = None;
    cmd.complainant.email = None;
    cmd.complainant.customer_ref = Some("C-1001".to_owned());
    let event = file(ID, "CMP-1", SUBJECT, &cmd, at(0)).unwrap().remove(0);
    assert_eq!(
        personal_of(&event),
        [
            (
                PersonalField::Text,
                Personal::clear("My card was debited twice on 3 March.")
            ),
            (PersonalField::Name, Personal::clear("Jane Doe")),
            (PersonalField::CustomerRef, Personal::clear("C-1001")),
        ]
    );
}

#[test]
fn first_responses_updates_and_comments_are_personal_text() {
    let mut l = Ledger::filed();
    let events = l.run(acknowledge(Some("Sorry, we are looking into it.")));
    assert_eq!(
        personal_of(&events[0]),
        [(PersonalField::Text, Personal::clear("Sorry, we are looking into it."))]
    );
    let events = l.run(note("A technician will call you.", NoteVisibility::Complainant));
    assert_eq!(
        personal_of(&events[0]),
        [(PersonalField::Text, Personal::clear("A technician will call you."))]
    );
    l.run(resolve("Refunded.", None));
    let events = l.run(rate(2, Some("Took too long.")));
    assert_eq!(
        personal_of(&events[0]),
        [(PersonalField::Text, Personal::clear("Took too long."))]
    );

    // Without the optional text there is nothing to report.
    let mut l = Ledger::filed();
    assert!(personal_of(&l.run(acknowledge(None))[0]).is_empty());
    l.run(resolve("Refunded.", None));
    assert!(personal_of(&l.run(rate(4, None))[0]).is_empty());
}

#[test]
fn internal_notes_and_staff_text_are_not_personal() {
    let mut l = ledger_in(ComplaintStatus::Acknowledged);
    let events = l.run(note("Jane Doe called again, see CRM.", NoteVisibility::Internal));
    assert!(personal_of(&events[0]).is_empty());

    let personal_count: Vec<(&str, usize)> = one_of_each_event()
        .iter()
        .map(|e| (e.event_type(), personal_of(e).len()))
        .collect();
    assert_eq!(
        personal_count,
        [
            ("complaint.filed", 5),
            ("complaint.acknowledged", 1),
            ("complaint.assigned", 0),
            ("complaint.note_added", 1),
            ("complaint.waiting_on_customer", 0),
            ("complaint.resumed", 0),
            ("complaint.resolved", 0),
            ("complaint.satisfaction_recorded", 1),
            ("complaint.closed", 0),
            ("complaint.reopened", 0),
            ("complaint.escalated", 0),
            ("complaint.linked_fault_resolved", 0),
            ("complaint.linked_fault_reopened", 0),
            ("complaint.linked", 0),
            ("complaint.unlinked", 0),
            ("complaint.personal_data_resealed", 1),
            ("complaint.details_corrected", 2),
            ("complaint.priority_changed", 0),
            ("sla.clocks_pinned", 0),
            ("sla.clocks_paused", 0),
            ("sla.clocks_resumed", 0),
            ("sla.clock_stopped", 0),
        ]
    );
}

#[test]
fn personal_values_can_be_replaced_in_place() {
    // What the application does before appending: every reported value is
    // sealed where it stands, and nothing else in the payload changes.
    for mut event in one_of_each_event() {
        let before = event.payload_json();
        let mut replaced = 0;
        for (i, (_, value)) in event.personal_mut().into_iter().enumerate() {
            *value = sealed(&format!("nonce-{i}"), "c2VhbGVk");
            replaced += 1;
        }
        let after = event.payload_json();
        let changed = changed_pointers(&before, &after, "");
        assert_eq!(changed.len(), replaced, "{}: {changed:?}", event.event_type());
        for p in &changed {
            assert!(after.pointer(p).is_some_and(Value::is_object), "{p}");
        }
        // Replaced values are no longer reported as clear text, but they are
        // still reported, so that rotating or erasing finds them.
        assert!(
            personal_of(&event)
                .iter()
                .all(|(_, v)| matches!(v, Personal::Protected(_)))
        );
        assert_eq!(personal_of(&event).len(), replaced);
    }

    let mut filed = one_of_each_event().remove(0);
    for (_, value) in filed.personal_mut() {
        *value = erased();
    }
    let payload = filed.payload_json();
    assert_eq!(payload["description"], json!({"erased": true}));
    assert_eq!(payload["complainant"]["customer_ref"], json!({"erased": true}));
    assert_eq!(payload["title"], "Charged twice");
    assert_eq!(payload["subject"], SUBJECT.to_string());
}

#[test]
fn personal_values_serialize_as_clear_strings_or_protected_objects() {
    let clear = Personal::clear("Jane Doe");
    assert_eq!(serde_json::to_value(&clear).unwrap(), json!("Jane Doe"));
    assert_eq!(serde_json::from_value::<Personal>(json!("Jane Doe")).unwrap(), clear);

    let sealed_json = json!({
        "subject": SUBJECT.to_string(),
        "key_id": KEY_ID.to_string(),
        "nonce": "x",
        "ciphertext": "y",
    });
    let sealed_value: Personal = serde_json::from_value(sealed_json.clone()).unwrap();
    assert_eq!(sealed_value, sealed("x", "y"));
    assert_eq!(serde_json::to_value(&sealed_value).unwrap(), sealed_json);

    let erased_value: Personal = serde_json::from_value(json!({"erased": true})).unwrap();
    assert_eq!(erased_value, erased());
    assert_eq!(serde_json::to_value(&erased_value).unwrap(), json!({"erased": true}));

    // Through text too, as the event store keeps it.
    for value in [clear, sealed_value, erased_value] {
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<Personal>(&text).unwrap(), value, "{text}");
    }
}

#[test]
fn sealed_and_erased_values_decode_and_fold_unchanged() {
    let stored = [
        (
            "complaint.filed",
            json!({
                "id": ID.to_string(),
                "number": "CMP-2025-000042",
                "subject": SUBJECT.to_string(),
                "title": "Charged twice",
                "description": sealed_json("bm9uY2UtMDAwMDAx", "ZGVzY3JpcHRpb24"),
                "channel": "email",
                "complainant": {
                    "name": sealed_json("bm9uY2UtMDAwMDAy", "bmFtZQ"),
                    "email": {"erased": true},
                    "customer_ref": sealed_json("bm9uY2UtMDAwMDAz", "cmVm"),
                },
                "category": "billing",
                "priority": "P2"
            }),
        ),
        (
            "complaint.acknowledged",
            json!({"message": sealed_json("bm9uY2UtMDAwMDA0", "bWVzc2FnZQ")}),
        ),
        (
            "complaint.note_added",
            json!({"body": sealed_json("bm9uY2UtMDAwMDA1", "dXBkYXRl"), "visibility": "complainant"}),
        ),
        (
            "complaint.note_added",
            json!({"body": "Internal: checked the gateway logs.", "visibility": "internal"}),
        ),
        ("complaint.resolved", json!({"resolution": "Refunded."})),
        (
            "complaint.satisfaction_recorded",
            json!({"rating": 4, "comment": {"erased": true}}),
        ),
    ];

    let mut view = None;
    for (i, (event_type, payload)) in stored.iter().enumerate() {
        let event = ComplaintEvent::from_stored(event_type, 1, payload.clone()).unwrap();
        // Opaque: written back exactly as read.
        assert_eq!(&event.payload_json(), payload, "{event_type}");
        view = Some(evolve(view, &event, &meta(i as u64 + 1, AGENT)).unwrap());
    }
    let view = view.unwrap();

    assert_eq!(view.subject, SUBJECT);
    assert_eq!(view.description, sealed("bm9uY2UtMDAwMDAx", "ZGVzY3JpcHRpb24"));
    assert_eq!(
        view.complainant,
        ComplainantRecord {
            name: sealed("bm9uY2UtMDAwMDAy", "bmFtZQ"),
            phone: None,
            email: Some(erased()),
            customer_ref: Some(sealed("bm9uY2UtMDAwMDAz", "cmVm")),
        }
    );
    assert_eq!(view.first_response, Some(sealed("bm9uY2UtMDAwMDA0", "bWVzc2FnZQ")));
    let bodies: Vec<&Personal> = view.notes.iter().map(|n| &n.body).collect();
    assert_eq!(
        bodies,
        [
            &sealed("bm9uY2UtMDAwMDA1", "dXBkYXRl"),
            &Personal::clear("Internal: checked the gateway logs."),
        ]
    );
    assert_eq!(
        view.satisfaction.as_ref().and_then(|s| s.comment.clone()),
        Some(erased())
    );

    // The view carries them the same way.
    let view_json = serde_json::to_value(&view).unwrap();
    assert_eq!(view_json["description"], stored[0].1["description"]);
    assert_eq!(view_json["complainant"], stored[0].1["complainant"]);
    assert_eq!(view_json["first_response"], stored[1].1["message"]);
    assert_eq!(view_json["notes"][0]["body"], stored[2].1["body"]);
    assert_eq!(view_json["notes"][1]["body"], "Internal: checked the gateway logs.");
    assert_eq!(view_json["satisfaction"]["comment"], json!({"erased": true}));
    let view_back: Complaint = serde_json::from_value(view_json).unwrap();
    assert_eq!(view_back, view);
}

#[test]
fn plain_string_payloads_still_decode_as_clear_text() {
    let event = ComplaintEvent::from_stored(
        "complaint.filed",
        1,
        json!({
            "id": ID.to_string(),
            "number": "CMP-1",
            "subject": SUBJECT.to_string(),
            "title": "t",
            "description": "Debited twice.",
            "channel": "web",
            "complainant": {"name": "Jane Doe", "phone": "112"},
            "category": "billing",
            "priority": "P4"
        }),
    )
    .unwrap();
    let ComplaintEvent::Filed(f) = &event else {
        panic!("not a filing: {event:?}");
    };
    assert_eq!(f.description, Personal::clear("Debited twice."));
    assert_eq!(f.complainant.name, Personal::clear("Jane Doe"));
    assert_eq!(f.complainant.phone, Some(Personal::clear("112")));

    let note = ComplaintEvent::from_stored(
        "complaint.note_added",
        1,
        json!({"body": "We called you.", "visibility": "complainant"}),
    );
    assert_eq!(
        note,
        Ok(ComplaintEvent::NoteAdded(ComplaintNoteAdded {
            body: Personal::clear("We called you."),
            visibility: NoteVisibility::Complainant,
        }))
    );

    // A filing must name its data subject.
    let mut payload = one_of_each_event()[0].payload_json();
    payload.as_object_mut().unwrap().remove("subject");
    assert!(matches!(
        ComplaintEvent::from_stored("complaint.filed", 1, payload),
        Err(StreamCorrupt(_))
    ));
}

#[test]
fn value_types_use_their_documented_spellings() {
    assert_eq!(serde_json::to_value(Channel::InPerson).unwrap(), "in_person");
    assert_eq!(serde_json::to_value(Priority::P1).unwrap(), "P1");
    assert_eq!(serde_json::to_value(Priority::P4).unwrap(), "P4");
    assert_eq!(
        serde_json::to_value(NoteVisibility::Complainant).unwrap(),
        "complainant"
    );
    for status in ComplaintStatus::ALL {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert_eq!(ComplaintStatus::InProgress.as_str(), "in_progress");
    assert_eq!(ComplaintStatus::WaitingOnCustomer.as_str(), "waiting_on_customer");
}

#[test]
fn command_bodies_deserialize_as_documented() {
    let r: Resume = serde_json::from_str("{}").unwrap();
    assert_eq!(r, Resume { note: None });
    let c: Close = serde_json::from_str("{}").unwrap();
    assert_eq!(c, Close { comment: None });
    let a: Acknowledge = serde_json::from_str("{}").unwrap();
    assert_eq!(a, Acknowledge { message: None });
    let a: Assign = serde_json::from_str(r#"{"assignee": "carol"}"#).unwrap();
    assert_eq!(
        a,
        Assign {
            team: None,
            assignee: Some("carol".to_owned())
        }
    );

    assert!(serde_json::from_str::<Close>(r#"{"comment": "x", "force": true}"#).is_err());
    assert!(serde_json::from_str::<RecordSatisfaction>(r#"{"rating": 300}"#).is_err());

    let body = json!({
        "title": "t",
        "description": "d",
        "channel": "in_person",
        "complainant": {"name": "n", "customer_ref": "C-1"},
        "category": "billing",
        "priority": "P3"
    });
    let f: FileComplaint = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(f.channel, Channel::InPerson);
    assert_eq!(f.priority, Priority::P3);
    assert_eq!(f.complainant.phone, None);

    let mut with_extra = body.clone();
    with_extra["complainant"]["address"] = json!("1 High St");
    assert!(serde_json::from_value::<FileComplaint>(with_extra).is_err());
    let mut with_extra = body;
    with_extra["status"] = json!("closed");
    assert!(serde_json::from_value::<FileComplaint>(with_extra).is_err());
}

#[test]
fn command_names_complete_the_refusal_sentence() {
    let names: Vec<&str> = [
        acknowledge(None),
        assign(None, None),
        note("", NoteVisibility::Internal),
        wait(""),
        resume(None),
        resolve("", None),
        rate(1, None),
        close(None),
        reopen(""),
    ]
    .iter()
    .map(ComplaintCommand::name)
    .collect();
    assert_eq!(
        names,
        [
            "acknowledge",
            "assign",
            "add a note to",
            "wait on the customer for",
            "resume",
            "resolve",
            "record satisfaction for",
            "close",
            "reopen",
        ]
    );
}

#[test]
fn openapi_schemas_build() {
    use utoipa::PartialSchema;
    let event = serde_json::to_value(ComplaintEvent::schema()).unwrap();
    let text = event.to_string();
    for t in ComplaintEvent::EVENT_TYPES {
        assert!(text.contains(t), "{t} missing from the event schema");
    }
    for schema in [
        Complaint::schema(),
        FileComplaint::schema(),
        RecordSatisfaction::schema(),
        Complainant::schema(),
        ComplainantRecord::schema(),
        Personal::schema(),
    ] {
        assert!(serde_json::to_value(schema).unwrap().is_object());
    }
}

#[test]
fn resealing_moves_every_personal_value_to_the_new_subject_by_the_nonce_it_replaces() {
    // A complaint whose values were sealed under SUBJECT, as stored.
    let stored = [
        (
            "complaint.filed",
            json!({
                "id": ID.to_string(), "number": "CMP-2025-000042", "subject": SUBJECT.to_string(),
                "title": "Charged twice", "description": sealed_json("n-description", "ZA"),
                "channel": "email", "complainant": {"name": sealed_json("n-name", "bg"), "phone": sealed_json("n-phone", "cA")},
                "category": "billing", "priority": "P2"
            }),
        ),
        (
            "complaint.acknowledged",
            json!({"message": sealed_json("n-message", "bQ")}),
        ),
        (
            "complaint.note_added",
            json!({"body": sealed_json("n-update", "dQ"), "visibility": "complainant"}),
        ),
        (
            "complaint.note_added",
            json!({"body": "Internal: checked the logs.", "visibility": "internal"}),
        ),
    ];
    let mut view = None;
    for (i, (event_type, payload)) in stored.iter().enumerate() {
        let event = ComplaintEvent::from_stored(event_type, 1, payload.clone()).unwrap();
        view = Some(evolve(view, &event, &meta(i as u64 + 1, AGENT)).unwrap());
    }
    let view = view.unwrap();

    let successor = Uuid::from_u128(0x77);
    let anew = |nonce: &str| {
        let Value::Object(map) = json!({"subject": successor.to_string(), "key_id": KEY_ID.to_string(),
            "nonce": format!("new-{nonce}"), "ciphertext": "eA"})
        else {
            unreachable!()
        };
        Personal::Protected(map)
    };
    let values: Vec<ResealedValue> = [
        (1, "/description", "n-description"),
        (1, "/complainant/name", "n-name"),
        (1, "/complainant/phone", "n-phone"),
        (2, "/message", "n-message"),
        (3, "/body", "n-update"),
    ]
    .into_iter()
    .map(|(version, pointer, nonce)| ResealedValue {
        version,
        pointer: pointer.to_owned(),
        replaces: nonce.to_owned(),
        value: anew(nonce),
    })
    .collect();
    let cmd = ResealPersonalData {
        subject: successor,
        cause: ResealCause::Repair,
        reason: "split".to_owned(),
        values,
    };
    let events = reseal(&view, &cmd).unwrap();
    // Every value is reported for sealing, and the event names both subjects.
    assert_eq!(personal_of(&events[0]).len(), 5);
    assert_eq!(events[0].payload_json()["previous_subject"], SUBJECT.to_string());

    let after = evolve(Some(view.clone()), &events[0], &meta(5, "system")).unwrap();
    assert_eq!(after.subject, successor);
    assert_eq!(after.description, anew("n-description"));
    assert_eq!(after.complainant.name, anew("n-name"));
    assert_eq!(after.complainant.phone, Some(anew("n-phone")));
    assert_eq!(after.first_response, Some(anew("n-message")));
    assert_eq!(after.notes[0].body, anew("n-update"));
    assert_eq!(after.notes[1].body, Personal::clear("Internal: checked the logs."));
    assert_eq!(after.status, view.status, "resealing changes nothing else");

    // Resealing under the subject it already has, naming a value twice, or
    // nothing at all is refused.
    assert!(matches!(
        reseal(
            &after,
            &ResealPersonalData {
                subject: successor,
                ..cmd.clone()
            }
        ),
        Err(DomainError::RuleViolated(_))
    ));
    let mut twice = cmd.clone();
    twice.values.push(twice.values[0].clone());
    assert_eq!(pointers(reseal(&view, &twice)), ["/values/5/replaces"]);
    assert_eq!(
        pointers(reseal(&view, &ResealPersonalData { values: vec![], ..cmd })),
        ["/values"]
    );
}

// ------------------------------------------------------- the bodies' schemas

/// Every body's OpenAPI schema states the limits the domain enforces: its
/// example is accepted, and at each limit a body one step inside is
/// accepted and one step outside refused, by the schema and the domain
/// alike (see `domain::body_limits`).
#[test]
fn every_body_schema_states_the_limits_the_domain_enforces() {
    use crate::domain::body_limits::check_every_limit;
    use ComplaintStatus::{Acknowledged, Filed, Resolved, WaitingOnCustomer};
    let in_state = |status, cmd| ledger_in(status).try_run(cmd).map(drop);

    check_every_limit(|cmd: FileComplaint| file(ID, "CMP-1", SUBJECT, &cmd, at(0)).map(drop));
    check_every_limit(|cmd| in_state(Filed, ComplaintCommand::Acknowledge(cmd)));
    check_every_limit(|cmd| in_state(Acknowledged, ComplaintCommand::Assign(cmd)));
    check_every_limit(|cmd| in_state(Acknowledged, ComplaintCommand::AddNote(cmd)));
    check_every_limit(|cmd| in_state(Acknowledged, ComplaintCommand::WaitOnCustomer(cmd)));
    check_every_limit(|cmd| in_state(WaitingOnCustomer, ComplaintCommand::Resume(cmd)));
    check_every_limit(|cmd| in_state(Acknowledged, ComplaintCommand::Resolve(cmd)));
    check_every_limit(|cmd| in_state(Resolved, ComplaintCommand::RecordSatisfaction(cmd)));
    check_every_limit(|cmd| in_state(Resolved, ComplaintCommand::Close(cmd)));
    check_every_limit(|cmd| in_state(Resolved, ComplaintCommand::Reopen(cmd)));
    check_every_limit(|cmd| in_state(Acknowledged, change_priority_to(cmd)));
    let filed = Ledger::filed();
    check_every_limit(|cmd: CorrectDetails| filed.try_correct(&cmd, SUBJECT).map(drop));
}

fn change_priority_to(cmd: ChangePriority) -> ComplaintCommand {
    ComplaintCommand::ChangePriority(cmd)
}

/// Rules across fields are in the bodies' descriptions: JSON Schema could
/// state "at least one of" (`anyOf` of `required`), but utoipa's derive
/// cannot write it, and its `min_properties` writes `maxProperties` (5.5.0).
#[test]
fn rules_across_fields_are_the_domains_alone() {
    use crate::domain::body_limits::body;
    let filing = body(|cmd: FileComplaint| file(ID, "CMP-1", SUBJECT, &cmd, at(0)).map(drop));
    // The example gives a phone and an email; any one of three will do.
    let reachable_by = |only: Value| {
        let mut complainant = json!({"phone": null, "email": null, "customer_ref": null});
        complainant
            .as_object_mut()
            .unwrap()
            .extend(only.as_object().unwrap().clone());
        filing.example_with(json!({ "complainant": complainant }))
    };
    filing.accepts(reachable_by(json!({"phone": "112"})));
    filing.accepts(reachable_by(json!({"email": "li.na@example.cn"})));
    filing.accepts(reachable_by(json!({"customer_ref": "C-7"})));
    filing.only_the_domain_refuses(reachable_by(json!({})), "/complainant");

    let assign = body(|cmd| {
        ledger_in(ComplaintStatus::Acknowledged)
            .try_run(ComplaintCommand::Assign(cmd))
            .map(drop)
    });
    assign.accepts(json!({"team": "broadband-support"}));
    assign.accepts(json!({"assignee": "li.na"}));
    assign.only_the_domain_refuses(json!({}), "");
    assign.only_the_domain_refuses(json!({"team": null}), "");
}

// ------------------------------------------------------------- corrections

fn correction(reason: &str) -> CorrectDetails {
    CorrectDetails {
        category: None,
        channel: None,
        complainant: None,
        another_person: false,
        subject: None,
        reason: reason.to_owned(),
    }
}

fn contacts(name: Option<&str>, phone: Option<&str>, email: Option<&str>) -> ComplainantCorrection {
    ComplainantCorrection {
        name: name.map(str::to_owned),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        customer_ref: None,
    }
}

#[test]
fn changing_the_priority_records_both_and_shows_as_a_correction() {
    let mut l = ledger_in(ComplaintStatus::InProgress);
    let events = l.run(change_priority(Priority::P1, "The customer runs a clinic."));
    assert_eq!(
        events,
        [ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
            from: Priority::P2,
            to: Priority::P1,
            reason: "The customer runs a clinic.".to_owned(),
        })]
    );
    assert_eq!(l.view.priority, Priority::P1);
    assert_eq!(l.view.status, ComplaintStatus::InProgress, "the work goes on");
    assert_eq!(
        l.view.corrections,
        [Correction {
            at: l.view.updated_at,
            by: AGENT.to_owned(),
            reason: "The customer runs a clinic.".to_owned(),
            category: None,
            channel: None,
            priority: Some(PriorityCorrection {
                from: Priority::P2,
                to: Priority::P1,
            }),
            complainant: None,
        }]
    );
}

#[test]
fn a_priority_change_needs_a_reason_and_a_new_priority_on_an_open_complaint() {
    let l = ledger_in(ComplaintStatus::Acknowledged);
    assert_eq!(pointers(l.try_run(change_priority(Priority::P1, " "))), ["/reason"]);
    assert_eq!(
        l.try_run(change_priority(Priority::P2, "again")),
        Err(DomainError::RuleViolated(messages::rule_priority_unchanged("P2")))
    );
    let err = ledger_in(ComplaintStatus::Closed)
        .try_run(change_priority(Priority::P1, "late"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot change the priority of a complaint that is closed"
    );
}

#[test]
fn correcting_category_and_channel_records_what_each_replaces() {
    let mut l = ledger_in(ComplaintStatus::Closed);
    let cmd = CorrectDetails {
        category: Some("payments".to_owned()),
        channel: Some(Channel::Chat),
        ..correction("Classified by the wrong desk.")
    };
    let events = l.try_correct(&cmd, SUBJECT).unwrap();
    assert_eq!(
        events,
        [ComplaintEvent::DetailsCorrected(ComplaintDetailsCorrected {
            category: Some(TextCorrection {
                from: "billing".to_owned(),
                to: "payments".to_owned(),
            }),
            channel: Some(ChannelCorrection {
                from: Channel::Phone,
                to: Channel::Chat,
            }),
            complainant: None,
            subject: None,
            previous_subject: None,
            subject_joined: None,
            resealed: vec![],
            reason: "Classified by the wrong desk.".to_owned(),
        })]
    );
    l.apply(&events, AGENT);
    assert_eq!((l.view.category.as_str(), l.view.channel), ("payments", Channel::Chat));
    assert_eq!(
        l.view.status,
        ComplaintStatus::Closed,
        "a closed complaint is corrected too"
    );
    let [correction] = l.view.corrections.as_slice() else {
        panic!("one correction: {:?}", l.view.corrections)
    };
    assert_eq!(correction.reason, "Classified by the wrong desk.");
    assert_eq!(correction.by, AGENT);
}

#[test]
fn a_correction_records_only_what_changes_and_refuses_one_that_changes_nothing() {
    let l = Ledger::filed();
    let unchanged = CorrectDetails {
        category: Some("billing".to_owned()),
        channel: Some(Channel::Phone),
        complainant: Some(contacts(Some("Jane Doe"), Some("+44 20 7946 0958"), None)),
        ..correction("Checked.")
    };
    assert_eq!(
        l.try_correct(&unchanged, SUBJECT),
        Err(DomainError::RuleViolated(messages::rule_correction_changes_nothing()))
    );

    let only_the_email = CorrectDetails {
        complainant: Some(contacts(Some("Jane Doe"), None, Some("jane.doe@example.com"))),
        ..unchanged
    };
    let events = l.try_correct(&only_the_email, SUBJECT).unwrap();
    let [ComplaintEvent::DetailsCorrected(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!((&e.category, &e.channel), (&None, &None));
    assert_eq!(
        e.complainant,
        Some(ComplainantCorrected {
            name: None,
            phone: None,
            email: Some(Personal::clear("jane.doe@example.com")),
            customer_ref: None,
            another_person: false,
        })
    );
    assert_eq!(e.subject, None, "the same person keeps their subject");
}

#[test]
fn correcting_the_complainant_keeps_what_was_not_corrected_and_shows_both_records() {
    let mut l = ledger_in(ComplaintStatus::InProgress);
    let before = l.view.complainant.clone();
    let cmd = CorrectDetails {
        complainant: Some(contacts(None, Some("+44 20 7946 0959"), None)),
        ..correction("A digit was misheard.")
    };
    let events = l.try_correct(&cmd, SUBJECT).unwrap();
    assert_eq!(
        personal_of(&events[0]),
        [(PersonalField::Phone, Personal::clear("+44 20 7946 0959"))]
    );
    l.apply(&events, AGENT);
    let after = &l.view.complainant;
    assert_eq!(after.phone, Some(Personal::clear("+44 20 7946 0959")));
    assert_eq!((&after.name, &after.email), (&before.name, &before.email));
    let change = l.view.corrections[0]
        .complainant
        .as_ref()
        .expect("the complainant's change");
    assert_eq!(
        (&change.from, &change.to, change.another_person),
        (&before, after, false)
    );
}

#[test]
fn another_persons_complaint_replaces_the_complainant_whole_and_moves_to_their_subject() {
    let mut l = Ledger::filed();
    // As stored: sealed under the first subject.
    l.view.description = sealed("n-description", "c-description");
    l.view.complainant.phone = Some(sealed("n-phone", "c-phone"));
    let them = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0099);
    let cmd = CorrectDetails {
        complainant: Some(contacts(Some("Li Na"), None, Some("li.na@example.cn"))),
        another_person: true,
        subject: Some(them),
        ..correction("Filed under the wrong customer.")
    };
    let moved = ResealedValue {
        version: 1,
        pointer: "/description".to_owned(),
        replaces: "n-description".to_owned(),
        value: Personal::clear("My card was debited twice on 3 March."),
    };
    let found = CorrectedComplainant {
        recorded: l.view.complainant.clone(),
        subject: FilingSubject {
            id: them,
            joined: Some(SubjectJoin::Named),
        },
        resealed: vec![moved.clone()],
    };
    let events = correct_details(&l.view, &cmd, Some(&found)).unwrap();
    let [ComplaintEvent::DetailsCorrected(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (e.subject, e.previous_subject, e.subject_joined),
        (Some(them), Some(SUBJECT), Some(SubjectJoin::Named))
    );
    assert_eq!(e.resealed, [moved]);
    l.apply(&events, AGENT);
    assert_eq!(l.view.subject, them);
    assert_eq!(
        l.view.complainant,
        ComplainantRecord {
            name: Personal::clear("Li Na"),
            phone: None,
            email: Some(Personal::clear("li.na@example.cn")),
            customer_ref: None,
        },
        "nothing of the first person stays on the complaint"
    );
    assert_eq!(
        l.view.description,
        Personal::clear("My card was debited twice on 3 March."),
        "the description is sealed anew, under the other person's subject"
    );
    let change = l.view.corrections[0].complainant.as_ref().expect("the change");
    assert!(change.another_person);
    assert_eq!(
        change.from.phone,
        Some(sealed("n-phone", "c-phone")),
        "the first person's, as it was"
    );
}

#[test]
fn another_person_found_to_be_the_same_subject_with_the_same_details_changes_nothing() {
    let l = Ledger::filed();
    let cmd = CorrectDetails {
        complainant: Some(contacts(
            Some("Jane Doe"),
            Some("+44 20 7946 0958"),
            Some("jane@example.com"),
        )),
        another_person: true,
        ..correction("Checked.")
    };
    assert!(matches!(
        l.try_correct(&cmd, SUBJECT),
        Err(DomainError::RuleViolated(_))
    ));
    // Without the email, the record changes: another person gave none.
    let without_email = CorrectDetails {
        complainant: Some(contacts(Some("Jane Doe"), Some("+44 20 7946 0958"), None)),
        ..cmd
    };
    assert!(l.try_correct(&without_email, SUBJECT).is_ok());
}

#[test]
fn a_correction_names_what_it_corrects_and_why() {
    let l = Ledger::filed();
    assert_eq!(pointers(l.try_correct(&correction("Why"), SUBJECT)), [""]);
    assert_eq!(
        pointers(l.try_correct(
            &CorrectDetails {
                category: Some("payments".to_owned()),
                ..correction("")
            },
            SUBJECT
        )),
        ["/reason"]
    );
    let empty = CorrectDetails {
        complainant: Some(contacts(None, None, None)),
        ..correction("Why")
    };
    assert_eq!(pointers(l.try_correct(&empty, SUBJECT)), ["/complainant"]);
    let bad = CorrectDetails {
        complainant: Some(contacts(None, Some("call me"), Some("nobody"))),
        ..correction("Why")
    };
    assert_eq!(
        pointers(l.try_correct(&bad, SUBJECT)),
        ["/complainant/phone", "/complainant/email"]
    );
    // Another person is recorded as a filing records them: named and reachable.
    let nameless = CorrectDetails {
        complainant: Some(contacts(None, None, None)),
        another_person: true,
        ..correction("Why")
    };
    assert_eq!(
        pointers(l.try_correct(&nameless, SUBJECT)),
        ["/complainant/name", "/complainant"]
    );
    let nobody = CorrectDetails {
        another_person: true,
        ..correction("Why")
    };
    assert_eq!(pointers(l.try_correct(&nobody, SUBJECT)), ["", "/complainant"]);
    let named_alone = CorrectDetails {
        category: Some("payments".to_owned()),
        subject: Some(SUBJECT),
        ..correction("Why")
    };
    assert_eq!(pointers(l.try_correct(&named_alone, SUBJECT)), ["/subject"]);
}

#[test]
fn corrections_fold_from_views_stored_before_them() {
    let l = Ledger::filed();
    let mut stored = serde_json::to_value(&l.view).unwrap();
    stored.as_object_mut().unwrap().remove("corrections");
    let back: Complaint = serde_json::from_value(stored).unwrap();
    assert_eq!(back, l.view);
}
