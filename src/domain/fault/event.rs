//! What happened to a fault. Events are stored forever and hashed as
//! canonical JSON, so payloads hold only strings, integers and arrays or
//! objects of them (never floats; times and dates are strings), and a change
//! of shape means a new schema version plus an upcaster in
//! [`FaultEvent::from_stored`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::DetectedBy;
use crate::domain::StreamCorrupt;
use crate::domain::event::{StoredPayload, decode};
use crate::domain::link::{TicketLinked, TicketRef, TicketUnlinked};
use crate::domain::maintenance::MaintenanceType;
use crate::domain::sla::clock::{
    self, ClockEvent, SlaClockStopped, SlaClocksPaused, SlaClocksPinned, SlaClocksResumed,
};

/// A fault was reported. Always the first event of its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultReported {
    pub id: Uuid,
    /// The human-facing reference, e.g. `FLT-2026-000123`.
    pub number: String,
    pub title: String,
    pub description: String,
    pub affected_service: String,
    pub detected_by: DetectedBy,
    /// The complaint this fault was escalated from, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_from: Option<TicketRef>,
}

/// The fault was triaged, or triaged again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultTriaged {
    /// 1 (critical) to 4 (low).
    #[schema(minimum = 1, maximum = 4)]
    pub severity: u8,
    /// Actor id of who evaluates the fault.
    pub evaluator: String,
    /// Present only when the triage assigned a technician.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician: Option<String>,
}

/// The evaluator assessed the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultEvaluated {
    pub nature: String,
    #[schema(minimum = 1)]
    pub estimated_effort_minutes: u32,
    /// 1 (most urgent) to 4.
    #[schema(minimum = 1, maximum = 4)]
    pub proposed_priority: u8,
}

/// A technician was assigned to the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultTechnicianAssigned {
    pub technician: String,
}

/// Investigation of the fault started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultInvestigationStarted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A workaround limits the fault's impact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultMitigated {
    pub workaround: String,
}

/// The fault was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultResolved {
    pub resolution: String,
    pub root_cause: String,
}

/// The fault was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultClosed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A resolved or closed fault was reopened; its resolution is set aside
/// (the history keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultReopened {
    pub reason: String,
}

/// A piece of repair work was done on the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultRepairLogged {
    /// The repair's ordinal on this fault, from 1.
    #[schema(minimum = 1)]
    pub repair: u32,
    pub technician: String,
    pub action_taken: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[schema(minimum = 1)]
    pub person_minutes: u32,
    pub maintenance_type: MaintenanceType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<String>,
}

/// One follow-up action of a post-incident review, numbered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewActionItem {
    /// The item's number in the review, from 1.
    #[schema(minimum = 1)]
    pub item: u32,
    pub description: String,
    pub owner: String,
    pub due_on: NaiveDate,
}

/// The post-incident review of the fault was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultReviewWritten {
    pub summary: String,
    pub root_cause: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributing_factors: Vec<String>,
    pub action_items: Vec<ReviewActionItem>,
}

/// An action item of the review was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultActionItemCompleted {
    #[schema(minimum = 1)]
    pub item: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An internal note was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultNoteAdded {
    pub body: String,
}

/// A repair was voided: it was logged in error. The repair stays on the
/// fault, marked voided, and no longer counts towards its person-minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultRepairVoided {
    /// The voided repair's ordinal on this fault.
    #[schema(minimum = 1)]
    pub repair: u32,
    pub reason: String,
}

/// The service the fault affects was corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultAffectedServiceCorrected {
    /// The service recorded before.
    pub from: String,
    /// The service from now on.
    pub to: String,
    pub reason: String,
}

