//! Stored first responses of idempotent requests (`Idempotency-Key`).

use deadpool_postgres::GenericClient;
use sha2::{Digest, Sha256};

use super::StoreError;

/// The class of idempotency keys' advisory locks in PostgreSQL's two-int4
/// key space, which does not overlap the one-bigint space of the
/// sequencer's and the change calendar's locks ("idem").
const LOCK_CLASS: i32 = 0x6964_656d;

/// How long a request waits for another with the same key to finish, as a
/// `lock_timeout`: the pool's own wait, so a waiter holds its connection no
/// longer than a request may wait for one.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '5s'";

/// The recorded result of a request, together with the fingerprint of the
/// request that produced it, so a reused key with a different request can
/// be refused.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub request_hash: Vec<u8>,
    /// The command's result as the app layer recorded it (a receipt).
    pub body: Vec<u8>,
}

/// The advisory lock of a principal's key: the class, and 32 bits of the
/// SHA-256 of principal and key. Keys that share the bits only wait for
/// each other; the record is still looked up by the key itself.
pub fn lock_key(principal: &str, key: &str) -> (i32, i32) {
    let digest = Sha256::new()
        .chain_update(principal)
        .chain_update([0])
        .chain_update(key)
        .finalize();
    (
        LOCK_CLASS,
        i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]),
    )
}

/// Holds a principal's key until the caller's transaction ends. Requests
/// with the same key then run one after the other: each looks for the
/// recorded response only once it holds the key, so it either finds the
/// response of the one before it (and replays it) or is the first. A
/// request still in progress after the wait makes this fail with
/// [`StoreError::IdempotencyRace`].
pub async fn lock(client: &impl GenericClient, principal: &str, key: &str) -> Result<(), StoreError> {
    let (class, hash) = lock_key(principal, key);
    client.batch_execute(LOCK_WAIT).await?;
    let statement = client.prepare_cached("SELECT pg_advisory_xact_lock($1, $2)").await?;
    match client
        .execute(&statement, &[&class, &hash])
        .await
        .map_err(StoreError::from)
    {
        Ok(_) => {}
        Err(StoreError::LockTimeout) => return Err(StoreError::IdempotencyRace),
        Err(other) => return Err(other),
    }
    // The rest of the transaction waits for its locks as it always did.
    client.batch_execute("SET LOCAL lock_timeout TO DEFAULT").await?;
    Ok(())
}

pub async fn find(client: &impl GenericClient, principal: &str, key: &str) -> Result<Option<Recorded>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT request_hash, body FROM idempotency_keys
             WHERE principal = $1 AND key = $2",
        )
        .await?;
    let row = client.query_opt(&statement, &[&principal, &key]).await?;
    row.map(|row| {
        Ok(Recorded {
            request_hash: row.try_get(0)?,
            body: row.try_get(1)?,
        })
    })
    .transpose()
}

/// Records a request's result in the caller's transaction, with the data
/// subject whose (sealed) personal data it carries, so erasure finds it. A
/// request with the same key that committed first (one that did not take
/// the [`lock`]) makes this fail with [`StoreError::IdempotencyRace`], and
/// the caller's events roll back with it.
pub async fn insert(
    client: &impl GenericClient,
    principal: &str,
    key: &str,
    request_hash: &[u8],
    body: &[u8],
    subject: Option<uuid::Uuid>,
) -> Result<(), StoreError> {
    let statement = client
        .prepare_cached(
            "INSERT INTO idempotency_keys (principal, key, request_hash, body, subject_id)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client
        .execute(&statement, &[&principal, &key, &request_hash, &body, &subject])
        .await?;
    Ok(())
}

/// Rewrites the bodies of the stored responses that carry a subject's
/// (sealed) personal data with `scrub`, and keeps them: part of erasure. A
/// retry within the retention period then replays the scrubbed response, a
/// tombstone, instead of running the request anew. Returns how many.
pub async fn scrub_for_subject(
    client: &impl GenericClient,
    subject: uuid::Uuid,
    scrub: impl Fn(&[u8]) -> Result<Vec<u8>, StoreError>,
) -> Result<u64, StoreError> {
    let rows = client
        .query(
            "SELECT principal, key, body FROM idempotency_keys WHERE subject_id = $1 FOR UPDATE",
            &[&subject],
        )
        .await?;
    for row in &rows {
        let (principal, key): (&str, &str) = (row.try_get(0)?, row.try_get(1)?);
        let body = scrub(row.try_get(2)?)?;
        client
            .execute(
                "UPDATE idempotency_keys SET body = $3 WHERE principal = $1 AND key = $2",
                &[&principal, &key, &body],
            )
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Deletes up to `batch` stored responses recorded before `cutoff`, oldest
/// first; returns how many went. Retries with those keys are then new
/// requests: keys are honoured for the retention period, not forever.
pub async fn prune_batch(
    client: &impl GenericClient,
    cutoff: chrono::DateTime<chrono::Utc>,
    batch: i64,
) -> Result<u64, StoreError> {
    let statement = client
        .prepare_cached(
            "DELETE FROM idempotency_keys WHERE (principal, key) IN (
                 SELECT principal, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .await?;
    Ok(client.execute(&statement, &[&cutoff, &batch]).await?)
}
