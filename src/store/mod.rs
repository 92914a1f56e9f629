//! The event store: the only code that knows the SQL of the `events`,
//! `event_queue`, `event_log`, `event_log_head` and `idempotency_keys`
//! tables (the global log's in `sequencer`, `log` and `dump`).
//!
//! Appends are written inside a transaction the caller owns, so the inline
//! projection and the idempotency record commit atomically with the events.

pub mod canonical;
pub mod checkpoint;
pub mod dump;
pub mod envelope;
pub mod idempotency;
pub mod log;
pub mod migrations;
pub mod scan;
pub mod sequencer;
pub mod verify;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

pub use dump::{DumpedEvent, LogEntry, RestoredEvent, dump_events, load_events, load_log_head};
pub use envelope::{Envelope, GENESIS_HASH, Metadata, chain_hash};
pub use scan::{EventScan, ScannedEvent, Streams};

/// What a store operation can fail with. Constraint violations are named
/// here, once, and turned into meaningful kinds; callers never match on SQL
/// error text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to the stream since it was loaded.
    #[error("the stream was changed concurrently")]
    VersionConflict,
    /// Two transactions waited on each other's row locks and PostgreSQL
    /// aborted this one; retrying it is safe.
    #[error("aborted to break a deadlock")]
    Deadlock,
    /// A concurrent request with the same idempotency key committed first,
    /// or was still being processed when this one stopped waiting for it.
    #[error("a request with the same idempotency key is being processed")]
    IdempotencyRace,
    /// A lock wait outlasted the transaction's `lock_timeout`.
    #[error("a lock was not granted in time")]
    LockTimeout,
    /// A statement ran after an earlier one had failed and aborted the
    /// transaction (25P02). It is never the cause: when statements are
    /// pipelined, this is what every one sent after the failing one
    /// reports, so [`first_cause`] looks past it.
    #[error("the transaction was aborted by an earlier statement")]
    TransactionAborted,
    /// A stream the append was decided from (not one it appends to) has
    /// moved on from the version that was read: the decision is stale, and
    /// deciding again is safe (see [`insert_unless_moved`]).
    #[error("a stream the append was decided from has changed")]
    ReadStreamMoved,
    #[error("the stored stream is corrupt: {0}")]
    Corrupt(String),
    #[error("event cannot be canonicalised: {0}")]
    Canonical(#[from] canonical::CanonicalError),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {}", db_message(.0))]
    Database(#[source] tokio_postgres::Error),
}

/// What each constraint an append can violate means. An append writes
/// `events` (with `event_queue`), the `tickets` views and the idempotency
/// record; the constraints not named here are on values the server makes
/// itself (event ids, `seq_id`s, hashes, ticket windows from the domain), so
/// their violation is a bug, reported as an internal error:
/// - `events_stream_version_key`: another writer appended the version this
///   one loaded + 1 (a lost race);
/// - `idempotency_keys_pkey`: a request with the same key committed first;
/// - `tickets_pkey` cannot be violated (the views are upserted; a view
///   already newer is a lost race, see `projections::tickets::upsert`);
/// - `tickets_number_key`: numbers come from a sequence that never repeats,
///   so a taken number means the sequence is behind the table (a database
///   restored without it): the operator's to fix, an internal error;
/// - `event_queue_pkey`, `events_pkey`, `events_seq_id_key`: generated ids.
impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        if let Some(db) = e.as_db_error() {
            if *db.code() == SqlState::UNIQUE_VIOLATION {
                match db.constraint() {
                    Some("events_stream_version_key") => return StoreError::VersionConflict,
                    Some("idempotency_keys_pkey") => return StoreError::IdempotencyRace,
                    _ => {}
                }
            }
            if *db.code() == SqlState::T_R_DEADLOCK_DETECTED {
                return StoreError::Deadlock;
            }
            if *db.code() == SqlState::IN_FAILED_SQL_TRANSACTION {
                return StoreError::TransactionAborted;
            }
            if *db.code() == SqlState::LOCK_NOT_AVAILABLE {
                return StoreError::LockTimeout;
            }
            // Connection-level trouble the client can retry later.
            let code = db.code().code();
            if code.starts_with("08") || code.starts_with("57P") || code == "53300" {
                return StoreError::Unavailable(db.message().to_owned());
            }
        } else if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
            // The connection broke; anything else without a SQLSTATE (a
            // column that does not convert, say) is a bug, not an outage.
            return StoreError::Unavailable(e.to_string());
        }
        StoreError::Database(e)
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::from(e),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// The outcome of statements pipelined in one transaction. The first of
/// them to fail aborts the transaction, and every one sent after it fails
/// with [`StoreError::TransactionAborted`], possibly reported first: the
/// cause is the one error that is something else.
pub fn first_cause(outcomes: impl IntoIterator<Item = Result<(), StoreError>>) -> Result<(), StoreError> {
    let mut aborted = None;
    for outcome in outcomes {
        match outcome {
            Ok(()) => {}
            Err(StoreError::TransactionAborted) => aborted = Some(StoreError::TransactionAborted),
            Err(cause) => return Err(cause),
        }
    }
    aborted.map_or(Ok(()), Err)
}

