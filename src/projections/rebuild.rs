//! Rebuilding the ticket views from the log alone.
//!
//! Every stream is folded in version order with the same `evolve` that
//! commands use, into a fresh table; the sealed values of erased data
//! subjects are replaced by the erased marker, exactly as an erasure does to
//! the live views. The read is one snapshot of the log, shared by the
//! connection that exported it (`pg_export_snapshot()`), which copies the
//! views in, and a reading connection that imports it (`SET TRANSACTION
//! SNAPSHOT`).
//!
//! The reader reads the log as the table stores it, with one `COPY` (each
//! page once, in order: as fast as the database can hand out the log), and
//! deals the events by stream to folding tasks on every core: parsing and
//! folding are most of a rebuild's work. A task keeps each of its streams
//! open until the stream's last event in the snapshot, putting the rare
//! event stored ahead of an earlier one back in order. It knows a ticket's
//! last event from the ticket's row (its version), once the snapshot shows
//! no later event of the stream (one index probe per row); a stream whose
//! row lags is folded to the end of the log. Reading in (stream, version)
//! order instead, through the index, cost the database an index entry and a
//! heap fetch per event, and was half of a rebuild's time
//! (docs/performance.md).
//!
//! The snapshot's connection first reads, in the same snapshot, what
//! `tickets` holds, and deals each folding task the rows of its streams:
//! the columns, and the SHA-256 of each
//! view's text as PostgreSQL prints it (see [`super::jsonb_text`]), which
//! the database keeps with each view as it is written (`view_digest`:
//! printing every stored view here was the largest cost of a rebuild in
//! PostgreSQL, docs/performance.md). A
//! folded view whose columns and digest match its row is right, and only
//! its id, version and the row's `xmin` are kept; the others go into the
//! fresh table whole, to be compared as `jsonb` at the swap. So a rebuild
//! that finds little wrong sends the database little to parse.
//!
//! The swap runs in one transaction that holds off writers (readers carry
//! on): streams whose row changed since the snapshot (another version, or
//! another `xmin`: an erasure's scrub, a hand's repair) are folded again,
//! and `tickets` is made equal to the fold row by row. Rows that were
//! already right are not touched, and every index, grant and constraint of
//! `tickets` stays as the migrations made it.
//!
//! Another view refilled by a rebuild would get its own fresh table, filled
//! in the snapshot, and its own catch-up and comparison in the swap
//! transaction, under the same lock.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::ops::Deref;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};
use uuid::Uuid;

use crate::domain::business_calendar::BusinessCalendarEvent;
use crate::domain::change::Change;
use crate::domain::change::calendar::CalendarEvent;
use crate::domain::change::freeze::FreezeEvent;
use crate::domain::complaint::Complaint;
use crate::domain::fault::Fault;
use crate::domain::sla::SlaPolicyEvent;
use crate::domain::subject::SubjectEvent;
use crate::domain::{EventMeta, subject};
use crate::privacy::render;
use crate::store::{self, EventScan, ScannedEvent, StoreError, Streams};
use futures_util::StreamExt;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::mpsc;

use super::fold::Projected;
use super::jsonb_text::write_jsonb_text;
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
    /// Views that did not match their row by digest in the snapshot (or
    /// were folded again), compared as `jsonb` at the swap.
    pub compared_in_full: u64,
    /// The change calendars and freeze windows, refilled after the tickets.
    pub schedules: schedules::RefillReport,
    /// Streams whose events came too far out of version order to be kept
    /// in memory ([`READ_AHEAD`]), folded after the pass in version order.
    pub put_aside: u64,
}

/// A folded view and the hash of its stream's latest event.
pub struct Folded {
    pub row: TicketRow,
    pub head_hash: [u8; 32],
}

/// Views inserted per statement.
const BATCH: usize = 500;
/// Folded views in flight from the folding tasks to the writing connection.
const IN_FLIGHT: usize = 256;
/// Events the reader deals to a folding task at a time.
const DEALT: usize = 512;
/// Batches of dealt events in flight to each folding task.
const DEALT_IN_FLIGHT: usize = 8;
/// The fresh table, private to the rebuild's session: the views that may
/// differ from their rows.
const FRESH: &str = "tickets_rebuild";
/// Every stream the rebuild folded into a view, private to its session.
const FOLDED: &str = "tickets_rebuild_folded";

/// How many tasks fold the log in `opsledger rebuild`: one per core of
/// this machine, where parsing and folding run. At most 16.
pub fn default_folds() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 16)
}

/// How a rebuild reads the log.
pub enum Reading<W> {
    /// On the snapshot's own connection, in (stream, version) order,
    /// folding as it reads: one core, for small stores and tests.
    Alone,
    /// On `reader`, another connection, in storage order, dealt by stream
    /// to `folds` folding tasks, each keeping at most `read_ahead` events
    /// read ahead of an earlier one of their stream ([`READ_AHEAD`]).
    Dealt { reader: W, folds: usize, read_ahead: usize },
}

