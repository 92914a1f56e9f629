//! The fault as it stands after its events: both the state that
//! [`super::decide`] checks commands against and the view that readers get.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::DetectedBy;
use super::event::FaultEvent;
use crate::domain::link::{Link, TicketRef};
use crate::domain::maintenance::MaintenanceType;
use crate::domain::sla::{self, Clocks, PolicyKey, TicketFacts};
use crate::domain::ticket::TicketKind;
use crate::domain::{EventMeta, StreamCorrupt};

/// Where a fault is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultStatus {
    /// Reported, not yet looked at.
    Reported,
    /// Has a severity and an evaluator; waiting for investigation.
    Triaged,
    /// A technician is finding the cause.
    Investigating,
    /// A workaround limits the impact; the cause is not fixed yet.
    Mitigated,
    /// Fixed, with its root cause; may still be reviewed, closed or reopened.
    Resolved,
    /// Done. Notes, action items and a late review are still accepted.
    Closed,
}

impl FaultStatus {
    pub const ALL: [FaultStatus; 6] = [
        FaultStatus::Reported,
        FaultStatus::Triaged,
        FaultStatus::Investigating,
        FaultStatus::Mitigated,
        FaultStatus::Resolved,
        FaultStatus::Closed,
    ];

    /// The JSON spelling, also used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultStatus::Reported => "reported",
            FaultStatus::Triaged => "triaged",
            FaultStatus::Investigating => "investigating",
            FaultStatus::Mitigated => "mitigated",
            FaultStatus::Resolved => "resolved",
            FaultStatus::Closed => "closed",
        }
    }

    /// The status of that JSON spelling.
    pub fn parse(s: &str) -> Option<FaultStatus> {
        FaultStatus::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// The evaluator's latest assessment of the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    /// What kind of fault this is, in the evaluator's words.
    pub nature: String,
    /// The evaluator's estimate of the work needed to fix the fault, in
    /// person-minutes.
    pub estimated_effort_minutes: u32,
    /// 1 (most urgent) to 4.
    #[schema(minimum = 1, maximum = 4)]
    pub proposed_priority: u8,
    /// When the evaluation was recorded (RFC 3339 date-time, UTC).
    pub evaluated_at: DateTime<Utc>,
    /// Actor id of the evaluator.
    pub evaluated_by: String,
}

/// The current resolution of a fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultResolution {
    /// What was done to resolve the fault.
    pub resolution: String,
    /// Why the fault happened, as found when it was resolved.
    pub root_cause: String,
    /// When the fault was resolved (RFC 3339 date-time, UTC).
    pub resolved_at: DateTime<Utc>,
    /// Actor id of whoever resolved it.
    pub resolved_by: String,
}

/// One logged piece of repair work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Repair {
    /// Ordinal on this fault, from 1.
    pub repair: u32,
    /// Who did the work, as the person logging it named them.
    pub technician: String,
    /// What was done.
    pub action_taken: String,
    /// When the work started (RFC 3339 date-time, UTC).
    pub started_at: DateTime<Utc>,
    /// When the work ended (RFC 3339 date-time, UTC); after `started_at`.
    pub ended_at: DateTime<Utc>,
    /// Working time of everyone involved, in person-minutes (two people for an
    /// hour are 120); not derived from `started_at` and `ended_at`.
    pub person_minutes: u32,
    /// Why the work was done; decides which total of `person_minutes` on the
    /// fault it counts towards.
    pub maintenance_type: MaintenanceType,
    /// Parts used, in the order given; empty when none were.
    pub parts: Vec<String>,
    /// When the repair was logged (RFC 3339 date-time, UTC).
    pub logged_at: DateTime<Utc>,
    /// Actor id of whoever logged it.
    pub logged_by: String,
    /// Set when the repair was voided as logged in error: it then counts
    /// towards none of the fault's person-minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<Voiding>,
}

