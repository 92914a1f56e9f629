//! Start-up: one function builds the whole application from configuration.
//! `main` calls it, and so do the end-to-end tests (on a random port).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::http::auth::Verifier;
use crate::http::body::BodyLimit;
use crate::http::{self, AppState};
use crate::privacy::access_log::AccessLog;
use crate::privacy::keys::{self, SystemKey};
use crate::privacy::{Privacy, PrivacyError};
use crate::projections::tickets::CursorKey;
use crate::store::log;
use crate::store::sequencer::{AppendSignal, Sequencer};
use tokio::sync::watch;

use super::auth_config;
use super::config::{DefaultLanguage, ServeArgs, SlaSwitch};
use crate::app::clock::{SharedClock, SystemClock};
use crate::app::commands::Commands;
use crate::app::etag::EtagKey;
use crate::app::subjects::Subjects;
use crate::http::i18n::Language;
use crate::infra::database::{self, Database};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] database::DatabaseError),
    #[error(transparent)]
    Auth(#[from] auth_config::AuthSetupError),
    #[error("invalid authentication configuration: {0}")]
    AuthConfig(#[from] crate::http::auth::AuthConfigError),
    #[error(transparent)]
    MasterKey(#[from] super::master_key::MasterKeyError),
    #[error("personal-data keys: {0}")]
    Privacy(#[from] crate::privacy::PrivacyError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
    #[error("console: {0}")]
    Console(#[from] crate::http::console::ConsoleConfigError),
    #[error("metrics token file {path}: {reason}")]
    MetricsToken { path: String, reason: String },
}

pub struct Application {
    server: actix_web::dev::Server,
    port: u16,
    database: Database,
    sequencer: Sequencer,
    watcher: tokio::task::JoinHandle<()>,
    sampler: tokio::task::JoinHandle<()>,
    pruner: tokio::task::JoinHandle<()>,
}

impl Application {
    /// The server `opsledger serve` runs: on the system clock.
    pub async fn build(args: ServeArgs) -> Result<Application, StartupError> {
        Application::build_with_clock(args, SystemClock::shared()).await
    }

    /// The server on a given clock, which every command reads: tests set
    /// the time a command happens at.
    pub async fn build_with_clock(args: ServeArgs, clock: SharedClock) -> Result<Application, StartupError> {
        let dev_mode = args.auth.dev_mode || args.database.database_url.is_none();
        if dev_mode {
            tracing::warn!("development mode: HS256 tokens signed with the development secret are accepted");
        }
        let settings = auth_config::settings(&args.auth, &args.database.data_dir, dev_mode)?;
        let verifier = web::Data::new(Verifier::new(&settings)?);
        let console = web::Data::new(crate::http::console::ConsoleConfig::new(&settings, &args.console)?);
        let master = super::master_key::load(&args.master, &args.database.data_dir, dev_mode)?;
        let metrics_token = args.metrics_token_file.as_deref().map(metrics_token).transpose()?;
        let database = database::open(&args.database).await?;
        let (privacy, etag_key, cursor_key) = {
            let client = database
                .pool
                .get()
                .await
                .map_err(|e| database::DatabaseError::Connect(crate::store::StoreError::from(e).to_string()))?;
            let privacy = Privacy::open(&client, master)
                .await?
                .with_strong_identifiers(args.strong.kinds());
            // Read once: every instance on this database gets the same keys,
            // so their ETags and cursors agree, today and after a restart.
            let etag_key = keys::system_key(&client, privacy.master(), SystemKey::Etag).await?;
            let cursor_key = keys::system_key(&client, privacy.master(), SystemKey::Cursor).await?;
            (
                Arc::new(privacy),
                EtagKey::new(&etag_key).map_err(PrivacyError::from)?,
                CursorKey::new(&cursor_key).map_err(PrivacyError::from)?,
            )
        };
        // Every instance competes to sequence the log and follows its head.
        let (head, log_head) = watch::channel(0i64);
        let head = Arc::new(head);
        let appended = AppendSignal::default();
        let sequencer = Sequencer::spawn(database.serve_config.clone(), head.clone(), appended.clone());
        let watcher = log::watch_head(database.serve_config.clone(), head);
        super::metrics::handle();
        let sampler = super::metrics::spawn_sampler(database.pool.clone());
        let pruner = super::retention::spawn_pruner(
            database.pool.clone(),
            Duration::from_secs(args.idempotency_retention_hours * 3600),
        );
        let commands = Commands::new(
            database.pool.clone(),
            privacy.clone(),
            appended.clone(),
            etag_key.clone(),
            clock.clone(),
        )
        .with_sla(args.sla == SlaSwitch::On);
        // Open tickets from before clocks were kept get theirs before the
        // first request (idempotent; see `opsledger sla upgrade`).
        match commands.upgrade_clocks().await {
            Ok(0) => {}
            Ok(upgraded) => tracing::info!(upgraded, "pinned service-level clocks on open tickets"),
            Err(e) => tracing::error!(error = %e, "could not pin service-level clocks on open tickets"),
        }
        let state = web::Data::new(AppState {
            log_head,
            pool: database.pool.clone(),
            commands,
            subjects: Subjects::new(database.pool.clone(), privacy.clone(), appended.clone(), clock),
            privacy,
            access_log: AccessLog::start(database.pool.clone()),
            metrics_token,
            etag_key,
            cursor_key,
            language: match args.default_language {
                DefaultLanguage::En => Language::En,
                DefaultLanguage::ZhCn => Language::ZhCn,
            },
        });
        let listener = TcpListener::bind(&args.listen).map_err(|source| StartupError::Listen {
            address: args.listen.clone(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let limit = BodyLimit(args.max_body_bytes);
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(verifier.clone())
                .app_data(console.clone())
                .app_data(limit)
                .wrap(from_fn(http::middleware::request_context))
                .configure(http::configure)
        })
        .shutdown_timeout(args.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(30))
        .listen(listener)
        .map_err(|source| StartupError::Listen {
            address: args.listen.clone(),
            source,
        })?;
        if let Some(workers) = args.workers {
            server = server.workers(workers);
        }
        tracing::info!(port, "listening");
        Ok(Application {
            server: server.run(),
            port,
            database,
            sequencer,
            watcher,
            sampler,
            pruner,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM: then stops accepting, lets in-flight
    /// requests finish, closes the pool and stops the embedded database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // After the last request: finish the current batch and hand the
        // sequencer over by closing its session.
        self.sequencer.stop().await;
        self.watcher.abort();
        self.sampler.abort();
        self.pruner.abort();
        self.database.pool.close();
        drop(self.database);
        tracing::info!("stopped");
        result
    }
}

fn metrics_token(path: &std::path::Path) -> Result<crate::http::ops::MetricsToken, StartupError> {
    let failed = |reason: String| StartupError::MetricsToken {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    crate::http::ops::MetricsToken::new(&text).ok_or_else(|| {
        failed(format!(
            "the token must be at least {} characters",
            crate::http::ops::MetricsToken::MIN_LEN
        ))
    })
}
