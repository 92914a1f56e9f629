//! A private PostgreSQL cluster that the process creates, starts and stops
//! itself, for running OpsLedger without an externally managed database
//! (local development, demos, the test harness).
//!
//! The cluster lives in a data directory chosen by the caller. It is created
//! with `initdb` on first use and started with `pg_ctl` on a free loopback
//! port, so it never collides with a system PostgreSQL service. Only
//! 127.0.0.1 is listened on, with `trust` authentication: any local OS user
//! can connect as the superuser `postgres`, which is acceptable for a
//! developer machine or CI box but is why this is not a production setup.
//!
//! PostgreSQL refuses to run as root, so when this process is root every
//! PostgreSQL program is run as the unprivileged OS user `postgres` and the
//! directories handed to PostgreSQL are given to that user.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

/// The only address the server listens on.
const HOST: &str = "127.0.0.1";
/// Superuser role created by `initdb -U`.
const SUPERUSER: &str = "postgres";
/// OS user the server runs as when this process is root.
const RUN_AS_USER: &str = "postgres";
/// Where Debian/Ubuntu install versioned server binaries (`<version>/bin`).
const DEBIAN_LIB_ROOT: &str = "/usr/lib/postgresql";
/// How long to wait for a started server to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// `pg_ctl start` is retried because the port chosen can be taken by someone
/// else before the server binds it, and because after a crash the old
/// server's children may hold its shared memory for a moment.
const START_ATTEMPTS: u32 = 3;
const START_RETRY_DELAY: Duration = Duration::from_secs(1);
/// `sun_path` is 108 bytes on Linux, including the terminating NUL, and
/// PostgreSQL refuses socket paths that do not fit.
const MAX_SOCKET_PATH: usize = 107;
/// Longest socket file name inside the socket directory: `/.s.PGSQL.65535`.
const SOCKET_FILE_NAME_MAX: usize = "/.s.PGSQL.65535".len();
/// Server log, kept inside the data directory because that is the one place
/// guaranteed to be writable by the run-as user.
const LOG_FILE_NAME: &str = "server.log";
/// The log is appended to on every start; past this size it is rotated once
/// (to `server.log.1`) so a long-lived cache cluster does not grow forever.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// Locales tried for `initdb`, in order. `C.UTF-8` matches what Debian's own
/// clusters use (byte-order collation, but Unicode-aware `upper`/`lower`);
/// `--no-locale` (plain `C`) exists everywhere and is the fallback for
/// systems whose libc lacks `C.UTF-8`.
const INITDB_LOCALE_FLAGS: [&str; 2] = ["--locale=C.UTF-8", "--no-locale"];
/// How much of a failing program's output is kept in an error.
const MAX_ERROR_OUTPUT: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "PostgreSQL server binaries (initdb and pg_ctl) were not found on PATH nor in {searched}; \
         install them (Debian/Ubuntu: `apt-get install postgresql`) or set DATABASE_URL to use \
         an existing PostgreSQL server instead"
    )]
    BinariesNotFound { searched: String },

    #[error(
        "this process runs as root, which PostgreSQL refuses, and the unprivileged OS user \
         `{user}` to run it as is unavailable ({reason}); create that user (installing the \
         Debian/Ubuntu package `postgresql` does), run as a non-root user, or set DATABASE_URL \
         to use an existing PostgreSQL server instead"
    )]
    NoUnprivilegedUser { user: String, reason: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    #[error("PostgreSQL data directory {path} cannot be used: {reason}")]
    DataDir { path: PathBuf, reason: String },

    #[error("`{program}` failed ({status}): {stderr}")]
    CommandFailed {
        program: String,
        status: ExitStatus,
        stderr: String,
    },

    #[error(
        "PostgreSQL on {host}:{port} did not accept connections within {waited:?}: {last_error} \
         (server log: {log_file})"
    )]
    NotReady {
        host: String,
        port: u16,
        waited: Duration,
        last_error: String,
        log_file: PathBuf,
    },
}

impl EmbeddedPgError {
    fn io(context: impl Into<String>, source: io::Error) -> Self {
        EmbeddedPgError::Io {
            context: context.into(),
            source,
        }
    }
}

/// The OS user PostgreSQL programs are run as when this process is root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

