//! Read models built from events.
//!
//! `tickets` is an **inline** projection: it is written in the same
//! transaction as the events it reflects, so a client reads its own write.
//! Every view is a pure fold of its own stream with the domain's `evolve`.

pub mod business_calendars;
pub mod changes;
pub mod fold;
pub mod jsonb_text;
pub mod rebuild;
pub mod schedules;
pub mod sla;
pub mod tickets;
