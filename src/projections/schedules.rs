//! The change calendars and freeze windows as rows: `change_bookings` and
//! `freeze_windows` (migration V11), the one module that owns their SQL.
//!
//! Like `tickets`, both are inline projections, written in the same
//! transaction as the calendar and freeze events they reflect, and refilled
//! from the log by a rebuild. They exist so that the questions scheduling
//! asks ("which bookings on these services overlap this window?", "which
//! freezes?") are answered by a GiST index over the ranges, at a cost that
//! does not grow with the calendars' history, where folding the streams
//! would read all of it on every request.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::domain::EventMeta;
use crate::domain::change::calendar::{Booking, CalendarEvent, ServiceCalendar, evolve_calendar};
use crate::domain::change::freeze::{FREEZE_STREAM_ID, FreezeEvent, FreezeLift, FreezeWindow, evolve_freezes};
use crate::domain::link::TicketRef;
use crate::domain::ticket::TicketKind;
use crate::domain::zoned;
use crate::store::{EventScan, ScannedEvent, StoreError, StoredEvent, Streams};

/// The event types this projection reads; the partial index
/// `events_schedule_streams` (V11) has exactly this predicate.
const SCHEDULE_EVENTS: &str =
    "event_type IN ('calendar.booked', 'calendar.released', 'freeze.declared', 'freeze.lifted')";

