//! The rules: which commands a change accepts, and what they record.
//!
//! Every decision validates the command's fields first and only then looks
//! at the state, so a client with a malformed body always learns about the
//! body (422) rather than about a state it might not even have caused.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::calendar::{CalendarBooked, CalendarEvent, CalendarReleased, ServiceCalendar};
use super::command::*;
use super::event::*;
use super::freeze::FreezeCalendar;
use super::state::{Change, ChangeStatus, ScheduledWindow};
use super::{ChangeType, RefusingWindow, RefusingWindowKind, RolloutStepKind};
use crate::domain::link::TicketRef;
use crate::domain::text::{self, LABEL, LONG_TEXT, TITLE};
use crate::domain::ticket::TicketKind;
use crate::domain::{DomainError, Message, Validator, messages, zoned};

use ChangeStatus::{
    Approved, Assessed, Closed, Completed, Draft, Failed, Implementing, Rejected, Reviewed, RolledBack, Submitted,
};

const MAX_AFFECTED_SERVICES: usize = 20;
const MAX_LINKED_FAULTS: usize = 50;
const MAX_FOLLOW_UP_ACTIONS: usize = 100;
/// Longer windows block the services' calendars for no good reason; a
/// change that big should be split.
const MAX_WINDOW: TimeDelta = TimeDelta::days(30);

/// What scheduling records: the change's event and one booking per
/// affected service, in the order of the change's `affected_services`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub change: Vec<ChangeEvent>,
    pub bookings: Vec<CalendarEvent>,
}

/// A draft the domain accepts: decided before the change has an id or a
/// number, so a refused draft consumes neither.
#[derive(Debug, Clone)]
pub struct ValidDraft {
    cmd: DraftChange,
    linked_faults: Vec<TicketRef>,
}

impl ValidDraft {
    /// Checks the draft's fields and its `linked_faults`, the command's
    /// references resolved by the caller in the same order, and reports
    /// every bad one at once.
    pub fn check(cmd: &DraftChange, linked_faults: Vec<TicketRef>) -> Result<ValidDraft, DomainError> {
        let mut v = Validator::new();
        text::check(&mut v, "/title", &cmd.title, TITLE);
        text::check(&mut v, "/description", &cmd.description, LONG_TEXT);
        check_services(&mut v, &cmd.affected_services);
        if linked_faults.len() > MAX_LINKED_FAULTS {
            v.push(
                "/linked_faults",
                messages::field_too_many_items(MAX_LINKED_FAULTS, linked_faults.len()),
            );
        }
        for (i, fault) in linked_faults.iter().enumerate() {
            let pointer = format!("/linked_faults/{i}");
            if fault.kind != TicketKind::Fault {
                v.push(
                    &pointer,
                    messages::field_not_a_fault(&fault.number, fault.kind.as_str()),
                );
            } else if linked_faults[..i].iter().any(|f| f.id == fault.id) {
                v.push(&pointer, messages::field_listed_twice(&fault.number));
            }
        }
        v.finish()?;
        Ok(ValidDraft {
            cmd: cmd.clone(),
            linked_faults,
        })
    }

    /// Records the draft under `id` and `number`, both chosen by the caller.
    ///
    /// `now` is not used yet; it is part of the signature so that
    /// time-based rules can be added without touching callers.
    pub fn record(self, id: Uuid, number: &str, _now: DateTime<Utc>) -> Vec<ChangeEvent> {
        let cmd = self.cmd;
        vec![ChangeEvent::Drafted(ChangeDrafted {
            id,
            number: number.to_owned(),
            change_type: cmd.change_type,
            title: cmd.title,
            description: cmd.description,
            affected_services: cmd.affected_services,
            maintenance_type: cmd.maintenance_type,
            linked_faults: self.linked_faults,
        })]
    }
}

/// Validates a new change and records its draft under `id` and `number`:
/// [`ValidDraft::check`] then [`ValidDraft::record`].
pub fn draft(
    id: Uuid,
    number: &str,
    cmd: &DraftChange,
    linked_faults: Vec<TicketRef>,
    now: DateTime<Utc>,
) -> Result<Vec<ChangeEvent>, DomainError> {
    Ok(ValidDraft::check(cmd, linked_faults)?.record(id, number, now))
}

