//! The pure core: commands in, events out. Nothing here performs I/O or
//! knows about HTTP, SQL or configuration; the rest of the crate wraps it.

pub mod actor;
#[cfg(test)]
pub(crate) mod body_limits;
pub mod business_calendar;
pub mod change;
pub mod complaint;
pub mod error;
pub mod event;
pub mod fault;
pub mod link;
pub mod maintenance;
pub mod message;
pub mod messages;
pub mod permissions;
pub mod personal;
pub mod sla;
pub mod subject;
#[cfg(test)]
mod test_clock;
pub mod text;
pub mod ticket;
pub mod zoned;

pub use actor::{Actor, Role};
pub use error::{DomainError, FieldError, Validator};
pub use event::{DomainEvent, EventMeta, StoredPayload, StreamCorrupt};
pub use message::Message;
pub use personal::{Personal, PersonalField};
