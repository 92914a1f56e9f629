//! Command handling: load the current state, let the domain decide, seal
//! the events and append them together with the inline projection and the
//! idempotency record, in one transaction.
//!
//! The state a command decides on is the inline `tickets` view: it is the
//! fold of the stream up to its version (written by the same `evolve` in
//! the same transaction as the events), so it serves as a snapshot and a
//! command never replays a long stream.
//!
//! A command may touch several streams (an escalation creates a fault and
//! marks the complaint; a link is recorded on both tickets): all of them are
//! written in the same transaction, so either every stream has its events or
//! none has.

mod business_calendars;
mod changes;
mod complaints;
mod faults;
mod links;
mod receipt;
mod sla;
mod subjects;
pub use links::LinkCommand;
pub use receipt::{Answer, Receipt, TicketAnswer};
pub(crate) use receipt::{Document, Record};
pub use sla::current_policy;
pub use subjects::{Merge, RepairReport, SplitSubject};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};
use uuid::Uuid;

use crate::domain::change::{ChangeCommand, DraftChange, ScheduleChange, StartImplementation, Unschedule};
use crate::domain::complaint::{ComplaintCommand, CorrectDetails, ValidFiling};
use crate::domain::fault::{EscalateComplaint, FaultCommand, ValidReport};
use crate::domain::permissions::Reader;
use crate::domain::ticket::TicketKind;
use crate::domain::{Actor, DomainError, Message, Role, messages};
use crate::privacy::{Privacy, PrivacyError};
use crate::projections::fold::{self, Projected};
use crate::projections::schedules;
use crate::projections::tickets::{self, TicketLookup, TicketRow};
use crate::store::idempotency;
use crate::store::sequencer::AppendSignal;
use crate::store::{self, Metadata, NewEvent, StoreError, StoredEvent, StreamAt, StreamHead};

use super::clock::{Clock, SharedClock};
use super::etag;

/// Commands that may be retried after losing a race at insert (adding a
/// note, or any command caught in a deadlock between two multi-stream
/// commands) are retried this often; after that the client sees 412.
const RETRIES: usize = 3;

/// Who is acting and what the request carried, beyond the command itself.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub actor: Actor,
    /// The caller's read rules: a ticket it may not act on is reported as
    /// missing, before any precondition is compared, so neither its
    /// existence nor its version leaks.
    pub reader: Reader,
    /// The server's id of the request.
    pub request_id: String,
    /// The id the client sent for the request (`X-Request-Id`), if any.
    pub client_request_id: Option<String>,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub idempotency: Option<IdempotencyRequest>,
}

impl CommandContext {
    /// What a command the server runs on its own behalf carries (loading
    /// the shipped calendars, pinning clocks on an upgrade, a repair): the
    /// actor, read rules that let it see what its roles may, and a fresh
    /// request id that also names the correlation.
    pub fn on_behalf_of(actor: Actor) -> CommandContext {
        let request = Uuid::now_v7().to_string();
        CommandContext {
            reader: Reader::new(&actor.roles, &[], actor.id.clone()),
            actor,
            request_id: request.clone(),
            client_request_id: None,
            correlation_id: request,
            causation_id: None,
            idempotency: None,
        }
    }
}

/// An `Idempotency-Key` and the fingerprint of the request that carried it.
#[derive(Debug, Clone)]
pub struct IdempotencyRequest {
    pub key: String,
    pub request_hash: Vec<u8>,
}

