//! The personal-data access log against real PostgreSQL: records are durable before `record` returns, the
//! auditors' filters and paging, group commit under concurrency (from several runtimes, as the HTTP workers
//! call it), and failure instead of a hang when the database is away.

use std::collections::HashSet;
use std::time::Duration;

use crate::helpers::postgres::TestDatabase;
use crate::helpers::{free_port, migrated};
use chrono::Utc;
use deadpool_postgres::Pool;
use opsledger::infra::database;
use opsledger::privacy::access_log::{AccessLog, AccessQuery, AccessRecord, query};
use opsledger::store::StoreError;
use uuid::Uuid;

/// Far above the pool's 5 s wait/create timeouts: reaching it means a hang.
const NO_HANG: Duration = Duration::from_secs(30);

async fn all(pool: &Pool, q: AccessQuery) -> Vec<AccessRecord> {
    let client = pool.get().await.expect("connection");
    query(&client, &q).await.expect("query")
}

fn limit(limit: u32) -> AccessQuery {
    AccessQuery {
        limit,
        ..AccessQuery::default()
    }
}

async fn count(pool: &Pool) -> i64 {
    let client = pool.get().await.expect("connection");
    client
        .query_one("SELECT count(*) FROM pii_access", &[])
        .await
        .expect("count")
        .get(0)
}

/// A pool for a port nothing listens on.
fn unreachable_pool() -> Pool {
    let port = free_port();
    let mut config = tokio_postgres::Config::new();
    config.host("127.0.0.1").port(port).user("nobody").dbname("nothing");
    database::pool(config, 2).expect("pool")
}

