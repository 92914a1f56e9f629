//! Rebuilding the ticket views from the log alone.
//!
//! Every stream is read in (stream, version) order and folded with the same
//! `evolve` that commands use, into a fresh table; the sealed values of
//! erased data subjects are replaced by the erased marker, exactly as an
//! erasure does to the live views. The fresh table is then swapped in: in
//! one transaction that holds off writers (readers carry on), streams that
//! changed while the rebuild was reading are folded again, and `tickets` is
//! made equal to the fresh table row by row. Rows that were already right
//! are not touched, so after a rebuild that finds nothing wrong the swap
//! costs one comparison, and every index, grant and constraint of `tickets`
//! stays as the migrations made it.

use std::collections::HashSet;

use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};
use uuid::Uuid;

use crate::domain::change::Change;
use crate::domain::complaint::{Channel, Complaint, Priority};
use crate::domain::fault::Fault;
use crate::domain::subject;
use crate::privacy::render;
use crate::store::{self, EventScan, StoreError, StoredEvent};

use super::fold::{self, Projected};
use super::schedules;
use super::tickets::{TicketRow, stored_column_list};

/// What a rebuild found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RebuildReport {
    /// Events read from the log.
    pub events: u64,
    /// Ticket streams folded into views.
    pub tickets: u64,
    /// Views that already matched the log.
    pub unchanged: u64,
    /// Views that differed from the log and were replaced.
    pub replaced: u64,
    /// Views the log has but `tickets` lacked.
    pub added: u64,
    /// Views `tickets` had without a stream in the log.
    pub removed: u64,
    /// Streams that changed while the rebuild read, folded again at the swap.
    pub caught_up: u64,
    /// The change calendars and freeze windows, refilled after the tickets.
    pub schedules: schedules::RefillReport,
}

/// A folded view and the hash of its stream's latest event.
pub struct Folded {
    pub row: TicketRow,
    pub head_hash: [u8; 32],
}

/// Views inserted per statement.
const BATCH: usize = 500;

/// Rebuilds `tickets` from the log while the server keeps serving.
/// `progress(events_read, events_total)` is called as the log is read.
pub async fn rebuild(client: &mut Client, progress: &dyn Fn(u64, u64)) -> Result<RebuildReport, StoreError> {
    client
        .batch_execute(
            "CREATE TEMP TABLE tickets_rebuild (LIKE tickets INCLUDING DEFAULTS);
             ALTER TABLE tickets_rebuild ADD PRIMARY KEY (id);",
        )
        .await?;

    // Read and fold one consistent snapshot of the log.
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(false)
        .start()
        .await?;
    let total = store::count_events(&tx).await?;
    let erased = erased_subjects(&tx).await?;
    let (events, tickets) = fold_all(&tx, None, &erased, "tickets_rebuild", &|read| progress(read, total)).await?;
    tx.commit().await?;
    let mut report = RebuildReport {
        events,
        tickets,
        ..RebuildReport::default()
    };

    // Swap: writers wait, readers do not.
    let tx = client.transaction().await?;
    tx.batch_execute("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    let stale: Vec<Uuid> = tx
        .query(
            "SELECT t.id FROM tickets t LEFT JOIN tickets_rebuild n ON n.id = t.id
             WHERE n.id IS NULL OR n.version <> t.version",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let erased_now = erased_subjects(&tx).await?;
    let newly_erased: Vec<Uuid> = erased_now.difference(&erased).copied().collect();
    let mut again: Vec<Uuid> = stale;
    if !newly_erased.is_empty() {
        let rows = tx
            .query(
                "SELECT id FROM tickets_rebuild WHERE subject_id = ANY($1)",
                &[&newly_erased],
            )
            .await?;
        for r in rows {
            again.push(r.try_get(0)?);
        }
    }
    if !again.is_empty() {
        tx.execute("DELETE FROM tickets_rebuild WHERE id = ANY($1)", &[&again])
            .await?;
        let (_, refolded) = fold_all(&tx, Some(&again), &erased_now, "tickets_rebuild", &|_| {}).await?;
        report.caught_up = refolded;
    }
    report.removed = tx
        .execute(
            "DELETE FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM tickets_rebuild n WHERE n.id = t.id)",
            &[],
        )
        .await?;
    report.replaced = tx
        .execute(
            &format!(
                "UPDATE tickets t SET ({all}) = ({new}) FROM tickets_rebuild n
                 WHERE t.id = n.id AND ({old}) IS DISTINCT FROM ({new})",
                all = stored_column_list(None),
                old = stored_column_list(Some("t")),
                new = stored_column_list(Some("n")),
            ),
            &[],
        )
        .await?;
    report.added = tx
        .execute(
            &format!(
                "INSERT INTO tickets ({all}) SELECT {new} FROM tickets_rebuild n
                 WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = n.id)",
                all = stored_column_list(None),
                new = stored_column_list(Some("n")),
            ),
            &[],
        )
        .await?;
    tx.commit().await?;
    client
        .batch_execute("DROP TABLE IF EXISTS pg_temp.tickets_rebuild")
        .await?;
    // The calendars and freezes are a few small streams: folded and
    // compared in one transaction of their own.
    let tx = client.transaction().await?;
    report.schedules = schedules::refill(&tx).await?;
    tx.commit().await?;
    report.unchanged = report.tickets.saturating_sub(report.replaced + report.added);
    Ok(report)
}

/// Inserts folded views into `table` (`tickets` or the rebuild's table).
async fn insert_rows(client: &impl GenericClient, table: &str, rows: &[Folded]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut numbers = Vec::with_capacity(rows.len());
    let mut kinds = Vec::with_capacity(rows.len());
    let mut statuses = Vec::with_capacity(rows.len());
    let mut priorities = Vec::with_capacity(rows.len());
    let mut teams = Vec::with_capacity(rows.len());
    let mut assignees = Vec::with_capacity(rows.len());
    let mut channels = Vec::with_capacity(rows.len());
    let mut created = Vec::with_capacity(rows.len());
    let mut updated = Vec::with_capacity(rows.len());
    let mut versions = Vec::with_capacity(rows.len());
    let mut views = Vec::with_capacity(rows.len());
    let mut heads = Vec::with_capacity(rows.len());
    let mut subjects = Vec::with_capacity(rows.len());
    let mut severities = Vec::with_capacity(rows.len());
    let mut linked = Vec::with_capacity(rows.len());
    let mut starts = Vec::with_capacity(rows.len());
    let mut ends = Vec::with_capacity(rows.len());
    for Folded { row, head_hash } in rows {
        ids.push(row.id);
        numbers.push(row.number.as_str());
        kinds.push(row.kind.as_str());
        statuses.push(row.status.as_str());
        priorities.push(row.priority.map(Priority::as_str));
        teams.push(row.team.as_deref());
        assignees.push(row.assignee.as_deref());
        channels.push(row.channel.map(Channel::as_str));
        created.push(row.created_at);
        updated.push(row.updated_at);
        versions.push(i64::try_from(row.version).map_err(|_| StoreError::Corrupt("version overflow".into()))?);
        views.push(&row.view);
        heads.push(&head_hash[..]);
        subjects.push(row.subject);
        severities.push(row.severity);
        linked.push(row.complaint_linked);
        starts.push(row.window.map(|w| w.0));
        ends.push(row.window.map(|w| w.1));
    }
    let sql = format!(
        "INSERT INTO {table} ({columns})
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::jsonb[],
                              $13::bytea[], $14::uuid[], $15::smallint[], $16::bool[], $17::timestamptz[],
                              $18::timestamptz[])",
        columns = stored_column_list(None),
    );
    client
        .execute(
            &sql,
            &[
                &ids,
                &numbers,
                &kinds,
                &statuses,
                &priorities,
                &teams,
                &assignees,
                &channels,
                &created,
                &updated,
                &versions,
                &views,
                &heads,
                &subjects,
                &severities,
                &linked,
                &starts,
                &ends,
            ],
        )
        .await?;
    Ok(())
}

