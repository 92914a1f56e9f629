use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use chrono_tz::{Asia::Shanghai, Europe::Berlin};
use proptest::prelude::*;

use super::*;

fn hours(spans: &[(&str, &str)]) -> Vec<Interval> {
    spans
        .iter()
        .map(|(start, end)| {
            let start = Interval::parse_minute(start).expect("a test time");
            let end = Interval::parse_minute(end).expect("a test time");
            Interval::new(start, end).expect("a test interval")
        })
        .collect()
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a test date")
}

/// A local wall-clock time in `zone`, as a user would read it off a clock.
fn local(zone: Tz, text: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("a test time");
    zone.from_local_datetime(&naive)
        .earliest()
        .expect("a local time the zone shows")
        .with_timezone(&Utc)
}

fn office_hours() -> Vec<Interval> {
    hours(&[("09:00", "12:00"), ("13:00", "18:00")])
}

/// Monday to Friday, 09:00–12:00 and 13:00–18:00.
fn office_week() -> [Vec<Interval>; 7] {
    let day = office_hours();
    [day.clone(), day.clone(), day.clone(), day.clone(), day, vec![], vec![]]
}

/// Mainland China in 2025 with three of its holidays: Spring Festival
/// (Jan 28–Feb 4, made up on Sunday Jan 26 and Saturday Feb 8), Qingming
/// (Apr 4–6) and Dragon Boat (May 31–Jun 2).
fn cn_2025() -> BusinessCalendar {
    let mut holidays: BTreeSet<NaiveDate> = BTreeSet::new();
    let spring = date("2025-01-28").iter_days().take(8);
    let qingming = date("2025-04-04").iter_days().take(3);
    let dragon_boat = date("2025-05-31").iter_days().take(3);
    holidays.extend(spring.chain(qingming).chain(dragon_boat));
    let workdays = BTreeMap::from([
        (date("2025-01-26"), office_hours()),
        (date("2025-02-08"), office_hours()),
    ]);
    BusinessCalendar::new(Shanghai, office_week(), holidays, workdays, Some(date("2025-12-31")))
        .expect("a valid calendar")
}

fn every_day(day: Vec<Interval>, zone: Tz) -> BusinessCalendar {
    let week = [
        day.clone(),
        day.clone(),
        day.clone(),
        day.clone(),
        day.clone(),
        day.clone(),
        day,
    ];
    BusinessCalendar::new(zone, week, BTreeSet::new(), BTreeMap::new(), None).expect("a valid calendar")
}

fn around_the_clock(zone: Tz) -> BusinessCalendar {
    every_day(hours(&[("00:00", "24:00")]), zone)
}

/// A night shift from 01:00 to 04:00 every day: in Berlin it spans the
/// hour the clocks skip in March and the hour they repeat in October.
fn night_shift(zone: Tz) -> BusinessCalendar {
    every_day(hours(&[("01:00", "04:00")]), zone)
}

// Named examples.

#[test]
fn a_p1_filed_late_on_the_friday_before_a_holiday_is_due_the_morning_after_it() {
    let calendar = cn_2025();
    // Friday 30 May 2025, ten minutes before closing; Dragon Boat Festival
    // takes Saturday to Monday off.
    let filed = local(Shanghai, "2025-05-30 17:50");
    let due = calendar.add_business_minutes(filed, 30).expect("2025 is covered");
    assert_eq!(due, local(Shanghai, "2025-06-03 09:20"));
}

#[test]
fn a_make_up_saturday_is_a_working_day() {
    let calendar = cn_2025();
    // Friday 7 February 2025; Saturday 8 February makes up for Spring Festival.
    let filed = local(Shanghai, "2025-02-07 17:50");
    let due = calendar.add_business_minutes(filed, 30).expect("2025 is covered");
    assert_eq!(due, local(Shanghai, "2025-02-08 09:20"));
    let saturday =
        calendar.business_time_between(local(Shanghai, "2025-02-08 00:00"), local(Shanghai, "2025-02-09 00:00"));
    assert_eq!(saturday, Ok(TimeDelta::hours(8)));
}

