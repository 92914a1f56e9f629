//! The log as a backup holds it: dumping `events`, `event_log` and
//! `event_queue` in global order, and loading them back into an empty store
//! together with the head of the global log.
//!
//! A dump is in global order: the sequenced events by position, then those
//! still queued for the sequencer in the order they were appended (`seq_id`;
//! within a stream, that is version order). Loading writes each event back
//! at its position with its global hash, or queues it again, so a restored
//! store's sequencer carries on where the original's stopped.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::{EventColumns, INSERT_EVENTS_RETURNING_IDS, StoreError, StoredEvent, for_each_row, to_hash};

/// An event's place in the global log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub position: i64,
    pub global_hash: [u8; 32],
    pub sequenced_at: DateTime<Utc>,
}

/// An event as dumped: its stored bytes (unparsed: a dump copies them, it
/// does not read them) and chain hash, and its place in the global log once
/// the sequencer has given it one.
#[derive(Debug, Clone)]
pub struct DumpedEvent {
    pub stored: Vec<u8>,
    pub hash: [u8; 32],
    pub logged: Option<LogEntry>,
}

/// An event to load back, checked by the caller, with its place in the
/// global log if it had one.
#[derive(Debug, Clone)]
pub struct RestoredEvent {
    pub event: StoredEvent,
    pub logged: Option<LogEntry>,
}

/// Hands every event to `sink` in global order, from the snapshot of the
/// caller's transaction, reading the log in chunks.
pub async fn dump_events<E: From<StoreError>>(
    tx: &Transaction<'_>,
    mut sink: impl FnMut(DumpedEvent) -> Result<(), E>,
) -> Result<(), E> {
    // A left join: no foreign key holds an entry to its event (migration
    // V18), and an entry that names none must stop the export, not vanish
    // from it.
    let sequenced = "SELECT l.position, l.global_hash, l.sequenced_at, e.hash, e.stored
                     FROM event_log l LEFT JOIN events e ON e.seq_id = l.seq_id ORDER BY l.position";
    let queued = "SELECT NULL::bigint, NULL::bytea, NULL::timestamptz, e.hash, e.stored
                  FROM queued_events q JOIN events e ON e.seq_id = q.seq_id ORDER BY e.seq_id";
    for sql in [sequenced, queued] {
        for_each_row(tx, sql, |row| sink(dumped(row)?)).await?;
    }
    Ok(())
}

fn dumped(row: &tokio_postgres::Row) -> Result<DumpedEvent, StoreError> {
    let logged = match (row.try_get(0)?, row.try_get::<_, Option<&[u8]>>(1)?, row.try_get(2)?) {
        (Some(position), Some(global), Some(sequenced_at)) => Some(LogEntry {
            position,
            global_hash: to_hash(global)?,
            sequenced_at,
        }),
        (None, None, None) => None,
        // The columns are NOT NULL: only the queries above could break this.
        _ => return Err(StoreError::Corrupt("a log entry without its hash or time".into())),
    };
    let (Some(hash), Some(stored)) = (row.try_get::<_, Option<&[u8]>>(3)?, row.try_get(4)?) else {
        let at = logged
            .as_ref()
            .map_or_else(|| "a queue entry".to_owned(), |l| format!("position {}", l.position));
        return Err(StoreError::Corrupt(format!("the log's {at} names no event")));
    };
    Ok(DumpedEvent {
        hash: to_hash(hash)?,
        stored,
        logged,
    })
}

/// Inserts events into an empty store, each at its place in the global log
/// or queued for the sequencer. Call in dump order; finish with
/// [`load_log_head`].
pub async fn load_events(tx: &Transaction<'_>, events: &[RestoredEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let columns = EventColumns::of(events.iter().map(|e| &e.event))?;
    let rows = tx.query(INSERT_EVENTS_RETURNING_IDS, &columns.params()).await?;
    let seq_ids: HashMap<Uuid, i64> = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()?;
    let (mut positions, mut log_seq, mut globals, mut ats, mut queued) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for e in events {
        let id = e.event.envelope.event_id;
        let seq = *seq_ids
            .get(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("event {id} was not inserted")))?;
        match &e.logged {
            Some(entry) => {
                positions.push(entry.position);
                log_seq.push(seq);
                globals.push(&entry.global_hash[..]);
                ats.push(entry.sequenced_at);
            }
            None => queued.push(seq),
        }
    }
    tx.execute(
        "INSERT INTO event_log (position, seq_id, global_hash, sequenced_at)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::timestamptz[])",
        &[&positions, &log_seq, &globals, &ats],
    )
    .await?;
    tx.execute(
        "INSERT INTO event_queue (seq_id) SELECT * FROM unnest($1::bigint[])",
        &[&queued],
    )
    .await?;
    Ok(())
}

/// Sets the head of the global log after [`load_events`]: the last position
/// loaded and its global hash.
pub async fn load_log_head(tx: &Transaction<'_>, position: i64, hash: &[u8; 32]) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE event_log_head SET position = $1, hash = $2",
        &[&position, &&hash[..]],
    )
    .await?;
    Ok(())
}
