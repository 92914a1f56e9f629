//! The complaint as it stands after its events: both the state that
//! [`super::decide`] checks commands against and the view that readers get.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::event::{ChannelCorrection, ComplaintEvent, PriorityCorrection, TextCorrection};
use super::{Channel, ComplainantRecord, NoteVisibility, Priority};
use crate::domain::link::{Link, TicketRef};
use crate::domain::sla::{self, Clocks, PolicyKey, TicketFacts};
use crate::domain::ticket::TicketKind;
use crate::domain::{EventMeta, Personal, StreamCorrupt};

/// Where a complaint is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    /// Received, nobody has answered the complainant yet.
    Filed,
    /// The complainant has had a first response.
    Acknowledged,
    /// Someone owns it and is working on it.
    InProgress,
    /// Paused until the customer answers.
    WaitingOnCustomer,
    /// A resolution was given; it may still be rated, closed or reopened.
    Resolved,
    /// Done. Only internal notes and a late satisfaction rating are accepted.
    Closed,
}

impl ComplaintStatus {
    pub const ALL: [ComplaintStatus; 6] = [
        ComplaintStatus::Filed,
        ComplaintStatus::Acknowledged,
        ComplaintStatus::InProgress,
        ComplaintStatus::WaitingOnCustomer,
        ComplaintStatus::Resolved,
        ComplaintStatus::Closed,
    ];

    /// The JSON spelling, also used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintStatus::Filed => "filed",
            ComplaintStatus::Acknowledged => "acknowledged",
            ComplaintStatus::InProgress => "in_progress",
            ComplaintStatus::WaitingOnCustomer => "waiting_on_customer",
            ComplaintStatus::Resolved => "resolved",
            ComplaintStatus::Closed => "closed",
        }
    }

    /// The status of that JSON spelling.
    pub fn parse(s: &str) -> Option<ComplaintStatus> {
        ComplaintStatus::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// A note or a progress update, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    /// When the note was added (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of the author.
    pub by: String,
    /// The text of the note. A progress update for the complainant is personal
    /// data (clear, masked or `[erased]`, see `Personal`); an internal note is
    /// staff text and always shown as written.
    pub body: Personal,
    /// Who may read the note: staff only (`internal`) or also the complainant
    /// (`complainant`).
    pub visibility: NoteVisibility,
}

/// The current resolution of a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Resolution {
    /// What was done to resolve the complaint.
    pub resolution: String,
    /// Why it happened, as given with the resolution; `null` when none was
    /// given.
    pub root_cause: Option<String>,
    /// When the complaint was resolved (RFC 3339 date-time, UTC).
    pub resolved_at: DateTime<Utc>,
    /// Actor id of whoever resolved it.
    pub resolved_by: String,
}

/// The complainant's rating of the current resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Satisfaction {
    /// 1 (very unhappy) to 5 (very happy).
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    /// The complainant's own words about the resolution (personal data, see
    /// `Personal`); `null` when only a rating was recorded.
    pub comment: Option<Personal>,
    /// When the rating was recorded (RFC 3339 date-time, UTC).
    pub recorded_at: DateTime<Utc>,
    /// Actor id of whoever recorded it.
    pub recorded_by: String,
}

/// A resolution of a fault the complaint is escalated or linked to, as
/// passed on to the complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkedFaultResolution {
    /// The fault that was resolved: one the complaint was escalated to or is
    /// linked to.
    pub fault: TicketRef,
    /// What was done to resolve the fault, as its resolver wrote it.
    pub resolution: String,
    /// When the complaint learned of it.
    pub at: DateTime<Utc>,
    /// Set when the fault was reopened after this resolution: it no longer holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopened: Option<LinkedFaultReopening>,
}

/// Why and when a fault's passed-on resolution was set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkedFaultReopening {
    /// Why the fault was reopened, as given when it was reopened.
    pub reason: String,
    /// When the complaint learned of it.
    pub at: DateTime<Utc>,
}

/// One correction of the complaint's record, or change of its priority:
/// each value it changed, with the value it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Correction {
    /// When the correction was recorded (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of whoever corrected it.
    pub by: String,
    /// Why the record was wrong, or why the priority changed.
    pub reason: String,
    /// The category before and after; absent when it was not corrected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<TextCorrection>,
    /// The channel before and after; absent when it was not corrected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelCorrection>,
    /// The priority before and after; absent when it did not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<PriorityCorrection>,
    /// The complainant before and after; absent when not corrected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complainant: Option<ComplainantChange>,
}

