//! The change calendar: one stream per service, holding the windows changes
//! are booked for. Scheduling a change writes one booking on each affected
//! service's calendar, so a conflict check reads only the calendars of the
//! services involved, and each calendar alone tells who touches its service
//! when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::event::{StoredPayload, decode};
use crate::domain::link::TicketRef;
use crate::domain::{EventMeta, StreamCorrupt};

/// The namespace calendar stream ids are derived in. Fixed forever: a new
/// value would orphan every existing calendar.
pub const CALENDAR_NAMESPACE: Uuid = Uuid::from_u128(0x6f70_736c_6564_4000_8000_6361_6c65_6e64);

/// The stream id of `service`'s calendar: a UUID v5 of the exact service
/// name, so every caller finds the same stream without a lookup table.
pub fn calendar_stream_id(service: &str) -> Uuid {
    Uuid::new_v5(&CALENDAR_NAMESPACE, service.as_bytes())
}

/// A change was booked on the service, replacing its earlier booking there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarBooked {
    pub service: String,
    pub change: TicketRef,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Changes with overlapping bookings that were knowingly overridden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<TicketRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

/// A change's booking on the service was released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarReleased {
    pub service: String,
    pub change: TicketRef,
    pub reason: String,
}

/// One event of a service calendar's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum CalendarEvent {
    #[serde(rename = "calendar.booked")]
    Booked(CalendarBooked),
    #[serde(rename = "calendar.released")]
    Released(CalendarReleased),
}

const BOOKED: &str = "calendar.booked";
const RELEASED: &str = "calendar.released";

impl CalendarEvent {
    /// Every event type a calendar stream may contain.
    pub const EVENT_TYPES: &[&str] = &[BOOKED, RELEASED];

    /// The stored type name; equal to the `type` tag of the JSON form.
    pub fn event_type(&self) -> &'static str {
        match self {
            CalendarEvent::Booked(_) => BOOKED,
            CalendarEvent::Released(_) => RELEASED,
        }
    }

    /// The schema version this build writes for the event's type.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The payload object alone, as stored next to the type and version.
    pub fn payload_json(&self) -> Value {
        let value = match self {
            CalendarEvent::Booked(p) => serde_json::to_value(p),
            CalendarEvent::Released(p) => serde_json::to_value(p),
        };
        // Plain structs of strings, times and UUIDs: cannot fail.
        value.expect("calendar payloads always serialize to JSON")
    }

    /// Rebuilds an event from its stored parts; upcasters go here.
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<CalendarEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (BOOKED, 1) => decode(event_type, payload).map(CalendarEvent::Booked),
            (RELEASED, 1) => decode(event_type, payload).map(CalendarEvent::Released),
            (known, version) if CalendarEvent::EVENT_TYPES.contains(&known) => Err(StreamCorrupt(format!(
                "{known} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!("{unknown} is not a calendar event type"))),
        }
    }
}

impl crate::domain::DomainEvent for CalendarEvent {
    fn event_type(&self) -> &'static str {
        CalendarEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        CalendarEvent::schema_version(self)
    }

    fn payload_json(&self) -> Value {
        CalendarEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<CalendarEvent, StreamCorrupt> {
        CalendarEvent::from_stored(event_type, schema_version, payload)
    }
}

/// One change's booking on a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Booking {
    pub change: TicketRef,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Booking {
    /// Whether the booking overlaps the half-open window `[start, end)`:
    /// back-to-back windows do not conflict.
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end && start < self.end
    }
}

/// A service's calendar: its current bookings, earliest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceCalendar {
    pub service: String,
    pub bookings: Vec<Booking>,
    /// Version of the last event folded in; 0 for a calendar with no stream yet.
    pub version: u64,
}

impl ServiceCalendar {
    /// The calendar of a service nothing was ever booked on.
    pub fn empty(service: &str) -> ServiceCalendar {
        ServiceCalendar {
            service: service.to_owned(),
            bookings: Vec::new(),
            version: 0,
        }
    }
}

