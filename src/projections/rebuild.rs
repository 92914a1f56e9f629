//! Rebuilding the ticket views from the log alone.
//!
//! Every stream is read in (stream, version) order and folded with the same
//! `evolve` that commands use, into a fresh table; the sealed values of
//! erased data subjects are replaced by the erased marker, exactly as an
//! erasure does to the live views. The read is one snapshot of the log,
//! shared by several connections that each fold a range of the streams
//! (`pg_export_snapshot()` / `SET TRANSACTION SNAPSHOT`), while the
//! connection that exported it copies the views in: parsing and folding
//! are most of a rebuild's work, and they run on every core. The fresh
//! table is then swapped in: in one transaction that holds off writers
//! (readers carry on), streams that changed while the rebuild was reading
//! are folded again, and `tickets` is made equal to the fresh table row by
//! row. Rows that were already right are not touched, so after a rebuild
//! that finds nothing wrong the swap costs one comparison, and every index,
//! grant and constraint of `tickets` stays as the migrations made it.
//!
//! Another view refilled by a rebuild would get its own fresh table, filled
//! in the snapshot, and its own catch-up and comparison in the swap
//! transaction, under the same lock.

use std::collections::HashSet;
use std::ops::Deref;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};
use uuid::Uuid;

use crate::domain::change::Change;
use crate::domain::complaint::{Channel, Complaint, Priority};
use crate::domain::fault::Fault;
use crate::domain::{DomainEvent, EventMeta, subject};
use crate::privacy::render;
use crate::store::{self, EventScan, ScannedEvent, StoreError, Streams};

use super::fold::Projected;
use super::schedules;
use super::tickets::{STORED_COLUMN_TYPES, TicketRow, stored_column_list};

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
/// Folded views in flight from the folding connections to the writing one.
const IN_FLIGHT: usize = 256;
/// The fresh table, private to the rebuild's session.
const FRESH: &str = "tickets_rebuild";

/// How many connections fold the log in `opsledger rebuild`: two per core
/// of this machine, where parsing and folding run, so that one folds a
/// chunk while the other waits for its next (at a million events on two
/// cores, four folded a fifth faster than two, and eight no faster than
/// four). At most 16; each is also a backend reading the log.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| 2 * n.get())
        .clamp(2, 16)
}

/// Rebuilds `tickets` from the log while the server keeps serving.
///
/// `client` holds the snapshot and writes the fresh views; each connection
/// of `workers` folds a range of the streams (about as many events each)
/// from that same snapshot, imported with `SET TRANSACTION SNAPSHOT`, so
/// that reading, parsing and folding run on several connections and
/// threads at once while `client` copies the views in. With no workers,
/// `client` reads and folds alone. `progress(events_read, events_total)`
/// is called as the log is read; the total is an estimate from a sample.
pub async fn rebuild<W>(
    client: &mut Client,
    workers: Vec<W>,
    progress: &dyn Fn(u64, u64),
) -> Result<RebuildReport, StoreError>
where
    W: Deref<Target = Client> + Send + 'static,
{
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE {FRESH} (LIKE tickets INCLUDING DEFAULTS);
             ALTER TABLE {FRESH} ADD PRIMARY KEY (id);
             ALTER TABLE {FRESH} ALTER COLUMN view SET STORAGE EXTERNAL;"
        ))
        .await?;

    // The fresh views are kept out of line but not compressed: they live
    // for one comparison, and compressing them with pglz was a quarter of
    // the database's work in a rebuild (docs/performance.md). A view copied
    // into `tickets` is compressed there as usual.

    // Read and fold one consistent snapshot of the log. The views are
    // folded as if no subject were erased, and the views of the subjects
    // this snapshot has erased are scrubbed afterwards: finding the erased
    // subjects first would read all of `events` once more.
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(false)
        .start()
        .await?;
    let (events, tickets) = if workers.is_empty() {
        let (_, total) = store::scan::split(&tx, 1).await?;
        fold_all(&tx, Streams::ALL, &HashSet::new(), FRESH, &|read| progress(read, total)).await?
    } else {
        fold_parallel(&tx, workers, progress).await?
    };
    let erased = erased_among(&tx, &[FRESH]).await?;
    scrub_views(&tx, FRESH, &erased).await?;
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
            &format!(
                "SELECT t.id FROM tickets t LEFT JOIN {FRESH} n ON n.id = t.id
                 WHERE n.id IS NULL OR n.version <> t.version"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    // An erasure scrubs `tickets` in place (under a lock this one holds
    // off), without a new version: the views of subjects erased since the
    // snapshot are folded again, scrubbed.
    let erased_now = erased_among(&tx, &["tickets", FRESH]).await?;
    let newly_erased: Vec<Uuid> = erased_now.difference(&erased).copied().collect();
    let mut again: Vec<Uuid> = stale;
    if !newly_erased.is_empty() {
        let rows = tx
            .query(
                &format!("SELECT id FROM {FRESH} WHERE subject_id = ANY($1)"),
                &[&newly_erased],
            )
            .await?;
        for r in rows {
            again.push(r.try_get(0)?);
        }
    }
    // A stream both stale and newly erased is folded once.
    again.sort_unstable();
    again.dedup();
    if !again.is_empty() {
        tx.execute(&format!("DELETE FROM {FRESH} WHERE id = ANY($1)"), &[&again])
            .await?;
        let (_, refolded) = fold_all(&tx, Streams::Only(again), &erased_now, FRESH, &|_| {}).await?;
        report.caught_up = refolded;
    }
    report.removed = tx
        .execute(
            &format!("DELETE FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM {FRESH} n WHERE n.id = t.id)"),
            &[],
        )
        .await?;
    report.replaced = tx
        .execute(
            &format!(
                "UPDATE tickets t SET ({all}) = ({new}) FROM {FRESH} n
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
                "INSERT INTO tickets ({all}) SELECT {new} FROM {FRESH} n
                 WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = n.id)",
                all = stored_column_list(None),
                new = stored_column_list(Some("n")),
            ),
            &[],
        )
        .await?;
    tx.commit().await?;
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS pg_temp.{FRESH}"))
        .await?;
    // The calendars and freezes are a few small streams: folded and
    // compared in one transaction of their own.
    let tx = client.transaction().await?;
    report.schedules = schedules::refill(&tx).await?;
    tx.commit().await?;
    report.unchanged = report.tickets.saturating_sub(report.replaced + report.added);
    Ok(report)
}