/// The complainant as recorded before a correction and after it (personal
/// data, see `Personal`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplainantChange {
    /// The complainant as recorded before the correction.
    pub from: ComplainantRecord,
    /// The complainant as recorded after it.
    pub to: ComplainantRecord,
    /// Whether the complaint turned out to be another person's: `from` is
    /// then someone else than `to`, and their data stays theirs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub another_person: bool,
}

/// A customer complaint as it currently stands. Its full history is the
/// event stream; this view keeps only the current resolution and rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Complaint {
    /// The complaint's identifier (UUID); never changes.
    pub id: Uuid,
    /// The human-facing reference.
    pub number: String,
    /// The complainant's data subject (see `complaint.filed`).
    pub subject: Uuid,
    /// Where the complaint is in its life.
    pub status: ComplaintStatus,
    /// The complaint in one line, as filed.
    pub title: String,
    /// What the complainant reported, as filed (personal data, see `Personal`).
    pub description: Personal,
    /// How the complaint reached us.
    pub channel: Channel,
    /// Who complained and how to reach them (personal data).
    pub complainant: ComplainantRecord,
    /// Free-form classification given at filing.
    pub category: String,
    /// How urgent the complaint is, `P1` being the most urgent.
    pub priority: Priority,
    /// The team that owns the complaint; `null` until it is assigned to one.
    pub team: Option<String>,
    /// Actor id or name of the person who owns the complaint.
    pub assignee: Option<String>,
    /// When the complaint was filed (RFC 3339 date-time, UTC).
    pub created_at: DateTime<Utc>,
    /// Actor id of whoever filed the complaint.
    pub created_by: String,
    /// When the last event was recorded on the complaint (RFC 3339 date-time,
    /// UTC).
    pub updated_at: DateTime<Utc>,
    /// Version of the last event folded in; send it back as the expected
    /// version to detect concurrent changes.
    pub version: u64,
    /// When the complainant got the first response (RFC 3339 date-time, UTC);
    /// `null` until the complaint is acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The message sent when the complaint was acknowledged.
    pub first_response: Option<Personal>,
    /// Internal notes and progress updates for the complainant, oldest first;
    /// empty when there are none.
    pub notes: Vec<Note>,
    /// Set while the complaint waits on the customer.
    pub waiting_reason: Option<String>,
    /// How the complaint was resolved; `null` until it is resolved, and again
    /// after it is reopened.
    pub resolution: Option<Resolution>,
    /// The rating of the current resolution, if one was recorded.
    pub satisfaction: Option<Satisfaction>,
    /// When the complaint was closed (RFC 3339 date-time, UTC); `null` while it
    /// is open, and again after it is reopened.
    pub closed_at: Option<DateTime<Utc>>,
    /// How many times a resolution was reopened.
    pub reopen_count: u32,
    // The fields below came after views were first stored; `default` lets
    // those views still deserialize until they are rebuilt.
    /// The fault this complaint was escalated to, if it was.
    #[serde(default)]
    pub escalated_to: Option<TicketRef>,
    /// Resolutions of faults the complaint is escalated or linked to, oldest first.
    #[serde(default)]
    pub linked_fault_resolutions: Vec<LinkedFaultResolution>,
    /// Links to other tickets, in the order they were made.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Corrections of what was recorded at filing and changes of priority,
    /// oldest first; empty when there are none.
    #[serde(default)]
    pub corrections: Vec<Correction>,
    /// The service-level clocks, pinned at filing; `null` when SLA clocks
    /// are off, or for a complaint filed before they were kept and not yet
    /// upgraded.
    #[serde(default)]
    pub sla: Option<Clocks>,
}

impl Complaint {
    /// Every personal value the view holds (internal notes hold staff text
    /// in clear and are skipped by whoever seals or reseals).
    fn personal_mut(&mut self) -> impl Iterator<Item = &mut Personal> {
        let complainant = &mut self.complainant;
        std::iter::once(&mut self.description)
            .chain(std::iter::once(&mut complainant.name))
            .chain(complainant.phone.iter_mut())
            .chain(complainant.email.iter_mut())
            .chain(complainant.customer_ref.iter_mut())
            .chain(self.first_response.iter_mut())
            .chain(self.notes.iter_mut().map(|n| &mut n.body))
            .chain(self.satisfaction.iter_mut().filter_map(|s| s.comment.as_mut()))
            .chain(
                self.corrections
                    .iter_mut()
                    .filter_map(|c| c.complainant.as_mut())
                    .flat_map(|c| [&mut c.from, &mut c.to])
                    .flat_map(|r| {
                        std::iter::once(&mut r.name)
                            .chain(r.phone.iter_mut())
                            .chain(r.email.iter_mut())
                            .chain(r.customer_ref.iter_mut())
                    }),
            )
    }

