//! Business calendars as event-sourced aggregates: each calendar is its own
//! stream, `business_calendar.defined` then any number of
//! `business_calendar.amended`, each carrying the whole definition. The
//! calendar's version is its stream's version, so a service-level clock can
//! later say which version of a calendar it counted with.
//!
//! (The `calendar.*` events are something else: the change calendar's
//! bookings of each service.)

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::time::{BusinessCalendar, Interval, check_day};
use crate::domain::event::{StoredPayload, decode};
use crate::domain::text::{self, LABEL};
use crate::domain::{DomainError, EventMeta, StreamCorrupt, Validator, messages, zoned};

/// The namespace of calendar stream ids: a calendar's id is the UUIDv5 of
/// its code in it, so the same code always names the same stream, and
/// loading a shipped calendar twice finds it there the second time.
pub const BUSINESS_CALENDAR_NAMESPACE: Uuid = Uuid::from_u128(0x6f70_736c_6564_4000_8000_6263_616c_656e);

/// The shape of a calendar's code, such as `CN` or `24x7`.
pub const CODE_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$";

/// Holidays and make-up workdays in one definition: ten years of a
/// country's holidays fit many times over.
const MAX_DAYS: usize = 1_000;

/// The longest text of a calendar's source.
const SOURCE_TEXT: text::Limit = text::SHORT_TEXT;

/// Intervals in one day: a split shift needs a few, not hundreds.
const MAX_INTERVALS_PER_DAY: usize = 12;

/// The stream id of the calendar with `code`.
pub fn business_calendar_id(code: &str) -> Uuid {
    Uuid::new_v5(&BUSINESS_CALENDAR_NAMESPACE, code.as_bytes())
}

/// One stretch of working time, local wall-clock `HH:MM` to `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    /// `HH:MM`, 00:00 to 23:59.
    #[schema(max_length = 5, pattern = r"^[0-9]{2}:[0-9]{2}$")]
    pub start: String,
    /// `HH:MM` after `start`, up to `24:00` for the end of the day.
    #[schema(max_length = 5, pattern = r"^[0-9]{2}:[0-9]{2}$")]
    pub end: String,
}

/// The working hours of each weekday, in order and not overlapping; a day
/// left out or empty is not worked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// Working hours on Mondays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub monday: Vec<WorkingHours>,
    /// Working hours on Tuesdays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub tuesday: Vec<WorkingHours>,
    /// Working hours on Wednesdays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub wednesday: Vec<WorkingHours>,
    /// Working hours on Thursdays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub thursday: Vec<WorkingHours>,
    /// Working hours on Fridays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub friday: Vec<WorkingHours>,
    /// Working hours on Saturdays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub saturday: Vec<WorkingHours>,
    /// Working hours on Sundays, at most 12 intervals.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub sunday: Vec<WorkingHours>,
}

impl WeeklyHours {
    /// The days with their names, Monday first.
    fn days(&self) -> [(&'static str, &[WorkingHours]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

/// A public holiday: the whole day is not worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// The local date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// The holiday's name, 1 to 100 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
}

/// A make-up workday (调休): a day worked, with these hours, though it
/// falls on a weekend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakeUpWorkday {
    /// The local date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// The holiday it makes up for, 1 to 100 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The day's working hours, 1 to 12 intervals in order, not overlapping.
    #[schema(min_items = 1, max_items = 12)]
    pub hours: Vec<WorkingHours>,
}

/// Where a calendar's holiday data came from, for calendars generated from
/// a published package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarSource {
    /// The package registry, such as `PyPI`; 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub registry: String,
    /// The package's name there; 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub package: String,
    /// The package's version the data were taken from; 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub version: String,
    /// The command that generated the data; 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub generated_by: String,
}

