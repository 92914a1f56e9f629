//! Shared test support: a fresh database per test and the real server on a
//! random port, driven over HTTP with reqwest.

// The path is spelled out so that the binaries that include this file with
// `#[path = "api/helpers.rs"]` (tests/cluster_faults.rs,
// tests/process_metrics) find the module too.
#[path = "helpers/postgres.rs"]
pub mod postgres;
#[path = "helpers/spec.rs"]
pub mod spec;

use std::net::TcpListener;
use std::path::PathBuf;

use chrono::{Duration, Utc};
use deadpool_postgres::Pool;
use opsledger::domain::Role;
use opsledger::http::auth::{DevToken, mint_dev_token};
use opsledger::infra::database;
use opsledger::startup::config::{AuthArgs, DatabaseArgs, LogFormat, MasterKeyArgs, ServeArgs};
use opsledger::startup::server::Application;
use postgres::TestDatabase;
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
pub const ISSUER: &str = "https://idp.test";
pub const AUDIENCE: &str = "opsledger";
/// The master key of test servers (test-only, protects nothing).
pub const MASTER_KEY: &str = "8f2a6b1e4c9d07e35a1f6c2b9e8d4a7f0c3b5e9d2a6f1c8b7e4d0a3f9c6b2e15";
/// The `opsledger` binary, for tests that run it as an operator would.
pub const BIN: &str = env!("CARGO_BIN_EXE_opsledger");

/// A libpq URL for `config`, optionally running every session as `role`.
pub fn url_of(config: &tokio_postgres::Config, role: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let password = config
        .get_password()
        .map(|p| format!(":{}", urlencode(&String::from_utf8_lossy(p))))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("postgres");
    let mut url = if host.starts_with('/') {
        format!("postgres://{user}{password}@/{db}?host={}", urlencode(&host))
    } else {
        format!("postgres://{user}{password}@{host}:{port}/{db}")
    };
    if let Some(role) = role {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("options={}", urlencode(&format!("-c role={role}"))));
    }
    url
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn auth_args() -> AuthArgs {
    AuthArgs {
        dev_mode: true,
        jwt_algorithm: None,
        jwt_secret: Some(SECRET.to_owned()),
        jwt_public_key_file: None,
        jwt_jwks_file: None,
        jwt_issuer: ISSUER.to_owned(),
        jwt_audience: AUDIENCE.to_owned(),
        jwt_leeway_secs: 0,
        jwt_roles_claim: "roles".to_owned(),
        jwt_scopes_claim: "scope".to_owned(),
    }
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDatabase,
    pub handle: actix_web::dev::ServerHandle,
}

/// Builds the application exactly as `opsledger serve` does: migrations run
/// as the database owner, the server connects as a member of
/// `opsledger_app`, which may only read and append to the log.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose commands happen at the instants `clock` says.
pub async fn spawn_app_at(clock: opsledger::app::clock::SharedClock) -> TestApp {
    let db = TestDatabase::create().await;
    let (base, handle) = start_server_on(&db, |_| {}, clock).await;
    TestApp {
        base,
        http: reqwest::Client::new(),
        db,
        handle,
    }
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut ServeArgs)) -> TestApp {
    let db = TestDatabase::create().await;
    let (base, handle) = start_server(&db, customise).await;
    TestApp {
        base,
        http: reqwest::Client::new(),
        db,
        handle,
    }
}

/// The arguments `opsledger serve` would get for a test database.
pub fn serve_args(db: &TestDatabase) -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".to_owned(),
        max_body_bytes: 64 * 1024,
        workers: Some(2),
        shutdown_timeout_secs: 1,
        log_format: LogFormat::Text,
        idempotency_retention_hours: 24,
        metrics_token_file: None,
        default_language: Default::default(),
        // On, as `opsledger serve` ships: tests see the `sla.*` events a
        // desk sees. A test about a server without clocks turns them off.
        sla: opsledger::startup::config::SlaSwitch::On,
        strong: Default::default(),
        database: DatabaseArgs {
            database_url: Some(url_of(&db.admin, Some("opsledger_app"))),
            migration_database_url: Some(url_of(&db.admin, None)),
            data_dir: PathBuf::from("target/test-data"),
            db_pool_size: 4,
        },
        auth: auth_args(),
        master: MasterKeyArgs {
            master_key: Some(MASTER_KEY.to_owned()),
            master_key_file: None,
        },
        console: Default::default(),
    }
}

