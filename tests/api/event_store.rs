//! The event store against real PostgreSQL: append-only enforcement, the
//! hash chain, atomic multi-event appends and the concurrency check.

use crate::helpers::{migrated, test_events, test_metadata};
use chrono::Utc;
use deadpool_postgres::Pool;
use opsledger::infra::database;
use opsledger::store::{self, StoreError, StreamAt, StreamHead, chain_hash};
use uuid::Uuid;

async fn append(
    pool: &Pool,
    stream: Uuid,
    head: Option<&StreamHead>,
    n: usize,
) -> Result<Vec<store::StoredEvent>, StoreError> {
    let sealed = store::seal(stream, head, test_events(n), &test_metadata(), Utc::now())?;
    let mut client = pool.get().await?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    store::insert(&tx, &sealed).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(sealed)
}

/// The server's message: tokio-postgres displays every server error as "db error".
fn message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
}

fn head_of(events: &[store::StoredEvent]) -> StreamHead {
    let last = events.last().expect("events");
    StreamHead {
        version: last.envelope.version,
        hash: last.hash,
        recorded_at: last.recorded_at,
    }
}

#[tokio::test]
async fn the_log_refuses_update_delete_and_truncate_even_from_its_owner() {
    let (db, pool) = migrated().await;
    append(&pool, Uuid::now_v7(), None, 2).await.expect("append");
    let owner = db.connect_admin().await;

    for statement in [
        "UPDATE events SET event_type = 'forged'",
        "DELETE FROM events",
        "TRUNCATE events CASCADE",
        "TRUNCATE event_log",
    ] {
        let error = owner.batch_execute(statement).await.expect_err(statement);
        assert!(message(&error).contains("append-only"), "{statement}: {error:?}");
    }
    // ENABLE ALWAYS: the triggers fire under replication mode too.
    owner
        .batch_execute("SET session_replication_role = replica")
        .await
        .expect("superuser may set it");
    let error = owner
        .batch_execute("DELETE FROM events")
        .await
        .expect_err("still refused");
    assert!(message(&error).contains("append-only"), "{error:?}");

    let count: i64 = owner
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 2);
}

#[tokio::test]
async fn the_serving_role_may_only_read_and_append() {
    let (db, _) = migrated().await;
    let mut config = db.admin.clone();
    config.options("-c role=opsledger_app");
    let pool = database::pool(config, 1).expect("pool");
    append(&pool, Uuid::now_v7(), None, 1)
        .await
        .expect("the server role appends");
    let client = pool.get().await.expect("client");
    let error = client
        .batch_execute("UPDATE events SET event_type = 'x'")
        .await
        .expect_err("no UPDATE privilege");
    assert!(message(&error).contains("permission denied"), "{error:?}");
    let error = client
        .batch_execute("ALTER TABLE events DISABLE TRIGGER ALL")
        .await
        .expect_err("not the owner");
    assert!(message(&error).contains("owner"), "{error:?}");
}

#[tokio::test]
async fn the_chain_of_a_stream_recomputes_from_the_stored_bytes() {
    let (_db, pool) = migrated().await;
    let stream = Uuid::now_v7();
    let first = append(&pool, stream, None, 3).await.expect("append");
    append(&pool, stream, Some(&head_of(&first)), 2).await.expect("append");

    let client = pool.get().await.expect("client");
    let stored = store::read_stream(&client, stream).await.expect("read");
    assert_eq!(stored.len(), 5);
    assert_eq!(store::first_broken_link(&stored), None);

    // By hand, from the raw column: SHA-256(previous ‖ stored bytes).
    let rows = client
        .query(
            "SELECT stored, hash FROM events WHERE stream_id = $1 ORDER BY version",
            &[&stream],
        )
        .await
        .expect("rows");
    let mut previous = [0u8; 32];
    for row in rows {
        let bytes: Vec<u8> = row.get(0);
        let hash: Vec<u8> = row.get(1);
        assert_eq!(chain_hash(&previous, &bytes).to_vec(), hash);
        previous.copy_from_slice(&hash);
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(
            text.contains("中文不变") && !text.contains(": "),
            "canonical JSON, text unchanged"
        );
    }
}

