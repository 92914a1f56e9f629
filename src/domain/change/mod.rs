//! Changes: planned work on one or more services. A change is drafted by
//! its requester, submitted, assessed (which records its plan and risk),
//! approved or rejected, scheduled on the affected services' calendars
//! (outside freeze windows), implemented step by step, completed, rolled
//! back or failed, reviewed after the fact, and closed.
//!
//! The shape is the usual one for this crate: [`draft`], [`decide`],
//! [`schedule`] and [`unschedule`] turn a command into events (or refuse
//! it), [`evolve`] folds events into the [`Change`] view. Scheduling also
//! produces events for each affected service's calendar stream
//! ([`calendar`]), and is checked against the freeze windows ([`freeze`]).
//! Everything here is pure; the caller supplies the clock, the identifiers,
//! the envelope facts and the other streams' current views.

pub mod calendar;
mod command;
mod decide;
mod event;
pub mod freeze;
mod state;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use command::{
    AddNote, AmendChange, AmendPlan, Approve, Assess, Assign, AuthoriseStart, ChangeCommand, Close, Complete,
    DraftChange, Fail, FollowUpAction, RecordRolloutStep, Reject, Review, RollBack, ScheduleChange,
    StartImplementation, Submit, Unschedule,
};
pub use decide::{
    Scheduled, ValidDraft, ValidSchedule, decide, draft, remaining_work, schedule, start_implementation, unschedule,
};
pub use event::{
    ChangeAmended, ChangeApproved, ChangeAssigned, ChangeClosed, ChangeCompleted, ChangeDrafted, ChangeEvent,
    ChangeFailed, ChangeImplementationStarted, ChangeNoteAdded, ChangePlanned, ChangeRejected, ChangeReviewed,
    ChangeRolledBack, ChangeRolloutStepRecorded, ChangeScheduled, ChangeStartAuthorised, ChangeSubmitted,
    ChangeUnscheduled,
};
pub use state::{
    Approval, Change, ChangeNote, ChangeStatus, Closure, Outcome, Plan, PostImplementationReview, Rejection,
    RolloutStep, ScheduledWindow, StartAuthorisation, evolve,
};

/// The window that refused a change's start, as a problem names it: the
/// change's own scheduled window, or a freeze window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RefusingWindow {
    /// `change` for the change's own scheduled window, `freeze` for a freeze
    /// window.
    pub kind: RefusingWindowKind,
    /// The freeze window's id; absent for the change's own window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeze_id: Option<uuid::Uuid>,
    /// When the window starts (RFC 3339 date-time, UTC).
    pub start: chrono::DateTime<chrono::Utc>,
    /// When the window ends, exclusive (RFC 3339 date-time, UTC).
    pub end: chrono::DateTime<chrono::Utc>,
    /// IANA zone name of `start_local` and `end_local`.
    pub time_zone: String,
    /// `start` in `time_zone`, RFC 3339.
    pub start_local: String,
    /// `end` in `time_zone`, RFC 3339.
    pub end_local: String,
    /// Why the freeze was declared; absent for the change's own window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Which kind of window refused a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusingWindowKind {
    /// The window the change was scheduled for.
    Change,
    /// A freeze window.
    Freeze,
}

/// How a change is authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// Routine, low-risk work done the same way every time: pre-approved.
    Standard,
    /// Needs approval before it is scheduled.
    Normal,
    /// Cannot wait: may be scheduled and implemented first and approved
    /// retrospectively, but not closed before that.
    Emergency,
}

impl ChangeType {
    pub const ALL: [ChangeType; 3] = [ChangeType::Standard, ChangeType::Normal, ChangeType::Emergency];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Standard => "standard",
            ChangeType::Normal => "normal",
            ChangeType::Emergency => "emergency",
        }
    }
}

/// The assessed risk of a change; high risk needs two approvers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    pub const ALL: [Risk; 3] = [Risk::Low, Risk::Medium, Risk::High];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// How the post-implementation review judged the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Successful,
    PartiallySuccessful,
    Failed,
}

impl ReviewOutcome {
    pub const ALL: [ReviewOutcome; 3] = [
        ReviewOutcome::Successful,
        ReviewOutcome::PartiallySuccessful,
        ReviewOutcome::Failed,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Successful => "successful",
            ReviewOutcome::PartiallySuccessful => "partially_successful",
            ReviewOutcome::Failed => "failed",
        }
    }
}

/// One step of rolling a change out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStepKind {
    /// A share of the traffic or fleet, given as a percentage.
    Canary,
    /// Traffic switched over to the new environment at once. Final.
    BlueGreenSwitch,
    /// Everything on the new version. Final.
    FullRollout,
}

impl RolloutStepKind {
    pub const ALL: [RolloutStepKind; 3] = [
        RolloutStepKind::Canary,
        RolloutStepKind::BlueGreenSwitch,
        RolloutStepKind::FullRollout,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStepKind::Canary => "canary",
            RolloutStepKind::BlueGreenSwitch => "blue_green_switch",
            RolloutStepKind::FullRollout => "full_rollout",
        }
    }

    /// Whether the step puts the change fully in place, so that nothing may
    /// follow it and the change may be completed.
    pub fn is_final(self) -> bool {
        !matches!(self, RolloutStepKind::Canary)
    }
}