/// A running (or stopped) private PostgreSQL server. Dropping it stops the
/// server; use [`EmbeddedPostgres::detach`] to leave it running instead.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// Canonical absolute path of the cluster's data directory.
    data_dir: PathBuf,
    /// Directory holding `initdb`, `pg_ctl` (and, next to them, `postgres`).
    bin_dir: PathBuf,
    port: u16,
    /// Where the server puts its Unix socket.
    socket_dir: PathBuf,
    /// True when `socket_dir` is a private directory under /tmp that this
    /// value created (because the data dir path was too long) and removes.
    socket_dir_is_temp: bool,
    /// `None`: run PostgreSQL programs as the current user.
    run_as: Option<RunAs>,
    /// PID of the postmaster this value started, used to make sure `stop`
    /// never stops a server started later by someone else on the same data
    /// directory (e.g. after recovering from a crash).
    postmaster_pid: Option<i32>,
    running: bool,
}

impl EmbeddedPostgres {
    /// Finds the server binaries: a directory on PATH holding both `initdb`
    /// and `pg_ctl`, else the highest-numbered `/usr/lib/postgresql/*/bin`
    /// (where Debian/Ubuntu put them, outside PATH).
    pub fn find_binaries() -> Result<PathBuf, EmbeddedPgError> {
        find_binaries_in(std::env::var_os("PATH"), Path::new(DEBIAN_LIB_ROOT))
    }

    /// Creates the cluster in `data_dir` on first run, then starts it on a
    /// free port of 127.0.0.1 and waits until it accepts connections.
    ///
    /// A server still running on `data_dir` (left by a previous process that
    /// was killed or leaked it) is stopped first and the cluster is started
    /// afresh on a new port; a stale `postmaster.pid` from a crashed server
    /// is cleaned up.
    pub async fn start(data_dir: &Path) -> Result<EmbeddedPostgres, EmbeddedPgError> {
        let bin_dir = Self::find_binaries()?;
        let run_as = run_as_user()?;
        let data_dir = prepare_data_dir(data_dir, &bin_dir, run_as.as_ref()).await?;
        let (socket_dir, socket_dir_is_temp) = choose_socket_dir(&data_dir);

        let mut pg = EmbeddedPostgres {
            data_dir,
            bin_dir,
            port: 0,
            socket_dir,
            socket_dir_is_temp,
            run_as,
            postmaster_pid: None,
            running: false,
        };
        pg.clear_previous_server().await?;
        pg.rotate_log();
        if pg.socket_dir_is_temp {
            pg.create_temp_socket_dir()?;
        }

        let mut last_error = None;
        for attempt in 1..=START_ATTEMPTS {
            let port =
                free_loopback_port().map_err(|e| EmbeddedPgError::io("could not find a free port on 127.0.0.1", e))?;
            match pg.pg_ctl_start(port).await {
                Ok(()) => {
                    last_error = None;
                    break;
                }
                Err(e) => {
                    tracing::warn!(
                        attempt,
                        port,
                        data_dir = %pg.data_dir.display(),
                        error = %e,
                        "embedded PostgreSQL did not start"
                    );
                    // `pg_ctl start -w` can give up while the server is
                    // still coming up; make sure no half-started server
                    // survives into the next attempt.
                    pg.force_stop_quietly();
                    last_error = Some(e);
                    if attempt < START_ATTEMPTS {
                        tokio::time::sleep(START_RETRY_DELAY).await;
                    }
                }
            }
        }
        if let Some(e) = last_error {
            pg.remove_temp_socket_dir();
            return Err(e);
        }

        // From here on Drop stops the server, including on the error below.
        pg.running = true;
        pg.postmaster_pid = read_postmaster_pid(&pg.data_dir).map(|info| info.pid);
        pg.wait_until_ready().await?;
        tracing::info!(
            port = pg.port,
            data_dir = %pg.data_dir.display(),
            socket_dir = %pg.socket_dir.display(),
            "embedded PostgreSQL started"
        );
        Ok(pg)
    }

    /// Where the cluster for `preferred` can live. PostgreSQL runs as an
    /// unprivileged user when this process is root, and that user must be
    /// able to reach the directory: a checkout under a private home (`/root`
    /// is 0700) cannot hold it. Then the cluster goes under
    /// `/var/lib/opsledger/clusters/<id of the preferred path>` instead, the
    /// same place on every start, rather than refusing to start.
    pub fn reachable_dir(preferred: &Path) -> Result<PathBuf, EmbeddedPgError> {
        let Some(run_as) = run_as_user()? else {
            return Ok(preferred.to_owned());
        };
        let absolute = std::path::absolute(preferred)
            .map_err(|e| EmbeddedPgError::io(format!("resolving {}", preferred.display()), e))?;
        if reachable_by(&absolute, &run_as) {
            return Ok(preferred.to_owned());
        }
        let id = {
            use sha2::Digest;
            hex::encode(&sha2::Sha256::digest(absolute.as_os_str().as_encoded_bytes())[..8])
        };
        let fallback = PathBuf::from("/var/lib/opsledger/clusters").join(id);
        tracing::warn!(
            preferred = %absolute.display(),
            using = %fallback.display(),
            user = %run_as.name,
            "the PostgreSQL OS user cannot reach the data directory; keeping the embedded cluster elsewhere"
        );
        Ok(fallback)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address the server listens on: always "127.0.0.1".
    pub fn host(&self) -> &str {
        HOST
    }

    /// Canonical path of the cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Directory of the server's Unix socket: the data directory, or a
    /// private directory under /tmp when the data directory's path is too
    /// long for a socket path.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server's log file (inside the data directory).
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join(LOG_FILE_NAME)
    }

