//! Service levels in the command path: the clocks a ticket command's events
//! imply are appended in the same transaction, on the ticket's own stream;
//! the policy is amended like a calendar; and an upgrade pins clocks on
//! open tickets that have none.
//!
//! The domain decides ([`sla::react`]); this layer folds the command's
//! sealed events first and lets the clocks follow the ticket they leave,
//! loads the policy and calendars only when an instant is to be computed,
//! and passes in `now` from the injectable clock.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::Actor;
use crate::domain::business_calendar::business_calendar_id;
use crate::domain::complaint::{Complaint, ComplaintEvent};
use crate::domain::fault::{Fault, FaultEvent};
use crate::domain::sla::clock::calendars_of;
use crate::domain::sla::policy::{self as sla_policy, SlaPolicyEvent};
use crate::domain::sla::{
    self, AmendSlaPolicy, ClockEvent, Clocks, NeedsInputs, SlaInputs, SlaPolicyView, TicketFacts, sla_policy_id,
};
use crate::domain::ticket::TicketKind;
use crate::projections::fold::{self, Projected};
use crate::projections::sla as sources;
use crate::projections::tickets::{self, TicketLookup, TicketRow};
use crate::store::{StoredEvent, StreamAt, StreamHead};

use super::receipt::Document;
use super::{
    Answer, CommandContext, CommandError, Commands, Outcome, Plan, StreamWrite, metadata, now_after, seal_and_fold,
    state_of, system_metadata,
};

impl Document for SlaPolicyView {}

/// A ticket aggregate that keeps service-level clocks.
pub(crate) trait Timed: Projected {
    fn facts(&self) -> TicketFacts;
    fn clocks(&self) -> Option<&Clocks>;
    fn wrap(event: ClockEvent) -> Self::Event;
}

impl Timed for Complaint {
    fn facts(&self) -> TicketFacts {
        self.sla_facts()
    }

    fn clocks(&self) -> Option<&Clocks> {
        self.sla.as_ref()
    }

    fn wrap(event: ClockEvent) -> ComplaintEvent {
        ComplaintEvent::from_clock(event)
    }
}

impl Timed for Fault {
    fn facts(&self) -> TicketFacts {
        self.sla_facts()
    }

    fn clocks(&self) -> Option<&Clocks> {
        self.sla.as_ref()
    }

    fn wrap(event: ClockEvent) -> FaultEvent {
        FaultEvent::from_clock(event)
    }
}

/// The clock events a command's events imply, and the policy and calendar
/// versions they were computed from (none when they needed neither): the
/// append checks those are still current as it inserts.
struct Clocked<E> {
    events: Vec<E>,
    read: Vec<StreamAt>,
}

/// The streams a reaction was decided from, at the versions used: the
/// policy (it was consulted, whatever it answered) and each calendar an
/// event names. A calendar the policy names but no clock ran on (the
/// `24x7` beside a filing timed on `CN`) is not checked: amending it
/// changes nothing these events say.
fn streams_read(events: &[ClockEvent], inputs: &SlaInputs) -> Vec<StreamAt> {
    let mut read = vec![StreamAt {
        stream_id: sla_policy_id(),
        version: inputs.policy.version,
    }];
    for calendar in events.iter().filter_map(ClockEvent::calendar) {
        let at = StreamAt {
            stream_id: business_calendar_id(&calendar.code),
            version: calendar.version,
        };
        if !read.contains(&at) {
            read.push(at);
        }
    }
    read
}

impl Commands {
    /// Seals `events` after `head` and folds them onto `state`, then seals
    /// and folds the service-level clock events they imply, as the
    /// system's (caused by the request), when clocks are on.
    ///
    /// The clocks follow the ticket as the command's events, sealed, left
    /// it. The policy and calendars come from what this instance has
    /// folded already, without a read, when it has them all: the insert
    /// then checks their versions are still current, and an amendment made
    /// since (on any instance) sends the command round again with them read
    /// afresh (`Commands::execute`).
    ///
    /// `prior` is the ticket's state and head before the command; `None`
    /// for a command that creates it.
    pub(super) async fn timed_write<A: Timed>(
        &self,
        client: &impl GenericClient,
        ctx: &CommandContext,
        stream_id: Uuid,
        prior: Option<(A, &StreamHead)>,
        events: Vec<A::Event>,
        now: DateTime<Utc>,
    ) -> Result<StreamWrite, CommandError> {
        let (state, head) = prior.map_or((None, None), |(state, head)| (Some(state), Some(head)));
        let before = state.as_ref().map(Timed::facts);
        let (mut sealed, after) = seal_and_fold(stream_id, state, head, &events, &metadata(ctx), now)?;
        let Clocked { events: clocks, read } = self.clock_events(client, before.as_ref(), &after, now).await?;
        if clocks.is_empty() {
            return StreamWrite::of(sealed, &after, read);
        }
        let last = sealed.last().map(StoredEvent::head);
        let (clock_sealed, view) = seal_and_fold(
            stream_id,
            Some(after),
            last.as_ref().or(head),
            &clocks,
            &system_metadata(ctx),
            now,
        )?;
        sealed.extend(clock_sealed);
        StreamWrite::of(sealed, &view, read)
    }