/// Decides a command by `actor` against the change's current state.
///
/// `now` is not used yet; see [`draft`].
pub fn decide(
    state: &Change,
    cmd: &ChangeCommand,
    actor: &str,
    _now: DateTime<Utc>,
) -> Result<Vec<ChangeEvent>, DomainError> {
    validate(state, cmd)?;

    let status = state.status;
    let emergency = state.change_type == ChangeType::Emergency;
    if matches!(cmd, ChangeCommand::Approve(_) | ChangeCommand::Reject(_)) && state.change_type == ChangeType::Standard
    {
        return Err(DomainError::RuleViolated(messages::rule_standard_change_pre_approved()));
    }
    let allowed = match cmd {
        ChangeCommand::Amend(_) => matches!(status, Draft | Submitted),
        ChangeCommand::Submit(_) => status == Draft,
        ChangeCommand::Assess(_) => status == Submitted,
        ChangeCommand::AmendPlan(_) => matches!(status, Assessed | Approved | Rejected),
        // An emergency change may be approved after the fact, at any point
        // from its assessment to its review.
        ChangeCommand::Approve(_) | ChangeCommand::Reject(_) if emergency => matches!(
            status,
            Assessed
                | Approved
                | Rejected
                | ChangeStatus::Scheduled
                | Implementing
                | Completed
                | RolledBack
                | Failed
                | Reviewed
        ),
        ChangeCommand::Approve(_) | ChangeCommand::Reject(_) => status == Assessed,
        ChangeCommand::Assign(_) => status != Closed,
        ChangeCommand::AuthoriseStart(_) => status == ChangeStatus::Scheduled,
        ChangeCommand::RecordRolloutStep(_) | ChangeCommand::Complete(_) => status == Implementing,
        ChangeCommand::RollBack(_) => matches!(status, Implementing | Completed),
        ChangeCommand::Fail(_) => status == Implementing,
        ChangeCommand::Review(_) => matches!(status, Completed | RolledBack | Failed),
        ChangeCommand::Close(_) => matches!(
            status,
            Draft | Submitted | Assessed | Approved | Rejected | Completed | RolledBack | Failed | Reviewed
        ),
        ChangeCommand::AddNote(_) => status != Closed,
    };
    if !allowed {
        return Err(invalid(status, cmd.name()));
    }

    let event = match cmd {
        ChangeCommand::Amend(c) => ChangeEvent::Amended(ChangeAmended {
            title: c.title.clone(),
            description: c.description.clone(),
            affected_services: c.affected_services.clone(),
            maintenance_type: c.maintenance_type,
        }),
        ChangeCommand::Submit(_) => ChangeEvent::Submitted(ChangeSubmitted {}),
        ChangeCommand::Assess(c) => ChangeEvent::Assessed(planned(c)),
        ChangeCommand::AmendPlan(c) => ChangeEvent::PlanAmended(planned(c)),
        ChangeCommand::Approve(c) => {
            let plan_hash = judge(state, actor, messages::rule_requester_cannot_approve())?;
            let again = state
                .approvals
                .iter()
                .any(|a| a.by == actor && a.plan_hash == plan_hash);
            if again {
                return Err(DomainError::RuleViolated(messages::rule_already_approved_by_you()));
            }
            ChangeEvent::Approved(ChangeApproved {
                comment: c.comment.clone(),
                plan_hash,
            })
        }
        ChangeCommand::Reject(c) => ChangeEvent::Rejected(ChangeRejected {
            comment: c.comment.clone(),
            plan_hash: judge(state, actor, messages::rule_requester_cannot_reject())?,
        }),
        ChangeCommand::Assign(c) => {
            if state.assignee.as_deref() == Some(c.assignee.as_str()) {
                // An event that changes nothing would only add noise to the
                // history and make retries look like real reassignments.
                return Err(DomainError::RuleViolated(messages::rule_already_the_assignee(
                    &c.assignee,
                )));
            }
            ChangeEvent::Assigned(ChangeAssigned {
                assignee: c.assignee.clone(),
            })
        }
        ChangeCommand::AuthoriseStart(c) => {
            if emergency {
                return Err(DomainError::RuleViolated(
                    messages::rule_emergency_needs_no_authorisation(),
                ));
            }
            // Four eyes, as for approvals: whoever asked for the change does
            // not also waive its window.
            if actor == state.requester {
                return Err(DomainError::RuleViolated(messages::rule_requester_cannot_authorise()));
            }
            if let Some(given) = &state.start_authorisation {
                return Err(DomainError::RuleViolated(messages::rule_start_already_authorised(
                    &given.by,
                    given.at.to_rfc3339(),
                )));
            }
            let window = scheduled_window(state)?;
            ChangeEvent::StartAuthorised(ChangeStartAuthorised {
                reason: c.reason.clone(),
                window_start: window.start,
                window_end: window.end,
            })
        }
        ChangeCommand::RecordRolloutStep(c) => {
            if let Some(last) = state.rollout.last().filter(|s| s.kind.is_final()) {
                return Err(DomainError::RuleViolated(messages::rule_rollout_ended(
                    last.kind.as_str(),
                )));
            }
            let previous = state
                .rollout
                .iter()
                .filter(|s| s.kind == RolloutStepKind::Canary)
                .filter_map(|s| s.percent)
                .max();
            if let (Some(previous), Some(percent)) = (previous, c.percent)
                && percent <= previous
            {
                return Err(DomainError::RuleViolated(messages::rule_canary_must_grow(
                    previous, percent,
                )));
            }
            ChangeEvent::RolloutStepRecorded(ChangeRolloutStepRecorded {
                kind: c.kind,
                percent: c.percent,
                note: c.note.clone(),
            })
        }
        ChangeCommand::Complete(_) => {
            if !state.rollout.last().is_some_and(|s| s.kind.is_final()) {
                return Err(DomainError::RuleViolated(messages::rule_complete_needs_final_step()));
            }
            ChangeEvent::Completed(ChangeCompleted {})
        }
        ChangeCommand::RollBack(c) => ChangeEvent::RolledBack(ChangeRolledBack {
            reason: c.reason.clone(),
        }),
        ChangeCommand::Fail(c) => ChangeEvent::Failed(ChangeFailed {
            reason: c.reason.clone(),
        }),
        ChangeCommand::Review(c) => ChangeEvent::Reviewed(ChangeReviewed {
            outcome: c.outcome,
            went_well: c.went_well.clone(),
            went_wrong: c.went_wrong.clone(),
            follow_up_actions: c.follow_up_actions.clone(),
        }),
        ChangeCommand::Close(c) => {
            if matches!(status, Completed | RolledBack | Failed) && state.requires_review() {
                return Err(DomainError::RuleViolated(messages::rule_close_needs_change_review(
                    state.change_type.as_str(),
                )));
            }
            if emergency && state.implementation_started_at.is_some() && !state.is_approved() {
                return Err(DomainError::RuleViolated(
                    messages::rule_emergency_close_needs_approval(),
                ));
            }
            ChangeEvent::Closed(ChangeClosed {
                reason: c.reason.clone(),
            })
        }
        ChangeCommand::AddNote(c) => ChangeEvent::NoteAdded(ChangeNoteAdded { body: c.body.clone() }),
    };
    Ok(vec![event])
}