    /// `tokio_postgres::Config` for the superuser `postgres` and the given
    /// database, over TCP to 127.0.0.1.
    /// The port of a cluster already running on `data_dir` (a server
    /// serving from it), if there is one. Maintenance commands connect to it
    /// rather than start the cluster, which would stop it under the server.
    pub fn running_port(data_dir: &Path) -> Option<u16> {
        let info = read_postmaster_pid(data_dir)?;
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(info.pid), None).is_ok();
        if alive { info.port } else { None }
    }

    /// A superuser configuration for a cluster found running on `port`.
    pub fn config_on(port: u16, user: &str, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(HOST)
            .port(port)
            .user(user)
            .dbname(dbname)
            .connect_timeout(Duration::from_secs(5));
        config
    }

    pub fn superuser_config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(HOST)
            .port(self.port)
            .user(SUPERUSER)
            .dbname(dbname)
            .connect_timeout(Duration::from_secs(5));
        config
    }

    /// Stops the server (`pg_ctl stop -m fast`: disconnects clients, no
    /// crash recovery needed on the next start). Idempotent; blocking, so it
    /// also works from `Drop` inside a tokio runtime.
    pub fn stop(&mut self) -> Result<(), EmbeddedPgError> {
        if !self.running {
            return Ok(());
        }
        // Never stop a server this value did not start: if ours died and
        // another one was started on the same data directory since, the pid
        // in postmaster.pid is no longer ours.
        // (If our pid could not be read after starting, stop regardless.)
        let current_pid = read_postmaster_pid(&self.data_dir).map(|info| info.pid);
        if current_pid.is_none() || (self.postmaster_pid.is_some() && current_pid != self.postmaster_pid) {
            self.mark_stopped();
            return Ok(());
        }

        let output = self
            .stop_command("fast")
            .output()
            .map_err(|e| self.spawn_error("pg_ctl", e))?;
        // A failed stop is fine if the server is gone anyway (it may have
        // exited between the pid check and pg_ctl).
        if !output.status.success() && !current_pid.is_some_and(|pid| self.postmaster_gone(pid)) {
            return Err(command_failed("pg_ctl stop", &output));
        }
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL stopped");
        self.mark_stopped();
        Ok(())
    }

    /// Starts a server stopped with [`EmbeddedPostgres::stop`] again on the
    /// SAME port, so clients configured with the old address reconnect (a
    /// database restart as an operator does it). [`EmbeddedPostgres::start`]
    /// would pick a new port. A no-op when the server is running.
    pub async fn restart(&mut self) -> Result<(), EmbeddedPgError> {
        if self.running {
            return Ok(());
        }
        if self.socket_dir_is_temp {
            self.create_temp_socket_dir()?;
        }
        if let Err(e) = self.pg_ctl_start(self.port).await {
            self.force_stop_quietly();
            self.remove_temp_socket_dir();
            return Err(e);
        }
        self.running = true;
        self.postmaster_pid = read_postmaster_pid(&self.data_dir).map(|info| info.pid);
        self.wait_until_ready().await
    }

    /// Leaves the server running after this value is gone (for a cluster
    /// shared as a cache, e.g. by the test harness, which reconnects to it
    /// through the port in postmaster.pid). Note that a later
    /// [`EmbeddedPostgres::start`] on the same data directory stops it and
    /// starts it afresh on a new port.
    pub fn detach(mut self) {
        self.running = false;
    }

    fn mark_stopped(&mut self) {
        self.running = false;
        self.postmaster_pid = None;
        self.remove_temp_socket_dir();
    }

    /// A `Command` for one of the PostgreSQL programs, run as the run-as
    /// user, in the data directory's parent.
    fn command(&self, program: &str) -> Command {
        let cwd = self.data_dir.parent().unwrap_or(&self.data_dir);
        pg_command(&self.bin_dir, program, self.run_as.as_ref(), cwd)
    }

    fn spawn_error(&self, program: &str, e: io::Error) -> EmbeddedPgError {
        let cwd = self.data_dir.parent().unwrap_or(&self.data_dir);
        spawn_error(program, &self.bin_dir, self.run_as.as_ref(), cwd, e)
    }

    /// Deals with whatever a previous process left on the data directory.
    async fn clear_previous_server(&self) -> Result<(), EmbeddedPgError> {
        let Some(info) = read_postmaster_pid(&self.data_dir) else {
            return Ok(());
        };
        let output = tokio::process::Command::from(self.status_command())
            .output()
            .await
            .map_err(|e| self.spawn_error("pg_ctl", e))?;
        match ServerStatus::from_exit(&output.status) {
            // The recorded postmaster is dead; the server removes a stale
            // postmaster.pid by itself when it starts.
            Some(ServerStatus::NotRunning) => return Ok(()),
            Some(ServerStatus::Running) => {}
            None => return Err(command_failed("pg_ctl status", &output)),
        }

        // pg_ctl only checks that *some* process has that pid. It may be an
        // unreaped zombie of a killed postmaster, or the pid may have been
        // reused by an unrelated process of the same user: stopping the
        // latter would signal a stranger, and the server would refuse to
        // start because of the lock file. Check what the process really is.
        if self.postmaster_gone(info.pid) {
            return self.remove_stale_pid_file(info.pid);
        }
        tracing::warn!(
            pid = info.pid,
            port = info.port,
            data_dir = %self.data_dir.display(),
            "a PostgreSQL server left by a previous run is still running on this data directory; stopping it"
        );
        let output = tokio::process::Command::from(self.stop_command("fast"))
            .output()
            .await
            .map_err(|e| self.spawn_error("pg_ctl", e))?;
        if output.status.success() {
            Ok(())
        } else if self.postmaster_gone(info.pid) {
            // It was dying already (e.g. just killed): pg_ctl gives up with
            // "server does not shut down" once the pid vanishes while
            // postmaster.pid stays behind.
            self.remove_stale_pid_file(info.pid)
        } else {
            Err(command_failed("pg_ctl stop", &output))
        }
    }

    /// Whether the postmaster `pid` named in postmaster.pid is certainly not
    /// a live server of this cluster.
    fn postmaster_gone(&self, pid: i32) -> bool {
        matches!(
            postmaster_state(pid, &self.data_dir),
            ProcessState::Gone | ProcessState::Unrelated
        ) || self.pg_ctl_status_sync() == Some(ServerStatus::NotRunning)
    }

    /// Removes a postmaster.pid whose process is gone. The server would
    /// replace it by itself unless its pid is still in use (unreaped zombie,
    /// reused pid), in which case it refuses to start.
    fn remove_stale_pid_file(&self, pid: i32) -> Result<(), EmbeddedPgError> {
        tracing::warn!(
            pid,
            data_dir = %self.data_dir.display(),
            "removing stale postmaster.pid (its process is not a live postmaster of this cluster)"
        );
        let pid_file = self.data_dir.join("postmaster.pid");
        match fs::remove_file(&pid_file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(EmbeddedPgError::io(
                format!("could not remove stale {}", pid_file.display()),
                e,
            )),
        }
    }

    fn status_command(&self) -> Command {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("status").arg("-D").arg(&self.data_dir);
        cmd
    }

    fn stop_command(&self, mode: &str) -> Command {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop").arg("-D").arg(&self.data_dir).args(["-m", mode, "-w"]);
        cmd
    }

    fn pg_ctl_status_sync(&self) -> Option<ServerStatus> {
        let output = self.status_command().output().ok()?;
        ServerStatus::from_exit(&output.status)
    }

    /// Best effort: stop whatever server runs on the data directory right
    /// now, without caring whether there is one.
    fn force_stop_quietly(&self) {
        if self.pg_ctl_status_sync() == Some(ServerStatus::Running) {
            let _ = self.stop_command("immediate").output();
        }
    }

    async fn pg_ctl_start(&mut self, port: u16) -> Result<(), EmbeddedPgError> {
        let socket_dir = self.socket_dir.to_str().ok_or_else(|| EmbeddedPgError::DataDir {
            path: self.data_dir.clone(),
            reason: "socket directory path is not UTF-8".into(),
        })?;
        // pg_ctl hands these options to /bin/sh, so they are shell-quoted.
        let server_options = format!(
            "-p {port} -c listen_addresses={HOST} -c {}",
            shell_quote(&format!("unix_socket_directories={socket_dir}"))
        );
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-w", "-t", "60", "-l"])
            .arg(self.log_file())
            .arg("-o")
            .arg(server_options);
        let output = tokio::process::Command::from(cmd)
            .output()
            .await
            .map_err(|e| self.spawn_error("pg_ctl", e))?;
        if output.status.success() {
            self.port = port;
            return Ok(());
        }
        let mut err = command_failed("pg_ctl start", &output);
        if let EmbeddedPgError::CommandFailed { stderr, .. } = &mut err {
            let log_file = self.log_file();
            stderr.push_str(&format!(
                "\n--- end of {} ---\n{}",
                log_file.display(),
                tail_of_file(&log_file, MAX_ERROR_OUTPUT)
            ));
        }
        Err(err)
    }

    async fn wait_until_ready(&self) -> Result<(), EmbeddedPgError> {
        let mut config = self.superuser_config("postgres");
        config.connect_timeout(Duration::from_secs(2));
        let started = Instant::now();
        loop {
            let error = match probe(&config).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if started.elapsed() >= READY_TIMEOUT {
                return Err(EmbeddedPgError::NotReady {
                    host: HOST.into(),
                    port: self.port,
                    waited: started.elapsed(),
                    last_error: crate::store::describe_error(&error),
                    log_file: self.log_file(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn rotate_log(&self) {
        let log = self.log_file();
        if fs::metadata(&log).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
            let _ = fs::rename(&log, self.data_dir.join(format!("{LOG_FILE_NAME}.1")));
        }
    }

    fn create_temp_socket_dir(&self) -> Result<(), EmbeddedPgError> {
        fs::create_dir(&self.socket_dir)
            .and_then(|()| fs::set_permissions(&self.socket_dir, fs::Permissions::from_mode(0o700)))
            .and_then(|()| chown_to(&self.socket_dir, self.run_as.as_ref()))
            .map_err(|e| {
                EmbeddedPgError::io(
                    format!("could not create socket directory {}", self.socket_dir.display()),
                    e,
                )
            })
    }

    fn remove_temp_socket_dir(&self) {
        if self.socket_dir_is_temp {
            let _ = fs::remove_dir_all(&self.socket_dir);
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(data_dir = %self.data_dir.display(), error = %e, "could not stop embedded PostgreSQL");
        }
    }
}

/// `pg_ctl status` outcome (exit 0: running, 3: not running).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerStatus {
    Running,
    NotRunning,
}

impl ServerStatus {
    fn from_exit(status: &ExitStatus) -> Option<Self> {
        match status.code() {
            Some(0) => Some(ServerStatus::Running),
            Some(3) => Some(ServerStatus::NotRunning),
            _ => None,
        }
    }
}

/// What the process named in postmaster.pid really is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProcessState {
    /// No such process, or an unreaped zombie.
    Gone,
    /// A live process whose working directory is not this data directory
    /// (the postmaster always runs inside its data directory): pid reuse.
    Unrelated,
    Postmaster,
    /// Could not tell (no /proc, or not permitted to look).
    Unknown,
}

fn postmaster_state(pid: i32, data_dir: &Path) -> ProcessState {
    if !Path::new("/proc/self").exists() {
        return ProcessState::Unknown;
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = match fs::read_to_string(proc_dir.join("stat")) {
        Ok(stat) => stat,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return ProcessState::Gone,
        Err(_) => return ProcessState::Unknown,
    };
    // The state letter follows the parenthesised command name, which may
    // itself contain ") ", hence the last ')'.
    let state = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next());
    if state == Some("Z") {
        return ProcessState::Gone;
    }
    match fs::read_link(proc_dir.join("cwd")) {
        Ok(cwd) if cwd == data_dir => ProcessState::Postmaster,
        Ok(_) => ProcessState::Unrelated,
        Err(e) if e.kind() == io::ErrorKind::NotFound => ProcessState::Gone,
        Err(_) => ProcessState::Unknown,
    }
}

/// Fields of `postmaster.pid` used here (line 1: pid, line 4: port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PostmasterPid {
    pid: i32,
    port: Option<u16>,
}

fn read_postmaster_pid(data_dir: &Path) -> Option<PostmasterPid> {
    let contents = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    parse_postmaster_pid(&contents)
}

fn parse_postmaster_pid(contents: &str) -> Option<PostmasterPid> {
    let mut lines = contents.lines();
    let pid = lines.next()?.trim().parse::<i32>().ok().filter(|pid| *pid > 0)?;
    let port = lines.nth(2).and_then(|line| line.trim().parse::<u16>().ok());
    Some(PostmasterPid { pid, port })
}

fn find_binaries_in(path_var: Option<OsString>, lib_root: &Path) -> Result<PathBuf, EmbeddedPgError> {
    if let Some(path_var) = path_var {
        // Relative PATH entries are skipped: they would depend on the
        // current directory, which is not where the programs are run.
        if let Some(dir) = std::env::split_paths(&path_var).find(|dir| dir.is_absolute() && has_server_binaries(dir)) {
            return Ok(dir);
        }
    }

    let mut best: Option<(Vec<u64>, PathBuf)> = None;
    if let Ok(entries) = fs::read_dir(lib_root) {
        for entry in entries.flatten() {
            let Some(version) = entry.file_name().to_str().and_then(parse_version) else {
                continue;
            };
            let bin = entry.path().join("bin");
            if has_server_binaries(&bin) && best.as_ref().is_none_or(|(v, _)| version > *v) {
                best = Some((version, bin));
            }
        }
    }
    best.map(|(_, bin)| bin)
        .ok_or_else(|| EmbeddedPgError::BinariesNotFound {
            searched: format!("{}/*/bin", lib_root.display()),
        })
}

/// "15" -> [15], "9.6" -> [9, 6]; anything else is not a version directory.
fn parse_version(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|part| part.parse::<u64>().ok()).collect()
}