    /// The clock events that a ticket's going from facts `before` to the
    /// state `after` implies, when SLA clocks are on.
    async fn clock_events<A: Timed>(
        &self,
        client: &impl GenericClient,
        before: Option<&TicketFacts>,
        after: &A,
        now: DateTime<Utc>,
    ) -> Result<Clocked<A::Event>, CommandError> {
        let Some(sources) = &self.sla else {
            return Ok(Clocked {
                events: Vec::new(),
                read: Vec::new(),
            });
        };
        let facts = after.facts();
        let clocks = after.clocks();
        let (reaction, read) = match sla::react(clocks, before, &facts, now, None) {
            Ok(reaction) => (reaction, Vec::new()),
            Err(NeedsInputs) => {
                let also = calendars_of(clocks);
                let inputs = match sources.cached(&also) {
                    Some(inputs) => inputs,
                    None => sources.load(client, &also).await?,
                };
                let reaction = sla::react(clocks, before, &facts, now, Some(&inputs))
                    .map_err(|NeedsInputs| CommandError::Corrupt("clocks needed inputs they were given".into()))?;
                let read = streams_read(&reaction, &inputs);
                (reaction, read)
            }
        };
        Ok(Clocked {
            events: reaction.into_iter().map(A::wrap).collect(),
            read,
        })
    }

    /// Replaces the policy's table; its version grows by one. Clocks
    /// already pinned keep the version they were pinned under.
    pub async fn amend_sla_policy(
        &self,
        ctx: &CommandContext,
        cmd: &AmendSlaPolicy,
    ) -> Result<Answer<SlaPolicyView>, CommandError> {
        sla_policy::validate(cmd)?;
        self.execute(ctx, true, async |tx| {
            let mut known = Vec::new();
            for code in cmd.table.calendars() {
                if sources::calendar_exists(tx, code).await? {
                    known.push(code.to_owned());
                }
            }
            sla_policy::check_calendars(cmd, |code| known.iter().any(|k| k == code))?;
            let (state, head) = sources::policy(tx).await?;
            let events = sla_policy::amend(&state, cmd)?;
            let now = now_after(self.clock.as_ref(), head.as_ref());
            let write = StreamWrite::without_view(sla::sla_policy_id(), head.as_ref(), &events, ctx, now)?;
            let after =
                fold::fold_with::<SlaPolicyView, SlaPolicyEvent>(Some(state), &write.sealed, sla_policy::evolve)
                    .map_err(|e| CommandError::Corrupt(e.to_string()))?
                    .ok_or_else(|| CommandError::Corrupt("an amendment left no policy".into()))?;
            Ok(Plan {
                writes: vec![write],
                response: after,
            })
        })
        .await
        .map(Outcome::into_answer)
    }

    /// Pins clocks, as the system and under the policy in force, on every
    /// open complaint and triaged fault that has none (tickets from before
    /// clocks were kept, or from a time the server ran with SLA off); they
    /// run from when the ticket was reported. Idempotent: each ticket is
    /// locked and looked at again, so a second run, or another instance
    /// running at the same time, finds the clocks and appends nothing (and
    /// the stream's version check refuses a double append regardless).
    /// Answers how many tickets got clocks.
    pub async fn upgrade_clocks(&self) -> Result<u64, CommandError> {
        if self.sla.is_none() {
            return Ok(0);
        }
        let ids = {
            let client = self.pool.get().await.map_err(crate::store::StoreError::from)?;
            tickets::open_without_clocks(&client).await?
        };
        let ctx = &CommandContext::on_behalf_of(Actor::system());
        let mut upgraded = 0;
        for (id, kind) in ids {
            // Set by the attempt that commits.
            let wrote = std::cell::Cell::new(false);
            self.execute(ctx, true, async |tx| {
                wrote.set(false);
                let (row, head) = tickets::lock_with_head(tx, &TicketLookup::Id(id))
                    .await?
                    .ok_or(CommandError::NotFound)?;
                let now = now_after(self.clock.as_ref(), Some(&head));
                let write = match kind {
                    TicketKind::Complaint => self.upgraded::<Complaint>(tx, ctx, &row, &head, now).await?,
                    TicketKind::Fault => self.upgraded::<Fault>(tx, ctx, &row, &head, now).await?,
                    TicketKind::Change => None,
                };
                match write {
                    Some(write) => {
                        wrote.set(true);
                        Plan::single(write)
                    }
                    // Upgraded meanwhile, or nothing to pin: write nothing.
                    None => Ok(Plan {
                        writes: Vec::new(),
                        response: row,
                    }),
                }
            })
            .await?;
            upgraded += u64::from(wrote.get());
        }
        Ok(upgraded)
    }

