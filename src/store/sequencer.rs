//! The sequencer: gives every committed event a contiguous position in the
//! global log and extends the global hash chain.
//!
//! One sequencer is active per database, whichever instance holds a session
//! advisory lock on its dedicated connection. The others stand by and try
//! the lock every second, so when the holder's process or connection dies
//! another instance takes over within seconds. Correctness does not rest on
//! the lock alone: every batch locks the head row and `event_log` has
//! `PRIMARY KEY (position)` and `UNIQUE (seq_id)`, so even two sequencers
//! running at once could only serialise, never fork or duplicate the log.
//!
//! Appenders never NOTIFY (a notifying transaction takes a cluster-wide lock
//! at commit and would serialise every writer); the sequencer polls briefly
//! while idle and notifies readers once per batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{Notify, watch};
use tokio_postgres::{Client, NoTls, Statement};

use super::{StoreError, to_hash};

/// Key of the session advisory lock that elects the sequencer ("opsledgr").
pub const LEADER_LOCK: i64 = 0x6f70_736c_6564_6772;
/// The session that leads the sequencer in a database.
pub struct Leader {
    /// Its backend's process id.
    pub pid: i32,
    /// Its client's TCP port, by which tools and tests tell instances
    /// apart; `None` over a Unix socket.
    pub client_port: Option<u16>,
}

/// The session that holds [`LEADER_LOCK`] in the connected database, if an
/// instance leads.
pub async fn leader(client: &Client) -> Result<Option<Leader>, StoreError> {
    // A bigint advisory lock shows its high half as classid, its low half
    // as objid, and objsubid 1.
    let (high, low) = (LEADER_LOCK >> 32, LEADER_LOCK & 0xffff_ffff);
    let row = client
        .query_opt(
            "SELECT l.pid, a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid::int8 = $1 AND l.objid::int8 = $2 AND l.objsubid = 1",
            &[&high, &low],
        )
        .await?;
    row.map(|r| {
        let port: Option<i32> = r.try_get(1)?;
        Ok(Leader {
            pid: r.try_get(0)?,
            client_port: port.and_then(|p| u16::try_from(p).ok()),
        })
    })
    .transpose()
}

/// The channel feed readers LISTEN on; the payload is the new head position.
pub const CHANNEL: &str = "opsledger_log";
/// Appends per batch (one queue row each).
const BATCH: i64 = 1_000;
const IDLE_MIN: Duration = Duration::from_millis(2);
const IDLE_MAX: Duration = Duration::from_millis(25);
const STANDBY_RETRY: Duration = Duration::from_secs(1);

/// The global hash at `position` given the one before and the event's own hash.
pub fn global_hash(previous: &[u8; 32], event_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(previous);
    h.update(event_hash);
    h.finalize().into()
}

/// The sequencer's statements, prepared once per connection: a batch runs
/// every few milliseconds under load, and parsing and planning its seven
/// statements afresh each time was about a third of its work.
pub struct Statements {
    any_queued: Statement,
    lock_head: Statement,
    read_queue: Statement,
    log: Statement,
    dequeue: Statement,
    advance_head: Statement,
    notify: Statement,
}

impl Statements {
    pub async fn prepare(client: &Client) -> Result<Statements, StoreError> {
        Ok(Statements {
            any_queued: client.prepare("SELECT EXISTS (SELECT 1 FROM event_queue)").await?,
            lock_head: client
                .prepare("SELECT position, hash FROM event_log_head WHERE id FOR UPDATE")
                .await?,
            // Up to `$1` appends, each with its events in `seq_id` order
            // (one queue row per append since migration V17; older rows
            // stand for their own `seq_id`).
            read_queue: client
                .prepare(
                    "SELECT q.seq_id, e.seq_id, e.hash, extract(epoch FROM clock_timestamp() - e.recorded_at)::float8
                     FROM (SELECT seq_id, seq_ids FROM event_queue ORDER BY seq_id LIMIT $1) q
                     CROSS JOIN LATERAL unnest(coalesce(q.seq_ids, ARRAY[q.seq_id])) AS s (seq_id)
                     JOIN events e ON e.seq_id = s.seq_id
                     ORDER BY q.seq_id, e.seq_id",
                )
                .await?,
            log: client
                .prepare(
                    "INSERT INTO event_log (position, seq_id, global_hash, sequenced_at)
                     SELECT p, s, h, clock_timestamp() FROM unnest($1::int8[], $2::int8[], $3::bytea[]) AS b(p, s, h)",
                )
                .await?,
            dequeue: client.prepare("DELETE FROM event_queue WHERE seq_id = ANY($1)").await?,
            advance_head: client
                .prepare("UPDATE event_log_head SET position = $1, hash = $2 WHERE id")
                .await?,
            notify: client.prepare("SELECT pg_notify($1, $2)").await?,
        })
    }
}

/// Sequences up to one batch of queued events. Returns how many were
/// sequenced and the new head position (meaningful only when some were).
pub async fn sequence_batch(client: &mut Client) -> Result<(usize, i64), StoreError> {
    let statements = Statements::prepare(client).await?;
    sequence_batch_with(client, &statements).await
}

