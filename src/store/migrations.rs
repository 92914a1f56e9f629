//! Schema migrations: the SQL files in `migrations/`, embedded at build
//! time and applied by refinery; and the roles around the schema (the
//! owner that migrates, the serving role that may only read and append).

use tokio_postgres::Client;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Applies every pending migration. Must run as the role that owns the schema.
pub async fn run(client: &mut Client) -> Result<(), refinery::Error> {
    let report = embedded::migrations::runner().run_async(client).await?;
    for m in report.applied_migrations() {
        tracing::info!(version = m.version(), name = m.name(), "applied migration");
    }
    Ok(())
}

/// The newest migration this build knows.
pub fn latest_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// Whether the database has every migration this build knows applied.
pub async fn is_current(client: &impl deadpool_postgres::GenericClient) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0)::int8 FROM refinery_schema_history",
            &[],
        )
        .await?;
    Ok(row.try_get::<_, i64>(0)? >= latest_version())
}

/// Creates the roles and the database of the embedded default unless they
/// exist, on a superuser's connection to the `postgres` database: `owner`
/// runs migrations and owns the schema, `server` serves and only gets what
/// `opsledger_app` is granted (INSERT and SELECT on the log). Returns whether
/// the database was created. The names are the server's own constants,
/// never input.
pub async fn provision(
    client: &Client,
    owner: &str,
    server: &str,
    database: &str,
) -> Result<bool, tokio_postgres::Error> {
    client
        .batch_execute(&format!(
            "DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsledger_app') THEN
                    CREATE ROLE opsledger_app NOLOGIN;
                END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN
                    CREATE ROLE {owner} LOGIN;
                END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{server}') THEN
                    CREATE ROLE {server} LOGIN IN ROLE opsledger_app;
                END IF;
            END $$;"
        ))
        .await?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!(
                "CREATE DATABASE {database} OWNER {owner} ENCODING 'UTF8' TEMPLATE template0"
            ))
            .await?;
    }
    Ok(!exists)
}

/// What the connected role could do to the event log beyond reading and
/// appending; only the append-only triggers stand in its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPrivileges {
    pub superuser: bool,
    pub owns_schema: bool,
    pub can_update_or_delete: bool,
}

impl LogPrivileges {
    /// Whether the role may only read and append.
    pub fn append_only(&self) -> bool {
        !(self.superuser || self.owns_schema || self.can_update_or_delete)
    }
}

/// The connected role's privileges on the event log.
pub async fn log_privileges(
    client: &impl deadpool_postgres::GenericClient,
) -> Result<LogPrivileges, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT r.rolsuper,
                    pg_get_userbyid(c.relowner) = current_user,
                    has_table_privilege('events', 'UPDATE') OR has_table_privilege('events', 'DELETE')
                        OR has_table_privilege('events', 'TRUNCATE')
             FROM pg_roles r, pg_class c
             WHERE r.rolname = current_user AND c.oid = 'events'::regclass",
            &[],
        )
        .await?;
    Ok(LogPrivileges {
        superuser: row.try_get(0)?,
        owns_schema: row.try_get(1)?,
        can_update_or_delete: row.try_get(2)?,
    })
}
