//! The rules: which commands a fault accepts, and what they record.
//!
//! Every decision validates the command's fields first and only then looks
//! at the state, so a client with a malformed body always learns about the
//! body (422) rather than about a state it might not even have caused.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::DetectedBy;
use super::command::*;
use super::event::*;
use super::state::{Fault, FaultStatus};
use crate::domain::complaint::{Complaint, ComplaintEscalated, ComplaintEvent, ComplaintStatus};
use crate::domain::link::TicketRef;
use crate::domain::text::{self, LABEL, LONG_TEXT, TITLE};
use crate::domain::ticket::TicketKind;
use crate::domain::{DomainError, FieldError, Validator, messages};

use FaultStatus::{Closed, Investigating, Mitigated, Reported, Resolved, Triaged};

/// How far past `now` a repair may be recorded as ended: enough for clocks
/// that disagree a little, not enough to log work that has not happened.
const REPAIR_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);
const MAX_PARTS: usize = 50;
const MAX_CONTRIBUTING_FACTORS: usize = 50;
const MAX_ACTION_ITEMS: usize = 100;

/// A fault report whose fields passed validation: the only thing a report
/// is recorded from, so the fault's number is taken only for a report that
/// will be recorded.
#[derive(Debug, Clone)]
pub struct ValidReport(ReportFault);

impl ValidReport {
    /// Checks every field of the report and reports all bad ones at once.
    pub fn check(cmd: ReportFault) -> Result<ValidReport, DomainError> {
        let mut v = Validator::new();
        text::check(&mut v, "/title", &cmd.title, TITLE);
        text::check(&mut v, "/description", &cmd.description, LONG_TEXT);
        text::check(&mut v, "/affected_service", &cmd.affected_service, LABEL);
        v.finish()?;
        Ok(ValidReport(cmd))
    }

    /// Records the report under `id` and `number`, both chosen by the caller.
    ///
    /// `now` is not used yet; it is part of the signature so that
    /// time-based rules can be added without touching callers.
    pub fn record(&self, id: Uuid, number: &str, _now: DateTime<Utc>) -> Vec<FaultEvent> {
        let cmd = &self.0;
        vec![FaultEvent::Reported(FaultReported {
            id,
            number: number.to_owned(),
            title: cmd.title.clone(),
            description: cmd.description.clone(),
            affected_service: cmd.affected_service.clone(),
            detected_by: cmd.detected_by,
            escalated_from: None,
        })]
    }
}

/// Validates a new fault and records its report under `id` and `number`:
/// [`ValidReport::check`] then [`ValidReport::record`].
pub fn report(id: Uuid, number: &str, cmd: &ReportFault, now: DateTime<Utc>) -> Result<Vec<FaultEvent>, DomainError> {
    Ok(ValidReport::check(cmd.clone())?.record(id, number, now))
}

/// An escalation the complaint accepts: decided before the new fault has
/// an id or a number, so a refused escalation consumes neither.
#[derive(Debug, Clone)]
pub struct Escalation {
    complaint: TicketRef,
    title: String,
    description: String,
    affected_service: String,
}

impl Escalation {
    /// Decides whether `complaint` may be escalated as `cmd` asks: the
    /// fields first, then the complaint's state.
    pub fn decide(complaint: &Complaint, cmd: &EscalateComplaint) -> Result<Escalation, DomainError> {
        let mut v = Validator::new();
        text::check_opt(&mut v, "/title", cmd.title.as_deref(), TITLE);
        text::check(&mut v, "/description", &cmd.description, LONG_TEXT);
        text::check(&mut v, "/affected_service", &cmd.affected_service, LABEL);
        v.finish()?;

        // Once resolved, the complaint has its answer; a fault found later is
        // reported on its own and linked.
        let open = matches!(
            complaint.status,
            ComplaintStatus::Filed
                | ComplaintStatus::Acknowledged
                | ComplaintStatus::InProgress
                | ComplaintStatus::WaitingOnCustomer
        );
        if !open {
            return Err(DomainError::InvalidTransition {
                aggregate: "complaint",
                state: complaint.status.as_str(),
                command: "escalate",
            });
        }
        if let Some(fault) = &complaint.escalated_to {
            return Err(DomainError::RuleViolated(messages::rule_already_escalated(
                &fault.number,
            )));
        }
        Ok(Escalation {
            complaint: complaint.ticket_ref(),
            title: cmd.title.clone().unwrap_or_else(|| complaint.title.clone()),
            description: cmd.description.clone(),
            affected_service: cmd.affected_service.clone(),
        })
    }

