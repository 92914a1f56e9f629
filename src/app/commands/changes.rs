//! Drafting changes, applying commands to them, scheduling them on the
//! affected services' calendars, and managing freeze windows.
//!
//! Scheduling must hold under concurrency. Each service's calendar is a
//! stream; a booking appends to it at the version the decision read, so two
//! changes that both saw a free window cannot both take it: the second
//! insert hits the stream's unique (stream, version) key, and the command is
//! retried against the calendar as it now stands, where it meets the
//! conflict. Freeze windows live in one stream, and declaring one takes an
//! exclusive advisory lock that every scheduling and starting transaction
//! shares, so a window cannot be scheduled or started into a freeze
//! declared while it was deciding.
//!
//! What a decision needs of the calendars and freezes (the bookings and
//! windows overlapping the window at hand) is read from their view rows
//! (`projections::schedules`), never by folding the streams, so its cost
//! does not grow with their history.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::app::clock::Clock;
use crate::domain::change::calendar::{self, CalendarEvent};
use crate::domain::change::freeze::{self, DeclareFreeze, FREEZE_STREAM_ID, FreezeCalendar, FreezeWindow, LiftFreeze};
use crate::domain::change::{
    self, Change, ChangeCommand, DraftChange, ScheduleChange, StartImplementation, Unschedule, ValidDraft,
    ValidSchedule,
};
use crate::domain::fault::{Fault, FaultEvent};
use crate::domain::link::{self, LinkRelation, LinkTickets};
use crate::domain::messages;
use crate::domain::ticket::TicketKind;
use crate::projections::fold;
use crate::projections::schedules;
use crate::projections::tickets::{self, TicketLookup, TicketRow};
use crate::store::{self, LockMode, StreamHead};

use super::receipt::Document;
use super::{
    Answer, CommandContext, CommandError, Commands, Locked, Outcome, Plan, StreamWrite, next_number, now_after,
    state_of,
};

/// The advisory lock that orders freeze declarations against scheduling:
/// shared by schedulers, exclusive for whoever changes the freeze windows.
const FREEZE_LOCK: i64 = 0x6f70_736c_6672_7a65; // "opslfrze"

impl Document for FreezeWindow {}