/// The data subjects whose personal data was erased.
pub async fn erased_subjects(client: &impl GenericClient) -> Result<HashSet<Uuid>, StoreError> {
    store::streams_with_event(client, subject::ERASED).await
}

/// Folds the whole log into `tickets`, which is empty, and fills the change
/// calendars and freeze windows: the views of a store just restored from a
/// backup. Returns how many ticket views were written.
pub async fn fold_into_empty(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let erased = erased_subjects(tx).await?;
    let (_, written) = fold_all(tx, None, &erased, "tickets", &|_| {}).await?;
    schedules::refill(tx).await?;
    Ok(written)
}

/// Folds one ticket stream, whatever its kind; `None` for streams that are
/// not tickets (data subjects, calendars, freeze windows).
pub fn fold_ticket(events: &[StoredEvent], erased: &HashSet<Uuid>) -> Result<Option<Folded>, StoreError> {
    let Some(first) = events.first() else {
        return Ok(None);
    };
    let kind = first.envelope.event_type.split('.').next().unwrap_or_default();
    let row = match kind {
        "complaint" => view_row::<Complaint>(events)?,
        "fault" => view_row::<Fault>(events)?,
        "change" => view_row::<Change>(events)?,
        _ => return Ok(None),
    };
    let Some(mut row) = row else { return Ok(None) };
    if let Some(subject) = row.subject
        && erased.contains(&subject)
    {
        render::scrub(&mut row.view, subject);
    }
    let head_hash = events.last().map(|e| e.hash).unwrap_or_default();
    Ok(Some(Folded { row, head_hash }))
}

fn view_row<A: Projected>(events: &[StoredEvent]) -> Result<Option<TicketRow>, StoreError> {
    let view = fold::fold::<A>(None, events).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    view.map(|v| v.row().map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// Reads the events of `streams` (every stream when `None`) in (stream,
/// version) order within `tx`, folds each ticket stream, and inserts the
/// views into `table`. Returns (events read, views written).
pub async fn fold_all(
    tx: &Transaction<'_>,
    streams: Option<&[Uuid]>,
    erased: &HashSet<Uuid>,
    table: &str,
    progress: &dyn Fn(u64),
) -> Result<(u64, u64), StoreError> {
    let mut scan = EventScan::open(tx, streams).await?;
    let (mut read, mut written) = (0u64, 0u64);
    let mut current: Option<Uuid> = None;
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut batch: Vec<Folded> = Vec::with_capacity(BATCH);
    while let Some(chunk) = scan.next_chunk(tx).await? {
        for event in chunk {
            read += 1;
            let stream = event.envelope.stream_id;
            if current != Some(stream) {
                if let Some(folded) = fold_ticket(&events, erased)? {
                    batch.push(folded);
                }
                events.clear();
                current = Some(stream);
            }
            events.push(event);
        }
        if batch.len() >= BATCH {
            insert_rows(tx, table, &batch).await?;
            written += batch.len() as u64;
            batch.clear();
        }
        progress(read);
    }
    if let Some(folded) = fold_ticket(&events, erased)? {
        batch.push(folded);
    }
    insert_rows(tx, table, &batch).await?;
    written += batch.len() as u64;
    Ok((read, written))
}
