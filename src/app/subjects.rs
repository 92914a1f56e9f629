//! Data subjects' rights: erasure (crypto-shredding) and access (export).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::clock::SharedClock;
use crate::domain::subject::{self, EraseSubject};
use crate::privacy::crypto::IndexKind;
use crate::privacy::render::Gone;
use crate::privacy::{Privacy, keys, render};
use crate::projections::tickets::{self, TicketRow};
use crate::store::sequencer::AppendSignal;
use crate::store::{self, NewEvent, StoreError, StoredEvent, idempotency};

use super::commands::{Answer, CommandContext, CommandError, Document, Record, metadata, missing_subject, replay};

/// What an erasure did: the account its idempotency record keeps, so a
/// retry with the same key gets it again instead of a refusal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ErasureReceipt)]
pub struct Erasure {
    /// The data subject erased (UUID).
    pub subject: Uuid,
    /// The `subject.erased` event in the log.
    pub event_id: Uuid,
    /// When the subject was erased (RFC 3339 date-time, UTC); a replayed answer
    /// gives the time of the first erasure.
    pub erased_at: DateTime<Utc>,
    /// Views whose sealed values were replaced by an erased marker.
    pub tickets_scrubbed: u64,
    /// Stored idempotent responses that carried the subject's data, kept as
    /// tombstones with their personal values scrubbed: a retry with the same
    /// key replays the scrubbed response and never files anew.
    pub responses_scrubbed: u64,
}

/// An account of ids and counts: it carries nobody's personal data.
impl Document for Erasure {}

/// Everything held about one subject, still sealed (the caller renders it).
pub struct SubjectRecords {
    /// What became of the subject, if its key is gone.
    pub gone: Option<Gone>,
    pub tickets: Vec<(TicketRow, Vec<StoredEvent>)>,
}

/// A subject an exact contact identifies, with the tickets that carry its
/// personal data.
pub struct ContactMatch {
    pub subject: Uuid,
    pub tickets: Vec<TicketRow>,
}

#[derive(Clone)]
pub struct Subjects {
    pool: Pool,
    privacy: Arc<Privacy>,
    appended: AppendSignal,
    clock: SharedClock,
}

impl Subjects {
    pub fn new(pool: Pool, privacy: Arc<Privacy>, appended: AppendSignal, clock: SharedClock) -> Subjects {
        Subjects {
            pool,
            privacy,
            appended,
            clock,
        }
    }

