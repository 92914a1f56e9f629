//! The load benchmark: `cargo bench --bench load` (optionally
//! `-- --seconds 10 --clients 1,8,32,64 --skip-pgbench`).
//!
//! It creates a fresh database (on OPSLEDGER_BENCH_DATABASE_URL, else the
//! local service at 127.0.0.1:5432, else a private cluster), starts the
//! server in-process from this release build, prepares data, warms up and
//! then measures each scenario at each client count over real HTTP. After
//! each HTTP run it measures the raw PostgreSQL ceiling with pgbench scripts
//! that replay the statements the server issues for the same request, and
//! prints one table (also written to target/bench/load-report.md).
//!
//! The `file` row files with service-level clocks on (the default); the
//! `file_sla_off` row files the same complaints through a second server on
//! the same database with `OPSLEDGER_SLA=off`, and the report ends with
//! the ratio of the two (issue 20's target: on ≥ 90 % of off). The two
//! rows are measured minutes apart, which a busy machine can tilt either
//! way; `-- --only file --sla-pairs 5 --clients 8` measures the two servers
//! back to back in five pairs instead and reports the median ratio.
//!
//! `-- --growth --events 10000000` runs the growth mode instead (see
//! `growth.rs`): append and history medians on the empty store and after a
//! bulk preload of that many events, and a full replay of the log and the
//! real `opsledger rebuild` next to `COPY` of the events table
//! (`--rebuild-only`: the preload, `COPY` and the rebuild alone).
//!
//! `-- --calendar` runs the calendar mode instead (see `calendar.rs`):
//! scheduling, starting a change and the change calendar with 10 and with
//! 10,000 earlier bookings and freeze windows on the service.
//!
//! `-- --peer-rt http://127.0.0.1:8091 --peer-auth 'token …'` measures
//! Request Tracker 5 instead (see `peer.rs` and `benches/peer/rt-setup.sh`):
//! no database is created and our server is not started.

mod calendar;
mod growth;
mod peer;
mod pgbench;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use opsledger::domain::Role;
use opsledger::http::auth::{DevToken, mint_dev_token};
use opsledger::startup::config::{AuthArgs, DatabaseArgs, LogFormat, MasterKeyArgs, ServeArgs};
use opsledger::startup::server::Application;
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-bench-secret-bench-secret!!";
const ISSUER: &str = "https://idp.bench";
const MASTER_KEY: &str = "5c1e0d2a9b8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070605";

