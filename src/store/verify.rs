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