/// Everything a calendar says: its zone, its weekly hours, its holidays and
/// make-up workdays, and the last day its holiday data cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "name": "Shanghai office",
    "time_zone": "Asia/Shanghai",
    "weekly_hours": {
        "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}],
        "friday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
    },
    "holidays": [{"date": "2025-01-28", "name": "Spring Festival"}],
    "workdays": [{"date": "2025-02-08", "name": "Spring Festival", "hours": [{"start": "09:00", "end": "18:00"}]}],
    "covers_until": "2025-12-31"
})))]
pub struct CalendarDefinition {
    /// The calendar's name, 1 to 100 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The IANA zone its hours and dates are local to, such as `Asia/Shanghai`.
    #[schema(max_length = 32, pattern = r"^[A-Za-z][A-Za-z0-9_+/-]*$")]
    pub time_zone: String,
    /// The working hours of each weekday, local wall-clock times in `time_zone`.
    pub weekly_hours: WeeklyHours,
    /// Public holidays, each date once, at most 1,000.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub holidays: Vec<Holiday>,
    /// Make-up workdays, each date once and none a holiday, at most 1,000.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub workdays: Vec<MakeUpWorkday>,
    /// The last date the holiday data cover: a target that needs a later
    /// day is flagged rather than guessed. `null` for a calendar that needs
    /// no holiday data, such as 24x7.
    #[serde(default)]
    pub covers_until: Option<NaiveDate>,
    /// Where the holiday data came from, when generated from a package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<CalendarSource>,
}

/// Defines a new calendar under a code no other calendar has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "code": "SH-office",
    "definition": {
        "name": "Shanghai office",
        "time_zone": "Asia/Shanghai",
        "weekly_hours": {
            "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}],
            "friday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
        },
        "holidays": [{"date": "2025-01-28", "name": "Spring Festival"}],
        "workdays": [{"date": "2025-02-08", "name": "Spring Festival", "hours": [{"start": "09:00", "end": "18:00"}]}],
        "covers_until": "2025-12-31"
    }
})))]
pub struct DefineBusinessCalendar {
    /// A short code, such as `CN` or `24x7`: 1 to 32 letters, digits, `_`
    /// or `-`, starting with a letter or digit. The calendar's id is derived
    /// from it, so it never changes.
    #[schema(max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    pub code: String,
    /// What the calendar says.
    pub definition: CalendarDefinition,
}

/// A calendar was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessCalendarDefined {
    pub id: Uuid,
    pub code: String,
    pub definition: CalendarDefinition,
}

/// A calendar's definition was replaced by a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessCalendarAmended {
    pub id: Uuid,
    pub definition: CalendarDefinition,
}

/// One event of a business calendar's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum BusinessCalendarEvent {
    #[serde(rename = "business_calendar.defined")]
    Defined(BusinessCalendarDefined),
    #[serde(rename = "business_calendar.amended")]
    Amended(BusinessCalendarAmended),
}

const DEFINED: &str = "business_calendar.defined";
const AMENDED: &str = "business_calendar.amended";

impl BusinessCalendarEvent {
    /// Every event type a business calendar's stream may contain.
    pub const EVENT_TYPES: &[&str] = &[DEFINED, AMENDED];

    /// The stored type name; equal to the `type` tag of the JSON form.
    pub fn event_type(&self) -> &'static str {
        match self {
            BusinessCalendarEvent::Defined(_) => DEFINED,
            BusinessCalendarEvent::Amended(_) => AMENDED,
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The payload object alone, as stored next to the type and version.
    pub fn payload_json(&self) -> Value {
        let value = match self {
            BusinessCalendarEvent::Defined(p) => serde_json::to_value(p),
            BusinessCalendarEvent::Amended(p) => serde_json::to_value(p),
        };
        // Structs of strings, dates and UUIDs: cannot fail.
        value.expect("business calendar payloads always serialize to JSON")
    }

    /// Rebuilds an event from its stored parts; upcasters go here.
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<BusinessCalendarEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (DEFINED, 1) => decode(event_type, payload).map(BusinessCalendarEvent::Defined),
            (AMENDED, 1) => decode(event_type, payload).map(BusinessCalendarEvent::Amended),
            (known, version) if Self::EVENT_TYPES.contains(&known) => Err(StreamCorrupt(format!(
                "{known} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!(
                "{unknown} is not a business calendar event type"
            ))),
        }
    }
}

impl crate::domain::DomainEvent for BusinessCalendarEvent {
    fn event_type(&self) -> &'static str {
        BusinessCalendarEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        BusinessCalendarEvent::schema_version(self)
    }

    fn payload_json(&self) -> Value {
        BusinessCalendarEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<BusinessCalendarEvent, StreamCorrupt> {
        BusinessCalendarEvent::from_stored(event_type, schema_version, payload)
    }
}

