//! EmbeddedPostgres lifecycle: first start (initdb), restart on the same
//! cluster, recovery from a killed server, and long data directory paths.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::postgres;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use opsledger::infra::embedded_pg::EmbeddedPostgres;
use tokio_postgres::{Client, NoTls};

/// A temp dir the server's OS user can use: when the tests run as root the
/// server runs as `postgres`, and tempfile makes 0700 root-owned dirs.
fn scratch_dir() -> tempfile::TempDir {
    // Show the module's logs in failing tests' output.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::Builder::new()
        .prefix("opsledger-epg-")
        .tempdir()
        .expect("create temp dir");
    if nix::unistd::geteuid().is_root() {
        let user = nix::unistd::User::from_name("postgres")
            .expect("look up user postgres")
            .expect("user postgres exists");
        std::os::unix::fs::chown(dir.path(), Some(user.uid.as_raw()), Some(user.gid.as_raw())).expect("chown temp dir");
    }
    dir
}

async fn connect(pg: &EmbeddedPostgres) -> Result<Client, tokio_postgres::Error> {
    postgres::connect(&pg.superuser_config("postgres")).await
}

async fn answers_on(port: u16) -> bool {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(2));
    config.connect(NoTls).await.is_ok()
}

fn postmaster_pid(data_dir: &Path) -> i32 {
    let contents = std::fs::read_to_string(data_dir.join("postmaster.pid")).expect("read postmaster.pid");
    contents
        .lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .expect("pid on line 1 of postmaster.pid")
}

#[test]
fn finds_the_server_binaries() {
    let bin = EmbeddedPostgres::find_binaries().expect("PostgreSQL binaries installed");
    assert!(bin.join("initdb").exists() && bin.join("pg_ctl").exists());
}

#[tokio::test]
async fn starts_queries_stops_and_restarts_on_the_same_cluster() {
    let dir = scratch_dir();
    let data_dir = dir.path().join("data");

    let mut pg = EmbeddedPostgres::start(&data_dir).await.expect("first start");
    assert_eq!(pg.host(), "127.0.0.1");
    assert!(data_dir.join("PG_VERSION").is_file());
    let client = connect(&pg).await.expect("connect");
    let one: i32 = client.query_one("select 1", &[]).await.expect("select 1").get(0);
    assert_eq!(one, 1);
    client
        .batch_execute("create table survives_restart (id int); insert into survives_restart values (7)")
        .await
        .expect("create table");
    drop(client);

    let first_port = pg.port();
    pg.stop().expect("stop");
    pg.stop().expect("stop is idempotent");
    assert!(!answers_on(first_port).await, "server still answers after stop");
    assert!(!data_dir.join("postmaster.pid").exists());
    drop(pg);

    // The second start must reuse the cluster, not initdb a new one.
    let pg = EmbeddedPostgres::start(&data_dir).await.expect("second start");
    let client = connect(&pg).await.expect("connect after restart");
    let id: i32 = client
        .query_one("select id from survives_restart", &[])
        .await
        .expect("table survived the restart")
        .get(0);
    assert_eq!(id, 7);
    let port = pg.port();
    drop(client);
    // Dropping inside the runtime stops the server.
    drop(pg);
    assert!(!answers_on(port).await, "server still answers after drop");
}

#[tokio::test]
async fn comes_back_after_the_server_was_killed() {
    let dir = scratch_dir();
    let data_dir = dir.path().join("data");

    let crashed = EmbeddedPostgres::start(&data_dir).await.expect("first start");
    let pid = postmaster_pid(&data_dir);
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill -9 the postmaster");
    assert!(data_dir.join("postmaster.pid").exists(), "stale pid file left behind");

    let pg = EmbeddedPostgres::start(&data_dir).await.expect("start after crash");
    let client = connect(&pg).await.expect("connect after crash");
    let one: i32 = client.query_one("select 1", &[]).await.expect("select 1").get(0);
    assert_eq!(one, 1);

    // The old handle must not stop the new server when it goes away.
    drop(crashed);
    assert!(answers_on(pg.port()).await, "old handle stopped the new server");
}

#[tokio::test]
async fn restarts_a_server_left_running_by_a_previous_run() {
    let dir = scratch_dir();
    let data_dir = dir.path().join("data");

    let leaked = EmbeddedPostgres::start(&data_dir).await.expect("first start");
    let old_port = leaked.port();
    leaked.detach();
    assert!(answers_on(old_port).await);

    let pg = EmbeddedPostgres::start(&data_dir)
        .await
        .expect("start over a running server");
    assert!(answers_on(pg.port()).await);
    if pg.port() != old_port {
        assert!(!answers_on(old_port).await, "the old server was not stopped");
    }
}

#[tokio::test]
async fn long_data_dir_paths_get_a_short_socket_dir() {
    let dir = scratch_dir();
    let data_dir: PathBuf = dir
        .path()
        .join("a-directory-name-long-enough-to-overflow-sun-path")
        .join("and-then-some-more-characters-for-good-measure")
        .join("data");
    assert!(data_dir.as_os_str().len() > 100);

    let mut pg = EmbeddedPostgres::start(&data_dir).await.expect("start with long path");
    let socket_dir = pg.socket_dir().to_path_buf();
    assert!(socket_dir.starts_with("/tmp"), "{}", socket_dir.display());
    let socket = socket_dir.join(format!(".s.PGSQL.{}", pg.port()));
    assert!(socket.exists(), "no socket at {}", socket.display());
    connect(&pg).await.expect("connect");
    pg.stop().expect("stop");
    assert!(!socket_dir.exists(), "temp socket dir not removed");
}

#[tokio::test]
async fn leftovers_of_an_interrupted_initdb_are_discarded() {
    let dir = scratch_dir();
    let staging = dir.path().join(".data.initdb-partial");
    std::fs::create_dir(&staging).expect("create staging dir");
    std::fs::write(staging.join("PG_VERSION"), "15\n").expect("write junk");

    let pg = EmbeddedPostgres::start(&dir.path().join("data"))
        .await
        .expect("start despite leftovers");
    assert!(answers_on(pg.port()).await);
    assert!(!staging.exists());
}

#[tokio::test]
async fn refuses_a_non_empty_directory_that_is_not_a_cluster() {
    let dir = scratch_dir();
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).expect("create data dir");
    std::fs::write(data_dir.join("precious.txt"), "do not initdb over me").expect("write file");

    let err = EmbeddedPostgres::start(&data_dir)
        .await
        .expect_err("must not use a foreign directory");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert!(data_dir.join("precious.txt").exists());
}
