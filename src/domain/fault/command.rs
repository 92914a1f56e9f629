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
#[schema(examples(json!({
    "title": "Fibre cut on the Northgate ring",
    "description": "Loss of light on ports 3 and 4 of the Northgate OLT since 09:12.",
    "affected_service": "broadband-north",
    "detected_by": "monitoring"
})))]
pub struct ReportFault {
    /// The fault in one line, 1 to 200 characters (Unicode scalar values),
    /// not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// What is broken and how it shows, 1 to 10,000 characters (Unicode
    /// scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: String,
    /// The service that is affected, 1 to 100 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub affected_service: String,
    /// How the fault came to our attention.
    pub detected_by: DetectedBy,
}

/// Escalates an open complaint (filed, acknowledged, in progress or waiting
/// on the customer) to a new fault, reported from it; a complaint is
/// escalated at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "Evening drop-outs in district 7",
    "description": "Customers in district 7 lose their connection every evening; the street cabinet is suspected.",
    "affected_service": "broadband-north"
})))]
pub struct EscalateComplaint {
    /// The fault's title, 1 to 200 characters (Unicode scalar values), not
    /// blank; the complaint's title if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub title: Option<String>,
    /// The fault as staff understand it, 1 to 10,000 characters (Unicode
    /// scalar values), not blank. Not the complainant's words: faults hold
    /// no personal data.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: String,
    /// The service that is affected, 1 to 100 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub affected_service: String,
}

/// Sets or changes the fault's severity and evaluator, and optionally its
/// technician. A severity 1 fault needs a technician: give `technician`
/// unless the fault already has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "severity": 2,
    "evaluator": "https://idp.example|erin",
    "technician": "https://idp.example|tom"
})))]
pub struct Triage {
    /// 1 (critical) to 4 (low). A severity 1 fault needs a technician:
    /// give one here unless one is already assigned.
    #[schema(minimum = 1, maximum = 4)]
    pub severity: u8,
    /// Actor id of who evaluates the fault; only they may record the
    /// evaluation. 1 to 100 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub evaluator: String,
    /// Assigns a technician at the same time, 1 to 100 characters (Unicode
    /// scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub technician: Option<String>,
}

/// Records the evaluator's assessment of the fault. Only the evaluator
/// named at triage may give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "nature": "A failed splitter in street cabinet 7-12.",
    "estimated_effort_minutes": 90,
    "proposed_priority": 2
})))]
pub struct Evaluate {
    /// What kind of fault this is, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub nature: String,
    /// More than 0 (any 32-bit unsigned number).
    #[schema(minimum = 1, maximum = 4_294_967_295_u64, format = Int64)]
    pub estimated_effort_minutes: u32,
    /// 1 (most urgent) to 4.
    #[schema(minimum = 1, maximum = 4)]
    pub proposed_priority: u8,
}

/// Assigns the technician who works on the fault; naming the current one
/// again is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"technician": "https://idp.example|tina"})))]
pub struct AssignTechnician {
    /// Actor id of the technician, 1 to 100 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub technician: String,
}

/// Starts investigating a triaged fault; needs a technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"note": "On site at cabinet 7-12."})))]
pub struct StartInvestigation {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub note: Option<String>,
}

/// Records a workaround that limits the fault's impact until it is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"workaround": "Traffic rerouted over the southern ring."})))]
pub struct Mitigate {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub workaround: String,
}

/// Records how the fault was resolved and why it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultResolve, examples(json!({
    "resolution": "Replaced the splitter; light levels are back to normal.",
    "root_cause": "Water in the cabinet corroded the splitter."
})))]
pub struct Resolve {
    /// What was done, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub resolution: String,
    /// Why it happened, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub root_cause: String,
}

/// Closes a resolved fault. Severity 1 and 2 faults need a post-incident
/// review first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultClose, examples(json!({"comment": "Stable for a week."})))]
pub struct Close {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub comment: Option<String>,
}

