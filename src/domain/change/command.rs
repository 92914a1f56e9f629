//! What a caller can ask of a change. Field names are the JSON body field
//! names, so validation pointers can name them directly.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ChangeType, ReviewOutcome, Risk, RolloutStepKind};
use crate::domain::maintenance::MaintenanceType;

/// Drafts a new change; whoever drafts it is its requester. The linked
/// faults must be faults the requester may read, each named once (an id
/// and a number of the same fault count as one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "Upgrade the payments database to PostgreSQL 17",
    "description": "Major version upgrade through logical replication, with a switchover of under a minute.",
    "affected_services": ["payments-db", "billing"],
    "maintenance_type": "adaptive",
    "change_type": "normal",
    "linked_faults": ["FLT-2026-000007"]
})))]
pub struct DraftChange {
    /// The change in one line, 1 to 200 characters (Unicode scalar values),
    /// not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// What will change and why, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: String,
    /// The services the change touches: 1 to 20, no duplicates, each 1 to
    /// 100 characters (Unicode scalar values), not blank. Each gets a
    /// booking on its calendar when scheduled.
    // A set to utoipa, for `uniqueItems`; serde reads a list, in order.
    #[schema(value_type = BTreeSet<String>, min_items = 1, max_items = 20)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub affected_services: Vec<String>,
    /// Why the work is done.
    pub maintenance_type: MaintenanceType,
    /// How the change is authorised.
    pub change_type: ChangeType,
    /// Faults the change addresses, at most 50, each by id (a UUID) or
    /// number (`FLT-2026-000007`, in any case); the application resolves
    /// them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = BTreeSet<String>, max_items = 50, max_length = 45, pattern = r"^(?:[0-9A-Fa-f]{32}|(?:[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:)?[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}|(?:[Cc][Mm][Pp]|[Ff][Ll][Tt]|[Cc][Hh][Gg])-[0-9]{4}-[0-9]{6,12})$")]
    pub linked_faults: Vec<String>,
}

/// Amends a draft or submitted change: give at least one field (not
/// `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "Upgrade the payments database to PostgreSQL 17.2",
    "affected_services": ["payments-db", "billing", "ledger"]
})))]
pub struct AmendChange {
    /// 1 to 200 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub title: Option<String>,
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: Option<String>,
    /// Replaces the list: 1 to 20, no duplicates, each 1 to 100 characters
    /// (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeSet<String>>, min_items = 1, max_items = 20)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub affected_services: Option<Vec<String>>,
    /// Why the work is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_type: Option<MaintenanceType>,
}

/// Submits a draft for assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({})))]
pub struct Submit {}

/// Assesses a submitted change: records its plan. Also the body of
/// [`AmendPlan`], which replaces the whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "risk": "high",
    "impact": "Payments are refused for up to one minute during the switchover.",
    "implementation_plan": "Replicate to a PostgreSQL 17 replica, then switch over at 02:00.",
    "test_plan": "Replay a day of production traffic against the replica.",
    "test_evidence": "Replay of 1 March: no errors, p99 latency unchanged.",
    "rollback_plan": "Switch back to the PostgreSQL 16 primary, kept in sync for a week."
})))]
pub struct Assess {
    /// High risk needs two approvers.
    pub risk: Risk,
    /// Who and what is affected while the change is made, 1 to 10,000
    /// characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub impact: String,
    /// How the change is made, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub implementation_plan: String,
    /// How it is tested, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub test_plan: String,
    /// Results of tests already run, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub test_evidence: Option<String>,
    /// How to undo the change, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub rollback_plan: String,
}

/// Replaces the plan of an assessed, approved or rejected change; the change
/// goes back to assessed and earlier approvals stop counting.
pub type AmendPlan = Assess;

/// Approves the change's current plan. The requester cannot approve their
/// own change, nor anyone the same plan twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"comment": "Rollback plan tested; go ahead."})))]
pub struct Approve {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub comment: String,
}

/// Rejects the change's current plan. The requester cannot reject their
/// own change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"comment": "The rollback plan needs a tested restore."})))]
pub struct Reject {
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub comment: String,
}

/// Assigns the person who implements the change; naming the current
/// assignee again is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeAssign, examples(json!({"assignee": "https://idp.example|eve"})))]
pub struct Assign {
    /// Actor id, 1 to 100 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub assignee: String,
}