    /// What the complaint's service-level clocks follow.
    pub fn sla_facts(&self) -> TicketFacts {
        let resolved = matches!(self.status, ComplaintStatus::Resolved | ComplaintStatus::Closed);
        TicketFacts {
            key: Some(PolicyKey::Complaint {
                priority: self.priority,
            }),
            reported_at: self.created_at,
            responded: self.acknowledged_at.is_some(),
            resolved,
            waiting: self.status == ComplaintStatus::WaitingOnCustomer,
            cycle: self.reopen_count.saturating_add(1),
        }
    }

    /// How other tickets' events refer to this complaint.
    pub fn ticket_ref(&self) -> TicketRef {
        TicketRef {
            id: self.id,
            number: self.number.clone(),
            kind: TicketKind::Complaint,
        }
    }
}

/// Folds one event into the complaint.
///
/// Business rules were checked by [`super::decide`] when the event was
/// produced and are not checked again: a stored event is a fact. Only an
/// order no decision could have produced (anything before `complaint.filed`,
/// or a second `complaint.filed`) is refused.
pub fn evolve(state: Option<Complaint>, event: &ComplaintEvent, meta: &EventMeta) -> Result<Complaint, StreamCorrupt> {
    let mut c = match (state, event) {
        (None, ComplaintEvent::Filed(f)) => {
            return Ok(Complaint {
                id: f.id,
                number: f.number.clone(),
                subject: f.subject,
                status: ComplaintStatus::Filed,
                title: f.title.clone(),
                description: f.description.clone(),
                channel: f.channel,
                complainant: f.complainant.clone(),
                category: f.category.clone(),
                priority: f.priority,
                team: None,
                assignee: None,
                created_at: meta.recorded_at,
                created_by: meta.actor.to_owned(),
                updated_at: meta.recorded_at,
                version: meta.version,
                acknowledged_at: None,
                first_response: None,
                notes: Vec::new(),
                waiting_reason: None,
                resolution: None,
                satisfaction: None,
                closed_at: None,
                reopen_count: 0,
                escalated_to: None,
                linked_fault_resolutions: Vec::new(),
                links: Vec::new(),
                corrections: Vec::new(),
                sla: None,
            });
        }
        (None, other) => {
            return Err(StreamCorrupt(format!(
                "a complaint stream must start with complaint.filed, not {}",
                other.event_type()
            )));
        }
        (Some(c), ComplaintEvent::Filed(_)) => {
            return Err(StreamCorrupt(format!(
                "complaint {} was filed twice (second time at version {})",
                c.id, meta.version
            )));
        }
        (Some(c), _) => c,
    };

    match event {
        // Handled above; kept explicit so a new variant forces a decision here.
        ComplaintEvent::Filed(_) => {}
        ComplaintEvent::SlaClocksPinned(_)
        | ComplaintEvent::SlaClocksPaused(_)
        | ComplaintEvent::SlaClocksResumed(_)
        | ComplaintEvent::SlaClockStopped(_) => {
            if let Some(clock) = event.clock() {
                c.sla = Some(sla::clock::evolve(c.sla.take(), &clock, meta));
            }
        }
        ComplaintEvent::Acknowledged(e) => {
            c.status = ComplaintStatus::Acknowledged;
            c.acknowledged_at = Some(meta.recorded_at);
            c.first_response = e.message.clone();
        }
        ComplaintEvent::Assigned(e) => {
            c.team = e.team.clone();
            c.assignee = e.assignee.clone();
            // Work starts when someone owns it; before acknowledgement the
            // complainant still awaits a first response, and later states
            // already say more than "in progress".
            if c.status == ComplaintStatus::Acknowledged {
                c.status = ComplaintStatus::InProgress;
            }
        }
        ComplaintEvent::NoteAdded(e) => c.notes.push(Note {
            at: meta.recorded_at,
            by: meta.actor.to_owned(),
            body: e.body.clone(),
            visibility: e.visibility,
        }),
        ComplaintEvent::WaitingOnCustomer(e) => {
            c.status = ComplaintStatus::WaitingOnCustomer;
            c.waiting_reason = Some(e.reason.clone());
        }
        ComplaintEvent::Resumed(_) => {
            c.status = ComplaintStatus::InProgress;
            c.waiting_reason = None;
        }
        ComplaintEvent::Resolved(e) => {
            c.status = ComplaintStatus::Resolved;
            // A complaint can be resolved straight from waiting on the
            // customer; the view must not keep claiming it waits.
            c.waiting_reason = None;
            c.resolution = Some(Resolution {
                resolution: e.resolution.clone(),
                root_cause: e.root_cause.clone(),
                resolved_at: meta.recorded_at,
                resolved_by: meta.actor.to_owned(),
            });
        }
        ComplaintEvent::SatisfactionRecorded(e) => {
            c.satisfaction = Some(Satisfaction {
                rating: e.rating,
                comment: e.comment.clone(),
                recorded_at: meta.recorded_at,
                recorded_by: meta.actor.to_owned(),
            });
        }
        ComplaintEvent::Closed(_) => {
            c.status = ComplaintStatus::Closed;
            c.closed_at = Some(meta.recorded_at);
        }
        ComplaintEvent::Reopened(_) => {
            c.status = ComplaintStatus::InProgress;
            // The rating belonged to the resolution being disputed; a new
            // resolution gets its own. The events keep both.
            c.resolution = None;
            c.satisfaction = None;
            c.closed_at = None;
            // Saturating so that even a tampered stream cannot panic the fold.
            c.reopen_count = c.reopen_count.saturating_add(1);
        }
        ComplaintEvent::Escalated(e) => c.escalated_to = Some(e.fault.clone()),
        ComplaintEvent::LinkedFaultResolved(e) => c.linked_fault_resolutions.push(LinkedFaultResolution {
            fault: e.fault.clone(),
            resolution: e.resolution.clone(),
            at: meta.recorded_at,
            reopened: None,
        }),
        // Sets aside the fault's latest resolution, unless that is set
        // aside already (older ones were superseded by it). A complaint
        // linked to the fault only after its resolution has none; the event
        // stays in its history all the same.
        ComplaintEvent::LinkedFaultReopened(e) => {
            if let Some(r) = c
                .linked_fault_resolutions
                .iter_mut()
                .rev()
                .find(|r| r.fault.id == e.fault.id)
                .filter(|r| r.reopened.is_none())
            {
                r.reopened = Some(LinkedFaultReopening {
                    reason: e.reason.clone(),
                    at: meta.recorded_at,
                });
            }
        }
        ComplaintEvent::Linked(e) => c.links.push(Link::recorded(e, meta)),
        ComplaintEvent::Unlinked(e) => crate::domain::link::remove_link(&mut c.links, e),
        ComplaintEvent::PersonalDataResealed(e) => {
            c.subject = e.subject;
            super::reseal_fields(c.personal_mut(), &e.values);
        }
        ComplaintEvent::DetailsCorrected(e) => {
            super::reseal_fields(c.personal_mut(), &e.resealed);
            if let Some(subject) = e.subject {
                c.subject = subject;
            }
            if let Some(category) = &e.category {
                c.category = category.to.clone();
            }
            if let Some(channel) = &e.channel {
                c.channel = channel.to;
            }
            let complainant = e.complainant.as_ref().map(|k| {
                let from = c.complainant.clone();
                c.complainant = if k.another_person {
                    ComplainantRecord {
                        // A correction to another person always names them;
                        // only a tampered event could leave the name out.
                        name: k.name.clone().unwrap_or_else(|| from.name.clone()),
                        phone: k.phone.clone(),
                        email: k.email.clone(),
                        customer_ref: k.customer_ref.clone(),
                    }
                } else {
                    ComplainantRecord {
                        name: k.name.clone().unwrap_or_else(|| from.name.clone()),
                        phone: k.phone.clone().or_else(|| from.phone.clone()),
                        email: k.email.clone().or_else(|| from.email.clone()),
                        customer_ref: k.customer_ref.clone().or_else(|| from.customer_ref.clone()),
                    }
                };
                ComplainantChange {
                    from,
                    to: c.complainant.clone(),
                    another_person: k.another_person,
                }
            });
            c.corrections.push(Correction {
                at: meta.recorded_at,
                by: meta.actor.to_owned(),
                reason: e.reason.clone(),
                category: e.category.clone(),
                channel: e.channel.clone(),
                priority: None,
                complainant,
            });
        }
        ComplaintEvent::PriorityChanged(e) => {
            c.priority = e.to;
            c.corrections.push(Correction {
                at: meta.recorded_at,
                by: meta.actor.to_owned(),
                reason: e.reason.clone(),
                category: None,
                channel: None,
                priority: Some(PriorityCorrection { from: e.from, to: e.to }),
                complainant: None,
            });
        }
    }
    c.updated_at = meta.recorded_at;
    c.version = meta.version;
    Ok(c)
}
