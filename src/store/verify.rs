//! Verification: recompute every stream's hash chain from the stored bytes
//! (never from a re-serialisation) and report the first place it breaks.
//!
//! The two chains are followed one event at a time by [`StreamChain`] and
//! [`GlobalChain`]; `opsledger verify` runs them over the database and an
//! import over the backup it reads, so both hold a log to the same rules.

use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Client;
use uuid::Uuid;

use super::envelope::{Envelope, GENESIS_HASH, chain_hash};
use super::sequencer::global_hash;
use super::{StoreError, to_hash};

/// How an event fails to continue a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainBreak {
    /// The event is not the next one: its version (in a stream) or position
    /// (in the global log) is not one after the last.
    Gap { expected: i64, found: i64 },
    /// Its hash does not recompute from the chain before it.
    Altered,
}

/// A stream's hash chain, followed one event at a time from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamChain {
    version: u64,
    hash: [u8; 32],
}

impl Default for StreamChain {
    fn default() -> StreamChain {
        StreamChain {
            version: 0,
            hash: GENESIS_HASH,
        }
    }
}

impl StreamChain {
    /// The version of the last event followed (0 before the first).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Follows the event at `version`: it must be the next version, and its
    /// `hash` must be SHA-256(previous hash ‖ `stored`). The chain stays
    /// where it was when the event does not follow.
    pub fn follow(&mut self, version: u64, stored: &[u8], hash: &[u8; 32]) -> Result<(), ChainBreak> {
        let expected = self.version + 1;
        if version != expected {
            return Err(ChainBreak::Gap {
                expected: i64::try_from(expected).unwrap_or(i64::MAX),
                found: i64::try_from(version).unwrap_or(i64::MAX),
            });
        }
        if chain_hash(&self.hash, stored) != *hash {
            return Err(ChainBreak::Altered);
        }
        *self = StreamChain { version, hash: *hash };
        Ok(())
    }
}

/// The global hash chain, followed one position at a time from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalChain {
    position: i64,
    hash: [u8; 32],
}

impl Default for GlobalChain {
    fn default() -> GlobalChain {
        GlobalChain {
            position: 0,
            hash: GENESIS_HASH,
        }
    }
}

impl GlobalChain {
    /// The last position followed and its global hash (0 and the genesis
    /// hash before the first).
    pub fn head(&self) -> (i64, [u8; 32]) {
        (self.position, self.hash)
    }

    /// The position the next event must have.
    pub fn next_position(&self) -> i64 {
        self.position + 1
    }

    /// Follows the event with `event_hash` at `position`: it must be the
    /// next position, and `global` must be SHA-256(previous global hash ‖
    /// `event_hash`). The chain stays where it was when it does not follow.
    pub fn follow(&mut self, position: i64, event_hash: &[u8; 32], global: &[u8; 32]) -> Result<(), ChainBreak> {
        if position != self.next_position() {
            return Err(ChainBreak::Gap {
                expected: self.next_position(),
                found: position,
            });
        }
        if global_hash(&self.hash, event_hash) != *global {
            return Err(ChainBreak::Altered);
        }
        *self = GlobalChain {
            position,
            hash: *global,
        };
        Ok(())
    }
}

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
    let mut chain = StreamChain::default();
    while let Some(row) = rows.try_next().await? {
        let stream: Uuid = row.try_get(0)?;
        let version: i32 = row.try_get(1)?;
        let version = i64::from(version);
        let stored: Vec<u8> = row.try_get(2)?;
        let hash = to_hash(&row.try_get::<_, Vec<u8>>(3)?)?;
        if current != Some(stream) {
            current = Some(stream);
            streams += 1;
            chain = StreamChain::default();
        }
        let broken = |reason: String| Verdict::Broken {
            stream,
            version,
            reason,
        };
        // A version below 1 cannot be stored (a CHECK constraint); were it
        // there, it would still be no next version.
        match chain.follow(u64::try_from(version).unwrap_or(0), &stored, &hash) {
            Ok(()) => {}
            Err(ChainBreak::Gap { expected, .. }) => {
                return Ok(broken(format!("expected version {expected}: an event is missing")));
            }
            Err(ChainBreak::Altered) => return Ok(broken("the stored bytes or the hash were altered".into())),
        }
        match serde_json::from_slice::<Envelope>(&stored) {
            Ok(e) if e.stream_id == stream && i64::try_from(e.version).ok() == Some(version) => {}
            Ok(_) => return Ok(broken("the envelope names another stream or version".into())),
            Err(e) => return Ok(broken(format!("the stored envelope does not parse: {e}"))),
        }
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

    let rows = client
        .query_raw(
            "SELECT l.position, l.global_hash, e.hash, e.stream_id, e.version
             FROM event_log l LEFT JOIN events e ON e.seq_id = l.seq_id
             ORDER BY l.position",
            std::iter::empty::<i32>(),
        )
        .await?;
    pin_mut!(rows);
    let mut chain = GlobalChain::default();
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
        // A missing position is reported before what is at the next one.
        let expected = chain.next_position();
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
        if chain.follow(position, &to_hash(&event_hash)?, &stored_global).is_err() {
            return Ok(broken(
                "the global chain does not recompute: an event or the log was altered",
            ));
        }
        let seen = versions.entry(stream_id).or_insert(0);
        if version_no != *seen + 1 {
            return Ok(broken("the stream's events are out of order in the global log"));
        }
        *seen = version_no;
    }
    let (last, previous) = chain.head();
    let row = client
        .query_one(
            "SELECT h.position, h.hash,
                    (SELECT count(*) FROM queued_events),
                    (SELECT count(*) FROM events),
                    (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq_id = e.seq_id)
                                                     AND NOT EXISTS (SELECT 1 FROM queued_events q WHERE q.seq_id = e.seq_id))
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

