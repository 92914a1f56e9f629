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

mod changes;
mod complaints;
mod faults;
mod links;
mod subjects;
pub use changes::freeze_calendar;
pub use links::LinkCommand;
pub use subjects::{Merge, RepairReport, SplitSubject};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};
use uuid::Uuid;

use crate::domain::permissions::Reader;
use crate::domain::ticket::TicketKind;
use crate::domain::{Actor, DomainError, Role};
use crate::privacy::{Privacy, PrivacyError};
use crate::projections::fold::{self, Projected};
use crate::projections::tickets::{self, TicketLookup, TicketRow};
use crate::store::idempotency::{self, StoredResponse};
use crate::store::sequencer::AppendSignal;
use crate::store::{self, Metadata, NewEvent, StoreError, StoredEvent, StreamHead};

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
    /// A ticket the command names besides its target does not exist.
    #[error("no ticket {0:?}")]
    OtherNotFound(String),
    /// A field of the command names a ticket that does not exist or is of
    /// the wrong kind.
    #[error("{detail}")]
    BadReference { pointer: String, detail: String },
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
}

impl CommandError {
    /// A missing data subject that a field of the command named: the
    /// client's mistake at `pointer` (422), not a missing resource (404).
    pub(crate) fn named_at(self, pointer: &str) -> CommandError {
        match self {
            e @ (CommandError::NoSubject(_) | CommandError::SubjectGone { .. }) => CommandError::BadReference {
                pointer: pointer.to_owned(),
                detail: e.to_string(),
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

/// The result of a command: its response (a ticket's new view, unless the
/// command says otherwise), or the stored response of an earlier request
/// with the same idempotency key.
#[derive(Debug)]
pub enum Outcome<R = TicketRow> {
    Done(R),
    Replayed(StoredResponse),
}

#[derive(Clone)]
pub struct Commands {
    pool: Pool,
    privacy: Arc<Privacy>,
    appended: AppendSignal,
    etag_key: etag::EtagKey,
    clock: SharedClock,
}

/// One stream's share of a command: its sealed events and, for a ticket,
/// its new view. Calendar and freeze-window streams have no `tickets` view.
pub(crate) struct StreamWrite {
    sealed: Vec<StoredEvent>,
    row: Option<TicketRow>,
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
        let new_events = events.iter().map(NewEvent::from_domain).collect();
        let sealed = store::seal(stream_id, head, new_events, &metadata(ctx), now)?;
        let view = fold::fold(state, &sealed)
            .map_err(|e| CommandError::Corrupt(e.to_string()))?
            .ok_or_else(|| CommandError::Corrupt("a command produced no view".into()))?;
        let row = view.row().map_err(|e| CommandError::Corrupt(e.to_string()))?;
        Ok(StreamWrite { sealed, row: Some(row) })
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
        Ok(StreamWrite { sealed, row: None })
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

/// What the idempotency record of a response is filed under: the data
/// subject whose personal data it carries, so an erasure can find it.
pub(crate) trait ResponseSubject {
    fn subject(&self) -> Option<Uuid>;
}

impl ResponseSubject for TicketRow {
    fn subject(&self) -> Option<Uuid> {
        self.subject
    }
}

/// A ticket locked for the rest of the transaction, with its state.
pub(crate) struct Locked<A> {
    state: A,
    head: StreamHead,
    row: TicketRow,
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
        }
    }

    /// Now, as this service's clock says, but never before `head`.
    fn now_after(&self, head: Option<&StreamHead>) -> DateTime<Utc> {
        now_after(self.clock.as_ref(), head)
    }

    /// Runs `attempt` in a transaction and commits what it planned together
    /// with the idempotency record; replays an earlier response to the same
    /// idempotency key instead, and retries races that `retry_races` allows.
    ///
    /// Requests sharing a key take turns (the key's lock is held until the
    /// transaction ends), and each looks for a recorded response only in
    /// its turn: so the first does the work and the others replay its
    /// response, where they would otherwise each have decided on the state
    /// before the first committed (and been refused as stale, or have
    /// written a ticket of their own and rolled it back).
    async fn execute<R: ResponseSubject>(
        &self,
        ctx: &CommandContext,
        retry_races: bool,
        render: impl Fn(&R) -> StoredResponse,
        attempt: impl AsyncFn(&Transaction<'_>) -> Result<Plan<R>, CommandError>,
    ) -> Result<Outcome<R>, CommandError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let mut tries = 0;
        loop {
            tries += 1;
            let tx = client.transaction().await.map_err(StoreError::from)?;
            if let Some(idem) = &ctx.idempotency {
                idempotency::lock(&tx, &ctx.actor.id, &idem.key).await?;
                if let Some(replay) = replay(&tx, ctx).await? {
                    return Ok(replay);
                }
            }
            let planned = async {
                let plan = attempt(&tx).await?;
                let response = ctx.idempotency.as_ref().map(|_| render(&plan.response));
                write(&tx, ctx, &plan, response).await?;
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
                    return replay_after_race(&client, ctx).await;
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Locks the target ticket of a command of aggregate `A` for the
    /// transaction, checks its kind and the client's precondition, and loads
    /// its state.
    async fn lock<A: Projected>(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        target: &TicketLookup,
        precondition: &Precondition,
    ) -> Result<Locked<A>, CommandError> {
        let (row, head) = lock_target(tx, &ctx.reader, target, Some(A::KIND)).await?;
        self.check_precondition(precondition, &row)?;
        let state = state_of(&row)?;
        Ok(Locked { state, head, row })
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

/// Locks the target ticket of a command, of any kind unless `kind` is
/// given, and checks that the caller may act on it (else it is missing)
/// and then its kind. The caller compares the client's precondition after
/// this: read rules come first, so a caller learns neither the existence,
/// the kind nor the version of a ticket it may not read.
async fn lock_target(
    tx: &Transaction<'_>,
    reader: &Reader,
    target: &TicketLookup,
    kind: Option<TicketKind>,
) -> Result<(TicketRow, StreamHead), CommandError> {
    let (row, head) = tickets::lock_with_head(tx, target)
        .await?
        .ok_or(CommandError::NotFound)?;
    if !reader.may_act_on(row.kind, row.complaint_linked, row.created_by()) {
        return Err(CommandError::NotFound);
    }
    if let Some(kind) = kind
        && row.kind != kind
    {
        return Err(CommandError::WrongKind {
            expected: kind.as_str(),
        });
    }
    Ok((row, head))
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

/// The stored response of an earlier request with the same key, or an
/// error when the key was used for a different request.
async fn replay<R>(client: &impl GenericClient, ctx: &CommandContext) -> Result<Option<Outcome<R>>, CommandError> {
    let Some(idem) = &ctx.idempotency else {
        return Ok(None);
    };
    match idempotency::find(client, &ctx.actor.id, &idem.key).await? {
        None => Ok(None),
        Some(recorded) if recorded.request_hash == idem.request_hash => Ok(Some(Outcome::Replayed(recorded.response))),
        Some(_) => Err(CommandError::IdempotencyKeyReused),
    }
}

/// A request with the same key committed while this one was deciding (one
/// that did not take the key's lock: a server from before it was taken);
/// this one's insert blocked until then, so its response is readable now.
async fn replay_after_race<R>(client: &impl GenericClient, ctx: &CommandContext) -> Result<Outcome<R>, CommandError> {
    replay(client, ctx)
        .await?
        .ok_or(CommandError::Store(StoreError::IdempotencyRace))
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
/// record of `response` in the caller's transaction, pipelined on one
/// connection.
async fn write<R: ResponseSubject>(
    tx: &Transaction<'_>,
    ctx: &CommandContext,
    plan: &Plan<R>,
    response: Option<StoredResponse>,
) -> Result<(), CommandError> {
    let heads = plan
        .writes
        .iter()
        .map(StreamWrite::head_hash)
        .collect::<Result<Vec<_>, _>>()?;
    let response = ctx.idempotency.as_ref().zip(response);
    let record = async {
        match &response {
            Some((idem, resp)) => {
                idempotency::insert(
                    tx,
                    &ctx.actor.id,
                    &idem.key,
                    &idem.request_hash,
                    resp,
                    plan.response.subject(),
                )
                .await
            }
            None => Ok(()),
        }
    };
    let events = async {
        match plan.writes.as_slice() {
            [one] => store::insert(tx, &one.sealed).await,
            many => {
                let all: Vec<StoredEvent> = many.iter().flat_map(|w| w.sealed.iter().cloned()).collect();
                store::insert(tx, &all).await
            }
        }
    };
    let views = futures_util::future::join_all(
        plan.writes
            .iter()
            .zip(&heads)
            .filter_map(|(w, head)| w.row.as_ref().map(|row| tickets::upsert(tx, row, head))),
    );
    let (events, views, record) = tokio::join!(events, views, record);
    // join! polls in turn from a different future each time, so the
    // statements may reach the server in any order.
    Ok(store::first_cause([events, record].into_iter().chain(views))?)
}
