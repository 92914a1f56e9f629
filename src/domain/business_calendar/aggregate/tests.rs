use chrono::{NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;

use super::*;
use crate::domain::business_calendar::shipped::shipped_calendars;
use crate::domain::test_clock::meta;

const ADMIN: &str = "https://idp.example|ada";

fn hours(start: &str, end: &str) -> WorkingHours {
    WorkingHours {
        start: start.to_owned(),
        end: end.to_owned(),
    }
}

fn office() -> CalendarDefinition {
    let day = vec![hours("09:00", "12:00"), hours("13:00", "18:00")];
    CalendarDefinition {
        name: "Shanghai office".to_owned(),
        time_zone: "Asia/Shanghai".to_owned(),
        weekly_hours: WeeklyHours {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day,
            ..WeeklyHours::default()
        },
        holidays: vec![Holiday {
            date: date("2025-01-28"),
            name: "Spring Festival".to_owned(),
        }],
        workdays: vec![MakeUpWorkday {
            date: date("2025-02-08"),
            name: "Spring Festival".to_owned(),
            hours: vec![hours("09:00", "18:00")],
        }],
        covers_until: Some(date("2025-12-31")),
        source: None,
    }
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a test date")
}

fn pointers(result: Result<Vec<BusinessCalendarEvent>, DomainError>) -> Vec<String> {
    match result {
        Err(DomainError::Validation(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn defined(definition: CalendarDefinition) -> BusinessCalendarView {
    let cmd = DefineBusinessCalendar {
        code: "SH".to_owned(),
        definition,
    };
    let events = define(&cmd).expect("a valid calendar");
    evolve(None, &events[0], &meta(1, ADMIN)).expect("a first event")
}

#[test]
fn a_calendar_is_defined_under_the_id_of_its_code_at_version_one() {
    let calendar = defined(office());
    assert_eq!(calendar.id, business_calendar_id("SH"));
    assert_eq!(calendar.version, 1);
    assert_eq!(calendar.defined_by, ADMIN);
    let value = calendar.calendar().expect("a valid definition");
    let saturday = Shanghai
        .with_ymd_and_hms(2025, 2, 8, 0, 0, 0)
        .single()
        .expect("a local time")
        .to_utc();
    let sunday = Shanghai
        .with_ymd_and_hms(2025, 2, 9, 0, 0, 0)
        .single()
        .expect("a local time")
        .to_utc();
    assert_eq!(value.business_minutes_between(saturday, sunday), Ok(9 * 60));
}

#[test]
fn an_amendment_replaces_the_definition_and_counts_a_version() {
    let calendar = defined(office());
    let mut more = office();
    more.holidays.push(Holiday {
        date: date("2025-01-29"),
        name: "Spring Festival".to_owned(),
    });
    let events = amend(&calendar, &more).expect("a valid amendment");
    let amended = evolve(Some(calendar.clone()), &events[0], &meta(2, ADMIN)).expect("an amendment");
    assert_eq!(amended.version, 2);
    assert_eq!(amended.definition.holidays.len(), 2);
    assert_eq!(
        amend(&amended, &more),
        Err(DomainError::RuleViolated(messages::rule_calendar_unchanged()))
    );
}

#[test]
fn malformed_hours_are_refused_with_pointers() {
    let mut bad = office();
    bad.weekly_hours.monday = vec![hours("09:00", "12:00"), hours("11:00", "18:00")];
    bad.weekly_hours.tuesday = vec![hours("18:00", "09:00")];
    bad.weekly_hours.wednesday = vec![hours("9am", "24:00"), hours("24:00", "24:00")];
    bad.time_zone = "Asia/Peking".to_owned();
    let cmd = DefineBusinessCalendar {
        code: "no spaces".to_owned(),
        definition: bad,
    };
    assert_eq!(
        pointers(define(&cmd)),
        [
            "/code",
            "/definition/time_zone",
            "/definition/weekly_hours/monday/1/start",
            "/definition/weekly_hours/tuesday/0/end",
            "/definition/weekly_hours/wednesday/0/start",
            "/definition/weekly_hours/wednesday/1/start",
        ]
    );
}

#[test]
fn holidays_and_workdays_must_agree_with_each_other_and_the_data_limit() {
    let mut bad = office();
    bad.workdays[0].date = date("2025-01-28");
    bad.holidays.push(Holiday {
        date: date("2026-01-01"),
        name: "New Year".to_owned(),
    });
    bad.holidays.push(Holiday {
        date: date("2025-01-28"),
        name: "Twice".to_owned(),
    });
    let calendar = defined(office());
    assert_eq!(
        pointers(amend(&calendar, &bad)),
        ["/holidays/1/date", "/holidays/2/date", "/workdays/0/date"]
    );
    let mut never = office();
    never.weekly_hours = WeeklyHours::default();
    never.covers_until = None;
    never.holidays.clear();
    never.workdays.clear();
    assert_eq!(pointers(amend(&calendar, &never)), ["/weekly_hours"]);
}

#[test]
fn events_out_of_order_are_a_corrupt_stream() {
    let calendar = defined(office());
    let again = define(&DefineBusinessCalendar {
        code: "SH".to_owned(),
        definition: office(),
    })
    .expect("valid");
    assert!(evolve(Some(calendar), &again[0], &meta(2, ADMIN)).is_err());
    let amendment = BusinessCalendarEvent::Amended(BusinessCalendarAmended {
        id: business_calendar_id("SH"),
        definition: office(),
    });
    assert!(evolve(None, &amendment, &meta(1, ADMIN)).is_err());
}

#[test]
fn business_calendar_events_round_trip_through_storage() {
    let events = define(&DefineBusinessCalendar {
        code: "SH".to_owned(),
        definition: office(),
    })
    .expect("valid");
    for e in events {
        let back = BusinessCalendarEvent::from_stored(e.event_type(), e.schema_version(), e.payload_json());
        assert_eq!(back, Ok(e));
    }
    assert!(BusinessCalendarEvent::from_stored("business_calendar.amended", 2, serde_json::json!({})).is_err());
}

#[test]
fn the_shipped_calendars_are_valid_and_cn_knows_the_2025_spring_festival() {
    let shipped = shipped_calendars().expect("the committed files read");
    let codes: Vec<&str> = shipped.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["24x7", "CN"]);
    for cmd in &shipped {
        assert!(define(cmd).is_ok(), "{} is valid", cmd.code);
    }
    let cn = &shipped[1].definition;
    let holiday = |d: &str| cn.holidays.iter().any(|h| h.date == date(d));
    let workday = |d: &str| cn.workdays.iter().any(|w| w.date == date(d));
    assert!(date("2025-01-28").iter_days().take(8).all(|d| holiday(&d.to_string())));
    assert!(workday("2025-01-26") && workday("2025-02-08"));
    // National Day 2026, made up on Sunday 20 September and Saturday 10 October.
    assert!(date("2026-10-01").iter_days().take(7).all(|d| holiday(&d.to_string())));
    assert!(workday("2026-09-20") && workday("2026-10-10"));
    assert_eq!(cn.covers_until, Some(date("2026-12-31")));
}
