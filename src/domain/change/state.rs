//! The change as it stands after its events: both the state that
//! [`super::decide`] checks commands against and the view that readers get.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::command::FollowUpAction;
use super::event::{ChangeEvent, ChangePlanned};
use super::{ChangeType, ReviewOutcome, Risk, RolloutStepKind};
use crate::domain::link::{Link, TicketRef};
use crate::domain::maintenance::MaintenanceType;
use crate::domain::ticket::TicketKind;
use crate::domain::zoned;
use crate::domain::{EventMeta, StreamCorrupt};

/// Where a change is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Being written by its requester.
    Draft,
    /// Waiting for assessment.
    Submitted,
    /// Has a plan; waiting for approval (or, if standard or an emergency,
    /// for scheduling).
    Assessed,
    /// Approved often enough for its risk.
    Approved,
    /// Its plan was rejected; amend the plan or withdraw the change.
    Rejected,
    /// Booked on the affected services' calendars.
    Scheduled,
    /// Being rolled out.
    Implementing,
    /// In place.
    Completed,
    /// Undone.
    RolledBack,
    /// The implementation failed.
    Failed,
    /// The post-implementation review is written.
    Reviewed,
    /// Done, or withdrawn before implementation.
    Closed,
}

impl ChangeStatus {
    pub const ALL: [ChangeStatus; 12] = [
        ChangeStatus::Draft,
        ChangeStatus::Submitted,
        ChangeStatus::Assessed,
        ChangeStatus::Approved,
        ChangeStatus::Rejected,
        ChangeStatus::Scheduled,
        ChangeStatus::Implementing,
        ChangeStatus::Completed,
        ChangeStatus::RolledBack,
        ChangeStatus::Failed,
        ChangeStatus::Reviewed,
        ChangeStatus::Closed,
    ];

    /// The JSON spelling, also used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Draft => "draft",
            ChangeStatus::Submitted => "submitted",
            ChangeStatus::Assessed => "assessed",
            ChangeStatus::Approved => "approved",
            ChangeStatus::Rejected => "rejected",
            ChangeStatus::Scheduled => "scheduled",
            ChangeStatus::Implementing => "implementing",
            ChangeStatus::Completed => "completed",
            ChangeStatus::RolledBack => "rolled_back",
            ChangeStatus::Failed => "failed",
            ChangeStatus::Reviewed => "reviewed",
            ChangeStatus::Closed => "closed",
        }
    }

    /// The status of that JSON spelling.
    pub fn parse(s: &str) -> Option<ChangeStatus> {
        ChangeStatus::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// The change's current plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    /// The assessed risk; `high` needs two approvers.
    pub risk: Risk,
    /// Who and what is affected while the change is made.
    pub impact: String,
    /// How the change is made.
    pub implementation_plan: String,
    /// How the change is tested.
    pub test_plan: String,
    /// Results of tests already run; `null` when the plan gave none.
    pub test_evidence: Option<String>,
    /// How to undo the change.
    pub rollback_plan: String,
    /// Actor id of whoever wrote this version of the plan.
    pub by: String,
    /// When this version of the plan was recorded (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// One approval, of the plan named by `plan_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    /// Actor id of the approver.
    pub by: String,
    /// When the plan was approved (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// The approver's comment.
    pub comment: String,
    /// The plan this approval is for: lowercase hex of the hash of the event
    /// that carried it, as in the change's `plan_hash` at the time.
    pub plan_hash: String,
    /// Whether it approved the current plan, and so counts.
    pub counts: bool,
}

/// One rejection, of the plan named by `plan_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rejection {
    /// Actor id of who rejected it.
    pub by: String,
    /// When the plan was rejected (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Why the plan was rejected.
    pub comment: String,
    /// The plan this rejection is for: lowercase hex of the hash of the event
    /// that carried it, as in the change's `plan_hash` at the time.
    pub plan_hash: String,
}

/// The window the change is booked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduledWindow {
    /// When the window starts (RFC 3339 date-time, UTC).
    pub start: DateTime<Utc>,
    /// When the window ends (RFC 3339 date-time, UTC); after `start`, at most
    /// 30 days later.
    pub end: DateTime<Utc>,
    /// IANA zone name the window was given in.
    pub time_zone: String,
    /// `start` in `time_zone`, RFC 3339.
    pub start_local: String,
    /// `end` in `time_zone`, RFC 3339.
    pub end_local: String,
}