#[tokio::test]
async fn records_are_durable_and_found_by_each_filter() {
    let (db, pool) = migrated().await;
    let log = AccessLog::start(pool.clone());
    let (s1, s2, s3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let before = Utc::now();

    log.record("idp|alice", &[s1, s2, s1], "GET /v1/tickets/{id}", "req-1", None)
        .await
        .expect("record");
    tokio::time::sleep(Duration::from_millis(5)).await;
    log.record("idp|bob", &[s1], "GET /v1/complaints/{id}", "req-2", Some("bobs-trace"))
        .await
        .expect("record");
    tokio::time::sleep(Duration::from_millis(5)).await;
    log.record("idp|alice", &[s3], "GET /v1/tickets", "req-3", None)
        .await
        .expect("record");
    let after = Utc::now();

    // Committed when `record` returned: a separate session sees them.
    let admin = db.connect_admin().await;
    let committed: i64 = admin
        .query_one("SELECT count(*) FROM pii_access", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(committed, 4, "a subject repeated within one call is recorded once");

    let every = all(&pool, limit(500)).await;
    assert_eq!(every.len(), 4);
    assert!(every.windows(2).all(|w| w[0].id > w[1].id), "newest first: {every:?}");
    let (newest, bob, alice_first) = (&every[0], &every[1], &every[2..]);
    assert_eq!(
        (
            newest.actor.as_str(),
            newest.subject,
            newest.endpoint.as_str(),
            newest.request_id.as_str()
        ),
        ("idp|alice", s3, "GET /v1/tickets", "req-3")
    );
    assert_eq!(
        (
            bob.actor.as_str(),
            bob.subject,
            bob.endpoint.as_str(),
            bob.request_id.as_str()
        ),
        ("idp|bob", s1, "GET /v1/complaints/{id}", "req-2")
    );
    assert_eq!(bob.client_request_id.as_deref(), Some("bobs-trace"));
    assert_eq!(newest.client_request_id, None);
    assert_eq!(
        alice_first.iter().map(|r| r.subject).collect::<HashSet<_>>(),
        HashSet::from([s1, s2])
    );
    for r in alice_first {
        assert_eq!(
            (r.actor.as_str(), r.endpoint.as_str(), r.request_id.as_str()),
            ("idp|alice", "GET /v1/tickets/{id}", "req-1")
        );
        assert_eq!(r.at, alice_first[0].at, "one call, one time");
    }
    for r in &every {
        assert!(r.id > 0);
        assert!(
            before - chrono::Duration::microseconds(1) <= r.at && r.at <= after,
            "{r:?}"
        );
        assert_eq!(r.at.timestamp_subsec_nanos() % 1_000, 0, "microsecond precision: {r:?}");
    }
    assert!(alice_first[0].at < bob.at && bob.at < newest.at);

    let by_subject = all(
        &pool,
        AccessQuery {
            subject: Some(s1),
            ..limit(500)
        },
    )
    .await;
    assert_eq!(
        by_subject.iter().map(|r| r.actor.as_str()).collect::<Vec<_>>(),
        ["idp|bob", "idp|alice"]
    );

    let by_actor = all(
        &pool,
        AccessQuery {
            actor: Some("idp|alice".into()),
            ..limit(500)
        },
    )
    .await;
    assert_eq!(by_actor.len(), 3);
    assert!(by_actor.iter().all(|r| r.actor == "idp|alice"));

    let both = all(
        &pool,
        AccessQuery {
            subject: Some(s1),
            actor: Some("idp|alice".into()),
            ..limit(500)
        },
    )
    .await;
    assert_eq!(both.len(), 1);
    assert_eq!((both[0].actor.as_str(), both[0].subject), ("idp|alice", s1));

    assert!(
        all(
            &pool,
            AccessQuery {
                actor: Some("idp|nobody".into()),
                ..limit(500)
            }
        )
        .await
        .is_empty()
    );

    // `from` is inclusive, `to` exclusive.
    let from_bob = all(
        &pool,
        AccessQuery {
            from: Some(bob.at),
            ..limit(500)
        },
    )
    .await;
    assert_eq!(from_bob, every[..2]);
    let until_bob = all(
        &pool,
        AccessQuery {
            to: Some(bob.at),
            ..limit(500)
        },
    )
    .await;
    assert_eq!(until_bob, every[2..]);
    let just_bob = all(
        &pool,
        AccessQuery {
            from: Some(bob.at),
            to: Some(newest.at),
            ..limit(500)
        },
    )
    .await;
    assert_eq!(just_bob, std::slice::from_ref(bob));

    // Keyset paging: each page continues below the smallest id of the previous one.
    let mut pages: Vec<Vec<AccessRecord>> = Vec::new();
    let mut before_id = None;
    loop {
        let page = all(&pool, AccessQuery { before_id, ..limit(3) }).await;
        if page.is_empty() {
            break;
        }
        before_id = page.last().map(|r| r.id);
        pages.push(page);
        assert!(pages.len() <= 2, "paging ends");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1]);
    assert_eq!(pages.concat(), every);
    let below_bob = all(
        &pool,
        AccessQuery {
            before_id: Some(bob.id),
            actor: Some("idp|alice".into()),
            ..limit(1)
        },
    )
    .await;
    assert_eq!(below_bob, every[2..3]);

    // Out-of-range limits are clamped into 1..=500.
    assert_eq!(all(&pool, limit(0)).await.len(), 1);
    assert_eq!(all(&pool, limit(u32::MAX)).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_from_several_runtimes_share_commits() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 50;
    let (_db, pool) = migrated().await;
    let log = AccessLog::start(pool.clone());
    // The writer is connected and idle before the burst, so batching comes from calls queueing while a batch is
    // being written, not from a slow first connection.
    log.record(
        "idp|warm-up",
        &[Uuid::new_v4()],
        "GET /v1/tickets/{id}",
        "req-warm-up",
        None,
    )
    .await
    .expect("record");

    // Like the HTTP workers: each thread runs its own single-threaded runtime, while the writer lives on this one.
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let mut tasks = tokio::task::JoinSet::new();
                    for i in 0..PER_THREAD {
                        let log = log.clone();
                        let subject = Uuid::new_v4();
                        tasks.spawn(async move {
                            let request = format!("req-{t}-{i}");
                            log.record(
                                &format!("idp|user-{t}"),
                                &[subject],
                                "GET /v1/tickets/{id}",
                                &request,
                                None,
                            )
                            .await
                            .map(|()| subject)
                        });
                    }
                    let mut subjects = Vec::new();
                    while let Some(joined) = tasks.join_next().await {
                        subjects.push(joined.expect("task").expect("record"));
                    }
                    subjects
                })
            })
        })
        .collect();
    let recorded = tokio::time::timeout(
        NO_HANG,
        tokio::task::spawn_blocking(move || {
            threads
                .into_iter()
                .flat_map(|thread| thread.join().expect("thread"))
                .collect::<HashSet<Uuid>>()
        }),
    )
    .await
    .expect("no hang")
    .expect("join");
    assert_eq!(recorded.len(), THREADS * PER_THREAD);

    let client = pool.get().await.expect("connection");
    let stored: HashSet<Uuid> = client
        .query("SELECT subject_id FROM pii_access WHERE actor <> 'idp|warm-up'", &[])
        .await
        .expect("rows")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(stored, recorded, "every call's record was committed");
    // Each batch is one transaction, so the rows of one batch share their xmin.
    let batches: i64 = client
        .query_one(
            "SELECT count(DISTINCT xmin::text) FROM pii_access WHERE actor <> 'idp|warm-up'",
            &[],
        )
        .await
        .expect("batches")
        .get(0);
    eprintln!("{} records written in {batches} transactions", THREADS * PER_THREAD);
    assert!(
        batches < (THREADS * PER_THREAD) as i64,
        "group commit: {batches} transactions for {} calls",
        THREADS * PER_THREAD
    );
}

