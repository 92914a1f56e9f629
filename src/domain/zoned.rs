//! Times as people type them. A client gives either an instant (RFC 3339
//! with an offset) or a local wall-clock time that only means something
//! together with an IANA time zone; both are stored as UTC, and views show
//! the local rendering next to it so nobody converts in their head.

use chrono::{DateTime, LocalResult, NaiveDateTime, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Message, Validator, messages};

/// The zone local times are read in when a command names none: the
/// operators this server was built for work in China Standard Time.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// The shape of a time a command gives, as an ECMA-262 regular expression
/// for the schema: an RFC 3339 instant with an offset, as chrono reads it
/// (`T`, `t` or a space between date and time, any number of digits after
/// the decimal point, `Z`, `z` or an offset whose sign may be U+2212), or a
/// local `YYYY-MM-DDTHH:MM[:SS]`. chrono also reads local times with fields
/// left unpadded, white space before a field, or a year of another length
/// with a sign; the schema leaves those out on purpose, as no client should
/// count on them. Dates that do not exist (30 February) and times a zone
/// skips or repeats fit the pattern and are refused all the same.
pub const TIME_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+\u2212-][0-9]{2}:[0-5][0-9])|T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$";

/// The shape of an IANA time zone name, as an ECMA-262 regular expression
/// for the schema. Only the names of the tz database this build carries are
/// accepted (case-sensitively), too many to list in the schema.
pub const ZONE_PATTERN: &str = r"^[A-Za-z][A-Za-z0-9_+/-]*$";

/// The longest time zone name of the tz database, `America/Argentina/ComodRivadavia`.
pub const ZONE_MAX_LENGTH: usize = 32;

/// Local date-time shapes accepted without an offset, longest first.
const LOCAL_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"];

/// Resolves an IANA zone name (the default when absent); an unknown name is
/// a field error at `pointer`.
pub fn parse_zone(v: &mut Validator, pointer: &str, name: Option<&str>) -> Option<Tz> {
    let name = name.unwrap_or(DEFAULT_TIME_ZONE);
    match name.parse::<Tz>() {
        Ok(zone) => Some(zone),
        Err(_) => {
            v.push(pointer, messages::field_unknown_time_zone(name));
            None
        }
    }
}

/// Reads `input` as an RFC 3339 instant, or else as a local date-time
/// (`YYYY-MM-DDTHH:MM[:SS]`) in `zone`. A local time the zone skips or
/// repeats (daylight saving) is refused rather than guessed: an hour off is
/// worse than asking again.
pub fn parse_instant(v: &mut Validator, pointer: &str, input: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(input) {
        return Some(t.with_timezone(&Utc));
    }
    let Some(naive) = LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(input, f).ok())
    else {
        v.push(pointer, messages::field_time_shape());
        return None;
    };
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => {
            v.push(
                pointer,
                messages::field_time_ambiguous(
                    input,
                    zone.name(),
                    a.to_rfc3339_opts(SecondsFormat::Secs, false),
                    b.to_rfc3339_opts(SecondsFormat::Secs, false),
                ),
            );
            None
        }
        LocalResult::None => {
            v.push(pointer, messages::field_time_skipped(input, zone.name()));
            None
        }
    }
}

/// A window entered as two times in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub zone: Tz,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Parses `/start` and `/end` in `/time_zone` and checks the window: its end
/// after its start and after `now` (`ended` says why that matters), and at
/// most `max` long. Errors go to `v`; `None` when any field is wrong.
pub fn parse_window(
    v: &mut Validator,
    (start, end, zone): (&str, &str, Option<&str>),
    now: DateTime<Utc>,
    max: TimeDelta,
    ended: Message,
) -> Option<Window> {
    let zone = parse_zone(v, "/time_zone", zone)?;
    let start = parse_instant(v, "/start", start, zone);
    let end = parse_instant(v, "/end", end, zone);
    let (start, end) = (start?, end?);
    if end <= start {
        v.push("/end", messages::field_end_not_after_start());
    } else if end <= now {
        v.push("/end", ended);
    } else if end - start > max {
        v.push("/end", messages::field_window_too_long(max.num_days()));
    } else {
        return Some(Window { zone, start, end });
    }
    None
}