#[test]
fn the_spring_festival_week_has_no_business_time() {
    let calendar = cn_2025();
    let holiday =
        calendar.business_time_between(local(Shanghai, "2025-01-28 00:00"), local(Shanghai, "2025-02-05 00:00"));
    assert_eq!(holiday, Ok(TimeDelta::zero()));
}

#[test]
fn a_target_used_up_at_closing_time_is_due_at_closing_time() {
    let calendar = cn_2025();
    let filed = local(Shanghai, "2025-03-03 17:30");
    assert_eq!(
        calendar.add_business_minutes(filed, 30),
        Ok(local(Shanghai, "2025-03-03 18:00"))
    );
    assert_eq!(
        calendar.add_business_minutes(filed, 31),
        Ok(local(Shanghai, "2025-03-04 09:01"))
    );
}

#[test]
fn the_lunch_break_does_not_count() {
    let calendar = cn_2025();
    let filed = local(Shanghai, "2025-03-03 11:45");
    assert_eq!(
        calendar.add_business_minutes(filed, 30),
        Ok(local(Shanghai, "2025-03-03 13:15"))
    );
}

#[test]
fn a_day_past_the_holiday_data_is_never_counted_as_a_working_day() {
    let calendar = cn_2025();
    let late_december = local(Shanghai, "2025-12-31 17:00");
    assert_eq!(
        calendar.add_business_minutes(late_december, 60),
        Ok(local(Shanghai, "2025-12-31 18:00"))
    );
    assert_eq!(
        calendar.add_business_minutes(late_december, 61),
        Err(CalendarDataMissing {
            day: date("2026-01-01")
        })
    );
    let next_year = local(Shanghai, "2026-01-05 10:00");
    assert_eq!(
        calendar.business_time_between(late_december, next_year),
        Err(CalendarDataMissing {
            day: date("2026-01-01")
        })
    );
}

#[test]
fn spring_forward_shortens_a_night_shift_and_a_whole_day() {
    let day = (local(Berlin, "2026-03-29 00:00"), local(Berlin, "2026-03-30 00:00"));
    assert_eq!(
        night_shift(Berlin).business_time_between(day.0, day.1),
        Ok(TimeDelta::hours(2))
    );
    assert_eq!(
        around_the_clock(Berlin).business_time_between(day.0, day.1),
        Ok(TimeDelta::hours(23))
    );
    // From 01:00 two hours of work end at 04:00 CEST, as 02:00–03:00 never happens.
    let shift_start = local(Berlin, "2026-03-29 01:00");
    assert_eq!(
        night_shift(Berlin).add_business_minutes(shift_start, 120),
        Ok(local(Berlin, "2026-03-29 04:00"))
    );
    assert_eq!(
        night_shift(Berlin).add_business_minutes(shift_start, 121),
        Ok(local(Berlin, "2026-03-30 01:01"))
    );
}

#[test]
fn fall_back_lengthens_a_night_shift_and_a_whole_day() {
    let day = (local(Berlin, "2026-10-25 00:00"), local(Berlin, "2026-10-26 00:00"));
    assert_eq!(
        night_shift(Berlin).business_time_between(day.0, day.1),
        Ok(TimeDelta::hours(4))
    );
    assert_eq!(
        around_the_clock(Berlin).business_time_between(day.0, day.1),
        Ok(TimeDelta::hours(25))
    );
    let shift_start = local(Berlin, "2026-10-25 01:00");
    let due = night_shift(Berlin).add_business_minutes(shift_start, 240);
    assert_eq!(
        due,
        Ok(Utc
            .with_ymd_and_hms(2026, 10, 25, 3, 0, 0)
            .single()
            .expect("an instant"))
    );
}