#[derive(Parser, Debug)]
#[command(about = "OpsLedger load benchmark")]
struct Args {
    /// Seconds measured per scenario and client count.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of warm-up before each measurement (not recorded).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Client counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    clients: Vec<u32>,
    /// Only these scenarios (file, file_sla_off, lifecycle, get, list, history).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip the pgbench ceiling.
    #[arg(long)]
    skip_pgbench: bool,
    /// Server connection pool size.
    #[arg(long, default_value_t = 16)]
    pool: usize,
    /// Admin URL of the PostgreSQL server to create the benchmark database on.
    #[arg(long, env = "OPSLEDGER_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Growth mode: measure append and history on the empty store, preload
    /// `--events` events through a bulk COPY path, measure again (PASS within
    /// ±20 %), then time a full replay of the log against COPY of the table.
    #[arg(long)]
    growth: bool,
    /// Growth mode: how many events to preload.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Growth mode: concurrent clients for the append and history medians.
    #[arg(long, default_value_t = 8)]
    growth_clients: u32,
    /// Growth mode: only preload, then time `COPY` of the events table and
    /// the real rebuild; skips the HTTP measurements and the replay in
    /// position order (minutes at 10 million events).
    #[arg(long)]
    rebuild_only: bool,
    /// Growth mode: tasks the rebuild folds on (default: as many as
    /// `opsledger rebuild` uses on this machine, one per core).
    #[arg(long)]
    rebuild_folds: Option<usize>,
    /// Growth mode: more rounds of `COPY` then rebuild on the same store
    /// after the first, each reported with its ratio, and the median ratio
    /// (pairs taken back to back weather a busy machine alike).
    #[arg(long, default_value_t = 1)]
    rebuild_rounds: usize,
    /// Peer mode: measure Request Tracker 5's REST2 API at this base URL
    /// (started by `benches/peer/rt-setup.sh`) instead of our server.
    #[arg(long)]
    peer_rt: Option<String>,
    /// Peer mode: the Authorization header value, e.g. `token 1-14-…`.
    #[arg(long)]
    peer_auth: Option<String>,
    /// Peer mode: tickets prepared for the reads.
    #[arg(long, default_value_t = 1000)]
    peer_tickets: usize,
    /// Peer mode: comments on the history ticket.
    #[arg(long, default_value_t = 1000)]
    peer_history: usize,
    /// Calendar mode: measure scheduling, starting a change and the change
    /// calendar with 10 earlier bookings and freeze windows on the service,
    /// then with `--calendar-history` (PASS within ±20 %).
    #[arg(long)]
    calendar: bool,
    /// Calendar mode: earlier bookings and freeze windows of the second run.
    #[arg(long, default_value_t = 10_000)]
    calendar_history: u64,
    /// Calendar mode: changes started per store (a fifth per round).
    #[arg(long, default_value_t = 500)]
    calendar_starts: usize,
    /// Filing with clocks on against off in this many pairs per client
    /// count, after the rows: each pair measures both servers back to back
    /// (on first in odd pairs, off first in even ones), so a machine that
    /// slows down or speeds up weighs on both alike; the report gives each
    /// pair's ratio and their median. 0: only the `file` and
    /// `file_sla_off` rows, measured minutes apart.
    #[arg(long, default_value_t = 0)]
    sla_pairs: usize,
    /// A control for `--sla-pairs`: the second server keeps clocks on too,
    /// so the pairs measure what the method itself leans, not what clocks
    /// cost (a fair method gives about 100 %).
    #[arg(long)]
    sla_pairs_control: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// A libpq URL for a config, optionally running every session as `role`.
fn url_of(config: &tokio_postgres::Config, role: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let db = config.get_dbname().unwrap_or("postgres");
    let mut url = format!("postgres://{user}@{host}:{port}/{db}");
    if let Some(role) = role {
        url.push_str(&format!("?options=-c%20role%3D{role}"));
    }
    url
}

struct Database {
    admin: tokio_postgres::Config,
    name: String,
    _embedded: Option<opsledger::infra::embedded_pg::EmbeddedPostgres>,
}

async fn connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A fresh database for this run.
async fn database(args: &Args) -> Database {
    let (mut admin, embedded) = match &args.database_url {
        Some(url) => (
            url.parse::<tokio_postgres::Config>().expect("a valid database URL"),
            None,
        ),
        None => {
            let local: tokio_postgres::Config =
                "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2"
                    .parse()
                    .expect("config");
            if connect(&local).await.is_ok() {
                (local, None)
            } else {
                let dir = opsledger::infra::embedded_pg::EmbeddedPostgres::reachable_dir(
                    &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-pg"),
                )
                .expect("a place for the cluster");
                let pg = opsledger::infra::embedded_pg::EmbeddedPostgres::start(&dir)
                    .await
                    .expect("embedded PostgreSQL");
                (pg.superuser_config("postgres"), Some(pg))
            }
        }
    };
    let name = format!("opsledger_bench_{}", std::process::id());
    let client = connect(&admin).await.expect("connect to PostgreSQL");
    client
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"))
        .await
        .expect("create the benchmark database");
    admin.dbname(&name);
    Database {
        admin,
        name,
        _embedded: embedded,
    }
}

/// Starts the server on its own actix system thread, acting at the instants
/// `clock` says; returns its base URL.
fn start_server(
    db: &Database,
    pool: usize,
    clock: opsledger::app::clock::SharedClock,
) -> (String, actix_web::dev::ServerHandle) {
    start_server_with(db, pool, clock, opsledger::startup::config::SlaSwitch::On)
}

/// [`start_server`], with service-level clocks on or off.
fn start_server_with(
    db: &Database,
    pool: usize,
    clock: opsledger::app::clock::SharedClock,
    sla: opsledger::startup::config::SlaSwitch,
) -> (String, actix_web::dev::ServerHandle) {
    let args = ServeArgs {
        listen: "127.0.0.1:0".into(),
        max_body_bytes: 64 * 1024,
        workers: None,
        shutdown_timeout_secs: 5,
        log_format: LogFormat::Text,
        idempotency_retention_hours: 24,
        metrics_token_file: None,
        default_language: Default::default(),
        sla,
        strong: Default::default(),
        database: DatabaseArgs {
            database_url: Some(url_of(&db.admin, Some("opsledger_app"))),
            migration_database_url: Some(url_of(&db.admin, None)),
            data_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data"),
            db_pool_size: pool,
        },
        auth: AuthArgs {
            dev_mode: true,
            jwt_algorithm: None,
            jwt_secret: Some(SECRET.into()),
            jwt_public_key_file: None,
            jwt_jwks_file: None,
            jwt_issuer: ISSUER.into(),
            jwt_audience: "opsledger".into(),
            jwt_leeway_secs: 5,
            jwt_roles_claim: "roles".into(),
            jwt_scopes_claim: "scope".into(),
        },
        master: MasterKeyArgs {
            master_key: Some(MASTER_KEY.into()),
            master_key_file: None,
        },
        console: Default::default(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build_with_clock(args, clock)
                .await
                .expect("the server starts");
            let _ = tx.send((app.port(), app.handle()));
            let _ = app.run_until_stopped().await;
        })
    });
    let (port, handle) = rx.recv().expect("the server reports its port");
    (format!("http://127.0.0.1:{port}"), handle)
}

