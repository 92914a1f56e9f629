//! Business-time arithmetic: when is a target of N business minutes due,
//! and how many business minutes lie between two instants. Pure: the
//! calendar is a value and every instant is given, nothing reads a clock.
//!
//! Working hours are local wall-clock times, because that is how people
//! keep them: "09:00 to 18:00" stays 09:00 to 18:00 on the day the clocks
//! change. Each interval is turned into instants with the zone's rules, so
//! a day that skips an hour (spring forward) has that much less working
//! time and a day that repeats one (fall back) has that much more.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// Minutes in a day; an interval may end at `24:00`, the next midnight.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// One stretch of working time within a local day, `[start, end)` in
/// minutes after local midnight. `end` may be 1440 (24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    start: u16,
    end: u16,
}

impl Interval {
    /// An interval of at least one minute within one day, or `None`.
    pub fn new(start: u16, end: u16) -> Option<Interval> {
        (start < end && end <= MINUTES_PER_DAY).then_some(Interval { start, end })
    }

    pub fn start(self) -> u16 {
        self.start
    }

    pub fn end(self) -> u16 {
        self.end
    }

    /// `HH:MM`, with `24:00` for the end of the day.
    pub fn format_minute(minute: u16) -> String {
        format!("{:02}:{:02}", minute / 60, minute % 60)
    }

    /// Reads `HH:MM` (00:00 to 24:00) as minutes after midnight.
    pub fn parse_minute(text: &str) -> Option<u16> {
        let (hours, minutes) = text.split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let hours: u16 = hours.parse().ok()?;
        let minutes: u16 = minutes.parse().ok()?;
        let minute = hours.checked_mul(60)?.checked_add(minutes)?;
        (minutes < 60 && minute <= MINUTES_PER_DAY).then_some(minute)
    }
}

/// Why a set of working hours cannot make a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoursProblem {
    /// The intervals at these positions overlap or are out of order.
    Overlap { earlier: usize, later: usize },
}

/// Checks that a day's intervals are in order and do not overlap; touching
/// (`12:00` end, `12:00` start) is allowed.
pub fn check_day(intervals: &[Interval]) -> Result<(), HoursProblem> {
    for (later, pair) in intervals.windows(2).enumerate() {
        if pair[1].start < pair[0].end {
            return Err(HoursProblem::Overlap {
                earlier: later,
                later: later + 1,
            });
        }
    }
    Ok(())
}

/// The due time or the measured time needs a day the calendar has no
/// holiday data for. Such a day is never guessed to be a working day: the
/// caller flags the target `calendar_data_missing` until the data arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDataMissing {
    /// The first day past the calendar's data that the answer needed.
    pub day: NaiveDate,
}

impl fmt::Display for CalendarDataMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the business calendar has no data for {}", self.day)
    }
}

impl std::error::Error for CalendarDataMissing {}

/// Why a calendar value cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarProblem {
    /// A weekday's intervals (Monday = 0) overlap.
    WeekdayHours { weekday: usize, problem: HoursProblem },
    /// A make-up workday's intervals overlap.
    WorkdayHours { day: NaiveDate, problem: HoursProblem },
    /// A make-up workday has no working hours.
    WorkdayWithoutHours { day: NaiveDate },
    /// The day is both a holiday and a make-up workday.
    HolidayAndWorkday { day: NaiveDate },
    /// The day lies after `covers_until`, where the calendar claims no data.
    PastCoverage { day: NaiveDate },
    /// No weekday has working hours and the calendar never ends, so no
    /// target could ever fall due.
    NoWorkingHours,
}

/// A calendar of working time: the weekly hours in a zone, the public
/// holidays that take a day off, and the make-up workdays (调休) that put a
/// weekend day to work. Built only through [`BusinessCalendar::new`], so
/// every value can answer.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    zone: Tz,
    /// Monday first, as `Weekday::num_days_from_monday`.
    weekly: [Vec<Interval>; 7],
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeMap<NaiveDate, Vec<Interval>>,
    covers_until: Option<NaiveDate>,
}