/// A business calendar as clients read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessCalendarView {
    /// The calendar's id, the UUIDv5 of its code.
    pub id: Uuid,
    /// The calendar's code, such as `CN`.
    pub code: String,
    /// The calendar's version, its stream's: 1 when defined, one more with
    /// each amendment. A clock that counts with a calendar names this.
    pub version: u64,
    /// The calendar's current definition.
    pub definition: CalendarDefinition,
    /// Actor id of whoever defined it.
    pub defined_by: String,
    /// When it was defined (RFC 3339 date-time, UTC).
    pub defined_at: DateTime<Utc>,
    /// When the definition last changed (RFC 3339 date-time, UTC).
    pub amended_at: DateTime<Utc>,
}

impl BusinessCalendarView {
    /// The calendar as a value business time is counted with.
    pub fn calendar(&self) -> Result<BusinessCalendar, StreamCorrupt> {
        let mut v = Validator::new();
        check_definition(&mut v, "", &self.definition)
            .ok_or_else(|| StreamCorrupt(format!("business calendar {} holds an invalid definition", self.id)))
    }
}

/// Validates a new calendar and records it under the id of its code.
pub fn define(cmd: &DefineBusinessCalendar) -> Result<Vec<BusinessCalendarEvent>, DomainError> {
    let mut v = Validator::new();
    if !is_code(&cmd.code) {
        v.push("/code", messages::field_calendar_code());
    }
    check_definition(&mut v, "/definition", &cmd.definition);
    v.finish()?;
    Ok(vec![BusinessCalendarEvent::Defined(BusinessCalendarDefined {
        id: business_calendar_id(&cmd.code),
        code: cmd.code.clone(),
        definition: cmd.definition.clone(),
    })])
}

/// Validates a new definition for the calendar `state` and records it; the
/// same definition again records nothing new.
pub fn amend(
    state: &BusinessCalendarView,
    cmd: &CalendarDefinition,
) -> Result<Vec<BusinessCalendarEvent>, DomainError> {
    let mut v = Validator::new();
    check_definition(&mut v, "", cmd);
    v.finish()?;
    if state.definition == *cmd {
        return Err(DomainError::RuleViolated(messages::rule_calendar_unchanged()));
    }
    Ok(vec![BusinessCalendarEvent::Amended(BusinessCalendarAmended {
        id: state.id,
        definition: cmd.clone(),
    })])
}

/// Checks a new definition on its own, before the calendar it is for is
/// looked up: a malformed body is told so whichever calendar it names.
pub fn validate_amendment(cmd: &CalendarDefinition) -> Result<(), DomainError> {
    let mut v = Validator::new();
    check_definition(&mut v, "", cmd);
    v.finish()
}

/// Folds one event into the calendar's view.
pub fn evolve(
    state: Option<BusinessCalendarView>,
    event: &BusinessCalendarEvent,
    meta: &EventMeta,
) -> Result<BusinessCalendarView, StreamCorrupt> {
    match (state, event) {
        (None, BusinessCalendarEvent::Defined(e)) => Ok(BusinessCalendarView {
            id: e.id,
            code: e.code.clone(),
            version: meta.version,
            definition: e.definition.clone(),
            defined_by: meta.actor.to_owned(),
            defined_at: meta.recorded_at,
            amended_at: meta.recorded_at,
        }),
        (Some(mut calendar), BusinessCalendarEvent::Amended(e)) if e.id == calendar.id => {
            calendar.definition = e.definition.clone();
            calendar.version = meta.version;
            calendar.amended_at = meta.recorded_at;
            Ok(calendar)
        }
        (state, event) => Err(StreamCorrupt(format!(
            "{} at version {} does not follow {}",
            event.event_type(),
            meta.version,
            state.map_or_else(|| "an empty stream".to_owned(), |c| format!("calendar {}", c.id)),
        ))),
    }
}