fn token(subject: &str, roles: &[Role]) -> String {
    mint_dev_token(
        SECRET.as_bytes(),
        &DevToken {
            issuer: ISSUER,
            audience: "opsledger",
            subject,
            name: None,
            roles,
            scopes: &[],
            ttl_secs: 6 * 3600,
        },
    )
    .expect("token")
}

/// A client of the server under test.
#[derive(Clone)]
struct Api {
    base: Arc<String>,
    http: reqwest::Client,
    token: Arc<String>,
    serial: Arc<AtomicU64>,
}

struct Reply {
    status: u16,
    etag: String,
    body: Value,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Reply, String> {
        let method_is_post = method == reqwest::Method::POST;
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.as_str());
        if let Some(body) = body {
            request = request.json(body).header(
                "Idempotency-Key",
                format!("bench-{}", self.serial.fetch_add(1, Ordering::Relaxed)),
            );
        }
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if !(200..300).contains(&status) {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        }
        // Only command responses (one small ticket) are parsed: the load
        // generator shares the machine with the server, and parsing a
        // 1.5 MB history per request would take CPU time from the server
        // being measured. Reads are checked for status and a body.
        let body = if method_is_post {
            serde_json::from_slice(&bytes).map_err(|e| format!("{status}: not JSON: {e}"))?
        } else if bytes.is_empty() {
            return Err(format!("{status}: empty body"));
        } else {
            Value::Null
        };
        Ok(Reply { status, etag, body })
    }

    fn complaint(&self) -> Value {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        json!({
            "title": "宽带每晚断线",
            "description": "客户反映家中宽带每晚八点后断线，已持续一周。",
            "channel": "phone",
            "category": "broadband",
            "priority": "P3",
            "complainant": {"name": "张伟", "phone": format!("+86 138 {:08}", n % 100_000_000), "customer_ref": format!("BENCH-{n}")}
        })
    }

    async fn file(&self) -> Result<(String, String), String> {
        let r = self
            .send(reqwest::Method::POST, "/v1/complaints", Some(&self.complaint()), None)
            .await?;
        debug_assert_eq!(r.status, 201);
        Ok((r.body["id"].as_str().unwrap_or_default().to_owned(), r.etag))
    }

    async fn lifecycle(&self) -> Result<(), String> {
        let (id, etag) = self.file().await?;
        let r = self
            .send(
                reqwest::Method::POST,
                &format!("/v1/complaints/{id}/acknowledge"),
                Some(&json!({"message": "您好，已收到您的投诉。"})),
                Some(&etag),
            )
            .await?;
        let r = self
            .send(
                reqwest::Method::POST,
                &format!("/v1/complaints/{id}/notes"),
                Some(&json!({"body": "工程师已安排上门。", "visibility": "complainant"})),
                Some(&r.etag),
            )
            .await?;
        self.send(
            reqwest::Method::POST,
            &format!("/v1/complaints/{id}/resolve"),
            Some(&json!({"resolution": "更换光猫", "root_cause": "光猫老化"})),
            Some(&r.etag),
        )
        .await?;
        Ok(())
    }
}