fn has_server_binaries(dir: &Path) -> bool {
    is_executable_file(&dir.join("initdb")) && is_executable_file(&dir.join("pg_ctl"))
}

fn is_executable_file(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `user` may search every existing directory on the way to `path`.
fn reachable_by(path: &Path, user: &RunAs) -> bool {
    use std::os::unix::fs::MetadataExt;
    path.ancestors().skip(1).all(|dir| match std::fs::metadata(dir) {
        // Not created yet: it will be created (and given to the user) later.
        Err(_) => true,
        Ok(m) => {
            let mode = m.mode();
            if m.uid() == user.uid {
                mode & 0o100 != 0
            } else if m.gid() == user.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        }
    })
}

fn run_as_user() -> Result<Option<RunAs>, EmbeddedPgError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let unavailable = |reason: String| EmbeddedPgError::NoUnprivilegedUser {
        user: RUN_AS_USER.into(),
        reason,
    };
    match nix::unistd::User::from_name(RUN_AS_USER) {
        Ok(Some(user)) if user.uid.is_root() => Err(unavailable("it has uid 0".into())),
        Ok(Some(user)) => Ok(Some(RunAs {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        })),
        Ok(None) => Err(unavailable("no such user".into())),
        Err(e) => Err(unavailable(format!("user lookup failed: {e}"))),
    }
}