/// The server's own message (tokio-postgres displays every server error as "db error").
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// An error with its whole source chain, using the server's own message
/// where there is one (tokio-postgres displays every server error as
/// "db error" and a failed connect as "error connecting to server").
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        match cause.downcast_ref::<tokio_postgres::Error>() {
            Some(pg) => text.push_str(&db_message(pg)),
            None => text.push_str(&cause.to_string()),
        }
        source = cause.source();
    }
    text
}

/// A stream at a version: one an append was decided from without
/// appending to it, such as the SLA policy a filing's clocks come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAt {
    pub stream_id: Uuid,
    /// 0: the stream has no events.
    pub version: u64,
}

/// The last event of a stream: what the next append chains from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    pub version: u64,
    pub hash: [u8; 32],
    pub recorded_at: DateTime<Utc>,
}

/// An event as the domain produced it, before it has an envelope.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub schema_version: u32,
    pub payload: Value,
}

impl NewEvent {
    pub fn from_domain(event: &impl crate::domain::DomainEvent) -> NewEvent {
        NewEvent {
            event_type: event.event_type(),
            schema_version: event.schema_version(),
            payload: event.payload_json(),
        }
    }
}

/// An event sealed into its envelope, with its stored bytes and chain hash.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub envelope: Envelope,
    pub recorded_at: DateTime<Utc>,
    pub stored: Vec<u8>,
    pub hash: [u8; 32],
}

impl StoredEvent {
    /// The head its stream has once it is stored: what the next append
    /// follows.
    pub fn head(&self) -> StreamHead {
        StreamHead {
            version: self.envelope.version,
            hash: self.hash,
            recorded_at: self.recorded_at,
        }
    }
}

/// Puts events into envelopes that follow `head`: versions continue from the
/// loaded version (never from anything a client said), `recorded_at` never
/// goes back in time within the stream, and each hash chains from the one
/// before it.
pub fn seal(
    stream_id: Uuid,
    head: Option<&StreamHead>,
    events: Vec<NewEvent>,
    metadata: &Metadata,
    now: DateTime<Utc>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut recorded_at = envelope::to_micros(now);
    let (mut version, mut previous) = match head {
        Some(h) => {
            recorded_at = recorded_at.max(h.recorded_at);
            (h.version, h.hash)
        }
        None => (0, GENESIS_HASH),
    };
    let mut sealed = Vec::with_capacity(events.len());
    for event in events {
        version += 1;
        let envelope = Envelope {
            event_id: Uuid::now_v7(),
            stream_id,
            version,
            event_type: event.event_type.to_owned(),
            schema_version: event.schema_version,
            recorded_at: envelope::format_recorded_at(recorded_at),
            metadata: metadata.clone(),
            payload: event.payload,
        };
        let stored = envelope.to_stored_bytes()?;
        let hash = chain_hash(&previous, &stored);
        previous = hash;
        sealed.push(StoredEvent {
            envelope,
            recorded_at,
            stored,
            hash,
        });
    }
    Ok(sealed)
}

/// The columns of `events` rows, as arrays for one `unnest` insert.
pub struct EventColumns<'a> {
    ids: Vec<Uuid>,
    streams: Vec<Uuid>,
    versions: Vec<i32>,
    types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    times: Vec<DateTime<Utc>>,
    stored: Vec<&'a [u8]>,
    hashes: Vec<&'a [u8]>,
}