/// Whether `code` has the shape of a calendar code ([`CODE_PATTERN`]).
pub fn is_code(code: &str) -> bool {
    let mut chars = code.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok && code.len() <= 32 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a definition field by field, with pointers under `prefix`, and
/// builds the calendar value when nothing is wrong.
pub fn check_definition(v: &mut Validator, prefix: &str, def: &CalendarDefinition) -> Option<BusinessCalendar> {
    let before = v.len();
    text::check(v, &format!("{prefix}/name"), &def.name, LABEL);
    let zone = zoned::parse_zone(v, &format!("{prefix}/time_zone"), Some(&def.time_zone));

    let mut weekly: [Vec<Interval>; 7] = Default::default();
    for (i, (day, hours)) in def.weekly_hours.days().into_iter().enumerate() {
        weekly[i] = check_hours(v, &format!("{prefix}/weekly_hours/{day}"), hours);
    }
    if def.covers_until.is_none() && weekly.iter().all(Vec::is_empty) {
        v.push(format!("{prefix}/weekly_hours"), messages::field_calendar_never_works());
    }
    if def.holidays.len() > MAX_DAYS {
        v.push(
            format!("{prefix}/holidays"),
            messages::field_too_many_items(MAX_DAYS, def.holidays.len()),
        );
    }
    if def.workdays.len() > MAX_DAYS {
        v.push(
            format!("{prefix}/workdays"),
            messages::field_too_many_items(MAX_DAYS, def.workdays.len()),
        );
    }
    if let Some(source) = &def.source {
        text::check(v, &format!("{prefix}/source/registry"), &source.registry, SOURCE_TEXT);
        text::check(v, &format!("{prefix}/source/package"), &source.package, SOURCE_TEXT);
        text::check(v, &format!("{prefix}/source/version"), &source.version, SOURCE_TEXT);
        text::check(
            v,
            &format!("{prefix}/source/generated_by"),
            &source.generated_by,
            SOURCE_TEXT,
        );
    }

    let mut holidays = BTreeSet::new();
    for (i, holiday) in def.holidays.iter().enumerate() {
        let pointer = format!("{prefix}/holidays/{i}");
        text::check(v, &format!("{pointer}/name"), &holiday.name, LABEL);
        check_covered(v, &pointer, holiday.date, def.covers_until);
        if !holidays.insert(holiday.date) {
            v.push(
                format!("{pointer}/date"),
                messages::field_listed_twice(holiday.date.to_string()),
            );
        }
    }
    let mut workdays = BTreeMap::new();
    for (i, workday) in def.workdays.iter().enumerate() {
        let pointer = format!("{prefix}/workdays/{i}");
        text::check(v, &format!("{pointer}/name"), &workday.name, LABEL);
        check_covered(v, &pointer, workday.date, def.covers_until);
        if holidays.contains(&workday.date) {
            v.push(
                format!("{pointer}/date"),
                messages::field_workday_is_holiday(workday.date.to_string()),
            );
        }
        let hours = check_hours(v, &format!("{pointer}/hours"), &workday.hours);
        if workday.hours.is_empty() {
            v.push(format!("{pointer}/hours"), messages::field_one_or_more());
        }
        if workdays.insert(workday.date, hours).is_some() {
            v.push(
                format!("{pointer}/date"),
                messages::field_listed_twice(workday.date.to_string()),
            );
        }
    }
    if v.len() > before {
        return None;
    }
    // Every rule `new` holds has been checked above with a pointer.
    BusinessCalendar::new(zone?, weekly, holidays, workdays, def.covers_until).ok()
}

fn check_covered(v: &mut Validator, pointer: &str, date: NaiveDate, covers_until: Option<NaiveDate>) {
    if let Some(last) = covers_until.filter(|&last| date > last) {
        v.push(
            format!("{pointer}/date"),
            messages::field_after_covers_until(last.to_string()),
        );
    }
}

/// Reads one day's intervals; each bad one is a field error at its pointer.
fn check_hours(v: &mut Validator, pointer: &str, hours: &[WorkingHours]) -> Vec<Interval> {
    if hours.len() > MAX_INTERVALS_PER_DAY {
        v.push(
            pointer,
            messages::field_too_many_items(MAX_INTERVALS_PER_DAY, hours.len()),
        );
        return Vec::new();
    }
    let mut intervals = Vec::with_capacity(hours.len());
    for (i, span) in hours.iter().enumerate() {
        let start = Interval::parse_minute(&span.start).filter(|&m| m < super::time::MINUTES_PER_DAY);
        let end = Interval::parse_minute(&span.end);
        if start.is_none() {
            v.push(format!("{pointer}/{i}/start"), messages::field_time_of_day());
        }
        if end.is_none() {
            v.push(format!("{pointer}/{i}/end"), messages::field_time_of_day());
        }
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        let Some(interval) = Interval::new(start, end) else {
            v.push(format!("{pointer}/{i}/end"), messages::field_end_not_after_start());
            continue;
        };
        if let Some(previous) = intervals.last()
            && check_day(&[*previous, interval]).is_err()
        {
            v.push(
                format!("{pointer}/{i}/start"),
                messages::field_hours_overlap(span.start.clone()),
            );
            continue;
        }
        intervals.push(interval);
    }
    intervals
}

#[cfg(test)]
mod tests;
