//! Rebuilding the ticket views from the log alone.
//!
//! Every stream is read in (stream, version) order and folded with the same
//! `evolve` that commands use, into a fresh table; the sealed values of
//! erased data subjects are replaced by the erased marker, exactly as an
//! erasure does to the live views. The read is one snapshot of the log,
//! shared by several connections that each fold a range of the streams
//! (`pg_export_snapshot()` / `SET TRANSACTION SNAPSHOT`), while the
//! connection that exported it copies the views in: parsing and folding
//! are most of a rebuild's work, and they run on every core.
//!
//! Each folding connection first reads, in the same snapshot, what
//! `tickets` holds for its streams: the columns, and the SHA-256 of each
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

use crate::domain::change::Change;
use crate::domain::complaint::Complaint;
use crate::domain::fault::Fault;
use crate::domain::{EventMeta, subject};
use crate::privacy::render;
use crate::store::{self, EventScan, ScannedEvent, StoreError, Streams};

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
/// The fresh table, private to the rebuild's session: the views that may
/// differ from their rows.
const FRESH: &str = "tickets_rebuild";
/// Every stream the rebuild folded into a view, private to its session.
const FOLDED: &str = "tickets_rebuild_folded";

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
    let (events, tickets) = if workers.is_empty() {
        let (_, total) = store::scan::split(&tx, 1).await?;
        fold_alone(&tx, &|read| progress(read, total)).await?
    } else {
        fold_parallel(&tx, workers, progress).await?
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

/// Folds the snapshot of `tx` on `tx` alone: what [`fold_parallel`] does
/// without other connections. Returns (events read, views folded).
async fn fold_alone(tx: &Transaction<'_>, progress: &dyn Fn(u64)) -> Result<(u64, u64), StoreError> {
    let mut judge = Judge::read(tx, &Streams::ALL).await?;
    let mut scan = EventScan::new(Streams::ALL);
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
    if let Some(stream) = fold.finish() {
        keep(judge.judge(stream)?, &mut changed);
    }
    insert_rows(tx, FRESH, &changed).await?;
    copy_seen(tx, &seen).await?;
    Ok((events, views))
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
    let (sender, mut folded) = tokio::sync::mpsc::channel::<Found>(IN_FLIGHT);
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
        let mut seen = Vec::new();
        while let Some(found) = folded.recv().await {
            match found {
                Found::Unchanged(s) => seen.push(s),
                Found::Changed(view, s) => {
                    copy_view(writer.as_mut(), &view).await?;
                    seen.push(s);
                }
            }
            progress(read.load(Ordering::Relaxed), total);
        }
        writer.finish().await?;
        copy_seen(tx, &seen).await?;
        Ok::<u64, StoreError>(seen.len() as u64)
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

/// One folding connection: folds `streams` in the exported `snapshot`,
/// judges each view against its row, and sends the verdict to the writer.
/// Returns how many events it read.
async fn fold_range<W>(
    client: W,
    snapshot: String,
    streams: Streams,
    views: tokio::sync::mpsc::Sender<Found>,
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
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}';
             SET LOCAL jit = off" // as on the snapshot's connection
        ))
        .await?;
    let mut judge = Judge::read(&*client, &streams).await?;
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
            if let Some(stream) = fold.push(event)? {
                send(judge.judge(stream)?).await?;
            }
        }
    }
    if let Some(stream) = fold.finish() {
        send(judge.judge(stream)?).await?;
    }
    client.batch_execute("COMMIT").await?;
    Ok(events)
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
}

/// Tells folded views that match their rows from those that may not.
struct Judge {
    held: HashMap<Uuid, Held>,
    /// The `jsonb` text of the view at hand, its allocation reused.
    text: String,
}

impl Judge {
    /// Reads what `tickets` holds for `streams`, in the snapshot of `client`.
    async fn read(client: &impl GenericClient, streams: &Streams) -> Result<Judge, StoreError> {
        const SELECT: &str = "SELECT id, xmin::text::bigint, number, kind, status, priority, team, assignee, channel,
                                     created_at, updated_at, version, head_hash, subject_id, severity,
                                     complaint_linked, window_start, window_end, view_digest,
                                     sla_due_at, sla_warn_at, sla_paused
                              FROM tickets";
        let rows = match streams {
            Streams::Range { from, to } => {
                let sql = format!("{SELECT} WHERE ($1::uuid IS NULL OR id >= $1) AND ($2::uuid IS NULL OR id < $2)");
                client.query(&sql, &[from, to]).await?
            }
            Streams::Only(ids) => client.query(&format!("{SELECT} WHERE id = ANY($1)"), &[ids]).await?,
        };
        let mut held = HashMap::with_capacity(rows.len());
        for r in rows {
            held.insert(
                r.try_get(0)?,
                Held {
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

/// Folds the streams read in (stream, version) order one event at a time,
/// keeping only the state of the stream at hand.
#[derive(Default)]
struct StreamFold {
    stream: Option<Uuid>,
    state: State,
    head_hash: [u8; 32],
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
        let done = if self.stream != Some(event.stream_id) {
            let done = self.finish();
            self.stream = Some(event.stream_id);
            done
        } else {
            None
        };
        self.state = match std::mem::take(&mut self.state) {
            State::Empty => match event.event_type().split('.').next().unwrap_or_default() {
                "complaint" => State::Ticket(Ticket::Complaint(fold_one(None, &event)?)),
                "fault" => State::Ticket(Ticket::Fault(fold_one(None, &event)?)),
                "change" => State::Ticket(Ticket::Change(fold_one(None, &event)?)),
                _ => State::Other,
            },
            State::Ticket(ticket) => State::Ticket(ticket.fold(&event)?),
            State::Other => State::Other,
        };
        self.head_hash = event.hash;
        Ok(done)
    }

    /// The stream at hand folded, if it is a ticket; starts afresh.
    fn finish(&mut self) -> Option<FoldedStream> {
        match std::mem::take(&mut self.state) {
            State::Ticket(ticket) => Some(FoldedStream {
                ticket,
                head_hash: self.head_hash,
            }),
            State::Empty | State::Other => None,
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
    if let Some(stream) = fold.finish() {
        batch.push(stream.into_folded(erased)?);
    }
    insert_rows(tx, table, &batch).await?;
    written += batch.len() as u64;
    Ok((read, written))
}
