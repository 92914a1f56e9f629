//! What happened to a change. Events are stored forever and hashed as
//! canonical JSON, so payloads hold only strings, integers and arrays or
//! objects of them (never floats; times and dates are strings), and a change
//! of shape means a new schema version plus an upcaster in
//! [`ChangeEvent::from_stored`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::command::FollowUpAction;
use super::{ChangeType, ReviewOutcome, Risk, RolloutStepKind};
use crate::domain::StreamCorrupt;
use crate::domain::event::{StoredPayload, decode};
use crate::domain::link::{TicketLinked, TicketRef, TicketUnlinked};
use crate::domain::maintenance::MaintenanceType;

/// A change was drafted. Always the first event of its stream; its actor
/// is the requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeDrafted {
    pub id: Uuid,
    /// The human-facing reference, e.g. `CHG-2026-000123`.
    pub number: String,
    pub change_type: ChangeType,
    pub title: String,
    pub description: String,
    pub affected_services: Vec<String>,
    pub maintenance_type: MaintenanceType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_faults: Vec<TicketRef>,
}

/// Some of the change's descriptive fields were amended; absent ones kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeAmended {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_services: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_type: Option<MaintenanceType>,
}

/// The draft was submitted for assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeSubmitted {}

/// A plan, as `change.assessed` and `change.plan_amended` record it. The
/// stored hash of the event that carries it identifies the plan approvals
/// refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangePlanned {
    pub risk: Risk,
    pub impact: String,
    pub implementation_plan: String,
    pub test_plan: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_evidence: Option<String>,
    pub rollback_plan: String,
}

/// The change's current plan was approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeApproved {
    pub comment: String,
    /// Lowercase hex of the stored hash of the event that carried the
    /// approved plan.
    pub plan_hash: String,
}

/// The change's current plan was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeRejected {
    pub comment: String,
    /// As in [`ChangeApproved`].
    pub plan_hash: String,
}

/// Someone was assigned to implement the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeAssigned {
    pub assignee: String,
}

/// The change was booked for a window, or moved to another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeScheduled {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// IANA name of the zone the window was given in and is shown in.
    pub time_zone: String,
    /// Other changes whose overlapping bookings were knowingly overridden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<TicketRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Freeze windows an emergency change was scheduled into.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freezes_overridden: Vec<Uuid>,
}

/// The change was taken off the calendars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeUnscheduled {
    pub reason: String,
}

/// Implementation started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeImplementationStarted {}

/// A manager authorised starting the change outside the window it was
/// scheduled for, which the event names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeStartAuthorised {
    pub reason: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

/// One rollout step was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeRolloutStepRecorded {
    pub kind: RolloutStepKind,
    /// Canary steps only, 1 to 99.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The change is in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeCompleted {}

/// The change was undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeRolledBack {
    pub reason: String,
}

/// The implementation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeFailed {
    pub reason: String,
}

/// The post-implementation review was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeReviewed {
    pub outcome: ReviewOutcome,
    pub went_well: String,
    pub went_wrong: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_up_actions: Vec<FollowUpAction>,
}

/// The change was closed (or withdrawn, if it was never implemented).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeClosed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A note was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeNoteAdded {
    pub body: String,
}

/// One event of a change's stream, as `{"type": "...", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum ChangeEvent {
    #[serde(rename = "change.drafted")]
    Drafted(ChangeDrafted),
    #[serde(rename = "change.amended")]
    Amended(ChangeAmended),
    #[serde(rename = "change.submitted")]
    Submitted(ChangeSubmitted),
    #[serde(rename = "change.assessed")]
    Assessed(ChangePlanned),
    #[serde(rename = "change.plan_amended")]
    PlanAmended(ChangePlanned),
    #[serde(rename = "change.approved")]
    Approved(ChangeApproved),
    #[serde(rename = "change.rejected")]
    Rejected(ChangeRejected),
    #[serde(rename = "change.assigned")]
    Assigned(ChangeAssigned),
    #[serde(rename = "change.scheduled")]
    Scheduled(ChangeScheduled),
    #[serde(rename = "change.unscheduled")]
    Unscheduled(ChangeUnscheduled),
    #[serde(rename = "change.start_authorised")]
    StartAuthorised(ChangeStartAuthorised),
    #[serde(rename = "change.implementation_started")]
    ImplementationStarted(ChangeImplementationStarted),
    #[serde(rename = "change.rollout_step_recorded")]
    RolloutStepRecorded(ChangeRolloutStepRecorded),
    #[serde(rename = "change.completed")]
    Completed(ChangeCompleted),
    #[serde(rename = "change.rolled_back")]
    RolledBack(ChangeRolledBack),
    #[serde(rename = "change.failed")]
    Failed(ChangeFailed),
    #[serde(rename = "change.reviewed")]
    Reviewed(ChangeReviewed),
    #[serde(rename = "change.closed")]
    Closed(ChangeClosed),
    #[serde(rename = "change.note_added")]
    NoteAdded(ChangeNoteAdded),
    #[serde(rename = "change.linked")]
    Linked(TicketLinked),
    #[serde(rename = "change.unlinked")]
    Unlinked(TicketUnlinked),
}

