//! Throw-away PostgreSQL databases for integration tests.
//!
//! [`TestDatabase::create`] makes a brand-new, empty database on the first
//! server that answers, in this order:
//!
//! 1. the server named by `TEST_DATABASE_URL` (a libpq URL or key=value
//!    string; `DATABASE_URL` is deliberately never read, so tests cannot
//!    touch a real database). The role must be a superuser or have CREATEDB.
//!    If it is set but does not answer, the tests fail instead of silently
//!    testing against another server.
//! 2. a local PostgreSQL service on 127.0.0.1:5432, as user `postgres`
//!    without a password (Debian's default for local TCP is `md5`/`scram`, so
//!    this only matches when trust is configured, as on CI images). Set
//!    `OPSLEDGER_TEST_SKIP_LOCAL_SERVICE=1` to skip it, e.g. to exercise
//!    option 3 on a machine that has a service.
//! 3. a private cluster started with [`EmbeddedPostgres`] in
//!    `<CARGO_TARGET_TMPDIR or the system temp dir>/opsledger-test-pg/data`
//!    (normally `target/tmp/opsledger-test-pg/data`), shared by every test
//!    process: an exclusive lock on `opsledger-test-pg/lock` serialises
//!    creating/starting it, and a running one is found again through the
//!    port in its `postmaster.pid`. It is LEFT RUNNING after the tests, like
//!    a build cache under `target/`, so later runs skip `initdb` and startup.
//!    To get rid of it, stop it first (`pg_ctl stop -D <that dir>`, as the
//!    `postgres` OS user when root), then delete the directory; a plain
//!    `cargo clean` leaves the server running on a deleted directory.
//!    When the tests run as root the server runs as `postgres`, so every
//!    directory above the target dir must be searchable by that user (a
//!    target dir under a 0700 `/root` is not: the start fails saying so).
//!    Its `max_connections` is PostgreSQL's default of 100, shared by all
//!    concurrently running test processes.
//!
//! The server is chosen once per test process and announced on stderr.
//! Each database is dropped (`WITH (FORCE)`) when its `TestDatabase` is
//! dropped; a killed test process leaves its `opsledger_test_*` database
//! behind.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opsledger::infra::embedded_pg::EmbeddedPostgres;
use tokio::sync::OnceCell;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// libpq URL of a server to create test databases on.
pub const TEST_DATABASE_URL_ENV: &str = "TEST_DATABASE_URL";
/// Test-only switch: when set (to anything but "" or "0"), the local service
/// on 127.0.0.1:5432 is not tried.
pub const SKIP_LOCAL_SERVICE_ENV: &str = "OPSLEDGER_TEST_SKIP_LOCAL_SERVICE";

const LOCAL_SERVICE_PORT: u16 = 5432;
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const DROP_TIMEOUT: Duration = Duration::from_secs(30);

/// Which server a test database lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSource {
    TestDatabaseUrl,
    LocalService,
    Embedded,
}

