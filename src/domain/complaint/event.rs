//! What happened to a complaint. Events are stored forever and hashed as
//! canonical JSON, so payloads hold only strings and integers (never floats),
//! and a change of shape means a new schema version plus an upcaster in
//! [`ComplaintEvent::from_stored`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Channel, ComplainantRecord, NoteVisibility, Priority, ResealCause, ResealedValue, SubjectJoin};
use crate::domain::event::{StoredPayload, decode};
use crate::domain::link::{TicketLinked, TicketRef, TicketUnlinked};
use crate::domain::sla::clock::{
    self, ClockEvent, SlaClockStopped, SlaClocksPaused, SlaClocksPinned, SlaClocksResumed,
};
use crate::domain::{Personal, PersonalField, StreamCorrupt};

/// A complaint was filed. Always the first event of its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintFiled {
    pub id: Uuid,
    /// The human-facing reference, e.g. `CMP-2025-000042`.
    pub number: String,
    /// The complainant's data subject: the key their personal data is
    /// sealed under, and what erasure names. Shown only to callers who may
    /// read personal data: which filings share a subject is itself personal.
    pub subject: Uuid,
    /// How the filing came to share an existing subject; absent when the
    /// subject is the filing's own. (Added after the first filings were
    /// stored; those record nothing, see `opsledger subjects repair`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_joined: Option<SubjectJoin>,
    pub title: String,
    /// What the complainant told us; personal data.
    pub description: Personal,
    pub channel: Channel,
    pub complainant: ComplainantRecord,
    pub category: String,
    pub priority: Priority,
}

/// The complaint was acknowledged, with the first response if one was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintAcknowledged {
    /// Sent to the complainant; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Personal>,
}

/// The complaint's assignment changed. States the full new assignment, not
/// only what the command changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintAssigned {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// A note or a progress update for the complainant was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintNoteAdded {
    /// Personal data when the note is a progress update to the complainant.
    pub body: Personal,
    pub visibility: NoteVisibility,
}

/// Work is paused until the customer answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintWaitingOnCustomer {
    pub reason: String,
}

/// Work resumed after waiting on the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintResumed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The complaint was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintResolved {
    pub resolution: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
}

/// The complainant rated the current resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintSatisfactionRecorded {
    /// 1 (very unhappy) to 5 (very happy).
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    /// The complainant's words; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Personal>,
}

/// The complaint was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintClosed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A resolved complaint was reopened; its resolution and rating are set
/// aside (the history keeps them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintReopened {
    pub reason: String,
}

/// The complaint was escalated to a new fault, reported from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintEscalated {
    pub fault: TicketRef,
}

/// A fault the complaint is escalated or linked to was resolved. A fact
/// passed on from the fault's stream so the complaint's handler can tell the
/// complainant; it does not change the complaint's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintLinkedFaultResolved {
    pub fault: TicketRef,
    /// The fault's resolution, as its resolver wrote it.
    pub resolution: String,
}

/// A fault whose resolution the complaint recorded was reopened: that
/// resolution no longer holds. Passed on like the resolution; it does not
/// change the complaint's status (its handler decides what to tell the
/// complainant, and may reopen the complaint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintLinkedFaultReopened {
    pub fault: TicketRef,
    /// Why the fault was reopened, as its reopener wrote it.
    pub reason: String,
}

/// The complaint's personal data was sealed anew under another data
/// subject's key, and the old key was then destroyed: the values of earlier
/// events read `[repaired]` (or `[merged]`), and this event holds them now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintPersonalDataResealed {
    /// The subject the data is sealed under from now on.
    pub subject: Uuid,
    /// The subject it was sealed under before.
    pub previous_subject: Uuid,
    pub cause: ResealCause,
    /// Why: an administrator's merge reason, or the repair's. Shown only to
    /// callers who may see personal data: two complaints sharing a merge
    /// reason would tell whose data is whose.
    pub reseal_reason: String,
    /// Every personal value the stream recorded under the previous subject.
    pub values: Vec<ResealedValue>,
}

/// A value as recorded before a correction, and the value that replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TextCorrection {
    /// The value recorded before.
    pub from: String,
    /// The value from now on.
    pub to: String,
}

/// The channel as recorded before a correction, and the channel that
/// replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChannelCorrection {
    /// The channel recorded before.
    pub from: Channel,
    /// The channel from now on.
    pub to: Channel,
}

/// The priority before a change, and the priority after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriorityCorrection {
    /// The priority before.
    pub from: Priority,
    /// The priority from now on.
    pub to: Priority,
}

