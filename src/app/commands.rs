//! Command handling: load the current state, let the domain decide, seal
//! the events and append them together with the inline projection and the
//! idempotency record, in one transaction.
//!
//! The state a command decides on is the inline `tickets` view: it is the
//! fold of the stream up to its version (written by the same `evolve` in
//! the same transaction as the events), so it serves as a snapshot and a
//! command never replays a long stream.

use std::sync::Arc;

use chrono::Utc;
use deadpool_postgres::{GenericClient, Pool};
use uuid::Uuid;

use crate::domain::complaint::{self, Complaint, ComplaintCommand, ComplaintEvent, FileComplaint};
use crate::domain::ticket::{TicketKind, format_number};
use crate::domain::{Actor, DomainError, Role};
use crate::privacy::crypto::IndexKind;
use crate::privacy::{self, Privacy, PrivacyError, keys};
use crate::projections::fold;
use crate::projections::tickets::{self, TicketRef, TicketRow};
use crate::store::idempotency::{self, StoredResponse};
use crate::store::sequencer::AppendSignal;
use crate::store::{self, Metadata, NewEvent, StoreError, StreamHead};

use super::etag;

/// Commands that commute (adding a note) are retried this often if they
/// ever lose a race at insert; after that the client sees 412.
const COMMUTING_RETRIES: usize = 3;

/// Who is acting and what the request carried, beyond the command itself.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub actor: Actor,
    pub request_id: String,
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
    /// New personal data about a subject whose data was erased.
    #[error("the complainant's personal data was erased; no new personal data can be recorded for them")]
    SubjectErased,
    #[error(transparent)]
    Privacy(PrivacyError),
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

/// The result of a command: a new view, or the stored response of an
/// earlier request with the same idempotency key.
#[derive(Debug)]
pub enum Outcome {
    Done(TicketRow),
    Replayed(StoredResponse),
}

#[derive(Clone)]
pub struct Commands {
    pool: Pool,
    privacy: Arc<Privacy>,
    appended: AppendSignal,
}

impl Commands {
    pub fn new(pool: Pool, privacy: Arc<Privacy>, appended: AppendSignal) -> Commands {
        Commands {
            pool,
            privacy,
            appended,
        }
    }

    /// Files a new complaint. `render` produces the response stored for
    /// idempotent replays.
    pub async fn file_complaint(
        &self,
        ctx: &CommandContext,
        cmd: &FileComplaint,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        if let Some(replay) = replay(&client, ctx).await? {
            return Ok(replay);
        }
        // Validate before taking a number, so a refused request consumes nothing.
        let id = Uuid::now_v7();
        let now = store::envelope::to_micros(Utc::now());
        complaint::file(id, "CMP-0000-000000", Uuid::nil(), cmd, now)?;

        let counter: i64 = client
            .query_one("SELECT nextval('ticket_number_complaint')", &[])
            .await
            .map_err(StoreError::from)?
            .get(0);
        let number = format_number(
            TicketKind::Complaint,
            chrono::Datelike::year(&now),
            counter.unsigned_abs(),
        );
        let c = &cmd.complainant;
        let contacts: Vec<(IndexKind, &str)> = [
            (IndexKind::CustomerRef, c.customer_ref.as_deref()),
            (IndexKind::Email, c.email.as_deref()),
            (IndexKind::Phone, c.phone.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|v| (kind, v)))
        .collect();
        let digests = keys::contact_digests(self.privacy.index_key(), &contacts);
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let written = async {
            let subject = keys::resolve_subject(&tx, self.privacy.master(), &digests).await?;
            let mut events = complaint::file(id, &number, subject.subject, cmd, now)?;
            for event in &mut events {
                privacy::seal_fields(event.personal_mut(), &subject)?;
            }
            let sealed = seal_complaint_events(id, None, events, ctx, now)?;
            let row = complaint_row(fold::fold_complaint(None, &sealed))?;
            write(&tx, ctx, &sealed, &row, &render).await?;
            Ok::<_, CommandError>((row, sealed))
        }
        .await;
        let written = match written {
            Ok((row, sealed)) => tx
                .commit()
                .await
                .map(|()| {
                    self.appended.committed(&sealed);
                    row
                })
                .map_err(|e| CommandError::Store(e.into())),
            Err(e) => {
                drop(tx); // rolls back
                Err(e)
            }
        };
        match written {
            Ok(row) => Ok(Outcome::Done(row)),
            Err(CommandError::Store(StoreError::IdempotencyRace)) => replay_after_race(&client, ctx).await,
            Err(other) => Err(other),
        }
    }

