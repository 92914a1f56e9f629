//! Freeze windows: periods in which no change may be scheduled on a service
//! (or on every service), such as the end of a quarter. All windows live in
//! one admin-managed stream, so scheduling reads a single, small view.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::event::{StoredPayload, decode};
use crate::domain::text::{self, LABEL, LONG_TEXT};
use crate::domain::zoned;
use crate::domain::{DomainError, EventMeta, StreamCorrupt, Validator, messages};

/// The one stream that holds every freeze window. Fixed forever.
pub const FREEZE_STREAM_ID: Uuid = Uuid::from_u128(0x6f70_736c_6564_4000_8000_0066_7265_657a);

/// Longer freezes are almost always a typo in the end date, and would
/// block all work on a service for a quarter.
const MAX_FREEZE: TimeDelta = TimeDelta::days(90);

/// Declares a freeze window. `end` must be after `start`, in the future,
/// and at most 90 days after `start`; a local time must exist exactly once
/// in `time_zone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "service": "payments-db",
    "start": "2026-11-10T00:00",
    "end": "2026-11-12T00:00",
    "time_zone": "Asia/Shanghai",
    "reason": "Singles' Day sales: no changes to payments."
})))]
pub struct DeclareFreeze {
    /// The service frozen, 1 to 100 characters (Unicode scalar values), not
    /// blank; every service if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub service: Option<String>,
    /// RFC 3339 with an offset, or a local `YYYY-MM-DDTHH:MM[:SS]` in `time_zone`.
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+\u2212-][0-9]{2}:[0-5][0-9])|T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$"
    )]
    pub start: String,
    /// As `start`; after it, in the future, and at most 90 days later.
    #[schema(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+\u2212-][0-9]{2}:[0-5][0-9])|T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)$"
    )]
    pub end: String,
    /// IANA zone name for local times and for display, such as
    /// `Europe/Berlin` (case matters); `Asia/Shanghai` if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = r"^[A-Za-z][A-Za-z0-9_+/-]*$")]
    pub time_zone: Option<String>,
    /// Shown to whoever tries to schedule into it: 1 to 10,000 characters
    /// (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Lifts a freeze window early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "The sales event was moved to December."})))]
pub struct LiftFreeze {
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// A freeze window was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FreezeDeclared {
    pub id: Uuid,
    /// Every service if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// IANA zone name the window was given in and is shown in.
    pub time_zone: String,
    pub reason: String,
}

/// A freeze window was lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FreezeLifted {
    pub id: Uuid,
    pub reason: String,
}

/// One event of the freeze stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum FreezeEvent {
    #[serde(rename = "freeze.declared")]
    Declared(FreezeDeclared),
    #[serde(rename = "freeze.lifted")]
    Lifted(FreezeLifted),
}

const DECLARED: &str = "freeze.declared";
const LIFTED: &str = "freeze.lifted";

impl FreezeEvent {
    /// Every event type the freeze stream may contain.
    pub const EVENT_TYPES: &[&str] = &[DECLARED, LIFTED];

