//! What a caller can ask of a fault. Field names are the JSON body field
//! names, so validation pointers can name them directly.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DetectedBy;
use crate::domain::maintenance::MaintenanceType;

/// Reports a new fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportFault {
    /// 1 to 200 characters.
    pub title: String,
    /// What is broken and how it shows, 1 to 10,000 characters.
    pub description: String,
    /// The service that is affected, 1 to 100 characters.
    pub affected_service: String,
    pub detected_by: DetectedBy,
}

/// Escalates a complaint to a new fault, reported from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateComplaint {
    /// The fault's title, 1 to 200 characters; the complaint's title if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The fault as staff understand it, 1 to 10,000 characters. Not the
    /// complainant's words: faults hold no personal data.
    pub description: String,
    /// 1 to 100 characters.
    pub affected_service: String,
}

/// Sets or changes the fault's severity and evaluator, and optionally its
/// technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Triage {
    /// 1 (critical) to 4 (low). A severity 1 fault needs a technician:
    /// give one here unless one is already assigned.
    #[schema(minimum = 1, maximum = 4)]
    pub severity: u8,
    /// Actor id of who evaluates the fault; only they may record the
    /// evaluation. 1 to 100 characters.
    pub evaluator: String,
    /// Assigns a technician at the same time, 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician: Option<String>,
}

/// Records the evaluator's assessment of the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evaluate {
    /// What kind of fault this is, 1 to 10,000 characters.
    pub nature: String,
    /// More than 0.
    #[schema(minimum = 1)]
    pub estimated_effort_minutes: u32,
    /// 1 (most urgent) to 4.
    #[schema(minimum = 1, maximum = 4)]
    pub proposed_priority: u8,
}

/// Assigns the technician who works on the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTechnician {
    /// 1 to 100 characters.
    pub technician: String,
}

/// Starts investigating a triaged fault; needs a technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartInvestigation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Records a workaround that limits the fault's impact until it is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mitigate {
    pub workaround: String,
}

/// Records how the fault was resolved and why it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultResolve)]
pub struct Resolve {
    pub resolution: String,
    pub root_cause: String,
}

/// Closes a resolved fault. Severity 1 and 2 faults need a post-incident
/// review first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultClose)]
pub struct Close {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Takes a resolved or closed fault back into investigation, because the
/// resolution did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultReopen)]
pub struct Reopen {
    pub reason: String,
}

/// Records one piece of repair work on the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogRepair {
    /// Who did the work, 1 to 100 characters.
    pub technician: String,
    pub action_taken: String,
    pub started_at: DateTime<Utc>,
    /// After `started_at`, and not in the future.
    pub ended_at: DateTime<Utc>,
    /// Working time of everyone involved; more than 0. Not derived from the
    /// start and end: two people for an hour are 120 person-minutes.
    #[schema(minimum = 1)]
    pub person_minutes: u32,
    pub maintenance_type: MaintenanceType,
    /// Parts used, each 1 to 100 characters, at most 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<String>,
}

/// One follow-up action of a post-incident review, as the command gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActionItem {
    pub description: String,
    /// Who is responsible for it, 1 to 100 characters.
    pub owner: String,
    pub due_on: NaiveDate,
}

/// Writes the post-incident review of a resolved or closed fault. A fault
/// has at most one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteReview {
    pub summary: String,
    pub root_cause: String,
    /// At most 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributing_factors: Vec<String>,
    /// At most 100; numbered from 1 in the order given.
    pub action_items: Vec<NewActionItem>,
}

/// Marks one action item of the review as done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteActionItem {
    /// The item's number in the review, from 1.
    pub item: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Adds an internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultAddNote)]
pub struct AddNote {
    pub body: String,
}

/// Every command on an existing fault. The HTTP layer builds it from the
/// route and the body, so it is never deserialized as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultCommand {
    Triage(Triage),
    Evaluate(Evaluate),
    AssignTechnician(AssignTechnician),
    StartInvestigation(StartInvestigation),
    Mitigate(Mitigate),
    Resolve(Resolve),
    Close(Close),
    Reopen(Reopen),
    LogRepair(LogRepair),
    WriteReview(WriteReview),
    CompleteActionItem(CompleteActionItem),
    AddNote(AddNote),
}

impl FaultCommand {
    /// Whether the command commutes with concurrent ones: it adds to the
    /// ticket without depending on its state, so it needs no `If-Match`
    /// and applies to whatever version is current.
    pub fn commutes(&self) -> bool {
        matches!(
            self,
            FaultCommand::LogRepair(_) | FaultCommand::CompleteActionItem(_) | FaultCommand::AddNote(_)
        )
    }

    /// A verb phrase that reads well in "cannot {name} a fault that is {state}".
    pub fn name(&self) -> &'static str {
        match self {
            FaultCommand::Triage(_) => "triage",
            FaultCommand::Evaluate(_) => "evaluate",
            FaultCommand::AssignTechnician(_) => "assign a technician to",
            FaultCommand::StartInvestigation(_) => "start investigating",
            FaultCommand::Mitigate(_) => "mitigate",
            FaultCommand::Resolve(_) => "resolve",
            FaultCommand::Close(_) => "close",
            FaultCommand::Reopen(_) => "reopen",
            FaultCommand::LogRepair(_) => "log a repair on",
            FaultCommand::WriteReview(_) => "write a review of",
            FaultCommand::CompleteActionItem(_) => "complete an action item of",
            FaultCommand::AddNote(_) => "add a note to",
        }
    }
}
