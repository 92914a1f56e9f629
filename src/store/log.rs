//! Reading the global log: the only code besides the sequencer that knows
//! the SQL of `event_log` and `event_log_head`. Readers follow the log by
//! position; a position is assigned only to committed events, contiguously,
//! so a reader that has seen position p has seen everything up to p.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::GenericClient;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, NoTls};
use uuid::Uuid;

use super::envelope::Envelope;
use super::sequencer::CHANNEL;
use super::{StoreError, StoredEvent, to_hash};

/// An event at its place in the global log.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub position: i64,
    pub global_hash: [u8; 32],
    pub event: StoredEvent,
}

fn stored(recorded_at: chrono::DateTime<chrono::Utc>, bytes: Vec<u8>, hash: &[u8]) -> Result<StoredEvent, StoreError> {
    let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(StoredEvent {
        envelope,
        recorded_at,
        stored: bytes,
        hash: to_hash(hash)?,
    })
}

/// Up to `limit` events after `after`, in position order.
pub async fn read_after(client: &impl GenericClient, after: i64, limit: i64) -> Result<Vec<LoggedEvent>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT l.position, l.global_hash, e.recorded_at, e.stored, e.hash
             FROM event_log l JOIN events e ON e.seq_id = l.seq_id
             WHERE l.position > $1 ORDER BY l.position LIMIT $2",
        )
        .await?;
    let rows = client.query(&statement, &[&after, &limit]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let position: i64 = row.try_get(0)?;
        // Positions are contiguous by construction; a gap is a bug or tampering.
        if position != after + 1 + i as i64 {
            return Err(StoreError::Corrupt(format!(
                "the global log has a gap before position {position}"
            )));
        }
        out.push(LoggedEvent {
            position,
            global_hash: to_hash(&row.try_get::<_, Vec<u8>>(1)?)?,
            event: stored(row.try_get(2)?, row.try_get(3)?, &row.try_get::<_, Vec<u8>>(4)?)?,
        });
    }
    Ok(out)
}

/// The head of the global log: its last position and global hash.
pub async fn head(client: &tokio_postgres::Client) -> Result<(i64, [u8; 32]), StoreError> {
    let row = client
        .query_one("SELECT position, hash FROM event_log_head WHERE id", &[])
        .await?;
    Ok((row.try_get(0)?, to_hash(&row.try_get::<_, Vec<u8>>(1)?)?))
}

/// The global hash at one position, if the log reaches it.
pub async fn hash_at(client: &tokio_postgres::Client, position: i64) -> Result<Option<[u8; 32]>, StoreError> {
    if position == 0 {
        return Ok(Some(super::GENESIS_HASH)); // every log reaches position 0: 32 zero bytes
    }
    let row = client
        .query_opt("SELECT global_hash FROM event_log WHERE position = $1", &[&position])
        .await?;
    row.map(|r| to_hash(&r.try_get::<_, Vec<u8>>(0)?)).transpose()
}

/// How far the sequencer is behind: queued events, the age in seconds of the
/// oldest of them, and the head position.
pub async fn lag(client: &impl GenericClient) -> Result<(i64, f64, i64), StoreError> {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM queued_events),
                    coalesce(extract(epoch FROM clock_timestamp() - (
                        SELECT min(e.recorded_at) FROM queued_events q JOIN events e ON e.seq_id = q.seq_id
                    ))::float8, 0),
                    (SELECT position FROM event_log_head WHERE id)",
            &[],
        )
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// Every event of a stream with its global position (`None` while it waits
/// for the sequencer), in version order.
pub async fn stream_with_positions(
    client: &impl GenericClient,
    stream_id: Uuid,
) -> Result<Vec<(StoredEvent, Option<i64>)>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT e.recorded_at, e.stored, e.hash, l.position
             FROM events e LEFT JOIN event_log l ON l.seq_id = e.seq_id
             WHERE e.stream_id = $1 ORDER BY e.version",
        )
        .await?;
    let rows = client.query(&statement, &[&stream_id]).await?;
    rows.iter()
        .map(|row| {
            Ok((
                stored(row.try_get(0)?, row.try_get(1)?, &row.try_get::<_, Vec<u8>>(2)?)?,
                row.try_get(3)?,
            ))
        })
        .collect()
}

/// Keeps `head` at the newest position: LISTENs for the sequencer's
/// once-per-batch notification (whichever instance leads), and re-reads the
/// head every second in case a notification was missed (a reconnect, say).
pub fn watch_head(config: tokio_postgres::Config, head: Arc<watch::Sender<i64>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = follow(&config, &head).await {
                tracing::debug!(error = %e, "log watcher reconnecting");
            }
            if head.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

async fn follow(config: &tokio_postgres::Config, head: &watch::Sender<i64>) -> Result<(), StoreError> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (notified, mut notifications) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if let Ok(position) = n.payload().parse::<i64>() {
                        let _ = notified.send(position);
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    let advance = |position: i64| {
        head.send_if_modified(|current| {
            let newer = position > *current;
            if newer {
                *current = position;
            }
            newer
        });
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let result = loop {
        if head.is_closed() {
            break Ok(());
        }
        tokio::select! {
            Some(position) = notifications.recv() => advance(position),
            _ = tick.tick() => match client.query_one("SELECT position FROM event_log_head WHERE id", &[]).await {
                Ok(row) => advance(row.try_get(0)?),
                Err(e) => break Err(e.into()),
            },
        }
    };
    driver.abort();
    result
}