/// Folds one event into a service's calendar. An event for another service,
/// or a release before any booking, is a corrupt stream.
pub fn evolve_calendar(
    state: Option<ServiceCalendar>,
    event: &CalendarEvent,
    meta: &EventMeta,
) -> Result<ServiceCalendar, StreamCorrupt> {
    let service = match event {
        CalendarEvent::Booked(e) => &e.service,
        CalendarEvent::Released(e) => &e.service,
    };
    let mut calendar = match (state, event) {
        (Some(c), _) if &c.service != service => {
            return Err(StreamCorrupt(format!(
                "the calendar of {} holds an event for {service} at version {}",
                c.service, meta.version
            )));
        }
        (Some(c), _) => c,
        (None, CalendarEvent::Booked(_)) => ServiceCalendar::empty(service),
        (None, other) => {
            return Err(StreamCorrupt(format!(
                "a calendar stream must start with calendar.booked, not {}",
                other.event_type()
            )));
        }
    };
    match event {
        CalendarEvent::Booked(e) => {
            calendar.bookings.retain(|b| b.change.id != e.change.id);
            calendar.bookings.push(Booking {
                change: e.change.clone(),
                start: e.start,
                end: e.end,
            });
            calendar.bookings.sort_by_key(|b| (b.start, b.end));
        }
        CalendarEvent::Released(e) => calendar.bookings.retain(|b| b.change.id != e.change.id),
    }
    calendar.version = meta.version;
    Ok(calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_clock::{at, meta};
    use crate::domain::ticket::TicketKind;

    fn change(n: u128) -> TicketRef {
        TicketRef {
            id: Uuid::from_u128(n),
            number: format!("CHG-2026-{n:06}"),
            kind: TicketKind::Change,
        }
    }

    fn booked(n: u128, start: i64, end: i64) -> CalendarEvent {
        CalendarEvent::Booked(CalendarBooked {
            service: "billing".to_owned(),
            change: change(n),
            start: at(start),
            end: at(end),
            overrides: Vec::new(),
            override_reason: None,
        })
    }

    #[test]
    fn calendar_stream_ids_are_stable_and_per_exact_service_name() {
        assert_eq!(calendar_stream_id("billing"), calendar_stream_id("billing"));
        assert_ne!(calendar_stream_id("billing"), calendar_stream_id("Billing"));
        assert_eq!(calendar_stream_id("billing").get_version_num(), 5);
    }

    #[test]
    fn booking_the_same_change_again_replaces_its_earlier_booking() {
        let mut cal = Some(evolve_calendar(None, &booked(1, 100, 200), &meta(1, "a")).unwrap());
        cal = Some(evolve_calendar(cal, &booked(2, 10, 20), &meta(2, "a")).unwrap());
        let cal = evolve_calendar(cal, &booked(1, 300, 400), &meta(3, "a")).unwrap();
        assert_eq!(
            cal.bookings,
            [
                Booking {
                    change: change(2),
                    start: at(10),
                    end: at(20)
                },
                Booking {
                    change: change(1),
                    start: at(300),
                    end: at(400)
                },
            ]
        );
        assert_eq!(cal.version, 3);
    }

    #[test]
    fn releasing_removes_the_changes_booking() {
        let cal = evolve_calendar(None, &booked(1, 100, 200), &meta(1, "a")).unwrap();
        let released = CalendarEvent::Released(CalendarReleased {
            service: "billing".to_owned(),
            change: change(1),
            reason: "moved".to_owned(),
        });
        let cal = evolve_calendar(Some(cal), &released, &meta(2, "a")).unwrap();
        assert!(cal.bookings.is_empty());
        assert!(evolve_calendar(None, &released, &meta(1, "a")).is_err());
    }

    #[test]
    fn a_calendar_refuses_another_services_events() {
        let cal = evolve_calendar(None, &booked(1, 100, 200), &meta(1, "a")).unwrap();
        let mut other = booked(2, 0, 5);
        if let CalendarEvent::Booked(b) = &mut other {
            b.service = "dns".to_owned();
        }
        assert!(evolve_calendar(Some(cal), &other, &meta(2, "a")).is_err());
    }

    #[test]
    fn back_to_back_bookings_do_not_overlap() {
        let b = Booking {
            change: change(1),
            start: at(10),
            end: at(20),
        };
        assert!(!b.overlaps(at(20), at(30)));
        assert!(!b.overlaps(at(0), at(10)));
        assert!(b.overlaps(at(19), at(30)));
        assert!(b.overlaps(at(0), at(11)));
    }

    #[test]
    fn calendar_events_round_trip_through_storage() {
        let events = [
            booked(1, 1, 2),
            CalendarEvent::Booked(CalendarBooked {
                service: "billing".to_owned(),
                change: change(3),
                start: at(1),
                end: at(2),
                overrides: vec![change(1)],
                override_reason: Some("urgent".to_owned()),
            }),
            CalendarEvent::Released(CalendarReleased {
                service: "billing".to_owned(),
                change: change(1),
                reason: "cancelled".to_owned(),
            }),
        ];
        for e in events {
            let back = CalendarEvent::from_stored(e.event_type(), e.schema_version(), e.payload_json()).unwrap();
            assert_eq!(back, e);
            let tagged = serde_json::to_value(&e).unwrap();
            assert_eq!(tagged["type"], e.event_type());
        }
        assert!(CalendarEvent::from_stored("calendar.booked", 2, serde_json::json!({})).is_err());
        assert!(CalendarEvent::from_stored("calendar.moved", 1, serde_json::json!({})).is_err());
    }
}
