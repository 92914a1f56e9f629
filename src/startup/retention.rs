//! Expiry of stored idempotent responses.
//!
//! A stored response lets a client retry a request safely; it is kept for
//! the retention period (`--idempotency-retention-hours`, 24 by default)
//! and then deleted, in small batches so no statement holds many row locks
//! or runs long. These rows are not events: the event log is never touched.
//! Every instance prunes; the deletes are idempotent, so several instances
//! doing it at once only share the work.

use std::time::Duration;

use crate::store::{StoreError, idempotency};

/// How often expired responses are looked for.
const EVERY: Duration = Duration::from_secs(600);
const BATCH: i64 = 1_000;

/// Deletes every stored response older than `retention`; returns how many.
pub async fn prune_idempotency(pool: &deadpool_postgres::Pool, retention: Duration) -> Result<u64, StoreError> {
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let cutoff = chrono::Utc::now()
        .checked_sub_signed(retention)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut total = 0;
    loop {
        let client = pool.get().await?;
        let deleted = idempotency::prune_batch(&client, cutoff, BATCH).await?;
        drop(client);
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Prunes now and then every ten minutes until aborted.
pub fn spawn_pruner(pool: deadpool_postgres::Pool, retention: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match prune_idempotency(&pool, retention).await {
                Ok(0) => {}
                Ok(deleted) => {
                    metrics::counter!("opsledger_idempotency_keys_pruned_total").increment(deleted);
                    tracing::info!(deleted, "expired idempotency keys pruned");
                }
                Err(err) => tracing::warn!(%err, "pruning expired idempotency keys failed; retrying later"),
            }
        }
    })
}
