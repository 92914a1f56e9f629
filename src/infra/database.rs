//! Connecting to PostgreSQL: the embedded default or a supplied URL,
//! migrations, and the separation between the role that owns the schema and
//! the role the server runs as.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::store;

use super::embedded_pg::{EmbeddedPgError, EmbeddedPostgres};
use crate::startup::config::DatabaseArgs;

/// The login role the embedded default creates to own the schema.
const EMBEDDED_OWNER: &str = "opsledger_owner";
/// The login role the embedded default serves as; a member of `opsledger_app`.
const EMBEDDED_SERVER: &str = "opsledger_server";
const EMBEDDED_DATABASE: &str = "opsledger";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error(transparent)]
    Embedded(#[from] EmbeddedPgError),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
    #[error("database error: {}", store::db_message(.0))]
    Query(#[from] tokio_postgres::Error),
}

/// A connection pool, and the embedded cluster behind it if there is one
/// (stopped when this is dropped).
pub struct Database {
    pub pool: Pool,
    /// How the pool connects; background tasks with a dedicated connection
    /// (the sequencer, the log watcher) connect the same way.
    pub serve_config: tokio_postgres::Config,
    pub embedded: Option<EmbeddedPostgres>,
}

fn parse(url: &str) -> Result<tokio_postgres::Config, DatabaseError> {
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| DatabaseError::InvalidUrl(e.to_string()))
}

/// Connects, applies migrations as the owner, and returns the serving pool.
pub async fn open(args: &DatabaseArgs) -> Result<Database, DatabaseError> {
    match &args.database_url {
        Some(url) => {
            let serve = parse(url)?;
            let owner = match &args.migration_database_url {
                Some(owner_url) => parse(owner_url)?,
                None => serve.clone(),
            };
            migrate(&owner).await?;
            let pool = pool(serve.clone(), args.db_pool_size)?;
            report_guarantees(&pool, args.migration_database_url.is_some()).await;
            Ok(Database {
                pool,
                serve_config: serve,
                embedded: None,
            })
        }
        None => {
            let embedded =
                EmbeddedPostgres::start(&EmbeddedPostgres::reachable_dir(&args.data_dir.join("postgres"))?).await?;
            provision_embedded(&embedded).await?;
            migrate(&embedded_config(&embedded, EMBEDDED_OWNER)).await?;
            let serve = embedded_config(&embedded, EMBEDDED_SERVER);
            let pool = pool(serve.clone(), args.db_pool_size)?;
            Ok(Database {
                pool,
                serve_config: serve,
                embedded: Some(embedded),
            })
        }
    }
}

/// Applies migrations only (`opsledger migrate`, and `import` before it
/// loads), beside a running embedded server rather than restarting it.
pub async fn migrate_only(args: &DatabaseArgs) -> Result<Option<EmbeddedPostgres>, DatabaseError> {
    let (mut client, embedded) = connect_owner(args).await?;
    run_migrations(&mut client).await?;
    Ok(embedded)
}

/// Applies pending migrations on an owner's connection.
pub async fn run_migrations(owner: &mut tokio_postgres::Client) -> Result<(), DatabaseError> {
    store::migrations::run(owner)
        .await
        .map_err(|e| DatabaseError::Migration(store::describe_error(&e)))
}

/// A connection as the schema owner (for maintenance commands), starting
/// the embedded cluster when no URL is configured; keep the returned cluster
/// alive while the client is used.
pub async fn connect_owner(
    args: &DatabaseArgs,
) -> Result<(tokio_postgres::Client, Option<EmbeddedPostgres>), DatabaseError> {
    let (config, embedded) = owner_config(args).await?;
    Ok((connect(&config).await?, embedded))
}

/// A small pool of schema-owner connections, for maintenance commands that
/// run application services (`opsledger subjects repair`).
pub async fn owner_pool(args: &DatabaseArgs) -> Result<(Pool, Option<EmbeddedPostgres>), DatabaseError> {
    let (config, embedded) = owner_config(args).await?;
    Ok((pool(config, 2)?, embedded))
}

/// How to connect as the schema owner: the configured URL, or the embedded
/// cluster (the running server's, else started and migrated here).
async fn owner_config(
    args: &DatabaseArgs,
) -> Result<(tokio_postgres::Config, Option<EmbeddedPostgres>), DatabaseError> {
    match (&args.migration_database_url, &args.database_url) {
        (Some(url), _) | (None, Some(url)) => Ok((parse(url)?, None)),
        (None, None) => {
            let dir = EmbeddedPostgres::reachable_dir(&args.data_dir.join("postgres"))?;
            // A server is running on the embedded cluster: work beside it.
            if let Some(port) = EmbeddedPostgres::running_port(&dir) {
                let config = EmbeddedPostgres::config_on(port, EMBEDDED_OWNER, EMBEDDED_DATABASE);
                if connect(&config).await.is_ok() {
                    return Ok((config, None));
                }
            }
            let embedded = EmbeddedPostgres::start(&dir).await?;
            provision_embedded(&embedded).await?;
            let owner = embedded_config(&embedded, EMBEDDED_OWNER);
            migrate(&owner).await?;
            Ok((owner, Some(embedded)))
        }
    }
}

fn embedded_config(pg: &EmbeddedPostgres, user: &str) -> tokio_postgres::Config {
    let mut config = pg.superuser_config(EMBEDDED_DATABASE);
    config.user(user);
    config
}

async fn connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, DatabaseError> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| DatabaseError::Connect(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "database connection closed");
        }
    });
    Ok(client)
}

pub async fn migrate(owner: &tokio_postgres::Config) -> Result<(), DatabaseError> {
    run_migrations(&mut connect(owner).await?).await
}

/// Creates the embedded roles and database on first start (see
/// [`store::migrations::provision`]).
async fn provision_embedded(pg: &EmbeddedPostgres) -> Result<(), DatabaseError> {
    let client = connect(&pg.superuser_config("postgres")).await?;
    if store::migrations::provision(&client, EMBEDDED_OWNER, EMBEDDED_SERVER, EMBEDDED_DATABASE).await? {
        tracing::info!(database = EMBEDDED_DATABASE, "created the embedded database");
    }
    Ok(())
}

pub fn pool(mut config: tokio_postgres::Config, size: usize) -> Result<Pool, DatabaseError> {
    config
        .connect_timeout(Duration::from_secs(5))
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .application_name("opsledger");
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // Bounded waits: when the database is away, requests fail fast with 503
    // instead of piling up.
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|e| DatabaseError::Pool(e.to_string()))
}

/// Says at start-up which append-only guarantee a supplied configuration
/// lacks, so an operator never believes in a protection that is not there.
async fn report_guarantees(pool: &Pool, separate_owner: bool) {
    let Ok(client) = pool.get().await else {
        tracing::warn!("cannot check the serving role's privileges: database unreachable");
        return;
    };
    match store::migrations::log_privileges(&client).await {
        Ok(privileges) if privileges.append_only() => {
            tracing::info!("the server's database role may only read and append to the event log");
        }
        Ok(privileges) => tracing::warn!(
            superuser = privileges.superuser,
            owns_schema = privileges.owns_schema,
            can_update_or_delete = privileges.can_update_or_delete,
            separate_migration_role = separate_owner,
            "the server's database role can alter the event log; only the append-only triggers protect it. \
             Set OPSLEDGER_MIGRATION_DATABASE_URL to the owner and DATABASE_URL to a member of opsledger_app \
             for the full guarantee"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot check the serving role's privileges"),
    }
}