/// A manager's authorisation to start the change outside its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StartAuthorisation {
    /// Why the change may start outside its window.
    pub reason: String,
    /// Actor id of the manager who authorised it.
    pub by: String,
    /// When it was authorised (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// One rollout step, in the order they were taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RolloutStep {
    /// What kind of step it was: a `canary`, or a final `blue_green_switch` or
    /// `full_rollout`.
    pub kind: RolloutStepKind,
    /// Share of traffic or users on the new version, 1 to 99, for a `canary`;
    /// `null` for the other kinds.
    pub percent: Option<u8>,
    /// What was observed or done, as given with the step; `null` when no note
    /// was given.
    pub note: Option<String>,
    /// Actor id of whoever recorded it.
    pub by: String,
    /// When the step was recorded (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// Why and when a change was rolled back or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Outcome {
    /// Why the change was rolled back, or what went wrong when it failed.
    pub reason: String,
    /// Actor id of whoever recorded it.
    pub by: String,
    /// When it was recorded (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// The post-implementation review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostImplementationReview {
    /// How the change went.
    pub outcome: ReviewOutcome,
    /// What went well.
    pub went_well: String,
    /// What went wrong.
    pub went_wrong: String,
    /// What is to be done next, in the order given; empty when nothing is.
    pub follow_up_actions: Vec<FollowUpAction>,
    /// Actor id of the author.
    pub by: String,
    /// When the review was written (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// How the change was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Closure {
    /// Why the change was closed, as given; always present when a change that
    /// was never implemented was withdrawn, `null` when none was given
    /// otherwise.
    pub reason: Option<String>,
    /// Actor id of whoever closed it.
    pub by: String,
    /// When the change was closed (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// A note, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeNote {
    /// Actor id of the author.
    pub by: String,
    /// When the note was added (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// The note, as written.
    pub body: String,
}

/// A change as it currently stands. Its full history is the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// The change's identifier (UUID); never changes.
    pub id: Uuid,
    /// The human-facing reference.
    pub number: String,
    /// How the change is authorised: `standard` (pre-approved), `normal` or
    /// `emergency`.
    pub change_type: ChangeType,
    /// The change in one line, as drafted or last amended.
    pub title: String,
    /// What will change and why, as drafted or last amended.
    pub description: String,
    /// The services the change touches, as drafted or last amended; each gets a
    /// booking on its calendar while the change is scheduled.
    pub affected_services: Vec<String>,
    /// Why the work is done, as drafted or last amended.
    pub maintenance_type: MaintenanceType,
    /// Faults the change addresses.
    pub linked_faults: Vec<TicketRef>,
    /// Where the change is in its life.
    pub status: ChangeStatus,
    /// Actor id of whoever drafted the change; never its approver.
    pub requester: String,
    /// Actor id of who implements it.
    pub assignee: Option<String>,
    /// The current plan; `null` until the change is assessed. An amended plan
    /// replaces it.
    pub plan: Option<Plan>,
    /// Lowercase hex of the stored hash of the event that carried the
    /// current plan; approvals name it.
    pub plan_hash: Option<String>,
    /// How many plans the change has had (the assessment is the first).
    pub plan_revision: u32,
    /// Every approval, in order; only those of the current plan count.
    pub approvals: Vec<Approval>,
    /// Every rejection, oldest first; empty when there is none.
    pub rejections: Vec<Rejection>,
    /// Approvals from different people the current plan needs: 2 for high
    /// risk, else 1 (standard changes are pre-approved).
    pub approvals_required: u8,
    /// See [`Change::is_approved`].
    pub approved: bool,
    /// The window the change is booked for; `null` until it is scheduled, and
    /// again after it is unscheduled.
    pub window: Option<ScheduledWindow>,
    /// A manager's authorisation to start outside `window`; `null` when there
    /// is none. Rescheduling or unscheduling the change voids it.
    #[serde(default)]
    pub start_authorisation: Option<StartAuthorisation>,
    /// Rollout steps, in the order they were recorded; empty before the first.
    pub rollout: Vec<RolloutStep>,
    /// When implementation started; set once, kept through the rest.
    pub implementation_started_at: Option<DateTime<Utc>>,
    /// Why and when the change was rolled back; `null` unless it was.
    pub rolled_back: Option<Outcome>,
    /// Why and when the implementation failed; `null` unless it did.
    pub failed: Option<Outcome>,
    /// The post-implementation review; `null` until it is written.
    pub review: Option<PostImplementationReview>,
    /// How and when the change was closed or withdrawn; `null` while it is
    /// open.
    pub closed: Option<Closure>,
    /// Notes, oldest first; empty when there are none.
    pub notes: Vec<ChangeNote>,
    /// Links to other tickets, in the order they were made.
    pub links: Vec<Link>,
    /// When the change was drafted (RFC 3339 date-time, UTC).
    pub created_at: DateTime<Utc>,
    /// When the last event was recorded on the change (RFC 3339 date-time,
    /// UTC).
    pub updated_at: DateTime<Utc>,
    /// Version of the last event folded in; send it back as the expected
    /// version to detect concurrent changes.
    pub version: u64,
}