fn pg_command(bin_dir: &Path, program: &str, run_as: Option<&RunAs>, cwd: &Path) -> Command {
    let mut cmd = Command::new(bin_dir.join(program));
    cmd.stdin(Stdio::null()).current_dir(cwd);
    // PG* variables (PGDATA, PGPORT, PGHOST, ...) from the caller's
    // environment would silently override or confuse what is passed here.
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(b"PG") {
            cmd.env_remove(key);
        }
    }
    if let Some(user) = run_as {
        // std drops root's supplementary groups when switching uid.
        cmd.uid(user.uid).gid(user.gid);
    }
    cmd
}

/// std changes directory *after* switching user, so a spawn refused with
/// "permission denied" means the run-as user cannot reach `cwd`.
fn spawn_error(program: &str, bin_dir: &Path, run_as: Option<&RunAs>, cwd: &Path, e: io::Error) -> EmbeddedPgError {
    let as_user = run_as.map(|u| format!(" as OS user `{}`", u.name)).unwrap_or_default();
    let hint = if e.kind() == io::ErrorKind::PermissionDenied && run_as.is_some() {
        " (every directory above the data directory must be searchable by that user: \
         chmod o+x or chown them, or use a data directory elsewhere)"
    } else {
        ""
    };
    EmbeddedPgError::io(
        format!(
            "could not run {}{as_user} in {}{hint}",
            bin_dir.join(program).display(),
            cwd.display()
        ),
        e,
    )
}