/// What one measurement found.
struct Measured {
    ops_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    first_error: Option<String>,
    /// Operations completed, warm-up included.
    completed: u64,
}

/// Runs `op` from `clients` concurrent clients: `warmup` unrecorded, then
/// `seconds` recorded.
async fn measure<F, Fut>(clients: u32, warmup: Duration, seconds: Duration, op: F) -> Measured
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now();
    let recording = start + warmup;
    let end = recording + seconds;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let (mut errors, mut first_error, mut i) = (0u64, None, 0u64);
            let mut completed = 0u64;
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let result = op(u64::from(client) * 1_000_000_000 + i).await;
                i += 1;
                completed += u64::from(result.is_ok());
                if began >= recording {
                    match result {
                        Ok(()) => {
                            let _ = histogram.record(began.elapsed().as_micros().max(1) as u64);
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
            }
            (histogram, errors, first_error, completed)
        }));
    }
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let (mut errors, mut first_error, mut completed) = (0, None, 0);
    for task in tasks {
        let (h, e, f, c) = task.await.expect("client task");
        let _ = all.add(&h);
        errors += e;
        completed += c;
        if first_error.is_none() {
            first_error = f;
        }
    }
    Measured {
        ops_per_sec: all.len() as f64 / seconds.as_secs_f64(),
        p50_ms: all.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: all.value_at_quantile(0.99) as f64 / 1000.0,
        errors,
        first_error,
        completed,
    }
}

/// CPU time used so far by this process (the server under test and its
/// clients) and by every PostgreSQL process on the machine, in seconds:
/// the sum of `utime` and `stime` in `/proc/<pid>/stat`. Zero where
/// `/proc` cannot be read. Processes that ended in between are not
/// counted, so a measurement spans no connection's end.
fn cpu_seconds() -> (f64, f64) {
    let ticks = |stat: &str| -> Option<f64> {
        // Fields after the parenthesised command name; utime and stime are
        // the 14th and 15th fields of the line.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
    };
    let hz = 100.0; // USER_HZ, 100 on every Linux that reports it
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| ticks(&s))
        .unwrap_or(0.0);
    let mut postgres = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let path = entry.path();
            if std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim() == "postgres") {
                postgres += std::fs::read_to_string(path.join("stat"))
                    .ok()
                    .and_then(|s| ticks(&s))
                    .unwrap_or(0.0);
            }
        }
    }
    (own / hz, postgres / hz)
}

struct Row {
    scenario: &'static str,
    unit: &'static str,
    clients: u32,
    http: Measured,
    pgbench: Option<pgbench::PgbenchResult>,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {memory}")
}

