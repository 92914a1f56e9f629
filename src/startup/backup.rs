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

use crate::domain::subject;
use crate::privacy::access_log::{self, AccessRecord};
use crate::privacy::keys::{self, IndexEntry, WrappedSubjectKey, WrappedSystemKey};
use crate::projections::{rebuild, tickets};
use crate::store::verify::{ChainBreak, GlobalChain, StreamChain};
use crate::store::{self, DumpedEvent, Envelope, GENESIS_HASH, LogEntry, RestoredEvent, StoreError, StoredEvent};

use super::config::{ExportArgs, ImportArgs};
use super::maintenance::progress_bar;
use crate::infra::database::{self, DatabaseError};

const FORMAT: &str = "opsledger-backup";
const FORMAT_VERSION: u32 = 1;
/// Events inserted per round trip.
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

/// Why an export or an import failed. The import's errors name the line of
/// the file at fault (counted from 1), so an operator can look at it.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} exists; choose a new file", .0.display())]
    Exists(PathBuf),
    #[error("cannot encode a record: {0}")]
    Encode(serde_json::Error),
    #[error("cannot {action} {}: {source}", .path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line that is not what a backup holds there.
    #[error("line {line}: {problem}")]
    BadLine { line: u64, problem: LineProblem },
    /// An event that does not continue its stream's chain or the global one.
    #[error("line {line}: {problem}")]
    ChainBroken { line: u64, problem: ChainProblem },
    #[error("line {line}: the backup ends without its trailer: it is truncated")]
    Truncated { line: u64 },
    #[error("line {line}: the trailer does not match the file: it says {expected:?}, the file holds {found:?}")]
    TrailerMismatch {
        line: u64,
        expected: Box<Counts>,
        found: Box<Counts>,
    },
    #[error("the database is not empty: it holds {count} {what}; import needs an empty one")]
    NotEmpty { count: u64, what: &'static str },
    #[error(transparent)]
    Connect(#[from] DatabaseError),
    #[error(transparent)]
    Database(#[from] StoreError),
}

/// What is wrong with one line of a backup file.
#[derive(Debug, thiserror::Error)]
pub enum LineProblem {
    #[error("the file is corrupt or truncated: {0}")]
    Unreadable(std::io::Error),
    #[error("there is more after the trailer")]
    AfterTrailer,
    #[error("not a backup record: {0}")]
    NotARecord(serde_json::Error),
    #[error("unsupported backup format {format} version {version}")]
    Unsupported { format: String, version: u32 },
    #[error("the file does not start with a backup header")]
    NoHeader,
    #[error("a second header")]
    SecondHeader,
    #[error("{field}: {reason}")]
    BadField { field: &'static str, reason: String },
    #[error("the stored bytes are not an event envelope: {0}")]
    NotAnEnvelope(serde_json::Error),
    #[error("event {0}: recorded_at is not a time")]
    BadTime(Uuid),
    #[error("an event after the keys: events come first")]
    EventAfterKeys,
    #[error("a sequenced event after unsequenced ones")]
    SequencedAfterQueued,
    #[error("position, global_hash and sequenced_at come together or not at all")]
    PartialPosition,
    /// Loading the line (or the events before it) into the database failed.
    #[error(transparent)]
    Database(#[from] StoreError),
}

/// How an event in a backup fails to continue a chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainProblem {
    #[error("stream {stream} jumps from version {from} to {to}")]
    StreamGap { stream: Uuid, from: u64, to: u64 },
    #[error("stream {stream} version {version}: the hash does not match the stored bytes and the chain before them")]
    StreamAltered { stream: Uuid, version: u64 },
    #[error("the global log jumps from position {from} to {to}")]
    GlobalGap { from: i64, to: i64 },
    #[error("position {position}: the global hash does not follow from the chain")]
    GlobalAltered { position: i64 },
}

/// A problem found on one line, before the loader knows which line it is on.
#[derive(Debug)]
enum Refusal {
    Line(LineProblem),
    Chain(ChainProblem),
}

impl From<LineProblem> for Refusal {
    fn from(p: LineProblem) -> Refusal {
        Refusal::Line(p)
    }
}

impl From<ChainProblem> for Refusal {
    fn from(p: ChainProblem) -> Refusal {
        Refusal::Chain(p)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::Line(LineProblem::Database(e))
    }
}

impl Refusal {
    fn at(self, line: u64) -> BackupError {
        match self {
            Refusal::Line(problem) => BackupError::BadLine { line, problem },
            Refusal::Chain(problem) => BackupError::ChainBroken { line, problem },
        }
    }
}

fn bad_field(field: &'static str, reason: impl std::fmt::Display) -> LineProblem {
    LineProblem::BadField {
        field,
        reason: reason.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------

/// Writes the whole database to `args.to`, from one consistent snapshot.
pub async fn export(args: &ExportArgs) -> Result<Counts, BackupError> {
    if args.to.exists() {
        return Err(BackupError::Exists(args.to.clone()));
    }
    let partial = partial_path(&args.to);
    let file = File::create(&partial).map_err(|source| BackupError::File {
        action: "create",
        path: partial.clone(),
        source,
    })?;
    let mut out = GzEncoder::new(BufWriter::new(file), Compression::default());
    let (mut client, _embedded) = database::connect_owner(&args.database).await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(StoreError::from)?;
    let written = write_all(&tx, &mut out, &partial).await;
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
    if let Err(source) = finished {
        let _ = std::fs::remove_file(&partial);
        return Err(BackupError::File {
            action: "write",
            path: partial,
            source,
        });
    }
    // Only a complete file gets the name asked for.
    std::fs::rename(&partial, &args.to).map_err(|source| BackupError::File {
        action: "rename to",
        path: args.to.clone(),
        source,
    })?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(counts)
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    to.with_file_name(name)
}

/// Writes one line after another, counting them.
struct Writer<'a, W: Write> {
    out: &'a mut W,
    path: &'a Path,
    counts: Counts,
}

impl<W: Write> Writer<'_, W> {
    fn emit(&mut self, line: &Line) -> Result<(), BackupError> {
        let mut text = serde_json::to_vec(line).map_err(BackupError::Encode)?;
        text.push(b'\n');
        self.out.write_all(&text).map_err(|source| BackupError::File {
            action: "write",
            path: self.path.to_owned(),
            source,
        })?;
        self.counts.lines += 1;
        Ok(())
    }
}

async fn write_all(tx: &Transaction<'_>, out: &mut impl Write, path: &Path) -> Result<Counts, BackupError> {
    let mut w = Writer {
        out,
        path,
        counts: Counts::default(),
    };
    w.emit(&Line::Header {
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        created_at: Utc::now(),
    })?;

    let bar = progress_bar("exporting");
    bar.set_length(store::count_events(tx).await?);
    store::dump_events(tx, |e: DumpedEvent| {
        if let Some(logged) = &e.logged {
            w.counts.sequenced += 1;
            w.counts.head_position = logged.position;
            w.counts.head_hash = hex::encode(logged.global_hash);
        }
        w.emit(&Line::Event {
            position: e.logged.as_ref().map(|l| l.position),
            global_hash: e.logged.as_ref().map(|l| hex::encode(l.global_hash)),
            sequenced_at: e.logged.as_ref().map(|l| l.sequenced_at),
            hash: hex::encode(e.hash),
            stored: B64.encode(e.stored),
        })?;
        w.counts.events += 1;
        bar.set_position(w.counts.events);
        Ok::<(), BackupError>(())
    })
    .await?;
    bar.finish_and_clear();
    if w.counts.sequenced == 0 {
        w.counts.head_hash = hex::encode(GENESIS_HASH);
    }

    keys::dump_system_keys(tx, |k| {
        w.emit(&Line::SystemKey {
            name: k.name,
            wrapped_key: B64.encode(k.wrapped_key),
            master_key_id: k.master_key_id,
            created_at: k.created_at,
        })?;
        w.counts.system_keys += 1;
        Ok::<(), BackupError>(())
    })
    .await?;
    keys::dump_subject_keys(tx, |k| {
        w.emit(&Line::SubjectKey {
            subject_id: k.subject,
            key_id: k.key_id,
            wrapped_key: B64.encode(k.wrapped_key),
            master_key_id: k.master_key_id,
            created_at: k.created_at,
        })?;
        w.counts.subject_keys += 1;
        Ok::<(), BackupError>(())
    })
    .await?;
    keys::dump_index(tx, |entry| {
        w.emit(&Line::IndexEntry {
            index: entry.kind,
            digest: hex::encode(entry.digest),
            subject_id: entry.subject,
        })?;
        w.counts.index_entries += 1;
        Ok::<(), BackupError>(())
    })
    .await?;
    access_log::dump(tx, |r| {
        w.emit(&Line::AccessRecord {
            at: r.at,
            actor: r.actor,
            subject_id: r.subject,
            endpoint: r.endpoint,
            request_id: r.request_id,
            client_request_id: r.client_request_id,
        })?;
        w.counts.access_records += 1;
        Ok::<(), BackupError>(())
    })
    .await?;
    let trailer = w.counts.clone();
    w.emit(&Line::Trailer(trailer))?;
    w.counts.lines -= 1;
    Ok(w.counts)
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

/// Loads a backup into an empty database; all of it or nothing.
pub async fn import(args: &ImportArgs) -> Result<ImportReport, BackupError> {
    let file = File::open(&args.from).map_err(|source| BackupError::File {
        action: "open",
        path: args.from.clone(),
        source,
    })?;
    // The owner's connection (beside a running embedded server, if there is
    // one); the schema must be current before rows go in.
    let (mut client, _embedded) = database::connect_owner(&args.database).await?;
    database::run_migrations(&mut client).await?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let held = [
        (store::count_events(&tx).await?, "events"),
        (keys::count_subject_keys(&tx).await?, "data-subject keys"),
        (tickets::count(&tx).await?, "views"),
    ];
    if let Some((count, what)) = held.into_iter().find(|(count, _)| *count > 0) {
        return Err(BackupError::NotEmpty { count, what });
    }
    let bar = progress_bar("importing");
    let mut loader = Loader::new(&tx);
    let lines = BufReader::new(MultiGzDecoder::new(file)).lines();
    let mut number = 0u64;
    let mut trailer: Option<Counts> = None;
    for text in lines {
        number += 1;
        let bad = |problem: LineProblem| BackupError::BadLine { line: number, problem };
        let text = text.map_err(|e| bad(LineProblem::Unreadable(e)))?;
        if trailer.is_some() {
            return Err(bad(LineProblem::AfterTrailer));
        }
        let line: Line = serde_json::from_str(&text).map_err(|e| bad(LineProblem::NotARecord(e)))?;
        if number == 1 {
            match &line {
                Line::Header { format, version, .. } if format == FORMAT && *version == FORMAT_VERSION => {}
                Line::Header { format, version, .. } => {
                    return Err(bad(LineProblem::Unsupported {
                        format: format.clone(),
                        version: *version,
                    }));
                }
                _ => return Err(bad(LineProblem::NoHeader)),
            }
        }
        match line {
            Line::Header { .. } if number == 1 => {}
            Line::Header { .. } => return Err(bad(LineProblem::SecondHeader)),
            Line::Trailer(counts) => trailer = Some(counts),
            other => loader.load(other).await.map_err(|r| r.at(number))?,
        }
        loader.counts.lines = number;
        bar.set_position(loader.counts.events);
    }
    bar.finish_and_clear();
    let Some(expected) = trailer else {
        return Err(BackupError::Truncated { line: number + 1 });
    };
    let mut report = loader.finish().await.map_err(|r| r.at(number))?;
    report.counts.lines = number.saturating_sub(1);
    if report.counts != expected {
        return Err(BackupError::TrailerMismatch {
            line: number,
            expected: Box::new(expected),
            found: Box::new(report.counts),
        });
    }
    report.tickets = rebuild::fold_into_empty(&tx).await?;
    tickets::advance_numbers(&tx).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(report)
}

/// Checks and inserts the records of one import, in file order.
struct Loader<'a> {
    tx: &'a Transaction<'a>,
    counts: Counts,
    /// Each stream's chain as far as the file has gone.
    streams: HashMap<Uuid, StreamChain>,
    global: GlobalChain,
    unsequenced_seen: bool,
    erased: HashSet<Uuid>,
    erased_records_skipped: u64,
    pending: Vec<RestoredEvent>,
    keys_started: bool,
}

impl<'a> Loader<'a> {
    fn new(tx: &'a Transaction<'a>) -> Loader<'a> {
        Loader {
            tx,
            counts: Counts::default(),
            streams: HashMap::new(),
            global: GlobalChain::default(),
            unsequenced_seen: false,
            erased: HashSet::new(),
            erased_records_skipped: 0,
            pending: Vec::with_capacity(CHUNK),
            keys_started: false,
        }
    }

    async fn load(&mut self, line: Line) -> Result<(), Refusal> {
        match line {
            Line::Event {
                position,
                global_hash,
                sequenced_at,
                hash,
                stored,
            } => {
                if self.keys_started {
                    return Err(LineProblem::EventAfterKeys.into());
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
                let key = WrappedSystemKey {
                    name,
                    wrapped_key: B64.decode(&wrapped_key).map_err(|e| bad_field("wrapped_key", e))?,
                    master_key_id,
                    created_at,
                };
                keys::load_system_key(self.tx, &key).await?;
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
                let key = WrappedSubjectKey {
                    subject: subject_id,
                    key_id,
                    wrapped_key: B64.decode(&wrapped_key).map_err(|e| bad_field("wrapped_key", e))?,
                    master_key_id,
                    created_at,
                };
                keys::load_subject_key(self.tx, &key).await?;
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
                let entry = IndexEntry {
                    kind: index,
                    digest: hex::decode(&digest).map_err(|e| bad_field("digest", e))?,
                    subject: subject_id,
                };
                keys::load_index_entry(self.tx, &entry).await?;
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
                let record = AccessRecord {
                    id: 0,
                    at,
                    actor,
                    subject: subject_id,
                    endpoint,
                    request_id,
                    client_request_id,
                };
                access_log::load(self.tx, &record).await?;
                self.counts.access_records += 1;
            }
            // The caller takes headers and trailers before they get here.
            Line::Header { .. } => return Err(LineProblem::SecondHeader.into()),
            Line::Trailer(_) => return Err(LineProblem::AfterTrailer.into()),
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
    ) -> Result<(), Refusal> {
        let stored = B64
            .decode(stored)
            .map_err(|e| bad_field("stored", format!("is not base64: {e}")))?;
        let hash = parse_hash(hash).map_err(|e| bad_field("hash", e))?;
        let envelope: Envelope = serde_json::from_slice(&stored).map_err(LineProblem::NotAnEnvelope)?;
        let recorded_at = envelope.recorded_at().ok_or(LineProblem::BadTime(envelope.event_id))?;
        let (stream, version) = (envelope.stream_id, envelope.version);
        let chain = self.streams.entry(stream).or_default();
        chain.follow(version, &stored, &hash).map_err(|b| match b {
            ChainBreak::Gap { .. } => ChainProblem::StreamGap {
                stream,
                from: chain.version(),
                to: version,
            },
            ChainBreak::Altered => ChainProblem::StreamAltered { stream, version },
        })?;
        let logged = match (position, global, sequenced_at) {
            (Some(position), Some(global), Some(sequenced_at)) => {
                if self.unsequenced_seen {
                    return Err(LineProblem::SequencedAfterQueued.into());
                }
                let global_hash = parse_hash(&global).map_err(|e| bad_field("global_hash", e))?;
                let from = self.global.head().0;
                self.global.follow(position, &hash, &global_hash).map_err(|b| match b {
                    ChainBreak::Gap { .. } => ChainProblem::GlobalGap { from, to: position },
                    ChainBreak::Altered => ChainProblem::GlobalAltered { position },
                })?;
                self.counts.sequenced += 1;
                Some(LogEntry {
                    position,
                    global_hash,
                    sequenced_at,
                })
            }
            (None, None, None) => {
                self.unsequenced_seen = true;
                None
            }
            _ => return Err(LineProblem::PartialPosition.into()),
        };
        if envelope.event_type == subject::ERASED {
            self.erased.insert(stream);
        }
        self.counts.events += 1;
        self.pending.push(RestoredEvent {
            event: StoredEvent {
                envelope,
                recorded_at,
                stored,
                hash,
            },
            logged,
        });
        Ok(())
    }

    async fn start_keys(&mut self) -> Result<(), StoreError> {
        if !self.keys_started {
            self.flush().await?;
            self.keys_started = true;
        }
        Ok(())
    }

    /// Inserts the pending events, with their global positions or queue entries.
    async fn flush(&mut self) -> Result<(), StoreError> {
        let events = std::mem::take(&mut self.pending);
        store::load_events(self.tx, &events).await
    }

    /// Writes what is pending and the head of the global log.
    async fn finish(mut self) -> Result<ImportReport, Refusal> {
        self.flush().await?;
        let (head_position, head_hash) = self.global.head();
        store::load_log_head(self.tx, head_position, &head_hash).await?;
        self.counts.head_position = head_position;
        self.counts.head_hash = hex::encode(head_hash);
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
