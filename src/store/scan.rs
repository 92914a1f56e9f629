//! Reading many streams for folds of the whole log (the rebuild, a
//! restore's views), in one of two orders.
//!
//! [`EventScan`] reads in (stream, version) order: it pages through the
//! `events_stream_version_key` index with a keyset (`(stream_id, version) >
//! last read`), a chunk per statement, so that nothing holds the whole log
//! in memory and PostgreSQL never sorts it: a cursor over `ORDER BY
//! stream_id, version` is planned for the whole result and, on a large
//! store, began with an external sort of every event (42 s of the first
//! rebuild timed at 10 million events). Each event costs the database an
//! index entry and a heap fetch.
//!
//! [`in_storage_order`] reads every event as the table stores it, with one
//! `COPY ... TO STDOUT (FORMAT binary)`: each page once, in order, at the
//! speed of `COPY` itself. A stream's events come interleaved with other
//! streams', and (rarely: an aborted insert's space reused) not in version
//! order; the fold puts them back in order (`projections::rebuild`).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use tokio_postgres::GenericClient;
use tokio_postgres::binary_copy::{BinaryCopyOutRow, BinaryCopyOutStream};
use tokio_postgres::types::{FromSql, Type};
use uuid::Uuid;

use super::{StoreError, to_hash};
use crate::domain::{DomainEvent, StoredPayload};

/// Events a scan fetches per statement.
const CHUNK: i64 = 20_000;
/// Streams of an [`Streams::Only`] scan read per statement.
const ONLY_CHUNK: usize = 200;
/// Pages of `events` that [`estimate`] samples.
const SAMPLE_PAGES: i64 = 1_000;

/// The streams a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streams {
    /// Every stream.
    All,
    /// These streams only.
    Only(Vec<Uuid>),
}

/// An event as a fold reads it: its row, with the columns a fold pages
/// and dispatches by (stream, version, type, schema version, time, hash)
/// read out, and the stored envelope left as bytes until
/// [`ScannedEvent::decode`] parses it, once, straight into the event type
/// the fold wants.
///
/// The event type and schema version are columns, copied from the
/// envelope on append, so the payload's decoder is known before the
/// envelope is read: its payload is decoded where the parser meets it,
/// with nothing built for the rest of the envelope but the actor. Reading
/// the envelope into a borrowed payload first and decoding that text again
/// lexed every payload twice (a rebuild reads the whole log, and its
/// envelopes were a quarter of its client's time, docs/performance.md).
#[derive(Debug)]
pub struct ScannedEvent {
    row: Row,
    /// Read out of the row once: a fold asks for it several times.
    event_type: Box<str>,
    pub stream_id: Uuid,
    pub version: u64,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub hash: [u8; 32],
}

/// The row an event was read from: a statement's or a `COPY`'s.
enum Row {
    Query(tokio_postgres::Row),
    Copy(BinaryCopyOutRow),
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Row::Query(row) => row.fmt(f),
            Row::Copy(_) => f.write_str("a row of COPY"),
        }
    }
}

impl Row {
    fn try_get<'a, T: FromSql<'a>>(&'a self, index: usize) -> Result<T, tokio_postgres::Error> {
        match self {
            Row::Query(row) => row.try_get(index),
            Row::Copy(row) => row.try_get(index),
        }
    }
}

/// The columns a scan reads, in the order [`ScannedEvent`] takes them.
const COLUMN_LIST: &str = "stream_id, version, recorded_at, hash, event_type, schema_version, stored";
/// Their types, for a binary `COPY`.
const COLUMN_TYPES: [Type; 7] = [
    Type::UUID,
    Type::INT4,
    Type::TIMESTAMPTZ,
    Type::BYTEA,
    Type::TEXT,
    Type::INT4,
    Type::BYTEA,
];
const EVENT_TYPE: usize = 4;
const STORED: usize = 6;

/// A decoded event and who recorded it.
#[derive(Debug)]
pub struct Decoded<'a, E> {
    pub event: E,
    pub actor: Cow<'a, str>,
}