/// [`sequence_batch`] with statements prepared on `client` before.
pub async fn sequence_batch_with(client: &mut Client, statements: &Statements) -> Result<(usize, i64), StoreError> {
    // Look before locking: locking the head row assigns a transaction id and
    // dirties a page, which an idle sequencer polling 40 times a second
    // would otherwise do millions of times a day for nothing.
    let queued: bool = client.query_one(&statements.any_queued, &[]).await?.try_get(0)?;
    if !queued {
        return Ok((0, 0));
    }
    let tx = client.transaction().await?;
    let head = tx.query_one(&statements.lock_head, &[]).await?;
    let mut position: i64 = head.try_get(0)?;
    let mut previous = to_hash(&head.try_get::<_, Vec<u8>>(1)?)?;
    // Within a stream, version n+1 is inserted only after version n has
    // committed, so its seq_id is larger and it is never visible without
    // n: appends in key order, and each append's events in seq_id order,
    // preserve every stream's order.
    let rows = tx.query(&statements.read_queue, &[&BATCH]).await?;
    if rows.is_empty() {
        return Ok((0, position));
    }
    let mut positions = Vec::with_capacity(rows.len());
    let mut seq_ids = Vec::with_capacity(rows.len());
    let mut hashes = Vec::with_capacity(rows.len());
    let mut ages = Vec::with_capacity(rows.len());
    let mut appends: Vec<i64> = Vec::new();
    for row in &rows {
        let append: i64 = row.try_get(0)?;
        if appends.last() != Some(&append) {
            appends.push(append);
        }
        let seq_id: i64 = row.try_get(1)?;
        let event_hash = to_hash(&row.try_get::<_, Vec<u8>>(2)?)?;
        ages.push(row.try_get::<_, f64>(3)?);
        position += 1;
        previous = global_hash(&previous, &event_hash);
        positions.push(position);
        seq_ids.push(seq_id);
        hashes.push(previous.to_vec());
    }
    tx.execute(&statements.log, &[&positions, &seq_ids, &hashes]).await?;
    tx.execute(&statements.dequeue, &[&appends]).await?;
    tx.execute(&statements.advance_head, &[&position, &previous.to_vec()])
        .await?;
    tx.execute(&statements.notify, &[&CHANNEL, &position.to_string()])
        .await?;
    tx.commit().await?;
    metrics::counter!("opsledger_sequencer_events_total").increment(rows.len() as u64);
    metrics::gauge!("opsledger_log_head_position").set(position as f64);
    for age in ages {
        metrics::histogram!("opsledger_commit_to_position_seconds").record(age);
    }
    Ok((rows.len(), position))
}

/// Told right after a local append commits: it counts the committed events
/// and wakes this instance's sequencer, so a single instance sequences
/// within a round trip instead of waiting for its next poll. Appends from
/// other instances are found by polling.
#[derive(Clone, Default)]
pub struct AppendSignal(Arc<Notify>);

impl AppendSignal {
    pub fn committed(&self, events: &[super::StoredEvent]) {
        for e in events {
            metrics::counter!("opsledger_events_appended_total", "type" => e.envelope.event_type.clone()).increment(1);
        }
        self.0.notify_one();
    }
}

/// A running sequencer task; dropping the handle does not stop it, `stop` does.
pub struct Sequencer {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sequencer {
    /// Starts competing for leadership on a dedicated connection made from
    /// `config`. `head` is told every new head position this instance writes.
    pub fn spawn(config: tokio_postgres::Config, head: Arc<watch::Sender<i64>>, appended: AppendSignal) -> Sequencer {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(config, head, appended, stopped));
        Sequencer { stop, task }
    }

    /// Stops at a safe point (between batches) and releases leadership by
    /// closing the connection, so another instance takes over at once.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    mut config: tokio_postgres::Config,
    head: Arc<watch::Sender<i64>>,
    appended: AppendSignal,
    mut stopped: watch::Receiver<bool>,
) {
    // Client-side keepalives let a leader notice a dead connection; the
    // server-side ones (set per session below) let PostgreSQL drop a dead
    // leader's session, and with it the lock, within seconds.
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .keepalives_interval(Duration::from_secs(2))
        .keepalives_retries(3)
        .connect_timeout(Duration::from_secs(5))
        .application_name("opsledger-sequencer");
    let stop_requested = |s: &watch::Receiver<bool>| *s.borrow();
    while !stop_requested(&stopped) {
        match lead(&config, &head, &appended, &mut stopped).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "sequencer connection lost; reconnecting");
                wait(&mut stopped, STANDBY_RETRY).await;
            }
        }
    }
}

/// Sleeps for `d` or until a stop is requested.
async fn wait(stopped: &mut watch::Receiver<bool>, d: Duration) {
    let _ = tokio::time::timeout(d, stopped.changed()).await;
}

async fn lead(
    config: &tokio_postgres::Config,
    head: &watch::Sender<i64>,
    appended: &AppendSignal,
    stopped: &mut watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let (mut client, connection) = config.connect(NoTls).await?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3")
        .await?;
    let result = async {
        // Stand by until this instance holds the lock.
        loop {
            if *stopped.borrow() {
                return Ok(());
            }
            let row = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])
                .await?;
            if row.try_get::<_, bool>(0)? {
                break;
            }
            wait(stopped, STANDBY_RETRY).await;
        }
        tracing::info!("this instance is the sequencer");
        let statements = Statements::prepare(&client).await?;
        let mut idle = IDLE_MIN;
        loop {
            if *stopped.borrow() {
                return Ok(());
            }
            let started = Instant::now();
            let (count, position) = sequence_batch_with(&mut client, &statements).await?;
            if count > 0 {
                head.send_if_modified(|current| {
                    let newer = position > *current;
                    if newer {
                        *current = position;
                    }
                    newer
                });
                tracing::debug!(
                    count,
                    position,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "sequenced"
                );
                idle = IDLE_MIN;
            } else {
                tokio::select! {
                    () = appended.0.notified() => idle = IDLE_MIN,
                    () = wait(stopped, idle) => idle = (idle * 2).min(IDLE_MAX),
                }
            }
        }
    }
    .await;
    // Closing the session releases the advisory lock.
    drop(client);
    let _ = driver.await;
    result
}