    /// Applies a command to an existing complaint.
    pub async fn handle_complaint(
        &self,
        ctx: &CommandContext,
        target: &TicketRef,
        cmd: &ComplaintCommand,
        precondition: &Precondition,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        if let Some(replay) = replay(&client, ctx).await? {
            return Ok(replay);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = client.transaction().await.map_err(StoreError::from)?;
            let (row, head) = tickets::lock_with_head(&tx, target)
                .await?
                .ok_or(CommandError::NotFound)?;
            if row.kind != TicketKind::Complaint.as_str() {
                return Err(CommandError::WrongKind { expected: "complaint" });
            }
            if let Precondition::IfMatch(tags) = precondition
                && !etag::matches(tags, row.id, row.version)
            {
                metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "stale_if_match").increment(1);
                return Err(CommandError::Stale);
            }
            let state: Complaint = serde_json::from_value(row.view)
                .map_err(|e| CommandError::Corrupt(format!("view of {}: {e}", row.id)))?;
            let now = store::envelope::to_micros(Utc::now()).max(head.recorded_at);
            let mut events = complaint::decide(&state, cmd, now)?;
            self.seal_personal(&tx, state.subject, &mut events).await?;
            let sealed = seal_complaint_events(row.id, Some(&head), events, ctx, now)?;
            let new_row = complaint_row(fold::fold_complaint(Some(state), &sealed))?;
            let written = match write(&tx, ctx, &sealed, &new_row, &render).await {
                Ok(()) => tx
                    .commit()
                    .await
                    .map(|()| self.appended.committed(&sealed))
                    .map_err(|e| CommandError::Store(e.into())),
                Err(e) => {
                    drop(tx); // rolls back
                    Err(e)
                }
            };
            match written {
                Ok(()) => return Ok(Outcome::Done(new_row)),
                // Only a writer that bypassed the row lock can get here; the
                // unique (stream, version) constraint still refuses it.
                Err(CommandError::Store(StoreError::VersionConflict)) => {
                    metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "lost_insert_race")
                        .increment(1);
                    match precondition {
                        Precondition::IfMatch(_) => return Err(CommandError::LostRace),
                        Precondition::Commutes if attempt < COMMUTING_RETRIES => continue,
                        Precondition::Commutes => return Err(CommandError::LostRace),
                    }
                }
                Err(CommandError::Store(StoreError::IdempotencyRace)) => {
                    return replay_after_race(&client, ctx).await;
                }
                Err(other) => return Err(other),
            }
        }
    }
}

impl Commands {
    /// Seals the personal values of `events` under the subject's key,
    /// fetching the key only when there is something to seal.
    async fn seal_personal(
        &self,
        client: &impl GenericClient,
        subject: Uuid,
        events: &mut [ComplaintEvent],
    ) -> Result<(), CommandError> {
        let mut fields: Vec<_> = events.iter_mut().flat_map(|e| e.personal_mut()).collect();
        if fields.is_empty() {
            return Ok(());
        }
        let found = keys::subject_keys(client, self.privacy.master(), &[subject]).await?;
        let key = found.get(&subject).ok_or(CommandError::SubjectErased)?;
        privacy::seal_fields(fields.drain(..), key)?;
        Ok(())
    }
}

/// The stored response of an earlier request with the same key, or an
/// error when the key was used for a different request.
async fn replay(client: &impl GenericClient, ctx: &CommandContext) -> Result<Option<Outcome>, CommandError> {
    let Some(idem) = &ctx.idempotency else {
        return Ok(None);
    };
    match idempotency::find(client, &ctx.actor.id, &idem.key).await? {
        None => Ok(None),
        Some(recorded) if recorded.request_hash == idem.request_hash => Ok(Some(Outcome::Replayed(recorded.response))),
        Some(_) => Err(CommandError::IdempotencyKeyReused),
    }
}

/// A concurrent request with the same key committed while this one was
/// deciding; its insert blocked until then, so its response is readable now.
async fn replay_after_race(client: &impl GenericClient, ctx: &CommandContext) -> Result<Outcome, CommandError> {
    replay(client, ctx)
        .await?
        .ok_or(CommandError::Store(StoreError::IdempotencyRace))
}

pub(crate) fn metadata(ctx: &CommandContext) -> Metadata {
    Metadata {
        actor: ctx.actor.id.clone(),
        roles: ctx.actor.roles.iter().map(|r| Role::as_str(*r).to_owned()).collect(),
        request_id: ctx.request_id.clone(),
        correlation_id: ctx.correlation_id.clone(),
        causation_id: ctx.causation_id.clone(),
        idempotency_key: ctx.idempotency.as_ref().map(|i| i.key.clone()),
    }
}

fn seal_complaint_events(
    stream_id: Uuid,
    head: Option<&StreamHead>,
    events: Vec<ComplaintEvent>,
    ctx: &CommandContext,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<store::StoredEvent>, CommandError> {
    let new_events = events.iter().map(NewEvent::from_domain).collect();
    Ok(store::seal(stream_id, head, new_events, &metadata(ctx), now)?)
}

fn complaint_row(folded: Result<Option<Complaint>, crate::domain::StreamCorrupt>) -> Result<TicketRow, CommandError> {
    let view = folded
        .map_err(|e| CommandError::Corrupt(e.to_string()))?
        .ok_or_else(|| CommandError::Corrupt("a command produced no view".into()))?;
    fold::complaint_row(&view).map_err(|e| CommandError::Corrupt(e.to_string()))
}

/// Writes the events, the inline view and the idempotency record in the
/// caller's transaction, pipelined on one connection.
async fn write(
    tx: &deadpool_postgres::Transaction<'_>,
    ctx: &CommandContext,
    sealed: &[store::StoredEvent],
    row: &TicketRow,
    render: &impl Fn(&TicketRow) -> StoredResponse,
) -> Result<(), CommandError> {
    let head_hash = sealed
        .last()
        .map(|e| e.hash)
        .ok_or_else(|| CommandError::Corrupt("a command produced no events".into()))?;
    let response = ctx.idempotency.as_ref().map(|i| (i, render(row)));
    let record = async {
        match &response {
            Some((idem, resp)) => {
                idempotency::insert(tx, &ctx.actor.id, &idem.key, &idem.request_hash, resp, row.subject).await
            }
            None => Ok(()),
        }
    };
    let (events, view, record) = tokio::join!(store::insert(tx, sealed), tickets::upsert(tx, row, &head_hash), record);
    // The version conflict is the meaningful error when several fail together.
    events?;
    record?;
    view?;
    Ok(())
}
