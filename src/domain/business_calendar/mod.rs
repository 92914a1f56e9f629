//! Business calendars: the working time that service-level targets are
//! counted in. `time` is the arithmetic on a calendar value.

pub mod time;

pub use time::{BusinessCalendar, CalendarDataMissing, CalendarProblem, HoursProblem, Interval};