/// What a state-changing command requires of the ticket's current version.
#[derive(Debug, Clone)]
pub enum Precondition {
    /// The client's `If-Match` tags; one must name the current version.
    IfMatch(Vec<String>),
    /// The command commutes with concurrent ones: apply it to whatever is current.
    Commutes,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(StoreError),
    #[error("no such ticket")]
    NotFound,
    #[error("no freeze window {0}")]
    NoFreezeWindow(Uuid),
    #[error("no business calendar {0}")]
    NoBusinessCalendar(Uuid),
    /// A ticket the command names besides its target does not exist.
    #[error("no ticket {0:?}")]
    OtherNotFound(String),
    /// A field of the command names a ticket that does not exist or is of
    /// the wrong kind.
    #[error("{detail}")]
    BadReference { pointer: String, detail: Message },
    #[error("the ticket is not a {expected}")]
    WrongKind { expected: &'static str },
    #[error("If-Match does not name the current version")]
    Stale,
    #[error("another request appended first")]
    LostRace,
    #[error("the idempotency key was used for a different request")]
    IdempotencyKeyReused,
    #[error("stored state is corrupt: {0}")]
    Corrupt(String),
    /// No data subject has this id (and none ever had).
    #[error("no data subject {0}")]
    NoSubject(Uuid),
    /// The subject's key is gone: erased, merged into another, or split by
    /// a privacy repair.
    #[error("data subject {subject} has no personal data any more ({marker})")]
    SubjectGone { subject: Uuid, marker: &'static str },
    /// New personal data about a subject whose data was erased.
    #[error("the complainant's personal data was erased; no new personal data can be recorded for them")]
    SubjectErased,
    #[error(transparent)]
    Privacy(PrivacyError),
    /// A refusal of a command on a ticket the caller may read (a stale
    /// `If-Match`, or a state or rule that refuses the command), with the
    /// ticket's current version: the answer can carry its ETag and spare
    /// the client a read before it tries again.
    #[error("{error}")]
    Refused {
        error: Box<CommandError>,
        ticket: Uuid,
        version: u64,
    },
}

impl CommandError {
    /// `self`, with the version of the ticket it refuses to change when it
    /// is a refusal (412 or 409), not a fault or a malformed request.
    fn at_version(self, ticket: Uuid, version: u64) -> CommandError {
        match self {
            error @ (CommandError::Stale
            | CommandError::Domain(
                DomainError::InvalidTransition { .. }
                | DomainError::RuleViolated(_)
                | DomainError::ScheduleConflict { .. },
            )) => CommandError::Refused {
                error: Box::new(error),
                ticket,
                version,
            },
            other => other,
        }
    }

    /// A missing data subject that a field of the command named: the
    /// client's mistake at `pointer` (422), not a missing resource (404).
    pub(crate) fn named_at(self, pointer: &str) -> CommandError {
        match self {
            CommandError::NoSubject(subject) => CommandError::BadReference {
                pointer: pointer.to_owned(),
                detail: messages::no_such_subject(subject),
            },
            CommandError::SubjectGone { subject, marker } => CommandError::BadReference {
                pointer: pointer.to_owned(),
                detail: messages::subject_gone(subject, marker),
            },
            other => other,
        }
    }
}

/// Why `subject` has no key: gone (erased, merged, repaired) or never was.
pub(crate) async fn missing_subject(client: &impl GenericClient, subject: Uuid) -> Result<CommandError, CommandError> {
    Ok(
        match crate::privacy::keys::gone(client, &[subject]).await?.remove(&subject) {
            Some(gone) => CommandError::SubjectGone {
                subject,
                marker: gone.marker(),
            },
            None => CommandError::NoSubject(subject),
        },
    )
}

impl From<PrivacyError> for CommandError {
    fn from(e: PrivacyError) -> CommandError {
        match e {
            PrivacyError::Store(s) => CommandError::Store(s),
            other => CommandError::Privacy(other),
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> CommandError {
        CommandError::Store(e)
    }
}

/// One command on tickets, as every door (HTTP today) hands it to
/// [`Commands::handle`].
#[derive(Debug)]
pub enum TicketCommand {
    /// File a complaint.
    File(ValidFiling),
    /// Report a fault.
    Report(ValidReport),
    /// Draft a change.
    Draft(DraftChange),
    /// Act on the existing ticket `target` names, at the version
    /// `precondition` requires.
    Act {
        target: TicketLookup,
        precondition: Precondition,
        action: Action,
    },
}

impl TicketCommand {
    /// Whether the command creates a ticket (its answer is the new one).
    pub fn creates(&self) -> bool {
        !matches!(self, TicketCommand::Act { action, .. } if !matches!(action, Action::Escalate(_)))
    }
}

/// What a command does to an existing ticket.
#[derive(Debug)]
pub enum Action {
    Complaint(ComplaintCommand),
    /// Correct what was recorded at filing, which may resolve the
    /// complainant's data subject anew.
    CorrectComplaint(CorrectDetails),
    /// Escalate a complaint into a new fault; the answer is the fault.
    Escalate(EscalateComplaint),
    Fault(FaultCommand),
    Change(ChangeCommand),
    /// Book a change's window on its services' calendars.
    Schedule(ScheduleChange),
    /// Take a change off its services' calendars.
    Unschedule(Unschedule),
    /// Start implementing a change, which reads the freeze windows.
    Start(StartImplementation),
    /// Link the ticket to another one, or remove their link.
    Link(LinkCommand),
}

impl Action {
    /// Whether the action commutes with concurrent ones: it needs no
    /// `If-Match`, and one that loses a race at insert is tried again.
    pub fn commutes(&self) -> bool {
        match self {
            Action::Complaint(cmd) => cmd.commutes(),
            Action::Fault(cmd) => cmd.commutes(),
            Action::Change(cmd) => cmd.commutes(),
            Action::Link(_) => true,
            Action::CorrectComplaint(_)
            | Action::Escalate(_)
            | Action::Schedule(_)
            | Action::Unschedule(_)
            | Action::Start(_) => false,
        }
    }

    /// The kind of ticket the action applies to; a link applies to any.
    fn target_kind(&self) -> Option<TicketKind> {
        match self {
            Action::Complaint(_) | Action::CorrectComplaint(_) | Action::Escalate(_) => Some(TicketKind::Complaint),
            Action::Fault(_) => Some(TicketKind::Fault),
            Action::Change(_) | Action::Schedule(_) | Action::Unschedule(_) | Action::Start(_) => {
                Some(TicketKind::Change)
            }
            Action::Link(_) => None,
        }
    }

    /// Whether an attempt that lost a race at insert is tried again. A
    /// booking that lost its calendar to another reads the winner on the
    /// retry and refuses like any conflict.
    fn retries_races(&self) -> bool {
        self.commutes() || matches!(self, Action::Schedule(_) | Action::Unschedule(_))
    }

    /// Whether `reader` may take this action on `row`: a link reveals the
    /// ticket to whoever reads its new view, so it needs the right to read
    /// it; anything else, the right to act on it (a write-only principal
    /// acts on what it created).
    fn allowed(&self, reader: &Reader, row: &TicketRow) -> bool {
        match self {
            Action::Link(_) => reader.may_read(row.kind, row.complaint_linked),
            _ => reader.may_act_on(row.kind, row.complaint_linked, row.created_by()),
        }
    }
}

/// The result of running a command once: what it planned, or the answer of
/// an earlier request with the same idempotency key.
pub(crate) enum Outcome<R: Record> {
    Done(R),
    Replayed(R::Replay),
}

impl<D: receipt::Document> Outcome<D> {
    /// A document answers the same, fresh or replayed.
    fn into_answer(self) -> Answer<D> {
        match self {
            Outcome::Done(document) => Answer {
                document,
                replayed: false,
            },
            Outcome::Replayed(document) => Answer {
                document,
                replayed: true,
            },
        }
    }
}

#[derive(Clone)]
pub struct Commands {
    pool: Pool,
    privacy: Arc<Privacy>,
    appended: AppendSignal,
    etag_key: etag::EtagKey,
    clock: SharedClock,
    /// Where service-level clocks get their policy and calendars; `None`
    /// when clocks are off (`OPSLEDGER_SLA=off`).
    sla: Option<crate::projections::sla::SlaSources>,
}

/// One stream's share of a command: its sealed events and, for a ticket,
/// its new view. Calendar and freeze-window streams have no `tickets` view.
pub(crate) struct StreamWrite {
    sealed: Vec<StoredEvent>,
    row: Option<TicketRow>,
    /// Other streams the events were decided from, at the versions used:
    /// the events are inserted only while those are still current.
    read: Vec<StreamAt>,
}

impl StreamWrite {
    /// Seals `events` after `head` and folds them onto `state`.
    fn new<A: Projected>(
        stream_id: Uuid,
        state: Option<A>,
        head: Option<&StreamHead>,
        events: Vec<A::Event>,
        ctx: &CommandContext,
        now: DateTime<Utc>,
    ) -> Result<StreamWrite, CommandError> {
        let (sealed, view) = seal_and_fold(stream_id, state, head, &events, &metadata(ctx), now)?;
        StreamWrite::of(sealed, &view, Vec::new())
    }

    /// The write of `sealed`, which leave the ticket at `view`, decided
    /// also from the streams in `read`.
    fn of<A: Projected>(sealed: Vec<StoredEvent>, view: &A, read: Vec<StreamAt>) -> Result<StreamWrite, CommandError> {
        let row = view.row().map_err(|e| CommandError::Corrupt(e.to_string()))?;
        Ok(StreamWrite {
            sealed,
            row: Some(row),
            read,
        })
    }

    /// Seals `events` of a stream that has no ticket view.
    fn without_view(
        stream_id: Uuid,
        head: Option<&StreamHead>,
        events: &[impl crate::domain::DomainEvent],
        ctx: &CommandContext,
        now: DateTime<Utc>,
    ) -> Result<StreamWrite, CommandError> {
        let new_events = events.iter().map(NewEvent::from_domain).collect();
        let sealed = store::seal(stream_id, head, new_events, &metadata(ctx), now)?;
        Ok(StreamWrite {
            sealed,
            row: None,
            read: Vec::new(),
        })
    }

    /// The ticket view this write produces.
    fn view(&self) -> Result<&TicketRow, CommandError> {
        self.row
            .as_ref()
            .ok_or_else(|| CommandError::Corrupt("a ticket command wrote no view".into()))
    }

    fn head_hash(&self) -> Result<[u8; 32], CommandError> {
        self.sealed
            .last()
            .map(|e| e.hash)
            .ok_or_else(|| CommandError::Corrupt("a command produced no events".into()))
    }
}

/// Everything one attempt of a command writes, and its response.
pub(crate) struct Plan<R = TicketRow> {
    writes: Vec<StreamWrite>,
    response: R,
}

impl Plan {
    /// Writes to tickets; the first write's view is the response.
    fn tickets(writes: Vec<StreamWrite>) -> Result<Plan, CommandError> {
        let response = writes
            .first()
            .ok_or_else(|| CommandError::Corrupt("a command planned no writes".into()))?
            .view()?
            .clone();
        Ok(Plan { writes, response })
    }

    fn single(write: StreamWrite) -> Result<Plan, CommandError> {
        Plan::tickets(vec![write])
    }
}

/// A ticket locked for the rest of the transaction, with its state.
pub(crate) struct Locked<A> {
    state: A,
    head: StreamHead,
    row: TicketRow,
}

impl<A: Projected> Locked<A> {
    /// The locked ticket's state, which its view row holds.
    fn of(row: TicketRow, head: StreamHead) -> Result<Locked<A>, CommandError> {
        Ok(Locked {
            state: state_of(&row)?,
            head,
            row,
        })
    }
}

impl Commands {
    pub fn new(
        pool: Pool,
        privacy: Arc<Privacy>,
        appended: AppendSignal,
        etag_key: etag::EtagKey,
        clock: SharedClock,
    ) -> Commands {
        Commands {
            pool,
            privacy,
            appended,
            etag_key,
            clock,
            sla: Some(crate::projections::sla::SlaSources::default()),
        }
    }
    /// The same commands with service-level clocks on or off.
    pub fn with_sla(mut self, on: bool) -> Commands {
        self.sla = on.then(crate::projections::sla::SlaSources::default);
        self
    }

    /// Now, as this service's clock says: what reads that depend on the
    /// time (the SLA state of a ticket) compare with.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Now, as this service's clock says, but never before `head`.
    fn now_after(&self, head: Option<&StreamHead>) -> DateTime<Utc> {
        now_after(self.clock.as_ref(), head)
    }

    /// Runs one command on tickets. In this order:
    ///
    /// 1. the answer of an earlier request with the same `Idempotency-Key`
    ///    is replayed, under the caller's read rules as they are now (in
    ///    [`Commands::execute`]), so a retried state change gets its first
    ///    answer, not a 412;
    /// 2. the target ticket is locked for the transaction;
    /// 3. a ticket the caller may not act on is missing (404), whatever its
    ///    kind or version;
    /// 4. then its kind is checked;
    /// 5. then `If-Match`;
    /// 6. and only then does the domain decide.
    pub async fn handle(&self, ctx: &CommandContext, command: &TicketCommand) -> Result<TicketAnswer, CommandError> {
        // The escalated complaint's version, as this command's own write left
        // it (set by the attempt that commits).
        let escalated = std::cell::Cell::new(None);
        let outcome = match command {
            TicketCommand::File(filing) => self.file_complaint(ctx, filing).await?,
            TicketCommand::Report(report) => self.report_fault(ctx, report).await?,
            TicketCommand::Draft(draft) => self.draft_change(ctx, draft).await?,
            TicketCommand::Act {
                target,
                precondition,
                action,
            } => {
                self.execute(ctx, action.retries_races(), async |tx| {
                    let (row, head) = tickets::lock_with_head(tx, target)
                        .await?
                        .ok_or(CommandError::NotFound)?;
                    if !action.allowed(&ctx.reader, &row) {
                        return Err(CommandError::NotFound);
                    }
                    if let Some(kind) = action.target_kind()
                        && row.kind != kind
                    {
                        return Err(CommandError::WrongKind {
                            expected: kind.as_str(),
                        });
                    }
                    // Only a caller who may read the ticket learns its
                    // version from a refusal.
                    let refusal_names_version = ctx.reader.may_read(row.kind, row.complaint_linked);
                    let (ticket, version) = (row.id, row.version);
                    let decided = async {
                        self.check_precondition(precondition, &row)?;
                        match action {
                            Action::Complaint(cmd) => self.decide_complaint(tx, ctx, Locked::of(row, head)?, cmd).await,
                            Action::CorrectComplaint(cmd) => {
                                self.correct_complaint(tx, ctx, Locked::of(row, head)?, cmd).await
                            }
                            Action::Escalate(cmd) => self.escalate(tx, ctx, Locked::of(row, head)?, cmd).await,
                            Action::Fault(cmd) => self.decide_fault(tx, ctx, Locked::of(row, head)?, cmd).await,
                            Action::Change(cmd) => self.decide_change(ctx, Locked::of(row, head)?, cmd),
                            Action::Schedule(cmd) => self.schedule_change(tx, ctx, Locked::of(row, head)?, cmd).await,
                            Action::Unschedule(cmd) => {
                                self.unschedule_change(tx, ctx, Locked::of(row, head)?, cmd).await
                            }
                            Action::Start(cmd) => self.start_change(tx, ctx, Locked::of(row, head)?, cmd).await,
                            Action::Link(cmd) => self.link(tx, ctx, row, head, cmd).await,
                        }
                    };
                    let plan = decided.await.map_err(|e| match refusal_names_version {
                        true => e.at_version(ticket, version),
                        false => e,
                    })?;
                    if let Action::Escalate(_) = action {
                        escalated.set(
                            plan.writes
                                .iter()
                                .filter_map(|w| w.row.as_ref())
                                .find(|r| r.id == ticket)
                                .map(|r| (r.id, r.version)),
                        );
                    }
                    Ok(plan)
                })
                .await?
            }
        };
        let (receipt, replayed, readable) = match outcome {
            Outcome::Done(row) => {
                let readable = ctx.reader.may_read(row.kind, row.complaint_linked);
                (Receipt::of(row), false, readable)
            }
            Outcome::Replayed(receipt) => {
                let readable = self.readable_now(ctx, receipt.id).await?;
                (receipt, true, readable)
            }
        };
        Ok(TicketAnswer {
            receipt,
            replayed,
            readable,
            // A replay has no write of its own to name.
            escalated: if replayed { None } else { escalated.get() },
        })
    }

    /// Whether the caller may read ticket `id` as it is now.
    async fn readable_now(&self, ctx: &CommandContext, id: Uuid) -> Result<bool, CommandError> {
        let client = self.pool.get().await.map_err(StoreError::from)?;
        Ok(tickets::get(&client, &TicketLookup::Id(id))
            .await?
            .is_some_and(|row| ctx.reader.may_read(row.kind, row.complaint_linked)))
    }

    /// Runs `attempt` in a transaction and commits what it planned together
    /// with the idempotency record of its result; replays the result of an
    /// earlier request with the same idempotency key instead, and retries
    /// races that `retry_races` allows.
    ///
    /// Requests sharing a key take turns (the key's lock is held until the
    /// transaction ends), and each looks for a recorded result only in its
    /// turn: so the first does the work and the others replay its result,
    /// where they would otherwise each have decided on the state before the
    /// first committed (and been refused as stale, or have written a ticket
    /// of their own and rolled it back).
    async fn execute<R: Record>(
        &self,
        ctx: &CommandContext,
        retry_races: bool,
        attempt: impl AsyncFn(&Transaction<'_>) -> Result<Plan<R>, CommandError>,
    ) -> Result<Outcome<R>, CommandError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let mut tries = 0;
        loop {
            tries += 1;
            let tx = client.transaction().await.map_err(StoreError::from)?;
            if let Some(idem) = &ctx.idempotency {
                idempotency::lock(&tx, &ctx.actor.id, &idem.key).await?;
                if let Some(replay) = replay::<R>(&tx, ctx).await? {
                    return Ok(Outcome::Replayed(replay));
                }
            }
            let planned = async {
                let plan = attempt(&tx).await?;
                write(&tx, ctx, &plan).await?;
                Ok::<_, CommandError>(plan)
            }
            .await;
            let written = match planned {
                Ok(plan) => tx
                    .commit()
                    .await
                    .map(|()| {
                        for w in &plan.writes {
                            self.appended.committed(&w.sealed);
                        }
                        plan
                    })
                    .map_err(|e| CommandError::Store(e.into())),
                Err(e) => {
                    drop(tx); // rolls back
                    Err(e)
                }
            };
            match written {
                Ok(plan) => return Ok(Outcome::Done(plan.response)),
                // Only a writer that bypassed the row lock can get here; the
                // unique (stream, version) constraint still refuses it.
                Err(CommandError::Store(StoreError::VersionConflict)) => {
                    metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "lost_insert_race")
                        .increment(1);
                    if !(retry_races && tries < RETRIES) {
                        return Err(CommandError::LostRace);
                    }
                }
                // Two multi-stream commands locked the same tickets in
                // opposite orders; PostgreSQL aborted this one.
                Err(CommandError::Store(StoreError::Deadlock)) => {
                    metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "deadlock").increment(1);
                    if tries >= RETRIES {
                        return Err(CommandError::LostRace);
                    }
                }
                Err(CommandError::Store(StoreError::IdempotencyRace)) => {
                    return replay_after_race::<R>(&client, ctx).await.map(Outcome::Replayed);
                }
                // The SLA policy or a calendar the clocks were computed from
                // was amended after it was cached (on any instance): decide
                // again from what is current. Safe for every command, as if
                // the amendment had come just before it.
                Err(CommandError::Store(StoreError::ReadStreamMoved)) => {
                    metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "sla_inputs_moved")
                        .increment(1);
                    if let Some(sources) = &self.sla {
                        sources.forget();
                    }
                    if tries >= RETRIES {
                        return Err(CommandError::Store(StoreError::ReadStreamMoved));
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Locks another ticket the caller names in a command (not its
    /// target): it must be one the caller may read, and one it may not is
    /// reported as missing, whatever its kind.
    async fn lock_named(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        target: &TicketLookup,
        named: &str,
    ) -> Result<(TicketRow, StreamHead), CommandError> {
        let (row, head) = self.lock_other(tx, target, named).await?;
        if !ctx.reader.may_read(row.kind, row.complaint_linked) {
            return Err(CommandError::OtherNotFound(named.to_owned()));
        }
        Ok((row, head))
    }

    /// Locks another ticket a command affects (not its target), such as the
    /// complaints a fault's resolution is passed on to: no precondition or
    /// read rule applies, and a missing one is the client's mistake.
    async fn lock_other(
        &self,
        tx: &Transaction<'_>,
        target: &TicketLookup,
        named: &str,
    ) -> Result<(TicketRow, StreamHead), CommandError> {
        tickets::lock_with_head(tx, target)
            .await?
            .ok_or_else(|| CommandError::OtherNotFound(named.to_owned()))
    }

    /// Compares the client's `If-Match` with the locked ticket's version.
    /// Callers compare after their read check: a 412 would otherwise tell a
    /// caller who may not read the ticket that it exists.
    fn check_precondition(&self, precondition: &Precondition, row: &TicketRow) -> Result<(), CommandError> {
        if let Precondition::IfMatch(tags) = precondition
            && !etag::matches(&self.etag_key, tags, row.id, row.version)
        {
            metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "stale_if_match").increment(1);
            return Err(CommandError::Stale);
        }
        Ok(())
    }
}

/// The next number of a kind, e.g. `FLT-2026-000042`. A sequence never
/// blocks concurrent commands; a rolled-back command leaves a gap in the
/// numbers, never a duplicate.
async fn next_number(
    client: &impl GenericClient,
    kind: TicketKind,
    now: DateTime<Utc>,
) -> Result<String, CommandError> {
    let counter = tickets::next_number(client, kind).await?;
    Ok(crate::domain::ticket::format_number(
        kind,
        chrono::Datelike::year(&now),
        counter,
    ))
}

/// The state a ticket's view row holds.
fn state_of<A: Projected>(row: &TicketRow) -> Result<A, CommandError> {
    serde_json::from_value(row.view.clone()).map_err(|e| CommandError::Corrupt(format!("view of {}: {e}", row.id)))
}

/// The instant a command on a stream happens: now, but never before the
/// stream's latest event.
fn now_after(clock: &dyn Clock, head: Option<&StreamHead>) -> DateTime<Utc> {
    let now = store::envelope::to_micros(clock.now());
    head.map_or(now, |h| now.max(h.recorded_at))
}

/// The recorded result of an earlier request with the same key, or an
/// error when the key was used for a different request.
pub(crate) async fn replay<R: Record>(
    client: &impl GenericClient,
    ctx: &CommandContext,
) -> Result<Option<R::Replay>, CommandError> {
    let Some(idem) = &ctx.idempotency else {
        return Ok(None);
    };
    match idempotency::find(client, &ctx.actor.id, &idem.key).await? {
        None => Ok(None),
        Some(recorded) if recorded.request_hash == idem.request_hash => Ok(Some(R::replay(&recorded.body)?)),
        Some(_) => Err(CommandError::IdempotencyKeyReused),
    }
}

/// A request with the same key committed while this one was deciding (one
/// that did not take the key's lock: a server from before it was taken);
/// this one's insert blocked until then, so its record is readable now.
async fn replay_after_race<R: Record>(
    client: &impl GenericClient,
    ctx: &CommandContext,
) -> Result<R::Replay, CommandError> {
    replay::<R>(client, ctx)
        .await?
        .ok_or(CommandError::Store(StoreError::IdempotencyRace))
}

/// Seals `events` after `head` in `metadata`'s envelope and folds them
/// onto `state`: the sealed events and the ticket they leave.
fn seal_and_fold<A: Projected>(
    stream_id: Uuid,
    state: Option<A>,
    head: Option<&StreamHead>,
    events: &[A::Event],
    metadata: &Metadata,
    now: DateTime<Utc>,
) -> Result<(Vec<StoredEvent>, A), CommandError> {
    let new_events = events.iter().map(NewEvent::from_domain).collect();
    let sealed = store::seal(stream_id, head, new_events, metadata, now)?;
    let view = fold::fold_decided(state, events, &sealed)
        .map_err(|e| CommandError::Corrupt(e.to_string()))?
        .ok_or_else(|| CommandError::Corrupt("a command produced no view".into()))?;
    Ok((sealed, view))
}

/// The envelope of events the system appends because of a request (the
/// service-level clocks a command implies): the system acts, the request
/// is the cause. They are written by that request, so they keep its ids
/// and idempotency key: a retry with the key replays them with the rest.
pub(crate) fn system_metadata(ctx: &CommandContext) -> Metadata {
    let system = Actor::system();
    Metadata {
        actor: system.id,
        roles: Vec::new(),
        request_id: ctx.request_id.clone(),
        client_request_id: ctx.client_request_id.clone(),
        correlation_id: ctx.correlation_id.clone(),
        causation_id: Some(ctx.request_id.clone()),
        idempotency_key: ctx.idempotency.as_ref().map(|i| i.key.clone()),
    }
}

pub(crate) fn metadata(ctx: &CommandContext) -> Metadata {
    Metadata {
        actor: ctx.actor.id.clone(),
        roles: ctx.actor.roles.iter().map(|r| Role::as_str(*r).to_owned()).collect(),
        request_id: ctx.request_id.clone(),
        client_request_id: ctx.client_request_id.clone(),
        correlation_id: ctx.correlation_id.clone(),
        causation_id: ctx.causation_id.clone(),
        idempotency_key: ctx.idempotency.as_ref().map(|i| i.key.clone()),
    }
}

/// Writes the events of every stream, their views and the idempotency
/// record of the plan's result in the caller's transaction, pipelined on
/// one connection.
async fn write<R: Record>(tx: &Transaction<'_>, ctx: &CommandContext, plan: &Plan<R>) -> Result<(), CommandError> {
    let heads = plan
        .writes
        .iter()
        .map(StreamWrite::head_hash)
        .collect::<Result<Vec<_>, _>>()?;
    let record = match &ctx.idempotency {
        Some(idem) => Some((idem, plan.response.record()?)),
        None => None,
    };
    let record = async {
        match &record {
            Some((idem, body)) => {
                idempotency::insert(
                    tx,
                    &ctx.actor.id,
                    &idem.key,
                    &idem.request_hash,
                    body,
                    plan.response.subject(),
                )
                .await
            }
            None => Ok(()),
        }
    };
    let events = async {
        match plan.writes.as_slice() {
            [one] => store::insert_unless_moved(tx, &one.sealed, &one.read).await,
            many => {
                let all: Vec<StoredEvent> = many.iter().flat_map(|w| w.sealed.iter().cloned()).collect();
                let read: Vec<StreamAt> = many.iter().flat_map(|w| w.read.iter().copied()).collect();
                store::insert_unless_moved(tx, &all, &read).await
            }
        }
    };
    let views = futures_util::future::join_all(
        plan.writes
            .iter()
            .zip(&heads)
            .filter_map(|(w, head)| w.row.as_ref().map(|row| tickets::upsert(tx, row, head))),
    );
    // Calendar and freeze streams have rows of their own instead.
    let schedules = futures_util::future::join_all(
        plan.writes
            .iter()
            .filter(|w| w.row.is_none())
            .map(|w| schedules::apply(tx, &w.sealed)),
    );
    let (events, views, schedules, record) = tokio::join!(events, views, schedules, record);
    // join! polls in turn from a different future each time, so the
    // statements may reach the server in any order.
    Ok(store::first_cause(
        [events, record].into_iter().chain(views).chain(schedules),
    )?)
}
