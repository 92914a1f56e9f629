//! Business calendars as clients read them: folded from their own streams
//! on each read, with the domain's `evolve`. There are a handful of
//! calendars of a few events each, so a read costs a few small stream
//! reads and no table of its own has to be kept; the streams are found by
//! their `business_calendar.defined` event, which an index of migration V12
//! holds.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::business_calendar::aggregate::{self, BusinessCalendarEvent, BusinessCalendarView};
use crate::store::{self, StoreError, StreamHead};

use super::fold;

/// The type of the first event of every calendar stream.
const DEFINED: &str = "business_calendar.defined";

/// Every calendar, by code.
pub async fn all(client: &deadpool_postgres::Client) -> Result<Vec<BusinessCalendarView>, StoreError> {
    let connection: &tokio_postgres::Client = client;
    let mut calendars = Vec::new();
    for id in store::streams_with_event(connection, DEFINED).await? {
        if let Some(calendar) = one(client, id).await? {
            calendars.push(calendar);
        }
    }
    calendars.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(calendars)
}

/// One calendar, as its stream leaves it; `None` for a stream with no events.
pub async fn one(client: &impl GenericClient, id: Uuid) -> Result<Option<BusinessCalendarView>, StoreError> {
    Ok(one_with_head(client, id).await?.map(|(calendar, _)| calendar))
}

/// One calendar and the head of its stream, for a command to append after.
pub async fn one_with_head(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<Option<(BusinessCalendarView, StreamHead)>, StoreError> {
    let events = store::read_stream(client, id).await?;
    // Any other stream (a ticket's, say) is no calendar.
    let is_calendar = events
        .first()
        .is_some_and(|e| BusinessCalendarEvent::EVENT_TYPES.contains(&e.envelope.event_type.as_str()));
    let Some(last) = events.last().filter(|_| is_calendar) else {
        return Ok(None);
    };
    let head = last.head();
    let calendar = fold::fold_with(None, &events, aggregate::evolve)
        .map_err(|e| StoreError::Corrupt(format!("business calendar {id}: {e}")))?;
    Ok(calendar.map(|calendar| (calendar, head)))
}
