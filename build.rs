//! Rebuilds when a migration is added: `refinery::embed_migrations!` reads
//! `migrations/` at compile time, and Cargo would otherwise not notice a
//! new file there.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