/// The server chosen for this process. Only configuration is kept: every
/// `#[tokio::test]` has its own runtime, so connections cannot be shared.
#[derive(Debug, Clone)]
struct Server {
    source: ServerSource,
    /// Superuser connection to a database that always exists, used to
    /// create and drop the test databases.
    maintenance: Config,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

pub struct TestDatabase {
    pub name: String,
    /// Superuser on the server, connected to THIS database.
    pub admin: Config,
    maintenance: Config,
}

impl TestDatabase {
    /// A brand-new empty database named `opsledger_test_<uuid>` (made from
    /// `template0`, so nothing added to `template1` leaks in).
    pub async fn create() -> TestDatabase {
        let server = SERVER.get_or_init(choose_server).await;
        let name = format!("opsledger_test_{}", uuid::Uuid::new_v4().simple());
        let client = connect(&server.maintenance).await.unwrap_or_else(|e| {
            panic!(
                "test harness: cannot connect to {}: {}",
                describe(server),
                opsledger::store::describe_error(&e)
            )
        });
        client
            .batch_execute(&format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name)))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "test harness: cannot create database {name} on {}: {}",
                    describe(server),
                    opsledger::store::describe_error(&e)
                )
            });
        let mut admin = server.maintenance.clone();
        admin.dbname(&name);
        TestDatabase {
            name,
            admin,
            maintenance: server.maintenance.clone(),
        }
    }

    /// A superuser connection to this database; its connection task runs on
    /// the current runtime.
    pub async fn connect_admin(&self) -> Client {
        connect(&self.admin).await.unwrap_or_else(|e| {
            panic!(
                "test harness: cannot connect to database {}: {}",
                self.name,
                opsledger::store::describe_error(&e)
            )
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and blocking on the test's own runtime from
        // inside it is not allowed: use a separate thread with its own small
        // runtime, and wait for it so the database is gone when drop
        // returns. FORCE disconnects clients the test still holds (their
        // connection tasks may be stuck on the blocked test runtime).
        let maintenance = self.maintenance.clone();
        let name = quote_ident(&self.name);
        let dropper = std::thread::Builder::new()
            .name("drop-test-database".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                runtime.block_on(async {
                    let _ = tokio::time::timeout(DROP_TIMEOUT, async {
                        let client = connect(&maintenance).await?;
                        let forced = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        if client.batch_execute(&forced).await.is_err() {
                            // WITH (FORCE) needs PostgreSQL 13+.
                            let plain = format!("DROP DATABASE IF EXISTS {name}");
                            client.batch_execute(&plain).await?;
                        }
                        Ok::<(), tokio_postgres::Error>(())
                    })
                    .await;
                });
            });
        if let Ok(handle) = dropper {
            let _ = handle.join();
        }
    }
}