impl Change {
    /// How other tickets' events refer to this change.
    pub fn ticket_ref(&self) -> TicketRef {
        TicketRef {
            id: self.id,
            number: self.number.clone(),
            kind: TicketKind::Change,
        }
    }

    /// Different people whose approvals of the current plan count.
    pub fn counting_approvers(&self) -> usize {
        let mut people: Vec<&str> = Vec::new();
        for a in self.approvals.iter().filter(|a| a.counts) {
            if !people.contains(&a.by.as_str()) {
                people.push(&a.by);
            }
        }
        people.len()
    }

    /// Whether the change may go ahead on its own authority: standard
    /// changes always, others once enough people approved the current plan.
    pub fn is_approved(&self) -> bool {
        self.change_type == ChangeType::Standard || self.counting_approvers() >= usize::from(self.approvals_required)
    }

    /// Whether closing needs a post-implementation review first: every
    /// implemented change except standard ones.
    pub fn requires_review(&self) -> bool {
        self.change_type != ChangeType::Standard && self.implementation_started_at.is_some()
    }

    /// Recomputes what follows from the plan and the approvals.
    fn refresh_approvals(&mut self) {
        let current = self.plan_hash.as_deref();
        for a in &mut self.approvals {
            a.counts = Some(a.plan_hash.as_str()) == current;
        }
        self.approvals_required = match self.plan.as_ref().map(|p| p.risk) {
            Some(Risk::High) => 2,
            _ => 1,
        };
        self.approved = self.is_approved();
    }

    fn set_plan(&mut self, p: &ChangePlanned, meta: &EventMeta) {
        self.plan = Some(Plan {
            risk: p.risk,
            impact: p.impact.clone(),
            implementation_plan: p.implementation_plan.clone(),
            test_plan: p.test_plan.clone(),
            test_evidence: p.test_evidence.clone(),
            rollback_plan: p.rollback_plan.clone(),
            by: meta.actor.to_owned(),
            at: meta.recorded_at,
        });
        self.plan_hash = Some(hex::encode(meta.hash));
        self.plan_revision = self.plan_revision.saturating_add(1);
        self.status = ChangeStatus::Assessed;
        self.refresh_approvals();
    }
}