/// Books the change's window on every affected service's calendar, or
/// moves an existing booking. `end` must be after `start`, in the future,
/// and at most 30 days after `start`; a local time must exist exactly once
/// in `time_zone`. `override_reason` is required when `override_conflicts`
/// is true (it is ignored otherwise). Only emergency changes may be booked
/// into a freeze window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "start": "2026-12-01T02:00",
    "end": "2026-12-01T04:00",
    "time_zone": "Asia/Shanghai"
})))]
pub struct ScheduleChange {
    /// RFC 3339 with an offset, or a local `YYYY-MM-DDTHH:MM[:SS]` in `time_zone`.
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+\u2212-][0-9]{2}:[0-5][0-9])|T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$"
    )]
    pub start: String,
    /// As `start`; after it, in the future, and at most 30 days later.
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+\u2212-][0-9]{2}:[0-5][0-9])|T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$"
    )]
    pub end: String,
    /// IANA zone name for local times and for display, such as
    /// `Europe/Berlin` (case matters); `Asia/Shanghai` if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = r"^[A-Za-z][A-Za-z0-9_+/-]*$")]
    pub time_zone: Option<String>,
    /// Books the window even though it overlaps other changes' bookings.
    #[serde(default)]
    pub override_conflicts: bool,
    /// Why the overlap is acceptable: required with `override_conflicts`,
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub override_reason: Option<String>,
}

/// Takes a scheduled change off the calendars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "The vendor postponed the release."})))]
pub struct Unschedule {
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Starts implementing a scheduled change: inside its window, at once for
/// an emergency change, or outside the window once a manager has
/// authorised it ([`AuthoriseStart`]). Never inside a freeze window on one
/// of its services (emergencies excepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({})))]
pub struct StartImplementation {}

/// Authorises starting a scheduled change outside its window, such as
/// early, on a quiet night. Recorded as its own event; rescheduling voids
/// it. Not for emergency changes (they start at once) and not by the
/// change's requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "Traffic is low tonight; the vendor engineer is on site now."})))]
pub struct AuthoriseStart {
    /// Why the change may start outside its window, 1 to 10,000 characters
    /// (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Records one rollout step of a change being implemented. A `canary` step
/// needs a `percent`, more than any earlier canary's; the other kinds take
/// none, are final, and nothing follows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"kind": "canary", "percent": 10, "note": "One node of ten."})))]
pub struct RecordRolloutStep {
    /// `blue_green_switch` and `full_rollout` are final: nothing follows them.
    pub kind: RolloutStepKind,
    /// Canary only, and required there: 1 to 99, more than any earlier canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 99)]
    pub percent: Option<u8>,
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub note: Option<String>,
}

/// Completes a change whose last rollout step was final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({})))]
pub struct Complete {}

/// Records that a change being implemented, or completed, was rolled back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "Error rate doubled on the canary."})))]
pub struct RollBack {
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Records that the implementation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "The replica never caught up."})))]
pub struct Fail {
    /// What went wrong, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// One follow-up action of a post-implementation review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpAction {
    /// What is to be done, 1 to 10,000 characters (Unicode scalar values),
    /// not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: String,
    /// Who is responsible for it, 1 to 100 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub owner: String,
    /// When it is due.
    pub due_on: NaiveDate,
}

/// Writes the post-implementation review of a completed, rolled back or
/// failed change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeReview, examples(json!({
    "outcome": "partially_successful",
    "went_well": "The switchover took 40 seconds.",
    "went_wrong": "Two reports timed out against the new planner.",
    "follow_up_actions": [
        {"description": "Tune the two slow reports.", "owner": "https://idp.example|eve", "due_on": "2026-12-15"}
    ]
})))]
pub struct Review {
    /// How the change went.
    pub outcome: ReviewOutcome,
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub went_well: String,
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub went_wrong: String,
    /// What is to be done next: at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 100)]
    pub follow_up_actions: Vec<FollowUpAction>,
}

/// Closes a reviewed change, a standard change after implementation, or
/// withdraws one that was never implemented; a withdrawal needs a
/// `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeClose, examples(json!({"reason": "Superseded by CHG-2026-000012."})))]
pub struct Close {
    /// 1 to 10,000 characters (Unicode scalar values), not blank; required
    /// to withdraw a change that was never implemented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: Option<String>,
}

/// Adds a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeAddNote, examples(json!({"body": "The vendor confirmed the upgrade path."})))]
pub struct AddNote {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub body: String,
}

/// Every command on an existing change that touches only its own stream
/// and needs nothing but the change to be decided. Scheduling also writes
/// the calendars, and starting reads the freeze windows: each has its own
/// entry point ([`super::schedule`], [`super::start_implementation`]). The
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
    AuthoriseStart(AuthoriseStart),
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
            ChangeCommand::AuthoriseStart(_) => "authorise an out-of-window start of",
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