/// Schedules (or reschedules) the change: [`ValidSchedule::check`], then
/// [`ValidSchedule::decide`].
pub fn schedule(
    state: &Change,
    cmd: &ScheduleChange,
    freezes: &FreezeCalendar,
    calendars: &[ServiceCalendar],
    now: DateTime<Utc>,
) -> Result<Scheduled, DomainError> {
    ValidSchedule::check(cmd, now)?.decide(state, freezes, calendars)
}

/// A scheduling request whose fields the domain accepts: its window is
/// known before the caller reads the bookings and freezes that overlap it.
#[derive(Debug, Clone)]
pub struct ValidSchedule {
    cmd: ScheduleChange,
    zone: chrono_tz::Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl ValidSchedule {
    /// Checks the request's fields at `now`, and reports every bad one at once.
    pub fn check(cmd: &ScheduleChange, now: DateTime<Utc>) -> Result<ValidSchedule, DomainError> {
        let mut v = Validator::new();
        let window = zoned::parse_window(
            &mut v,
            (&cmd.start, &cmd.end, cmd.time_zone.as_deref()),
            now,
            MAX_WINDOW,
            messages::field_window_over(),
        );
        text::check_opt(&mut v, "/override_reason", cmd.override_reason.as_deref(), LONG_TEXT);
        if cmd.override_conflicts && cmd.override_reason.is_none() {
            v.push("/override_reason", messages::field_override_needs_reason());
        }
        v.finish()?;
        let Some(zoned::Window { zone, start, end }) = window else {
            return Err(DomainError::Validation(Vec::new()));
        };
        Ok(ValidSchedule {
            cmd: cmd.clone(),
            zone,
            start,
            end,
        })
    }

    /// The requested window, `[start, end)` in UTC.
    pub fn window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.start, self.end)
    }

    /// Schedules the change into the window: the change's event plus one
    /// booking per affected service. `calendars` holds, for each affected
    /// service, at least its bookings that overlap the window (a missing
    /// one counts as empty); `freezes` at least the freeze windows that do.
    pub fn decide(
        self,
        state: &Change,
        freezes: &FreezeCalendar,
        calendars: &[ServiceCalendar],
    ) -> Result<Scheduled, DomainError> {
        let ValidSchedule { cmd, zone, start, end } = self;
        let cmd = &cmd;
        let allowed = match state.change_type {
            ChangeType::Normal => matches!(state.status, Approved | ChangeStatus::Scheduled),
            ChangeType::Standard | ChangeType::Emergency => {
                matches!(state.status, Assessed | Approved | ChangeStatus::Scheduled)
            }
        };
        if !allowed {
            return Err(invalid(state.status, "schedule"));
        }

        let frozen = freezes.active_overlapping(&state.affected_services, start, end);
        let freezes_overridden = if frozen.is_empty() {
            Vec::new()
        } else if state.change_type == ChangeType::Emergency {
            frozen.iter().map(|w| w.id).collect()
        } else {
            let w = frozen[0];
            return Err(DomainError::RuleViolated(match &w.service {
                Some(service) => {
                    messages::window_in_freeze_on_service(w.id, &w.reason, &w.start_local, &w.end_local, service)
                }
                None => messages::window_in_freeze_everywhere(w.id, &w.reason, &w.start_local, &w.end_local),
            }));
        };

        // Conflicts per service, in the order of the affected services; the
        // change's own booking is the one being moved, never a conflict.
        let per_service: Vec<Vec<TicketRef>> = state
            .affected_services
            .iter()
            .map(|service| {
                calendars
                    .iter()
                    .filter(|c| &c.service == service)
                    .flat_map(|c| &c.bookings)
                    .filter(|b| b.change.id != state.id && b.overlaps(start, end))
                    .map(|b| b.change.clone())
                    .collect()
            })
            .collect();
        let mut conflicts: Vec<TicketRef> = Vec::new();
        for t in per_service.iter().flatten() {
            if !conflicts.iter().any(|c| c.id == t.id) {
                conflicts.push(t.clone());
            }
        }
        if !conflicts.is_empty() && !cmd.override_conflicts {
            let numbers: Vec<&str> = conflicts.iter().map(|c| c.number.as_str()).collect();
            return Err(DomainError::ScheduleConflict {
                detail: messages::window_taken(numbers.join(", ")),
                conflicts,
            });
        }
        let override_reason = if cmd.override_conflicts {
            cmd.override_reason.clone()
        } else {
            None
        };

        let me = state.ticket_ref();
        let bookings = state
            .affected_services
            .iter()
            .zip(per_service)
            .map(|(service, overrides)| {
                CalendarEvent::Booked(CalendarBooked {
                    service: service.clone(),
                    change: me.clone(),
                    start,
                    end,
                    override_reason: override_reason.clone().filter(|_| !overrides.is_empty()),
                    overrides,
                })
            })
            .collect();
        let scheduled = ChangeEvent::Scheduled(ChangeScheduled {
            start,
            end,
            time_zone: zone.name().to_owned(),
            override_reason: override_reason.filter(|_| !conflicts.is_empty()),
            overrides: conflicts,
            freezes_overridden,
        });
        Ok(Scheduled {
            change: vec![scheduled],
            bookings,
        })
    }
}