impl ScannedEvent {
    fn of(row: Row) -> Result<ScannedEvent, StoreError> {
        let version: i32 = row.try_get(1)?;
        let schema_version: i32 = row.try_get(5)?;
        let stream_id = row.try_get(0)?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("stream {stream_id}: {what}"));
        Ok(ScannedEvent {
            stream_id,
            version: u64::try_from(version).map_err(|_| corrupt("a negative version"))?,
            schema_version: u32::try_from(schema_version).map_err(|_| corrupt("a negative schema version"))?,
            recorded_at: row.try_get(2)?,
            hash: to_hash(row.try_get(3)?)?,
            event_type: row.try_get::<&str>(EVENT_TYPE)?.into(),
            row,
        })
    }

    /// The event's type, as its column holds it.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// Parses the stored envelope, decoding its payload into `E` in the
    /// same pass. The envelope must agree with the columns it was appended
    /// with (stream, version, type, schema version): paging and dispatch
    /// follow the columns, the fold the envelope.
    pub fn decode<E: DomainEvent>(&self) -> Result<Decoded<'_, E>, StoreError> {
        let stored: &[u8] = self.row.try_get(STORED)?;
        let seed = EnvelopeSeed::<E> {
            event_type: self.event_type(),
            schema_version: self.schema_version,
            decoded: PhantomData,
        };
        // Checked as UTF-8 once, whole: parsed from bytes, every string in
        // it would be checked on its own (a tenth of a rebuild's client).
        let stored = std::str::from_utf8(stored).map_err(|e| self.corrupt(&e.to_string()))?;
        let mut parser = serde_json::Deserializer::from_str(stored);
        let read = seed
            .deserialize(&mut parser)
            .and_then(|read| parser.end().map(|()| read))
            .map_err(|e| self.corrupt(&e.to_string()))?;
        let (event, actor) = match (read.event, read.actor) {
            (Some(event), Some(actor)) => (event, actor),
            _ => return Err(self.corrupt("the envelope lacks its payload or its actor")),
        };
        if read.stream_id != Some(self.stream_id)
            || read.version != Some(self.version)
            || read.event_type.as_deref() != Some(self.event_type())
            || read.schema_version != Some(self.schema_version)
        {
            return Err(self.corrupt(&format!(
                "the stored envelope says stream {:?} version {:?} type {:?} schema version {:?}",
                read.stream_id, read.version, read.event_type, read.schema_version
            )));
        }
        Ok(Decoded { event, actor })
    }

    fn corrupt(&self, what: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "stream {} version {} ({}): {what}",
            self.stream_id,
            self.version,
            self.event_type()
        ))
    }
}

/// The envelope's members, as its parse found them.
struct EnvelopeRead<'a, E> {
    event: Option<E>,
    actor: Option<Cow<'a, str>>,
    stream_id: Option<Uuid>,
    version: Option<u64>,
    event_type: Option<Cow<'a, str>>,
    schema_version: Option<u32>,
}

/// Parses an envelope whose payload decodes as `E` under the given type and
/// schema version (from the columns).
struct EnvelopeSeed<'c, E> {
    event_type: &'c str,
    schema_version: u32,
    decoded: PhantomData<E>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EnvelopeMember {
    StreamId,
    Version,
    #[serde(rename = "type")]
    Type,
    SchemaVersion,
    Metadata,
    Payload,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct FoldMetadata<'a> {
    #[serde(borrow)]
    actor: Cow<'a, str>,
}

impl<'de, E: DomainEvent> DeserializeSeed<'de> for EnvelopeSeed<'_, E> {
    type Value = EnvelopeRead<'de, E>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, E: DomainEvent> Visitor<'de> for EnvelopeSeed<'_, E> {
    type Value = EnvelopeRead<'de, E>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut read = EnvelopeRead {
            event: None,
            actor: None,
            stream_id: None,
            version: None,
            event_type: None,
            schema_version: None,
        };
        while let Some(member) = map.next_key::<EnvelopeMember>()? {
            match member {
                EnvelopeMember::Payload => {
                    read.event = Some(map.next_value_seed(PayloadSeed::<E> {
                        event_type: self.event_type,
                        schema_version: self.schema_version,
                        decoded: PhantomData,
                    })?)
                }
                EnvelopeMember::Metadata => read.actor = Some(map.next_value::<FoldMetadata>()?.actor),
                EnvelopeMember::StreamId => read.stream_id = Some(map.next_value()?),
                EnvelopeMember::Version => read.version = Some(map.next_value()?),
                EnvelopeMember::Type => read.event_type = Some(map.next_value()?),
                EnvelopeMember::SchemaVersion => read.schema_version = Some(map.next_value()?),
                EnvelopeMember::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(read)
    }
}

