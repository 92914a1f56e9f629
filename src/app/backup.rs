//! `opsledger export` and `opsledger import`: a backup of the whole log that
//! can be verified before anything trusts it.
//!
//! The file is gzip-compressed NDJSON, one record per line, each with a
//! `kind`: a `header`; every `event` as its stored bytes (base64) with its
//! chain hash and, once sequenced, its global position and global hash; the
//! wrapped `system_key`s and `subject_key`s (still wrapped under the master
//! key: the backup holds no key in clear); the blind-index entries; the
//! personal-data access log; and a `trailer` with every count and the head
//! of the global log. A file without its trailer is truncated.
//!
//! Import loads a file into an empty database in one transaction: every
//! per-stream chain and the global chain are recomputed from the stored
//! bytes, every recorded erasure is honoured (an erased subject's key and
//! index entries are never loaded, and the views are scrubbed), and the views
//! are folded from the imported log. Any bad line aborts the whole import
//! with its line number; nothing is half-imported.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use tokio_postgres::{IsolationLevel, Transaction};
use uuid::Uuid;

use crate::projections::rebuild;
use crate::store::envelope::{GENESIS_HASH, chain_hash};
use crate::store::sequencer::global_hash;
use crate::store::{Envelope, EventColumns, INSERT_EVENTS, StoreError, StoredEvent};

use super::config::{ExportArgs, ImportArgs};
use super::database;
use super::maintenance::progress_bar;

const FORMAT: &str = "opsledger-backup";
const FORMAT_VERSION: u32 = 1;
/// Rows fetched or inserted per round trip.
const CHUNK: usize = 2_000;

/// One line of a backup file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Header {
        format: String,
        version: u32,
        created_at: DateTime<Utc>,
    },
    Event {
        /// Absent for an event committed but not yet sequenced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        global_hash: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sequenced_at: Option<DateTime<Utc>>,
        /// The stream chain hash, hex.
        hash: String,
        /// The stored canonical envelope, base64.
        stored: String,
    },
    SystemKey {
        name: String,
        wrapped_key: String,
        master_key_id: String,
        created_at: DateTime<Utc>,
    },
    SubjectKey {
        subject_id: Uuid,
        key_id: Uuid,
        wrapped_key: String,
        master_key_id: String,
        created_at: DateTime<Utc>,
    },
    IndexEntry {
        index: String,
        digest: String,
        subject_id: Uuid,
    },
    AccessRecord {
        at: DateTime<Utc>,
        actor: String,
        subject_id: Uuid,
        endpoint: String,
        request_id: String,
        // Absent from backups written before client ids were kept apart.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_request_id: Option<String>,
    },
    Trailer(Counts),
}

/// What a backup holds; the trailer of the file, and the report of both commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Lines before the trailer, the header included.
    pub lines: u64,
    pub events: u64,
    /// Events with a position in the global log.
    pub sequenced: u64,
    pub system_keys: u64,
    pub subject_keys: u64,
    pub index_entries: u64,
    pub access_records: u64,
    pub head_position: i64,
    /// The global hash at `head_position`, hex.
    pub head_hash: String,
}

/// What an import loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub counts: Counts,
    /// Streams whose chains were verified.
    pub streams: u64,
    /// Data subjects whose erasure the backup records.
    pub erased_subjects: u64,
    /// Keys or index entries of erased subjects found in the file and not loaded.
    pub erased_records_skipped: u64,
    /// Views folded from the imported log.
    pub tickets: u64,
}

// ---------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------

/// Writes the whole database to `args.to`, from one consistent snapshot.
pub async fn export(args: &ExportArgs) -> Result<Counts, String> {
    if args.to.exists() {
        return Err(format!("{} exists; choose a new file", args.to.display()));
    }
    let partial = partial_path(&args.to);
    let file = File::create(&partial).map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let mut out = GzEncoder::new(BufWriter::new(file), Compression::default());
    let (mut client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let written = write_all(&tx, &mut out).await;
    let counts = match written {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let finished = out
        .finish()
        .and_then(|mut w| w.flush().map(|()| w))
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all());
    if let Err(e) = finished {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("cannot write {}: {e}", partial.display()));
    }
    // Only a complete file gets the name asked for.
    std::fs::rename(&partial, &args.to).map_err(|e| format!("cannot rename to {}: {e}", args.to.display()))?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(counts)
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    to.with_file_name(name)
}