/// Starts implementing a scheduled change at `now`.
///
/// Normal and standard changes only get here approved (scheduling requires
/// it), and start inside their window, or outside it once a manager has
/// authorised that; either way not while an active freeze window on one of
/// their services overlaps the work still planned, from `now` to the end of
/// the window: that freeze was declared after the change was scheduled
/// (scheduling refuses freezes), and the change must be moved or the freeze
/// lifted. Emergency changes may start at once, freeze or not, and be
/// approved later. `freezes` holds at least the freeze windows overlapping
/// that span.
pub fn start_implementation(
    state: &Change,
    _cmd: &StartImplementation,
    freezes: &FreezeCalendar,
    now: DateTime<Utc>,
) -> Result<Vec<ChangeEvent>, DomainError> {
    if state.status != ChangeStatus::Scheduled {
        return Err(invalid(state.status, "start implementing"));
    }
    let started = vec![ChangeEvent::ImplementationStarted(ChangeImplementationStarted {})];
    if state.change_type == ChangeType::Emergency {
        return Ok(started);
    }
    let window = scheduled_window(state)?;
    let inside = window.start <= now && now < window.end;
    if !inside && state.start_authorisation.is_none() {
        let (change, start, end, zone) = (&state.number, &window.start_local, &window.end_local, &window.time_zone);
        let now_local = zoned::local(now, zone);
        return Err(DomainError::OutsideWindow {
            detail: if now < window.start {
                messages::window_not_yet_open(change, start, end, zone, now_local)
            } else {
                messages::window_closed(change, start, end, zone, now_local)
            },
            window: Box::new(RefusingWindow {
                kind: RefusingWindowKind::Change,
                freeze_id: None,
                start: window.start,
                end: window.end,
                time_zone: window.time_zone.clone(),
                start_local: window.start_local.clone(),
                end_local: window.end_local.clone(),
                reason: None,
            }),
        });
    }
    let (from, until) = remaining_work(window, now);
    if let Some(freeze) = freezes
        .active_overlapping(&state.affected_services, from, until)
        .first()
    {
        // Shown in the change's zone, which the people starting it work in.
        let zone = &window.time_zone;
        let (start_local, end_local) = (zoned::local(freeze.start, zone), zoned::local(freeze.end, zone));
        return Err(DomainError::Frozen {
            detail: match &freeze.service {
                Some(service) => messages::window_frozen_on_service(
                    freeze.id,
                    &freeze.reason,
                    service,
                    &start_local,
                    &end_local,
                    &state.number,
                ),
                None => messages::window_frozen_everywhere(
                    freeze.id,
                    &freeze.reason,
                    &start_local,
                    &end_local,
                    &state.number,
                ),
            },
            window: Box::new(RefusingWindow {
                kind: RefusingWindowKind::Freeze,
                freeze_id: Some(freeze.id),
                start: freeze.start,
                end: freeze.end,
                time_zone: zone.clone(),
                start_local,
                end_local,
                reason: Some(freeze.reason.clone()),
            }),
        });
    }
    Ok(started)
}