/// How many events a folding task keeps, at most, that were read before an
/// earlier event of their stream. A store written by appends has few
/// (an aborted insert's space reused), but a table rewritten in another
/// order could have the whole log so; past the bound, the stream that
/// would keep one more is put aside, its events read from then on are
/// skipped, and it is folded after the pass, in (stream, version) order.
pub const READ_AHEAD: usize = 100_000;

/// Rebuilds `tickets` from the log while the server keeps serving.
///
/// `client` holds the snapshot and writes the fresh views; the log is read
/// as `reading` says, in that same snapshot, while `client` copies the
/// views in. `progress(events_read, events_total)` is called as the log is
/// read; the total is an estimate from a sample.
pub async fn rebuild<W>(
    client: &mut Client,
    reading: Reading<W>,
    progress: &dyn Fn(u64, u64),
) -> Result<RebuildReport, StoreError>
where
    W: Deref<Target = Client> + Send + 'static,
{
    // A rebuild that failed earlier on this session left its tables.
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS pg_temp.{FRESH}; DROP TABLE IF EXISTS pg_temp.{FOLDED};
             CREATE TEMP TABLE {FRESH} (LIKE tickets INCLUDING DEFAULTS);
             ALTER TABLE {FRESH} ADD PRIMARY KEY (id);
             ALTER TABLE {FRESH} ALTER COLUMN view SET STORAGE EXTERNAL;
             CREATE TEMP TABLE {FOLDED} (id uuid PRIMARY KEY, version bigint NOT NULL,
                                         subject_id uuid, seen_xmin bigint);"
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
    let started = std::time::Instant::now();
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(false)
        .start()
        .await?;
    // The scans are many short statements whose plans never gain from
    // being compiled: JIT was a few per cent of the database's time.
    tx.batch_execute("SET LOCAL jit = off").await?;
    let total = store::scan::estimate(&tx).await?;
    let (events, tickets, put_aside) = match reading {
        Reading::Alone => {
            let (events, tickets) = fold_alone(&tx, &|read| progress(read, total)).await?;
            (events, tickets, 0)
        }
        Reading::Dealt {
            reader,
            folds,
            read_ahead,
        } => fold_dealt(&tx, reader, folds.max(1), read_ahead, &|read| progress(read, total)).await?,
    };
    // The views of erased subjects are folded again, scrubbed, into the
    // fresh table: their rows may hold them scrubbed or (when damaged) not.
    let erased = erased_among(&tx, &[FOLDED]).await?;
    let mut views_of_erased = streams_of_subjects(&tx, &erased).await?;
    refold_streams(&tx, &mut views_of_erased, &erased).await?;
    tx.commit().await?;
    tracing::info!(events, tickets, elapsed = ?started.elapsed(), "rebuild: the log is folded");
    let mut report = RebuildReport {
        events,
        tickets,
        put_aside,
        ..RebuildReport::default()
    };

    // Swap: writers wait, readers do not.
    let tx = client.transaction().await?;
    tx.batch_execute("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    // Rows written since the snapshot (a new version, an erasure's scrub,
    // anything that gave the row a new xmin), rows added since, and rows
    // without a folded stream are folded again; a stream that has no
    // events folds to nothing, and its row is removed below.
    let mut again: Vec<Uuid> = tx
        .query(
            &format!(
                "SELECT t.id FROM tickets t LEFT JOIN {FOLDED} f ON f.id = t.id
                 WHERE f.id IS NULL OR f.version <> t.version
                    OR f.seen_xmin IS DISTINCT FROM t.xmin::text::bigint"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let erased_now = erased_among(&tx, &["tickets", FOLDED]).await?;
    let newly_erased: HashSet<Uuid> = erased_now.difference(&erased).copied().collect();
    again.extend(streams_of_subjects(&tx, &newly_erased).await?);
    report.caught_up = refold_streams(&tx, &mut again, &erased_now).await?;
    report.compared_in_full = tx
        .query_one(&format!("SELECT count(*) FROM {FRESH}"), &[])
        .await?
        .try_get::<_, i64>(0)?
        .try_into()
        .unwrap_or_default();
    report.removed = tx
        .execute(
            &format!(
                "DELETE FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM {FOLDED} f WHERE f.id = t.id)
                                         AND NOT EXISTS (SELECT 1 FROM {FRESH} n WHERE n.id = t.id)"
            ),
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
    tracing::info!(elapsed = ?started.elapsed(), "rebuild: the views are swapped in");
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS pg_temp.{FRESH}; DROP TABLE IF EXISTS pg_temp.{FOLDED}"
        ))
        .await?;
    // The calendars and freezes are a few small streams: folded and
    // compared in one transaction of their own.
    let tx = client.transaction().await?;
    report.schedules = schedules::refill(&tx).await?;
    tx.commit().await?;
    report.unchanged = report.tickets.saturating_sub(report.replaced + report.added);
    Ok(report)
}

/// The folded streams whose views carry one of `subjects`' data.
async fn streams_of_subjects(tx: &Transaction<'_>, subjects: &HashSet<Uuid>) -> Result<Vec<Uuid>, StoreError> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let subjects: Vec<Uuid> = subjects.iter().copied().collect();
    tx.query(
        &format!("SELECT id FROM {FOLDED} WHERE subject_id = ANY($1)"),
        &[&subjects],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// Folds `streams` again into the fresh table, replacing what it held of
/// them, with the views of `erased` subjects scrubbed. Returns how many
/// views that made.
async fn refold_streams(
    tx: &Transaction<'_>,
    streams: &mut Vec<Uuid>,
    erased: &HashSet<Uuid>,
) -> Result<u64, StoreError> {
    // A stream both stale and newly erased is folded once.
    streams.sort_unstable();
    streams.dedup();
    if streams.is_empty() {
        return Ok(0);
    }
    tx.execute(&format!("DELETE FROM {FRESH} WHERE id = ANY($1)"), &[&*streams])
        .await?;
    let (_, refolded) = fold_all(tx, Streams::Only(std::mem::take(streams)), erased, FRESH, &|_| {}).await?;
    Ok(refolded)
}

/// Folds the snapshot of `tx` on `tx` alone: what [`fold_dealt`] does
/// without another connection. Returns (events read, views folded).
async fn fold_alone(tx: &Transaction<'_>, progress: &dyn Fn(u64)) -> Result<(u64, u64), StoreError> {
    let judge = Judge::read(tx).await?;
    fold_in_stream_order(tx, Streams::All, judge, progress).await
}

/// Folds `streams` of the snapshot of `tx` in (stream, version) order on
/// `tx`, judging each view with `judge`. Returns (events read, views
/// folded).
async fn fold_in_stream_order(
    tx: &Transaction<'_>,
    streams: Streams,
    mut judge: Judge,
    progress: &dyn Fn(u64),
) -> Result<(u64, u64), StoreError> {
    let mut scan = EventScan::new(streams);
    let mut fold = StreamFold::default();
    let (mut events, mut views) = (0u64, 0u64);
    let mut changed: Vec<Folded> = Vec::with_capacity(BATCH);
    let mut seen: Vec<Seen> = Vec::new();
    let mut keep = |found: Found, changed: &mut Vec<Folded>| {
        views += 1;
        match found {
            Found::Unchanged(s) => seen.push(s),
            Found::Changed(view, s) => {
                seen.push(s);
                changed.push(view);
            }
        }
    };
    while let Some(chunk) = scan.next_chunk(tx).await? {
        events += chunk.len() as u64;
        for event in chunk {
            if let Some(stream) = fold.push(event)? {
                keep(judge.judge(stream)?, &mut changed);
            }
        }
        if changed.len() >= BATCH {
            insert_rows(tx, FRESH, &changed).await?;
            changed.clear();
        }
        progress(events);
    }
    if let Some(stream) = fold.finish()? {
        keep(judge.judge(stream)?, &mut changed);
    }
    insert_rows(tx, FRESH, &changed).await?;
    copy_seen(tx, &seen).await?;
    Ok((events, views))
}

/// Folds the snapshot of `tx`: `reader` imports it and reads the log in
/// storage order, dealing each stream's events to one of `folds` tasks,
/// while the views are copied into the fresh table on `tx` as they come.
/// Returns (events read, views written, streams put aside).
async fn fold_dealt<W>(
    tx: &Transaction<'_>,
    reader: W,
    folds: usize,
    read_ahead: usize,
    progress: &dyn Fn(u64),
) -> Result<(u64, u64, u64), StoreError>
where
    W: Deref<Target = Client> + Send + 'static,
{
    let snapshot: String = tx.query_one("SELECT pg_export_snapshot()", &[]).await?.try_get(0)?;
    let read = Arc::new(AtomicU64::new(0));
    let (sender, mut folded) = mpsc::channel::<Found>(IN_FLIGHT);
    let judges = Judge::read(tx).await?.deal(folds);
    // Tasks, not futures joined here: parsing and folding are most of the
    // work, and tasks spread it over the runtime's threads.
    let (dealers, tasks): (Vec<_>, Vec<_>) = judges
        .into_iter()
        .map(|judge| {
            let (dealer, dealt) = mpsc::channel(DEALT_IN_FLIGHT);
            (
                dealer,
                tokio::spawn(fold_streams(dealt, judge, read_ahead, sender.clone())),
            )
        })
        .unzip();
    drop(sender);
    let reading = tokio::spawn(read_in_storage_order(reader, snapshot, dealers, Arc::clone(&read)));

    let written = async {
        let sink = tx
            .copy_in(&format!(
                "COPY {FRESH} ({}) FROM STDIN (FORMAT binary)",
                stored_column_list(None)
            ))
            .await?;
        let mut writer = pin!(BinaryCopyInWriter::new(sink, &STORED_COLUMN_TYPES));
        let mut seen = Vec::new();
        while let Some(found) = folded.recv().await {
            match found {
                Found::Unchanged(s) => seen.push(s),
                Found::Changed(view, s) => {
                    copy_view(writer.as_mut(), &view).await?;
                    seen.push(s);
                }
            }
            progress(read.load(Ordering::Relaxed));
        }
        writer.finish().await?;
        copy_seen(tx, &seen).await?;
        Ok::<u64, StoreError>(seen.len() as u64)
    }
    .await;
    // Stop the folds and the reader if writing failed (they would wait on
    // a full channel).
    drop(folded);
    let stopped = |e: tokio::task::JoinError| StoreError::Unavailable(format!("a fold stopped: {e}"));
    // The reader's own failure first: the folds then saw the log end early,
    // and may have found streams cut short. A reader stopped by a fold's
    // failure leaves the cause to the fold.
    let (mut failure, read_to_end) = match reading.await.map_err(stopped).and_then(|r| r) {
        Ok(read_to_end) => (None, read_to_end),
        Err(e) => (Some(e), false),
    };
    let mut put_aside = HashSet::new();
    let mut their_rows = HashMap::new();
    for task in tasks {
        match task.await.map_err(stopped).and_then(|r| r) {
            Ok(left) => {
                put_aside.extend(left.put_aside);
                their_rows.extend(left.judge.held);
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    // A fold fails of the writer's failure, never the other way round.
    let mut views = written?;
    if let Some(cause) = failure {
        return Err(cause);
    }
    if !read_to_end {
        return Err(StoreError::Unavailable("the log was not read to its end".into()));
    }
    let events = read.load(Ordering::Relaxed);
    let aside = put_aside.len() as u64;
    if !put_aside.is_empty() {
        tracing::info!(streams = put_aside.len(), "rebuild: folding the streams put aside");
        their_rows.retain(|id, _| put_aside.contains(id));
        let judge = Judge {
            held: their_rows,
            text: String::new(),
        };
        let streams = Streams::Only(put_aside.into_iter().collect());
        views += fold_in_stream_order(tx, streams, judge, &|_| {}).await?.1;
    }
    progress(events);
    Ok((events, views, aside))
}

/// The reading connection: reads every event of the exported `snapshot` in
/// storage order and deals the events of ticket streams, by stream, to the
/// folding tasks, a batch at a time. Returns whether it read to the end:
/// it stops early, with no error of its own, when a fold stops taking
/// events (the fold's error says why).
async fn read_in_storage_order<W>(
    client: W,
    snapshot: String,
    dealers: Vec<mpsc::Sender<Vec<ScannedEvent>>>,
    read: Arc<AtomicU64>,
) -> Result<bool, StoreError>
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
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}';
             SET LOCAL jit = off" // as on the snapshot's connection
        ))
        .await?;
    // The types of the streams that have no ticket view (data subjects,
    // change calendars, freezes, business calendars, the SLA policy), as the
    // domain lists them. Every other event is dealt: an unknown type then
    // stops the fold that meets it, where skipping it would fold its
    // stream short.
    let viewless: Vec<&str> = [
        SubjectEvent::EVENT_TYPES,
        CalendarEvent::EVENT_TYPES,
        FreezeEvent::EVENT_TYPES,
        BusinessCalendarEvent::EVENT_TYPES,
        SlaPolicyEvent::EVENT_TYPES,
    ]
    .concat();
    let folds = dealers.len();
    let mut batches: Vec<Vec<ScannedEvent>> = (0..folds).map(|_| Vec::with_capacity(DEALT)).collect();
    // Whether the fold took the batch.
    let deal = |batch: &mut Vec<ScannedEvent>, dealer: &mpsc::Sender<Vec<ScannedEvent>>| {
        let batch = std::mem::replace(batch, Vec::with_capacity(DEALT));
        let dealer = dealer.clone();
        async move { dealer.send(batch).await.is_ok() }
    };
    {
        let mut events = pin!(store::scan::in_storage_order(&client).await?);
        let mut count = 0u64;
        while let Some(event) = events.next().await {
            let event = event?;
            count += 1;
            if count.is_multiple_of(DEALT as u64) {
                read.store(count, Ordering::Relaxed);
            }
            if viewless.contains(&event.event_type()) {
                continue;
            }
            let k = fold_of(event.stream_id, folds);
            batches[k].push(event);
            if batches[k].len() == DEALT && !deal(&mut batches[k], &dealers[k]).await {
                return Ok(false);
            }
        }
        read.store(count, Ordering::Relaxed);
    }
    for (batch, dealer) in batches.iter_mut().zip(&dealers) {
        if !batch.is_empty() && !deal(batch, dealer).await {
            return Ok(false);
        }
    }
    client.batch_execute("COMMIT").await?;
    Ok(true)
}

/// Which of `folds` folding tasks folds `stream`: the same task for every
/// event of a stream. Ids end in random bits (UUID v4 and v7 alike).
fn fold_of(stream: Uuid, folds: usize) -> usize {
    (stream.as_u128() as u64 % folds as u64) as usize
}

/// What a folding task leaves for after the pass: the streams it put aside
/// ([`READ_AHEAD`]) and the rows they are judged against.
struct Leftover {
    put_aside: HashSet<Uuid>,
    judge: Judge,
}

/// One folding task: folds the streams dealt to it, each in version order,
/// judges each view against its row once its stream is folded to its last
/// event in the snapshot, and sends the verdict to the writer.
async fn fold_streams(
    mut dealt: mpsc::Receiver<Vec<ScannedEvent>>,
    mut judge: Judge,
    read_ahead: usize,
    views: mpsc::Sender<Found>,
) -> Result<Leftover, StoreError> {
    let send = |found| async {
        views
            .send(found)
            .await
            .map_err(|_| StoreError::Unavailable("the rebuild stopped writing views".into()))
    };
    // Looked up once or more per event: hashed with FxHash, ids being
    // random in their low bits (SipHash was a few per cent of a rebuild).
    let mut open: FxHashMap<Uuid, OpenStream> = FxHashMap::default();
    // Streams folded to their row's version, which the snapshot shows is
    // their last: any later event of one would be a broken log.
    let mut closed: FxHashSet<Uuid> = FxHashSet::default();
    let mut put_aside: HashSet<Uuid> = HashSet::new();
    // Events kept in `waiting`, over every open stream.
    let mut waiting = 0usize;
    while let Some(batch) = dealt.recv().await {
        for event in batch {
            let id = event.stream_id;
            let stream = match open.entry(id) {
                Entry::Occupied(stream) => stream.into_mut(),
                // A stream's first event read, or one of a stream done with.
                Entry::Vacant(_) if put_aside.contains(&id) => continue,
                Entry::Vacant(_) if closed.contains(&id) => {
                    return Err(StoreError::Corrupt(format!(
                        "stream {id}: version {} follows the version its row and the log end at",
                        event.version
                    )));
                }
                Entry::Vacant(new) => new.insert(OpenStream::until(judge.last_of(id))),
            };
            waiting -= stream.waiting.len();
            stream.place(event)?;
            waiting += stream.waiting.len();
            if waiting > read_ahead {
                if let Some(aside) = open.remove(&id) {
                    waiting -= aside.waiting.len();
                }
                put_aside.insert(id);
                continue;
            }
            if stream.waiting.is_empty() && stream.last == Some(stream.folded) {
                let done = match open.remove(&id) {
                    Some(stream) => stream.finish(id)?,
                    None => None,
                };
                if let Some(done) = done {
                    closed.insert(id);
                    send(judge.judge(done)?).await?;
                }
            }
        }
    }
    // The end of the log: the streams still open end here.
    for (id, stream) in open {
        if let Some(done) = stream.finish(id)? {
            send(judge.judge(done)?).await?;
        }
    }
    Ok(Leftover { put_aside, judge })
}

/// A stream being folded from events read in storage order.
struct OpenStream {
    state: State,
    /// The version folded last (0 before any).
    folded: u64,
    /// Its last version in the snapshot, when its row says so and the log
    /// agrees; else it ends with the log.
    last: Option<u64>,
    head_hash: [u8; 32],
    /// Events read ahead of an earlier one of their stream, by version.
    waiting: std::collections::BTreeMap<u64, ScannedEvent>,
}

impl OpenStream {
    fn until(last: Option<u64>) -> OpenStream {
        OpenStream {
            state: State::Empty,
            folded: 0,
            last,
            head_hash: [0; 32],
            waiting: std::collections::BTreeMap::new(),
        }
    }

    /// Folds `event` if it is the next, with any that waited for it; keeps
    /// it for later if an earlier one is still to come.
    fn place(&mut self, event: ScannedEvent) -> Result<(), StoreError> {
        if event.version != self.folded + 1 {
            if event.version <= self.folded || self.waiting.insert(event.version, event).is_some() {
                return Err(StoreError::Corrupt("an event was read twice".into()));
            }
            return Ok(());
        }
        self.fold(&event)?;
        while let Some(next) = self.waiting.remove(&(self.folded + 1)) {
            self.fold(&next)?;
        }
        Ok(())
    }

    fn fold(&mut self, event: &ScannedEvent) -> Result<(), StoreError> {
        self.state = std::mem::take(&mut self.state).fold(event)?;
        self.folded = event.version;
        self.head_hash = event.hash;
        Ok(())
    }

    /// Stream `id` folded, if it is a ticket: at its end, so no event may
    /// still wait for an earlier one.
    fn finish(self, id: Uuid) -> Result<Option<FoldedStream>, StoreError> {
        if let Some(version) = self.waiting.keys().next() {
            return Err(StoreError::Corrupt(format!(
                "stream {id}: version {version} has no version {} before it",
                self.folded + 1
            )));
        }
        Ok(match self.state {
            State::Ticket(ticket) => Some(FoldedStream {
                ticket,
                head_hash: self.head_hash,
            }),
            State::Empty | State::Other => None,
        })
    }
}

/// What a fold found for one stream: its view matches its row, or it may
/// not and goes to the fresh table whole.
// Most views are unchanged; a changed one is sent once, and boxing it
// would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
enum Found {
    Unchanged(Seen),
    Changed(Folded, Seen),
}

/// A folded stream, as [`FOLDED`] records it.
struct Seen {
    id: Uuid,
    version: i64,
    subject: Option<Uuid>,
    /// The `xmin` of its `tickets` row in the snapshot, if it had one: the
    /// swap folds again any row written since.
    seen_xmin: Option<i64>,
}

/// The columns of a `tickets` row as stored, but the view.
#[derive(Debug, PartialEq)]
struct Columns {
    number: String,
    kind: String,
    status: String,
    priority: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    channel: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    head_hash: Vec<u8>,
    subject: Option<Uuid>,
    severity: Option<i16>,
    complaint_linked: bool,
    window_start: Option<DateTime<Utc>>,
    window_end: Option<DateTime<Utc>>,
    sla_due_at: Option<DateTime<Utc>>,
    sla_warn_at: Option<DateTime<Utc>>,
    sla_paused: bool,
}

impl Columns {
    /// The columns a folded view would be stored with.
    fn of(row: &TicketRow, head_hash: &[u8; 32]) -> Result<Columns, StoreError> {
        Ok(Columns {
            number: row.number.clone(),
            kind: row.kind.as_str().to_owned(),
            status: row.status.as_str().to_owned(),
            priority: row.priority.map(|p| p.as_str().to_owned()),
            team: row.team.clone(),
            assignee: row.assignee.clone(),
            channel: row.channel.map(|c| c.as_str().to_owned()),
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: version_of(row)?,
            head_hash: head_hash.to_vec(),
            subject: row.subject,
            severity: row.severity,
            complaint_linked: row.complaint_linked,
            window_start: row.window.map(|w| w.0),
            window_end: row.window.map(|w| w.1),
            sla_due_at: row.sla.due_at,
            sla_warn_at: row.sla.warn_at,
            sla_paused: row.sla.paused,
        })
    }
}

/// What `tickets` held for a stream in the snapshot.
struct Held {
    columns: Columns,
    /// SHA-256 of `view::text`, kept by the database with the view
    /// (`view_digest`, migration V14).
    view_digest: Vec<u8>,
    xmin: i64,
    /// Whether the log has events of the stream after the row's version
    /// (a row damaged, or restored from elsewhere): its stream is then
    /// folded to the end of the log, not to the row's version.
    behind: bool,
}

/// Tells folded views that match their rows from those that may not.
struct Judge {
    held: HashMap<Uuid, Held>,
    /// The `jsonb` text of the view at hand, its allocation reused.
    text: String,
}

impl Judge {
    /// Reads what `tickets` holds, in the snapshot of `client`, and
    /// whether the log goes on past each row's version (one probe of the
    /// stream's index per row).
    async fn read(client: &impl GenericClient) -> Result<Judge, StoreError> {
        let rows = client
            .query(
                "SELECT id, xmin::text::bigint, number, kind, status, priority, team, assignee, channel,
                        created_at, updated_at, version, head_hash, subject_id, severity,
                        complaint_linked, window_start, window_end, view_digest,
                        sla_due_at, sla_warn_at, sla_paused,
                        EXISTS (SELECT 1 FROM events e WHERE e.stream_id = t.id AND e.version > t.version)
                 FROM tickets t",
                &[],
            )
            .await?;
        let mut held = HashMap::with_capacity(rows.len());
        for r in rows {
            held.insert(
                r.try_get(0)?,
                Held {
                    behind: r.try_get(22)?,
                    xmin: r.try_get(1)?,
                    columns: Columns {
                        number: r.try_get(2)?,
                        kind: r.try_get(3)?,
                        status: r.try_get(4)?,
                        priority: r.try_get(5)?,
                        team: r.try_get(6)?,
                        assignee: r.try_get(7)?,
                        channel: r.try_get(8)?,
                        created_at: r.try_get(9)?,
                        updated_at: r.try_get(10)?,
                        version: r.try_get(11)?,
                        head_hash: r.try_get(12)?,
                        subject: r.try_get(13)?,
                        severity: r.try_get(14)?,
                        complaint_linked: r.try_get(15)?,
                        window_start: r.try_get(16)?,
                        window_end: r.try_get(17)?,
                        sla_due_at: r.try_get(19)?,
                        sla_warn_at: r.try_get(20)?,
                        sla_paused: r.try_get(21)?,
                    },
                    view_digest: r.try_get(18)?,
                },
            );
        }
        Ok(Judge {
            held,
            text: String::new(),
        })
    }

    /// Deals the rows out to `folds` judges, each row to the judge of the
    /// task that folds its stream ([`fold_of`]).
    fn deal(self, folds: usize) -> Vec<Judge> {
        let mut judges: Vec<Judge> = (0..folds)
            .map(|_| Judge {
                held: HashMap::with_capacity(self.held.len() / folds + 1),
                text: String::new(),
            })
            .collect();
        for (id, held) in self.held {
            judges[fold_of(id, folds)].held.insert(id, held);
        }
        judges
    }

    /// The last version of `stream` in the snapshot, as its row says and
    /// the log confirms; none when it has no row or the log goes on.
    fn last_of(&self, stream: Uuid) -> Option<u64> {
        self.held
            .get(&stream)
            .filter(|held| !held.behind)
            .and_then(|held| u64::try_from(held.columns.version).ok())
    }

    /// Whether `view` matches its row: every column equal, and the digest
    /// of its view's `jsonb` text equal to the stored one's.
    fn judge(&mut self, stream: FoldedStream) -> Result<Found, StoreError> {
        let row = stream.columns();
        let held = self.held.remove(&row.id);
        let seen = Seen {
            id: row.id,
            version: version_of(&row)?,
            subject: row.subject,
            seen_xmin: held.as_ref().map(|h| h.xmin),
        };
        let columns = Columns::of(&row, &stream.head_hash)?;
        let text = &mut self.text;
        let matches = held.is_some_and(|held| {
            held.columns == columns
                && stream.write_view_text(text)
                && Sha256::digest(text.as_bytes())[..] == held.view_digest[..]
        });
        Ok(if matches {
            Found::Unchanged(seen)
        } else {
            // The snapshot's erasures are folded again afterwards.
            Found::Changed(stream.into_folded(&HashSet::new())?, seen)
        })
    }
}

/// Records every folded stream in [`FOLDED`].
async fn copy_seen(tx: &Transaction<'_>, seen: &[Seen]) -> Result<(), StoreError> {
    use tokio_postgres::types::Type;
    let sink = tx
        .copy_in(&format!(
            "COPY {FOLDED} (id, version, subject_id, seen_xmin) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let mut writer = pin!(BinaryCopyInWriter::new(
        sink,
        &[Type::UUID, Type::INT8, Type::UUID, Type::INT8]
    ));
    for s in seen {
        writer
            .as_mut()
            .write(&[&s.id, &s.version, &s.subject, &s.seen_xmin])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

fn version_of(row: &TicketRow) -> Result<i64, StoreError> {
    i64::try_from(row.version).map_err(|_| StoreError::Corrupt("version overflow".into()))
}

/// Writes one view, its columns in the order of [`stored_column_list`].
async fn copy_view(writer: std::pin::Pin<&mut BinaryCopyInWriter>, view: &Folded) -> Result<(), StoreError> {
    let c = Columns::of(&view.row, &view.head_hash)?;
    let values: [&(dyn ToSql + Sync); 21] = [
        &view.row.id,
        &c.number,
        &c.kind,
        &c.status,
        &c.priority,
        &c.team,
        &c.assignee,
        &c.channel,
        &c.created_at,
        &c.updated_at,
        &c.version,
        &view.row.view,
        &c.head_hash,
        &c.subject,
        &c.severity,
        &c.complaint_linked,
        &c.window_start,
        &c.window_end,
        &c.sla_due_at,
        &c.sla_warn_at,
        &c.sla_paused,
    ];
    writer.write(&values).await?;
    Ok(())
}

/// Inserts folded views into `table` (`tickets` or the rebuild's table).
async fn insert_rows(client: &impl GenericClient, table: &str, rows: &[Folded]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns: Vec<Columns> = rows
        .iter()
        .map(|f| Columns::of(&f.row, &f.head_hash))
        .collect::<Result<_, _>>()?;
    let ids: Vec<Uuid> = rows.iter().map(|f| f.row.id).collect();
    let views: Vec<&serde_json::Value> = rows.iter().map(|f| &f.row.view).collect();
    let sql = format!(
        "INSERT INTO {table} ({columns})
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::jsonb[],
                              $13::bytea[], $14::uuid[], $15::smallint[], $16::bool[], $17::timestamptz[],
                              $18::timestamptz[], $19::timestamptz[], $20::timestamptz[], $21::bool[])",
        columns = stored_column_list(None),
    );
    client
        .execute(
            &sql,
            &[
                &ids,
                &columns.iter().map(|c| c.number.as_str()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.priority.as_deref()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.team.as_deref()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.assignee.as_deref()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.channel.as_deref()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.created_at).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.updated_at).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.version).collect::<Vec<_>>(),
                &views,
                &columns.iter().map(|c| c.head_hash.as_slice()).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.subject).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.severity).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.complaint_linked).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.window_start).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.window_end).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.sla_due_at).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.sla_warn_at).collect::<Vec<_>>(),
                &columns.iter().map(|c| c.sla_paused).collect::<Vec<_>>(),
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
    let (_, written) = fold_all(tx, Streams::All, &erased, "tickets", &|_| {}).await?;
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

