//! Folding stored events into views, with the same `evolve` that command
//! handling uses. Serves the live view, history checks and rebuilds.

use crate::domain::EventMeta;
use crate::domain::complaint::{self, Complaint, ComplaintEvent};
use crate::store::StoredEvent;

use super::tickets::TicketRow;

/// Decodes one stored event of a complaint stream (upcasting old schema versions).
pub fn decode_complaint(e: &StoredEvent) -> Result<ComplaintEvent, crate::domain::StreamCorrupt> {
    ComplaintEvent::from_stored(
        &e.envelope.event_type,
        e.envelope.schema_version,
        e.envelope.payload.clone(),
    )
}

/// Folds `events` onto `state`.
pub fn fold_complaint(
    mut state: Option<Complaint>,
    events: &[StoredEvent],
) -> Result<Option<Complaint>, crate::domain::StreamCorrupt> {
    for e in events {
        let event = decode_complaint(e)?;
        let meta = EventMeta {
            recorded_at: e.recorded_at,
            actor: &e.envelope.metadata.actor,
            version: e.envelope.version,
        };
        state = Some(complaint::evolve(state, &event, &meta)?);
    }
    Ok(state)
}

/// The `tickets` row of a complaint view.
pub fn complaint_row(view: &Complaint) -> Result<TicketRow, serde_json::Error> {
    Ok(TicketRow {
        id: view.id,
        number: view.number.clone(),
        kind: crate::domain::ticket::TicketKind::Complaint.as_str().to_owned(),
        status: view.status.as_str().to_owned(),
        priority: Some(enum_str(&view.priority)?),
        team: view.team.clone(),
        assignee: view.assignee.clone(),
        channel: Some(enum_str(&view.channel)?),
        created_at: view.created_at,
        updated_at: view.updated_at,
        version: view.version,
        view: serde_json::to_value(view)?,
        subject: Some(view.subject),
    })
}

/// The serialised name of a unit enum variant (`"P1"`, `"in_person"`).
fn enum_str<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}