/// The complainant's corrected values, sealed under the subject the
/// complaint belongs to after the correction. What they replace is the
/// complainant as the view had it before (the view's `corrections` shows
/// both); copying the old sealed values here would put one sealed value in
/// the log twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplainantCorrected {
    /// The right name; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Personal>,
    /// The right phone number; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Personal>,
    /// The right email address; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Personal>,
    /// The right customer reference; personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<Personal>,
    /// The complaint is another person's: these values replace the recorded
    /// complainant whole, and a field left out is no longer recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub another_person: bool,
}

/// What was recorded at filing was corrected: a compensating event, since
/// the filing itself is never rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintDetailsCorrected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<TextCorrection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelCorrection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complainant: Option<ComplainantCorrected>,
    /// The data subject the complaint's personal data is sealed under from
    /// now on, when the complaint turned out to be another person's whose
    /// subject is not the one recorded. Shown only to callers who may read
    /// personal data, as at filing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Uuid>,
    /// The subject the data was sealed under before; set with `subject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_subject: Option<Uuid>,
    /// How the correction came to an existing subject, as at filing; absent
    /// for a subject created for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_joined: Option<SubjectJoin>,
    /// The complaint's other personal values (its description, the messages
    /// sent to the complainant, their comment), sealed anew under `subject`:
    /// they are the complainant's, so their export and erasure must cover
    /// them. The recorded complainant's own details stay under the subject
    /// they were recorded under: they are that person's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resealed: Vec<ResealedValue>,
    /// Why the record was wrong.
    pub reason: String,
}

/// The complaint's priority was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintPriorityChanged {
    pub from: Priority,
    pub to: Priority,
    pub reason: String,
}

/// One event of a complaint's stream, as `{"type": "...", "payload": {...}}`.
// The filing is larger than the other variants; events are short-lived
// values built once per command, so boxing it would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum ComplaintEvent {
    #[serde(rename = "complaint.filed")]
    Filed(ComplaintFiled),
    #[serde(rename = "complaint.acknowledged")]
    Acknowledged(ComplaintAcknowledged),
    #[serde(rename = "complaint.assigned")]
    Assigned(ComplaintAssigned),
    #[serde(rename = "complaint.note_added")]
    NoteAdded(ComplaintNoteAdded),
    #[serde(rename = "complaint.waiting_on_customer")]
    WaitingOnCustomer(ComplaintWaitingOnCustomer),
    #[serde(rename = "complaint.resumed")]
    Resumed(ComplaintResumed),
    #[serde(rename = "complaint.resolved")]
    Resolved(ComplaintResolved),
    #[serde(rename = "complaint.satisfaction_recorded")]
    SatisfactionRecorded(ComplaintSatisfactionRecorded),
    #[serde(rename = "complaint.closed")]
    Closed(ComplaintClosed),
    #[serde(rename = "complaint.reopened")]
    Reopened(ComplaintReopened),
    #[serde(rename = "complaint.escalated")]
    Escalated(ComplaintEscalated),
    #[serde(rename = "complaint.linked_fault_resolved")]
    LinkedFaultResolved(ComplaintLinkedFaultResolved),
    #[serde(rename = "complaint.linked_fault_reopened")]
    LinkedFaultReopened(ComplaintLinkedFaultReopened),
    #[serde(rename = "complaint.linked")]
    Linked(TicketLinked),
    #[serde(rename = "complaint.unlinked")]
    Unlinked(TicketUnlinked),
    #[serde(rename = "complaint.personal_data_resealed")]
    PersonalDataResealed(ComplaintPersonalDataResealed),
    #[serde(rename = "complaint.details_corrected")]
    DetailsCorrected(ComplaintDetailsCorrected),
    #[serde(rename = "complaint.priority_changed")]
    PriorityChanged(ComplaintPriorityChanged),
    #[serde(rename = "sla.clocks_pinned")]
    SlaClocksPinned(SlaClocksPinned),
    #[serde(rename = "sla.clocks_paused")]
    SlaClocksPaused(SlaClocksPaused),
    #[serde(rename = "sla.clocks_resumed")]
    SlaClocksResumed(SlaClocksResumed),
    #[serde(rename = "sla.clock_stopped")]
    SlaClockStopped(SlaClockStopped),
}