/// Starts a server on an existing test database; returns its base URL.
pub async fn start_server(
    db: &TestDatabase,
    customise: impl FnOnce(&mut ServeArgs),
) -> (String, actix_web::dev::ServerHandle) {
    start_server_on(db, customise, opsledger::app::clock::SystemClock::shared()).await
}

/// Starts a server on an existing test database and a given clock.
pub async fn start_server_on(
    db: &TestDatabase,
    customise: impl FnOnce(&mut ServeArgs),
    clock: opsledger::app::clock::SharedClock,
) -> (String, actix_web::dev::ServerHandle) {
    let mut args = serve_args(db);
    customise(&mut args);
    let app = Application::build_with_clock(args, clock)
        .await
        .expect("the application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (base, handle)
}

pub fn token(subject: &str, roles: &[Role]) -> String {
    token_with_scopes(subject, roles, &[])
}

pub fn token_with_scopes(subject: &str, roles: &[Role], scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    mint_dev_token(
        SECRET.as_bytes(),
        &DevToken {
            issuer: ISSUER,
            audience: AUDIENCE,
            subject,
            name: None,
            roles,
            scopes: &scopes,
            ttl_secs: 600,
        },
    )
    .expect("token")
}

pub fn agent() -> String {
    token("agent-1", &[Role::Agent])
}

pub fn admin() -> String {
    token("admin-1", &[Role::Admin])
}

pub fn auditor() -> String {
    token("aud-1", &[Role::Auditor])
}

pub fn engineer(name: &str) -> String {
    token(name, &[Role::Engineer])
}

pub fn manager(name: &str) -> String {
    token(name, &[Role::Manager])
}

pub fn sample_complaint() -> Value {
    json!({
        "title": "宽带反复断线",
        "description": "客户反映家中宽带每晚八点后断线，已持续一周。",
        "channel": "phone",
        "complainant": {"name": "张伟", "phone": "+86 138 0013 8000", "email": "zhang.wei@example.cn"},
        "category": "broadband",
        "priority": "P2"
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_if_match(&self, path: &str, token: &str, etag: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .header("If-Match", etag)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Files the sample complaint as an agent; returns (view, etag).
    pub async fn file_complaint(&self) -> (Value, String) {
        let response = self.post("/v1/complaints", &agent(), &sample_complaint()).await;
        assert_eq!(response.status(), 201, "filing succeeds");
        let etag = etag_of(&response);
        (response.json().await.expect("json"), etag)
    }

    /// Runs a transition with If-Match; returns (status, body, etag).
    pub async fn transition(&self, id: &str, command: &str, etag: &str, body: Value) -> (u16, Value, String) {
        let response = self
            .post_if_match(&format!("/v1/complaints/{id}/{command}"), &agent(), etag, &body)
            .await;
        let status = response.status().as_u16();
        let etag = etag_of(&response);
        (status, response.json().await.unwrap_or(Value::Null), etag)
    }

    /// POST with If-Match (or without, when `etag` is empty); returns (status, body, etag).
    pub async fn command(&self, path: &str, token: &str, etag: &str, body: Value) -> (u16, Value, String) {
        let response = if etag.is_empty() {
            self.post(path, token, &body).await
        } else {
            self.post_if_match(path, token, etag, &body).await
        };
        let status = response.status().as_u16();
        let etag = etag_of(&response);
        (status, response.json().await.unwrap_or(Value::Null), etag)
    }

    /// Runs a command that must succeed (200 or 201); returns (body, etag).
    pub async fn ok(&self, path: &str, token: &str, etag: &str, body: Value) -> (Value, String) {
        let (status, body, etag) = self.command(path, token, etag, body).await;
        assert!(status == 200 || status == 201, "{path}: {status} {body}");
        (body, etag)
    }

    /// POSTs what must create something (201); returns the answer.
    pub async fn created(&self, path: &str, token: &str, body: &Value) -> Value {
        let r = self.post(path, token, body).await;
        assert_eq!(r.status(), 201, "{path}");
        r.json().await.expect("json")
    }

    /// Reads a ticket the caller may read; returns (view, etag).
    pub async fn view(&self, id: &str, token: &str) -> (Value, String) {
        let response = self.get(&format!("/v1/tickets/{id}"), token).await;
        assert_eq!(response.status(), 200, "read {id}");
        let etag = etag_of(&response);
        (response.json().await.expect("json"), etag)
    }

    /// The number of events in the store, read as the database owner.
    pub async fn count_events(&self) -> i64 {
        self.db
            .connect_admin()
            .await
            .query_one("SELECT count(*) FROM events", &[])
            .await
            .expect("count")
            .get(0)
    }
}

pub fn etag_of(response: &reqwest::Response) -> String {
    header(response, "etag")
}

/// A response header as text; empty when there is none.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts the status of a response and returns its JSON body.
pub async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let (got, url) = (r.status().as_u16(), r.url().clone());
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{url}: {body}");
    body
}

/// The event types of a ticket's history page, in order.
pub fn event_types(history: &Value) -> Vec<String> {
    history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A local time in Asia/Shanghai, `days` days from now at `hour`:00.
pub fn shanghai(days: i64, hour: u32) -> String {
    let day = (Utc::now() + Duration::days(days) + Duration::hours(8)).date_naive();
    format!("{day}T{hour:02}:00")
}

/// The instant [`shanghai`] names for the same arguments.
pub fn instant_in_shanghai(days: i64, hour: u32) -> chrono::DateTime<Utc> {
    format!("{}:00+08:00", shanghai(days, hour))
        .parse()
        .expect("a valid instant")
}

/// Asserts a problem+json response and returns its body.
pub async fn problem(response: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}"
    );
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["type"], format!("urn:opsledger:problem:{kind}"), "{body}");
    assert_eq!(body["status"], status);
    body
}

/// Envelope metadata for events a test appends straight to the store.
pub fn test_metadata() -> opsledger::store::Metadata {
    opsledger::store::Metadata {
        actor: "https://idp.test|agent-1".into(),
        roles: vec!["agent".into()],
        request_id: "req-1".into(),
        client_request_id: None,
        correlation_id: "req-1".into(),
        causation_id: None,
        idempotency_key: None,
    }
}

/// `n` events of a test-only type, for appending straight to the store.
pub fn test_events(n: usize) -> Vec<opsledger::store::NewEvent> {
    (0..n)
        .map(|i| opsledger::store::NewEvent {
            event_type: "test.happened",
            schema_version: 1,
            payload: json!({"n": i, "text": "中文不变"}),
        })
        .collect()
}

/// The arguments of the maintenance commands (export, import, repair) for
/// a test database, as its owner.
pub fn database_args(db: &TestDatabase) -> DatabaseArgs {
    DatabaseArgs {
        database_url: Some(url_of(&db.admin, None)),
        migration_database_url: Some(url_of(&db.admin, None)),
        data_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        db_pool_size: 2,
    }
}

/// A fresh database with the schema, and a pool of its owner, for tests
/// of the store without a server.
pub async fn migrated() -> (TestDatabase, Pool) {
    let db = TestDatabase::create().await;
    database::migrate(&db.admin).await.expect("migrations apply");
    let pool = database::pool(db.admin.clone(), 2).expect("pool");
    (db, pool)
}

/// A loopback port nothing listens on (as long as nobody takes it first).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Writes, as the database owner may, a global-log entry at `position` that
/// names no event (no foreign key holds an entry to its event since
/// migration V18), chained from `previous`, the log's head hash.
pub async fn log_entry_naming_no_event(owner: &tokio_postgres::Client, position: i64, previous: &[u8]) {
    let written = owner
        .execute(
            "INSERT INTO event_log (position, seq_id, global_hash, sequenced_at)
             VALUES ($1, (SELECT max(seq_id) + 1000000 FROM events), $2, now())",
            &[&position, &previous],
        )
        .await
        .expect("an owner may write an entry that names no event");
    assert_eq!(written, 1);
}