/// Folds the snapshot of `tx` on `workers`, each over its own range of
/// streams, and copies the views into the fresh table on `tx` as they come.
/// Returns (events read, views written).
async fn fold_parallel<W>(
    tx: &Transaction<'_>,
    workers: Vec<W>,
    progress: &dyn Fn(u64, u64),
) -> Result<(u64, u64), StoreError>
where
    W: Deref<Target = Client> + Send + 'static,
{
    let snapshot: String = tx.query_one("SELECT pg_export_snapshot()", &[]).await?.try_get(0)?;
    let (ranges, total) = store::scan::split(tx, workers.len()).await?;
    let read = Arc::new(AtomicU64::new(0));
    let (sender, mut folded) = tokio::sync::mpsc::channel::<Folded>(IN_FLIGHT);
    // Tasks, not futures joined here: parsing and folding are most of the
    // work, and tasks spread it over the runtime's threads.
    let tasks: Vec<_> = workers
        .into_iter()
        .zip(ranges)
        .map(|(worker, range)| {
            tokio::spawn(fold_range(
                worker,
                snapshot.clone(),
                range,
                sender.clone(),
                Arc::clone(&read),
            ))
        })
        .collect();
    drop(sender);

    let written = async {
        let sink = tx
            .copy_in(&format!(
                "COPY {FRESH} ({}) FROM STDIN (FORMAT binary)",
                stored_column_list(None)
            ))
            .await?;
        let mut writer = pin!(BinaryCopyInWriter::new(sink, &STORED_COLUMN_TYPES));
        let mut written = 0u64;
        while let Some(view) = folded.recv().await {
            copy_view(writer.as_mut(), &view).await?;
            written += 1;
            progress(read.load(Ordering::Relaxed), total);
        }
        writer.finish().await?;
        Ok::<u64, StoreError>(written)
    }
    .await;
    // Stop the folds if writing failed (they would wait on a full channel).
    drop(folded);
    let mut events = 0;
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(Ok(read)) => events += read,
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(StoreError::Unavailable(format!("a fold stopped: {e}")))),
        }
    }
    // A fold fails of the writer's failure, never the other way round.
    let views = written?;
    if let Some(cause) = failure {
        return Err(cause);
    }
    progress(events, events);
    Ok((events, views))
}