    /// The stored type name; equal to the `type` tag of the JSON form.
    pub fn event_type(&self) -> &'static str {
        match self {
            FreezeEvent::Declared(_) => DECLARED,
            FreezeEvent::Lifted(_) => LIFTED,
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The payload object alone, as stored next to the type and version.
    pub fn payload_json(&self) -> Value {
        let value = match self {
            FreezeEvent::Declared(p) => serde_json::to_value(p),
            FreezeEvent::Lifted(p) => serde_json::to_value(p),
        };
        // Plain structs of strings, times and UUIDs: cannot fail.
        value.expect("freeze payloads always serialize to JSON")
    }

    /// Rebuilds an event from its stored parts; upcasters go here.
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<FreezeEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (DECLARED, 1) => decode(event_type, payload).map(FreezeEvent::Declared),
            (LIFTED, 1) => decode(event_type, payload).map(FreezeEvent::Lifted),
            (known, version) if FreezeEvent::EVENT_TYPES.contains(&known) => Err(StreamCorrupt(format!(
                "{known} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!("{unknown} is not a freeze event type"))),
        }
    }
}

impl crate::domain::DomainEvent for FreezeEvent {
    fn event_type(&self) -> &'static str {
        FreezeEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        FreezeEvent::schema_version(self)
    }

    fn payload_json(&self) -> Value {
        FreezeEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<FreezeEvent, StreamCorrupt> {
        FreezeEvent::from_stored(event_type, schema_version, payload)
    }
}

/// Why, when and by whom a freeze window was lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FreezeLift {
    /// Why the freeze was lifted early.
    pub reason: String,
    /// Actor id of whoever lifted it.
    pub by: String,
    /// When the freeze was lifted (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
}

/// One freeze window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FreezeWindow {
    /// The freeze window's identifier (UUID); name it to lift the window.
    pub id: Uuid,
    /// Every service if absent.
    pub service: Option<String>,
    /// When the freeze starts (RFC 3339 date-time, UTC).
    pub start: DateTime<Utc>,
    /// When the freeze ends (RFC 3339 date-time, UTC); after `start`, at most
    /// 90 days later.
    pub end: DateTime<Utc>,
    /// IANA zone name of `start_local` and `end_local`: the zone the window was
    /// declared in, or the calendar's zone in a calendar.
    pub time_zone: String,
    /// `start` in `time_zone`, RFC 3339.
    pub start_local: String,
    /// `end` in `time_zone`, RFC 3339.
    pub end_local: String,
    /// Why changes are frozen; shown to whoever tries to schedule into the
    /// window.
    pub reason: String,
    /// Actor id of whoever declared it.
    pub declared_by: String,
    /// When the window was declared (RFC 3339 date-time, UTC).
    pub declared_at: DateTime<Utc>,
    /// Why, when and by whom the window was lifted early; `null` while it is in
    /// force.
    pub lifted: Option<FreezeLift>,
}

/// Every freeze window ever declared, in the order they were declared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FreezeCalendar {
    pub windows: Vec<FreezeWindow>,
    /// Version of the last event folded in; 0 before the first.
    pub version: u64,
}

impl FreezeCalendar {
    /// The windows that forbid work on any of `services` in `[start, end)`:
    /// not lifted, for every service or one of these, and overlapping.
    pub fn active_overlapping(
        &self,
        services: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<&FreezeWindow> {
        self.windows
            .iter()
            .filter(|w| w.lifted.is_none())
            .filter(|w| w.service.as_ref().is_none_or(|s| services.contains(s)))
            .filter(|w| w.start < end && start < w.end)
            .collect()
    }
}

/// Validates a new freeze window and records it under `id`, chosen by the caller.
pub fn declare_freeze(id: Uuid, cmd: &DeclareFreeze, now: DateTime<Utc>) -> Result<Vec<FreezeEvent>, DomainError> {
    let mut v = Validator::new();
    text::check_opt(&mut v, "/service", cmd.service.as_deref(), LABEL);
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    let window = zoned::parse_window(
        &mut v,
        (&cmd.start, &cmd.end, cmd.time_zone.as_deref()),
        now,
        MAX_FREEZE,
        messages::field_freeze_over(),
    );
    v.finish()?;
    let Some(zoned::Window { zone, start, end }) = window else {
        return Err(DomainError::Validation(Vec::new()));
    };
    Ok(vec![FreezeEvent::Declared(FreezeDeclared {
        id,
        service: cmd.service.clone(),
        start,
        end,
        time_zone: zone.name().to_owned(),
        reason: cmd.reason.clone(),
    })])
}

/// Lifts the window `id`.
pub fn lift_freeze(state: &FreezeCalendar, id: Uuid, cmd: &LiftFreeze) -> Result<Vec<FreezeEvent>, DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.finish()?;
    let Some(window) = state.windows.iter().find(|w| w.id == id) else {
        return Err(DomainError::RuleViolated(messages::rule_no_such_freeze(id)));
    };
    if window.lifted.is_some() {
        return Err(DomainError::RuleViolated(messages::rule_freeze_already_lifted(id)));
    }
    Ok(vec![FreezeEvent::Lifted(FreezeLifted {
        id,
        reason: cmd.reason.clone(),
    })])
}