impl<'a> EventColumns<'a> {
    pub fn of(events: impl ExactSizeIterator<Item = &'a StoredEvent>) -> Result<EventColumns<'a>, StoreError> {
        let n = events.len();
        let mut c = EventColumns {
            ids: Vec::with_capacity(n),
            streams: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            types: Vec::with_capacity(n),
            schema_versions: Vec::with_capacity(n),
            times: Vec::with_capacity(n),
            stored: Vec::with_capacity(n),
            hashes: Vec::with_capacity(n),
        };
        for e in events {
            c.ids.push(e.envelope.event_id);
            c.streams.push(e.envelope.stream_id);
            c.versions
                .push(i32::try_from(e.envelope.version).map_err(|_| StoreError::Corrupt("version overflow".into()))?);
            c.types.push(e.envelope.event_type.as_str());
            c.schema_versions.push(
                i32::try_from(e.envelope.schema_version)
                    .map_err(|_| StoreError::Corrupt("schema version overflow".into()))?,
            );
            c.times.push(e.recorded_at);
            c.stored.push(e.stored.as_slice());
            c.hashes.push(&e.hash[..]);
        }
        Ok(c)
    }

    /// The eight parameters `$1`…`$8` of an insert from `unnest`.
    pub fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 8] {
        [
            &self.ids,
            &self.streams,
            &self.versions,
            &self.types,
            &self.schema_versions,
            &self.times,
            &self.stored,
            &self.hashes,
        ]
    }
}

/// The insert of [`EventColumns`] (`$1`…`$8`); a macro so that statements
/// which go on from it can be built at compile time.
macro_rules! insert_events_sql {
    () => {
        "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, recorded_at, stored, hash)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int4[], $4::text[], $5::int4[], $6::timestamptz[],
                              $7::bytea[], $8::bytea[])"
    };
}

/// The insert of [`EventColumns`], answering which `seq_id` each event got.
const INSERT_EVENTS_RETURNING_IDS: &str = concat!(insert_events_sql!(), " RETURNING event_id, seq_id");

/// Queues the events `appended` for the sequencer: one entry for the whole
/// append (one per 100 events), keyed by its first `seq_id` (migration
/// V17). A macro, as [`insert_events_sql`], so that both inserts are built
/// at compile time.
macro_rules! queue_appended_sql {
    () => {
        " RETURNING seq_id),
         numbered AS (SELECT seq_id, (row_number() OVER (ORDER BY seq_id) - 1) / 100 AS part FROM appended)
         INSERT INTO event_queue (seq_id, seq_ids)
         SELECT min(seq_id), array_agg(seq_id ORDER BY seq_id) FROM numbered GROUP BY part"
    };
}

/// Inserts sealed events, and queues them for the sequencer, in one statement. A lost race surfaces as
/// [`StoreError::VersionConflict`] through `UNIQUE (stream_id, version)`.
pub async fn insert(client: &impl GenericClient, events: &[StoredEvent]) -> Result<(), StoreError> {
    insert_unless_moved(client, events, &[]).await
}