#[test]
fn office_hours_keep_their_length_on_the_days_the_clocks_change() {
    let office =
        BusinessCalendar::new(Berlin, office_week(), BTreeSet::new(), BTreeMap::new(), None).expect("a calendar");
    // Friday to Monday around each change: two full office days.
    for (friday, tuesday) in [
        ("2026-03-27 00:00", "2026-03-31 00:00"),
        ("2026-10-23 00:00", "2026-10-27 00:00"),
    ] {
        let measured = office.business_time_between(local(Berlin, friday), local(Berlin, tuesday));
        assert_eq!(measured, Ok(TimeDelta::hours(16)));
    }
}

#[test]
fn overlapping_or_inconsistent_definitions_are_refused() {
    let overlapping = hours(&[("09:00", "12:00"), ("11:00", "18:00")]);
    let week = [overlapping, vec![], vec![], vec![], vec![], vec![], vec![]];
    let refused = BusinessCalendar::new(Shanghai, week, BTreeSet::new(), BTreeMap::new(), None);
    let problem = CalendarProblem::WeekdayHours {
        weekday: 0,
        problem: HoursProblem::Overlap { earlier: 0, later: 1 },
    };
    assert_eq!(refused, Err(problem));

    let both = BTreeSet::from([date("2025-02-08")]);
    let workdays = BTreeMap::from([(date("2025-02-08"), office_hours())]);
    let refused = BusinessCalendar::new(Shanghai, office_week(), both, workdays, None);
    assert_eq!(
        refused,
        Err(CalendarProblem::HolidayAndWorkday {
            day: date("2025-02-08")
        })
    );

    let empty: [Vec<Interval>; 7] = Default::default();
    let refused = BusinessCalendar::new(Shanghai, empty, BTreeSet::new(), BTreeMap::new(), None);
    assert_eq!(refused, Err(CalendarProblem::NoWorkingHours));
}

#[test]
fn times_of_day_read_and_print_as_hours_and_minutes() {
    assert_eq!(Interval::parse_minute("24:00"), Some(MINUTES_PER_DAY));
    assert_eq!(Interval::parse_minute("24:01"), None);
    assert_eq!(Interval::parse_minute("9:00"), None);
    assert_eq!(Interval::parse_minute("12:60"), None);
    assert_eq!(Interval::format_minute(13 * 60 + 5), "13:05");
    assert_eq!(Interval::new(600, 600), None);
}

// Properties, over the CN office calendar and Berlin calendars that cross
// both clock changes of 2026.

fn calendars() -> Vec<BusinessCalendar> {
    vec![cn_2025(), night_shift(Berlin), around_the_clock(Berlin), {
        let week = office_week();
        BusinessCalendar::new(Berlin, week, BTreeSet::new(), BTreeMap::new(), None).expect("a calendar")
    }]
}

/// An instant in the first 280 days of 2025 (CN) or 2026 (Berlin), to
/// the second, leaving room for the targets before the CN data end.
fn instant_in(calendar: usize) -> impl Strategy<Value = DateTime<Utc>> {
    let year_start = if calendar == 0 { 1_735_660_800 } else { 1_767_225_600 };
    (0i64..280 * 86_400).prop_map(move |offset| DateTime::from_timestamp(year_start + offset, 0).expect("an instant"))
}

fn case() -> impl Strategy<Value = (usize, DateTime<Utc>, u32)> {
    (0usize..4).prop_flat_map(|calendar| (Just(calendar), instant_in(calendar), 0u32..3_000))
}