const FILED: &str = "complaint.filed";
const ACKNOWLEDGED: &str = "complaint.acknowledged";
const ASSIGNED: &str = "complaint.assigned";
const NOTE_ADDED: &str = "complaint.note_added";
const WAITING_ON_CUSTOMER: &str = "complaint.waiting_on_customer";
const RESUMED: &str = "complaint.resumed";
const RESOLVED: &str = "complaint.resolved";
const SATISFACTION_RECORDED: &str = "complaint.satisfaction_recorded";
const CLOSED: &str = "complaint.closed";
const REOPENED: &str = "complaint.reopened";
const ESCALATED: &str = "complaint.escalated";
const LINKED_FAULT_RESOLVED: &str = "complaint.linked_fault_resolved";
const LINKED_FAULT_REOPENED: &str = "complaint.linked_fault_reopened";
const LINKED: &str = "complaint.linked";
const UNLINKED: &str = "complaint.unlinked";
const PERSONAL_DATA_RESEALED: &str = "complaint.personal_data_resealed";
const DETAILS_CORRECTED: &str = "complaint.details_corrected";
const PRIORITY_CHANGED: &str = "complaint.priority_changed";

impl ComplaintEvent {
    /// Every event type a complaint stream may contain.
    pub const EVENT_TYPES: &[&str] = &[
        FILED,
        ACKNOWLEDGED,
        ASSIGNED,
        NOTE_ADDED,
        WAITING_ON_CUSTOMER,
        RESUMED,
        RESOLVED,
        SATISFACTION_RECORDED,
        CLOSED,
        REOPENED,
        ESCALATED,
        LINKED_FAULT_RESOLVED,
        LINKED_FAULT_REOPENED,
        LINKED,
        UNLINKED,
        PERSONAL_DATA_RESEALED,
        DETAILS_CORRECTED,
        PRIORITY_CHANGED,
        clock::CLOCKS_PINNED,
        clock::CLOCKS_PAUSED,
        clock::CLOCKS_RESUMED,
        clock::CLOCK_STOPPED,
    ];