/// [`insert`], only while every stream in `read` is still at the version
/// the append was decided from; else nothing is written and the answer is
/// [`StoreError::ReadStreamMoved`].
///
/// The check is part of the insert: a command can decide from versions it
/// kept in memory instead of reading them in its transaction first (an
/// SLA clock from a cached policy and calendars), and still never commits a
/// decision from a version that another transaction had replaced before
/// this statement began. Each stream costs one probe of the
/// `(stream_id, version)` index.
pub async fn insert_unless_moved(
    client: &impl GenericClient,
    events: &[StoredEvent],
    read: &[StreamAt],
) -> Result<(), StoreError> {
    let columns = EventColumns::of(events.iter())?;
    if read.is_empty() {
        let statement = client
            .prepare_cached(
                // One statement: the events and their queue entry for the
                // sequencer commit together or not at all.
                concat!("WITH appended AS (", insert_events_sql!(), queue_appended_sql!()),
            )
            .await?;
        client.execute(&statement, &columns.params()).await?;
        return Ok(());
    }
    // The streams are a `VALUES` list of one row each, not arrays: with
    // arrays, PostgreSQL's plan for the values at hand (which knows their
    // length) always looked cheaper than the generic one, so the statement
    // was planned again at every execution (160 µs, more than the read it
    // replaces). A statement per number of streams, usually two (the
    // policy and the calendar a clock ran on).
    let rows: Vec<String> = (0..read.len())
        .map(|i| format!("(${}::uuid, ${}::int4)", 9 + 2 * i, 10 + 2 * i))
        .collect();
    let sql = format!(
        "WITH unmoved AS (
             SELECT coalesce(bool_and(
                 coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = r.stream_id), 0) = r.version
             ), true) AS holds
             FROM (VALUES {}) AS r (stream_id, version)),
         appended AS ({} WHERE (SELECT holds FROM unmoved){}",
        rows.join(", "),
        insert_events_sql!(),
        queue_appended_sql!()
    );
    let statement = client.prepare_cached(&sql).await?;
    let versions = read
        .iter()
        .map(|r| i32::try_from(r.version).map_err(|_| StoreError::Corrupt("version overflow".into())))
        .collect::<Result<Vec<i32>, _>>()?;
    let mut params = columns.params().to_vec();
    for (r, version) in read.iter().zip(&versions) {
        params.push(&r.stream_id);
        params.push(version);
    }
    let queued = client.execute(&statement, &params).await?;
    if queued == 0 && !events.is_empty() {
        return Err(StoreError::ReadStreamMoved);
    }
    Ok(())
}

/// The events of one stream after version `after`, in version order, up to
/// `limit` of them (all when `None`), unparsed, with their indexed columns:
/// readers parse only what they need (the history passes most payloads
/// through) and borrow the stored bytes instead of copying them.
pub async fn read_stream_page(
    client: &impl GenericClient,
    stream_id: Uuid,
    after: i32,
    limit: Option<i64>,
) -> Result<StreamPage, StoreError> {
    let statement = client
        .prepare_cached(
            // `LIMIT NULL` is no limit.
            "SELECT recorded_at, stored, hash, version, event_id, event_type, schema_version FROM events
             WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT $3",
        )
        .await?;
    Ok(StreamPage(
        client.query(&statement, &[&stream_id, &after, &limit]).await?,
    ))
}

/// The rows of [`read_stream_page`].
pub struct StreamPage(Vec<tokio_postgres::Row>);

/// An event as stored, borrowed from its row, with the columns that repeat
/// its envelope's identity (so readers need not parse those).
pub struct StoredEntry<'a> {
    pub version: u64,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    /// The canonical envelope.
    pub stored: &'a str,
    pub hash: [u8; 32],
}

impl StreamPage {
    pub fn entries(&self) -> Result<Vec<StoredEntry<'_>>, StoreError> {
        self.0
            .iter()
            .map(|row| {
                let version: i32 = row.try_get(3)?;
                let schema_version: i32 = row.try_get(6)?;
                let stored: &[u8] = row.try_get(1)?;
                Ok(StoredEntry {
                    recorded_at: row.try_get(0)?,
                    stored: std::str::from_utf8(stored)
                        .map_err(|e| StoreError::Corrupt(format!("a stored envelope is not UTF-8: {e}")))?,
                    hash: to_hash(row.try_get::<_, &[u8]>(2)?)?,
                    version: u64::try_from(version).map_err(|_| StoreError::Corrupt(format!("version {version}")))?,
                    event_id: row.try_get(4)?,
                    event_type: row.try_get(5)?,
                    schema_version: u32::try_from(schema_version)
                        .map_err(|_| StoreError::Corrupt(format!("schema version {schema_version}")))?,
                })
            })
            .collect()
    }
}

/// The latest event of a stream: its version and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestEvent {
    pub version: u64,
    pub event_type: String,
}

