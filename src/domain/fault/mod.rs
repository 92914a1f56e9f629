//! Faults: something broken in a service. A fault is reported (by
//! monitoring, by staff, or escalated from a customer's complaint), triaged
//! to a severity and an evaluator, investigated by a technician, perhaps
//! mitigated with a workaround, resolved with its root cause, reviewed after
//! the fact, and closed; a resolution that does not hold can be reopened.
//! Repairs are logged along the way with the person-minutes they took.
//!
//! The shape is the usual one for this crate: [`report`], [`escalate`] and
//! [`decide`] turn a command into events (or refuse it), [`evolve`] folds
//! events into the [`Fault`] view. Both sides are pure; the caller supplies
//! the clock, the identifiers and the envelope facts.
//!
//! Faults hold no personal data: what a complainant said stays on the
//! complaint, and an escalation carries only staff-written text.

mod command;
mod decide;
mod event;
mod state;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use command::{
    AddNote, AssignTechnician, Close, CompleteActionItem, CorrectAffectedService, EscalateComplaint, Evaluate,
    FaultCommand, LogRepair, Mitigate, NewActionItem, Reopen, ReportFault, Resolve, StartInvestigation, Triage,
    VoidRepair, WriteReview,
};
pub use decide::{Escalation, ValidReport, decide, escalate, report};
pub use event::{
    FaultActionItemCompleted, FaultAffectedServiceCorrected, FaultClosed, FaultEvaluated, FaultEvent,
    FaultInvestigationStarted, FaultMitigated, FaultNoteAdded, FaultReopened, FaultRepairLogged, FaultRepairVoided,
    FaultReported, FaultResolved, FaultReviewWritten, FaultTechnicianAssigned, FaultTriaged, ReviewActionItem,
};
pub use state::{
    ActionItem, ActionItemDone, AffectedServiceCorrection, Evaluation, Fault, FaultNote, FaultResolution, FaultStatus,
    PersonMinutes, Repair, Review, Voiding, evolve,
};

/// How the fault came to our attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DetectedBy {
    /// An alert from monitoring.
    Monitoring,
    /// A customer complained; escalated faults always say this.
    CustomerComplaint,
    /// A scheduled or ad-hoc inspection.
    Inspection,
    /// A member of staff noticed it.
    Staff,
}

impl DetectedBy {
    pub const ALL: [DetectedBy; 4] = [
        DetectedBy::Monitoring,
        DetectedBy::CustomerComplaint,
        DetectedBy::Inspection,
        DetectedBy::Staff,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectedBy::Monitoring => "monitoring",
            DetectedBy::CustomerComplaint => "customer_complaint",
            DetectedBy::Inspection => "inspection",
            DetectedBy::Staff => "staff",
        }
    }
}