    /// The events of the escalation to a new fault `fault_id` numbered
    /// `fault_number`: the complaint's, then the fault's.
    ///
    /// `now` is not used yet; see [`report`].
    pub fn record(
        self,
        fault_id: Uuid,
        fault_number: &str,
        _now: DateTime<Utc>,
    ) -> (Vec<ComplaintEvent>, Vec<FaultEvent>) {
        let fault = TicketRef {
            id: fault_id,
            number: fault_number.to_owned(),
            kind: TicketKind::Fault,
        };
        let reported = FaultEvent::Reported(FaultReported {
            id: fault_id,
            number: fault_number.to_owned(),
            title: self.title,
            description: self.description,
            affected_service: self.affected_service,
            detected_by: DetectedBy::CustomerComplaint,
            escalated_from: Some(self.complaint),
        });
        let escalated = ComplaintEvent::Escalated(ComplaintEscalated { fault });
        (vec![escalated], vec![reported])
    }
}

/// Escalates `complaint` to a new fault under `fault_id` and `fault_number`:
/// returns the events for the complaint's stream and for the new fault's
/// ([`Escalation::decide`] then [`Escalation::record`]).
pub fn escalate(
    complaint: &Complaint,
    fault_id: Uuid,
    fault_number: &str,
    cmd: &EscalateComplaint,
    now: DateTime<Utc>,
) -> Result<(Vec<ComplaintEvent>, Vec<FaultEvent>), DomainError> {
    Ok(Escalation::decide(complaint, cmd)?.record(fault_id, fault_number, now))
}