impl Commands {
    /// Drafts a new change. Each linked fault is locked and gets a link to
    /// the change on its own stream, in the same transaction.
    pub(super) async fn draft_change(
        &self,
        ctx: &CommandContext,
        cmd: &DraftChange,
    ) -> Result<Outcome<TicketRow>, CommandError> {
        let id = Uuid::now_v7();
        let refs = cmd
            .linked_faults
            .iter()
            .enumerate()
            .map(|(i, r)| {
                TicketLookup::parse(r).ok_or_else(|| CommandError::BadReference {
                    pointer: format!("/linked_faults/{i}"),
                    detail: messages::field_not_a_ticket_reference(r),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.execute(ctx, false, async |tx| {
            let now = self.now_after(None);
            // Lock the faults in a fixed order (by id), so two drafts naming
            // the same faults cannot deadlock; the draft keeps the client's order.
            let mut order = Vec::with_capacity(refs.len());
            for (i, r) in refs.iter().enumerate() {
                let id = tickets::identify(tx, r).await?.map(|t| t.id);
                order.push((id, i));
            }
            order.sort();
            let mut locked = Vec::with_capacity(refs.len());
            for (_, i) in order {
                // A fault the drafter may not read is missing, whatever it is.
                let (row, head) = self.lock_named(tx, ctx, &refs[i], &cmd.linked_faults[i]).await?;
                locked.push((i, row, head));
            }
            locked.sort_by_key(|(i, _, _)| *i);
            let mut faults = Vec::with_capacity(refs.len());
            for (i, row, head) in locked {
                if row.kind != TicketKind::Fault {
                    return Err(CommandError::BadReference {
                        pointer: format!("/linked_faults/{i}"),
                        detail: messages::field_not_a_fault(&row.number, row.kind.as_str()),
                    });
                }
                let state: Fault = state_of(&row)?;
                faults.push((state, head));
            }
            let fault_refs = faults.iter().map(|(f, _)| f.ticket_ref()).collect();
            // Decided before taking a number, so a refused draft consumes none.
            let draft = ValidDraft::check(cmd, fault_refs)?;
            let number = next_number(tx, TicketKind::Change, now).await?;
            let events = draft.record(id, &number, now);
            let change = StreamWrite::new::<Change>(id, None, None, events, ctx, now)?;
            let this = change.view()?.clone();
            let change_ref = link::TicketRef {
                id,
                number: number.clone(),
                kind: TicketKind::Change,
            };
            let mut writes = vec![change];
            faults.sort_by_key(|(f, _)| f.id);
            for (fault, head) in faults {
                let request = LinkTickets {
                    relation: LinkRelation::RelatesTo,
                    target: number.clone(),
                    comment: None,
                };
                let (on_fault, _) = link::link_pair(&fault.ticket_ref(), &fault.links, &change_ref, &[], &request)?;
                let now = self.now_after(Some(&head));
                writes.push(StreamWrite::new(
                    fault.id,
                    Some(fault),
                    Some(&head),
                    vec![FaultEvent::Linked(on_fault)],
                    ctx,
                    now,
                )?);
            }
            Ok(Plan { writes, response: this })
        })
        .await
    }

    /// Decides a command on a change locked for the transaction.
    pub(super) fn decide_change(
        &self,
        ctx: &CommandContext,
        locked: Locked<Change>,
        cmd: &ChangeCommand,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        let events = change::decide(&locked.state, cmd, &ctx.actor.id, now)?;
        Plan::single(StreamWrite::new(
            locked.row.id,
            Some(locked.state),
            Some(&locked.head),
            events,
            ctx,
            now,
        )?)
    }

    /// Schedules (or reschedules) a locked change into a window: checked
    /// against the freeze windows and every affected service's calendar,
    /// and booked on each of those calendars in the same transaction.
    pub(super) async fn schedule_change(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Change>,
        cmd: &ScheduleChange,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        let valid = ValidSchedule::check(cmd, now)?;
        let (start, end) = valid.window();
        let services = &locked.state.affected_services;
        lock_freezes(tx, false).await?;
        // The heads before the rows: a booking committed after a head was
        // read makes the append at that head + 1 fail, and one committed
        // before it is in the rows, read later.
        let heads = calendar_heads(tx, services).await?;
        let freezes = FreezeCalendar {
            windows: schedules::freezes_overlapping(tx, Some(services), start, end).await?,
            version: 0,
        };
        let calendars = schedules::bookings_overlapping(tx, services, start, end).await?;
        let scheduled = valid.decide(&locked.state, &freezes, &calendars)?;
        let mut writes = vec![StreamWrite::new(
            locked.row.id,
            Some(locked.state),
            Some(&locked.head),
            scheduled.change,
            ctx,
            now,
        )?];
        writes.extend(calendar_writes(scheduled.bookings, &heads, ctx, self.clock.as_ref())?);
        Plan::tickets(writes)
    }

    /// Takes a locked, scheduled change off the calendars.
    pub(super) async fn unschedule_change(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Change>,
        cmd: &Unschedule,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        let heads = calendar_heads(tx, &locked.state.affected_services).await?;
        let (events, releases) = change::unschedule(&locked.state, cmd)?;
        let mut writes = vec![StreamWrite::new(
            locked.row.id,
            Some(locked.state),
            Some(&locked.head),
            events,
            ctx,
            now,
        )?];
        writes.extend(calendar_writes(releases, &heads, ctx, self.clock.as_ref())?);
        Plan::tickets(writes)
    }

    /// Starts implementing a locked change, checked against its window and
    /// the freeze windows over the work still planned.
    pub(super) async fn start_change(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Change>,
        cmd: &StartImplementation,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        lock_freezes(tx, false).await?;
        let windows = match &locked.state.window {
            Some(window) => {
                let (from, until) = change::remaining_work(window, now);
                schedules::freezes_overlapping(tx, Some(&locked.state.affected_services), from, until).await?
            }
            // Not scheduled: the domain refuses it before any freeze matters.
            None => Vec::new(),
        };
        let freezes = FreezeCalendar { windows, version: 0 };
        let events = change::start_implementation(&locked.state, cmd, &freezes, now)?;
        Plan::single(StreamWrite::new(
            locked.row.id,
            Some(locked.state),
            Some(&locked.head),
            events,
            ctx,
            now,
        )?)
    }

    /// Declares a freeze window.
    pub async fn declare_freeze(
        &self,
        ctx: &CommandContext,
        cmd: &DeclareFreeze,
    ) -> Result<Answer<FreezeWindow>, CommandError> {
        let id = Uuid::now_v7();
        self.execute(ctx, false, async |tx| {
            lock_freezes(tx, true).await?;
            let head = store::stream_head(tx, FREEZE_STREAM_ID).await?;
            let now = self.now_after(head.as_ref());
            let events = freeze::declare_freeze(id, cmd, now)?;
            freeze_plan(None, head.as_ref(), events, id, ctx, now)
        })
        .await
        .map(Outcome::into_answer)
    }

    /// Lifts a freeze window early; the window stays in the history.
    pub async fn lift_freeze(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        cmd: &LiftFreeze,
    ) -> Result<Answer<FreezeWindow>, CommandError> {
        self.execute(ctx, false, async |tx| {
            lock_freezes(tx, true).await?;
            let head = store::stream_head(tx, FREEZE_STREAM_ID).await?;
            let window = schedules::freeze(tx, id)
                .await?
                .ok_or(CommandError::NoFreezeWindow(id))?;
            // The one window the decision is about.
            let state = FreezeCalendar {
                windows: vec![window],
                version: head.as_ref().map_or(0, |h| h.version),
            };
            let now = self.now_after(head.as_ref());
            let events = freeze::lift_freeze(&state, id, cmd)?;
            freeze_plan(Some(state), head.as_ref(), events, id, ctx, now)
        })
        .await
        .map(Outcome::into_answer)
    }
}

/// Takes the freeze-window lock for the rest of the transaction.
async fn lock_freezes(tx: &Transaction<'_>, exclusive: bool) -> Result<(), CommandError> {
    let mode = if exclusive {
        LockMode::Exclusive
    } else {
        LockMode::Shared
    };
    Ok(store::lock_for_transaction(tx, FREEZE_LOCK, mode).await?)
}

/// Seals freeze events and answers with the window `id` as they leave it.
fn freeze_plan(
    state: Option<FreezeCalendar>,
    head: Option<&StreamHead>,
    events: Vec<freeze::FreezeEvent>,
    id: Uuid,
    ctx: &CommandContext,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Plan<FreezeWindow>, CommandError> {
    let write = StreamWrite::without_view(FREEZE_STREAM_ID, head, &events, ctx, now)?;
    let after = fold::fold_with(state, &write.sealed, freeze::evolve_freezes).map_err(corrupt)?;
    let window = after
        .and_then(|c| c.windows.into_iter().find(|w| w.id == id))
        .ok_or_else(|| CommandError::Corrupt("a freeze command left no window".into()))?;
    Ok(Plan {
        writes: vec![write],
        response: window,
    })
}

/// The head of each service's calendar stream (none for a calendar with
/// nothing booked yet), in the given order.
async fn calendar_heads(
    tx: &Transaction<'_>,
    services: &[String],
) -> Result<Vec<(String, Option<StreamHead>)>, CommandError> {
    let mut heads = Vec::with_capacity(services.len());
    for service in services {
        let head = store::stream_head(tx, calendar::calendar_stream_id(service)).await?;
        heads.push((service.clone(), head));
    }
    Ok(heads)
}

/// One write per calendar event, each after the head its calendar had when
/// the decision read it; ordered by stream, so that two commands booking
/// the same services meet in the same order.
fn calendar_writes(
    events: Vec<CalendarEvent>,
    heads: &[(String, Option<StreamHead>)],
    ctx: &CommandContext,
    clock: &dyn Clock,
) -> Result<Vec<StreamWrite>, CommandError> {
    let mut writes = Vec::with_capacity(events.len());
    for event in events {
        let service = match &event {
            CalendarEvent::Booked(b) => &b.service,
            CalendarEvent::Released(r) => &r.service,
        };
        let (_, head) = heads
            .iter()
            .find(|(s, _)| s == service)
            .ok_or_else(|| CommandError::Corrupt(format!("no calendar was read for {service:?}")))?;
        let now = now_after(clock, head.as_ref());
        let stream = calendar::calendar_stream_id(service);
        writes.push((
            stream,
            StreamWrite::without_view(stream, head.as_ref(), &[event], ctx, now)?,
        ));
    }
    writes.sort_by_key(|(stream, _)| *stream);
    Ok(writes.into_iter().map(|(_, w)| w).collect())
}

fn corrupt(e: crate::domain::StreamCorrupt) -> CommandError {
    CommandError::Corrupt(e.to_string())
}
