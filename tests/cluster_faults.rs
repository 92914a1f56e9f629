//! Issue 8, parts 3 and 4: several real `opsledger serve` processes on one
//! PostgreSQL cluster that these tests start (and stop) themselves, faults
//! under concurrent load, and graceful shutdown.
//!
//! Every test has its own private cluster under `CARGO_TARGET_TMPDIR` (not
//! the shared test cluster: it is stopped and restarted here). Servers run
//! as the real binary, connect as superuser with `role=opsledger_app` and
//! migrate as the owner, exactly like `tests/api/helpers.rs` does in-process.
//!
//! A test binary of its own: these tests are slow and start processes and
//! clusters of their own; the shared support is included from the `api`
//! binary's helpers.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::collections::{HashMap, HashSet};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use opsledger::infra::embedded_pg::EmbeddedPostgres;
use opsledger::store::sequencer;
use serde_json::Value;

use helpers::postgres::connect;
use helpers::{AUDIENCE, BIN, ISSUER, MASTER_KEY, SECRET, agent, auditor, free_port, header, sample_complaint, url_of};

const DATABASE: &str = "opsledger";

// ---------------------------------------------------------------------------
// The cluster and the server processes, with guards that clean up on panic.

struct Cluster {
    pg: EmbeddedPostgres,
    /// Holds the server logs and data dirs.
    dir: PathBuf,
    data_dir: PathBuf,
    /// Superuser on the `opsledger` database.
    admin: tokio_postgres::Config,
}

impl Cluster {
    async fn start(name: &str) -> Cluster {
        let dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cluster-faults-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("test dir");
        let data_dir = EmbeddedPostgres::reachable_dir(&dir.join("postgres")).expect("a place for the cluster");
        let pg = EmbeddedPostgres::start(&data_dir)
            .await
            .expect("the private cluster starts");
        let postgres = connect(&pg.superuser_config("postgres")).await.expect("connect");
        postgres
            .batch_execute(&format!("CREATE DATABASE {DATABASE} TEMPLATE template0"))
            .await
            .expect("create database");
        let admin = pg.superuser_config(DATABASE);
        Cluster {
            pg,
            dir,
            data_dir,
            admin,
        }
    }

    async fn client(&self) -> tokio_postgres::Client {
        connect(&self.admin).await.expect("admin connection")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg.stop();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One `opsledger serve` process; killed (and its log shown) if the test fails.
struct Instance {
    name: String,
    child: Child,
    port: u16,
    base: String,
    log: PathBuf,
    exited: Option<ExitStatus>,
}

impl Instance {
    fn spawn(cluster: &Cluster, name: &str, shutdown_timeout_secs: u64) -> Instance {
        let port = free_port();
        let data = cluster.dir.join(format!("data-{name}"));
        std::fs::create_dir_all(&data).expect("data dir");
        let log = cluster.dir.join(format!("server-{name}.log"));
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("DATABASE_URL", url_of(&cluster.admin, Some("opsledger_app")))
            .env("OPSLEDGER_MIGRATION_DATABASE_URL", url_of(&cluster.admin, None))
            .env("OPSLEDGER_DATA_DIR", &data)
            .env("OPSLEDGER_DEV_MODE", "true")
            .env("OPSLEDGER_JWT_SECRET", SECRET)
            .env("OPSLEDGER_JWT_ISSUER", ISSUER)
            .env("OPSLEDGER_JWT_AUDIENCE", AUDIENCE)
            .env("OPSLEDGER_MASTER_KEY", MASTER_KEY)
            .env("OPSLEDGER_WORKERS", "2")
            .env("OPSLEDGER_DB_POOL_SIZE", "8")
            .env("OPSLEDGER_SHUTDOWN_TIMEOUT_SECS", shutdown_timeout_secs.to_string())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the binary starts");
        Instance {
            name: name.to_owned(),
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            log,
            exited: None,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid() as i32), signal).expect("signal");
    }

    fn running(&mut self) -> bool {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().expect("try_wait");
        }
        self.exited.is_none()
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            assert!(self.running(), "instance {} exited early: {:?}", self.name, self.exited);
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("instance {} not ready within 60 s", self.name);
    }