/// Decides a command by `actor` against the fault's current state.
pub fn decide(
    state: &Fault,
    cmd: &FaultCommand,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<FaultEvent>, DomainError> {
    validate(state, cmd, now)?;

    let status = state.status;
    let allowed = match cmd {
        FaultCommand::Triage(_) => matches!(status, Reported | Triaged | Investigating | Mitigated),
        FaultCommand::Evaluate(_) | FaultCommand::AssignTechnician(_) => {
            matches!(status, Triaged | Investigating | Mitigated)
        }
        FaultCommand::StartInvestigation(_) => status == Triaged,
        FaultCommand::Mitigate(_) => status == Investigating,
        FaultCommand::Resolve(_) => matches!(status, Investigating | Mitigated),
        FaultCommand::Close(_) => status == Resolved,
        FaultCommand::Reopen(_) => matches!(status, Resolved | Closed),
        // Work is logged until the fault is closed: a fix often needs a
        // last visit after it was declared resolved.
        FaultCommand::LogRepair(_) => matches!(status, Triaged | Investigating | Mitigated | Resolved),
        // A review looks back on a fix, so there must be one.
        FaultCommand::WriteReview(_) => matches!(status, Resolved | Closed),
        // Action items outlive the fault; their own rule is that a review exists.
        FaultCommand::CompleteActionItem(_) | FaultCommand::AddNote(_) => true,
        // Person-minutes are reported on closed faults too, so a record
        // logged in error is voided whatever the status.
        FaultCommand::VoidRepair(_) => true,
        // Triage is where the service is looked at first; until then the
        // reporter's word stands and triage may settle it.
        FaultCommand::CorrectAffectedService(_) => status != Reported,
    };
    if !allowed {
        return Err(DomainError::InvalidTransition {
            aggregate: "fault",
            state: status.as_str(),
            command: cmd.name(),
        });
    }

    let event = match cmd {
        FaultCommand::Triage(c) => FaultEvent::Triaged(FaultTriaged {
            severity: c.severity,
            evaluator: c.evaluator.clone(),
            technician: c.technician.clone(),
        }),
        FaultCommand::Evaluate(c) => {
            match state.evaluator.as_deref() {
                Some(evaluator) if evaluator == actor => {}
                Some(evaluator) => {
                    return Err(DomainError::RuleViolated(messages::rule_not_the_evaluator(evaluator)));
                }
                // Triage always names one; only a view folded from a
                // tampered stream could lack it.
                None => {
                    return Err(DomainError::RuleViolated(messages::rule_fault_has_no_evaluator()));
                }
            }
            FaultEvent::Evaluated(FaultEvaluated {
                nature: c.nature.clone(),
                estimated_effort_minutes: c.estimated_effort_minutes,
                proposed_priority: c.proposed_priority,
            })
        }
        FaultCommand::AssignTechnician(c) => {
            if state.technician.as_deref() == Some(c.technician.as_str()) {
                // An event that changes nothing would only add noise to the
                // history and make retries look like real reassignments.
                return Err(DomainError::RuleViolated(messages::rule_already_the_technician(
                    &c.technician,
                )));
            }
            FaultEvent::TechnicianAssigned(FaultTechnicianAssigned {
                technician: c.technician.clone(),
            })
        }
        FaultCommand::StartInvestigation(c) => {
            if state.technician.is_none() {
                return Err(DomainError::RuleViolated(
                    messages::rule_investigation_needs_technician(),
                ));
            }
            FaultEvent::InvestigationStarted(FaultInvestigationStarted { note: c.note.clone() })
        }
        FaultCommand::Mitigate(c) => FaultEvent::Mitigated(FaultMitigated {
            workaround: c.workaround.clone(),
        }),
        FaultCommand::Resolve(c) => FaultEvent::Resolved(FaultResolved {
            resolution: c.resolution.clone(),
            root_cause: c.root_cause.clone(),
        }),
        FaultCommand::Close(c) => {
            if matches!(state.severity, Some(1 | 2)) && state.review.is_none() {
                return Err(DomainError::RuleViolated(messages::rule_close_needs_fault_review()));
            }
            FaultEvent::Closed(FaultClosed {
                comment: c.comment.clone(),
            })
        }
        FaultCommand::Reopen(c) => FaultEvent::Reopened(FaultReopened {
            reason: c.reason.clone(),
        }),
        FaultCommand::LogRepair(c) => FaultEvent::RepairLogged(FaultRepairLogged {
            repair: next_ordinal(state.repairs.len()),
            technician: c.technician.clone(),
            action_taken: c.action_taken.clone(),
            started_at: c.started_at,
            ended_at: c.ended_at,
            person_minutes: c.person_minutes,
            maintenance_type: c.maintenance_type,
            parts: c.parts.clone(),
        }),
        FaultCommand::WriteReview(c) => {
            if state.review.is_some() {
                return Err(DomainError::RuleViolated(messages::rule_fault_review_written()));
            }
            FaultEvent::ReviewWritten(FaultReviewWritten {
                summary: c.summary.clone(),
                root_cause: c.root_cause.clone(),
                contributing_factors: c.contributing_factors.clone(),
                action_items: c
                    .action_items
                    .iter()
                    .enumerate()
                    .map(|(i, a)| ReviewActionItem {
                        item: next_ordinal(i),
                        description: a.description.clone(),
                        owner: a.owner.clone(),
                        due_on: a.due_on,
                    })
                    .collect(),
            })
        }
        FaultCommand::CompleteActionItem(c) => {
            let Some(review) = &state.review else {
                return Err(DomainError::RuleViolated(messages::rule_no_fault_review()));
            };
            let Some(item) = review.action_items.iter().find(|a| a.item == c.item) else {
                return Err(DomainError::Validation(vec![FieldError::new(
                    "/item",
                    messages::field_no_such_action_item(c.item, review.action_items.len()),
                )]));
            };
            if item.done.is_some() {
                return Err(DomainError::RuleViolated(messages::rule_action_item_done(c.item)));
            }
            FaultEvent::ActionItemCompleted(FaultActionItemCompleted {
                item: c.item,
                note: c.note.clone(),
            })
        }
        FaultCommand::AddNote(c) => FaultEvent::NoteAdded(FaultNoteAdded { body: c.body.clone() }),
        FaultCommand::VoidRepair(c) => {
            // A rule on the fault, not on the body: any ordinal is a
            // well-formed one, and which exist depends on the fault.
            let Some(repair) = state.repairs.iter().find(|r| r.repair == c.repair) else {
                return Err(DomainError::RuleViolated(messages::rule_no_such_repair(
                    c.repair,
                    state.repairs.len(),
                )));
            };
            if repair.voided.is_some() {
                return Err(DomainError::RuleViolated(messages::rule_repair_already_voided(
                    c.repair,
                )));
            }
            FaultEvent::RepairVoided(FaultRepairVoided {
                repair: c.repair,
                reason: c.reason.clone(),
            })
        }
        FaultCommand::CorrectAffectedService(c) => {
            if c.affected_service == state.affected_service {
                return Err(DomainError::RuleViolated(messages::rule_affected_service_unchanged(
                    &c.affected_service,
                )));
            }
            FaultEvent::AffectedServiceCorrected(FaultAffectedServiceCorrected {
                from: state.affected_service.clone(),
                to: c.affected_service.clone(),
                reason: c.reason.clone(),
            })
        }
    };
    Ok(vec![event])
}

/// Field checks. The only one that looks at the state is triage's
/// "severity 1 needs a technician", which is about a field the command may
/// leave out only when the fault already has one.
fn validate(state: &Fault, cmd: &FaultCommand, now: DateTime<Utc>) -> Result<(), DomainError> {
    let mut v = Validator::new();
    match cmd {
        FaultCommand::Triage(c) => {
            check_severity(&mut v, "/severity", c.severity);
            text::check(&mut v, "/evaluator", &c.evaluator, LABEL);
            text::check_opt(&mut v, "/technician", c.technician.as_deref(), LABEL);
            // A critical fault must never sit in a queue with nobody on it.
            if c.severity == 1 && c.technician.is_none() && state.technician.is_none() {
                v.push("/technician", messages::field_severity_one_needs_technician());
            }
        }
        FaultCommand::Evaluate(c) => {
            text::check(&mut v, "/nature", &c.nature, LONG_TEXT);
            v.check(
                c.estimated_effort_minutes > 0,
                "/estimated_effort_minutes",
                messages::field_more_than_zero(),
            );
            check_severity(&mut v, "/proposed_priority", c.proposed_priority);
        }
        FaultCommand::AssignTechnician(c) => text::check(&mut v, "/technician", &c.technician, LABEL),
        FaultCommand::StartInvestigation(c) => {
            text::check_opt(&mut v, "/note", c.note.as_deref(), LONG_TEXT);
        }
        FaultCommand::Mitigate(c) => text::check(&mut v, "/workaround", &c.workaround, LONG_TEXT),
        FaultCommand::Resolve(c) => {
            text::check(&mut v, "/resolution", &c.resolution, LONG_TEXT);
            text::check(&mut v, "/root_cause", &c.root_cause, LONG_TEXT);
        }
        FaultCommand::Close(c) => {
            text::check_opt(&mut v, "/comment", c.comment.as_deref(), LONG_TEXT);
        }
        FaultCommand::Reopen(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
        FaultCommand::LogRepair(c) => {
            text::check(&mut v, "/technician", &c.technician, LABEL);
            text::check(&mut v, "/action_taken", &c.action_taken, LONG_TEXT);
            if c.ended_at <= c.started_at {
                v.push("/ended_at", messages::field_repair_ends_before_start());
            } else if now
                .checked_add_signed(REPAIR_CLOCK_SKEW)
                .is_some_and(|latest| c.ended_at > latest)
            {
                v.push("/ended_at", messages::field_repair_in_future());
            }
            v.check(
                c.person_minutes > 0,
                "/person_minutes",
                messages::field_more_than_zero(),
            );
            check_list(&mut v, "/parts", &c.parts, MAX_PARTS, LABEL);
        }
        FaultCommand::WriteReview(c) => {
            text::check(&mut v, "/summary", &c.summary, LONG_TEXT);
            text::check(&mut v, "/root_cause", &c.root_cause, LONG_TEXT);
            check_list(
                &mut v,
                "/contributing_factors",
                &c.contributing_factors,
                MAX_CONTRIBUTING_FACTORS,
                LONG_TEXT,
            );
            if c.action_items.len() > MAX_ACTION_ITEMS {
                v.push(
                    "/action_items",
                    messages::field_too_many_items(MAX_ACTION_ITEMS, c.action_items.len()),
                );
            }
            for (i, a) in c.action_items.iter().enumerate() {
                text::check(
                    &mut v,
                    &format!("/action_items/{i}/description"),
                    &a.description,
                    LONG_TEXT,
                );
                text::check(&mut v, &format!("/action_items/{i}/owner"), &a.owner, LABEL);
            }
        }
        FaultCommand::CompleteActionItem(c) => {
            // A review has at most MAX_ACTION_ITEMS items, numbered from 1.
            v.check(
                c.item > 0 && usize::try_from(c.item).is_ok_and(|item| item <= MAX_ACTION_ITEMS),
                "/item",
                messages::field_range(1, MAX_ACTION_ITEMS),
            );
            text::check_opt(&mut v, "/note", c.note.as_deref(), LONG_TEXT);
        }
        FaultCommand::AddNote(c) => text::check(&mut v, "/body", &c.body, LONG_TEXT),
        FaultCommand::VoidRepair(c) => {
            v.check(c.repair > 0, "/repair", messages::field_one_or_more());
            text::check(&mut v, "/reason", &c.reason, LONG_TEXT);
        }
        FaultCommand::CorrectAffectedService(c) => {
            text::check(&mut v, "/affected_service", &c.affected_service, LABEL);
            text::check(&mut v, "/reason", &c.reason, LONG_TEXT);
        }
    }
    v.finish()
}

fn check_severity(v: &mut Validator, pointer: &str, value: u8) {
    v.check((1..=4).contains(&value), pointer, messages::field_between(1, 4));
}

/// Checks the length of a list and each of its items.
fn check_list(v: &mut Validator, pointer: &str, items: &[String], max: usize, limit: text::Limit) {
    if items.len() > max {
        v.push(pointer, messages::field_too_many_items(max, items.len()));
    }
    for (i, item) in items.iter().enumerate() {
        text::check(v, &format!("{pointer}/{i}"), item, limit);
    }
}

/// The 1-based ordinal after `count` earlier ones.
fn next_ordinal(count: usize) -> u32 {
    // Saturating: lists are bounded far below u32::MAX by their commands.
    u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1)
}