/// Who voided a repair, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Voiding {
    /// When the repair was voided (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of whoever voided it.
    pub by: String,
    /// Why the record was wrong.
    pub reason: String,
}

/// A correction of the service the fault affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AffectedServiceCorrection {
    /// The service recorded before the correction.
    pub from: String,
    /// The service recorded after it.
    pub to: String,
    /// Why the record was wrong.
    pub reason: String,
    /// When the correction was recorded (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of whoever corrected it.
    pub by: String,
}

/// Person-minutes of all repairs not voided, by maintenance type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PersonMinutes {
    /// Person-minutes of corrective work (fixing what is broken), summed over
    /// every repair not voided.
    pub corrective: u64,
    /// Person-minutes of adaptive work (adapting to a changed environment),
    /// summed over every repair not voided.
    pub adaptive: u64,
    /// Person-minutes of perfective work (improving performance or
    /// maintainability), summed over every repair not voided.
    pub perfective: u64,
    /// Person-minutes of preventive work (preventing future faults), summed
    /// over every repair not voided.
    pub preventive: u64,
    /// Person-minutes of all work, summed over every repair not voided; the sum of the
    /// four types.
    pub total: u64,
}

impl PersonMinutes {
    /// The totals of `repairs`, leaving out the voided ones.
    fn of(repairs: &[Repair]) -> PersonMinutes {
        let mut totals = PersonMinutes::default();
        for repair in repairs.iter().filter(|r| r.voided.is_none()) {
            totals.add(repair.maintenance_type, repair.person_minutes);
        }
        totals
    }

    fn add(&mut self, maintenance_type: MaintenanceType, minutes: u32) {
        let minutes = u64::from(minutes);
        let bucket = match maintenance_type {
            MaintenanceType::Corrective => &mut self.corrective,
            MaintenanceType::Adaptive => &mut self.adaptive,
            MaintenanceType::Perfective => &mut self.perfective,
            MaintenanceType::Preventive => &mut self.preventive,
        };
        // Saturating so that even a tampered stream cannot panic the fold.
        *bucket = bucket.saturating_add(minutes);
        self.total = self.total.saturating_add(minutes);
    }
}

/// When and by whom an action item was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionItemDone {
    /// When the item was marked done (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of whoever completed it.
    pub by: String,
    /// What was done, as given when the item was completed; `null` when no note
    /// was given.
    pub note: Option<String>,
}

/// A follow-up action of the post-incident review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    /// Number in the review, from 1.
    pub item: u32,
    /// What is to be done.
    pub description: String,
    /// Who is responsible for it.
    pub owner: String,
    /// When it is due (ISO 8601 date, `YYYY-MM-DD`).
    pub due_on: NaiveDate,
    /// Set once the item is done.
    pub done: Option<ActionItemDone>,
}

/// The post-incident review of a fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = FaultReview)]
pub struct Review {
    /// What happened.
    pub summary: String,
    /// Why it happened.
    pub root_cause: String,
    /// What made it worse, in the order given; empty when none were named.
    pub contributing_factors: Vec<String>,
    /// Follow-up actions, in item-number order; empty when none were agreed.
    pub action_items: Vec<ActionItem>,
    /// When the review was written (RFC 3339 date-time, UTC).
    pub written_at: DateTime<Utc>,
    /// Actor id of the author.
    pub written_by: String,
}

/// An internal note, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultNote {
    /// When the note was added (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of the author.
    pub by: String,
    /// The note, as written; staff text, not personal data.
    pub body: String,
}