#[tokio::test]
async fn a_stale_writer_conflicts_and_a_multi_event_append_is_all_or_nothing() {
    let (_db, pool) = migrated().await;
    let stream = Uuid::now_v7();
    let first = append(&pool, stream, None, 1).await.expect("append");
    let head = head_of(&first);

    append(&pool, stream, Some(&head), 1)
        .await
        .expect("the first writer wins");
    // The second writer loaded the same head: its three events would be
    // versions 2, 3, 4; version 2 exists, so none of them may land.
    let lost = append(&pool, stream, Some(&head), 3).await;
    assert!(matches!(lost, Err(StoreError::VersionConflict)), "{lost:?}");

    let client = pool.get().await.expect("client");
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM events WHERE stream_id = $1 ORDER BY version",
            &[&stream],
        )
        .await
        .expect("rows")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [1, 2]);
}

/// A decision taken from another stream at some version (a filing's
/// clocks from the SLA policy) lands only while that stream is still there.
#[tokio::test]
async fn an_append_decided_from_another_stream_lands_only_while_that_stream_has_not_moved() {
    let (_db, pool) = migrated().await;
    let (source, target) = (Uuid::now_v7(), Uuid::now_v7());
    let unread = StreamAt {
        stream_id: source,
        version: 0,
    };
    let decide = |head: Option<&StreamHead>| {
        store::seal(target, head, test_events(2), &test_metadata(), Utc::now()).expect("seal")
    };
    let mut client = pool.get().await.expect("client");

    // A stream with no events is at version 0.
    let tx = client.transaction().await.expect("transaction");
    let first = decide(None);
    store::insert_unless_moved(&tx, &first, &[unread])
        .await
        .expect("the source has not moved");
    tx.commit().await.expect("commit");

    // Someone appends to the source: a decision from version 0 is stale now,
    // and not one of its events lands; from version 1 it is current.
    append(&pool, source, None, 1).await.expect("append");
    let second = decide(Some(&head_of(&first)));
    let tx = client.transaction().await.expect("transaction");
    let stale = store::insert_unless_moved(&tx, &second, &[unread]).await;
    assert!(matches!(stale, Err(StoreError::ReadStreamMoved)), "{stale:?}");
    // The refusal is no SQL error: committed anyway, it wrote nothing.
    tx.commit().await.expect("commit");
    assert_eq!(landed(&client, target).await, 2, "the first append alone, queued");

    let tx = client.transaction().await.expect("transaction");
    let current = StreamAt { version: 1, ..unread };
    store::insert_unless_moved(&tx, &second, &[current, current])
        .await
        .expect("the source is at version 1");
    tx.commit().await.expect("commit");
    assert_eq!(landed(&client, target).await, 4);
}

/// The events of `stream` that are stored and queued for the sequencer.
async fn landed(client: &deadpool_postgres::Client, stream: Uuid) -> i64 {
    let sql = "SELECT count(*) FROM events e JOIN queued_events q USING (seq_id) WHERE e.stream_id = $1";
    client.query_one(sql, &[&stream]).await.expect("count").get(0)
}

/// An append sends its statements together, and they may reach the server
/// in any order: when one fails, those after it fail only because the
/// transaction is aborted, and the one that failed first is the cause.
#[tokio::test]
async fn the_cause_of_an_append_is_the_statement_that_failed_first_in_whatever_order_they_ran() {
    let (_db, pool) = migrated().await;
    let stream = Uuid::now_v7();
    let first = append(&pool, stream, None, 1).await.expect("append");
    let stale = store::seal(stream, None, test_events(1), &test_metadata(), Utc::now()).expect("seal");
    let fresh = store::seal(Uuid::now_v7(), None, test_events(1), &test_metadata(), Utc::now()).expect("seal");
    assert_eq!(first[0].envelope.version, stale[0].envelope.version);

    let mut client = pool.get().await.expect("client");
    let tx = client.transaction().await.expect("transaction");
    // The failing insert reaches the server before the good one.
    let (lost, after) = tokio::join!(biased; store::insert(&tx, &stale), store::insert(&tx, &fresh));
    assert!(matches!(lost, Err(StoreError::VersionConflict)), "{lost:?}");
    assert!(matches!(after, Err(StoreError::TransactionAborted)), "{after:?}");
    drop(tx);
    // Looked at in the other order, the lost race is still the cause.
    let outcome = store::first_cause([after, lost]);
    assert!(matches!(outcome, Err(StoreError::VersionConflict)), "{outcome:?}");
}