/// One event of a fault's stream, as `{"type": "...", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum FaultEvent {
    #[serde(rename = "fault.reported")]
    Reported(FaultReported),
    #[serde(rename = "fault.triaged")]
    Triaged(FaultTriaged),
    #[serde(rename = "fault.evaluated")]
    Evaluated(FaultEvaluated),
    #[serde(rename = "fault.technician_assigned")]
    TechnicianAssigned(FaultTechnicianAssigned),
    #[serde(rename = "fault.investigation_started")]
    InvestigationStarted(FaultInvestigationStarted),
    #[serde(rename = "fault.mitigated")]
    Mitigated(FaultMitigated),
    #[serde(rename = "fault.resolved")]
    Resolved(FaultResolved),
    #[serde(rename = "fault.closed")]
    Closed(FaultClosed),
    #[serde(rename = "fault.reopened")]
    Reopened(FaultReopened),
    #[serde(rename = "fault.repair_logged")]
    RepairLogged(FaultRepairLogged),
    #[serde(rename = "fault.review_written")]
    ReviewWritten(FaultReviewWritten),
    #[serde(rename = "fault.action_item_completed")]
    ActionItemCompleted(FaultActionItemCompleted),
    #[serde(rename = "fault.note_added")]
    NoteAdded(FaultNoteAdded),
    #[serde(rename = "fault.linked")]
    Linked(TicketLinked),
    #[serde(rename = "fault.unlinked")]
    Unlinked(TicketUnlinked),
    #[serde(rename = "fault.repair_voided")]
    RepairVoided(FaultRepairVoided),
    #[serde(rename = "fault.affected_service_corrected")]
    AffectedServiceCorrected(FaultAffectedServiceCorrected),
    #[serde(rename = "sla.clocks_pinned")]
    SlaClocksPinned(SlaClocksPinned),
    #[serde(rename = "sla.clocks_paused")]
    SlaClocksPaused(SlaClocksPaused),
    #[serde(rename = "sla.clocks_resumed")]
    SlaClocksResumed(SlaClocksResumed),
    #[serde(rename = "sla.clock_stopped")]
    SlaClockStopped(SlaClockStopped),
}

const REPORTED: &str = "fault.reported";
const TRIAGED: &str = "fault.triaged";
const EVALUATED: &str = "fault.evaluated";
const TECHNICIAN_ASSIGNED: &str = "fault.technician_assigned";
const INVESTIGATION_STARTED: &str = "fault.investigation_started";
const MITIGATED: &str = "fault.mitigated";
const RESOLVED: &str = "fault.resolved";
const CLOSED: &str = "fault.closed";
const REOPENED: &str = "fault.reopened";
const REPAIR_LOGGED: &str = "fault.repair_logged";
const REVIEW_WRITTEN: &str = "fault.review_written";
const ACTION_ITEM_COMPLETED: &str = "fault.action_item_completed";
const NOTE_ADDED: &str = "fault.note_added";
const LINKED: &str = "fault.linked";
const UNLINKED: &str = "fault.unlinked";
const REPAIR_VOIDED: &str = "fault.repair_voided";
const AFFECTED_SERVICE_CORRECTED: &str = "fault.affected_service_corrected";

impl FaultEvent {
    /// Every event type a fault stream may contain.
    pub const EVENT_TYPES: &[&str] = &[
        REPORTED,
        TRIAGED,
        EVALUATED,
        TECHNICIAN_ASSIGNED,
        INVESTIGATION_STARTED,
        MITIGATED,
        RESOLVED,
        CLOSED,
        REOPENED,
        REPAIR_LOGGED,
        REVIEW_WRITTEN,
        ACTION_ITEM_COMPLETED,
        NOTE_ADDED,
        LINKED,
        UNLINKED,
        REPAIR_VOIDED,
        AFFECTED_SERVICE_CORRECTED,
        clock::CLOCKS_PINNED,
        clock::CLOCKS_PAUSED,
        clock::CLOCKS_RESUMED,
        clock::CLOCK_STOPPED,
    ];