/// The server binary's allocator, so the in-process server runs as deployed.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Some(base) = args.peer_rt.clone() {
        runtime.block_on(peer::run(&args, &base));
        return;
    }
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let wanted = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let db = database(&args).await;
    if args.calendar {
        let name = db.name.clone();
        let admin = db.admin.clone();
        calendar::run(&args, db).await;
        drop_database(&Database {
            admin,
            name,
            _embedded: None,
        })
        .await;
        return;
    }
    // The instance that leads the sequencer sequences its own appends at
    // once and finds the other instances' by polling, in larger batches:
    // cheaper per filing. For the pairs, a third instance that serves no
    // request leads, so neither measured server has that advantage (with
    // the first server leading, both halves with clocks on measured 88 %
    // at one client).
    let sequencer = if args.sla_pairs > 0 {
        let (_, handle) = start_server_with(
            &db,
            2,
            opsledger::app::clock::SystemClock::shared(),
            opsledger::startup::config::SlaSwitch::Off,
        );
        wait_for_sequencer_leader(&db).await;
        Some(handle)
    } else {
        None
    };
    let (base, handle) = start_server(&db, args.pool, opsledger::app::clock::SystemClock::shared());
    eprintln!("bench: server at {base}, database {}", db.name);
    let api = Api {
        base: Arc::new(base),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("client"),
        token: Arc::new(token("bench-agent", &[Role::Agent])),
        serial: Arc::new(AtomicU64::new(1)),
    };
    if args.growth {
        growth::run(&args, &db, &api).await;
        handle.stop(true).await;
        drop_database(&db).await;
        return;
    }

    // Data for the reads: a thousand complaints, and one with 1,000 events.
    eprintln!("bench: preparing data");
    let mut ids = Vec::new();
    for _ in 0..1000 {
        ids.push(api.file().await.expect("filing").0);
    }
    let (history_id, _) = api.file().await.expect("filing");
    for i in 1..1000 {
        api.send(
            reqwest::Method::POST,
            &format!("/v1/complaints/{history_id}/notes"),
            Some(&json!({"body": format!("巡检记录 {i}"), "visibility": "internal"})),
            None,
        )
        .await
        .expect("note");
    }
    let ids = Arc::new(ids);
    let pgbench_bin = if args.skip_pgbench { None } else { pgbench::find() };
    if !args.skip_pgbench && pgbench_bin.is_none() {
        eprintln!("bench: pgbench not found; the ceiling is skipped");
    }
    let owner_url = url_of(&db.admin, None);
    // `status` is a string variable (`-D status=filed`), so the list's filter
    // reaches PostgreSQL as a bound parameter, as the server sends it: with a
    // literal the planner picks another plan than the server's generic one.
    let vars = vec![
        ("hist_id", history_id.clone()),
        ("tickets", ids.len().to_string()),
        ("status", "filed".to_owned()),
    ];

    let warmup = Duration::from_secs(args.warmup);
    let seconds = Duration::from_secs(args.seconds);
    let mut rows = Vec::new();
    // The same filings through a server with clocks off, for the SLA row.
    let (base_off, handle_off) = start_server_with(
        &db,
        args.pool,
        opsledger::app::clock::SystemClock::shared(),
        if args.sla_pairs_control {
            opsledger::startup::config::SlaSwitch::On
        } else {
            opsledger::startup::config::SlaSwitch::Off
        },
    );
    let api_off = Api {
        base: Arc::new(base_off),
        ..api.clone()
    };
    let scenarios: [(&'static str, &'static str); 6] = [
        ("file", "filings/s"),
        ("file_sla_off", "filings/s"),
        ("lifecycle", "lifecycles/s (4 requests each)"),
        ("get", "requests/s"),
        ("list", "requests/s"),
        ("history", "requests/s"),
    ];
    for (scenario, unit) in scenarios {
        if !wanted(scenario) {
            continue;
        }
        for &clients in &args.clients {
            eprintln!("bench: {scenario} at {clients} client(s)");
            // Fresh statistics before each row, as autovacuum would keep them
            // on a live system: the tables grow fast during the run, and plans
            // made from stale counts (a sort of every 'filed' ticket instead
            // of walking the index) would measure the planner, not the server.
            analyze(&owner_url).await;
            let api = api.clone();
            let ids = ids.clone();
            let history_id = history_id.clone();
            let http = match scenario {
                "file" => {
                    measure(clients, warmup, seconds, move |_| {
                        let api = api.clone();
                        async move { api.file().await.map(|_| ()) }
                    })
                    .await
                }
                "file_sla_off" => {
                    let api = api_off.clone();
                    measure(clients, warmup, seconds, move |_| {
                        let api = api.clone();
                        async move { api.file().await.map(|_| ()) }
                    })
                    .await
                }
                "lifecycle" => {
                    measure(clients, warmup, seconds, move |_| {
                        let api = api.clone();
                        async move { api.lifecycle().await }
                    })
                    .await
                }
                "get" => {
                    measure(clients, warmup, seconds, move |i| {
                        let api = api.clone();
                        let id = ids[(i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize].clone();
                        async move {
                            api.send(reqwest::Method::GET, &format!("/v1/tickets/{id}"), None, None)
                                .await
                                .map(|_| ())
                        }
                    })
                    .await
                }
                "list" => {
                    measure(clients, warmup, seconds, move |_| {
                        let api = api.clone();
                        async move {
                            api.send(reqwest::Method::GET, "/v1/tickets?status=filed&limit=50", None, None)
                                .await
                                .map(|_| ())
                        }
                    })
                    .await
                }
                _ => {
                    measure(clients, warmup, seconds, move |_| {
                        let api = api.clone();
                        let path = format!("/v1/tickets/{history_id}/history");
                        async move { api.send(reqwest::Method::GET, &path, None, None).await.map(|_| ()) }
                    })
                    .await
                }
            };
            let pgbench = match &pgbench_bin {
                // The ceiling of filing is the `file` row's.
                _ if scenario == "file_sla_off" => None,
                None => None,
                Some(bin) => {
                    let script = pgbench::script(&format!("{scenario}.sql"));
                    let owner_url = owner_url.clone();
                    let vars = vars.clone();
                    let bin = bin.clone();
                    let secs = args.seconds;
                    let result = tokio::task::spawn_blocking(move || {
                        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, v.clone())).collect();
                        pgbench::run(&bin, &script, &owner_url, clients, secs, &vars)
                    })
                    .await
                    .expect("pgbench task");
                    match result {
                        Ok(r) => Some(r),
                        Err(e) => {
                            eprintln!("bench: pgbench {scenario} failed: {e}");
                            None
                        }
                    }
                }
            };
            rows.push(Row {
                scenario,
                unit,
                clients,
                http,
                pgbench,
            });
        }
    }
    let mut pairs = Vec::new();
    for &clients in args.clients.iter().filter(|_| args.sla_pairs > 0) {
        analyze(&owner_url).await;
        let mut ratios = Vec::with_capacity(args.sla_pairs);
        for pair in 0..args.sla_pairs {
            eprintln!("bench: clocks on against off at {clients} client(s), pair {}", pair + 1);
            let mut on_off = [Half::default(); 2];
            let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
            for which in order {
                let api = if which == 0 { api.clone() } else { api_off.clone() };
                let before = cpu_seconds();
                let measured = measure(clients, warmup, seconds, move |_| {
                    let api = api.clone();
                    async move { api.file().await.map(|_| ()) }
                })
                .await;
                let after = cpu_seconds();
                let per = |a: f64, b: f64| 1000.0 * (b - a) / (measured.completed.max(1) as f64);
                on_off[which] = Half {
                    per_second: measured.ops_per_sec,
                    server_ms: per(before.0, after.0),
                    postgres_ms: per(before.1, after.1),
                };
            }
            ratios.push((on_off[0], on_off[1]));
        }
        pairs.push((clients, ratios));
    }
    handle.stop(true).await;
    handle_off.stop(true).await;
    if let Some(sequencer) = sequencer {
        sequencer.stop(true).await;
    }
    report(&args, &rows);
    report_pairs(&pairs, args.sla_pairs_control);
    drop_database(&db).await;
}

