//! Calendar mode: `cargo bench --bench load -- --calendar` (issue 18).
//!
//! Scheduling a change, starting one and reading the change calendar must
//! cost the same whether the service has 10 earlier bookings and freeze
//! windows or 10,000. Two stores are prepared side by side, each with its
//! own in-process server on a manual clock (`Application::build_with_clock`),
//! so that their history can lie in the past, as a real one does:
//!
//! 1. With the clock 500 days back, the small store gets 10 standard
//!    changes booked on the service (draft, submit, assess, schedule over
//!    HTTP), one an hour, each followed by a freeze window on the service;
//!    the large store gets `--calendar-history` (default 10,000).
//! 2. With the clock at the present, each store gets the same 20 changes
//!    booked 10 to 40 days ahead and `--calendar-starts` changes booked in
//!    one-minute windows an hour ahead; then each settles (the sequencer
//!    caught up, VACUUM ANALYZE, CHECKPOINT).
//! 3. Five rounds, each measuring both stores in turn (the order
//!    alternating), so that whatever else the machine does falls on both
//!    alike; the first round is warm-up:
//!    - **schedule**: the first of the 20 rescheduled back and forth between
//!      its window and a free one 4 hours later
//!      (`POST /v1/changes/{id}/schedule`);
//!    - **start**: a fifth of the prepared changes each started with the
//!      clock set to its window (`POST /v1/changes/{id}/start`);
//!    - **calendar**: `GET /v1/changes/calendar` over the 30 days that hold
//!      the 20.
//!
//! PASS when each median of the large store is within ±20 % of the small
//! store's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use opsledger::app::clock::ManualClock;
use opsledger::domain::Role;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{Api, Args, Database, connect, drop_database, machine, start_server, token};

/// The service every booking and freeze is on.
const SERVICE: &str = "bench-calendar";
/// Allowed drift of the medians between 10 and `--calendar-history`.
const TOLERANCE: f64 = 0.20;
/// Changes shown by the measured calendar range (the rescheduled one among them).
const RESIDENTS: i64 = 20;

struct Callers {
    manager: Api,
    engineer: Api,
    admin: Api,
}

impl Callers {
    fn new(api: &Api) -> Callers {
        let with = |subject: &str, roles: &[Role]| Api {
            token: Arc::new(token(subject, roles)),
            ..api.clone()
        };
        Callers {
            manager: with("bench-manager", &[Role::Manager]),
            engineer: with("bench-engineer", &[Role::Engineer]),
            admin: with("bench-admin", &[Role::Admin]),
        }
    }
}