/// Decodes a payload with `E::from_stored`, from the parser itself.
struct PayloadSeed<'c, E> {
    event_type: &'c str,
    schema_version: u32,
    decoded: PhantomData<E>,
}

impl<'de, E: DomainEvent> DeserializeSeed<'de> for PayloadSeed<'_, E> {
    type Value = E;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<E, D::Error> {
        E::from_stored(self.event_type, self.schema_version, InParser(deserializer))
            .map_err(|corrupt| serde::de::Error::custom(corrupt.0))
    }
}

/// A payload still in the parser, decoded as it is read.
struct InParser<D>(D);

impl<'de, D: Deserializer<'de>> StoredPayload for InParser<D> {
    fn decode<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        T::deserialize(self.0).map_err(serde::de::Error::custom)
    }
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
        let rows = match &self.streams {
            Streams::Only(ids) => {
                let chunk = &ids[self.done_streams..ids.len().min(self.done_streams + ONLY_CHUNK)];
                self.done_streams += chunk.len();
                self.done = self.done_streams >= ids.len();
                let sql =
                    format!("SELECT {COLUMN_LIST} FROM events WHERE stream_id = ANY($1) ORDER BY stream_id, version");
                client.query(&sql, &[&chunk]).await?
            }
            Streams::All => {
                // Versions start at 1, so (nil, 0) excludes no stream.
                let (stream, version) = self.after.unwrap_or((Uuid::nil(), 0));
                let sql = format!(
                    "SELECT {COLUMN_LIST} FROM events WHERE (stream_id, version) > ($1, $2) ORDER BY stream_id, version LIMIT $3"
                );
                let rows = client.query(&sql, &[&stream, &version, &CHUNK]).await?;
                self.done = rows.len() < CHUNK as usize;
                if let Some(last) = rows.last() {
                    self.after = Some((last.try_get(0)?, last.try_get(1)?));
                }
                rows
            }
        };
        rows.into_iter()
            .map(|row| ScannedEvent::of(Row::Query(row)))
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// Every event of the snapshot of `client`'s transaction, as the table
/// stores them: one `COPY`, each page read once, in order. The events of a
/// stream come in version order but for the rare one written into space an
/// aborted insert left; the caller puts them back in order.
pub async fn in_storage_order(
    client: &tokio_postgres::Client,
) -> Result<impl Stream<Item = Result<ScannedEvent, StoreError>> + Send + 'static, StoreError> {
    let copy = client
        .copy_out(&format!(
            "COPY (SELECT {COLUMN_LIST} FROM events) TO STDOUT (FORMAT binary)"
        ))
        .await?;
    Ok(BinaryCopyOutStream::new(copy, &COLUMN_TYPES).map(|row| ScannedEvent::of(Row::Copy(row?))))
}

/// About how many events there are, from a sample of `events` pages
/// (`TABLESAMPLE SYSTEM`: a thousand pages at most, read at random, so this
/// costs milliseconds however large the log), for progress reports. Exact
/// when the sample is the whole table.
pub async fn estimate(client: &impl GenericClient) -> Result<u64, StoreError> {
    let pages: i64 = client
        .query_one(
            "SELECT greatest(pg_relation_size('events') / current_setting('block_size')::bigint, 1)",
            &[],
        )
        .await?
        .try_get(0)?;
    let percent = (100.0 * SAMPLE_PAGES as f32 / pages as f32).min(100.0);
    let sampled: i64 = client
        .query_one("SELECT count(*) FROM events TABLESAMPLE SYSTEM ($1)", &[&percent])
        .await?
        .try_get(0)?;
    Ok((sampled as f64 * 100.0 / f64::from(percent)).round() as u64)
}