async fn write_all(tx: &Transaction<'_>, out: &mut impl Write) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let mut emit = |line: &Line, counts: &mut Counts| -> Result<(), String> {
        let mut text = serde_json::to_vec(line).map_err(|e| e.to_string())?;
        text.push(b'\n');
        out.write_all(&text)
            .map_err(|e| format!("cannot write the backup: {e}"))?;
        counts.lines += 1;
        Ok(())
    };
    emit(
        &Line::Header {
            format: FORMAT.to_owned(),
            version: FORMAT_VERSION,
            created_at: Utc::now(),
        },
        &mut counts,
    )?;

    let total: i64 = query_one(tx, "SELECT count(*) FROM events").await?;
    let bar = progress_bar("exporting");
    bar.set_length(u64::try_from(total).unwrap_or_default());
    let sequenced = "SELECT l.position, l.global_hash, l.sequenced_at, e.hash, e.stored
                     FROM event_log l JOIN events e ON e.seq_id = l.seq_id ORDER BY l.position";
    let queued = "SELECT NULL::bigint, NULL::bytea, NULL::timestamptz, e.hash, e.stored
                  FROM event_queue q JOIN events e ON e.seq_id = q.seq_id ORDER BY e.seq_id";
    for sql in [sequenced, queued] {
        let portal = tx.bind(sql, &[]).await.map_err(|e| e.to_string())?;
        loop {
            let rows = tx
                .query_portal(&portal, CHUNK as i32)
                .await
                .map_err(|e| e.to_string())?;
            for row in &rows {
                let position: Option<i64> = row.try_get(0).map_err(|e| e.to_string())?;
                let global: Option<Vec<u8>> = row.try_get(1).map_err(|e| e.to_string())?;
                let hash: Vec<u8> = row.try_get(3).map_err(|e| e.to_string())?;
                let stored: Vec<u8> = row.try_get(4).map_err(|e| e.to_string())?;
                if let (Some(p), Some(g)) = (position, &global) {
                    counts.sequenced += 1;
                    counts.head_position = p;
                    counts.head_hash = hex::encode(g);
                }
                emit(
                    &Line::Event {
                        position,
                        global_hash: global.map(hex::encode),
                        sequenced_at: row.try_get(2).map_err(|e| e.to_string())?,
                        hash: hex::encode(hash),
                        stored: B64.encode(stored),
                    },
                    &mut counts,
                )?;
                counts.events += 1;
            }
            bar.set_position(counts.events);
            if rows.len() < CHUNK {
                break;
            }
        }
    }
    bar.finish_and_clear();
    if counts.sequenced == 0 {
        counts.head_hash = hex::encode(GENESIS_HASH);
    }

    for row in query(
        tx,
        "SELECT name, wrapped_key, master_key_id, created_at FROM system_keys ORDER BY name",
    )
    .await?
    {
        emit(
            &Line::SystemKey {
                name: get(&row, 0)?,
                wrapped_key: B64.encode(get::<Vec<u8>>(&row, 1)?),
                master_key_id: get(&row, 2)?,
                created_at: get(&row, 3)?,
            },
            &mut counts,
        )?;
        counts.system_keys += 1;
    }
    let keys =
        "SELECT subject_id, key_id, wrapped_key, master_key_id, created_at FROM subject_keys ORDER BY subject_id";
    for row in query(tx, keys).await? {
        emit(
            &Line::SubjectKey {
                subject_id: get(&row, 0)?,
                key_id: get(&row, 1)?,
                wrapped_key: B64.encode(get::<Vec<u8>>(&row, 2)?),
                master_key_id: get(&row, 3)?,
                created_at: get(&row, 4)?,
            },
            &mut counts,
        )?;
        counts.subject_keys += 1;
    }
    for row in query(
        tx,
        "SELECT kind, digest, subject_id FROM subject_index ORDER BY kind, digest, subject_id",
    )
    .await?
    {
        emit(
            &Line::IndexEntry {
                index: get(&row, 0)?,
                digest: hex::encode(get::<Vec<u8>>(&row, 1)?),
                subject_id: get(&row, 2)?,
            },
            &mut counts,
        )?;
        counts.index_entries += 1;
    }
    for row in query(
        tx,
        "SELECT at, actor, subject_id, endpoint, request_id, client_request_id FROM pii_access ORDER BY id",
    )
    .await?
    {
        emit(
            &Line::AccessRecord {
                at: get(&row, 0)?,
                actor: get(&row, 1)?,
                subject_id: get(&row, 2)?,
                endpoint: get(&row, 3)?,
                request_id: get(&row, 4)?,
                client_request_id: get(&row, 5)?,
            },
            &mut counts,
        )?;
        counts.access_records += 1;
    }
    let trailer = counts.clone();
    emit(&Line::Trailer(trailer), &mut counts)?;
    counts.lines -= 1;
    Ok(counts)
}