/// One store under test: its database, server, clock and callers.
struct Store {
    label: String,
    db: Database,
    clock: Arc<ManualClock>,
    callers: Arc<Callers>,
    handle: actix_web::dev::ServerHandle,
    mover: Arc<Mutex<Mover>>,
    starts: Vec<(String, String, DateTime<Utc>)>,
    schedule: Histogram<u64>,
    start: Histogram<u64>,
    calendar: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

pub async fn run(args: &Args, db: Database) {
    // Every instant the bench names is on a whole hour, so runs compare.
    let present = Utc::now().duration_trunc(TimeDelta::hours(1)).expect("a whole hour") + TimeDelta::hours(1);
    let past = present - TimeDelta::days(500);
    let large_db = sibling(&db, "large").await;
    let small = 10u64;
    let large = args.calendar_history.max(small);
    let mut stores = Vec::new();
    for (label, db, history) in [(format!("{small}"), db, small), (format!("{large}"), large_db, large)] {
        let clock = ManualClock::starting_at(past);
        let (base, handle) = start_server(&db, args.pool, clock.clone());
        eprintln!("calendar: store with {label} at {base}, database {}", db.name);
        let api = Api {
            base: Arc::new(base),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            token: Arc::new(String::new()),
            serial: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        };
        let callers = Arc::new(Callers::new(&api));
        let started = Instant::now();
        book_history(&callers, past, 0..history).await;
        eprintln!(
            "calendar: {history} earlier changes and freezes booked in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        clock.set(present);
        let (id, etag) = residents(&callers, present).await;
        let mut starts = Vec::with_capacity(args.calendar_starts);
        for i in 0..args.calendar_starts {
            let at = present + TimeDelta::hours(1) + TimeDelta::minutes(i as i64);
            let window = json!({"start": at.to_rfc3339(), "end": (at + TimeDelta::minutes(1)).to_rfc3339()});
            let (id, etag) = scheduled_change(&callers, &format!("Started change {i}"), &window).await;
            starts.push((id, etag, at));
        }
        starts.reverse(); // taken from the end, earliest window first
        settle(&db).await;
        stores.push(Store {
            label,
            db,
            clock,
            callers,
            handle,
            mover: Arc::new(Mutex::new(Mover { id, etag, away: false })),
            starts,
            schedule: histogram(),
            start: histogram(),
            calendar: histogram(),
            errors: 0,
            first_error: None,
        });
    }

    const ROUNDS: usize = 5;
    let slice = Duration::from_secs(args.seconds.max(2) / 2);
    let per_round = args.calendar_starts / ROUNDS;
    for round in 0..ROUNDS {
        for k in 0..stores.len() {
            // Alternate which store goes first.
            let store = &mut stores[(k + round) % 2];
            eprintln!("calendar: round {round}, store with {}", store.label);
            measure_round(store, present, slice, per_round, round > 0).await;
        }
    }
    for store in &stores {
        store.handle.stop(true).await;
    }
    report(args, &stores, slice, per_round);
    for store in stores.into_iter().skip(1) {
        drop_database(&store.db).await;
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram")
}

/// A second database on the same server as `db`.
async fn sibling(db: &Database, suffix: &str) -> Database {
    let mut admin = db.admin.clone();
    admin.dbname("postgres");
    let client = connect(&admin).await.expect("connect to PostgreSQL");
    let name = format!("{}_{suffix}", db.name);
    client
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"))
        .await
        .expect("create the second benchmark database");
    admin.dbname(&name);
    Database {
        admin,
        name,
        _embedded: None,
    }
}

/// One round on one store: schedule and calendar for `slice` each, and
/// `starts` starts; recorded unless it is the warm-up.
async fn measure_round(store: &mut Store, present: DateTime<Utc>, slice: Duration, starts: usize, record: bool) {
    let callers = store.callers.clone();
    store.clock.set(present);
    let home = present + TimeDelta::days(10);
    let until = Instant::now() + slice;
    while Instant::now() < until {
        let mut mover = store.mover.lock().await;
        let at = if mover.away { home } else { home + TimeDelta::hours(4) };
        let window = json!({"start": at.to_rfc3339(), "end": (at + TimeDelta::hours(2)).to_rfc3339()});
        let began = Instant::now();
        let result = callers
            .manager
            .send(
                reqwest::Method::POST,
                &format!("/v1/changes/{}/schedule", mover.id),
                Some(&window),
                Some(&mover.etag),
            )
            .await;
        let took = began.elapsed();
        match result {
            Ok(r) => {
                mover.etag = r.etag;
                mover.away = !mover.away;
                if record {
                    let _ = store.schedule.record(took.as_micros().max(1) as u64);
                }
            }
            Err(e) => {
                store.errors += 1;
                store.first_error.get_or_insert(e);
            }
        }
    }

    for _ in 0..starts {
        let Some((id, etag, at)) = store.starts.pop() else {
            break;
        };
        store.clock.set(at);
        let began = Instant::now();
        let result = callers
            .engineer
            .send(
                reqwest::Method::POST,
                &format!("/v1/changes/{id}/start"),
                Some(&json!({})),
                Some(&etag),
            )
            .await;
        let took = began.elapsed();
        match result {
            Ok(_) if record => {
                let _ = store.start.record(took.as_micros().max(1) as u64);
            }
            Ok(_) => {}
            Err(e) => {
                store.errors += 1;
                store.first_error.get_or_insert(e);
            }
        }
    }

    let from = (present + TimeDelta::days(10)).to_rfc3339();
    let to = (present + TimeDelta::days(40)).to_rfc3339();
    // The URL type encodes the `+` of the offsets; the API takes the path.
    let url = reqwest::Url::parse_with_params("http://calendar/v1/changes/calendar", [("from", &from), ("to", &to)])
        .expect("a valid URL");
    let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    let until = Instant::now() + slice;
    while Instant::now() < until {
        let began = Instant::now();
        let result = callers.engineer.send(reqwest::Method::GET, &path, None, None).await;
        let took = began.elapsed();
        match result {
            Ok(_) if record => {
                let _ = store.calendar.record(took.as_micros().max(1) as u64);
            }
            Ok(_) => {}
            Err(e) => {
                store.errors += 1;
                store.first_error.get_or_insert(e);
            }
        }
    }
}

/// Books changes `range` on the service in the past, one an hour, each
/// followed by a quarter-hour freeze window; 8 at a time.
async fn book_history(callers: &Arc<Callers>, past: DateTime<Utc>, range: std::ops::Range<u64>) {
    let first = past + TimeDelta::days(1);
    let total = range.end - range.start;
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    futures_util::stream::iter(range)
        .for_each_concurrent(8, |i| {
            let callers = callers.clone();
            let done = done.clone();
            async move {
                let at = first + TimeDelta::hours(i as i64);
                let window = json!({"start": at.to_rfc3339(), "end": (at + TimeDelta::minutes(30)).to_rfc3339()});
                scheduled_change(&callers, &format!("Earlier change {i}"), &window).await;
                callers
                    .admin
                    .send(
                        reqwest::Method::POST,
                        "/v1/changes/freezes",
                        Some(&json!({
                            "service": SERVICE,
                            "start": (at + TimeDelta::minutes(30)).to_rfc3339(),
                            "end": (at + TimeDelta::minutes(45)).to_rfc3339(),
                            "reason": format!("Earlier freeze {i}"),
                        })),
                        None,
                    )
                    .await
                    .expect("freeze");
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if n.is_multiple_of(1000) {
                    eprintln!(
                        "calendar: {n} of {total} booked ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        })
        .await;
}

/// Drafts, submits, assesses and schedules a standard change on the
/// service; returns its id and ETag.
async fn scheduled_change(callers: &Callers, title: &str, window: &Value) -> (String, String) {
    let api = &callers.manager;
    let drafted = api
        .send(
            reqwest::Method::POST,
            "/v1/changes",
            Some(
                &json!({"title": title, "description": "Routine patching", "affected_services": [SERVICE],
                          "maintenance_type": "preventive", "change_type": "standard"}),
            ),
            None,
        )
        .await
        .expect("draft");
    let id = drafted.body["id"].as_str().expect("id").to_owned();
    let submitted = api
        .send(
            reqwest::Method::POST,
            &format!("/v1/changes/{id}/submit"),
            Some(&json!({})),
            Some(&drafted.etag),
        )
        .await
        .expect("submit");
    let assessed = api
        .send(
            reqwest::Method::POST,
            &format!("/v1/changes/{id}/assess"),
            Some(&json!({"risk": "low", "impact": "none", "implementation_plan": "apply",
                          "test_plan": "smoke", "rollback_plan": "revert"})),
            Some(&submitted.etag),
        )
        .await
        .expect("assess");
    // Bookings on one calendar race for its stream; the server retries a
    // few times, and a loser that ran out of retries (412) tries again.
    for _ in 0..20 {
        match api
            .send(
                reqwest::Method::POST,
                &format!("/v1/changes/{id}/schedule"),
                Some(window),
                Some(&assessed.etag),
            )
            .await
        {
            Ok(r) => return (id, r.etag),
            Err(e) if e.starts_with("412") => continue,
            Err(e) => panic!("schedule {id}: {e}"),
        }
    }
    panic!("schedule {id}: lost every race for the calendar");
}

/// The changes the measured calendar range shows: 20 booked between 10
/// and 40 days ahead, one every 36 hours. Returns the first, which the
/// schedule measurement moves.
async fn residents(callers: &Callers, present: DateTime<Utc>) -> (String, String) {
    let mut first = None;
    for k in 0..RESIDENTS {
        let at = present + TimeDelta::days(10) + TimeDelta::hours(36 * k);
        let window = json!({"start": at.to_rfc3339(), "end": (at + TimeDelta::hours(2)).to_rfc3339()});
        let booked = scheduled_change(callers, &format!("Resident change {k}"), &window).await;
        first.get_or_insert(booked);
    }
    first.expect("at least one resident")
}

/// The change the schedule measurement moves, and where it is.
struct Mover {
    id: String,
    etag: String,
    away: bool,
}

/// Lets the store settle before a measurement, as a live one is between
/// bursts: the sequencer has positioned every event written (it would
/// otherwise still be catching up on the burst of bookings while the
/// requests are timed), autovacuum's work is done (VACUUM ANALYZE), and
/// the dirty pages are written (CHECKPOINT).
async fn settle(db: &Database) {
    let client = connect(&db.admin).await.expect("connect as the owner");
    let started = Instant::now();
    loop {
        let queued: i64 = client
            .query_one("SELECT count(*) FROM event_queue", &[])
            .await
            .expect("queue")
            .get(0);
        if queued == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the sequencer did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "calendar: sequencer caught up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // One statement each: a multi-statement string is one transaction,
    // where VACUUM may not run.
    for statement in ["VACUUM ANALYZE", "CHECKPOINT"] {
        client.batch_execute(statement).await.expect(statement);
    }
}

fn report(args: &Args, stores: &[Store], slice: Duration, starts: usize) {
    let (a, b) = (&stores[0], &stores[1]);
    let mut out = String::new();
    out.push_str(&format!(
        "Machine: {}. One client; two stores side by side, measured in turn over 4 rounds after a warm-up \
         round: schedule and calendar {} s per round, {starts} starts per round.\n\n",
        machine(),
        slice.as_secs(),
    ));
    out.push_str(&format!(
        "| operation | p50 ms with {} | p50 ms with {} | ratio | within ±20 % | p99 ms {} → {} | requests |\n",
        a.label, b.label, a.label, b.label
    ));
    out.push_str("|---|---|---|---|---|---|---|\n");
    let mut pass = a.errors + b.errors == 0;
    for (name, x, y) in [
        ("schedule a change", &a.schedule, &b.schedule),
        ("start a change", &a.start, &b.start),
        ("GET /v1/changes/calendar", &a.calendar, &b.calendar),
    ] {
        let p50 = |h: &Histogram<u64>| h.value_at_quantile(0.5) as f64 / 1000.0;
        let p99 = |h: &Histogram<u64>| h.value_at_quantile(0.99) as f64 / 1000.0;
        let ratio = p50(y) / p50(x).max(f64::MIN_POSITIVE);
        let within = (ratio - 1.0).abs() <= TOLERANCE;
        pass &= within;
        out.push_str(&format!(
            "| {name} | {:.2} | {:.2} | {ratio:.2} | {} | {:.2} → {:.2} | {} + {} |\n",
            p50(x),
            p50(y),
            if within { "yes" } else { "NO" },
            p99(x),
            p99(y),
            x.len(),
            y.len(),
        ));
    }
    for store in stores {
        if let Some(e) = &store.first_error {
            out.push_str(&format!(
                "\n{} errors on the store with {}; first: {e}\n",
                store.errors, store.label
            ));
        }
    }
    out.push_str(&format!("\n{}\n", if pass { "PASS" } else { "FAIL" }));
    let _ = args;
    crate::publish("calendar-report.md", &out);
}
