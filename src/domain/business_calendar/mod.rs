//! Business calendars: the working time that service-level targets are
//! counted in. `time` is the arithmetic on a calendar value; `aggregate`
//! is the calendar as an event-sourced stream an admin defines and amends.

pub mod aggregate;
pub mod shipped;
pub mod time;

pub use aggregate::{
    BusinessCalendarEvent, BusinessCalendarView, CalendarDefinition, DefineBusinessCalendar, business_calendar_id,
};
pub use time::{BusinessCalendar, CalendarDataMissing, CalendarProblem, HoursProblem, Interval};
