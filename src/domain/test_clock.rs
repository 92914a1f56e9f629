//! Fixed instants and envelope facts for the aggregates' unit tests: the
//! domain never reads a clock itself, so tests name every instant.

use chrono::{DateTime, Utc};

use super::EventMeta;

/// The stored hash every test event has, unless a test names its own.
pub static TEST_HASH: [u8; 32] = [7; 32];

/// Minute `n` of a fixed test day.
pub fn at(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_740_819_600 + n * 60, 0).expect("a fixed, valid instant")
}

/// The envelope facts of the event at `version`, recorded at minute `version`.
pub fn meta(version: u64, actor: &str) -> EventMeta<'_> {
    EventMeta {
        recorded_at: at(version as i64),
        actor,
        version,
        hash: &TEST_HASH,
    }
}