const DRAFTED: &str = "change.drafted";
const AMENDED: &str = "change.amended";
const SUBMITTED: &str = "change.submitted";
const ASSESSED: &str = "change.assessed";
const PLAN_AMENDED: &str = "change.plan_amended";
const APPROVED: &str = "change.approved";
const REJECTED: &str = "change.rejected";
const ASSIGNED: &str = "change.assigned";
const SCHEDULED: &str = "change.scheduled";
const UNSCHEDULED: &str = "change.unscheduled";
const START_AUTHORISED: &str = "change.start_authorised";
const IMPLEMENTATION_STARTED: &str = "change.implementation_started";
const ROLLOUT_STEP_RECORDED: &str = "change.rollout_step_recorded";
const COMPLETED: &str = "change.completed";
const ROLLED_BACK: &str = "change.rolled_back";
const FAILED: &str = "change.failed";
const REVIEWED: &str = "change.reviewed";
const CLOSED: &str = "change.closed";
const NOTE_ADDED: &str = "change.note_added";
const LINKED: &str = "change.linked";
const UNLINKED: &str = "change.unlinked";

impl ChangeEvent {
    /// Every event type a change stream may contain.
    pub const EVENT_TYPES: &[&str] = &[
        DRAFTED,
        AMENDED,
        SUBMITTED,
        ASSESSED,
        PLAN_AMENDED,
        APPROVED,
        REJECTED,
        ASSIGNED,
        SCHEDULED,
        UNSCHEDULED,
        START_AUTHORISED,
        IMPLEMENTATION_STARTED,
        ROLLOUT_STEP_RECORDED,
        COMPLETED,
        ROLLED_BACK,
        FAILED,
        REVIEWED,
        CLOSED,
        NOTE_ADDED,
        LINKED,
        UNLINKED,
    ];