    /// The stored type name; equal to the `type` tag of the JSON form.
    pub fn event_type(&self) -> &'static str {
        match self {
            ComplaintEvent::Filed(_) => FILED,
            ComplaintEvent::Acknowledged(_) => ACKNOWLEDGED,
            ComplaintEvent::Assigned(_) => ASSIGNED,
            ComplaintEvent::NoteAdded(_) => NOTE_ADDED,
            ComplaintEvent::WaitingOnCustomer(_) => WAITING_ON_CUSTOMER,
            ComplaintEvent::Resumed(_) => RESUMED,
            ComplaintEvent::Resolved(_) => RESOLVED,
            ComplaintEvent::SatisfactionRecorded(_) => SATISFACTION_RECORDED,
            ComplaintEvent::Closed(_) => CLOSED,
            ComplaintEvent::Reopened(_) => REOPENED,
            ComplaintEvent::Escalated(_) => ESCALATED,
            ComplaintEvent::LinkedFaultResolved(_) => LINKED_FAULT_RESOLVED,
            ComplaintEvent::LinkedFaultReopened(_) => LINKED_FAULT_REOPENED,
            ComplaintEvent::Linked(_) => LINKED,
            ComplaintEvent::Unlinked(_) => UNLINKED,
            ComplaintEvent::PersonalDataResealed(_) => PERSONAL_DATA_RESEALED,
            ComplaintEvent::DetailsCorrected(_) => DETAILS_CORRECTED,
            ComplaintEvent::PriorityChanged(_) => PRIORITY_CHANGED,
            ComplaintEvent::SlaClocksPinned(_) => clock::CLOCKS_PINNED,
            ComplaintEvent::SlaClocksPaused(_) => clock::CLOCKS_PAUSED,
            ComplaintEvent::SlaClocksResumed(_) => clock::CLOCKS_RESUMED,
            ComplaintEvent::SlaClockStopped(_) => clock::CLOCK_STOPPED,
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The payload object alone, as stored next to the type and version.
    pub fn payload_json(&self) -> Value {
        let value = match self {
            ComplaintEvent::Filed(p) => serde_json::to_value(p),
            ComplaintEvent::Acknowledged(p) => serde_json::to_value(p),
            ComplaintEvent::Assigned(p) => serde_json::to_value(p),
            ComplaintEvent::NoteAdded(p) => serde_json::to_value(p),
            ComplaintEvent::WaitingOnCustomer(p) => serde_json::to_value(p),
            ComplaintEvent::Resumed(p) => serde_json::to_value(p),
            ComplaintEvent::Resolved(p) => serde_json::to_value(p),
            ComplaintEvent::SatisfactionRecorded(p) => serde_json::to_value(p),
            ComplaintEvent::Closed(p) => serde_json::to_value(p),
            ComplaintEvent::Reopened(p) => serde_json::to_value(p),
            ComplaintEvent::Escalated(p) => serde_json::to_value(p),
            ComplaintEvent::LinkedFaultResolved(p) => serde_json::to_value(p),
            ComplaintEvent::LinkedFaultReopened(p) => serde_json::to_value(p),
            ComplaintEvent::Linked(p) => serde_json::to_value(p),
            ComplaintEvent::Unlinked(p) => serde_json::to_value(p),
            ComplaintEvent::PersonalDataResealed(p) => serde_json::to_value(p),
            ComplaintEvent::DetailsCorrected(p) => serde_json::to_value(p),
            ComplaintEvent::PriorityChanged(p) => serde_json::to_value(p),
            ComplaintEvent::SlaClocksPinned(p) => serde_json::to_value(p),
            ComplaintEvent::SlaClocksPaused(p) => serde_json::to_value(p),
            ComplaintEvent::SlaClocksResumed(p) => serde_json::to_value(p),
            ComplaintEvent::SlaClockStopped(p) => serde_json::to_value(p),
        };
        // Serializing to a Value only fails for non-string map keys or a
        // failing custom Serialize; payloads are plain structs of strings,
        // integers, UUIDs and unit enums, so this cannot happen.
        value.expect("complaint payloads always serialize to JSON")
    }

    /// Every personal value of the event, with what kind of value it is: the
    /// application seals these before the event is stored. Internal notes
    /// are staff text, not the complainant's, and stay as written.
    pub fn personal_mut(&mut self) -> Vec<(PersonalField, &mut Personal)> {
        let mut out = Vec::new();
        match self {
            ComplaintEvent::Filed(e) => {
                out.push((PersonalField::Text, &mut e.description));
                e.complainant.personal_mut(&mut out);
            }
            ComplaintEvent::Acknowledged(e) => out.extend(e.message.as_mut().map(|m| (PersonalField::Text, m))),
            ComplaintEvent::NoteAdded(e) if e.visibility == NoteVisibility::Complainant => {
                out.push((PersonalField::Text, &mut e.body));
            }
            ComplaintEvent::SatisfactionRecorded(e) => out.extend(e.comment.as_mut().map(|c| (PersonalField::Text, c))),
            ComplaintEvent::PersonalDataResealed(e) => {
                out.extend(e.values.iter_mut().map(|v| (PersonalField::Text, &mut v.value)));
            }
            ComplaintEvent::DetailsCorrected(e) => {
                if let Some(c) = &mut e.complainant {
                    for (field, value) in [
                        (PersonalField::Name, &mut c.name),
                        (PersonalField::Phone, &mut c.phone),
                        (PersonalField::Email, &mut c.email),
                        (PersonalField::CustomerRef, &mut c.customer_ref),
                    ] {
                        out.extend(value.as_mut().map(|v| (field, v)));
                    }
                }
                out.extend(e.resealed.iter_mut().map(|v| (PersonalField::Text, &mut v.value)));
            }
            ComplaintEvent::NoteAdded(_)
            | ComplaintEvent::Assigned(_)
            | ComplaintEvent::WaitingOnCustomer(_)
            | ComplaintEvent::Resumed(_)
            | ComplaintEvent::Resolved(_)
            | ComplaintEvent::Closed(_)
            | ComplaintEvent::Reopened(_)
            | ComplaintEvent::Escalated(_)
            | ComplaintEvent::LinkedFaultResolved(_)
            | ComplaintEvent::LinkedFaultReopened(_)
            | ComplaintEvent::Linked(_)
            | ComplaintEvent::Unlinked(_)
            | ComplaintEvent::PriorityChanged(_)
            | ComplaintEvent::SlaClocksPinned(_)
            | ComplaintEvent::SlaClocksPaused(_)
            | ComplaintEvent::SlaClocksResumed(_)
            | ComplaintEvent::SlaClockStopped(_) => {}
        }
        out
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
    ) -> Result<ComplaintEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (FILED, 1) => decode(event_type, payload).map(ComplaintEvent::Filed),
            (ACKNOWLEDGED, 1) => decode(event_type, payload).map(ComplaintEvent::Acknowledged),
            (ASSIGNED, 1) => decode(event_type, payload).map(ComplaintEvent::Assigned),
            (NOTE_ADDED, 1) => decode(event_type, payload).map(ComplaintEvent::NoteAdded),
            (WAITING_ON_CUSTOMER, 1) => decode(event_type, payload).map(ComplaintEvent::WaitingOnCustomer),
            (RESUMED, 1) => decode(event_type, payload).map(ComplaintEvent::Resumed),
            (RESOLVED, 1) => decode(event_type, payload).map(ComplaintEvent::Resolved),
            (SATISFACTION_RECORDED, 1) => decode(event_type, payload).map(ComplaintEvent::SatisfactionRecorded),
            (CLOSED, 1) => decode(event_type, payload).map(ComplaintEvent::Closed),
            (REOPENED, 1) => decode(event_type, payload).map(ComplaintEvent::Reopened),
            (ESCALATED, 1) => decode(event_type, payload).map(ComplaintEvent::Escalated),
            (LINKED_FAULT_RESOLVED, 1) => decode(event_type, payload).map(ComplaintEvent::LinkedFaultResolved),
            (LINKED_FAULT_REOPENED, 1) => decode(event_type, payload).map(ComplaintEvent::LinkedFaultReopened),
            (LINKED, 1) => decode(event_type, payload).map(ComplaintEvent::Linked),
            (UNLINKED, 1) => decode(event_type, payload).map(ComplaintEvent::Unlinked),
            (PERSONAL_DATA_RESEALED, 1) => decode(event_type, payload).map(ComplaintEvent::PersonalDataResealed),
            (DETAILS_CORRECTED, 1) => decode(event_type, payload).map(ComplaintEvent::DetailsCorrected),
            (PRIORITY_CHANGED, 1) => decode(event_type, payload).map(ComplaintEvent::PriorityChanged),
            (clock::CLOCKS_PINNED, 1) => decode(event_type, payload).map(ComplaintEvent::SlaClocksPinned),
            (clock::CLOCKS_PAUSED, 1) => decode(event_type, payload).map(ComplaintEvent::SlaClocksPaused),
            (clock::CLOCKS_RESUMED, 1) => decode(event_type, payload).map(ComplaintEvent::SlaClocksResumed),
            (clock::CLOCK_STOPPED, 1) => decode(event_type, payload).map(ComplaintEvent::SlaClockStopped),
            (known, version) if ComplaintEvent::EVENT_TYPES.contains(&known) => Err(StreamCorrupt(format!(
                "{known} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!("{unknown} is not a complaint event type"))),
        }
    }
}

impl ComplaintEvent {
    /// Whether the event only adds to the lists of the view (notes, links,
    /// …), never changing or removing what they hold: the timeline then
    /// compares only past their old end. Listed type by type, so that a type
    /// added later counts as changing them until someone says otherwise.
    /// Not: a linked fault reopened (sets its resolution aside), an unlink,
    /// a reseal or a correction (both reseal values already in the lists).
    pub fn only_adds_to_lists(&self) -> bool {
        matches!(
            self,
            ComplaintEvent::Filed(_)
                | ComplaintEvent::Acknowledged(_)
                | ComplaintEvent::Assigned(_)
                | ComplaintEvent::NoteAdded(_)
                | ComplaintEvent::WaitingOnCustomer(_)
                | ComplaintEvent::Resumed(_)
                | ComplaintEvent::Resolved(_)
                | ComplaintEvent::SatisfactionRecorded(_)
                | ComplaintEvent::Closed(_)
                | ComplaintEvent::Reopened(_)
                | ComplaintEvent::Escalated(_)
                | ComplaintEvent::LinkedFaultResolved(_)
                | ComplaintEvent::Linked(_)
                | ComplaintEvent::PriorityChanged(_)
        )
    }
}

impl crate::domain::DomainEvent for ComplaintEvent {
    fn event_type(&self) -> &'static str {
        ComplaintEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        ComplaintEvent::schema_version(self)
    }

    fn payload_json(&self) -> Value {
        ComplaintEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<ComplaintEvent, StreamCorrupt> {
        ComplaintEvent::from_stored(event_type, schema_version, payload)
    }
}

impl ComplaintEvent {
    /// The ticket's share of a clock event.
    pub fn from_clock(event: ClockEvent) -> ComplaintEvent {
        match event {
            ClockEvent::Pinned(e) => ComplaintEvent::SlaClocksPinned(e),
            ClockEvent::Paused(e) => ComplaintEvent::SlaClocksPaused(e),
            ClockEvent::Resumed(e) => ComplaintEvent::SlaClocksResumed(e),
            ClockEvent::Stopped(e) => ComplaintEvent::SlaClockStopped(e),
        }
    }

    /// The clock event this is, if it is one.
    pub fn clock(&self) -> Option<ClockEvent> {
        match self {
            ComplaintEvent::SlaClocksPinned(e) => Some(ClockEvent::Pinned(e.clone())),
            ComplaintEvent::SlaClocksPaused(e) => Some(ClockEvent::Paused(e.clone())),
            ComplaintEvent::SlaClocksResumed(e) => Some(ClockEvent::Resumed(e.clone())),
            ComplaintEvent::SlaClockStopped(e) => Some(ClockEvent::Stopped(e.clone())),
            _ => None,
        }
    }
}