/// A fault as it currently stands. Its full history is the event stream;
/// this view keeps only the current resolution and evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fault {
    /// The fault's identifier (UUID); never changes.
    pub id: Uuid,
    /// The human-facing reference.
    pub number: String,
    /// Where the fault is in its life.
    pub status: FaultStatus,
    /// The fault in one line, as reported.
    pub title: String,
    /// What is broken and how it shows, as reported.
    pub description: String,
    /// The service that is affected.
    pub affected_service: String,
    /// How the fault came to our attention.
    pub detected_by: DetectedBy,
    /// The complaint this fault was escalated from, if it was.
    pub escalated_from: Option<TicketRef>,
    /// 1 (critical) to 4 (low); set by triage.
    #[schema(minimum = 1, maximum = 4)]
    pub severity: Option<u8>,
    /// Actor id of who evaluates the fault; set by triage.
    pub evaluator: Option<String>,
    /// The evaluator's latest assessment; `null` until the evaluator records
    /// one.
    pub evaluation: Option<Evaluation>,
    /// Actor id of the technician working on the fault; `null` until one is
    /// assigned (at triage or later).
    pub technician: Option<String>,
    /// The current workaround, if the fault was mitigated.
    pub workaround: Option<String>,
    /// When the current workaround was recorded (RFC 3339 date-time, UTC);
    /// `null` until the fault is mitigated. Kept after the fault is resolved.
    pub mitigated_at: Option<DateTime<Utc>>,
    /// How the fault was resolved and why it happened; `null` until it is
    /// resolved, and again after it is reopened.
    pub resolution: Option<FaultResolution>,
    /// Every repair, in the order they were logged.
    pub repairs: Vec<Repair>,
    /// Totals over `repairs`, voided ones left out.
    pub person_minutes: PersonMinutes,
    /// The post-incident review; `null` until one is written (a fault has at
    /// most one).
    pub review: Option<Review>,
    /// Internal notes, oldest first; empty when there are none.
    pub notes: Vec<FaultNote>,
    /// Links to other tickets, in the order they were made.
    pub links: Vec<Link>,
    /// When the fault was reported (RFC 3339 date-time, UTC).
    pub created_at: DateTime<Utc>,
    /// Actor id of whoever reported the fault.
    pub created_by: String,
    /// When the last event was recorded on the fault (RFC 3339 date-time, UTC).
    pub updated_at: DateTime<Utc>,
    /// Version of the last event folded in; send it back as the expected
    /// version to detect concurrent changes.
    pub version: u64,
    /// When the fault was first triaged; a re-triage keeps it.
    pub triaged_at: Option<DateTime<Utc>>,
    /// When the fault was closed (RFC 3339 date-time, UTC); `null` while it is
    /// open, and again after it is reopened.
    pub closed_at: Option<DateTime<Utc>>,
    /// How many times a resolution was reopened.
    pub reopen_count: u32,
    /// Corrections of the affected service, oldest first; empty when there
    /// are none. (`default`: views stored before corrections still read.)
    #[serde(default)]
    pub affected_service_corrections: Vec<AffectedServiceCorrection>,
    /// The service-level clocks, pinned at the first triage; `null` before
    /// it (a fault has no severity when reported) and when SLA clocks are
    /// off.
    #[serde(default)]
    pub sla: Option<Clocks>,
}

impl Fault {
    /// How other tickets' events refer to this fault.
    pub fn sla_facts(&self) -> TicketFacts {
        TicketFacts {
            key: self.severity.map(|severity| PolicyKey::Fault { severity }),
            reported_at: self.created_at,
            // The first response to a fault is someone working on it: the
            // investigation started (or, sooner, a mitigation or fix).
            responded: !matches!(self.status, FaultStatus::Reported | FaultStatus::Triaged),
            resolved: matches!(self.status, FaultStatus::Resolved | FaultStatus::Closed),
            waiting: false,
            cycle: self.reopen_count.saturating_add(1),
        }
    }

    pub fn ticket_ref(&self) -> TicketRef {
        TicketRef {
            id: self.id,
            number: self.number.clone(),
            kind: TicketKind::Fault,
        }
    }

