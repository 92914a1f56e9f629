//! Verification: recompute every stream's hash chain from the stored bytes
//! (never from a re-serialisation) and report the first place it breaks.

use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Client;
use uuid::Uuid;

use super::envelope::{Envelope, GENESIS_HASH, chain_hash};
use super::{StoreError, to_hash};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every chain recomputes.
    Intact { streams: u64, events: u64 },
    /// The first event whose stored bytes, hash or position in its stream
    /// no longer match.
    Broken { stream: Uuid, version: i64, reason: String },
}

/// Reads the whole log in (stream, version) order and checks, per stream:
/// versions run 1, 2, 3… without gaps, each hash is SHA-256(previous ‖
/// stored bytes), and the stored envelope names the row's stream and version.
pub async fn verify_streams(client: &Client) -> Result<Verdict, StoreError> {
    let rows = client
        .query_raw(
            "SELECT stream_id, version, stored, hash FROM events ORDER BY stream_id, version",
            std::iter::empty::<i32>(),
        )
        .await?;
    pin_mut!(rows);
    let (mut streams, mut events) = (0u64, 0u64);
    let mut current: Option<Uuid> = None;
    let (mut expected_version, mut previous) = (1i64, GENESIS_HASH);
    while let Some(row) = rows.try_next().await? {
        let stream: Uuid = row.try_get(0)?;
        let version: i32 = row.try_get(1)?;
        let version = i64::from(version);
        let stored: Vec<u8> = row.try_get(2)?;
        let hash = to_hash(&row.try_get::<_, Vec<u8>>(3)?)?;
        if current != Some(stream) {
            current = Some(stream);
            streams += 1;
            expected_version = 1;
            previous = GENESIS_HASH;
        }
        let broken = |reason: String| Verdict::Broken {
            stream,
            version,
            reason,
        };
        if version != expected_version {
            return Ok(broken(format!(
                "expected version {expected_version}: an event is missing"
            )));
        }
        if chain_hash(&previous, &stored) != hash {
            return Ok(broken("the stored bytes or the hash were altered".into()));
        }
        match serde_json::from_slice::<Envelope>(&stored) {
            Ok(e) if e.stream_id == stream && i64::try_from(e.version).ok() == Some(version) => {}
            Ok(_) => return Ok(broken("the envelope names another stream or version".into())),
            Err(e) => return Ok(broken(format!("the stored envelope does not parse: {e}"))),
        }
        previous = hash;
        expected_version += 1;
        events += 1;
    }
    Ok(Verdict::Intact { streams, events })
}

/// What the global log verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogVerdict {
    Intact {
        head_position: i64,
        head_hash: [u8; 32],
        /// Events committed but not yet sequenced.
        queued: i64,
    },
    Broken {
        position: i64,
        stream: Option<Uuid>,
        version: Option<i64>,
        reason: String,
    },
}

/// Recomputes the global chain in position order: positions run 1, 2, 3…,
/// each global hash is SHA-256(previous ‖ the event's hash), every stream
/// appears in version order without skipping, the head row matches the last
/// position, and every event is either positioned or still queued.
pub async fn verify_log(client: &Client) -> Result<LogVerdict, StoreError> {
    use std::collections::HashMap;

    use super::sequencer::global_hash;

    let rows = client
        .query_raw(
            "SELECT l.position, l.global_hash, e.hash, e.stream_id, e.version
             FROM event_log l LEFT JOIN events e ON e.seq_id = l.seq_id
             ORDER BY l.position",
            std::iter::empty::<i32>(),
        )
        .await?;
    pin_mut!(rows);
    let mut previous = GENESIS_HASH;
    let mut expected = 1i64;
    let mut versions: HashMap<Uuid, i64> = HashMap::new();
    while let Some(row) = rows.try_next().await? {
        let position: i64 = row.try_get(0)?;
        let stored_global = to_hash(&row.try_get::<_, Vec<u8>>(1)?)?;
        let event_hash: Option<Vec<u8>> = row.try_get(2)?;
        let stream: Option<Uuid> = row.try_get(3)?;
        let version: Option<i32> = row.try_get(4)?;
        let version = version.map(i64::from);
        let broken = |reason: &str| LogVerdict::Broken {
            position,
            stream,
            version,
            reason: reason.to_owned(),
        };
        if position != expected {
            return Ok(LogVerdict::Broken {
                position: expected,
                stream: None,
                version: None,
                reason: format!("position {expected} is missing (next is {position})"),
            });
        }
        let (Some(event_hash), Some(stream_id), Some(version_no)) = (event_hash, stream, version) else {
            return Ok(broken("the event at this position was removed"));
        };
        let next = global_hash(&previous, &to_hash(&event_hash)?);
        if next != stored_global {
            return Ok(broken(
                "the global chain does not recompute: an event or the log was altered",
            ));
        }
        let seen = versions.entry(stream_id).or_insert(0);
        if version_no != *seen + 1 {
            return Ok(broken("the stream's events are out of order in the global log"));
        }
        *seen = version_no;
        previous = next;
        expected += 1;
    }
    let last = expected - 1;
    let row = client
        .query_one(
            "SELECT h.position, h.hash,
                    (SELECT count(*) FROM event_queue),
                    (SELECT count(*) FROM events),
                    (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq_id = e.seq_id)
                                                     AND NOT EXISTS (SELECT 1 FROM event_queue q WHERE q.seq_id = e.seq_id))
             FROM event_log_head h WHERE h.id",
            &[],
        )
        .await?;
    let head_position: i64 = row.try_get(0)?;
    let head_hash = to_hash(&row.try_get::<_, Vec<u8>>(1)?)?;
    let queued: i64 = row.try_get(2)?;
    let unaccounted: i64 = row.try_get(4)?;
    if head_position != last || head_hash != previous {
        return Ok(LogVerdict::Broken {
            position: head_position,
            stream: None,
            version: None,
            reason: format!("the head names position {head_position} but the log ends at {last}"),
        });
    }
    if unaccounted > 0 {
        return Ok(LogVerdict::Broken {
            position: last + 1,
            stream: None,
            version: None,
            reason: format!("{unaccounted} event(s) are neither in the global log nor queued for it"),
        });
    }
    Ok(LogVerdict::Intact {
        head_position,
        head_hash,
        queued,
    })
}
