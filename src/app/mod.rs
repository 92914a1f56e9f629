//! The use-case services between the HTTP layer and the domain: ticket
//! commands (`commands`), data subjects' rights (`subjects`), the clock they
//! read, and the entity tags of what they answer.

pub mod clock;
pub mod commands;
pub mod etag;
pub mod subjects;