impl BusinessCalendar {
    pub fn new(
        zone: Tz,
        weekly: [Vec<Interval>; 7],
        holidays: BTreeSet<NaiveDate>,
        workdays: BTreeMap<NaiveDate, Vec<Interval>>,
        covers_until: Option<NaiveDate>,
    ) -> Result<BusinessCalendar, CalendarProblem> {
        for (weekday, hours) in weekly.iter().enumerate() {
            check_day(hours).map_err(|problem| CalendarProblem::WeekdayHours { weekday, problem })?;
        }
        for (&day, hours) in &workdays {
            if hours.is_empty() {
                return Err(CalendarProblem::WorkdayWithoutHours { day });
            }
            check_day(hours).map_err(|problem| CalendarProblem::WorkdayHours { day, problem })?;
            if holidays.contains(&day) {
                return Err(CalendarProblem::HolidayAndWorkday { day });
            }
        }
        if let Some(last) = covers_until {
            let listed = holidays.iter().chain(workdays.keys());
            if let Some(&day) = listed.filter(|&&day| day > last).min() {
                return Err(CalendarProblem::PastCoverage { day });
            }
        } else if weekly.iter().all(Vec::is_empty) {
            return Err(CalendarProblem::NoWorkingHours);
        }
        Ok(BusinessCalendar {
            zone,
            weekly,
            holidays,
            workdays,
            covers_until,
        })
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn covers_until(&self) -> Option<NaiveDate> {
        self.covers_until
    }

    /// The working intervals of a local day, or an error if the calendar
    /// does not know the day.
    pub fn hours_on(&self, day: NaiveDate) -> Result<&[Interval], CalendarDataMissing> {
        if self.covers_until.is_some_and(|last| day > last) {
            return Err(CalendarDataMissing { day });
        }
        if self.holidays.contains(&day) {
            return Ok(&[]);
        }
        if let Some(hours) = self.workdays.get(&day) {
            return Ok(hours);
        }
        Ok(&self.weekly[day.weekday_index()])
    }

    /// The instant at which `minutes` business minutes have passed since
    /// `start`. Time outside working hours does not count, so a start
    /// outside them runs from the next working instant; the due instant is
    /// the earliest at which the minutes have passed, so a target that is
    /// used up exactly at the end of a stretch is due at that end, not at
    /// the start of the next. Zero minutes are due at `start` itself.
    pub fn add_business_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: u32,
    ) -> Result<DateTime<Utc>, CalendarDataMissing> {
        self.add_business_time(start, TimeDelta::minutes(i64::from(minutes)))
    }

    /// [`Self::add_business_minutes`] for any span of business time (a
    /// paused clock's remainder is kept to the second); a span that is not
    /// positive is due at `start`.
    pub fn add_business_time(
        &self,
        start: DateTime<Utc>,
        time: TimeDelta,
    ) -> Result<DateTime<Utc>, CalendarDataMissing> {
        let [due] = self.add_business_times(start, [time]);
        due
    }

    /// [`Self::add_business_time`] for several spans from one start, in
    /// one walk over the calendar (a target and its warning share their
    /// days): the answers, in the order of `spans`. As for one span, a span
    /// that is not positive is due at `start`, and every span the calendar's
    /// data does not reach names the first day past it.
    pub fn add_business_times<const N: usize>(
        &self,
        start: DateTime<Utc>,
        spans: [TimeDelta; N],
    ) -> [Result<DateTime<Utc>, CalendarDataMissing>; N] {
        // What a span that is not positive answers; the others are
        // answered as the walk passes them.
        let mut answers = [Ok(start); N];
        // Longest first, so the shortest is last and answered first.
        let mut pending: Vec<usize> = (0..N).filter(|&i| spans[i] > TimeDelta::zero()).collect();
        pending.sort_by_key(|&i| std::cmp::Reverse(spans[i]));
        let mut passed = TimeDelta::zero();
        let mut cursor = start;
        // The day before too: an interval ending at 24:00 may run past the
        // next local midnight where midnight itself is repeated.
        let mut day = self.local_day(start).pred_opt().unwrap_or(NaiveDate::MIN);
        let missing = loop {
            if pending.is_empty() {
                return answers;
            }
            let stretches = match self.stretches_on(day) {
                Ok(stretches) => stretches,
                Err(missing) => break missing,
            };
            for (stretch_start, stretch_end) in stretches {
                let from = stretch_start.max(cursor);
                if from >= stretch_end {
                    continue;
                }
                let available = stretch_end - from;
                // Every span used up within this stretch is due in it.
                while let Some(&shortest) = pending.last() {
                    let left = spans[shortest] - passed;
                    if left > available {
                        break;
                    }
                    answers[shortest] = Ok(from + left);
                    pending.pop();
                }
                passed += available;
                cursor = stretch_end;
            }
            match next_day(day) {
                Ok(after) => day = after,
                Err(missing) => break missing,
            }
        };
        for i in pending {
            answers[i] = Err(missing);
        }
        answers
    }