/// Waits until some session holds the sequencer's leader lock: started
/// alone, the instance just started.
async fn wait_for_sequencer_leader(db: &Database) {
    let Ok(client) = connect(&db.admin).await else {
        eprintln!("bench: cannot connect to see the sequencer's leader");
        return;
    };
    for _ in 0..100 {
        if let Ok(Some(_)) = opsledger::store::sequencer::leader(&client).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("bench: no instance took the sequencer's lead within 5 s");
}

async fn analyze(url: &str) {
    match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            if let Err(e) = client.batch_execute("ANALYZE").await {
                eprintln!("bench: ANALYZE failed: {e}");
            }
        }
        Err(e) => eprintln!("bench: cannot connect to ANALYZE: {e}"),
    }
}

/// Drops the benchmark's database, unless `OPSLEDGER_BENCH_KEEP_DATABASE`
/// is set: then it is kept (and named) for profiling, e.g. timing
/// `opsledger rebuild` again and again on a growth store loaded once.
async fn drop_database(db: &Database) {
    if std::env::var_os("OPSLEDGER_BENCH_KEEP_DATABASE").is_some() {
        eprintln!("bench: kept the database {}", db.name);
        return;
    }
    let mut admin = db.admin.clone();
    admin.dbname("postgres");
    if let Ok(client) = connect(&admin).await {
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name))
            .await;
    }
}