/// One folding connection: folds `streams` in the exported `snapshot` and
/// sends each view to the writer. Returns how many events it read.
async fn fold_range<W>(
    client: W,
    snapshot: String,
    streams: Streams,
    views: tokio::sync::mpsc::Sender<Folded>,
    read: Arc<AtomicU64>,
) -> Result<u64, StoreError>
where
    W: Deref<Target = Client>,
{
    // pg_export_snapshot() names a snapshot with hex digits and dashes;
    // anything else would not be PostgreSQL's answer.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(StoreError::Corrupt(format!("unexpected snapshot id {snapshot:?}")));
    }
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}'"
        ))
        .await?;
    let no_erasures = HashSet::new();
    let mut scan = EventScan::new(streams);
    let mut fold = StreamFold::default();
    let mut events = 0u64;
    let send = |view| async {
        views
            .send(view)
            .await
            .map_err(|_| StoreError::Unavailable("the rebuild stopped writing views".into()))
    };
    while let Some(chunk) = scan.next_chunk(&*client).await? {
        events += chunk.len() as u64;
        read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        for event in chunk {
            if let Some(view) = fold.push(event, &no_erasures)? {
                send(view).await?;
            }
        }
    }
    if let Some(view) = fold.finish(&no_erasures)? {
        send(view).await?;
    }
    client.batch_execute("COMMIT").await?;
    Ok(events)
}

fn version_of(row: &TicketRow) -> Result<i64, StoreError> {
    i64::try_from(row.version).map_err(|_| StoreError::Corrupt("version overflow".into()))
}

/// Writes one view, its columns in the order of [`stored_column_list`].
async fn copy_view(writer: std::pin::Pin<&mut BinaryCopyInWriter>, view: &Folded) -> Result<(), StoreError> {
    let row = &view.row;
    let version = version_of(row)?;
    let priority = row.priority.map(Priority::as_str);
    let channel = row.channel.map(Channel::as_str);
    let (start, end) = (row.window.map(|w| w.0), row.window.map(|w| w.1));
    let values: [&(dyn ToSql + Sync); 18] = [
        &row.id,
        &row.number,
        &row.kind.as_str(),
        &row.status.as_str(),
        &priority,
        &row.team,
        &row.assignee,
        &channel,
        &row.created_at,
        &row.updated_at,
        &version,
        &row.view,
        &&view.head_hash[..],
        &row.subject,
        &row.severity,
        &row.complaint_linked,
        &start,
        &end,
    ];
    writer.write(&values).await?;
    Ok(())
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
        versions.push(version_of(row)?);
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
    let (_, written) = fold_all(tx, Streams::ALL, &erased, "tickets", &|_| {}).await?;
    schedules::refill(tx).await?;
    Ok(written)
}