/// Folds one event into the change.
///
/// Business rules were checked by [`super::decide`] when the event was
/// produced and are not checked again: a stored event is a fact. Only an
/// order no decision could have produced (anything before `change.drafted`,
/// or a second `change.drafted`) is refused.
pub fn evolve(state: Option<Change>, event: &ChangeEvent, meta: &EventMeta) -> Result<Change, StreamCorrupt> {
    let mut c = match (state, event) {
        (None, ChangeEvent::Drafted(d)) => {
            let mut c = Change {
                id: d.id,
                number: d.number.clone(),
                change_type: d.change_type,
                title: d.title.clone(),
                description: d.description.clone(),
                affected_services: d.affected_services.clone(),
                maintenance_type: d.maintenance_type,
                linked_faults: d.linked_faults.clone(),
                status: ChangeStatus::Draft,
                requester: meta.actor.to_owned(),
                assignee: None,
                plan: None,
                plan_hash: None,
                plan_revision: 0,
                approvals: Vec::new(),
                rejections: Vec::new(),
                approvals_required: 1,
                approved: false,
                window: None,
                start_authorisation: None,
                rollout: Vec::new(),
                implementation_started_at: None,
                rolled_back: None,
                failed: None,
                review: None,
                closed: None,
                notes: Vec::new(),
                links: Vec::new(),
                created_at: meta.recorded_at,
                updated_at: meta.recorded_at,
                version: meta.version,
            };
            c.refresh_approvals();
            return Ok(c);
        }
        (None, other) => {
            return Err(StreamCorrupt(format!(
                "a change stream must start with change.drafted, not {}",
                other.event_type()
            )));
        }
        (Some(c), ChangeEvent::Drafted(_)) => {
            return Err(StreamCorrupt(format!(
                "change {} was drafted twice (second time at version {})",
                c.id, meta.version
            )));
        }
        (Some(c), _) => c,
    };

    match event {
        // Handled above; kept explicit so a new variant forces a decision here.
        ChangeEvent::Drafted(_) => {}
        ChangeEvent::Amended(e) => {
            if let Some(title) = &e.title {
                c.title = title.clone();
            }
            if let Some(description) = &e.description {
                c.description = description.clone();
            }
            if let Some(services) = &e.affected_services {
                c.affected_services = services.clone();
            }
            if let Some(maintenance_type) = e.maintenance_type {
                c.maintenance_type = maintenance_type;
            }
        }
        ChangeEvent::Submitted(_) => c.status = ChangeStatus::Submitted,
        ChangeEvent::Assessed(p) | ChangeEvent::PlanAmended(p) => c.set_plan(p, meta),
        ChangeEvent::Approved(e) => {
            c.approvals.push(Approval {
                by: meta.actor.to_owned(),
                at: meta.recorded_at,
                comment: e.comment.clone(),
                plan_hash: e.plan_hash.clone(),
                counts: false,
            });
            c.refresh_approvals();
            // Later statuses stay where they are: an emergency change
            // approved retrospectively has already moved on.
            if c.status == ChangeStatus::Assessed && c.approved {
                c.status = ChangeStatus::Approved;
            }
        }
        ChangeEvent::Rejected(e) => {
            c.rejections.push(Rejection {
                by: meta.actor.to_owned(),
                at: meta.recorded_at,
                comment: e.comment.clone(),
                plan_hash: e.plan_hash.clone(),
            });
            if c.status == ChangeStatus::Assessed {
                c.status = ChangeStatus::Rejected;
            }
        }
        ChangeEvent::Assigned(e) => c.assignee = Some(e.assignee.clone()),
        ChangeEvent::Scheduled(e) => {
            c.status = ChangeStatus::Scheduled;
            // An authorisation was given for the window being replaced.
            c.start_authorisation = None;
            c.window = Some(ScheduledWindow {
                start: e.start,
                end: e.end,
                time_zone: e.time_zone.clone(),
                start_local: zoned::local(e.start, &e.time_zone),
                end_local: zoned::local(e.end, &e.time_zone),
            });
        }
        ChangeEvent::Unscheduled(_) => {
            c.window = None;
            c.start_authorisation = None;
            c.status = if c.is_approved() {
                ChangeStatus::Approved
            } else {
                ChangeStatus::Assessed
            };
        }
        ChangeEvent::StartAuthorised(e) => {
            c.start_authorisation = Some(StartAuthorisation {
                reason: e.reason.clone(),
                by: meta.actor.to_owned(),
                at: meta.recorded_at,
            })
        }
        ChangeEvent::ImplementationStarted(_) => {
            c.status = ChangeStatus::Implementing;
            c.implementation_started_at.get_or_insert(meta.recorded_at);
        }
        ChangeEvent::RolloutStepRecorded(e) => c.rollout.push(RolloutStep {
            kind: e.kind,
            percent: e.percent,
            note: e.note.clone(),
            by: meta.actor.to_owned(),
            at: meta.recorded_at,
        }),
        ChangeEvent::Completed(_) => c.status = ChangeStatus::Completed,
        ChangeEvent::RolledBack(e) => {
            c.status = ChangeStatus::RolledBack;
            c.rolled_back = Some(outcome(&e.reason, meta));
        }
        ChangeEvent::Failed(e) => {
            c.status = ChangeStatus::Failed;
            c.failed = Some(outcome(&e.reason, meta));
        }
        ChangeEvent::Reviewed(e) => {
            c.status = ChangeStatus::Reviewed;
            c.review = Some(PostImplementationReview {
                outcome: e.outcome,
                went_well: e.went_well.clone(),
                went_wrong: e.went_wrong.clone(),
                follow_up_actions: e.follow_up_actions.clone(),
                by: meta.actor.to_owned(),
                at: meta.recorded_at,
            });
        }
        ChangeEvent::Closed(e) => {
            c.status = ChangeStatus::Closed;
            c.closed = Some(Closure {
                reason: e.reason.clone(),
                by: meta.actor.to_owned(),
                at: meta.recorded_at,
            });
        }
        ChangeEvent::NoteAdded(e) => c.notes.push(ChangeNote {
            by: meta.actor.to_owned(),
            at: meta.recorded_at,
            body: e.body.clone(),
        }),
        ChangeEvent::Linked(e) => c.links.push(Link::recorded(e, meta)),
        ChangeEvent::Unlinked(e) => crate::domain::link::remove_link(&mut c.links, e),
    }
    c.updated_at = meta.recorded_at;
    c.version = meta.version;
    Ok(c)
}

fn outcome(reason: &str, meta: &EventMeta) -> Outcome {
    Outcome {
        reason: reason.to_owned(),
        by: meta.actor.to_owned(),
        at: meta.recorded_at,
    }
}