/// Folds one event into the freeze calendar. A second declaration of an id,
/// or a lift of an unknown one, is a corrupt stream.
pub fn evolve_freezes(
    state: Option<FreezeCalendar>,
    event: &FreezeEvent,
    meta: &EventMeta,
) -> Result<FreezeCalendar, StreamCorrupt> {
    let mut calendar = state.unwrap_or_default();
    match event {
        FreezeEvent::Declared(e) => {
            if calendar.windows.iter().any(|w| w.id == e.id) {
                return Err(StreamCorrupt(format!(
                    "freeze window {} was declared twice (second time at version {})",
                    e.id, meta.version
                )));
            }
            calendar.windows.push(FreezeWindow {
                id: e.id,
                service: e.service.clone(),
                start: e.start,
                end: e.end,
                time_zone: e.time_zone.clone(),
                start_local: zoned::local(e.start, &e.time_zone),
                end_local: zoned::local(e.end, &e.time_zone),
                reason: e.reason.clone(),
                declared_by: meta.actor.to_owned(),
                declared_at: meta.recorded_at,
                lifted: None,
            });
        }
        FreezeEvent::Lifted(e) => {
            let Some(window) = calendar.windows.iter_mut().find(|w| w.id == e.id) else {
                return Err(StreamCorrupt(format!(
                    "freeze window {} was lifted at version {} but never declared",
                    e.id, meta.version
                )));
            };
            window.lifted = Some(FreezeLift {
                reason: e.reason.clone(),
                by: meta.actor.to_owned(),
                at: meta.recorded_at,
            });
        }
    }
    calendar.version = meta.version;
    Ok(calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_clock::{at, meta};

    const ADMIN: &str = "https://idp.example|ada";
    const ID: Uuid = Uuid::from_u128(0xf1);

    fn declaring(service: Option<&str>, start: &str, end: &str) -> DeclareFreeze {
        DeclareFreeze {
            service: service.map(str::to_owned),
            start: start.to_owned(),
            end: end.to_owned(),
            time_zone: None,
            reason: "Quarter-end close".to_owned(),
        }
    }

    fn pointers(result: Result<Vec<FreezeEvent>, DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::Validation(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn declared(cmd: &DeclareFreeze) -> FreezeCalendar {
        let events = declare_freeze(ID, cmd, at(0)).unwrap();
        evolve_freezes(None, &events[0], &meta(1, ADMIN)).unwrap()
    }

    #[test]
    fn a_freeze_is_declared_in_local_time_and_stored_in_utc() {
        // at(0) is 2025-03-01T09:00:00Z.
        let cal = declared(&declaring(Some("billing"), "2025-03-02T10:00", "2025-03-03T10:00"));
        let w = &cal.windows[0];
        assert_eq!(w.start.to_rfc3339(), "2025-03-02T02:00:00+00:00");
        assert_eq!(w.start_local, "2025-03-02T10:00:00+08:00");
        assert_eq!(w.time_zone, "Asia/Shanghai");
        assert_eq!(w.declared_by, ADMIN);
        assert_eq!(cal.version, 1);
    }

    #[test]
    fn a_freeze_must_end_after_it_starts_in_the_future_within_90_days() {
        let r = declare_freeze(ID, &declaring(None, "2025-03-03T10:00", "2025-03-02T10:00"), at(0));
        assert_eq!(pointers(r), ["/end"]);
        let r = declare_freeze(ID, &declaring(None, "2025-02-01T10:00", "2025-02-02T10:00"), at(0));
        assert_eq!(pointers(r), ["/end"]);
        let r = declare_freeze(ID, &declaring(None, "2025-03-02T10:00", "2025-06-02T10:00"), at(0));
        assert_eq!(pointers(r), ["/end"]);
        assert!(declare_freeze(ID, &declaring(None, "2025-03-02T10:00", "2025-05-31T10:00"), at(0)).is_ok());
        let mut bad = declaring(Some(""), "x", "2025-03-02T10:00");
        bad.time_zone = Some("Europe/Nowhere".to_owned());
        assert_eq!(pointers(declare_freeze(ID, &bad, at(0))), ["/service", "/time_zone"]);
    }

    #[test]
    fn lifting_needs_a_known_window_not_yet_lifted() {
        let cal = declared(&declaring(None, "2025-03-02T10:00", "2025-03-03T10:00"));
        let lift = LiftFreeze {
            reason: "Close done early".to_owned(),
        };
        assert!(matches!(
            lift_freeze(&cal, Uuid::from_u128(9), &lift),
            Err(DomainError::RuleViolated(_))
        ));
        let events = lift_freeze(&cal, ID, &lift).unwrap();
        let cal = evolve_freezes(Some(cal), &events[0], &meta(2, ADMIN)).unwrap();
        assert_eq!(cal.windows[0].lifted.as_ref().map(|l| l.by.as_str()), Some(ADMIN));
        assert_eq!(
            lift_freeze(&cal, ID, &lift),
            Err(DomainError::RuleViolated(messages::rule_freeze_already_lifted(ID)))
        );
    }

    #[test]
    fn active_overlapping_skips_lifted_other_services_and_disjoint_windows() {
        let mut cal = declared(&declaring(Some("billing"), "2025-03-02T10:00", "2025-03-03T10:00"));
        let start = cal.windows[0].start;
        let end = cal.windows[0].end;
        let billing = ["billing".to_owned()];
        let dns = ["dns".to_owned()];
        assert_eq!(cal.active_overlapping(&billing, start, end).len(), 1);
        assert!(cal.active_overlapping(&dns, start, end).is_empty());
        assert!(
            cal.active_overlapping(&billing, end, end + TimeDelta::hours(1))
                .is_empty()
        );
        // A freeze of every service applies to any.
        let all = declare_freeze(
            Uuid::from_u128(0xf2),
            &declaring(None, "2025-03-02T10:00", "2025-03-03T10:00"),
            at(0),
        )
        .unwrap();
        cal = evolve_freezes(Some(cal), &all[0], &meta(2, ADMIN)).unwrap();
        assert_eq!(cal.active_overlapping(&dns, start, end).len(), 1);
        let lift = FreezeEvent::Lifted(FreezeLifted {
            id: Uuid::from_u128(0xf2),
            reason: "no".to_owned(),
        });
        cal = evolve_freezes(Some(cal), &lift, &meta(3, ADMIN)).unwrap();
        assert!(cal.active_overlapping(&dns, start, end).is_empty());
    }

    #[test]
    fn freeze_events_round_trip_through_storage() {
        let events = [
            declare_freeze(
                ID,
                &declaring(Some("billing"), "2025-03-02T10:00", "2025-03-03T10:00"),
                at(0),
            )
            .unwrap()
            .remove(0),
            declare_freeze(ID, &declaring(None, "2025-03-02T10:00", "2025-03-03T10:00"), at(0))
                .unwrap()
                .remove(0),
            FreezeEvent::Lifted(FreezeLifted {
                id: ID,
                reason: "done".to_owned(),
            }),
        ];
        for e in events {
            let back = FreezeEvent::from_stored(e.event_type(), e.schema_version(), e.payload_json()).unwrap();
            assert_eq!(back, e);
        }
        assert!(FreezeEvent::from_stored("freeze.lifted", 2, serde_json::json!({})).is_err());
        assert!(FreezeEvent::from_stored("freeze.thawed", 1, serde_json::json!({})).is_err());
    }
}