/// The latest event of each of `streams` that has any; one index probe
/// each, four streams to a statement.
///
/// Four at a time because the statement's cost must not depend on its
/// parameters: with `stream_id = ANY($1)` PostgreSQL estimated a generic
/// plan for an array of unknown length as dearer than a plan for the array
/// at hand, so it planned the statement afresh on every call, and a filing
/// (which asks for the SLA policy's and calendars' versions) paid 0.1 ms of
/// planning for a 10 µs probe (docs/performance.md, "Clocks on against
/// off"). A short chunk repeats its first stream.
pub async fn latest_events(
    client: &impl GenericClient,
    streams: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, LatestEvent>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT s.id, e.version, e.event_type
             FROM (VALUES ($1::uuid), ($2::uuid), ($3::uuid), ($4::uuid)) AS s (id)
             CROSS JOIN LATERAL (SELECT version, event_type FROM events
                                 WHERE stream_id = s.id ORDER BY version DESC LIMIT 1) AS e",
        )
        .await?;
    let mut latest = std::collections::HashMap::with_capacity(streams.len());
    for chunk in streams.chunks(4) {
        let four: [&Uuid; 4] = std::array::from_fn(|i| chunk.get(i).unwrap_or(&chunk[0]));
        for row in client.query(&statement, &[four[0], four[1], four[2], four[3]]).await? {
            let version: i32 = row.try_get(1)?;
            let version = u64::try_from(version).map_err(|_| StoreError::Corrupt(format!("version {version}")))?;
            latest.insert(
                row.try_get(0)?,
                LatestEvent {
                    version,
                    event_type: row.try_get(2)?,
                },
            );
        }
    }
    Ok(latest)
}

/// Every event of one stream in version order, parsed from the stored bytes.
pub async fn read_stream(client: &impl GenericClient, stream_id: Uuid) -> Result<Vec<StoredEvent>, StoreError> {
    read_stream_page(client, stream_id, 0, None)
        .await?
        .entries()?
        .into_iter()
        .map(|e| {
            let envelope: Envelope = serde_json::from_str(e.stored)
                .map_err(|err| StoreError::Corrupt(format!("stream {stream_id}: {err}")))?;
            Ok(StoredEvent {
                envelope,
                recorded_at: e.recorded_at,
                stored: e.stored.as_bytes().to_vec(),
                hash: e.hash,
            })
        })
        .collect()
}

/// The last event of a stream, what the next append chains from; `None`
/// for a stream with no events yet. One index probe, whatever the stream's
/// length.
pub async fn stream_head(client: &impl GenericClient, stream_id: Uuid) -> Result<Option<StreamHead>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT version, hash, recorded_at FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .await?;
    let Some(row) = client.query_opt(&statement, &[&stream_id]).await? else {
        return Ok(None);
    };
    let version: i32 = row.try_get(0)?;
    let hash: Vec<u8> = row.try_get(1)?;
    Ok(Some(StreamHead {
        version: u64::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("stream {stream_id}: version {version}")))?,
        hash: to_hash(&hash)?,
        recorded_at: row.try_get(2)?,
    }))
}

/// How many events the store holds.
pub async fn count_events(client: &impl tokio_postgres::GenericClient) -> Result<u64, StoreError> {
    let count: i64 = client.query_one("SELECT count(*) FROM events", &[]).await?.try_get(0)?;
    Ok(count.unsigned_abs())
}

/// The streams that hold an event of `event_type`.
pub async fn streams_with_event(
    client: &impl tokio_postgres::GenericClient,
    event_type: &str,
) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    let rows = client
        .query(
            "SELECT DISTINCT stream_id FROM events WHERE event_type = $1",
            &[&event_type],
        )
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Rows fetched per round trip by [`for_each_row`].
const ROW_CHUNK: i32 = 2_000;

/// Runs a query of its caller's table (no parameters) through a cursor of
/// the caller's transaction and hands each row to `each`, a chunk at a
/// time: for dumps of tables that may not fit in memory. The SQL stays
/// with the module that owns the table.
pub async fn for_each_row<E: From<StoreError>>(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
    mut each: impl FnMut(&tokio_postgres::Row) -> Result<(), E>,
) -> Result<(), E> {
    let portal = tx.bind(sql, &[]).await.map_err(StoreError::from)?;
    loop {
        let rows = tx.query_portal(&portal, ROW_CHUNK).await.map_err(StoreError::from)?;
        for row in &rows {
            each(row)?;
        }
        if rows.len() < ROW_CHUNK as usize {
            return Ok(());
        }
    }
}