/// Folds the streams read in (stream, version) order one event at a time,
/// keeping only the state of the stream at hand.
#[derive(Default)]
struct StreamFold {
    at_hand: Option<(Uuid, OpenStream)>,
}

/// The state of the stream being folded, by the kind its first event names.
// As `Ticket`: one per folding task, never boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Default)]
enum State {
    #[default]
    Empty,
    Ticket(Ticket),
    /// Not a ticket (data subjects, calendars, freeze windows).
    Other,
}

impl StreamFold {
    /// Folds `event`; returns the stream before it, folded, when `event`
    /// starts another.
    fn push(&mut self, event: ScannedEvent) -> Result<Option<FoldedStream>, StoreError> {
        let done = match &self.at_hand {
            Some((stream, _)) if *stream == event.stream_id => None,
            _ => {
                let done = self.finish()?;
                self.at_hand = Some((event.stream_id, OpenStream::until(None)));
                done
            }
        };
        if let Some((_, stream)) = &mut self.at_hand {
            stream.place(event)?;
        }
        Ok(done)
    }

    /// The stream at hand folded, if it is a ticket; starts afresh.
    fn finish(&mut self) -> Result<Option<FoldedStream>, StoreError> {
        match self.at_hand.take() {
            Some((id, stream)) => stream.finish(id),
            None => Ok(None),
        }
    }
}