/// One half of a `--sla-pairs` pair: filings per second, and CPU
/// milliseconds per filing in this process (server and clients) and in
/// PostgreSQL.
#[derive(Clone, Copy, Default)]
struct Half {
    per_second: f64,
    server_ms: f64,
    postgres_ms: f64,
}

/// The `--sla-pairs` table: per client count, each pair's filings per
/// second and CPU per filing with clocks on and off, and the medians of
/// the pairs' ratios. The CPU ratio is the steadier on a shared machine:
/// time stolen by other guests slows both halves' throughput unevenly but
/// is not charged to these processes.
fn report_pairs(pairs: &[(u32, Vec<(Half, Half)>)], control: bool) {
    if pairs.is_empty() {
        return;
    }
    let mut out = String::from(
        "Filing with clocks on against off, in pairs measured back to back \
         (CPU: ms per filing, benchmark process + PostgreSQL):\n\n\
         | clients | pair | on filings/s | off filings/s | on / off | on CPU | off CPU | off / on CPU |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let cpu = |h: &Half| h.server_ms + h.postgres_ms;
    for (clients, halves) in pairs {
        for (i, (on, off)) in halves.iter().enumerate() {
            out.push_str(&format!(
                "| {clients} | {} | {:.0} | {:.0} | {:.0} % | {:.2} ({:.2} + {:.2}) | {:.2} ({:.2} + {:.2}) | {:.0} % |\n",
                i + 1,
                on.per_second,
                off.per_second,
                100.0 * on.per_second / off.per_second.max(f64::MIN_POSITIVE),
                cpu(on),
                on.server_ms,
                on.postgres_ms,
                cpu(off),
                off.server_ms,
                off.postgres_ms,
                100.0 * cpu(off) / cpu(on).max(f64::MIN_POSITIVE),
            ));
        }
    }
    // The lower quartile, the median and the upper quartile: on a shared
    // machine single pairs range widely, and the quartiles say how far the
    // median could be trusted.
    let quartiles = |mut r: Vec<f64>| {
        r.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if r.is_empty() {
                return f64::NAN;
            }
            let rank = q * (r.len() - 1) as f64;
            let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
            r[low] + (r[high] - r[low]) * (rank - low as f64)
        };
        (at(0.25), at(0.5), at(0.75))
    };
    for (clients, halves) in pairs {
        let (t1, throughput, t3) = quartiles(
            halves
                .iter()
                .map(|(on, off)| 100.0 * on.per_second / off.per_second.max(f64::MIN_POSITIVE))
                .collect(),
        );
        let (w1, work, w3) = quartiles(
            halves
                .iter()
                .map(|(on, off)| 100.0 * cpu(off) / cpu(on).max(f64::MIN_POSITIVE))
                .collect(),
        );
        // The control's halves are the same build: what it measures is the
        // method's lean, and no target applies.
        let (what, verdict) = if control {
            (
                "Control (`--sla-pairs-control`: both servers with clocks on), first server ÷ second",
                String::new(),
            )
        } else {
            let pass = if throughput >= 90.0 { "PASS" } else { "FAIL" };
            ("Clocks on ÷ off", format!("; target ≥ 90 %: {pass}"))
        };
        out.push_str(&format!(
            "\n{what} at {clients} clients, median of {} pairs: {throughput:.0} % of the throughput \
             (quartiles {t1:.0}–{t3:.0} %{verdict}); CPU per filing, the second ÷ the first: {work:.0} % \
             (quartiles {w1:.0}–{w3:.0} %).\n",
            halves.len(),
        ));
    }
    publish("sla-pairs-report.md", &out);
}