    /// The stored type name; equal to the `type` tag of the JSON form.
    pub fn event_type(&self) -> &'static str {
        match self {
            ChangeEvent::Drafted(_) => DRAFTED,
            ChangeEvent::Amended(_) => AMENDED,
            ChangeEvent::Submitted(_) => SUBMITTED,
            ChangeEvent::Assessed(_) => ASSESSED,
            ChangeEvent::PlanAmended(_) => PLAN_AMENDED,
            ChangeEvent::Approved(_) => APPROVED,
            ChangeEvent::Rejected(_) => REJECTED,
            ChangeEvent::Assigned(_) => ASSIGNED,
            ChangeEvent::Scheduled(_) => SCHEDULED,
            ChangeEvent::Unscheduled(_) => UNSCHEDULED,
            ChangeEvent::StartAuthorised(_) => START_AUTHORISED,
            ChangeEvent::ImplementationStarted(_) => IMPLEMENTATION_STARTED,
            ChangeEvent::RolloutStepRecorded(_) => ROLLOUT_STEP_RECORDED,
            ChangeEvent::Completed(_) => COMPLETED,
            ChangeEvent::RolledBack(_) => ROLLED_BACK,
            ChangeEvent::Failed(_) => FAILED,
            ChangeEvent::Reviewed(_) => REVIEWED,
            ChangeEvent::Closed(_) => CLOSED,
            ChangeEvent::NoteAdded(_) => NOTE_ADDED,
            ChangeEvent::Linked(_) => LINKED,
            ChangeEvent::Unlinked(_) => UNLINKED,
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The payload object alone, as stored next to the type and version.
    pub fn payload_json(&self) -> Value {
        let value = match self {
            ChangeEvent::Drafted(p) => serde_json::to_value(p),
            ChangeEvent::Amended(p) => serde_json::to_value(p),
            ChangeEvent::Submitted(p) => serde_json::to_value(p),
            ChangeEvent::Assessed(p) => serde_json::to_value(p),
            ChangeEvent::PlanAmended(p) => serde_json::to_value(p),
            ChangeEvent::Approved(p) => serde_json::to_value(p),
            ChangeEvent::Rejected(p) => serde_json::to_value(p),
            ChangeEvent::Assigned(p) => serde_json::to_value(p),
            ChangeEvent::Scheduled(p) => serde_json::to_value(p),
            ChangeEvent::Unscheduled(p) => serde_json::to_value(p),
            ChangeEvent::StartAuthorised(p) => serde_json::to_value(p),
            ChangeEvent::ImplementationStarted(p) => serde_json::to_value(p),
            ChangeEvent::RolloutStepRecorded(p) => serde_json::to_value(p),
            ChangeEvent::Completed(p) => serde_json::to_value(p),
            ChangeEvent::RolledBack(p) => serde_json::to_value(p),
            ChangeEvent::Failed(p) => serde_json::to_value(p),
            ChangeEvent::Reviewed(p) => serde_json::to_value(p),
            ChangeEvent::Closed(p) => serde_json::to_value(p),
            ChangeEvent::NoteAdded(p) => serde_json::to_value(p),
            ChangeEvent::Linked(p) => serde_json::to_value(p),
            ChangeEvent::Unlinked(p) => serde_json::to_value(p),
        };
        // Serializing to a Value only fails for non-string map keys or a
        // failing custom Serialize; payloads are plain structs of strings,
        // integers, times, dates, UUIDs and unit enums, so this cannot happen.
        value.expect("change payloads always serialize to JSON")
    }

    /// Rebuilds an event from its stored parts; upcasters go here (see
    /// the fault's events).
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<ChangeEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (DRAFTED, 1) => decode(event_type, payload).map(ChangeEvent::Drafted),
            (AMENDED, 1) => decode(event_type, payload).map(ChangeEvent::Amended),
            (SUBMITTED, 1) => decode(event_type, payload).map(ChangeEvent::Submitted),
            (ASSESSED, 1) => decode(event_type, payload).map(ChangeEvent::Assessed),
            (PLAN_AMENDED, 1) => decode(event_type, payload).map(ChangeEvent::PlanAmended),
            (APPROVED, 1) => decode(event_type, payload).map(ChangeEvent::Approved),
            (REJECTED, 1) => decode(event_type, payload).map(ChangeEvent::Rejected),
            (ASSIGNED, 1) => decode(event_type, payload).map(ChangeEvent::Assigned),
            (SCHEDULED, 1) => decode(event_type, payload).map(ChangeEvent::Scheduled),
            (UNSCHEDULED, 1) => decode(event_type, payload).map(ChangeEvent::Unscheduled),
            (START_AUTHORISED, 1) => decode(event_type, payload).map(ChangeEvent::StartAuthorised),
            (IMPLEMENTATION_STARTED, 1) => decode(event_type, payload).map(ChangeEvent::ImplementationStarted),
            (ROLLOUT_STEP_RECORDED, 1) => decode(event_type, payload).map(ChangeEvent::RolloutStepRecorded),
            (COMPLETED, 1) => decode(event_type, payload).map(ChangeEvent::Completed),
            (ROLLED_BACK, 1) => decode(event_type, payload).map(ChangeEvent::RolledBack),
            (FAILED, 1) => decode(event_type, payload).map(ChangeEvent::Failed),
            (REVIEWED, 1) => decode(event_type, payload).map(ChangeEvent::Reviewed),
            (CLOSED, 1) => decode(event_type, payload).map(ChangeEvent::Closed),
            (NOTE_ADDED, 1) => decode(event_type, payload).map(ChangeEvent::NoteAdded),
            (LINKED, 1) => decode(event_type, payload).map(ChangeEvent::Linked),
            (UNLINKED, 1) => decode(event_type, payload).map(ChangeEvent::Unlinked),
            (known, version) if ChangeEvent::EVENT_TYPES.contains(&known) => Err(StreamCorrupt(format!(
                "{known} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!("{unknown} is not a change event type"))),
        }
    }
}

impl ChangeEvent {
    /// Whether the event only adds to the lists of the view (notes, links,
    /// …), never changing or removing what they hold: the timeline then
    /// compares only past their old end. Listed type by type, so that a type
    /// added later counts as changing them until someone says otherwise.
    /// Not: a plan assessed, amended, approved or rejected (each recounts the
    /// approvals), an unlink.
    pub fn only_adds_to_lists(&self) -> bool {
        matches!(
            self,
            ChangeEvent::Drafted(_)
                | ChangeEvent::Amended(_)
                | ChangeEvent::Submitted(_)
                | ChangeEvent::Assigned(_)
                | ChangeEvent::Scheduled(_)
                | ChangeEvent::Unscheduled(_)
                | ChangeEvent::StartAuthorised(_)
                | ChangeEvent::ImplementationStarted(_)
                | ChangeEvent::RolloutStepRecorded(_)
                | ChangeEvent::Completed(_)
                | ChangeEvent::RolledBack(_)
                | ChangeEvent::Failed(_)
                | ChangeEvent::Reviewed(_)
                | ChangeEvent::Closed(_)
                | ChangeEvent::NoteAdded(_)
                | ChangeEvent::Linked(_)
        )
    }
}

impl crate::domain::DomainEvent for ChangeEvent {
    fn event_type(&self) -> &'static str {
        ChangeEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        ChangeEvent::schema_version(self)
    }

    fn payload_json(&self) -> Value {
        ChangeEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<ChangeEvent, StreamCorrupt> {
        ChangeEvent::from_stored(event_type, schema_version, payload)
    }
}