/// A ticket stream folded to its end.
struct FoldedStream {
    ticket: Ticket,
    head_hash: [u8; 32],
}

/// A ticket's aggregate, of whichever kind.
// One lives per folding task, moved, never stored in bulk; boxing it would
// cost an allocation per event folded, for no saving.
#[allow(clippy::large_enum_variant)]
enum Ticket {
    Complaint(Complaint),
    Fault(Fault),
    Change(Change),
}

impl State {
    /// The state after one more event of the stream; the first event names
    /// the stream's kind.
    fn fold(self, event: &ScannedEvent) -> Result<State, StoreError> {
        Ok(match self {
            State::Empty => match event.event_type().split('.').next().unwrap_or_default() {
                "complaint" => State::Ticket(Ticket::Complaint(fold_one(None, event)?)),
                "fault" => State::Ticket(Ticket::Fault(fold_one(None, event)?)),
                "change" => State::Ticket(Ticket::Change(fold_one(None, event)?)),
                _ => State::Other,
            },
            State::Ticket(ticket) => State::Ticket(ticket.fold(event)?),
            State::Other => State::Other,
        })
    }
}

impl Ticket {
    /// Folds one more event of its stream.
    fn fold(self, event: &ScannedEvent) -> Result<Ticket, StoreError> {
        Ok(match self {
            Ticket::Complaint(c) => Ticket::Complaint(fold_one(Some(c), event)?),
            Ticket::Fault(f) => Ticket::Fault(fold_one(Some(f), event)?),
            Ticket::Change(c) => Ticket::Change(fold_one(Some(c), event)?),
        })
    }
}