/// The span a start at `now` commits the services to, which a freeze must
/// not overlap: from `now` to the end of the change's window, or the
/// instant `now` alone when an authorised start comes after the window.
pub fn remaining_work(window: &ScheduledWindow, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now, window.end.max(now + TimeDelta::microseconds(1)))
}

/// The window of a change whose status is scheduled.
fn scheduled_window(state: &Change) -> Result<&ScheduledWindow, DomainError> {
    // Only a view folded from a tampered stream could lack one.
    state
        .window
        .as_ref()
        .ok_or_else(|| DomainError::RuleViolated(messages::rule_scheduled_without_window(&state.number)))
}

/// Takes a scheduled change off the calendars: the change's event plus one
/// release per affected service.
pub fn unschedule(state: &Change, cmd: &Unschedule) -> Result<(Vec<ChangeEvent>, Vec<CalendarEvent>), DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.finish()?;
    if state.status != ChangeStatus::Scheduled {
        return Err(invalid(state.status, "unschedule"));
    }
    let me = state.ticket_ref();
    let releases = state
        .affected_services
        .iter()
        .map(|service| {
            CalendarEvent::Released(CalendarReleased {
                service: service.clone(),
                change: me.clone(),
                reason: cmd.reason.clone(),
            })
        })
        .collect();
    Ok((
        vec![ChangeEvent::Unscheduled(ChangeUnscheduled {
            reason: cmd.reason.clone(),
        })],
        releases,
    ))
}

/// The checks approving and rejecting share; returns the current plan's
/// hash. `own_change` is the refusal of a requester judging their own change.
fn judge(state: &Change, actor: &str, own_change: Message) -> Result<String, DomainError> {
    // Four eyes: whoever asked for the change cannot also let it through.
    if actor == state.requester {
        return Err(DomainError::RuleViolated(own_change));
    }
    // Assessment always records a plan; only a view folded from a tampered
    // stream could lack one here.
    state
        .plan_hash
        .clone()
        .ok_or_else(|| DomainError::RuleViolated(messages::rule_change_has_no_plan()))
}

fn planned(c: &Assess) -> ChangePlanned {
    ChangePlanned {
        risk: c.risk,
        impact: c.impact.clone(),
        implementation_plan: c.implementation_plan.clone(),
        test_plan: c.test_plan.clone(),
        test_evidence: c.test_evidence.clone(),
        rollback_plan: c.rollback_plan.clone(),
    }
}

fn invalid(status: ChangeStatus, command: &'static str) -> DomainError {
    DomainError::InvalidTransition {
        aggregate: "change",
        state: status.as_str(),
        command,
    }
}