    /// Erases a subject in one transaction: deletes their key and every
    /// blind-index entry that points to them, appends `subject.erased` to
    /// their stream, replaces their sealed values in every view and every
    /// stored idempotent response by an erased marker (the responses stay,
    /// as tombstones). The event log is not touched otherwise, so every hash
    /// chain still verifies. A retry with the request's `Idempotency-Key`
    /// gets the first erasure's account again.
    pub async fn erase(
        &self,
        ctx: &CommandContext,
        subject: Uuid,
        cmd: &EraseSubject,
    ) -> Result<Answer<Erasure>, CommandError> {
        // Refuse a malformed request before touching anything.
        subject::erase(subject, cmd, false)?;
        // Scrubbing locks the subject's tickets in view order; a command on
        // two of them (a link) may lock them the other way round, and
        // PostgreSQL then aborts one of the two: try again, as commands do.
        let mut tries = 0;
        loop {
            tries += 1;
            match self.erase_once(ctx, subject, cmd).await {
                Err(CommandError::Store(StoreError::Deadlock)) if tries < 3 => {
                    metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => "deadlock").increment(1);
                }
                done => return done,
            }
        }
    }

    async fn erase_once(
        &self,
        ctx: &CommandContext,
        subject: Uuid,
        cmd: &EraseSubject,
    ) -> Result<Answer<Erasure>, CommandError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        if let Some(idem) = &ctx.idempotency {
            idempotency::lock(&tx, &ctx.actor.id, &idem.key).await?;
            if let Some(document) = replay::<Erasure>(&tx, ctx).await? {
                return Ok(Answer {
                    document,
                    replayed: true,
                });
            }
        }
        keys::lock_subject_keys(&tx, self.privacy.master(), &[subject]).await?;
        let had_key = keys::shred(&tx, subject).await?;
        if !had_key {
            return Err(match missing_subject(&tx, subject).await? {
                // Erased once already: the domain's refusal says so.
                CommandError::SubjectGone {
                    marker: render::ERASED, ..
                } => subject::erased_already().into(),
                other => other,
            });
        }
        let events = subject::erase(subject, cmd, false)?;
        let now = store::envelope::to_micros(self.clock.now());
        let new_events = events.iter().map(NewEvent::from_domain).collect();
        let sealed = store::seal(subject, None, new_events, &metadata(ctx), now)?;
        store::insert(&tx, &sealed).await.map_err(|e| match e {
            // A concurrent erasure of the same subject committed first.
            StoreError::VersionConflict => subject::erased_already().into(),
            other => CommandError::Store(other),
        })?;
        let mut tickets_scrubbed = 0;
        for mut ticket in tickets::of_subject(&tx, subject, true).await? {
            if render::scrub(&mut ticket.view, subject) {
                tickets::replace_scrubbed_view(&tx, ticket.id, &ticket.view).await?;
                tickets_scrubbed += 1;
            }
        }
        let responses_scrubbed = idempotency::scrub_for_subject(&tx, subject, |body| {
            let mut doc: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| StoreError::Corrupt(format!("a stored response is not JSON: {e}")))?;
            render::scrub(&mut doc, subject);
            serde_json::to_vec(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .await?;
        let event = sealed
            .first()
            .ok_or_else(|| CommandError::Corrupt("an erasure produced no event".into()))?;
        let erasure = Erasure {
            subject,
            event_id: event.envelope.event_id,
            erased_at: event.recorded_at,
            tickets_scrubbed,
            responses_scrubbed,
        };
        if let Some(idem) = &ctx.idempotency {
            idempotency::insert(
                &tx,
                &ctx.actor.id,
                &idem.key,
                &idem.request_hash,
                &Record::record(&erasure)?,
                Record::subject(&erasure),
            )
            .await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.appended.committed(&sealed);
        tracing::info!(%subject, tickets_scrubbed, responses_scrubbed, "erased a data subject");
        Ok(Answer {
            document: erasure,
            replayed: false,
        })
    }

    /// Every ticket and event that carries the subject's data (sealed), or
    /// `None` for a subject the system never knew.
    pub async fn records(&self, subject: Uuid) -> Result<Option<SubjectRecords>, CommandError> {
        let client = self.pool.get().await.map_err(StoreError::from)?;
        let live = !keys::subject_keys(&client, self.privacy.master(), &[subject])
            .await?
            .is_empty();
        let gone = if live {
            None
        } else {
            match keys::gone(&client, &[subject]).await?.remove(&subject) {
                None => return Ok(None),
                gone => gone,
            }
        };
        let mut out = Vec::new();
        for ticket in tickets::of_subject(&client, subject, false).await? {
            let events = store::read_stream(&client, ticket.id).await?;
            out.push((ticket, events));
        }
        Ok(Some(SubjectRecords { gone, tickets: out }))
    }

    /// Every subject an exact contact identifies, each with its tickets: a
    /// person may hold several (one per filing, unless joined), and a
    /// contact shared by a family or an office identifies several people.
    pub async fn by_contact(&self, kind: IndexKind, value: &str) -> Result<Vec<ContactMatch>, CommandError> {
        let client = self.pool.get().await.map_err(StoreError::from)?;
        let mut out = Vec::new();
        for subject in keys::subjects_by_contact(&client, self.privacy.index_key(), kind, value).await? {
            let tickets = tickets::of_subject(&client, subject, false).await?;
            out.push(ContactMatch { subject, tickets });
        }
        Ok(out)
    }
}