/// Whether `OPSLEDGER_TEST_SKIP_LOCAL_SERVICE` asks to skip the local service.
pub fn skip_local_service() -> bool {
    std::env::var(SKIP_LOCAL_SERVICE_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether the local service on 127.0.0.1:5432 answers as a `postgres`
/// superuser (or CREATEDB role) without a password.
pub async fn local_service_answers() -> bool {
    probe_creator(&local_service_config())
        .await
        .is_ok_and(|can_create| can_create)
}

async fn choose_server() -> Server {
    let server = if let Some(url) = std::env::var(TEST_DATABASE_URL_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        from_test_database_url(&url).await
    } else if !skip_local_service() && local_service_answers().await {
        Server {
            source: ServerSource::LocalService,
            maintenance: local_service_config(),
        }
    } else {
        embedded().await
    };
    // Straight to the stderr handle: eprintln! output is swallowed by the
    // test runner's capture for passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "test harness: creating test databases on {}",
        describe(&server)
    );
    server
}

async fn from_test_database_url(url: &str) -> Server {
    // The URL is not echoed: it may carry a password.
    let mut config: Config = url.parse().unwrap_or_else(|e| {
        panic!("test harness: {TEST_DATABASE_URL_ENV} is not a valid libpq connection string: {e}")
    });
    if config.get_dbname().is_none() {
        config.dbname("postgres");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let server = Server {
        source: ServerSource::TestDatabaseUrl,
        maintenance: config,
    };
    match probe_creator(&server.maintenance).await {
        Ok(true) => server,
        Ok(false) => panic!(
            "test harness: the role in {TEST_DATABASE_URL_ENV} ({}) may not create databases; \
             it needs SUPERUSER or CREATEDB",
            describe(&server)
        ),
        Err(e) => panic!(
            "test harness: {TEST_DATABASE_URL_ENV} is set but {} does not answer: {e}; \
             fix or unset it (unset, the local service or an embedded cluster is used)",
            describe(&server)
        ),
    }
}

fn local_service_config() -> Config {
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(LOCAL_SERVICE_PORT)
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(PROBE_TIMEOUT);
    config
}

/// Connects and tells whether the role may create databases.
async fn probe_creator(config: &Config) -> Result<bool, String> {
    let attempt = async {
        let client = connect(config).await?;
        let row = client
            .query_one(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await?;
        row.try_get::<_, bool>(0)
    };
    match tokio::time::timeout(PROBE_TIMEOUT * 2, attempt).await {
        Ok(result) => result.map_err(|e| opsledger::store::describe_error(&e)),
        Err(_) => Err("timed out".into()),
    }
}

/// Option 3: the shared embedded cluster, started at most once across all
/// test processes.
async fn embedded() -> Server {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("opsledger-test-pg");
    std::fs::create_dir_all(&base).unwrap_or_else(|e| panic!("test harness: cannot create {}: {e}", base.display()));
    // The PostgreSQL OS user must be able to reach it (not so under /root).
    let data_dir = EmbeddedPostgres::reachable_dir(&base.join("data"))
        .unwrap_or_else(|e| panic!("test harness: no place for a private cluster: {e}"));

    // Parallel test binaries must not initdb or start the same cluster at
    // once: hold an exclusive lock on a file next to it while checking and
    // starting. The lock goes away with the file handle (also if this
    // process dies); waiting for it blocks, hence spawn_blocking.
    let lock_path = base.join("lock");
    let lock = tokio::task::spawn_blocking(move || {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        file.lock()?;
        Ok::<File, std::io::Error>(file)
    })
    .await
    .unwrap_or_else(|e| panic!("test harness: lock task failed: {e}"))
    .unwrap_or_else(|e| panic!("test harness: cannot lock {}/lock: {e}", base.display()));

    let port = match running_embedded_port(&data_dir).await {
        Some(port) => port,
        None => {
            let pg = EmbeddedPostgres::start(&data_dir).await.unwrap_or_else(|e| {
                panic!(
                    "test harness: no PostgreSQL server available: {TEST_DATABASE_URL_ENV} is unset, \
                     nothing answers on 127.0.0.1:{LOCAL_SERVICE_PORT}, and starting a private \
                     cluster in {} failed: {e}",
                    data_dir.display()
                )
            });
            let port = pg.port();
            // Left running on purpose: it is a cache shared with other and
            // later test processes.
            pg.detach();
            port
        }
    };
    drop(lock);

    Server {
        source: ServerSource::Embedded,
        maintenance: embedded_config(port),
    }
}

fn embedded_config(port: u16) -> Config {
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(PROBE_TIMEOUT);
    config
}

/// The port of a server already running on `data_dir` (line 4 of
/// postmaster.pid), if one answers there and really serves that data
/// directory (a stale file may name a port now used by another server).
async fn running_embedded_port(data_dir: &Path) -> Option<u16> {
    let contents = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let port: u16 = contents.lines().nth(3)?.trim().parse().ok()?;
    let expected = std::fs::canonicalize(data_dir).ok()?;
    let config = embedded_config(port);
    let check = async {
        let client = connect(&config).await.ok()?;
        let row = client
            .query_one("SELECT current_setting('data_directory')", &[])
            .await
            .ok()?;
        let served: String = row.try_get(0).ok()?;
        Some(std::fs::canonicalize(served).ok()? == expected)
    };
    match tokio::time::timeout(PROBE_TIMEOUT * 2, check).await {
        Ok(Some(true)) => Some(port),
        _ => None,
    }
}

/// Connects without TLS; the connection task runs on the current runtime.
pub async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Human-readable server description without secrets.
fn describe(server: &Server) -> String {
    let config = &server.maintenance;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    let location = format!(
        "{} port {} as {}",
        hosts.join(","),
        ports.join(","),
        config.get_user().unwrap_or("(default user)")
    );
    match server.source {
        ServerSource::TestDatabaseUrl => {
            format!("the server in {TEST_DATABASE_URL_ENV} ({location})")
        }
        ServerSource::LocalService => format!("the local PostgreSQL service ({location})"),
        ServerSource::Embedded => format!("the shared embedded test cluster ({location})"),
    }
}

/// What only the owner or a superuser can do: switch off the append-only
/// triggers of `events` and `event_log` inside the caller's transaction.
pub async fn disable_guards(tx: &tokio_postgres::Transaction<'_>) {
    tx.batch_execute(
        "ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete;
         ALTER TABLE event_log DISABLE TRIGGER event_log_refuse_update_delete;",
    )
    .await
    .expect("a superuser may disable the triggers");
}

/// Puts the triggers back as the migrations left them (ENABLE ALWAYS).
pub async fn restore_guards(tx: &tokio_postgres::Transaction<'_>) {
    tx.batch_execute(
        "ALTER TABLE events ENABLE ALWAYS TRIGGER events_refuse_update_delete;
         ALTER TABLE event_log ENABLE ALWAYS TRIGGER event_log_refuse_update_delete;",
    )
    .await
    .expect("re-enable the triggers");
}