/// The subjects of the views in `tables` whose erasure the log records.
/// Erasure events are looked up stream by stream (a subject's events are
/// its stream): there is no index on the event type, and a search of every
/// event for one would read the whole log again.
async fn erased_among(client: &impl GenericClient, tables: &[&str]) -> Result<HashSet<Uuid>, StoreError> {
    let subjects = tables
        .iter()
        .map(|t| format!("SELECT subject_id FROM {t} WHERE subject_id IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" UNION ");
    // LIMIT 1 per subject keeps the plan a probe of the stream's index.
    let rows = client
        .query(
            &format!(
                "SELECT s.subject_id FROM ({subjects}) s
                 CROSS JOIN LATERAL (SELECT 1 FROM events e
                                     WHERE e.stream_id = s.subject_id AND e.event_type = $1 LIMIT 1) erased"
            ),
            &[&subject::ERASED],
        )
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Scrubs the views in `table` of the `erased` subjects, as an erasure
/// scrubs `tickets`.
async fn scrub_views(tx: &Transaction<'_>, table: &str, erased: &HashSet<Uuid>) -> Result<(), StoreError> {
    if erased.is_empty() {
        return Ok(());
    }
    let subjects: Vec<Uuid> = erased.iter().copied().collect();
    let rows = tx
        .query(
            &format!("SELECT id, subject_id, view FROM {table} WHERE subject_id = ANY($1)"),
            &[&subjects],
        )
        .await?;
    for row in rows {
        let (id, subject, mut view): (Uuid, Uuid, serde_json::Value) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if render::scrub(&mut view, subject) {
            tx.execute(&format!("UPDATE {table} SET view = $2 WHERE id = $1"), &[&id, &view])
                .await?;
        }
    }
    Ok(())
}

/// Folds the streams read in (stream, version) order one event at a time,
/// keeping only the state of the stream at hand.
#[derive(Default)]
struct StreamFold {
    stream: Option<Uuid>,
    state: State,
    head_hash: [u8; 32],
}

/// The state of the stream being folded, by the kind its first event names.
// One lives per folding task; boxing the views would cost an allocation
// per event folded, for no saving.
#[allow(clippy::large_enum_variant)]
#[derive(Default)]
enum State {
    #[default]
    Empty,
    Complaint(Complaint),
    Fault(Fault),
    Change(Change),
    /// Not a ticket (data subjects, calendars, freeze windows).
    Other,
}

impl StreamFold {
    /// Folds `event`; returns the view of the stream before it when `event`
    /// starts another.
    fn push(&mut self, mut event: ScannedEvent, erased: &HashSet<Uuid>) -> Result<Option<Folded>, StoreError> {
        let done = if self.stream != Some(event.stream_id) {
            let done = self.finish(erased)?;
            self.stream = Some(event.stream_id);
            done
        } else {
            None
        };
        let payload = std::mem::take(&mut event.payload);
        let e = Step {
            event_type: &event.event_type,
            schema_version: event.schema_version,
            payload,
            meta: EventMeta {
                recorded_at: event.recorded_at,
                actor: &event.actor,
                version: event.version,
                hash: &event.hash,
            },
        };
        let state = std::mem::take(&mut self.state);
        self.state = match state {
            State::Empty => match e.event_type.split('.').next().unwrap_or_default() {
                "complaint" => State::Complaint(e.fold(None)?),
                "fault" => State::Fault(e.fold(None)?),
                "change" => State::Change(e.fold(None)?),
                _ => State::Other,
            },
            State::Complaint(c) => State::Complaint(e.fold(Some(c))?),
            State::Fault(f) => State::Fault(e.fold(Some(f))?),
            State::Change(c) => State::Change(e.fold(Some(c))?),
            State::Other => State::Other,
        };
        self.head_hash = event.hash;
        Ok(done)
    }

    /// The view of the stream at hand, if it is a ticket; starts afresh.
    fn finish(&mut self, erased: &HashSet<Uuid>) -> Result<Option<Folded>, StoreError> {
        let row = match std::mem::take(&mut self.state) {
            State::Complaint(c) => c.row(),
            State::Fault(f) => f.row(),
            State::Change(c) => c.row(),
            State::Empty | State::Other => return Ok(None),
        };
        let mut row = row.map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(subject) = row.subject
            && erased.contains(&subject)
        {
            render::scrub(&mut row.view, subject);
        }
        Ok(Some(Folded {
            row,
            head_hash: self.head_hash,
        }))
    }
}

/// One event to fold, its payload moved out of the parsed envelope.
struct Step<'a> {
    event_type: &'a str,
    schema_version: u32,
    payload: serde_json::Value,
    meta: EventMeta<'a>,
}

impl Step<'_> {
    /// Decodes the event for aggregate `A` and folds it with `A::evolve`,
    /// as `fold::fold` does (which decodes a copy of the payload).
    fn fold<A: Projected>(self, state: Option<A>) -> Result<A, StoreError> {
        let corrupt = |e: crate::domain::StreamCorrupt| StoreError::Corrupt(e.to_string());
        let event = A::Event::from_stored(self.event_type, self.schema_version, self.payload).map_err(corrupt)?;
        A::evolve(state, &event, &self.meta).map_err(corrupt)
    }
}

/// Reads `streams` in (stream, version) order within `tx`, folds each
/// ticket stream, and inserts the views into `table`, on `tx` alone.
/// Returns (events read, views written).
pub async fn fold_all(
    tx: &Transaction<'_>,
    streams: Streams,
    erased: &HashSet<Uuid>,
    table: &str,
    progress: &dyn Fn(u64),
) -> Result<(u64, u64), StoreError> {
    let mut scan = EventScan::new(streams);
    let (mut read, mut written) = (0u64, 0u64);
    let mut fold = StreamFold::default();
    let mut batch: Vec<Folded> = Vec::with_capacity(BATCH);
    while let Some(chunk) = scan.next_chunk(tx).await? {
        read += chunk.len() as u64;
        for event in chunk {
            if let Some(view) = fold.push(event, erased)? {
                batch.push(view);
            }
        }
        if batch.len() >= BATCH {
            insert_rows(tx, table, &batch).await?;
            written += batch.len() as u64;
            batch.clear();
        }
        progress(read);
    }
    if let Some(view) = fold.finish(erased)? {
        batch.push(view);
    }
    insert_rows(tx, table, &batch).await?;
    written += batch.len() as u64;
    Ok((read, written))
}
