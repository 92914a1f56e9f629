//! The personal-data access log: who saw which subject's data in clear, when, and through which endpoint.
//!
//! A response that reveals personal data may only be sent once its access record is durable, so recording sits on
//! the request path. Committing every request's records on its own would cost one WAL flush (fsync) per request and
//! serialise clear-text reads behind the disk. Instead [`AccessLog`] is a *group-commit* writer: one background task
//! takes every record queued while its previous batch was being written and inserts them all with one statement in
//! one transaction, so a single flush makes many requests' records durable at once. Under light load a batch holds
//! one request and costs what a direct INSERT would; under heavy load the batches grow and the cost per request
//! falls.
//!
//! The writer task uses one connection it owns outright, made by the pool's manager outside the pool's count.
//! Request handlers hold pool connections while they wait for their records, so a writer that borrowed from the
//! pool, even once, could wait for a connection that is only released once it has written: a burst of clear-text
//! reads on a fresh server held every connection just as the writer asked for its first.
//!
//! Auditors read the log with [`query`]. The server's database role may only SELECT and INSERT on `pii_access`:
//! the log is append-only for it.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool::managed::Manager as _;
use deadpool_postgres::{ClientWrapper, GenericClient, Pool};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::store::StoreError;
use crate::store::envelope::to_micros;

/// Most rows one INSERT carries. A single [`AccessLog::record`] call is never split across batches (its records
/// commit together), so a call with more subjects than this makes a batch of its own.
pub const MAX_BATCH_ROWS: usize = 1_000;
/// Most records one [`query`] returns.
pub const MAX_QUERY_LIMIT: u32 = 500;
/// Calls that may wait in the queue before `record` itself waits to enqueue (back-pressure instead of unbounded
/// memory when the database is slow).
const QUEUE_CAPACITY: usize = 4_096;
/// Bound on connecting the writer. The server's pool connects with a 5 s timeout; this is only a backstop for a
/// pool built without one, so that callers never wait forever.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on writing one batch. When it elapses the outcome is unknown: the callers are told the write failed (so
/// they reveal nothing) even though the rows may still commit, which at worst records an access that did not
/// happen, never the reverse.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

const STOPPED: &str = "access log writer stopped";

/// One response's revelation of one data subject's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccessRecord {
    /// Position in the log; increases with every record (0 before the record is inserted).
    pub id: i64,
    /// When the response was served (microsecond precision).
    pub at: DateTime<Utc>,
    /// The principal the data was revealed to (`issuer|subject`).
    pub actor: String,
    /// The data subject whose personal data was revealed.
    pub subject: Uuid,
    /// The route pattern, method first, e.g. `GET /v1/tickets/{id}`.
    pub endpoint: String,
    /// The server's id of the request (`X-Request-Id` of the response), to correlate with request logs. Records
    /// made before client ids were kept apart may hold an id the client chose.
    pub request_id: String,
    /// The id the client sent for the request, if any: for correlation with the client's own logs, never proof of
    /// which request it was (any principal can send any id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
}

/// Filters of the auditors' query. Every filter is optional; `from` is inclusive and `to` exclusive. Results come
/// newest first (by `id`); the next page is asked for with `before_id` = the smallest `id` of the previous page.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    pub subject: Option<Uuid>,
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    /// 1..=[`MAX_QUERY_LIMIT`]; values outside are clamped into that range (the HTTP layer rejects them first).
    pub limit: u32,
}

/// One `record` call waiting for its rows to be committed.
struct Pending {
    at: DateTime<Utc>,
    actor: String,
    subjects: Vec<Uuid>,
    endpoint: String,
    request_id: String,
    client_request_id: Option<String>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// Group-commit writer of the access log. Cheap to clone; every clone feeds the same writer task, which stops once
/// every clone is dropped.
///
/// `record` works from any tokio runtime (the HTTP workers each run their own single-threaded one): callers only
/// talk to the writer through runtime-agnostic channels, and the writer's connection is driven by the runtime the
/// writer was started on.
#[derive(Debug, Clone)]
pub struct AccessLog {
    queue: mpsc::Sender<Pending>,
}

impl AccessLog {
    /// Spawns the writer task on the current tokio runtime, which must outlive the server's use of the log (the
    /// main runtime, not an HTTP worker's).
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn start(pool: Pool) -> AccessLog {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(pool, receiver));
        AccessLog { queue }
    }