/// `t` as RFC 3339 in the zone named `zone_name`, to the second. Names come
/// from stored events, which were validated; an unknown one (a zone dropped
/// from a later tz database) falls back to UTC rather than failing a view.
pub fn local(t: DateTime<Utc>, zone_name: &str) -> String {
    match zone_name.parse::<Tz>() {
        Ok(zone) => t.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, false),
        Err(_) => t.to_rfc3339_opts(SecondsFormat::Secs, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DomainError, FieldError};

    fn parse(input: &str, zone: &str) -> Result<DateTime<Utc>, Vec<FieldError>> {
        let mut v = Validator::new();
        let zone = parse_zone(&mut v, "/time_zone", Some(zone)).unwrap();
        let t = parse_instant(&mut v, "/start", input, zone);
        match v.finish() {
            Ok(()) => Ok(t.unwrap()),
            Err(DomainError::Validation(e)) => Err(e),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn local_time_in_shanghai_is_eight_hours_ahead_of_utc() {
        assert_eq!(
            parse("2026-03-01T10:00", "Asia/Shanghai"),
            Ok(utc("2026-03-01T02:00:00Z"))
        );
        assert_eq!(
            parse("2026-03-01T10:00:30", "Asia/Shanghai"),
            Ok(utc("2026-03-01T02:00:30Z"))
        );
        assert_eq!(
            local(utc("2026-03-01T02:00:00Z"), "Asia/Shanghai"),
            "2026-03-01T10:00:00+08:00"
        );
    }

    #[test]
    fn the_default_zone_is_shanghai() {
        let mut v = Validator::new();
        let zone = parse_zone(&mut v, "/time_zone", None).unwrap();
        assert_eq!(zone.name(), DEFAULT_TIME_ZONE);
        assert_eq!(
            parse_instant(&mut v, "/start", "2026-03-01T10:00", zone),
            Some(utc("2026-03-01T02:00:00Z"))
        );
        assert!(v.finish().is_ok());
    }

    #[test]
    fn an_instant_with_an_offset_ignores_the_zone() {
        assert_eq!(
            parse("2026-03-01T10:00:00+01:00", "Asia/Shanghai"),
            Ok(utc("2026-03-01T09:00:00Z"))
        );
        assert_eq!(
            parse("2026-03-01T10:00:00Z", "Europe/Berlin"),
            Ok(utc("2026-03-01T10:00:00Z"))
        );
    }

    #[test]
    fn an_ambiguous_local_time_is_refused_and_asks_for_an_offset() {
        // Berlin's clocks go back from 03:00 to 02:00 on 25 October 2026.
        let errors = parse("2026-10-25T02:30", "Europe/Berlin").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/start");
        assert_eq!(
            errors[0].message,
            messages::field_time_ambiguous(
                "2026-10-25T02:30",
                "Europe/Berlin",
                "2026-10-25T02:30:00+02:00",
                "2026-10-25T02:30:00+01:00"
            )
        );
    }

    #[test]
    fn a_nonexistent_local_time_is_refused() {
        // Berlin skips from 02:00 to 03:00 on 29 March 2026.
        let errors = parse("2026-03-29T02:30", "Europe/Berlin").unwrap_err();
        assert_eq!(errors[0].pointer, "/start");
        assert_eq!(errors[0].message.id(), "field-time-skipped");
    }

    #[test]
    fn an_unknown_zone_is_refused() {
        let mut v = Validator::new();
        assert_eq!(parse_zone(&mut v, "/time_zone", Some("Mars/Olympus_Mons")), None);
        assert_eq!(parse_zone(&mut v, "/time_zone", Some("CST+8")), None);
        let Err(DomainError::Validation(errors)) = v.finish() else {
            panic!("unknown zones must be refused");
        };
        assert_eq!(
            errors.iter().map(|e| e.pointer.as_str()).collect::<Vec<_>>(),
            ["/time_zone"; 2]
        );
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in ["2026-03-01", "2026-03-01 10:00", "10:00", "2026-02-30T10:00", ""] {
            assert!(parse(bad, "Asia/Shanghai").is_err(), "{bad}");
        }
    }

    fn schema(pattern: &str, max_length: Option<usize>) -> jsonschema::Validator {
        let mut schema = serde_json::json!({"type": "string", "pattern": pattern});
        if let Some(max) = max_length {
            schema["maxLength"] = max.into();
        }
        jsonschema::draft202012::new(&schema).expect("the pattern compiles")
    }

    #[test]
    fn every_zone_name_fits_the_schema_and_other_shapes_do_not() {
        let zone = schema(ZONE_PATTERN, Some(ZONE_MAX_LENGTH));
        for tz in chrono_tz::TZ_VARIANTS {
            assert!(zone.is_valid(&serde_json::json!(tz.name())), "{}", tz.name());
        }
        let longest = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name().len()).max();
        assert_eq!(longest, Some(ZONE_MAX_LENGTH));
        for bad in [
            "",
            "Asia/Shanghai ",
            "/Asia",
            "Asia Shanghai",
            "上海",
            "Europe/Berlin\n",
        ] {
            assert!(!zone.is_valid(&serde_json::json!(bad)), "{bad:?}");
            let mut v = Validator::new();
            assert_eq!(parse_zone(&mut v, "/time_zone", Some(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn times_that_fit_the_schema_are_read_and_the_usual_mistakes_fit_neither() {
        let time = schema(TIME_PATTERN, None);
        let fits = |s: &str| time.is_valid(&serde_json::json!(s));
        for good in [
            "2026-03-01T10:00",
            "2026-03-01T10:00:30",
            "2026-03-01T10:00:00+08:00",
            "2026-03-01T10:00:00-03:30",
            "2026-03-01T10:00:00\u{2212}03:30",
            "2026-03-01T10:00:00Z",
            "2026-03-01t10:00:00z",
            "2026-03-01 10:00:00Z",
            "2026-03-01T10:00:00.123456789123Z",
        ] {
            assert!(fits(good), "{good}");
            assert!(parse(good, "Asia/Shanghai").is_ok(), "{good}");
        }
        for bad in [
            "2026-03-01",
            "2026-03-01 10:00",
            "2026-03-01T10",
            "2026-03-01T10:00:00+0800",
            "2026-03-01T10:00:00+08",
            "2026-03-01T10:00Z",
            "10:00",
            "",
            "2026-03-01T10:00:00.Z",
            "2026-03-01T10:00 ",
        ] {
            assert!(!fits(bad), "{bad}");
            assert!(parse(bad, "Asia/Shanghai").is_err(), "{bad}");
        }
        // Fit the shape, but no such day: refused by the server alone.
        assert!(fits("2026-02-30T10:00"));
        assert!(parse("2026-02-30T10:00", "Asia/Shanghai").is_err());
        // chrono's leniency that the schema does not promise.
        for lenient in ["2026-3-1T10:00", "2026-03-01T 10:00", "+2026-03-01T10:00"] {
            assert!(!fits(lenient), "{lenient}");
            assert!(parse(lenient, "Asia/Shanghai").is_ok(), "{lenient}");
        }
    }

    #[test]
    fn local_rendering_falls_back_to_utc_for_an_unknown_zone() {
        assert_eq!(
            local(utc("2026-03-01T02:00:00Z"), "Nowhere/Else"),
            "2026-03-01T02:00:00+00:00"
        );
        assert_eq!(
            local(utc("2026-07-01T02:00:00Z"), "Europe/Berlin"),
            "2026-07-01T04:00:00+02:00"
        );
    }
}
