//! Reading many streams in (stream, version) order, for folds of the whole
//! log (the rebuild, a restore's views).
//!
//! A scan pages through the `events_stream_version_key` index with a keyset
//! (`(stream_id, version) > last read`), a chunk per statement, so that
//! nothing holds the whole log in memory and PostgreSQL never sorts it: a
//! cursor over `ORDER BY stream_id, version` is planned for the whole result
//! and, on a large store, began with an external sort of every event
//! (42 s of the first rebuild timed at 10 million events).
//!
//! A scan can be limited to a range of stream ids, so that several
//! connections sharing one snapshot fold disjoint parts of the log at once;
//! [`split`] draws ranges of about as many events each.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::{StoreError, to_hash};

/// Events a scan fetches per statement.
const CHUNK: i64 = 5_000;
/// Streams of an [`Streams::Only`] scan read per statement.
const ONLY_CHUNK: usize = 200;
/// Pages of `events` that [`split`] samples.
const SAMPLE_PAGES: i64 = 1_000;

/// The streams a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streams {
    /// Every stream whose id is at least `from` (when given) and below `to`
    /// (when given).
    Range { from: Option<Uuid>, to: Option<Uuid> },
    /// These streams only.
    Only(Vec<Uuid>),
}

impl Streams {
    /// Every stream.
    pub const ALL: Streams = Streams::Range { from: None, to: None };
}

/// An event as a fold reads it: what `evolve` and its `EventMeta` need, and
/// nothing else of the envelope (its ids, its copy of the time, the rest of
/// the metadata are skipped while parsing, not built and dropped). The
/// payload stays JSON text, which the event decodes from directly
/// (`StoredPayload`): no tree is built for it.
#[derive(Debug, Clone)]
pub struct ScannedEvent {
    pub stream_id: Uuid,
    pub version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub actor: String,
    pub payload: Box<RawValue>,
    pub recorded_at: DateTime<Utc>,
    pub hash: [u8; 32],
}

/// The members of a stored envelope that a fold uses.
#[derive(Deserialize)]
struct FoldEnvelope<'a> {
    stream_id: Uuid,
    version: u64,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    schema_version: u32,
    #[serde(borrow)]
    metadata: FoldMetadata<'a>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

#[derive(Deserialize)]
struct FoldMetadata<'a> {
    #[serde(borrow)]
    actor: Cow<'a, str>,
}

/// A read of [`Streams`] in (stream, version) order, a chunk at a time.
pub struct EventScan {
    streams: Streams,
    /// The last event read: where the next chunk starts.
    after: Option<(Uuid, i32)>,
    /// For [`Streams::Only`]: how many of the streams were read.
    done_streams: usize,
    done: bool,
}

impl EventScan {
    pub fn new(streams: Streams) -> EventScan {
        EventScan {
            streams,
            after: None,
            done_streams: 0,
            done: false,
        }
    }

    /// The next chunk of events, in (stream, version) order; `None` once
    /// every one was read. Each call is one statement of `client`, so a
    /// scan in a transaction reads that transaction's snapshot.
    pub async fn next_chunk(&mut self, client: &impl GenericClient) -> Result<Option<Vec<ScannedEvent>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        const COLUMNS: &str = "SELECT stream_id, version, recorded_at, hash, stored FROM events";
        let rows = match &self.streams {
            Streams::Only(ids) => {
                let chunk = &ids[self.done_streams..ids.len().min(self.done_streams + ONLY_CHUNK)];
                self.done_streams += chunk.len();
                self.done = self.done_streams >= ids.len();
                let sql = format!("{COLUMNS} WHERE stream_id = ANY($1) ORDER BY stream_id, version");
                client.query(&sql, &[&chunk]).await?
            }
            Streams::Range { from, to } => {
                // Versions start at 1, so (from, 0) excludes nothing of `from`.
                let (stream, version) = self.after.unwrap_or((from.unwrap_or(Uuid::nil()), 0));
                let rows = match to {
                    Some(to) => {
                        let sql = format!(
                            "{COLUMNS} WHERE (stream_id, version) > ($1, $2) AND stream_id < $3
                             ORDER BY stream_id, version LIMIT $4"
                        );
                        client.query(&sql, &[&stream, &version, to, &CHUNK]).await?
                    }
                    None => {
                        let sql = format!(
                            "{COLUMNS} WHERE (stream_id, version) > ($1, $2) ORDER BY stream_id, version LIMIT $3"
                        );
                        client.query(&sql, &[&stream, &version, &CHUNK]).await?
                    }
                };
                self.done = rows.len() < CHUNK as usize;
                if let Some(last) = rows.last() {
                    self.after = Some((last.try_get(0)?, last.try_get(1)?));
                }
                rows
            }
        };
        rows.iter().map(scanned).collect::<Result<_, _>>().map(Some)
    }
}

fn scanned(row: &tokio_postgres::Row) -> Result<ScannedEvent, StoreError> {
    let stream: Uuid = row.try_get(0)?;
    let version: i32 = row.try_get(1)?;
    let stored: &[u8] = row.try_get(4)?;
    let envelope: FoldEnvelope =
        serde_json::from_slice(stored).map_err(|e| StoreError::Corrupt(format!("stream {stream}: {e}")))?;
    // The columns are copied from the envelope when the event is appended;
    // paging follows the columns and the fold the envelope, so they must agree.
    if envelope.stream_id != stream || u64::try_from(version).ok() != Some(envelope.version) {
        return Err(StoreError::Corrupt(format!(
            "stream {stream} version {version}: the stored envelope says stream {} version {}",
            envelope.stream_id, envelope.version
        )));
    }
    Ok(ScannedEvent {
        stream_id: envelope.stream_id,
        version: envelope.version,
        event_type: envelope.event_type.into_owned(),
        schema_version: envelope.schema_version,
        actor: envelope.metadata.actor.into_owned(),
        payload: envelope.payload.to_owned(),
        recorded_at: row.try_get(2)?,
        hash: to_hash(row.try_get(3)?)?,
    })
}

/// Splits the streams into at most `parts` ranges of about as many events
/// each, from a sample of `events` pages (`TABLESAMPLE SYSTEM`: a thousand
/// pages at most, read at random, so this costs milliseconds however large
/// the log). A stream is never split: ranges are of stream ids. Also
/// returns an estimate of how many events there are (exact when the
/// sample is the whole table), for progress reports.
pub async fn split(client: &impl GenericClient, parts: usize) -> Result<(Vec<Streams>, u64), StoreError> {
    let pages: i64 = client
        .query_one(
            "SELECT greatest(pg_relation_size('events') / current_setting('block_size')::bigint, 1)",
            &[],
        )
        .await?
        .try_get(0)?;
    let percent = (100.0 * SAMPLE_PAGES as f32 / pages as f32).min(100.0);
    let mut sample: Vec<Uuid> = client
        .query("SELECT stream_id FROM events TABLESAMPLE SYSTEM ($1)", &[&percent])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let estimate = (sample.len() as f64 * 100.0 / f64::from(percent)).round() as u64;
    sample.sort_unstable();
    let parts = parts.max(1);
    let mut bounds: Vec<Uuid> = (1..parts)
        .filter_map(|k| sample.get(k * sample.len() / parts).copied())
        .collect();
    bounds.dedup();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut from = None;
    for bound in bounds {
        // The first sampled id is no bound: nothing sorts below the nil id.
        if Some(bound) == from || bound == Uuid::nil() {
            continue;
        }
        ranges.push(Streams::Range { from, to: Some(bound) });
        from = Some(bound);
    }
    ranges.push(Streams::Range { from, to: None });
    Ok((ranges, estimate))
}