    /// Records that `actor` saw the personal data of `subjects` through `endpoint` in the request the server knows
    /// as `request_id` (and the client as `client_request_id`), and returns once the records are committed (durable under the server's default `synchronous_commit = on`). Only then may the response
    /// reveal the data; on an error it must not. Duplicate subjects are recorded once. Empty `subjects` returns at
    /// once without touching the database.
    pub async fn record(
        &self,
        actor: &str,
        subjects: &[Uuid],
        endpoint: &str,
        request_id: &str,
        client_request_id: Option<&str>,
    ) -> Result<(), StoreError> {
        if subjects.is_empty() {
            return Ok(());
        }
        let mut seen = HashSet::with_capacity(subjects.len());
        let subjects: Vec<Uuid> = subjects.iter().copied().filter(|s| seen.insert(*s)).collect();
        let (done, acknowledged) = oneshot::channel();
        let pending = Pending {
            // The time the request is served: the records are written moments later, possibly in a batch with
            // requests served a little later still.
            at: to_micros(Utc::now()),
            actor: actor.to_owned(),
            subjects,
            endpoint: endpoint.to_owned(),
            request_id: request_id.to_owned(),
            client_request_id: client_request_id.map(str::to_owned),
            done,
        };
        self.queue
            .send(pending)
            .await
            .map_err(|_| StoreError::Unavailable(STOPPED.into()))?;
        // A dropped sender means the writer stopped (its runtime shut down) before answering.
        acknowledged
            .await
            .map_err(|_| StoreError::Unavailable(STOPPED.into()))?
    }
}

/// The writer task: one batch at a time, each batch everything that queued up while the previous one was being
/// written (up to [`MAX_BATCH_ROWS`]).
async fn run(pool: Pool, mut queue: mpsc::Receiver<Pending>) {
    let mut connection: Option<ClientWrapper> = None;
    // A call that did not fit into the previous batch; it starts the next one.
    let mut held_over: Option<Pending> = None;
    loop {
        let first = match held_over.take() {
            Some(pending) => pending,
            None => match queue.recv().await {
                Some(pending) => pending,
                // Every AccessLog is gone and the queue is empty.
                None => break,
            },
        };
        let mut rows = first.subjects.len();
        let mut batch = vec![first];
        while rows < MAX_BATCH_ROWS {
            match queue.try_recv() {
                Ok(pending) if rows + pending.subjects.len() <= MAX_BATCH_ROWS => {
                    rows += pending.subjects.len();
                    batch.push(pending);
                }
                Ok(pending) => {
                    held_over = Some(pending);
                    break;
                }
                // Empty (or closed: what is already queued is still written).
                Err(_) => break,
            }
        }
        // A caller that stopped waiting (its request was cancelled) will not send its response: nothing to record.
        batch.retain(|pending| !pending.done.is_closed());
        if batch.is_empty() {
            continue;
        }

        let result = write(&pool, &mut connection, &batch).await;
        if let Err(e) = &result {
            let rows: usize = batch.iter().map(|p| p.subjects.len()).sum();
            tracing::error!(error = %e, requests = batch.len(), rows, "cannot write the personal-data access log");
        }
        for pending in batch {
            let outcome = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(share(e)),
            };
            // The caller may have gone since; the records stay (an over-record is harmless).
            let _ = pending.done.send(outcome);
        }
    }
}