fn report(args: &Args, rows: &[Row]) {
    let mut out = String::new();
    out.push_str(&format!(
        "Machine: {}. JWT: HS256 (development secret; every request verifies its token). \
         {} s measured after {} s warm-up per row; server pool {} connections; server and clients on the same machine.\n\n",
        machine(),
        args.seconds,
        args.warmup,
        args.pool
    ));
    out.push_str(
        "| scenario | clients | throughput | p50 ms | p99 ms | errors | pgbench tps | pgbench mean ms | ratio |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let (tps, mean, ratio) = match &r.pgbench {
            Some(p) => (
                format!("{:.0}", p.tps),
                format!("{:.2}", p.latency_avg_ms),
                format!("{:.0} %", 100.0 * r.http.ops_per_sec / p.tps.max(f64::MIN_POSITIVE)),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        out.push_str(&format!(
            "| {} | {} | {:.0} {} | {:.2} | {:.2} | {} | {} | {} | {} |\n",
            r.scenario,
            r.clients,
            r.http.ops_per_sec,
            r.unit,
            r.http.p50_ms,
            r.http.p99_ms,
            r.http.errors,
            tps,
            mean,
            ratio
        ));
    }
    for on in rows.iter().filter(|r| r.scenario == "file") {
        if let Some(off) = rows
            .iter()
            .find(|r| r.scenario == "file_sla_off" && r.clients == on.clients)
        {
            let ratio = 100.0 * on.http.ops_per_sec / off.http.ops_per_sec.max(f64::MIN_POSITIVE);
            out.push_str(&format!(
                "\nFiling with SLA clocks on at {} clients: {ratio:.0} % of the throughput with them off (target ≥ 90 %: {}).\n",
                on.clients,
                if ratio >= 90.0 { "PASS" } else { "FAIL" }
            ));
        }
    }
    for r in rows.iter().filter(|r| r.http.errors > 0) {
        out.push_str(&format!(
            "\n{} at {} clients, first error: {}\n",
            r.scenario,
            r.clients,
            r.http.first_error.as_deref().unwrap_or("?")
        ));
    }
    publish("load-report.md", &out);
}

/// Prints a report and keeps it as `target/bench/<file>`.
fn publish(file: &str, out: &str) {
    println!("{out}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(file), out);
}