    /// The clocks a locked ticket without any gets, as a write; `None` when
    /// it has clocks already, or nothing to pin them for.
    async fn upgraded<A: Timed>(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        ctx: &CommandContext,
        row: &TicketRow,
        head: &crate::store::StreamHead,
        now: DateTime<Utc>,
    ) -> Result<Option<StreamWrite>, CommandError> {
        let state: A = state_of(row)?;
        if state.clocks().is_some() {
            return Ok(None);
        }
        // Nothing to pin (no priority or severity yet): no events at all.
        let write = self
            .timed_write(tx, ctx, row.id, Some((state, head)), Vec::new(), now)
            .await?;
        Ok((!write.sealed.is_empty()).then_some(write))
    }
}

/// The policy in force, read in `client`'s snapshot.
pub async fn current_policy(client: &impl GenericClient) -> Result<SlaPolicyView, CommandError> {
    Ok(sources::policy(client).await?.0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::EventMeta;
    use crate::domain::complaint::Priority;
    use crate::domain::sla::policy::PolicyKey;
    use crate::domain::sla::{CalendarAt, ClockEvent};

    fn calendar(code: &str, version: u64) -> Arc<CalendarAt> {
        Arc::new(CalendarAt {
            code: code.to_owned(),
            version,
            calendar: None,
        })
    }

    /// The shipped policy (version 0), `24x7` at version 2 and `CN` at 5.
    fn inputs() -> SlaInputs {
        SlaInputs {
            policy: Arc::new(SlaPolicyView::shipped()),
            calendars: vec![calendar("24x7", 2), calendar("CN", 5)],
        }
    }

    fn filed_p1() -> (TicketFacts, DateTime<Utc>) {
        let filed = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00")
            .expect("an instant")
            .to_utc();
        let facts = TicketFacts {
            key: Some(PolicyKey::Complaint { priority: Priority::P1 }),
            reported_at: filed,
            responded: false,
            resolved: false,
            waiting: false,
            cycle: 1,
        };
        (facts, filed)
    }

    fn policy_at(version: u64) -> StreamAt {
        StreamAt {
            stream_id: sla_policy_id(),
            version,
        }
    }

    fn cn_at(version: u64) -> StreamAt {
        StreamAt {
            stream_id: business_calendar_id("CN"),
            version,
        }
    }

    #[test]
    fn a_filing_is_checked_against_the_policy_and_the_calendar_it_was_timed_on_only() {
        let inputs = inputs();
        let (facts, filed) = filed_p1();
        let events = sla::react(None, None, &facts, filed, Some(&inputs)).expect("inputs given");
        assert!(matches!(&events[..], [ClockEvent::Pinned(pin)] if pin.calendar.code == "CN"));

        assert_eq!(
            streams_read(&events, &inputs),
            vec![policy_at(0), cn_at(5)],
            "the 24x7 calendar timed nothing here"
        );
    }

    #[test]
    fn a_pause_is_checked_against_the_calendar_its_clocks_run_on_and_the_policy() {
        let inputs = inputs();
        let (facts, filed) = filed_p1();
        let pinned = sla::react(None, None, &facts, filed, Some(&inputs)).expect("inputs given");
        let meta = EventMeta {
            recorded_at: filed,
            actor: "agent",
            version: 2,
            hash: &[0; 32],
        };
        let clocks = pinned.iter().fold(None, |c, e| Some(sla::clock::evolve(c, e, &meta)));
        let waiting = TicketFacts {
            waiting: true,
            ..facts.clone()
        };
        let later = filed + chrono::TimeDelta::minutes(5);
        let events = sla::react(clocks.as_ref(), Some(&facts), &waiting, later, Some(&inputs)).expect("inputs given");
        assert!(matches!(&events[..], [ClockEvent::Paused(_)]));

        assert_eq!(streams_read(&events, &inputs), vec![policy_at(0), cn_at(5)]);
        // A reaction that decided nothing was still decided under the policy.
        assert_eq!(streams_read(&[], &inputs), vec![policy_at(0)]);
    }
}