fn command_failed(program: &str, output: &Output) -> EmbeddedPgError {
    let mut text = String::from_utf8_lossy(&output.stderr).trim().to_string();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stdout.trim());
    }
    EmbeddedPgError::CommandFailed {
        program: program.into(),
        status: output.status,
        stderr: keep_tail(text, MAX_ERROR_OUTPUT),
    }
}

fn keep_tail(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("...{}", &text[start..])
}

fn tail_of_file(path: &Path, max: usize) -> String {
    let read = || -> io::Result<String> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(max as u64)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|e| format!("(could not read: {e})"))
}

fn chown_to(path: &Path, run_as: Option<&RunAs>) -> io::Result<()> {
    match run_as {
        Some(user) => std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)),
        None => Ok(()),
    }
}

/// Creates `dir` and any missing ancestors. When root, the directories
/// created are given to the run-as user, so it can traverse them whatever
/// the umask.
fn create_dir_chain(dir: &Path, run_as: Option<&RunAs>) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(d) = current {
        if d.exists() {
            break;
        }
        missing.push(d);
        current = d.parent();
    }
    for d in missing.into_iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => chown_to(d, run_as)?,
            // Someone else (another test process) created it meanwhile.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Makes `data_dir` hold an initialised cluster owned by the run-as user