    /// The complaints to tell when this fault is resolved: the one it was
    /// escalated from and every linked complaint, each once, in that order.
    pub fn complaints_to_inform(&self) -> Vec<TicketRef> {
        let linked = self.links.iter().map(|l| &l.other);
        let mut out: Vec<TicketRef> = Vec::new();
        for t in self.escalated_from.iter().chain(linked) {
            if t.kind == TicketKind::Complaint && !out.iter().any(|o| o.id == t.id) {
                out.push(t.clone());
            }
        }
        out
    }
}

/// Folds one event into the fault.
///
/// Business rules were checked by [`super::decide`] when the event was
/// produced and are not checked again: a stored event is a fact. Only an
/// order no decision could have produced (anything before `fault.reported`,
/// or a second `fault.reported`) is refused.
pub fn evolve(state: Option<Fault>, event: &FaultEvent, meta: &EventMeta) -> Result<Fault, StreamCorrupt> {
    let mut f = match (state, event) {
        (None, FaultEvent::Reported(r)) => {
            return Ok(Fault {
                id: r.id,
                number: r.number.clone(),
                status: FaultStatus::Reported,
                title: r.title.clone(),
                description: r.description.clone(),
                affected_service: r.affected_service.clone(),
                detected_by: r.detected_by,
                escalated_from: r.escalated_from.clone(),
                severity: None,
                evaluator: None,
                evaluation: None,
                technician: None,
                workaround: None,
                mitigated_at: None,
                resolution: None,
                repairs: Vec::new(),
                person_minutes: PersonMinutes::default(),
                review: None,
                notes: Vec::new(),
                links: Vec::new(),
                created_at: meta.recorded_at,
                created_by: meta.actor.to_owned(),
                updated_at: meta.recorded_at,
                version: meta.version,
                triaged_at: None,
                closed_at: None,
                reopen_count: 0,
                affected_service_corrections: Vec::new(),
                sla: None,
            });
        }
        (None, other) => {
            return Err(StreamCorrupt(format!(
                "a fault stream must start with fault.reported, not {}",
                other.event_type()
            )));
        }
        (Some(f), FaultEvent::Reported(_)) => {
            return Err(StreamCorrupt(format!(
                "fault {} was reported twice (second time at version {})",
                f.id, meta.version
            )));
        }
        (Some(f), _) => f,
    };

    match event {
        // Handled above; kept explicit so a new variant forces a decision here.
        FaultEvent::Reported(_) => {}
        FaultEvent::SlaClocksPinned(_)
        | FaultEvent::SlaClocksPaused(_)
        | FaultEvent::SlaClocksResumed(_)
        | FaultEvent::SlaClockStopped(_) => {
            if let Some(clock) = event.clock() {
                f.sla = Some(sla::clock::evolve(f.sla.take(), &clock, meta));
            }
        }
        FaultEvent::Triaged(e) => {
            // A re-triage changes severity and evaluator, not where the work is.
            if f.status == FaultStatus::Reported {
                f.status = FaultStatus::Triaged;
            }
            f.severity = Some(e.severity);
            f.evaluator = Some(e.evaluator.clone());
            if let Some(technician) = &e.technician {
                f.technician = Some(technician.clone());
            }
            f.triaged_at.get_or_insert(meta.recorded_at);
        }
        FaultEvent::Evaluated(e) => {
            f.evaluation = Some(Evaluation {
                nature: e.nature.clone(),
                estimated_effort_minutes: e.estimated_effort_minutes,
                proposed_priority: e.proposed_priority,
                evaluated_at: meta.recorded_at,
                evaluated_by: meta.actor.to_owned(),
            });
        }
        FaultEvent::TechnicianAssigned(e) => f.technician = Some(e.technician.clone()),
        FaultEvent::InvestigationStarted(_) => f.status = FaultStatus::Investigating,
        FaultEvent::Mitigated(e) => {
            f.status = FaultStatus::Mitigated;
            f.workaround = Some(e.workaround.clone());
            f.mitigated_at = Some(meta.recorded_at);
        }
        FaultEvent::Resolved(e) => {
            f.status = FaultStatus::Resolved;
            f.resolution = Some(FaultResolution {
                resolution: e.resolution.clone(),
                root_cause: e.root_cause.clone(),
                resolved_at: meta.recorded_at,
                resolved_by: meta.actor.to_owned(),
            });
        }
        FaultEvent::Closed(_) => {
            f.status = FaultStatus::Closed;
            f.closed_at = Some(meta.recorded_at);
        }
        FaultEvent::Reopened(_) => {
            f.status = FaultStatus::Investigating;
            // The resolution did not hold; the next one replaces it. The
            // events keep both.
            f.resolution = None;
            f.closed_at = None;
            // Saturating so that even a tampered stream cannot panic the fold.
            f.reopen_count = f.reopen_count.saturating_add(1);
        }
        FaultEvent::RepairLogged(e) => {
            f.person_minutes.add(e.maintenance_type, e.person_minutes);
            f.repairs.push(Repair {
                repair: e.repair,
                technician: e.technician.clone(),
                action_taken: e.action_taken.clone(),
                started_at: e.started_at,
                ended_at: e.ended_at,
                person_minutes: e.person_minutes,
                maintenance_type: e.maintenance_type,
                parts: e.parts.clone(),
                logged_at: meta.recorded_at,
                logged_by: meta.actor.to_owned(),
                voided: None,
            });
        }
        FaultEvent::ReviewWritten(e) => {
            f.review = Some(Review {
                summary: e.summary.clone(),
                root_cause: e.root_cause.clone(),
                contributing_factors: e.contributing_factors.clone(),
                action_items: e
                    .action_items
                    .iter()
                    .map(|a| ActionItem {
                        item: a.item,
                        description: a.description.clone(),
                        owner: a.owner.clone(),
                        due_on: a.due_on,
                        done: None,
                    })
                    .collect(),
                written_at: meta.recorded_at,
                written_by: meta.actor.to_owned(),
            });
        }
        FaultEvent::ActionItemCompleted(e) => {
            // An item the review does not have is ignored rather than
            // refused: the fold does not re-judge stored facts.
            let item = f
                .review
                .as_mut()
                .and_then(|r| r.action_items.iter_mut().find(|a| a.item == e.item));
            if let Some(item) = item {
                item.done = Some(ActionItemDone {
                    at: meta.recorded_at,
                    by: meta.actor.to_owned(),
                    note: e.note.clone(),
                });
            }
        }
        FaultEvent::NoteAdded(e) => f.notes.push(FaultNote {
            at: meta.recorded_at,
            by: meta.actor.to_owned(),
            body: e.body.clone(),
        }),
        FaultEvent::Linked(e) => f.links.push(Link::recorded(e, meta)),
        FaultEvent::Unlinked(e) => crate::domain::link::remove_link(&mut f.links, e),
        FaultEvent::RepairVoided(e) => {
            // A repair the fault does not have is ignored rather than
            // refused: the fold does not re-judge stored facts.
            if let Some(repair) = f.repairs.iter_mut().find(|r| r.repair == e.repair) {
                repair.voided = Some(Voiding {
                    at: meta.recorded_at,
                    by: meta.actor.to_owned(),
                    reason: e.reason.clone(),
                });
            }
            // Summed anew rather than subtracted, so the totals are always
            // those of the repairs as they stand.
            f.person_minutes = PersonMinutes::of(&f.repairs);
        }
        FaultEvent::AffectedServiceCorrected(e) => {
            f.affected_service = e.to.clone();
            f.affected_service_corrections.push(AffectedServiceCorrection {
                from: e.from.clone(),
                to: e.to.clone(),
                reason: e.reason.clone(),
                at: meta.recorded_at,
                by: meta.actor.to_owned(),
            });
        }
    }
    f.updated_at = meta.recorded_at;
    f.version = meta.version;
    Ok(f)
}