/// How a transaction holds an advisory lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Shared with other shared holders; waits for an exclusive one.
    Shared,
    /// Alone.
    Exclusive,
}

/// Takes the advisory lock `key` (PostgreSQL's one-bigint key space) until
/// the caller's transaction ends: for orderings that no row lock expresses,
/// such as scheduling against a freeze declared meanwhile.
pub async fn lock_for_transaction(client: &impl GenericClient, key: i64, mode: LockMode) -> Result<(), StoreError> {
    let sql = match mode {
        LockMode::Exclusive => "SELECT pg_advisory_xact_lock($1)",
        LockMode::Shared => "SELECT pg_advisory_xact_lock_shared($1)",
    };
    let statement = client.prepare_cached(sql).await?;
    client.execute(&statement, &[&key]).await?;
    Ok(())
}

/// Recomputes the chain of one stream from its stored bytes. Returns the
/// first version whose stored hash no longer matches, if any.
pub fn first_broken_link(events: &[StoredEvent]) -> Option<u64> {
    let mut chain = verify::StreamChain::default();
    for e in events {
        if chain.follow(e.envelope.version, &e.stored, &e.hash).is_err() {
            return Some(chain.version() + 1);
        }
    }
    None
}

pub(crate) fn to_hash(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("hash of {} bytes", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata() -> Metadata {
        Metadata {
            actor: "iss|a".into(),
            roles: vec!["agent".into()],
            request_id: "r".into(),
            client_request_id: None,
            correlation_id: "r".into(),
            causation_id: None,
            idempotency_key: None,
        }
    }

    fn event(n: i64) -> NewEvent {
        NewEvent {
            event_type: "test.happened",
            schema_version: 1,
            payload: json!({ "n": n }),
        }
    }

    #[test]
    fn sealing_continues_versions_and_the_chain_from_the_head() {
        let now = Utc::now();
        let first = seal(Uuid::nil(), None, vec![event(1), event(2)], &metadata(), now).expect("seal");
        assert_eq!(first.iter().map(|e| e.envelope.version).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(first_broken_link(&first), None);

        let head = StreamHead {
            version: 2,
            hash: first[1].hash,
            recorded_at: first[1].recorded_at,
        };
        let next = seal(Uuid::nil(), Some(&head), vec![event(3)], &metadata(), now).expect("seal");
        assert_eq!(next[0].envelope.version, 3);
        assert_eq!(next[0].hash, chain_hash(&first[1].hash, &next[0].stored));
    }

    #[test]
    fn recorded_at_never_goes_back_within_a_stream() {
        let later = Utc::now() + chrono::Duration::seconds(30);
        let head = StreamHead {
            version: 1,
            hash: GENESIS_HASH,
            recorded_at: envelope::to_micros(later),
        };
        let sealed = seal(Uuid::nil(), Some(&head), vec![event(1)], &metadata(), Utc::now()).expect("seal");
        assert_eq!(sealed[0].recorded_at, head.recorded_at);
    }

    #[test]
    fn the_cause_of_pipelined_failures_is_not_the_aborted_transaction() {
        let outcomes = || {
            [
                Err(StoreError::TransactionAborted),
                Ok(()),
                Err(StoreError::IdempotencyRace),
                Err(StoreError::TransactionAborted),
            ]
        };
        assert!(matches!(first_cause(outcomes()), Err(StoreError::IdempotencyRace)));
        assert!(matches!(
            first_cause(outcomes().into_iter().rev()),
            Err(StoreError::IdempotencyRace)
        ));
        assert!(matches!(
            first_cause([Ok(()), Err(StoreError::TransactionAborted)]),
            Err(StoreError::TransactionAborted)
        ));
        assert!(first_cause([Ok(()), Ok(())]).is_ok());
    }

    #[test]
    fn a_changed_byte_breaks_the_chain_at_that_version() {
        let mut events = seal(
            Uuid::nil(),
            None,
            vec![event(1), event(2), event(3)],
            &metadata(),
            Utc::now(),
        )
        .expect("seal");
        events[1].stored.push(b' ');
        assert_eq!(first_broken_link(&events), Some(2));
    }
}