    /// The stored type name; equal to the `type` tag of the JSON form.
    pub fn event_type(&self) -> &'static str {
        match self {
            FaultEvent::Reported(_) => REPORTED,
            FaultEvent::Triaged(_) => TRIAGED,
            FaultEvent::Evaluated(_) => EVALUATED,
            FaultEvent::TechnicianAssigned(_) => TECHNICIAN_ASSIGNED,
            FaultEvent::InvestigationStarted(_) => INVESTIGATION_STARTED,
            FaultEvent::Mitigated(_) => MITIGATED,
            FaultEvent::Resolved(_) => RESOLVED,
            FaultEvent::Closed(_) => CLOSED,
            FaultEvent::Reopened(_) => REOPENED,
            FaultEvent::RepairLogged(_) => REPAIR_LOGGED,
            FaultEvent::ReviewWritten(_) => REVIEW_WRITTEN,
            FaultEvent::ActionItemCompleted(_) => ACTION_ITEM_COMPLETED,
            FaultEvent::NoteAdded(_) => NOTE_ADDED,
            FaultEvent::Linked(_) => LINKED,
            FaultEvent::Unlinked(_) => UNLINKED,
            FaultEvent::RepairVoided(_) => REPAIR_VOIDED,
            FaultEvent::AffectedServiceCorrected(_) => AFFECTED_SERVICE_CORRECTED,
            FaultEvent::SlaClocksPinned(_) => clock::CLOCKS_PINNED,
            FaultEvent::SlaClocksPaused(_) => clock::CLOCKS_PAUSED,
            FaultEvent::SlaClocksResumed(_) => clock::CLOCKS_RESUMED,
            FaultEvent::SlaClockStopped(_) => clock::CLOCK_STOPPED,
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The payload object alone, as stored next to the type and version.
    pub fn payload_json(&self) -> Value {
        let value = match self {
            FaultEvent::Reported(p) => serde_json::to_value(p),
            FaultEvent::Triaged(p) => serde_json::to_value(p),
            FaultEvent::Evaluated(p) => serde_json::to_value(p),
            FaultEvent::TechnicianAssigned(p) => serde_json::to_value(p),
            FaultEvent::InvestigationStarted(p) => serde_json::to_value(p),
            FaultEvent::Mitigated(p) => serde_json::to_value(p),
            FaultEvent::Resolved(p) => serde_json::to_value(p),
            FaultEvent::Closed(p) => serde_json::to_value(p),
            FaultEvent::Reopened(p) => serde_json::to_value(p),
            FaultEvent::RepairLogged(p) => serde_json::to_value(p),
            FaultEvent::ReviewWritten(p) => serde_json::to_value(p),
            FaultEvent::ActionItemCompleted(p) => serde_json::to_value(p),
            FaultEvent::NoteAdded(p) => serde_json::to_value(p),
            FaultEvent::Linked(p) => serde_json::to_value(p),
            FaultEvent::Unlinked(p) => serde_json::to_value(p),
            FaultEvent::RepairVoided(p) => serde_json::to_value(p),
            FaultEvent::AffectedServiceCorrected(p) => serde_json::to_value(p),
            FaultEvent::SlaClocksPinned(p) => serde_json::to_value(p),
            FaultEvent::SlaClocksPaused(p) => serde_json::to_value(p),
            FaultEvent::SlaClocksResumed(p) => serde_json::to_value(p),
            FaultEvent::SlaClockStopped(p) => serde_json::to_value(p),
        };
        // Serializing to a Value only fails for non-string map keys or a
        // failing custom Serialize; payloads are plain structs of strings,
        // integers, times, dates, UUIDs and unit enums, so this cannot happen.
        value.expect("fault payloads always serialize to JSON")
    }

    /// Rebuilds an event from its stored parts.
    ///
    /// This is where upcasters go: when a payload changes shape, its type
    /// gets a new schema version, and an arm here turns the older version
    /// into the current struct, so that old streams still fold.
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<FaultEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (REPORTED, 1) => decode(event_type, payload).map(FaultEvent::Reported),
            (TRIAGED, 1) => decode(event_type, payload).map(FaultEvent::Triaged),
            (EVALUATED, 1) => decode(event_type, payload).map(FaultEvent::Evaluated),
            (TECHNICIAN_ASSIGNED, 1) => decode(event_type, payload).map(FaultEvent::TechnicianAssigned),
            (INVESTIGATION_STARTED, 1) => decode(event_type, payload).map(FaultEvent::InvestigationStarted),
            (MITIGATED, 1) => decode(event_type, payload).map(FaultEvent::Mitigated),
            (RESOLVED, 1) => decode(event_type, payload).map(FaultEvent::Resolved),
            (CLOSED, 1) => decode(event_type, payload).map(FaultEvent::Closed),
            (REOPENED, 1) => decode(event_type, payload).map(FaultEvent::Reopened),
            (REPAIR_LOGGED, 1) => decode(event_type, payload).map(FaultEvent::RepairLogged),
            (REVIEW_WRITTEN, 1) => decode(event_type, payload).map(FaultEvent::ReviewWritten),
            (ACTION_ITEM_COMPLETED, 1) => decode(event_type, payload).map(FaultEvent::ActionItemCompleted),
            (NOTE_ADDED, 1) => decode(event_type, payload).map(FaultEvent::NoteAdded),
            (LINKED, 1) => decode(event_type, payload).map(FaultEvent::Linked),
            (UNLINKED, 1) => decode(event_type, payload).map(FaultEvent::Unlinked),
            (REPAIR_VOIDED, 1) => decode(event_type, payload).map(FaultEvent::RepairVoided),
            (AFFECTED_SERVICE_CORRECTED, 1) => decode(event_type, payload).map(FaultEvent::AffectedServiceCorrected),
            (clock::CLOCKS_PINNED, 1) => decode(event_type, payload).map(FaultEvent::SlaClocksPinned),
            (clock::CLOCKS_PAUSED, 1) => decode(event_type, payload).map(FaultEvent::SlaClocksPaused),
            (clock::CLOCKS_RESUMED, 1) => decode(event_type, payload).map(FaultEvent::SlaClocksResumed),
            (clock::CLOCK_STOPPED, 1) => decode(event_type, payload).map(FaultEvent::SlaClockStopped),
            (known, version) if FaultEvent::EVENT_TYPES.contains(&known) => Err(StreamCorrupt(format!(
                "{known} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!("{unknown} is not a fault event type"))),
        }
    }
}

impl FaultEvent {
    /// Whether the event only adds to the lists of the view (notes, links,
    /// …), never changing or removing what they hold: the timeline then
    /// compares only past their old end. Listed type by type, so that a type
    /// added later counts as changing them until someone says otherwise.
    /// Not: a repair voided (marks one), an unlink.
    pub fn only_adds_to_lists(&self) -> bool {
        matches!(
            self,
            FaultEvent::Reported(_)
                | FaultEvent::Triaged(_)
                | FaultEvent::Evaluated(_)
                | FaultEvent::TechnicianAssigned(_)
                | FaultEvent::InvestigationStarted(_)
                | FaultEvent::Mitigated(_)
                | FaultEvent::Resolved(_)
                | FaultEvent::Closed(_)
                | FaultEvent::Reopened(_)
                | FaultEvent::RepairLogged(_)
                | FaultEvent::ReviewWritten(_)
                | FaultEvent::ActionItemCompleted(_)
                | FaultEvent::NoteAdded(_)
                | FaultEvent::Linked(_)
                | FaultEvent::AffectedServiceCorrected(_)
        )
    }
}

impl crate::domain::DomainEvent for FaultEvent {
    fn event_type(&self) -> &'static str {
        FaultEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        FaultEvent::schema_version(self)
    }

    fn payload_json(&self) -> Value {
        FaultEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<FaultEvent, StreamCorrupt> {
        FaultEvent::from_stored(event_type, schema_version, payload)
    }
}

impl FaultEvent {
    /// The ticket's share of a clock event.
    pub fn from_clock(event: ClockEvent) -> FaultEvent {
        match event {
            ClockEvent::Pinned(e) => FaultEvent::SlaClocksPinned(e),
            ClockEvent::Paused(e) => FaultEvent::SlaClocksPaused(e),
            ClockEvent::Resumed(e) => FaultEvent::SlaClocksResumed(e),
            ClockEvent::Stopped(e) => FaultEvent::SlaClockStopped(e),
        }
    }

    /// The clock event this is, if it is one.
    pub fn clock(&self) -> Option<ClockEvent> {
        match self {
            FaultEvent::SlaClocksPinned(e) => Some(ClockEvent::Pinned(e.clone())),
            FaultEvent::SlaClocksPaused(e) => Some(ClockEvent::Paused(e.clone())),
            FaultEvent::SlaClocksResumed(e) => Some(ClockEvent::Resumed(e.clone())),
            FaultEvent::SlaClockStopped(e) => Some(ClockEvent::Stopped(e.clone())),
            _ => None,
        }
    }
}