async fn query(tx: &Transaction<'_>, sql: &str) -> Result<Vec<tokio_postgres::Row>, String> {
    tx.query(sql, &[]).await.map_err(|e| e.to_string())
}

async fn query_one<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    tx: &Transaction<'_>,
    sql: &str,
) -> Result<T, String> {
    tx.query_one(sql, &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| e.to_string())
}

fn get<T: for<'a> tokio_postgres::types::FromSql<'a>>(row: &tokio_postgres::Row, i: usize) -> Result<T, String> {
    row.try_get(i).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

/// Loads a backup into an empty database; all of it or nothing.
pub async fn import(args: &ImportArgs) -> Result<ImportReport, String> {
    let file = File::open(&args.from).map_err(|e| format!("cannot open {}: {e}", args.from.display()))?;
    // The owner's connection (beside a running embedded server, if there is
    // one); the schema must be current before rows go in.
    let (mut client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    database::run_migrations(&mut client).await.map_err(|e| e.to_string())?;
    let tx = client.transaction().await.map_err(|e| e.to_string())?;
    for (table, what) in [
        ("events", "events"),
        ("subject_keys", "data-subject keys"),
        ("tickets", "views"),
    ] {
        let n: i64 = query_one(&tx, &format!("SELECT count(*) FROM {table}")).await?;
        if n > 0 {
            return Err(format!(
                "the database is not empty: it holds {n} {what}; import needs an empty one"
            ));
        }
    }
    let bar = progress_bar("importing");
    let mut loader = Loader::new(&tx);
    let lines = BufReader::new(MultiGzDecoder::new(file)).lines();
    let mut number = 0u64;
    let mut trailer: Option<Counts> = None;
    for text in lines {
        number += 1;
        let at = |e: String| format!("line {number}: {e}");
        let text = text.map_err(|e| at(format!("the file is corrupt or truncated: {e}")))?;
        if trailer.is_some() {
            return Err(at("there is more after the trailer".into()));
        }
        let line: Line = serde_json::from_str(&text).map_err(|e| at(format!("not a backup record: {e}")))?;
        if number == 1 {
            match &line {
                Line::Header { format, version, .. } if format == FORMAT && *version == FORMAT_VERSION => {}
                Line::Header { format, version, .. } => {
                    return Err(at(format!("unsupported backup format {format} version {version}")));
                }
                _ => return Err(at("the file does not start with a backup header".into())),
            }
        }
        match line {
            Line::Header { .. } if number == 1 => {}
            Line::Header { .. } => return Err(at("a second header".into())),
            Line::Trailer(counts) => trailer = Some(counts),
            other => loader.load(other).await.map_err(at)?,
        }
        loader.counts.lines = number;
        bar.set_position(loader.counts.events);
    }
    bar.finish_and_clear();
    let Some(expected) = trailer else {
        return Err(format!(
            "line {}: the backup ends without its trailer: it is truncated",
            number + 1
        ));
    };
    let mut report = loader.finish(number).await?;
    report.counts.lines = number.saturating_sub(1);
    if report.counts != expected {
        return Err(format!(
            "line {number}: the trailer does not match the file: it says {expected:?}, the file holds {:?}",
            report.counts
        ));
    }

    let erased = rebuild::erased_subjects(&tx).await.map_err(|e| e.to_string())?;
    let (_, tickets) = rebuild::fold_all(&tx, None, &erased, "tickets", &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    report.tickets = tickets;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(report)
}

/// An event read from the file, checked, waiting to be inserted.
struct PendingEvent {
    event: StoredEvent,
    position: Option<(i64, [u8; 32], DateTime<Utc>)>,
}

/// Checks and inserts the records of one import, in file order.
struct Loader<'a> {
    tx: &'a Transaction<'a>,
    counts: Counts,
    /// Each stream's latest version and hash, for the chain checks.
    streams: HashMap<Uuid, (u64, [u8; 32])>,
    global: (i64, [u8; 32]),
    unsequenced_seen: bool,
    erased: HashSet<Uuid>,
    erased_records_skipped: u64,
    pending: Vec<PendingEvent>,
    keys_started: bool,
}

impl<'a> Loader<'a> {
    fn new(tx: &'a Transaction<'a>) -> Loader<'a> {
        Loader {
            tx,
            counts: Counts::default(),
            streams: HashMap::new(),
            global: (0, GENESIS_HASH),
            unsequenced_seen: false,
            erased: HashSet::new(),
            erased_records_skipped: 0,
            pending: Vec::with_capacity(CHUNK),
            keys_started: false,
        }
    }

    async fn load(&mut self, line: Line) -> Result<(), String> {
        match line {
            Line::Event {
                position,
                global_hash,
                sequenced_at,
                hash,
                stored,
            } => {
                if self.keys_started {
                    return Err("an event after the keys: events come first".into());
                }
                self.event(position, global_hash, sequenced_at, &hash, &stored)?;
                if self.pending.len() >= CHUNK {
                    self.flush().await?;
                }
            }
            Line::SystemKey {
                name,
                wrapped_key,
                master_key_id,
                created_at,
            } => {
                self.start_keys().await?;
                let wrapped = B64.decode(&wrapped_key).map_err(|e| format!("wrapped_key: {e}"))?;
                self.tx
                    .execute(
                        "INSERT INTO system_keys (name, wrapped_key, master_key_id, created_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (name) DO UPDATE SET wrapped_key = EXCLUDED.wrapped_key,
                             master_key_id = EXCLUDED.master_key_id, created_at = EXCLUDED.created_at",
                        &[&name, &wrapped, &master_key_id, &created_at],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                self.counts.system_keys += 1;
            }
            Line::SubjectKey {
                subject_id,
                key_id,
                wrapped_key,
                master_key_id,
                created_at,
            } => {
                self.start_keys().await?;
                self.counts.subject_keys += 1;
                // A backup taken from a tampered or older database could still
                // hold the key of someone since erased: never bring it back.
                if self.erased.contains(&subject_id) {
                    self.erased_records_skipped += 1;
                    return Ok(());
                }
                let wrapped = B64.decode(&wrapped_key).map_err(|e| format!("wrapped_key: {e}"))?;
                self.tx
                    .execute(
                        "INSERT INTO subject_keys (subject_id, key_id, wrapped_key, master_key_id, created_at)
                         VALUES ($1, $2, $3, $4, $5)",
                        &[&subject_id, &key_id, &wrapped, &master_key_id, &created_at],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Line::IndexEntry {
                index,
                digest,
                subject_id,
            } => {
                self.start_keys().await?;
                self.counts.index_entries += 1;
                if self.erased.contains(&subject_id) {
                    self.erased_records_skipped += 1;
                    return Ok(());
                }
                let digest = hex::decode(&digest).map_err(|e| format!("digest: {e}"))?;
                self.tx
                    .execute(
                        "INSERT INTO subject_index (kind, digest, subject_id) VALUES ($1, $2, $3)",
                        &[&index, &digest, &subject_id],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Line::AccessRecord {
                at,
                actor,
                subject_id,
                endpoint,
                request_id,
                client_request_id,
            } => {
                self.start_keys().await?;
                self.tx
                    .execute(
                        "INSERT INTO pii_access (at, actor, subject_id, endpoint, request_id, client_request_id)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[&at, &actor, &subject_id, &endpoint, &request_id, &client_request_id],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                self.counts.access_records += 1;
            }
            Line::Header { .. } | Line::Trailer(_) => return Err("misplaced header or trailer".into()),
        }
        Ok(())
    }

    /// Checks one event against its stream's chain and the global chain.
    fn event(
        &mut self,
        position: Option<i64>,
        global: Option<String>,
        sequenced_at: Option<DateTime<Utc>>,
        hash: &str,
        stored: &str,
    ) -> Result<(), String> {
        let stored = B64.decode(stored).map_err(|e| format!("stored is not base64: {e}"))?;
        let hash = parse_hash(hash).map_err(|e| format!("hash: {e}"))?;
        let envelope: Envelope =
            serde_json::from_slice(&stored).map_err(|e| format!("the stored bytes are not an event envelope: {e}"))?;
        let recorded_at = envelope
            .recorded_at()
            .ok_or_else(|| format!("event {}: recorded_at is not a time", envelope.event_id))?;
        let (previous_version, previous_hash) = self
            .streams
            .get(&envelope.stream_id)
            .copied()
            .unwrap_or((0, GENESIS_HASH));
        if envelope.version != previous_version + 1 {
            return Err(format!(
                "stream {} jumps from version {previous_version} to {}",
                envelope.stream_id, envelope.version
            ));
        }
        if chain_hash(&previous_hash, &stored) != hash {
            return Err(format!(
                "stream {} version {}: the hash does not match the stored bytes and the chain before them",
                envelope.stream_id, envelope.version
            ));
        }
        self.streams.insert(envelope.stream_id, (envelope.version, hash));
        let position = match (position, global, sequenced_at) {
            (Some(p), Some(g), Some(at)) => {
                if self.unsequenced_seen {
                    return Err("a sequenced event after unsequenced ones".into());
                }
                let g = parse_hash(&g).map_err(|e| format!("global_hash: {e}"))?;
                if p != self.global.0 + 1 {
                    return Err(format!("the global log jumps from position {} to {p}", self.global.0));
                }
                if global_hash(&self.global.1, &hash) != g {
                    return Err(format!("position {p}: the global hash does not follow from the chain"));
                }
                self.global = (p, g);
                self.counts.sequenced += 1;
                Some((p, g, at))
            }
            (None, None, None) => {
                self.unsequenced_seen = true;
                None
            }
            _ => return Err("position, global_hash and sequenced_at come together or not at all".into()),
        };
        if envelope.event_type == "subject.erased" {
            self.erased.insert(envelope.stream_id);
        }
        self.counts.events += 1;
        self.pending.push(PendingEvent {
            event: StoredEvent {
                envelope,
                recorded_at,
                stored,
                hash,
            },
            position,
        });
        Ok(())
    }

    async fn start_keys(&mut self) -> Result<(), String> {
        if !self.keys_started {
            self.flush().await?;
            self.keys_started = true;
        }
        Ok(())
    }

    /// Inserts the pending events, then their global positions or queue entries.
    async fn flush(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.pending);
        let columns = EventColumns::of(events.iter().map(|e| &e.event)).map_err(|e| e.to_string())?;
        let rows = self
            .tx
            .query(
                &format!("{INSERT_EVENTS} RETURNING event_id, seq_id"),
                &columns.params(),
            )
            .await
            .map_err(|e| StoreError::from(e).to_string())?;
        let seq_ids: HashMap<Uuid, i64> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(|e| e.to_string())?;
        let (mut positions, mut log_seq, mut globals, mut ats, mut queued) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for e in &events {
            let seq = *seq_ids
                .get(&e.event.envelope.event_id)
                .ok_or_else(|| format!("event {} was not inserted", e.event.envelope.event_id))?;
            match &e.position {
                Some((p, g, at)) => {
                    positions.push(*p);
                    log_seq.push(seq);
                    globals.push(&g[..]);
                    ats.push(*at);
                }
                None => queued.push(seq),
            }
        }
        self.tx
            .execute(
                "INSERT INTO event_log (position, seq_id, global_hash, sequenced_at)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::timestamptz[])",
                &[&positions, &log_seq, &globals, &ats],
            )
            .await
            .map_err(|e| e.to_string())?;
        self.tx
            .execute(
                "INSERT INTO event_queue (seq_id) SELECT * FROM unnest($1::bigint[])",
                &[&queued],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Writes what is pending and the head of the global log.
    async fn finish(mut self, lines: u64) -> Result<ImportReport, String> {
        self.flush().await.map_err(|e| format!("line {lines}: {e}"))?;
        self.tx
            .execute(
                "UPDATE event_log_head SET position = $1, hash = $2",
                &[&self.global.0, &&self.global.1[..]],
            )
            .await
            .map_err(|e| e.to_string())?;
        self.counts.head_position = self.global.0;
        self.counts.head_hash = hex::encode(self.global.1);
        Ok(ImportReport {
            counts: self.counts,
            streams: self.streams.len() as u64,
            erased_subjects: self.erased.len() as u64,
            erased_records_skipped: self.erased_records_skipped,
            tickets: 0,
        })
    }
}

fn parse_hash(s: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(s).map_err(|e| e.to_string())?;
    bytes.try_into().map_err(|_| "not 32 bytes".to_owned())
}