/// The result of recomputing every chain.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// True when every per-stream chain and the global chain recompute.
    pub ok: bool,
    /// How many event streams were checked, each from its first event; left
    /// out when a chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streams: Option<u64>,
    /// How many events were checked, over all streams; left out when a
    /// chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// The last position of the global log (0 when it is empty); left out
    /// when a chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_position: Option<i64>,
    /// The global chain hash at `head_position`, as 64 lowercase hex
    /// digits; left out when a chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// Committed events still waiting for a position in the global log;
    /// left out when a chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<i64>,
    /// The global position where the global log first stops matching; left
    /// out when it matches, or when a stream's own chain broke first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// The id (UUID) of the event stream where the data first stops
    /// matching; left out when everything matches, or when the break
    /// in the global log cannot be tied to a stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<Uuid>,
    /// The version in `stream` where the data first stops matching; left
    /// out whenever `stream` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// What does not match there, in words, e.g. a gap in the versions or
    /// a hash that does not recompute; left out when `ok` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The full verification, as `opsledger verify` runs it.
pub async fn verify_all(client: &tokio_postgres::Client) -> Result<VerifyReport, StoreError> {
    let empty = VerifyReport {
        ok: false,
        streams: None,
        events: None,
        head_position: None,
        head_hash: None,
        queued: None,
        position: None,
        stream: None,
        version: None,
        reason: None,
    };
    let (streams, events) = match verify_streams(client).await? {
        Verdict::Intact { streams, events } => (streams, events),
        Verdict::Broken {
            stream,
            version,
            reason,
        } => {
            return Ok(VerifyReport {
                stream: Some(stream),
                version: Some(version),
                reason: Some(reason),
                ..empty
            });
        }
    };
    match verify_log(client).await? {
        LogVerdict::Intact {
            head_position,
            head_hash,
            queued,
        } => Ok(VerifyReport {
            ok: true,
            streams: Some(streams),
            events: Some(events),
            head_position: Some(head_position),
            head_hash: Some(hex::encode(head_hash)),
            queued: Some(queued),
            ..empty
        }),
        LogVerdict::Broken {
            position,
            stream,
            version,
            reason,
        } => Ok(VerifyReport {
            position: Some(position),
            stream,
            version,
            reason: Some(reason),
            ..empty
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_chain_follows_versions_in_order_and_refuses_altered_bytes() {
        let first = chain_hash(&GENESIS_HASH, b"one");
        let second = chain_hash(&first, b"two");
        let mut chain = StreamChain::default();
        assert_eq!(
            chain.follow(2, b"two", &second),
            Err(ChainBreak::Gap { expected: 1, found: 2 })
        );
        assert_eq!(chain.follow(1, b"one!", &first), Err(ChainBreak::Altered));
        assert_eq!(chain.version(), 0, "a refused event leaves the chain where it was");
        assert_eq!(chain.follow(1, b"one", &first), Ok(()));
        assert_eq!(chain.follow(2, b"two", &second), Ok(()));
        assert_eq!(chain.version(), 2);
    }

    #[test]
    fn the_global_chain_follows_positions_in_order_and_refuses_a_wrong_hash() {
        let (a, b) = ([1; 32], [2; 32]);
        let first = global_hash(&GENESIS_HASH, &a);
        let second = global_hash(&first, &b);
        let mut chain = GlobalChain::default();
        assert_eq!(chain.head(), (0, GENESIS_HASH));
        assert_eq!(
            chain.follow(2, &b, &second),
            Err(ChainBreak::Gap { expected: 1, found: 2 })
        );
        assert_eq!(chain.follow(1, &b, &first), Err(ChainBreak::Altered));
        assert_eq!(chain.follow(1, &a, &first), Ok(()));
        assert_eq!(chain.follow(2, &b, &second), Ok(()));
        assert_eq!(chain.head(), (2, second));
    }
}