    /// The business time between two instants; zero when `to` is not after
    /// `from`. Measured to the second, as instants carry seconds.
    pub fn business_time_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TimeDelta, CalendarDataMissing> {
        let mut total = TimeDelta::zero();
        if to <= from {
            return Ok(total);
        }
        let mut cursor = from;
        let mut day = self.local_day(from).pred_opt().unwrap_or(NaiveDate::MIN);
        let last_day = self.local_day(to);
        while day <= last_day {
            for stretch in self.stretches_on(day)? {
                let start = stretch.0.max(cursor);
                let end = stretch.1.min(to);
                if start < end {
                    total += end - start;
                    cursor = end;
                }
            }
            day = next_day(day)?;
        }
        Ok(total)
    }

    /// [`Self::business_time_between`] in whole minutes, rounded down.
    pub fn business_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64, CalendarDataMissing> {
        Ok(self.business_time_between(from, to)?.num_minutes())
    }

    fn local_day(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.zone).date_naive()
    }

    /// A day's working intervals as instants, `[start, end)`. A stretch
    /// covers the instants from the first time the local clock shows its
    /// start to the last time it shows its end: a start or end the zone
    /// skips falls on the moment of the change, and one the zone repeats
    /// opens at its first occurrence and closes at its second.
    fn stretches_on(&self, day: NaiveDate) -> Result<impl Iterator<Item = Stretch> + '_, CalendarDataMissing> {
        let hours = self.hours_on(day)?;
        Ok(hours.iter().filter_map(move |interval| {
            let start = self.instant_of(day, interval.start, Occurrence::First)?;
            let end = self.instant_of(day, interval.end, Occurrence::Last)?;
            (start < end).then_some((start, end))
        }))
    }

    /// The instant the local clock shows `minute` of `day`. `None` only at
    /// the ends of chrono's calendar, where nobody files tickets.
    fn instant_of(&self, day: NaiveDate, minute: u16, occurrence: Occurrence) -> Option<DateTime<Utc>> {
        let midnight = NaiveDateTime::new(day, NaiveTime::MIN);
        let mut local = midnight.checked_add_signed(TimeDelta::minutes(i64::from(minute)))?;
        // A skipped local time falls on the first existing minute after it,
        // which the zone shows at the moment of the change. Gaps are at
        // most a day long (Samoa skipped 30 December 2011).
        for _ in 0..=(2 * MINUTES_PER_DAY) {
            match self.zone.from_local_datetime(&local) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(first, last) => {
                    let chosen = match occurrence {
                        Occurrence::First => first,
                        Occurrence::Last => last,
                    };
                    return Some(chosen.with_timezone(&Utc));
                }
                LocalResult::None => local = local.checked_add_signed(TimeDelta::minutes(1))?,
            }
        }
        None
    }
}

/// A stretch of working time as instants, `[start, end)`.
type Stretch = (DateTime<Utc>, DateTime<Utc>);

#[derive(Clone, Copy)]
enum Occurrence {
    First,
    Last,
}

trait WeekdayIndex {
    fn weekday_index(self) -> usize;
}

impl WeekdayIndex for NaiveDate {
    fn weekday_index(self) -> usize {
        use chrono::Datelike;
        self.weekday().num_days_from_monday() as usize
    }
}

/// The day after `day`; the end of chrono's calendar is a day no calendar
/// has data for.
fn next_day(day: NaiveDate) -> Result<NaiveDate, CalendarDataMissing> {
    day.checked_add_days(Days::new(1)).ok_or(CalendarDataMissing { day })
}

#[cfg(test)]
mod tests;
