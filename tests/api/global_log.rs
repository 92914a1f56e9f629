//! The global log against real PostgreSQL: every committed event gets one
//! contiguous position in its stream's order, whichever instance (or how
//! many) sequences it, and verification finds tampering — even a full,
//! self-consistent rewrite, given a signed checkpoint taken before it.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::helpers::postgres::{TestDatabase, connect, disable_guards, restore_guards};
use crate::helpers::{
    TestApp, agent, auditor, log_entry_naming_no_event, sample_complaint, spawn_app, start_server, test_events,
    test_metadata, url_of,
};
use chrono::Utc;
use opsledger::infra::database;
use opsledger::store::canonical::to_canonical_bytes;
use opsledger::store::sequencer::{self, global_hash, sequence_batch};
use opsledger::store::verify::{LogVerdict, Verdict, verify_log, verify_streams};
use opsledger::store::{self, GENESIS_HASH, StreamHead, chain_hash};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_postgres::Client;
use uuid::Uuid;

/// How long any background work (the sequencer, a take-over) may take
/// before a test gives up. Generous: nothing here asserts speed.
const DEADLINE: Duration = Duration::from_secs(30);

fn key_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

fn id_of(view: &Value) -> String {
    view["id"].as_str().expect("the view has an id").to_owned()
}

async fn count(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.expect(sql).get(0)
}