/// Field checks. The only one that looks at the state is close's "a
/// withdrawal needs a reason", about a field the command may leave out only
/// when the change was implemented.
fn validate(state: &Change, cmd: &ChangeCommand) -> Result<(), DomainError> {
    let mut v = Validator::new();
    match cmd {
        ChangeCommand::Amend(c) => {
            text::check_opt(&mut v, "/title", c.title.as_deref(), TITLE);
            text::check_opt(&mut v, "/description", c.description.as_deref(), LONG_TEXT);
            if let Some(services) = &c.affected_services {
                check_services(&mut v, services);
            }
            if c.title.is_none()
                && c.description.is_none()
                && c.affected_services.is_none()
                && c.maintenance_type.is_none()
            {
                v.push("", messages::field_give_amendment());
            }
        }
        ChangeCommand::Submit(_) | ChangeCommand::Complete(_) => {}
        ChangeCommand::AuthoriseStart(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
        ChangeCommand::Assess(c) | ChangeCommand::AmendPlan(c) => {
            text::check(&mut v, "/impact", &c.impact, LONG_TEXT);
            text::check(&mut v, "/implementation_plan", &c.implementation_plan, LONG_TEXT);
            text::check(&mut v, "/test_plan", &c.test_plan, LONG_TEXT);
            text::check_opt(&mut v, "/test_evidence", c.test_evidence.as_deref(), LONG_TEXT);
            text::check(&mut v, "/rollback_plan", &c.rollback_plan, LONG_TEXT);
        }
        ChangeCommand::Approve(c) => text::check(&mut v, "/comment", &c.comment, LONG_TEXT),
        ChangeCommand::Reject(c) => text::check(&mut v, "/comment", &c.comment, LONG_TEXT),
        ChangeCommand::Assign(c) => text::check(&mut v, "/assignee", &c.assignee, LABEL),
        ChangeCommand::RecordRolloutStep(c) => {
            match (c.kind, c.percent) {
                (RolloutStepKind::Canary, None) => v.push("/percent", messages::field_canary_needs_percent()),
                (RolloutStepKind::Canary, Some(p)) => {
                    v.check((1..=99).contains(&p), "/percent", messages::field_between(1, 99));
                }
                (kind, Some(_)) => v.push("/percent", messages::field_percent_only_for_canary(kind.as_str())),
                (_, None) => {}
            }
            text::check_opt(&mut v, "/note", c.note.as_deref(), LONG_TEXT);
        }
        ChangeCommand::RollBack(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
        ChangeCommand::Fail(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
        ChangeCommand::Review(c) => {
            text::check(&mut v, "/went_well", &c.went_well, LONG_TEXT);
            text::check(&mut v, "/went_wrong", &c.went_wrong, LONG_TEXT);
            if c.follow_up_actions.len() > MAX_FOLLOW_UP_ACTIONS {
                v.push(
                    "/follow_up_actions",
                    messages::field_too_many_items(MAX_FOLLOW_UP_ACTIONS, c.follow_up_actions.len()),
                );
            }
            for (i, a) in c.follow_up_actions.iter().enumerate() {
                text::check(
                    &mut v,
                    &format!("/follow_up_actions/{i}/description"),
                    &a.description,
                    LONG_TEXT,
                );
                text::check(&mut v, &format!("/follow_up_actions/{i}/owner"), &a.owner, LABEL);
            }
        }
        ChangeCommand::Close(c) => {
            text::check_opt(&mut v, "/reason", c.reason.as_deref(), LONG_TEXT);
            let withdrawal = matches!(state.status, Draft | Submitted | Assessed | Approved | Rejected);
            if withdrawal && c.reason.is_none() {
                v.push("/reason", messages::field_withdrawal_needs_reason());
            }
        }
        ChangeCommand::AddNote(c) => text::check(&mut v, "/body", &c.body, LONG_TEXT),
    }
    v.finish()
}

/// Checks the affected services: 1 to 20 labels, no duplicates.
fn check_services(v: &mut Validator, services: &[String]) {
    if services.is_empty() || services.len() > MAX_AFFECTED_SERVICES {
        v.push(
            "/affected_services",
            messages::field_item_count(1, MAX_AFFECTED_SERVICES, services.len()),
        );
    }
    for (i, service) in services.iter().enumerate() {
        let pointer = format!("/affected_services/{i}");
        text::check(v, &pointer, service, LABEL);
        if services[..i].contains(service) {
            v.push(&pointer, messages::field_listed_twice(service));
        }
    }
}