#[tokio::test]
async fn the_server_role_may_append_and_read() {
    let (db, _) = migrated().await;
    let url = crate::helpers::url_of(&db.admin, Some("opsledger_app"));
    let pool = database::pool(url.parse().expect("url"), 2).expect("pool");
    let log = AccessLog::start(pool.clone());
    let subject = Uuid::now_v7();
    log.record("idp|alice", &[subject], "GET /v1/tickets/{id}", "req-1", None)
        .await
        .expect("record as opsledger_app");
    let found = all(
        &pool,
        AccessQuery {
            subject: Some(subject),
            ..limit(10)
        },
    )
    .await;
    assert_eq!(found.len(), 1);
}

/// A response that reveals personal data holds a pool connection while it
/// waits for its record, and on a fresh server a burst of such responses
/// holds every one: the writer must not need one of them.
#[tokio::test]
async fn the_writer_needs_none_of_the_pool_connections_its_callers_hold() {
    let (_db, pool) = migrated().await;
    let log = AccessLog::start(pool.clone());
    let held = [
        pool.get().await.expect("connection"),
        pool.get().await.expect("connection"),
    ];
    assert_eq!(pool.status().available, 0, "the pool is exhausted");
    tokio::time::timeout(
        NO_HANG,
        log.record("idp|alice", &[Uuid::now_v7()], "GET /v1/tickets/{id}", "req-1", None),
    )
    .await
    .expect("no hang")
    .expect("recorded while every pool connection is held");
    drop(held);
    assert_eq!(count(&pool).await, 1);
}

#[tokio::test]
async fn empty_subjects_write_nothing() {
    let (_db, pool) = migrated().await;
    let log = AccessLog::start(pool.clone());
    log.record("idp|alice", &[], "GET /v1/tickets", "req-1", None)
        .await
        .expect("nothing to record");
    assert_eq!(count(&pool).await, 0);

    // Without touching the database: it succeeds even when there is none.
    let nowhere = AccessLog::start(unreachable_pool());
    tokio::time::timeout(
        Duration::from_secs(1),
        nowhere.record("idp|alice", &[], "GET /v1/tickets", "req-2", None),
    )
    .await
    .expect("immediate")
    .expect("nothing to record");
}

#[tokio::test]
async fn an_unreachable_database_fails_the_callers_instead_of_hanging() {
    let log = AccessLog::start(unreachable_pool());
    let outcome = tokio::time::timeout(
        NO_HANG,
        log.record("idp|alice", &[Uuid::now_v7()], "GET /v1/tickets/{id}", "req-1", None),
    )
    .await
    .expect("no hang");
    assert!(matches!(outcome, Err(StoreError::Unavailable(_))), "{outcome:?}");
}

#[tokio::test]
async fn a_database_that_does_not_exist_fails_every_caller_of_the_batch() {
    let db = TestDatabase::create().await;
    let mut config = db.admin.clone();
    config.dbname(format!("{}_missing", db.name));
    let log = AccessLog::start(database::pool(config, 2).expect("pool"));
    let calls = (0..5).map(|i| {
        let log = log.clone();
        async move {
            log.record(
                "idp|alice",
                &[Uuid::now_v7()],
                "GET /v1/tickets/{id}",
                &format!("req-{i}"),
                None,
            )
            .await
        }
    });
    let outcomes = tokio::time::timeout(NO_HANG, futures_util::future::join_all(calls))
        .await
        .expect("no hang");
    for outcome in outcomes {
        match outcome {
            Err(StoreError::Unavailable(message)) => assert!(message.contains("does not exist"), "{message}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_writer_recovers_after_a_failed_batch() {
    // Not migrated yet: the table does not exist, the INSERT fails.
    let db = TestDatabase::create().await;
    let pool = database::pool(db.admin.clone(), 2).expect("pool");
    let log = AccessLog::start(pool.clone());
    let subject = Uuid::now_v7();
    let failed = tokio::time::timeout(
        NO_HANG,
        log.record("idp|alice", &[subject], "GET /v1/tickets/{id}", "req-1", None),
    )
    .await
    .expect("no hang");
    assert!(failed.is_err(), "{failed:?}");

    database::migrate(&db.admin).await.expect("migrations apply");
    tokio::time::timeout(
        NO_HANG,
        log.record("idp|alice", &[subject], "GET /v1/tickets/{id}", "req-2", None),
    )
    .await
    .expect("no hang")
    .expect("the same writer records once the table exists");
    let found = all(&pool, limit(10)).await;
    assert_eq!(
        found.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(),
        ["req-2"]
    );
}

#[test]
fn a_stopped_writer_is_reported_as_unavailable() {
    let writer_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let log = writer_runtime.block_on(async { AccessLog::start(unreachable_pool()) });
    // Shutting down the runtime drops the writer task.
    drop(writer_runtime);

    let caller_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = caller_runtime.block_on(async {
        tokio::time::timeout(
            NO_HANG,
            log.record("idp|alice", &[Uuid::now_v7()], "GET /v1/tickets/{id}", "req-1", None),
        )
        .await
        .expect("no hang")
    });
    match outcome {
        Err(StoreError::Unavailable(message)) => assert_eq!(message, "access log writer stopped"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
