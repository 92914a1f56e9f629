//! Schema migrations: the SQL files in `migrations/`, embedded at build
//! time and applied by refinery.

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
    Ok(row.get::<_, i64>(0) >= latest_version())
}