/// Takes a resolved or closed fault back into investigation, because the
/// resolution did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultReopen, examples(json!({"reason": "Loss of light again on port 3."})))]
pub struct Reopen {
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Records one piece of repair work on the fault. `ended_at` must be after
/// `started_at` and not in the future (five minutes of clock skew are
/// allowed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "technician": "https://idp.example|tom",
    "action_taken": "Replaced the splitter in cabinet 7-12 and cleaned the connectors.",
    "started_at": "2026-03-02T09:00:00+08:00",
    "ended_at": "2026-03-02T10:30:00+08:00",
    "person_minutes": 180,
    "maintenance_type": "corrective",
    "parts": ["PLC splitter 1x32"]
})))]
pub struct LogRepair {
    /// Who did the work, 1 to 100 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub technician: String,
    /// What was done, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub action_taken: String,
    /// When the work started.
    pub started_at: DateTime<Utc>,
    /// After `started_at`, and not in the future.
    pub ended_at: DateTime<Utc>,
    /// Working time of everyone involved; more than 0 (any 32-bit unsigned
    /// number). Not derived from the start and end: two people for an hour
    /// are 120 person-minutes.
    #[schema(minimum = 1, maximum = 4_294_967_295_u64, format = Int64)]
    pub person_minutes: u32,
    /// Why the work was done.
    pub maintenance_type: MaintenanceType,
    /// Parts used: at most 50, each 1 to 100 characters (Unicode scalar
    /// values), not blank.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub parts: Vec<String>,
}

/// One follow-up action of a post-incident review, as the command gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActionItem {
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

/// Writes the post-incident review of a resolved or closed fault. A fault
/// has at most one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "summary": "Northgate customers lost service for three hours.",
    "root_cause": "Water in street cabinet 7-12 corroded a splitter.",
    "contributing_factors": ["The cabinet's seal had not been inspected since 2019."],
    "action_items": [
        {"description": "Inspect the seals of every cabinet on the ring.", "owner": "https://idp.example|tom", "due_on": "2026-04-30"}
    ]
})))]
pub struct WriteReview {
    /// What happened, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub summary: String,
    /// Why it happened, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub root_cause: String,
    /// What made it worse: at most 50, each 1 to 10,000 characters (Unicode
    /// scalar values), not blank.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub contributing_factors: Vec<String>,
    /// What is to be done about it: at most 100, numbered from 1 in the
    /// order given.
    #[schema(max_items = 100)]
    pub action_items: Vec<NewActionItem>,
}

/// Marks one action item of the review as done; the fault must have a
/// review with that item, not yet done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"item": 1, "note": "All 24 cabinets inspected; two seals replaced."})))]
pub struct CompleteActionItem {
    /// The item's number in the review, from 1; a review has at most 100.
    #[schema(minimum = 1, maximum = 100)]
    pub item: u32,
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub note: Option<String>,
}

/// Voids a repair that was logged in error: it stays on the fault, marked
/// voided, and no longer counts towards the fault's person-minutes. The
/// fault must have that repair, not voided already (else 409). Accepted in every
/// status: reports read closed faults too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"repair": 2, "reason": "Logged twice: the same visit as repair 1."})))]
pub struct VoidRepair {
    /// The repair's ordinal on the fault (`repair` in the view), from 1.
    #[schema(minimum = 1, maximum = 4_294_967_295_u64, format = Int64)]
    pub repair: u32,
    /// Why the record is wrong, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Corrects the service the fault affects, once triaged (before triage, the
/// triage itself is where it is looked at); correcting it to the service
/// recorded is refused. Severity changes by triaging again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "affected_service": "broadband-south",
    "reason": "The cabinet is on the southern ring; triage found the northern one unaffected."
})))]
pub struct CorrectAffectedService {
    /// The service that is really affected, 1 to 100 characters (Unicode
    /// scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub affected_service: String,
    /// Why the record was wrong, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Adds an internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FaultAddNote, examples(json!({"body": "Spare splitters are in the Eastgate depot."})))]
pub struct AddNote {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
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
    VoidRepair(VoidRepair),
    CorrectAffectedService(CorrectAffectedService),
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
            FaultCommand::VoidRepair(_) => "void a repair of",
            FaultCommand::CorrectAffectedService(_) => "correct the affected service of",
        }
    }
}
