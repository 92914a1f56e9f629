//! Calendar mode: `cargo bench --bench load -- --calendar` (issue 18).
//!
//! Scheduling a change, starting one and reading the change calendar must
//! cost the same whether the service has 10 earlier bookings and freeze
//! windows or 10,000. The mode runs the server in-process on a manual clock
//! (`Application::build_with_clock`), so that the history can lie in the
//! past, as a real one does:
//!
//! 1. With the clock 500 days back, it books 10 standard changes on the
//!    service (draft, submit, assess, schedule over HTTP) in one-hour
//!    steps, each followed by a freeze window on the service.
//! 2. With the clock at the present, after ANALYZE, it measures on the
//!    same service:
//!    - **schedule**: one change rescheduled back and forth between two
//!      free windows in the weeks ahead (`POST /v1/changes/{id}/schedule`);
//!    - **start**: `--calendar-starts` changes scheduled in one-minute
//!      windows ahead, each started with the clock set to its window
//!      (`POST /v1/changes/{id}/start`);
//!    - **calendar**: `GET /v1/changes/calendar` over a fixed 30-day range
//!      holding the same 20 changes in both runs.
//! 3. It books the rest of `--calendar-history` (default 10,000) changes
//!    and freezes the same way, in the past, and measures again.
//!
//! PASS when each median stays within ±20 % of its value with 10.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use opsledger::app::clock::ManualClock;
use opsledger::domain::Role;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{Api, Args, Database, Measured, connect, machine, measure, start_server, token};

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

/// One measured point: the three operations.
struct Point {
    schedule: Measured,
    start: Measured,
    calendar: Measured,
}

pub async fn run(args: &Args, db: &Database) {
    // Every instant the bench names is on a whole hour, so runs compare.
    let present = Utc::now().duration_trunc(TimeDelta::hours(1)).expect("a whole hour") + TimeDelta::hours(1);
    let past = present - TimeDelta::days(500);
    let clock = ManualClock::starting_at(past);
    let (base, handle) = start_server(db, args.pool, clock.clone());
    eprintln!("calendar: server at {base}, database {}", db.name);
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
    let small = 10u64;
    let large = args.calendar_history.max(small);

    eprintln!("calendar: booking {small} changes and freezes in the past");
    book_history(&callers, &clock, past, 0..small).await;
    clock.set(present);
    let (id, etag) = residents(&callers, present).await;
    let mover = Arc::new(Mutex::new(Mover { id, etag, away: false }));
    analyze(db).await;
    eprintln!("calendar: measuring with {small} earlier bookings and freezes");
    let with_small = measure_point(args, &callers, &clock, present, &mover, 0).await;

    eprintln!(
        "calendar: booking {} more changes and freezes in the past",
        large - small
    );
    clock.set(past);
    let started = Instant::now();
    book_history(&callers, &clock, past, small..large).await;
    let booking_time = started.elapsed();
    analyze(db).await;
    eprintln!("calendar: measuring with {large} earlier bookings and freezes");
    let with_large = measure_point(args, &callers, &clock, present, &mover, 1).await;
    handle.stop(true).await;

    report(args, small, large, booking_time, &with_small, &with_large);
}