/// Applies calendar and freeze events, just sealed by a command, to the
/// rows; events of other streams are ignored.
pub async fn apply(client: &impl GenericClient, events: &[StoredEvent]) -> Result<(), StoreError> {
    for event in events {
        let envelope = &event.envelope;
        let meta = super::fold::meta_of(event);
        match envelope.event_type.split('.').next() {
            Some("calendar") => {
                let calendar =
                    CalendarEvent::from_stored(&envelope.event_type, envelope.schema_version, envelope.payload.clone())
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                apply_calendar(client, &calendar).await?;
            }
            Some("freeze") => {
                let freeze =
                    FreezeEvent::from_stored(&envelope.event_type, envelope.schema_version, envelope.payload.clone())
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                apply_freeze(client, &freeze, &meta).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn apply_calendar(client: &impl GenericClient, event: &CalendarEvent) -> Result<(), StoreError> {
    match event {
        CalendarEvent::Booked(b) => {
            let statement = client
                .prepare_cached(
                    "INSERT INTO change_bookings (service, change_id, change_number, during)
                     VALUES ($1, $2, $3, tstzrange($4, $5, '[)'))
                     ON CONFLICT (service, change_id)
                     DO UPDATE SET change_number = excluded.change_number, during = excluded.during",
                )
                .await?;
            client
                .execute(
                    &statement,
                    &[&b.service, &b.change.id, &b.change.number, &b.start, &b.end],
                )
                .await?;
        }
        CalendarEvent::Released(r) => {
            let statement = client
                .prepare_cached("DELETE FROM change_bookings WHERE service = $1 AND change_id = $2")
                .await?;
            client.execute(&statement, &[&r.service, &r.change.id]).await?;
        }
    }
    Ok(())
}

async fn apply_freeze(
    client: &impl GenericClient,
    event: &FreezeEvent,
    meta: &EventMeta<'_>,
) -> Result<(), StoreError> {
    match event {
        FreezeEvent::Declared(d) => {
            let statement = client
                .prepare_cached(
                    "INSERT INTO freeze_windows (id, service, during, time_zone, reason, declared_by, declared_at)
                     VALUES ($1, $2, tstzrange($3, $4, '[)'), $5, $6, $7, $8)",
                )
                .await?;
            client
                .execute(
                    &statement,
                    &[
                        &d.id,
                        &d.service,
                        &d.start,
                        &d.end,
                        &d.time_zone,
                        &d.reason,
                        &meta.actor,
                        &meta.recorded_at,
                    ],
                )
                .await?;
        }
        FreezeEvent::Lifted(l) => {
            let statement = client
                .prepare_cached(
                    "UPDATE freeze_windows SET lifted_reason = $2, lifted_by = $3, lifted_at = $4 WHERE id = $1",
                )
                .await?;
            let updated = client
                .execute(&statement, &[&l.id, &l.reason, &meta.actor, &meta.recorded_at])
                .await?;
            if updated != 1 {
                return Err(StoreError::Corrupt(format!(
                    "freeze window {} was lifted but has no row",
                    l.id
                )));
            }
        }
    }
    Ok(())
}

/// For each of `services`, in that order, its bookings that overlap
/// `[start, end)`, earliest first: what a decision about that window needs
/// of the calendar, whatever else it holds.
pub async fn bookings_overlapping(
    client: &impl GenericClient,
    services: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<ServiceCalendar>, StoreError> {
    let statement = client
        .prepare_cached(
            "SELECT service, change_id, change_number, lower(during), upper(during) FROM change_bookings
             WHERE service = ANY($1) AND during && tstzrange($2, $3, '[)')
             ORDER BY lower(during), upper(during), change_id",
        )
        .await?;
    let rows = client.query(&statement, &[&services, &start, &end]).await?;
    let mut calendars: Vec<ServiceCalendar> = services.iter().map(|s| ServiceCalendar::empty(s)).collect();
    for row in rows {
        let service: String = row.try_get(0)?;
        let booking = Booking {
            change: TicketRef {
                id: row.try_get(1)?,
                number: row.try_get(2)?,
                kind: TicketKind::Change,
            },
            start: row.try_get(3)?,
            end: row.try_get(4)?,
        };
        if let Some(calendar) = calendars.iter_mut().find(|c| c.service == service) {
            calendar.bookings.push(booking);
        }
    }
    Ok(calendars)
}

const FREEZE_COLUMNS: &str = "id, service, lower(during), upper(during), time_zone, reason, declared_by, declared_at, \
                              lifted_reason, lifted_by, lifted_at";

/// The freeze windows that overlap `[start, end)`, earliest first; only
/// those in force (not lifted) on one of `services` or on every service,
/// when `services` is given.
pub async fn freezes_overlapping(
    client: &impl GenericClient,
    services: Option<&[String]>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<FreezeWindow>, StoreError> {
    let rows = match services {
        None => {
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {FREEZE_COLUMNS} FROM freeze_windows WHERE during && tstzrange($1, $2, '[)')
                     ORDER BY lower(during), id"
                ))
                .await?;
            client.query(&statement, &[&start, &end]).await?
        }
        Some(services) => {
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {FREEZE_COLUMNS} FROM freeze_windows
                     WHERE during && tstzrange($1, $2, '[)') AND lifted_at IS NULL
                       AND (service IS NULL OR service = ANY($3))
                     ORDER BY lower(during), id"
                ))
                .await?;
            client.query(&statement, &[&start, &end, &services]).await?
        }
    };
    rows.iter().map(freeze_window).collect()
}

/// One freeze window, lifted or not.
pub async fn freeze(client: &impl GenericClient, id: Uuid) -> Result<Option<FreezeWindow>, StoreError> {
    let statement = client
        .prepare_cached(&format!("SELECT {FREEZE_COLUMNS} FROM freeze_windows WHERE id = $1"))
        .await?;
    client
        .query_opt(&statement, &[&id])
        .await?
        .as_ref()
        .map(freeze_window)
        .transpose()
}

fn freeze_window(row: &Row) -> Result<FreezeWindow, StoreError> {
    let start: DateTime<Utc> = row.try_get(2)?;
    let end: DateTime<Utc> = row.try_get(3)?;
    let time_zone: String = row.try_get(4)?;
    let lifted_reason: Option<String> = row.try_get(8)?;
    let lifted_by: Option<String> = row.try_get(9)?;
    let lifted_at: Option<DateTime<Utc>> = row.try_get(10)?;
    let lifted = match (lifted_reason, lifted_by, lifted_at) {
        (Some(reason), Some(by), Some(at)) => Some(FreezeLift { reason, by, at }),
        _ => None,
    };
    Ok(FreezeWindow {
        id: row.try_get(0)?,
        service: row.try_get(1)?,
        start_local: zoned::local(start, &time_zone),
        end_local: zoned::local(end, &time_zone),
        start,
        end,
        time_zone,
        reason: row.try_get(5)?,
        declared_by: row.try_get(6)?,
        declared_at: row.try_get(7)?,
        lifted,
    })
}

/// Folds one calendar or freeze stream, with the domain's own `evolve`,
/// and collects its rows.
fn fold_schedule(
    events: Vec<ScannedEvent>,
    bookings: &mut Vec<(String, Booking)>,
    windows: &mut Vec<FreezeWindow>,
) -> Result<(), StoreError> {
    let corrupt = |e: crate::domain::StreamCorrupt| StoreError::Corrupt(e.to_string());
    let Some(first) = events.first() else {
        return Ok(());
    };
    if first.stream_id == FREEZE_STREAM_ID {
        let mut state = None;
        for e in events {
            let decoded = e.decode::<FreezeEvent>()?;
            let meta = EventMeta {
                recorded_at: e.recorded_at,
                actor: &decoded.actor,
                version: e.version,
                hash: &e.hash,
            };
            state = Some(evolve_freezes(state, &decoded.event, &meta).map_err(corrupt)?);
        }
        windows.extend(state.map(|c| c.windows).unwrap_or_default());
    } else {
        let mut state = None;
        for e in events {
            let decoded = e.decode::<CalendarEvent>()?;
            let meta = EventMeta {
                recorded_at: e.recorded_at,
                actor: &decoded.actor,
                version: e.version,
                hash: &e.hash,
            };
            state = Some(evolve_calendar(state, &decoded.event, &meta).map_err(corrupt)?);
        }
        if let Some(calendar) = state {
            bookings.extend(calendar.bookings.into_iter().map(|b| (calendar.service.clone(), b)));
        }
    }
    Ok(())
}

/// What a refill found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefillReport {
    /// Calendar and freeze events read from the log.
    pub events: u64,
    /// Bookings and freeze windows the log holds.
    pub rows: u64,
    /// Rows that differed from the log (wrong, missing or extra) and were
    /// put right.
    pub corrected: u64,
}

/// Makes both tables equal to a fold of the calendar and freeze streams in
/// `tx`'s view of the log (with the domain's own `evolve_calendar` and
/// `evolve_freezes`), writing only the rows that differ. Writers of these
/// tables wait until `tx` ends; readers do not.
pub async fn refill(tx: &tokio_postgres::Transaction<'_>) -> Result<RefillReport, StoreError> {
    tx.batch_execute("LOCK TABLE change_bookings, freeze_windows IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    let rows = tx
        .query(
            &format!("SELECT DISTINCT stream_id FROM events WHERE {SCHEDULE_EVENTS} ORDER BY stream_id"),
            &[],
        )
        .await?;
    let streams: Vec<Uuid> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    let mut report = RefillReport::default();
    let mut bookings: Vec<(String, Booking)> = Vec::new();
    let mut windows: Vec<FreezeWindow> = Vec::new();
    let mut scan = EventScan::new(Streams::Only(streams));
    let mut stream: Vec<ScannedEvent> = Vec::new();
    while let Some(chunk) = scan.next_chunk(tx).await? {
        for event in chunk {
            report.events += 1;
            if stream.last().is_some_and(|e| e.stream_id != event.stream_id) {
                fold_schedule(std::mem::take(&mut stream), &mut bookings, &mut windows)?;
            }
            stream.push(event);
        }
    }
    fold_schedule(stream, &mut bookings, &mut windows)?;
    report.rows = (bookings.len() + windows.len()) as u64;

    tx.batch_execute(
        "CREATE TEMP TABLE change_bookings_refill (LIKE change_bookings) ON COMMIT DROP;
         CREATE TEMP TABLE freeze_windows_refill (LIKE freeze_windows) ON COMMIT DROP;",
    )
    .await?;
    let services: Vec<&str> = bookings.iter().map(|(s, _)| s.as_str()).collect();
    let ids: Vec<Uuid> = bookings.iter().map(|(_, b)| b.change.id).collect();
    let numbers: Vec<&str> = bookings.iter().map(|(_, b)| b.change.number.as_str()).collect();
    let starts: Vec<DateTime<Utc>> = bookings.iter().map(|(_, b)| b.start).collect();
    let ends: Vec<DateTime<Utc>> = bookings.iter().map(|(_, b)| b.end).collect();
    tx.execute(
        "INSERT INTO change_bookings_refill (service, change_id, change_number, during)
         SELECT s, c, n, tstzrange(b, e, '[)')
         FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(s, c, n, b, e)",
        &[&services, &ids, &numbers, &starts, &ends],
    )
    .await?;
    for w in &windows {
        let lifted = w.lifted.as_ref();
        tx.execute(
            "INSERT INTO freeze_windows_refill VALUES ($1, $2, tstzrange($3, $4, '[)'), $5, $6, $7, $8, $9, $10, $11)",
            &[
                &w.id,
                &w.service,
                &w.start,
                &w.end,
                &w.time_zone,
                &w.reason,
                &w.declared_by,
                &w.declared_at,
                &lifted.map(|l| l.reason.as_str()),
                &lifted.map(|l| l.by.as_str()),
                &lifted.map(|l| l.at),
            ],
        )
        .await?;
    }

    report.corrected += tx
        .execute(
            "DELETE FROM change_bookings b WHERE NOT EXISTS (
                 SELECT 1 FROM change_bookings_refill n
                 WHERE (n.service, n.change_id, n.change_number, n.during)
                     = (b.service, b.change_id, b.change_number, b.during))",
            &[],
        )
        .await?;
    report.corrected += tx
        .execute(
            "INSERT INTO change_bookings SELECT * FROM change_bookings_refill n
             WHERE NOT EXISTS (SELECT 1 FROM change_bookings b
                               WHERE b.service = n.service AND b.change_id = n.change_id)",
            &[],
        )
        .await?;
    report.corrected += tx
        .execute(
            "DELETE FROM freeze_windows f WHERE NOT EXISTS (
                 SELECT 1 FROM freeze_windows_refill n
                 WHERE (n.id, n.service, n.during, n.time_zone, n.reason, n.declared_by, n.declared_at,
                        n.lifted_reason, n.lifted_by, n.lifted_at)
                       IS NOT DISTINCT FROM
                       (f.id, f.service, f.during, f.time_zone, f.reason, f.declared_by, f.declared_at,
                        f.lifted_reason, f.lifted_by, f.lifted_at))",
            &[],
        )
        .await?;
    report.corrected += tx
        .execute(
            "INSERT INTO freeze_windows SELECT * FROM freeze_windows_refill n
             WHERE NOT EXISTS (SELECT 1 FROM freeze_windows f WHERE f.id = n.id)",
            &[],
        )
        .await?;
    Ok(report)
}