/// The first column of every row `sql` returns.
async fn column<T: for<'a> tokio_postgres::types::FromSql<'a>>(client: &Client, sql: &str) -> Vec<T> {
    client
        .query(sql, &[])
        .await
        .expect(sql)
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Files the sample complaint through the server at `base`; returns its id.
/// A 503 (the pool was busy for 5 s on a loaded machine) is retried: the
/// log, not the pool, is under test here.
async fn file_complaint_at(app: &TestApp, base: &str) -> String {
    for _ in 0..20 {
        let response = app
            .http
            .post(format!("{base}/v1/complaints"))
            .bearer_auth(agent())
            .json(&sample_complaint())
            .send()
            .await
            .expect("request");
        match response.status().as_u16() {
            201 => return id_of(&response.json().await.expect("json")),
            503 => tokio::time::sleep(Duration::from_millis(50)).await,
            status => panic!(
                "filing a complaint answered {status}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    panic!("filing a complaint kept answering 503");
}

/// Adds an internal note through the server at `base`. Notes commute, but
/// the server gives up after a few lost races on a hot stream (412): a
/// client then simply retries, as a real one would.
async fn add_note_at(app: &TestApp, base: &str, id: &str, body: &str) {
    for _ in 0..50 {
        let response = app
            .http
            .post(format!("{base}/v1/complaints/{id}/notes"))
            .bearer_auth(agent())
            .json(&json!({"body": body, "visibility": "internal"}))
            .send()
            .await
            .expect("request");
        match response.status().as_u16() {
            200 => return,
            412 | 503 => tokio::time::sleep(Duration::from_millis(10)).await,
            status => panic!(
                "adding a note answered {status}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    panic!("adding a note to {id} kept losing races");
}

/// Waits until the sequencer has drained `event_queue`; returns the number
/// of events. Only call it once every append under test has committed.
async fn wait_until_sequenced(owner: &Client) -> i64 {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let queued = count(owner, "SELECT count(*) FROM event_queue").await;
        if queued == 0 {
            return count(owner, "SELECT count(*) FROM events").await;
        }
        assert!(
            Instant::now() < deadline,
            "{queued} committed event(s) still had no position after {DEADLINE:?}: no sequencer is working"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The backend holding the sequencer's advisory lock in this database, if any.
async fn leader_pid(owner: &Client) -> Option<i32> {
    sequencer::leader(owner).await.expect("pg_locks").map(|l| l.pid)
}

/// Waits for a sequencer (other than the backend `not`) to hold the lock.
async fn wait_for_leader(owner: &Client, not: Option<i32>) -> i32 {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(pid) = leader_pid(owner).await.filter(|pid| Some(*pid) != not) {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "no instance took the sequencer's lock within {DEADLINE:?} (the old holder was {not:?})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads the whole log and asserts what every reader relies on: positions
/// run 1..=N with N the number of events, every event has exactly one
/// position, and each stream's versions appear 1, 2, 3… in position order.
/// Returns (position, event_id) in position order.
async fn assert_log_is_contiguous_in_stream_order(owner: &Client) -> Vec<(i64, Uuid)> {
    let rows = owner
        .query(
            "SELECT l.position, l.seq_id, e.stream_id, e.version, e.event_id
             FROM event_log l JOIN events e ON e.seq_id = l.seq_id ORDER BY l.position",
            &[],
        )
        .await
        .expect("the log");
    let events = count(owner, "SELECT count(*) FROM events").await;
    let positions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        positions,
        (1..=events).collect::<Vec<_>>(),
        "positions run 1..=N without gaps or duplicates, N = the number of events"
    );
    let logged: HashSet<i64> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(logged.len(), rows.len(), "no event has two positions");
    let all: HashSet<i64> = column(owner, "SELECT seq_id FROM events").await.into_iter().collect();
    assert_eq!(logged, all, "every event has a position");
    let mut versions: HashMap<Uuid, i32> = HashMap::new();
    for row in &rows {
        let (position, stream, version): (i64, Uuid, i32) = (row.get(0), row.get(2), row.get(3));
        let last = versions.entry(stream).or_insert(0);
        assert_eq!(
            version,
            *last + 1,
            "stream {stream}: version {version} at position {position} follows version {last}"
        );
        *last = version;
    }
    rows.iter().map(|r| (r.get(0), r.get(4))).collect()
}

async fn assert_log_verifies(owner: &Client, events: i64) {
    match verify_log(owner).await.expect("verify_log") {
        LogVerdict::Intact {
            head_position, queued, ..
        } => assert_eq!((head_position, queued), (events, 0)),
        broken => panic!("the log should verify: {broken:?}"),
    }
}

// --- positions under load -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_get_contiguous_positions_exactly_once_in_stream_order() {
    let app = spawn_app().await;
    let mut shared = Vec::new();
    for _ in 0..4 {
        shared.push(file_complaint_at(&app, &app.base).await);
    }

    // 40 clients at once: each files a complaint and writes on it, and also
    // writes on one of four hot complaints the others write on too.
    let clients = (0..40).map(|i| {
        let app = &app;
        let hot = shared[i % shared.len()].clone();
        async move {
            let own = file_complaint_at(app, &app.base).await;
            add_note_at(app, &app.base, &own, &format!("client {i}: first")).await;
            add_note_at(app, &app.base, &hot, &format!("client {i} was here")).await;
            add_note_at(app, &app.base, &own, &format!("client {i}: second")).await;
            add_note_at(app, &app.base, &own, &format!("client {i}: third")).await;
        }
    });
    futures_util::future::join_all(clients).await;

    let owner = app.db.connect_admin().await;
    let events = wait_until_sequenced(&owner).await;
    // A filing appends the complaint and its clocks; a note moves no clock.
    assert_eq!(
        events,
        4 * 2 + 40 * (2 + 4),
        "every accepted request appended exactly its events"
    );
    let table = assert_log_is_contiguous_in_stream_order(&owner).await;
    assert_log_verifies(&owner, events).await;

    // An auditor pages through the feed and sees exactly the table.
    let mut feed = Vec::new();
    let mut after = 0i64;
    loop {
        let response = app.get(&format!("/v1/events?after={after}&limit=37"), &auditor()).await;
        assert_eq!(response.status(), 200, "the auditor may read the feed");
        let page: Value = response.json().await.expect("json");
        let batch = page["events"].as_array().expect("events").clone();
        if batch.is_empty() {
            assert_eq!(page["next_after"], after, "an empty page stays where it was");
            break;
        }
        for event in &batch {
            let position = event["position"].as_i64().expect("position");
            assert_eq!(position, after + 1, "the feed has no gap before {position}");
            let event_id = Uuid::parse_str(event["event_id"].as_str().expect("event_id")).expect("uuid");
            feed.push((position, event_id));
            after = position;
        }
        assert_eq!(page["next_after"], after);
        assert!(page["head"].as_i64().expect("head") >= after);
    }
    assert_eq!(feed, table, "the feed is the log, in position order");
}

// --- two sequencers at once ----------------------------------------------

/// One writer: `appends` appends of 1 to 3 events to its own stream, each
/// in its own transaction, like a command. Returns how many events it wrote.
async fn write_stream(pool: deadpool_postgres::Pool, writer: usize, appends: usize) -> usize {
    let stream = Uuid::now_v7();
    let mut head: Option<StreamHead> = None;
    let mut written = 0;
    for a in 0..appends {
        let n = (writer + a) % 3 + 1;
        head = Some(append(&pool, stream, head.as_ref(), n).await);
        written += n;
    }
    written
}

/// Seals `n` test events after `head` on `stream` and appends them in one
/// transaction; returns the new head.
async fn append(pool: &deadpool_postgres::Pool, stream: Uuid, head: Option<&StreamHead>, n: usize) -> StreamHead {
    let sealed = store::seal(stream, head, test_events(n), &test_metadata(), Utc::now()).expect("seal");
    let mut client = pool.get().await.expect("pool");
    let tx = client.transaction().await.expect("begin");
    store::insert(&tx, &sealed).await.expect("insert");
    tx.commit().await.expect("commit");
    sealed.last().expect("sealed").head()
}

/// A sequencer loop on its own connection, WITHOUT the advisory lock: keeps
/// sequencing until the writers are done and the queue is empty. Returns
/// how many events it sequenced.
async fn rogue_sequencer(config: tokio_postgres::Config, writers_done: Arc<AtomicBool>) -> usize {
    let mut client = connect(&config).await.expect("connect");
    let mut total = 0;
    loop {
        // Read the flag before looking at the queue: once it is set every
        // append has committed, so an empty batch then means an empty queue.
        let done = writers_done.load(Ordering::SeqCst);
        let (n, _) = sequence_batch(&mut client).await.expect("a batch never fails");
        total += n;
        if n == 0 {
            if done {
                return total;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sequencers_never_fork_the_log() {
    let db = TestDatabase::create().await;
    database::migrate(&db.admin).await.expect("migrations apply");
    let pool = database::pool(db.admin.clone(), 6).expect("pool");

    // Two sequencers at once, as a deposed leader that has not noticed yet
    // and its successor would be: only the head-row lock and the log's
    // constraints stand between them.
    let writers_done = Arc::new(AtomicBool::new(false));
    let sequencers: Vec<_> = (0..2)
        .map(|_| tokio::spawn(rogue_sequencer(db.admin.clone(), writers_done.clone())))
        .collect();
    let writers: Vec<_> = (0..16)
        .map(|w| tokio::spawn(write_stream(pool.clone(), w, 8)))
        .collect();
    let mut written = 0;
    for writer in writers {
        written += writer.await.expect("writer");
    }
    writers_done.store(true, Ordering::SeqCst);
    let mut sequenced = Vec::new();
    for sequencer in sequencers {
        sequenced.push(
            tokio::time::timeout(DEADLINE, sequencer)
                .await
                .expect("the sequencers drain the queue")
                .expect("sequencer"),
        );
    }
    assert_eq!(
        sequenced.iter().sum::<usize>(),
        written,
        "between them the sequencers placed every event exactly once ({sequenced:?})"
    );

    let owner = db.connect_admin().await;
    assert_eq!(count(&owner, "SELECT count(*) FROM event_queue").await, 0);
    let table = assert_log_is_contiguous_in_stream_order(&owner).await;
    assert_eq!(table.len(), written);
    assert_log_verifies(&owner, written as i64).await;
    assert_eq!(
        verify_streams(&owner).await.expect("verify_streams"),
        Verdict::Intact {
            streams: 16,
            events: written as u64
        }
    );
}

#[tokio::test]
async fn an_append_is_one_queue_entry_and_entries_queued_one_per_event_are_sequenced_too() {
    let db = TestDatabase::create().await;
    database::migrate(&db.admin).await.expect("migrations apply");
    let pool = database::pool(db.admin.clone(), 2).expect("pool");
    let mut owner = db.connect_admin().await;
    let stream = Uuid::now_v7();

    // Three events appended together wait as one entry, keyed by the first.
    let head = append(&pool, stream, None, 3).await;
    let entries = owner
        .query("SELECT seq_id, seq_ids FROM event_queue", &[])
        .await
        .expect("queue");
    assert_eq!(entries.len(), 1, "one append, one entry");
    let first: i64 = entries[0].get(0);
    let all: Vec<i64> = entries[0].get(1);
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], first, "the entry is keyed by its first event");
    assert!(all.windows(2).all(|w| w[0] < w[1]), "in seq_id order: {all:?}");
    assert_eq!(count(&owner, "SELECT count(*) FROM queued_events").await, 3);

    // Two more appends, the second queued as stores before migration V17
    // queued: one entry per event, without `seq_ids`.
    let head = append(&pool, stream, Some(&head), 2).await;
    append(&pool, stream, Some(&head), 2).await;
    owner
        .batch_execute(
            "WITH last AS (DELETE FROM event_queue WHERE seq_id = (SELECT max(seq_id) FROM event_queue) RETURNING seq_ids)
             INSERT INTO event_queue (seq_id) SELECT unnest(seq_ids) FROM last",
        )
        .await
        .expect("queue the last append one entry per event");
    assert_eq!(count(&owner, "SELECT count(*) FROM event_queue").await, 4);
    assert_eq!(count(&owner, "SELECT count(*) FROM queued_events").await, 7);

    let (sequenced, head_position) = sequence_batch(&mut owner).await.expect("a batch");
    assert_eq!((sequenced, head_position), (7, 7), "one batch places every event");
    assert_eq!(count(&owner, "SELECT count(*) FROM event_queue").await, 0);
    let table = assert_log_is_contiguous_in_stream_order(&owner).await;
    assert_eq!(table.len(), 7);
    assert_log_verifies(&owner, 7).await;

    // A long append waits as one entry per hundred events, so that each
    // entry fits in the queue's index.
    let other = Uuid::now_v7();
    append(&pool, other, None, 250).await;
    let sizes: Vec<i32> = column(&owner, "SELECT cardinality(seq_ids) FROM event_queue ORDER BY seq_id").await;
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(sequence_batch(&mut owner).await.expect("a batch"), (250, 257));
    assert_log_is_contiguous_in_stream_order(&owner).await;
    assert_log_verifies(&owner, 257).await;
}

// --- leadership -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_takes_over_when_the_leader_dies() {
    let app = spawn_app().await;
    let (second, _second_handle) = start_server(&app.db, |_| {}).await;
    let bases = [app.base.clone(), second];
    let owner = app.db.connect_admin().await;

    let first_leader = wait_for_leader(&owner, None).await;
    let application: String = owner
        .query_one(
            "SELECT application_name FROM pg_stat_activity WHERE pid = $1",
            &[&first_leader],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    assert_eq!(
        application, "opsledger-sequencer",
        "the lock is held by a sequencer's session"
    );
    for base in &bases {
        file_complaint_at(&app, base).await;
    }
    wait_until_sequenced(&owner).await;

    // The leader's session dies (a crashed process, a cut connection).
    let terminated: bool = owner
        .query_one("SELECT pg_terminate_backend($1)", &[&first_leader])
        .await
        .expect("terminate")
        .get(0);
    assert!(terminated);

    // Both instances keep taking appends, and every one gets a position.
    let mut ids = Vec::new();
    for round in 0..3 {
        for base in &bases {
            let id = file_complaint_at(&app, base).await;
            add_note_at(&app, base, &id, &format!("round {round}")).await;
            ids.push(id);
        }
    }
    let events = wait_until_sequenced(&owner).await;
    // A filing is two events (the complaint and its clocks), a note one.
    assert_eq!(events, 2 * 2 + 6 * (2 + 1));
    let new_leader = wait_for_leader(&owner, Some(first_leader)).await;
    assert_ne!(new_leader, first_leader);
    assert_log_is_contiguous_in_stream_order(&owner).await;
    assert_log_verifies(&owner, events).await;
}

// --- verification -----------------------------------------------------------

/// A server with three complaints of four events each (filed, clocks
/// pinned, two notes), all sequenced.
async fn app_with_history() -> (TestApp, Client, i64) {
    let app = spawn_app().await;
    for c in 0..3 {
        let id = file_complaint_at(&app, &app.base).await;
        for n in 0..2 {
            add_note_at(&app, &app.base, &id, &format!("complaint {c}, note {n}")).await;
        }
    }
    let owner = app.db.connect_admin().await;
    let events = wait_until_sequenced(&owner).await;
    assert_eq!(events, 12);
    (app, owner, events)
}

async fn verify_over_http(app: &TestApp) -> Value {
    let response = app.get("/v1/audit/verify", &auditor()).await;
    assert_eq!(response.status(), 200, "an auditor may verify");
    response.json().await.expect("json")
}

async fn assert_guards_restored(owner: &Client) {
    let states: Vec<String> = owner
        .query(
            "SELECT tgenabled::text FROM pg_trigger
             WHERE tgname IN ('events_refuse_update_delete', 'event_log_refuse_update_delete')",
            &[],
        )
        .await
        .expect("pg_trigger")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(states, ["A", "A"], "the triggers are back to ENABLE ALWAYS");
}

#[tokio::test]
async fn verification_reports_the_first_altered_event() {
    let (app, mut owner, events) = app_with_history().await;
    let report = verify_over_http(&app).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["head_position"], events, "{report}");
    assert_eq!(report["events"], events, "{report}");

    // Someone with superuser rights changes one byte of a stream's second event.
    let target = owner
        .query_one(
            "SELECT seq_id, stream_id, stored FROM events WHERE version = 2 ORDER BY seq_id LIMIT 1",
            &[],
        )
        .await
        .expect("an event at version 2");
    let (seq_id, stream): (i64, Uuid) = (target.get(0), target.get(1));
    let mut stored: Vec<u8> = target.get(2);
    let middle = stored.len() / 2;
    stored[middle] = if stored[middle] == b'x' { b'y' } else { b'x' };
    let tx = owner.transaction().await.expect("begin");
    disable_guards(&tx).await;
    let changed = tx
        .execute("UPDATE events SET stored = $1 WHERE seq_id = $2", &[&stored, &seq_id])
        .await
        .expect("update");
    assert_eq!(changed, 1);
    restore_guards(&tx).await;
    tx.commit().await.expect("commit");
    assert_guards_restored(&owner).await;

    let report = verify_over_http(&app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["stream"],
        stream.to_string(),
        "the report names the stream: {report}"
    );
    assert_eq!(report["version"], 2, "and the altered version: {report}");
    assert!(
        report["position"].is_null(),
        "the per-stream check finds it first: {report}"
    );
    assert!(
        report["reason"].as_str().unwrap_or_default().contains("altered"),
        "{report}"
    );
}

#[tokio::test]
async fn verification_reports_a_log_entry_removed_from_the_end() {
    let (app, mut owner, events) = app_with_history().await;
    let tx = owner.transaction().await.expect("begin");
    disable_guards(&tx).await;
    let removed = tx
        .execute("DELETE FROM event_log WHERE position = $1", &[&events])
        .await
        .expect("delete");
    assert_eq!(removed, 1);
    restore_guards(&tx).await;
    tx.commit().await.expect("commit");
    assert_guards_restored(&owner).await;

    let report = verify_over_http(&app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["position"], events, "{report}");
    assert!(
        report["reason"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("ends at {}", events - 1)),
        "{report}"
    );
}

/// The log's entries name their events without a foreign key (migration
/// V18): one that names no event is for verification to find.
#[tokio::test]
async fn verification_reports_a_log_entry_that_names_no_event() {
    let (app, owner, events) = app_with_history().await;
    let head: Vec<u8> = owner
        .query_one("SELECT hash FROM event_log_head", &[])
        .await
        .expect("the log's head")
        .get(0);
    log_entry_naming_no_event(&owner, events + 1, &head).await;

    let report = verify_over_http(&app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["position"], events + 1, "{report}");
    assert!(
        report["reason"].as_str().unwrap_or_default().contains("removed"),
        "{report}"
    );
}

#[tokio::test]
async fn verification_reports_a_reordered_log() {
    let (app, mut owner, _) = app_with_history().await;
    // Two neighbours from different streams, so each stream's own order
    // stays intact: only the global chain can tell.
    let rows = owner
        .query(
            "SELECT l.position, l.seq_id, l.global_hash, l.sequenced_at, e.stream_id
             FROM event_log l JOIN events e ON e.seq_id = l.seq_id ORDER BY l.position",
            &[],
        )
        .await
        .expect("the log");
    let k = rows
        .windows(2)
        .position(|w| w[0].get::<_, Uuid>(4) != w[1].get::<_, Uuid>(4))
        .expect("two streams meet somewhere");
    let (a, b) = (&rows[k], &rows[k + 1]);
    let swapped_at: i64 = a.get(0);

    // UNIQUE (seq_id) forbids swapping in place: take both out, put them back swapped.
    let tx = owner.transaction().await.expect("begin");
    disable_guards(&tx).await;
    tx.execute(
        "DELETE FROM event_log WHERE position IN ($1, $2)",
        &[&a.get::<_, i64>(0), &b.get::<_, i64>(0)],
    )
    .await
    .expect("delete");
    for (row, seq_id) in [(a, b.get::<_, i64>(1)), (b, a.get::<_, i64>(1))] {
        tx.execute(
            "INSERT INTO event_log (position, seq_id, global_hash, sequenced_at) VALUES ($1, $2, $3, $4)",
            &[
                &row.get::<_, i64>(0),
                &seq_id,
                &row.get::<_, Vec<u8>>(2),
                &row.get::<_, chrono::DateTime<Utc>>(3),
            ],
        )
        .await
        .expect("insert");
    }
    restore_guards(&tx).await;
    tx.commit().await.expect("commit");
    assert_guards_restored(&owner).await;

    let report = verify_over_http(&app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["position"], swapped_at, "the first moved position: {report}");
    assert!(
        report["reason"].as_str().unwrap_or_default().contains("global chain"),
        "{report}"
    );
}

/// Runs the `opsledger` binary against the test database as its owner.
async fn cli(app: &TestApp, args: &[&OsStr]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_opsledger"))
        .args(args)
        .env("DATABASE_URL", url_of(&app.db.admin, None))
        .env_remove("OPSLEDGER_MIGRATION_DATABASE_URL")
        .output()
        .await
        .expect("the CLI runs")
}

fn stdout_json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `opsledger checkpoint --key <private> --out <cp>`; returns the checkpoint.
async fn take_checkpoint(app: &TestApp, cp: &Path) -> Value {
    let output = cli(
        app,
        &[
            OsStr::new("checkpoint"),
            OsStr::new("--key"),
            key_file("ed25519-private.pem").as_os_str(),
            OsStr::new("--out"),
            cp.as_os_str(),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&std::fs::read_to_string(cp).expect("the checkpoint file")).expect("json")
}

/// `opsledger verify --checkpoint <cp> --public-key <public>`.
async fn verify_against(app: &TestApp, cp: &Path) -> std::process::Output {
    let public = key_file("ed25519-public.pem");
    cli(
        app,
        &[
            OsStr::new("verify"),
            OsStr::new("--checkpoint"),
            cp.as_os_str(),
            OsStr::new("--public-key"),
            public.as_os_str(),
        ],
    )
    .await
}

/// Rewrites history the way someone in full control of the database could:
/// alters one event and recomputes its stream's later hashes, the whole
/// global chain and the head, so that everything is self-consistent.
async fn rewrite_history(owner: &mut Client, seq_id: i64) {
    let tx = owner.transaction().await.expect("begin");
    tx.query_one("SELECT position FROM event_log_head WHERE id FOR UPDATE", &[])
        .await
        .expect("lock the head");
    disable_guards(&tx).await;

    let target = tx
        .query_one("SELECT stream_id, stored FROM events WHERE seq_id = $1", &[&seq_id])
        .await
        .expect("the event");
    let stream: Uuid = target.get(0);
    let mut envelope: Value = serde_json::from_slice(&target.get::<_, Vec<u8>>(1)).expect("envelope");
    envelope["metadata"]["actor"] = json!("https://idp.test|someone-else");
    let forged = to_canonical_bytes(&envelope).expect("canonical");

    let mut previous = GENESIS_HASH;
    for row in tx
        .query(
            "SELECT seq_id, stored, hash FROM events WHERE stream_id = $1 ORDER BY version",
            &[&stream],
        )
        .await
        .expect("the stream")
    {
        let this: i64 = row.get(0);
        let stored = if this == seq_id { forged.clone() } else { row.get(1) };
        let hash = chain_hash(&previous, &stored);
        if hash.as_slice() != row.get::<_, &[u8]>(2) {
            tx.execute(
                "UPDATE events SET stored = $1, hash = $2 WHERE seq_id = $3",
                &[&stored, &hash.as_slice(), &this],
            )
            .await
            .expect("rewrite the event");
        }
        previous = hash;
    }

    let mut previous = GENESIS_HASH;
    for row in tx
        .query(
            "SELECT l.position, e.hash FROM event_log l JOIN events e ON e.seq_id = l.seq_id ORDER BY l.position",
            &[],
        )
        .await
        .expect("the log")
    {
        let position: i64 = row.get(0);
        let event_hash: [u8; 32] = row.get::<_, &[u8]>(1).try_into().expect("32 bytes");
        previous = global_hash(&previous, &event_hash);
        tx.execute(
            "UPDATE event_log SET global_hash = $1 WHERE position = $2",
            &[&previous.as_slice(), &position],
        )
        .await
        .expect("rewrite the global chain");
    }
    tx.execute("UPDATE event_log_head SET hash = $1 WHERE id", &[&previous.as_slice()])
        .await
        .expect("rewrite the head");
    restore_guards(&tx).await;
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_taken_before_a_full_rewrite_exposes_it() {
    let (app, mut owner, events) = app_with_history().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cp = dir.path().join("cp.json");
    let checkpoint = take_checkpoint(&app, &cp).await;
    assert_eq!(checkpoint["position"], events);

    let output = verify_against(&app, &cp).await;
    assert!(
        output.status.success(),
        "the intact log extends the checkpoint: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout_json(&output)["ok"], true);

    let seq_id: i64 = owner
        .query_one(
            "SELECT seq_id FROM events WHERE version = 2 ORDER BY seq_id LIMIT 1",
            &[],
        )
        .await
        .expect("an event at version 2")
        .get(0);
    rewrite_history(&mut owner, seq_id).await;
    assert_guards_restored(&owner).await;

    // Every hash recomputes: on its own the database cannot tell.
    let report = verify_over_http(&app).await;
    assert_eq!(
        report["ok"], true,
        "a self-consistent rewrite passes plain verification: {report}"
    );
    assert_eq!(report["head_position"], events);
    assert_ne!(report["head_hash"], checkpoint["head_hash"], "the head moved");
    let output = cli(&app, &[OsStr::new("verify")]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // The signed checkpoint kept outside the database can.
    let output = verify_against(&app, &cp).await;
    assert!(!output.status.success(), "the rewrite is caught");
    let report = stdout_json(&output);
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["position"], events, "{report}");
    let reason = report["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("checkpoint"),
        "the report names the checkpoint: {report}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("verification FAILED"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_cli_verify_succeeds_on_an_intact_log() {
    let (app, _owner, events) = app_with_history().await;
    let output = cli(&app, &[OsStr::new("verify")]).await;
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout_json(&output);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["head_position"], events, "{report}");
    assert_eq!(report["events"], events, "{report}");
    assert_eq!(report["queued"], 0, "{report}");
}

#[tokio::test]
async fn a_checkpoint_keeps_verifying_as_the_log_grows_even_from_empty() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cp = dir.path().join("cp.json");

    // Signed right after installation: the empty log, position 0.
    let checkpoint = take_checkpoint(&app, &cp).await;
    assert_eq!(checkpoint["position"], 0);
    assert_eq!(checkpoint["head_hash"], "00".repeat(32));
    let output = verify_against(&app, &cp).await;
    assert!(
        output.status.success(),
        "the empty log extends its own checkpoint: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // Appends only extend the log: the old checkpoint still verifies.
    let id = file_complaint_at(&app, &app.base).await;
    add_note_at(&app, &app.base, &id, "later").await;
    let events = wait_until_sequenced(&app.db.connect_admin().await).await;
    let output = verify_against(&app, &cp).await;
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout_json(&output);
    assert_eq!(
        (report["ok"].clone(), report["head_position"].clone()),
        (json!(true), json!(events))
    );
}