    /// Waits for the process to exit, at most `limit`.
    async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        while self.running() {
            assert!(
                Instant::now() < deadline,
                "instance {} did not exit within {limit:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.exited.expect("exited")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of instance {} ({}) ---", self.name, self.log.display());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Who is the sequencer: the backend holding LEADER_LOCK, mapped to the
// server process that owns the client end of its TCP connection.

/// The client port of the backend holding the sequencer's advisory lock.
async fn leader_client_port(db: &tokio_postgres::Client) -> Option<u16> {
    sequencer::leader(db)
        .await
        .expect("pg_locks")
        .and_then(|l| l.client_port)
}

/// The pid among `pids` with a TCP socket whose local port is `port`.
fn pid_owning_local_port(port: u16, pids: &[u32]) -> Option<u32> {
    let suffix = format!(":{port:04X}");
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 9 && cols[1].ends_with(&suffix) {
                inodes.insert(format!("socket:[{}]", cols[9]));
            }
        }
    }
    pids.iter().copied().find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| inodes.contains(target.to_string_lossy().as_ref()))
            })
        })
    })
}

/// Index of the instance (among the running ones) that is the sequencer,
/// waiting up to `limit` for one to be.
async fn wait_for_leader(db: &tokio_postgres::Client, instances: &mut [Instance], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let pids: Vec<u32> = instances
            .iter_mut()
            .filter_map(|i| i.running().then(|| i.pid()))
            .collect();
        if let Some(port) = leader_client_port(db).await
            && let Some(pid) = pid_owning_local_port(port, &pids)
        {
            return instances.iter().position(|i| i.pid() == pid).expect("instance");
        }
        assert!(
            Instant::now() < deadline,
            "no running instance became the sequencer within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------
// Load: clients filing complaints, each with its own Idempotency-Key.

#[derive(Debug, Clone)]
struct Filed {
    key: String,
    ticket: String,
    /// The instance that answered 2xx, and when.
    instance: usize,
    at: Instant,
}

#[derive(Debug, Default)]
struct LoadReport {
    filed: Vec<Filed>,
    /// Requests that never got a 2xx within the retry budget, or got an
    /// answer no retry can fix (key, last outcome).
    failed: Vec<(String, String)>,
    /// Attempts that failed with a connection error or 5xx and were retried.
    retried: usize,
}

struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<LoadReport>>,
}

impl Load {
    /// `clients` tasks file complaints round-robin over `bases`. On a
    /// connection error, a 5xx or "in progress", the same request with the
    /// same key is retried on the next instance (at most 40 attempts).
    fn start(bases: Vec<String>, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        let token = agent();
        let tasks = (0..clients)
            .map(|client| {
                let (stop, http, token, bases) = (stop.clone(), http.clone(), token.clone(), bases.clone());
                tokio::spawn(async move {
                    let mut report = LoadReport::default();
                    let mut turn = client;
                    while !stop.load(Ordering::Relaxed) {
                        let key = format!("load-{client}-{}", uuid::Uuid::now_v7());
                        let mut last = String::new();
                        let mut done = false;
                        for _attempt in 0..40 {
                            let instance = turn % bases.len();
                            turn += 1;
                            let sent = http
                                .post(format!("{}/v1/complaints", bases[instance]))
                                .bearer_auth(&token)
                                .header("Idempotency-Key", &key)
                                .json(&sample_complaint())
                                .send()
                                .await;
                            match sent {
                                Ok(r) if r.status().is_success() => {
                                    let body: Value = match r.json().await {
                                        Ok(body) => body,
                                        Err(e) => {
                                            // The body was cut off: not a complete 2xx.
                                            last = format!("2xx with a broken body: {e}");
                                            report.retried += 1;
                                            continue;
                                        }
                                    };
                                    report.filed.push(Filed {
                                        key: key.clone(),
                                        ticket: body["id"].as_str().expect("ticket id").to_owned(),
                                        instance,
                                        at: Instant::now(),
                                    });
                                    done = true;
                                    break;
                                }
                                Ok(r) => {
                                    let status = r.status().as_u16();
                                    let body = r.text().await.unwrap_or_default();
                                    last = format!("{status} {body}");
                                    let retry =
                                        status >= 500 || (status == 409 && body.contains("idempotency-in-progress"));
                                    if !retry {
                                        break;
                                    }
                                }
                                Err(e) => last = format!("{e:?}"),
                            }
                            report.retried += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        if !done {
                            report.failed.push((key, last));
                        }
                    }
                    report
                })
            })
            .collect();
        Load { stop, tasks }
    }

    async fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = LoadReport::default();
        for task in self.tasks {
            let report = task.await.expect("load task");
            all.filed.extend(report.filed);
            all.failed.extend(report.failed);
            all.retried += report.retried;
        }
        all
    }
}

// ---------------------------------------------------------------------------
// Checks on the log, via SQL and the API.

/// Waits (at most 20 s) until every event is positioned, then checks that
/// positions are exactly 1..N and the head row agrees. Returns N.
async fn wait_until_sequenced(db: &tokio_postgres::Client) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = db
            .query_one(
                "SELECT (SELECT count(*) FROM event_queue), (SELECT count(*) FROM events),
                        (SELECT count(*) FROM event_log), (SELECT coalesce(min(position), 0) FROM event_log),
                        (SELECT coalesce(max(position), 0) FROM event_log),
                        (SELECT position FROM event_log_head WHERE id)",
                &[],
            )
            .await
            .expect("counts");
        let (queued, events, logged, min, max, head): (i64, i64, i64, i64, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
        if queued == 0 && logged == events {
            assert_eq!(max, logged, "positions are contiguous: max position equals the count");
            assert!(logged == 0 || min == 1, "positions start at 1");
            assert_eq!(head, max, "the head row matches the log");
            return logged;
        }
        assert!(
            Instant::now() < deadline,
            "not every event was positioned within 20 s: {queued} queued, {logged} of {events} in the log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pages the whole feed through the API; checks positions are 1..N with no
/// gap and returns the events.
async fn read_feed(base: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let auditor = auditor();
    let mut after = 0i64;
    let mut events = Vec::new();
    loop {
        let page: Value = http
            .get(format!("{base}/v1/events?after={after}&limit=1000"))
            .bearer_auth(&auditor)
            .send()
            .await
            .expect("feed")
            .json()
            .await
            .expect("feed json");
        let batch = page["events"].as_array().expect("events").clone();
        if batch.is_empty() {
            return events;
        }
        for event in batch {
            after += 1;
            assert_eq!(event["position"], after, "the feed is gap-free");
            events.push(event);
        }
    }
}

/// Every event as (stream, version, type, idempotency key from the stored envelope).
async fn stored_events(db: &tokio_postgres::Client) -> Vec<(uuid::Uuid, i32, String, Option<String>)> {
    db.query(
        "SELECT stream_id, version, event_type,
                convert_from(stored, 'UTF8')::jsonb #>> '{metadata,idempotency_key}'
         FROM events ORDER BY seq_id",
        &[],
    )
    .await
    .expect("events")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect()
}

/// The log's integrity after a fault: every 2xx filing is in the log exactly
/// once (as the ticket the client was told), no event exists that no client
/// got a 2xx for, every stream is complete, every ticket has its view row
/// and idempotency record, and the log is fully and contiguously sequenced.
async fn check_log(db: &tokio_postgres::Client, filed: &[Filed]) -> i64 {
    let keys: HashMap<&str, &str> = filed.iter().map(|f| (f.key.as_str(), f.ticket.as_str())).collect();
    assert_eq!(keys.len(), filed.len(), "every key was answered 2xx once by the load");
    let events = stored_events(db).await;
    let mut filed_by_key: HashMap<String, Vec<uuid::Uuid>> = HashMap::new();
    for (stream, _, event_type, key) in &events {
        let key = key
            .as_deref()
            .unwrap_or_else(|| panic!("{event_type} on {stream} carries no idempotency key"));
        assert!(
            keys.contains_key(key),
            "{event_type} on {stream} was written for key {key}, which no client got a 2xx for"
        );
        if event_type == "complaint.filed" {
            filed_by_key.entry(key.to_owned()).or_default().push(*stream);
        }
    }
    for f in filed {
        let streams = filed_by_key.get(&f.key).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            streams.len(),
            1,
            "key {} (2xx, ticket {}) is filed exactly once in the log",
            f.key,
            f.ticket
        );
        assert_eq!(
            streams[0].to_string(),
            f.ticket,
            "the logged ticket is the one the client was given"
        );
    }
    // Versions 1..n in every stream, nothing half-written.
    let broken = db
        .query(
            "SELECT stream_id FROM events GROUP BY stream_id HAVING min(version) <> 1 OR max(version) <> count(*)",
            &[],
        )
        .await
        .expect("streams");
    assert!(
        broken.is_empty(),
        "{} stream(s) have a gap in their versions",
        broken.len()
    );
    let idempotency: Vec<(String, i64)> = db
        .query("SELECT key, count(*) FROM idempotency_keys GROUP BY key", &[])
        .await
        .expect("idempotency")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(idempotency.len(), filed.len(), "one idempotency record per 2xx key");
    for (key, count) in &idempotency {
        assert_eq!(*count, 1, "{key}");
        assert!(
            keys.contains_key(key.as_str()),
            "idempotency record {key} without a 2xx"
        );
    }
    let tickets: HashSet<String> = db
        .query("SELECT id::text FROM tickets", &[])
        .await
        .expect("tickets")
        .iter()
        .map(|r| r.get(0))
        .collect();
    for f in filed {
        assert!(tickets.contains(&f.ticket), "ticket {} has its view row", f.ticket);
    }
    wait_until_sequenced(db).await
}

/// `opsledger verify` recomputes every chain from the stored bytes.
fn verify(cluster: &Cluster) {
    let output = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", url_of(&cluster.admin, None))
        .env("OPSLEDGER_DATA_DIR", cluster.dir.join("verify"))
        .arg("verify")
        .output()
        .expect("verify runs");
    assert!(
        output.status.success(),
        "opsledger verify: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_sequencer_leader_mid_load_loses_and_duplicates_nothing() {
    let started = Instant::now();
    let cluster = Cluster::start("kill").await;
    // The first instance migrates; the others find the schema current.
    let mut instances = vec![Instance::spawn(&cluster, "a", 5)];
    instances[0].wait_ready().await;
    instances.push(Instance::spawn(&cluster, "b", 5));
    instances.push(Instance::spawn(&cluster, "c", 5));
    for instance in &mut instances {
        instance.wait_ready().await;
    }
    let db = cluster.client().await;
    let leader = wait_for_leader(&db, &mut instances, Duration::from_secs(20)).await;

    let load = Load::start(instances.iter().map(|i| i.base.clone()).collect(), 6);
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Mid-load: the sequencer leader dies without any chance to clean up.
    let killed_at = Instant::now();
    instances[leader].signal(Signal::SIGKILL);
    let status = instances[leader].wait_exit(Duration::from_secs(10)).await;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "killed by SIGKILL"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = load.stop().await;

    assert!(
        report.failed.is_empty(),
        "requests that never got a 2xx: {:?}",
        report.failed
    );
    let before = report.filed.iter().filter(|f| f.at < killed_at).count();
    let after = report.filed.len() - before;
    assert!(
        before > 0 && after > 0,
        "load ran on both sides of the kill ({before} before, {after} after)"
    );
    // The survivors kept serving.
    for (i, instance) in instances.iter_mut().enumerate() {
        if i == leader {
            continue;
        }
        assert!(instance.running(), "survivor {} is running", instance.name);
        let served = report
            .filed
            .iter()
            .filter(|f| f.instance == i && f.at > killed_at)
            .count();
        assert!(served > 0, "survivor {} answered 2xx after the kill", instance.name);
    }
    // Another instance took the sequencer over.
    let new_leader = wait_for_leader(&db, &mut instances, Duration::from_secs(20)).await;
    assert_ne!(new_leader, leader);

    let positioned = check_log(&db, &report.filed).await;
    let survivor = &instances[new_leader].base;
    let feed = read_feed(survivor).await;
    assert_eq!(feed.len() as i64, positioned, "the feed serves every positioned event");
    let filings = feed.iter().filter(|e| e["type"] == "complaint.filed").count();
    assert_eq!(filings, report.filed.len(), "one complaint.filed per 2xx in the feed");
    verify(&cluster);
    eprintln!(
        "kill test: {} filed ({before} before the kill, {after} after), {} retried attempts, {positioned} positions, {:.1?}",
        report.filed.len(),
        report.retried,
        started.elapsed()
    );
}

fn is_unavailable_problem(status: u16, content_type: &str, body: &Value) -> bool {
    status == 503
        && content_type.starts_with("application/problem+json")
        && body["type"] == "urn:opsledger:problem:unavailable"
        && body["status"] == 503
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_answers_503_while_postgres_restarts_and_recovers_by_itself() {
    let started = Instant::now();
    let mut cluster = Cluster::start("restart").await;
    let mut instance = Instance::spawn(&cluster, "solo", 5);
    instance.wait_ready().await;
    let pid = instance.pid();
    let base = instance.base.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let agent = agent();

    // Light background load for the whole test: one client, no retries;
    // every answer must be a 2xx or a 503 problem, never a 500 or a hang.
    let stop = Arc::new(AtomicBool::new(false));
    let background = {
        let (stop, http, agent, base) = (stop.clone(), http.clone(), agent.clone(), base.clone());
        tokio::spawn(async move {
            let mut statuses: Vec<(u16, Instant)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = http
                    .post(format!("{base}/v1/complaints"))
                    .bearer_auth(&agent)
                    .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
                    .json(&sample_complaint())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("background request failed: {e:?}"));
                let status = r.status().as_u16();
                let content_type = header(&r, "content-type");
                let body: Value = r.json().await.unwrap_or(Value::Null);
                assert!(
                    (200..300).contains(&status) || is_unavailable_problem(status, &content_type, &body),
                    "background load got {status} {content_type} {body}"
                );
                statuses.push((status, Instant::now()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;

    // PostgreSQL goes away (fast shutdown: every session is terminated).
    tokio::task::block_in_place(|| cluster.pg.stop()).expect("pg stops");
    let stopped_at = Instant::now();
    let refused_key = "filed-while-the-database-is-away";
    for i in 0..5 {
        let key = if i == 0 {
            refused_key.to_owned()
        } else {
            uuid::Uuid::now_v7().to_string()
        };
        let r = http
            .post(format!("{base}/v1/complaints"))
            .bearer_auth(&agent)
            .header("Idempotency-Key", key)
            .json(&sample_complaint())
            .send()
            .await
            .expect("an answer, not a hang, while the database is away");
        let status = r.status().as_u16();
        let content_type = header(&r, "content-type");
        let retry_after = header(&r, "retry-after");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            is_unavailable_problem(status, &content_type, &body),
            "filing while the database is away: {status} {content_type} {body}"
        );
        assert!(!retry_after.is_empty(), "503 carries Retry-After");
        let r = http.get(format!("{base}/readyz")).send().await.expect("readyz answers");
        let status = r.status().as_u16();
        let content_type = header(&r, "content-type");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            is_unavailable_problem(status, &content_type, &body),
            "/readyz while the database is away: {status} {content_type} {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(instance.running(), "the server survives the database going away");

    // PostgreSQL comes back on the same port; the same process recovers.
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.pg.restart().await.expect("pg restarts on the same port");
    let restarted_at = Instant::now();
    let deadline = restarted_at + Duration::from_secs(30);
    loop {
        let r = http.get(format!("{base}/readyz")).send().await.expect("readyz answers");
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503, "/readyz is 503 until it recovers");
        assert!(Instant::now() < deadline, "/readyz did not recover within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The refused request, retried with its key, is filed now (nothing was
    // recorded for it while the database was away).
    let r = http
        .post(format!("{base}/v1/complaints"))
        .bearer_auth(&agent)
        .header("Idempotency-Key", refused_key)
        .json(&sample_complaint())
        .send()
        .await
        .expect("filing after recovery");
    assert_eq!(r.status(), 201, "filing works again without restarting the server");
    assert!(r.headers().get("idempotent-replayed").is_none(), "not a replay");
    let location = header(&r, "location");
    assert!(!location.is_empty(), "201 carries Location");
    let read = http
        .get(format!("{base}{location}"))
        .bearer_auth(&agent)
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 200, "reading (with its access log entry) works again");

    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let statuses = background.await.expect("background load");
    assert!(
        statuses
            .iter()
            .any(|(s, at)| (200..300).contains(s) && *at < stopped_at),
        "the load was served before the outage"
    );
    assert!(
        statuses
            .iter()
            .any(|(s, at)| (200..300).contains(s) && *at > restarted_at),
        "the load is served again after the restart"
    );
    assert!(
        instance.running() && instance.pid() == pid,
        "the same server process, never restarted"
    );

    // The sequencer came back too: every event gets a contiguous position.
    let db = cluster.client().await;
    let positioned = wait_until_sequenced(&db).await;
    assert_eq!(read_feed(&base).await.len() as i64, positioned);
    verify(&cluster);
    eprintln!(
        "restart test: {} background requests ({} answered 503), {positioned} positions, {:.1?}",
        statuses.len(),
        statuses.iter().filter(|(s, _)| *s == 503).count(),
        started.elapsed()
    );
}

/// What a client saw for one request in the shutdown test.
#[derive(Debug)]
enum Seen {
    Status(u16),
    /// No connection was made (refused): the request was never accepted.
    Refused,
    /// Anything else: a reset or truncated answer on an accepted connection.
    Broken(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_drains_in_flight_requests_exits_0_and_hands_the_sequencer_over() {
    let started = Instant::now();
    let cluster = Cluster::start("sigterm").await;
    let mut instances = vec![Instance::spawn(&cluster, "a", 30)];
    instances[0].wait_ready().await;
    instances.push(Instance::spawn(&cluster, "b", 30));
    instances[1].wait_ready().await;
    let db = cluster.client().await;
    let leader = wait_for_leader(&db, &mut instances, Duration::from_secs(20)).await;
    let other = 1 - leader;
    let target = instances[leader].base.clone();

    // Load on the leader: each request on a fresh connection, so that
    // "refused" (never accepted) and "broken" (accepted, then cut) differ.
    const CLIENTS: usize = 6;
    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let agent = agent();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (stop, http, agent, target) = (stop.clone(), http.clone(), agent.clone(), target.clone());
            tokio::spawn(async move {
                let mut seen: Vec<(String, Instant, Seen, Option<String>)> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("term-{client}-{}", uuid::Uuid::now_v7());
                    let sent_at = Instant::now();
                    let result = http
                        .post(format!("{target}/v1/complaints"))
                        .bearer_auth(&agent)
                        .header("Idempotency-Key", &key)
                        .json(&sample_complaint())
                        .send()
                        .await;
                    let (outcome, ticket) = match result {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            match r.json::<Value>().await {
                                Ok(body) => (Seen::Status(status), body["id"].as_str().map(str::to_owned)),
                                Err(e) => (Seen::Broken(format!("{status} with a broken body: {e:?}")), None),
                            }
                        }
                        Err(e) if e.is_connect() => (Seen::Refused, None),
                        Err(e) => (Seen::Broken(format!("{e:?}")), None),
                    };
                    let refused = matches!(outcome, Seen::Refused);
                    seen.push((key, sent_at, outcome, ticket));
                    if refused {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Hold every filing inside the server: a lock that blocks inserts into
    // `events` until this transaction ends. Then every client has a request
    // in flight, accepted and mid-transaction, when the signal comes.
    let mut blocker = cluster.client().await;
    let hold = blocker.transaction().await.expect("begin");
    hold.batch_execute("LOCK TABLE events IN SHARE MODE")
        .await
        .expect("lock");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let waiting: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opsledger' AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .expect("waiting")
            .get(0);
        if waiting >= CLIENTS as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "only {waiting} filings are in flight");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let signalled_at = Instant::now();
    instances[leader].signal(Signal::SIGTERM);
    // It stops accepting at once, but keeps running for the requests in flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", instances[leader].port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting 10 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        instances[leader].running(),
        "the server waits for its in-flight requests instead of exiting"
    );
    hold.commit().await.expect("release the filings");

    let status = instances[leader].wait_exit(Duration::from_secs(40)).await;
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM: {status}");
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for task in tasks {
        seen.extend(task.await.expect("client task"));
    }

    // Every request sent before the signal got a complete 2xx; after it,
    // a request is either answered 2xx or refused; never cut off.
    let mut filed = Vec::new();
    let mut in_flight = 0;
    for (key, sent_at, outcome, ticket) in &seen {
        match outcome {
            Seen::Status(s) if (200..300).contains(s) => {
                if *sent_at < signalled_at {
                    in_flight += 1;
                }
                filed.push(Filed {
                    key: key.clone(),
                    ticket: ticket.clone().expect("ticket id"),
                    instance: leader,
                    at: *sent_at,
                });
            }
            Seen::Refused => assert!(*sent_at >= signalled_at, "{key} was refused before the signal"),
            Seen::Status(status) => panic!("{key} was answered {status}"),
            Seen::Broken(why) => panic!(
                "{key} (sent {:?} after the signal) was cut off: {why}",
                sent_at.checked_duration_since(signalled_at)
            ),
        }
    }
    assert!(
        in_flight >= CLIENTS,
        "the {CLIENTS} requests in flight at the signal were answered 2xx"
    );
    let refused = seen.iter().filter(|(_, _, o, _)| matches!(o, Seen::Refused)).count();

    // The other instance takes the sequencer over and positions keep flowing.
    let new_leader = wait_for_leader(&db, &mut instances, Duration::from_secs(10)).await;
    assert_eq!(new_leader, other, "the surviving instance is the sequencer");
    let http = reqwest::Client::new();
    for i in 0..5 {
        let key = format!("after-handover-{i}");
        let r = http
            .post(format!("{}/v1/complaints", instances[other].base))
            .bearer_auth(&agent)
            .header("Idempotency-Key", &key)
            .json(&sample_complaint())
            .send()
            .await
            .expect("filing on the survivor");
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.expect("json");
        filed.push(Filed {
            key,
            ticket: body["id"].as_str().expect("id").to_owned(),
            instance: other,
            at: Instant::now(),
        });
    }
    let positioned = check_log(&db, &filed).await;
    assert_eq!(read_feed(&instances[other].base).await.len() as i64, positioned);
    verify(&cluster);
    eprintln!(
        "sigterm test: {} filed ({in_flight} sent before the signal), {refused} refused after, {positioned} positions, {:.1?}",
        filed.len(),
        started.elapsed()
    );
}