/// Inserts one batch with a single statement, i.e. one transaction and one commit flush.
async fn write(pool: &Pool, connection: &mut Option<ClientWrapper>, batch: &[Pending]) -> Result<(), StoreError> {
    let rows: usize = batch.iter().map(|p| p.subjects.len()).sum();
    let mut at = Vec::with_capacity(rows);
    let mut actors = Vec::with_capacity(rows);
    let mut subjects = Vec::with_capacity(rows);
    let mut endpoints = Vec::with_capacity(rows);
    let mut request_ids = Vec::with_capacity(rows);
    let mut client_request_ids = Vec::with_capacity(rows);
    for pending in batch {
        for subject in &pending.subjects {
            at.push(pending.at);
            actors.push(pending.actor.as_str());
            subjects.push(*subject);
            endpoints.push(pending.endpoint.as_str());
            request_ids.push(pending.request_id.as_str());
            client_request_ids.push(pending.client_request_id.as_deref());
        }
    }

    // A connection whose server or driving runtime went away is replaced before it is used.
    if connection.as_ref().is_some_and(|c| c.is_closed()) {
        *connection = None;
    }
    let client = match connection {
        Some(client) => client,
        None => {
            let client = timeout(CONNECT_TIMEOUT, pool.manager().create())
                .await
                .map_err(|_| StoreError::Unavailable("timed out connecting to the database".into()))??;
            connection.insert(client)
        }
    };
    let insert = async {
        let statement = client
            .prepare_cached(
                "INSERT INTO pii_access (at, actor, subject_id, endpoint, request_id, client_request_id)
                 SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[])",
            )
            .await?;
        client
            .execute(
                &statement,
                &[&at, &actors, &subjects, &endpoints, &request_ids, &client_request_ids],
            )
            .await?;
        Ok::<(), StoreError>(())
    };
    let result = match timeout(WRITE_TIMEOUT, insert).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable("writing the access log timed out".into())),
    };
    if result.is_err() {
        // After a failure the connection's state is uncertain (a statement may still be running); the next batch
        // starts on a fresh one.
        *connection = None;
    }
    result
}

/// The error each caller of a failed batch gets. Driver errors cannot be cloned; every caller is told the same
/// thing, as "unavailable": the data must not be revealed now, and retrying later may succeed.
fn share(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        other => StoreError::Unavailable(format!("the access log could not be written: {other}")),
    }
}

/// The auditors' query: matching records, newest first, at most `q.limit` of them.
pub async fn query(client: &impl GenericClient, q: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError> {
    let limit = i64::from(q.limit.clamp(1, MAX_QUERY_LIMIT));
    // Only the filters given become conditions, so each combination gets a plan that can use its index
    // (`(subject_id, id)`, `(actor, id)`, `(at, id)` or the primary key) instead of one generic plan for all.
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(subject) = &q.subject {
        params.push(subject);
        conditions.push(format!("subject_id = ${}", params.len()));
    }
    if let Some(actor) = &q.actor {
        params.push(actor);
        conditions.push(format!("actor = ${}", params.len()));
    }
    if let Some(from) = &q.from {
        params.push(from);
        conditions.push(format!("at >= ${}", params.len()));
    }
    if let Some(to) = &q.to {
        params.push(to);
        conditions.push(format!("at < ${}", params.len()));
    }
    if let Some(before_id) = &q.before_id {
        params.push(before_id);
        conditions.push(format!("id < ${}", params.len()));
    }
    params.push(&limit);
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT id, at, actor, subject_id, endpoint, request_id, client_request_id FROM pii_access {filter}
         ORDER BY id DESC LIMIT ${}",
        params.len()
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &params).await?;
    rows.into_iter()
        .map(|row| {
            Ok(AccessRecord {
                id: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                subject: row.try_get(3)?,
                endpoint: row.try_get(4)?,
                request_id: row.try_get(5)?,
                client_request_id: row.try_get(6)?,
            })
        })
        .collect()
}

/// Hands every record to `sink`, oldest first: the log as a backup holds it.
pub async fn dump<E: From<StoreError>>(
    tx: &tokio_postgres::Transaction<'_>,
    mut sink: impl FnMut(AccessRecord) -> Result<(), E>,
) -> Result<(), E> {
    let sql = "SELECT id, at, actor, subject_id, endpoint, request_id, client_request_id FROM pii_access ORDER BY id";
    crate::store::for_each_row(tx, sql, |row| {
        sink(AccessRecord {
            id: row.try_get(0).map_err(StoreError::from)?,
            at: row.try_get(1).map_err(StoreError::from)?,
            actor: row.try_get(2).map_err(StoreError::from)?,
            subject: row.try_get(3).map_err(StoreError::from)?,
            endpoint: row.try_get(4).map_err(StoreError::from)?,
            request_id: row.try_get(5).map_err(StoreError::from)?,
            client_request_id: row.try_get(6).map_err(StoreError::from)?,
        })
    })
    .await
}

/// Loads a record from a backup. Its `id` is not kept: records get new ids
/// in the order they are loaded, which is the order they were made.
pub async fn load(client: &impl tokio_postgres::GenericClient, record: &AccessRecord) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO pii_access (at, actor, subject_id, endpoint, request_id, client_request_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &record.at,
                &record.actor,
                &record.subject,
                &record.endpoint,
                &record.request_id,
                &record.client_request_id,
            ],
        )
        .await?;
    Ok(())
}
