//! The first README command, as a new user runs it: `opsledger serve` with
//! no DATABASE_URL creates its own PostgreSQL, a schema-owner role and a
//! serving role that may only read and append, serves, and shuts down
//! cleanly on SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{BIN, free_port};
use serde_json::{Value, json};

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("embedded-default-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

/// Runs the binary with a clean environment: no DATABASE_URL, whatever the
/// developer's shell has.
fn opsledger(data: &PathBuf) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("DATABASE_URL")
        .env_remove("OPSLEDGER_MIGRATION_DATABASE_URL")
        .env_remove("OPSLEDGER_JWT_SECRET")
        .env("OPSLEDGER_DATA_DIR", data);
    cmd
}

async fn wait_ready(base: &str, server: &mut Server) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("the server exited early with {status}");
        }
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server did not become ready within 60 s");
}

#[tokio::test]
async fn serve_without_a_database_url_runs_on_its_own_postgres_and_stops_cleanly() {
    let data = data_dir();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Server {
        child: opsledger(&data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    };
    wait_ready(&base, &mut server).await;
    // Under the data dir, unless the PostgreSQL OS user cannot reach it.
    let cluster = opsledger::infra::embedded_pg::EmbeddedPostgres::reachable_dir(&data.join("postgres")).expect("dir");
    assert!(
        cluster.join("PG_VERSION").exists(),
        "a cluster at {}",
        cluster.display()
    );

    let output = opsledger(&data)
        .args(["token", "--sub", "agent-1", "--role", "agent"])
        .output()
        .expect("token");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();

    let filed = reqwest::Client::new()
        .post(format!("{base}/v1/complaints"))
        .bearer_auth(&token)
        .json(&json!({
            "title": "投诉", "description": "d", "channel": "web", "category": "billing", "priority": "P3",
            "complainant": {"name": "李娜", "customer_ref": "C-1"}
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(filed.status(), 201);
    let body: Value = filed.json().await.expect("json");
    assert!(body["number"].as_str().is_some_and(|n| n.starts_with("CMP-")));

    // The serving role the embedded default created may not change the log.
    let port_line = std::fs::read_to_string(cluster.join("postmaster.pid"))
        .expect("pid file")
        .lines()
        .nth(3)
        .expect("port line")
        .trim()
        .to_owned();
    let config = format!("host=127.0.0.1 port={port_line} user=opsledger_server dbname=opsledger");
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let refused = client.batch_execute("UPDATE events SET event_type = 'x'").await;
    assert!(refused.is_err(), "the server role has no UPDATE on events");
    let refused = client.batch_execute("ALTER TABLE events DISABLE TRIGGER ALL").await;
    assert!(refused.is_err(), "the server role does not own the schema");
    drop(client);

    // SIGTERM: finish, stop the embedded database, exit 0.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "the server did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "exit status {status}");
    assert!(
        !cluster.join("postmaster.pid").exists(),
        "the embedded PostgreSQL was stopped"
    );
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&cluster);
}