/// with mode 0700, and returns its canonical path.
async fn prepare_data_dir(data_dir: &Path, bin_dir: &Path, run_as: Option<&RunAs>) -> Result<PathBuf, EmbeddedPgError> {
    let unusable = |path: &Path, reason: String| EmbeddedPgError::DataDir {
        path: path.to_path_buf(),
        reason,
    };
    let absolute = std::path::absolute(data_dir)
        .map_err(|e| EmbeddedPgError::io(format!("invalid data directory {}", data_dir.display()), e))?;
    // pg_ctl builds a /bin/sh command line with the data directory inside
    // double quotes; these characters would break out of them.
    if absolute
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .any(|b| matches!(b, b'"' | b'$' | b'`' | b'\\' | b'\n'))
    {
        return Err(unusable(
            &absolute,
            "its path contains a character pg_ctl cannot quote (\" $ ` \\ or newline)".into(),
        ));
    }
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(unusable(&absolute, "it must not be the root directory".into()));
    };
    create_dir_chain(parent, run_as)
        .map_err(|e| EmbeddedPgError::io(format!("could not create {}", parent.display()), e))?;

    if !absolute.join("PG_VERSION").is_file() {
        match fs::read_dir(&absolute) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(unusable(
                        &absolute,
                        "it is not empty and does not hold a PostgreSQL cluster (no PG_VERSION)".into(),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(EmbeddedPgError::io(format!("could not read {}", absolute.display()), e));
            }
        }
        // initdb runs in a staging directory that is renamed into place
        // only once complete: a run interrupted half-way (Ctrl-C during the
        // first test run) must not leave a broken cluster behind that every
        // later start would trip over.
        let mut staging_name = OsString::from(".");
        staging_name.push(name);
        staging_name.push(".initdb-partial");
        let staging = parent.join(staging_name);
        run_initdb(&staging, parent, bin_dir, run_as).await?;
        // rename(2) replaces an empty directory, e.g. one made by tempfile.
        fs::rename(&staging, &absolute).map_err(|e| {
            EmbeddedPgError::io(
                format!("could not move {} to {}", staging.display(), absolute.display()),
                e,
            )
        })?;
    }

    let metadata = fs::metadata(&absolute)
        .map_err(|e| EmbeddedPgError::io(format!("could not read {}", absolute.display()), e))?;
    let expected_uid = run_as.map_or_else(|| nix::unistd::geteuid().as_raw(), |u| u.uid);
    if metadata.uid() != expected_uid {
        let user = run_as.map_or_else(|| "the current user".to_string(), |u| format!("`{}`", u.name));
        return Err(unusable(
            &absolute,
            format!(
                "it belongs to uid {} but the server runs as {user} (uid {expected_uid}); chown -R it to that user",
                metadata.uid()
            ),
        ));
    }
    // PostgreSQL refuses to start on a data directory others can read.
    if metadata.permissions().mode() & 0o777 != 0o700 {
        fs::set_permissions(&absolute, fs::Permissions::from_mode(0o700))
            .map_err(|e| EmbeddedPgError::io(format!("could not chmod 0700 {}", absolute.display()), e))?;
    }
    fs::canonicalize(&absolute).map_err(|e| EmbeddedPgError::io(format!("could not resolve {}", absolute.display()), e))
}