impl FoldedStream {
    /// Its row, but the view.
    fn columns(&self) -> TicketRow {
        match &self.ticket {
            Ticket::Complaint(c) => c.columns(),
            Ticket::Fault(f) => f.columns(),
            Ticket::Change(c) => c.columns(),
        }
    }

    /// Writes its view as PostgreSQL prints it as `jsonb`, from the
    /// aggregate itself (see [`write_jsonb_text`]).
    fn write_view_text(&self, out: &mut String) -> bool {
        match &self.ticket {
            Ticket::Complaint(c) => write_jsonb_text(c, out),
            Ticket::Fault(f) => write_jsonb_text(f, out),
            Ticket::Change(c) => write_jsonb_text(c, out),
        }
    }

    /// Its whole row, with the view scrubbed if its subject is `erased`.
    fn into_folded(self, erased: &HashSet<Uuid>) -> Result<Folded, StoreError> {
        let row = match &self.ticket {
            Ticket::Complaint(c) => c.row(),
            Ticket::Fault(f) => f.row(),
            Ticket::Change(c) => c.row(),
        };
        let mut row = row.map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(subject) = row.subject
            && erased.contains(&subject)
        {
            render::scrub(&mut row.view, subject);
        }
        Ok(Folded {
            row,
            head_hash: self.head_hash,
        })
    }
}

/// Decodes `event` for aggregate `A` (in one pass over its stored
/// envelope) and folds it with `A::evolve`, as `fold::fold` does.
fn fold_one<A: Projected>(state: Option<A>, event: &ScannedEvent) -> Result<A, StoreError> {
    let decoded = event.decode::<A::Event>()?;
    let meta = EventMeta {
        recorded_at: event.recorded_at,
        actor: &decoded.actor,
        version: event.version,
        hash: &event.hash,
    };
    A::evolve(state, &decoded.event, &meta).map_err(|e| StoreError::Corrupt(e.to_string()))
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
            if let Some(stream) = fold.push(event)? {
                batch.push(stream.into_folded(erased)?);
            }
        }
        if batch.len() >= BATCH {
            insert_rows(tx, table, &batch).await?;
            written += batch.len() as u64;
            batch.clear();
        }
        progress(read);
    }
    if let Some(stream) = fold.finish()? {
        batch.push(stream.into_folded(erased)?);
    }
    insert_rows(tx, table, &batch).await?;
    written += batch.len() as u64;
    Ok((read, written))
}