/// Books changes `range` on the service in the past, one an hour, each
/// followed by a quarter-hour freeze window; 8 at a time.
async fn book_history(
    callers: &Arc<Callers>,
    clock: &Arc<ManualClock>,
    past: DateTime<Utc>,
    range: std::ops::Range<u64>,
) {
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
                if n % 1000 == 0 {
                    eprintln!(
                        "calendar: {n} of {total} booked ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        })
        .await;
    // The clock is not read again until it is set for the measurements.
    let _ = clock;
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

async fn measure_point(
    args: &Args,
    callers: &Arc<Callers>,
    clock: &Arc<ManualClock>,
    present: DateTime<Utc>,
    mover: &Arc<Mutex<Mover>>,
    run: i64,
) -> Point {
    let warmup = Duration::from_secs(args.warmup);
    let seconds = Duration::from_secs(args.seconds);
    clock.set(present + TimeDelta::days(2 * run));

    // Schedule: the first resident moves between its own window and a free
    // one 4 hours later, and back; each request decides against the
    // bookings and freezes overlapping the window and appends a booking.
    let home = present + TimeDelta::days(10);
    let schedule = {
        let callers = callers.clone();
        let mover = mover.clone();
        measure(1, warmup, seconds, move |_| {
            let callers = callers.clone();
            let mover = mover.clone();
            async move {
                let mut mover = mover.lock().await;
                let at = if mover.away { home } else { home + TimeDelta::hours(4) };
                let window = json!({"start": at.to_rfc3339(), "end": (at + TimeDelta::hours(2)).to_rfc3339()});
                let r = callers
                    .manager
                    .send(
                        reqwest::Method::POST,
                        &format!("/v1/changes/{}/schedule", mover.id),
                        Some(&window),
                        Some(&mover.etag),
                    )
                    .await?;
                mover.etag = r.etag;
                mover.away = !mover.away;
                Ok(())
            }
        })
        .await
    };

    // Start: changes booked in one-minute windows from an hour ahead, each
    // started with the clock at its window.
    let base = present + TimeDelta::days(2 * run) + TimeDelta::hours(1);
    let mut ready = Vec::with_capacity(args.calendar_starts);
    for i in 0..args.calendar_starts {
        let at = base + TimeDelta::minutes(i as i64);
        let window = json!({"start": at.to_rfc3339(), "end": (at + TimeDelta::minutes(1)).to_rfc3339()});
        let (id, etag) = scheduled_change(callers, &format!("Started change {run}-{i}"), &window).await;
        ready.push((id, etag, at));
    }
    let start = start_each(callers, clock, ready).await;

    // The calendar over the residents' 30 days.
    let from = (present + TimeDelta::days(10)).to_rfc3339();
    let to = (present + TimeDelta::days(40)).to_rfc3339();
    let path = format!("/v1/changes/calendar?from={}&to={}", urlencode(&from), urlencode(&to));
    let calendar = {
        let callers = callers.clone();
        measure(1, warmup, seconds, move |_| {
            let callers = callers.clone();
            let path = path.clone();
            async move {
                callers
                    .engineer
                    .send(reqwest::Method::GET, &path, None, None)
                    .await
                    .map(|_| ())
            }
        })
        .await
    };
    Point {
        schedule,
        start,
        calendar,
    }
}

/// Starts each change in turn with the clock at its window: one client,
/// every start recorded (the first tenth is the warm-up).
async fn start_each(
    callers: &Callers,
    clock: &Arc<ManualClock>,
    ready: Vec<(String, String, DateTime<Utc>)>,
) -> Measured {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let warm = ready.len() / 10;
    let (mut errors, mut first_error) = (0, None);
    let mut busy = Duration::ZERO;
    for (n, (id, etag, at)) in ready.into_iter().enumerate() {
        clock.set(at);
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
        if n < warm {
            continue;
        }
        match result {
            Ok(_) => {
                busy += took;
                let _ = histogram.record(took.as_micros().max(1) as u64);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    Measured {
        ops_per_sec: histogram.len() as f64 / busy.as_secs_f64().max(f64::MIN_POSITIVE),
        p50_ms: histogram.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
        errors,
        first_error,
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn analyze(db: &Database) {
    let client = connect(&db.admin).await.expect("connect as the owner");
    client.batch_execute("ANALYZE").await.expect("analyze");
}

fn report(args: &Args, small: u64, large: u64, booking: Duration, a: &Point, b: &Point) {
    let mut out = String::new();
    out.push_str(&format!(
        "Machine: {}. One client; {} s measured after {} s warm-up for schedule and calendar, {} starts \
         (the first tenth not recorded); booking {} more changes and freezes took {:.0} s.\n\n",
        machine(),
        args.seconds,
        args.warmup,
        args.calendar_starts,
        large - small,
        booking.as_secs_f64(),
    ));
    out.push_str(&format!(
        "| operation | p50 ms with {small} | p50 ms with {large} | ratio | within ±20 % | p99 ms {small} → {large} | \
         requests/s {small} → {large} | errors |\n"
    ));
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let mut pass = true;
    for (name, x, y) in [
        ("schedule a change", &a.schedule, &b.schedule),
        ("start a change", &a.start, &b.start),
        ("GET /v1/changes/calendar", &a.calendar, &b.calendar),
    ] {
        let ratio = y.p50_ms / x.p50_ms.max(f64::MIN_POSITIVE);
        let within = (ratio - 1.0).abs() <= TOLERANCE;
        pass &= within && x.errors + y.errors == 0;
        out.push_str(&format!(
            "| {name} | {:.2} | {:.2} | {ratio:.2} | {} | {:.2} → {:.2} | {:.0} → {:.0} | {} |\n",
            x.p50_ms,
            y.p50_ms,
            if within { "yes" } else { "NO" },
            x.p99_ms,
            y.p99_ms,
            x.ops_per_sec,
            y.ops_per_sec,
            x.errors + y.errors,
        ));
    }
    for (x, y) in [
        (&a.schedule, &b.schedule),
        (&a.start, &b.start),
        (&a.calendar, &b.calendar),
    ] {
        if let Some(e) = x.first_error.as_ref().or(y.first_error.as_ref()) {
            out.push_str(&format!("\nfirst error: {e}\n"));
        }
    }
    out.push_str(&format!("\n{}\n", if pass { "PASS" } else { "FAIL" }));
    println!("{out}");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("calendar-report.md"), &out);
}