async fn run_initdb(staging: &Path, cwd: &Path, bin_dir: &Path, run_as: Option<&RunAs>) -> Result<(), EmbeddedPgError> {
    let mut last_error = None;
    for locale_flag in INITDB_LOCALE_FLAGS {
        // Fresh, empty, owned by the run-as user: removes leftovers of an
        // interrupted earlier run or of the previous locale attempt.
        match fs::remove_dir_all(staging) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(EmbeddedPgError::io(
                    format!("could not remove {}", staging.display()),
                    e,
                ));
            }
        }
        fs::create_dir(staging)
            .and_then(|()| fs::set_permissions(staging, fs::Permissions::from_mode(0o700)))
            .and_then(|()| chown_to(staging, run_as))
            .map_err(|e| EmbeddedPgError::io(format!("could not create {}", staging.display()), e))?;

        let mut cmd = pg_command(bin_dir, "initdb", run_as, cwd);
        cmd.arg("-D")
            .arg(staging)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", locale_flag]);
        let output = tokio::process::Command::from(cmd)
            .output()
            .await
            .map_err(|e| spawn_error("initdb", bin_dir, run_as, cwd, e))?;
        if output.status.success() {
            tracing::info!(data_dir = %staging.display(), locale_flag, "initialised PostgreSQL cluster");
            return Ok(());
        }
        tracing::warn!(locale_flag, "initdb failed; trying the next locale");
        last_error = Some(command_failed("initdb", &output));
    }
    let _ = fs::remove_dir_all(staging);
    Err(last_error.unwrap_or_else(|| EmbeddedPgError::DataDir {
        path: staging.to_path_buf(),
        reason: "initdb was not run".into(),
    }))
}

/// The data directory itself when a socket path inside it fits in
/// `sun_path` and is safe to pass in a server option; otherwise a new
/// private directory under /tmp (not `$TMPDIR`, which may be long too).
fn choose_socket_dir(data_dir: &Path) -> (PathBuf, bool) {
    if socket_dir_usable(data_dir) {
        (data_dir.to_path_buf(), false)
    } else {
        let dir = PathBuf::from(format!("/tmp/opsledger-pg-{}", uuid::Uuid::new_v4().simple()));
        (dir, true)
    }
}

fn socket_dir_usable(dir: &Path) -> bool {
    let Some(text) = dir.to_str() else {
        return false;
    };
    // unix_socket_directories is a comma-separated list with optional
    // double quotes and trimmed whitespace: keep clear of all of that.
    text.len() + SOCKET_FILE_NAME_MAX <= MAX_SOCKET_PATH
        && !text.contains([',', '"'])
        && !text.chars().any(char::is_control)
        && text.trim() == text
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Binding port 0 lets the kernel pick a free port; it is released right
/// away for the server to take (a race the start retries cover).
fn free_loopback_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

async fn probe(config: &tokio_postgres::Config) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    let connection = tokio::spawn(connection);
    let result = client.simple_query("select 1").await.map(|_| ());
    drop(client);
    let _ = connection.await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postmaster_pid() {
        let contents = "4242\n/data\n1700000000\n54321\n/data\n127.0.0.1\n  1234  5678\nready   \n";
        assert_eq!(
            parse_postmaster_pid(contents),
            Some(PostmasterPid {
                pid: 4242,
                port: Some(54321)
            })
        );
        assert_eq!(parse_postmaster_pid(""), None);
        assert_eq!(parse_postmaster_pid("nope\n"), None);
        assert_eq!(
            parse_postmaster_pid("7\n/data\n"),
            Some(PostmasterPid { pid: 7, port: None })
        );
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("15") > parse_version("9.6"));
        assert!(parse_version("16") > parse_version("15"));
        assert_eq!(parse_version("main"), None);
    }

    #[test]
    fn long_or_odd_paths_get_a_temp_socket_dir() {
        assert!(socket_dir_usable(Path::new("/var/lib/opsledger/pg")));
        let long = format!("/{}", "d".repeat(MAX_SOCKET_PATH));
        assert!(!socket_dir_usable(Path::new(&long)));
        assert!(!socket_dir_usable(Path::new("/tmp/a,b")));
        let (dir, temp) = choose_socket_dir(Path::new(&long));
        assert!(temp);
        assert!(dir.to_string_lossy().len() + SOCKET_FILE_NAME_MAX <= MAX_SOCKET_PATH);
    }

    #[test]
    fn a_directory_is_reachable_only_through_searchable_parents() {
        use std::os::unix::fs::PermissionsExt;
        let stranger = RunAs {
            name: "stranger".into(),
            uid: 4_000_001,
            gid: 4_000_001,
        };
        let base = std::env::temp_dir().join(format!("opsledger-reach-{}", std::process::id()));
        let private = base.join("private");
        std::fs::create_dir_all(&private).expect("dirs");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert!(reachable_by(&base.join("data/postgres"), &stranger));
        assert!(!reachable_by(&private.join("data/postgres"), &stranger));
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o711)).expect("chmod");
        assert!(
            reachable_by(&private.join("data/postgres"), &stranger),
            "search (x) is enough"
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn shell_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn missing_binaries_error_says_what_to_do() {
        let nowhere = std::env::temp_dir().join(format!("no-pg-{}", uuid::Uuid::new_v4().simple()));
        let err = find_binaries_in(Some(OsString::new()), &nowhere)
            .expect_err("no binaries in an empty PATH and a missing directory");
        let message = err.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }
}
