//! What a caller can ask of a change. Field names are the JSON body field
//! names, so validation pointers can name them directly.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ChangeType, ReviewOutcome, Risk, RolloutStepKind};
use crate::domain::maintenance::MaintenanceType;

/// Drafts a new change; whoever drafts it is its requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftChange {
    /// 1 to 200 characters.
    pub title: String,
    /// What will change and why, 1 to 10,000 characters.
    pub description: String,
    /// The services the change touches: 1 to 20, each 1 to 100 characters,
    /// no duplicates. Each gets a booking on its calendar when scheduled.
    pub affected_services: Vec<String>,
    pub maintenance_type: MaintenanceType,
    pub change_type: ChangeType,
    /// Faults the change addresses, by id or number, at most 50; the
    /// application resolves them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_faults: Vec<String>,
}

/// Amends a draft or submitted change; give at least one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendChange {
    /// 1 to 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 1 to 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Replaces the list: 1 to 20, each 1 to 100 characters, no duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_services: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_type: Option<MaintenanceType>,
}

/// Submits a draft for assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submit {}

/// Assesses a submitted change: records its plan. Also the body of
/// [`AmendPlan`], which replaces the whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assess {
    /// High risk needs two approvers.
    pub risk: Risk,
    /// Who and what is affected while the change is made, 1 to 10,000 characters.
    pub impact: String,
    /// 1 to 10,000 characters.
    pub implementation_plan: String,
    /// 1 to 10,000 characters.
    pub test_plan: String,
    /// Results of tests already run, 1 to 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_evidence: Option<String>,
    /// How to undo the change, 1 to 10,000 characters.
    pub rollback_plan: String,
}

/// Replaces the plan of an assessed, approved or rejected change; the change
/// goes back to assessed and earlier approvals stop counting.
pub type AmendPlan = Assess;

/// Approves the change's current plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    /// 1 to 10,000 characters.
    pub comment: String,
}

/// Rejects the change's current plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    /// Why, 1 to 10,000 characters.
    pub comment: String,
}

/// Assigns the person who implements the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeAssign)]
pub struct Assign {
    /// Actor id, 1 to 100 characters.
    pub assignee: String,
}

/// Books the change's window on every affected service's calendar, or
/// moves an existing booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleChange {
    /// RFC 3339 with an offset, or a local `YYYY-MM-DDTHH:MM[:SS]` in `time_zone`.
    pub start: String,
    /// As `start`; after it, in the future, and at most 30 days later.
    pub end: String,
    /// IANA zone name for local times and for display; `Asia/Shanghai` if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Books the window even though it overlaps other changes' bookings.
    #[serde(default)]
    pub override_conflicts: bool,
    /// Required with `override_conflicts`, 1 to 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

/// Takes a scheduled change off the calendars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unschedule {
    /// 1 to 10,000 characters.
    pub reason: String,
}

/// Starts implementing a scheduled change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartImplementation {}

/// Records one rollout step of a change being implemented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRolloutStep {
    /// `blue_green_switch` and `full_rollout` are final: nothing follows them.
    pub kind: RolloutStepKind,
    /// Canary only, and required there: 1 to 99, more than any earlier canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 99)]
    pub percent: Option<u8>,
    /// 1 to 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Completes a change whose last rollout step was final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Complete {}

/// Records that a change being implemented, or completed, was rolled back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollBack {
    /// 1 to 10,000 characters.
    pub reason: String,
}

/// Records that the implementation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fail {
    /// 1 to 10,000 characters.
    pub reason: String,
}

/// One follow-up action of a post-implementation review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpAction {
    /// 1 to 10,000 characters.
    pub description: String,
    /// Who is responsible for it, 1 to 100 characters.
    pub owner: String,
    pub due_on: NaiveDate,
}

/// Writes the post-implementation review of a completed, rolled back or
/// failed change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeReview)]
pub struct Review {
    pub outcome: ReviewOutcome,
    /// 1 to 10,000 characters.
    pub went_well: String,
    /// 1 to 10,000 characters.
    pub went_wrong: String,
    /// At most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_up_actions: Vec<FollowUpAction>,
}

/// Closes a reviewed change, a standard change after implementation, or
/// withdraws one that was never implemented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeClose)]
pub struct Close {
    /// 1 to 10,000 characters; required to withdraw a change that was never
    /// implemented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Adds a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeAddNote)]
pub struct AddNote {
    /// 1 to 10,000 characters.
    pub body: String,
}

/// Every command on an existing change that touches only its own stream.
/// Scheduling also writes the calendars and has its own entry points. The
/// HTTP layer builds it from the route and the body, so it is never
/// deserialized as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeCommand {
    Amend(AmendChange),
    Submit(Submit),
    Assess(Assess),
    AmendPlan(AmendPlan),
    Approve(Approve),
    Reject(Reject),
    Assign(Assign),
    StartImplementation(StartImplementation),
    RecordRolloutStep(RecordRolloutStep),
    Complete(Complete),
    RollBack(RollBack),
    Fail(Fail),
    Review(Review),
    Close(Close),
    AddNote(AddNote),
}

impl ChangeCommand {
    /// Whether the command commutes with concurrent ones: it adds to the
    /// ticket without depending on its state, so it needs no `If-Match`
    /// and applies to whatever version is current.
    pub fn commutes(&self) -> bool {
        matches!(self, ChangeCommand::AddNote(_))
    }

    /// A verb phrase that reads well in "cannot {name} a change that is {state}".
    pub fn name(&self) -> &'static str {
        match self {
            ChangeCommand::Amend(_) => "amend",
            ChangeCommand::Submit(_) => "submit",
            ChangeCommand::Assess(_) => "assess",
            ChangeCommand::AmendPlan(_) => "amend the plan of",
            ChangeCommand::Approve(_) => "approve",
            ChangeCommand::Reject(_) => "reject",
            ChangeCommand::Assign(_) => "assign",
            ChangeCommand::StartImplementation(_) => "start implementing",
            ChangeCommand::RecordRolloutStep(_) => "record a rollout step of",
            ChangeCommand::Complete(_) => "complete",
            ChangeCommand::RollBack(_) => "roll back",
            ChangeCommand::Fail(_) => "fail",
            ChangeCommand::Review(_) => "review",
            ChangeCommand::Close(_) => "close",
            ChangeCommand::AddNote(_) => "add a note to",
        }
    }
}