proptest! {
    /// Whatever the start, inside working time or not, the business time
    /// from it to its due instant is exactly the minutes added.
    #[test]
    fn adding_then_measuring_gives_back_the_minutes((calendar, start, minutes) in case()) {
        let calendar = &calendars()[calendar];
        let due = calendar.add_business_minutes(start, minutes).expect("within the data");
        prop_assert_eq!(calendar.business_time_between(start, due), Ok(TimeDelta::minutes(i64::from(minutes))));
    }

    /// Measuring then adding gives back the end instant when it lies in
    /// working time or at the end of a stretch. An end in non-working time
    /// comes back as the end of the last stretch before it: the earliest
    /// instant by which that much business time has passed.
    #[test]
    fn measuring_then_adding_gives_back_an_end_in_working_time((calendar, start, minutes) in case(), extra in 0i64..60_000) {
        let calendars = calendars();
        let calendar = &calendars[calendar];
        let start = start - TimeDelta::seconds(start.timestamp() % 60);
        let end = start + TimeDelta::minutes(i64::from(minutes)) + TimeDelta::seconds(extra * 60);
        let measured = calendar.business_time_between(start, end).expect("within the data");
        let due = calendar.add_business_minutes(start, measured.num_minutes() as u32).expect("within the data");
        let end_in_working_time = calendar.business_time_between(end - TimeDelta::minutes(1), end) == Ok(TimeDelta::minutes(1));
        if end_in_working_time {
            prop_assert_eq!(due, end);
        } else {
            prop_assert!(due <= end);
            prop_assert_eq!(calendar.business_time_between(due, end), Ok(TimeDelta::zero()));
        }
    }

    /// Several spans from one start, answered in one walk (a target and its
    /// warning, in any order, some past the data), are due where each alone is.
    #[test]
    fn several_spans_in_one_walk_are_due_where_each_alone_is(
        (calendar, start, minutes) in case(),
        others in proptest::array::uniform3(-60i64..400_000),
    ) {
        let calendar = &calendars()[calendar];
        let spans = [
            TimeDelta::minutes(i64::from(minutes)),
            TimeDelta::seconds(others[0]),
            TimeDelta::minutes(i64::from(minutes) * 8 / 10),
            // Two far enough to pass the end of a calendar's data.
            TimeDelta::seconds(others[1] * 60),
            TimeDelta::seconds(others[2] * 60),
            // A warning at 100 %: the same span twice.
            TimeDelta::minutes(i64::from(minutes)),
            TimeDelta::zero(),
            -TimeDelta::seconds(others[0].abs() + 1),
        ];
        let together = calendar.add_business_times(start, spans);
        for (span, answer) in spans.into_iter().zip(together) {
            prop_assert_eq!(answer, calendar.add_business_time(start, span));
        }
    }

    /// More minutes are never due earlier, and a later start is never due earlier.
    #[test]
    fn due_instants_are_monotonic((calendar, start, minutes) in case(), more in 0u32..600, later in 0i64..200_000) {
        let calendar = &calendars()[calendar];
        let due = calendar.add_business_minutes(start, minutes).expect("within the data");
        prop_assert!(due >= start);
        prop_assert!(calendar.add_business_minutes(start, minutes + more).expect("within the data") >= due);
        let later_start = start + TimeDelta::seconds(later);
        prop_assert!(calendar.add_business_minutes(later_start, minutes).expect("within the data") >= due);
    }

    /// A due instant (for a positive target) ends working time: the second
    /// before it is worked, so it never falls on a holiday or a plain weekend.
    #[test]
    fn due_instants_are_never_on_a_holiday(start in instant_in(0), minutes in 1u32..3_000) {
        let calendar = cn_2025();
        let due = calendar.add_business_minutes(start, minutes).expect("within the data");
        let just_before = due - TimeDelta::seconds(1);
        prop_assert_eq!(calendar.business_time_between(just_before, due), Ok(TimeDelta::seconds(1)));
        let day = just_before.with_timezone(&Shanghai).date_naive();
        prop_assert!(!calendar.hours_on(day).expect("within the data").is_empty());
    }

    /// Answers never lean on a day past the data: either the due instant
    /// is within the covered days, or the answer names the first day past them.
    #[test]
    fn the_data_limit_is_respected(start in instant_in(0), minutes in 0u32..200_000) {
        let calendar = cn_2025();
        match calendar.add_business_minutes(start, minutes) {
            Ok(due) => prop_assert!(due <= local(Shanghai, "2026-01-01 00:00")),
            Err(missing) => prop_assert_eq!(missing.day, date("2026-01-01")),
        }
    }
}
