//! Service levels: the policy that says what is due by when, and the
//! clocks pinned in each ticket's own stream. Pure: the app layer loads the
//! policy and the calendars and passes them in with the time.
//!
//! Choices made here, so that clocks are reproducible:
//! - The policy's version 0 is the table compiled into this build
//!   ([`policy::default_table`]); it is in force until an admin amends the
//!   policy, so a fresh server (and every test) keeps clocks without a load
//!   step.
//! - A calendar that is not loaded (`opsledger calendars load`) counts with
//!   its shipped definition, compiled in from `calendars/` (see
//!   `business_calendar::shipped`), as version 0. A clock names the code
//!   and version it counted with, so a clock pinned on version 0 says it
//!   used the shipped file; once the calendar's stream exists, its version
//!   is the stream's.
//! - Every instant is computed once, when the `sla.*` event is decided,
//!   and folding copies it ([`clock::evolve`]), so rebuilds and as-of reads
//!   equal the live view even after the policy or a calendar changes.

pub mod clock;
pub mod policy;

pub use clock::{
    CalendarAt, CalendarRef, ClockEvent, Clocks, NeedsInputs, PinCause, QueueColumns, SlaClockStopped, SlaClocksPaused,
    SlaClocksPinned, SlaClocksResumed, SlaInputs, Target, TargetClock, TicketFacts, react,
};
pub use policy::{AmendSlaPolicy, PolicyKey, PolicyTable, SlaPolicyEvent, SlaPolicyView, default_table, sla_policy_id};
