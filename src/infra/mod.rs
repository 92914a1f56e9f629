//! Infrastructure: connecting to PostgreSQL (the pool, the schema owner's
//! connection) and the embedded PostgreSQL cluster the server starts when no
//! database is configured.

pub mod database;
pub mod embedded_pg;
