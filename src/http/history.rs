//! A ticket's history: every event of its stream, as auditors read it.
//!
//! The history of a long-lived ticket is the largest response the API
//! serves (a thousand events are about 1.5 MB), so it is written straight
//! from the stored bytes: each payload is copied through as stored unless it
//! may hold personal data (then it is parsed and rendered for the caller),
//! the metadata is parsed alone, and the event's identity comes from the
//! indexed columns. See docs/performance.md.

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::change::Change;
use crate::domain::complaint::Complaint;
use crate::domain::fault::Fault;
use crate::domain::ticket::TicketKind;
use crate::domain::{EventMeta, FieldError, Role, messages as domain_messages};
use crate::privacy::render::may_hold_personal_data;
use crate::projections::changes::{Diffable, ViewChange, changes_of};
use crate::projections::tickets;
use crate::store::{self, StoredEntry};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Problem};
use super::i18n::Language;
use super::messages;
use super::query::Query;
use super::tickets::{PRIVATE, may_name_a_ticket, may_read_kind, parse_lookup, reveal};
use super::timeline;

/// Every event type the log holds, for the documentation: a client may
/// switch on `type`. (A later version may add types; a client should pass
/// over one it does not know.)
pub struct EventType;

impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use crate::domain::business_calendar::BusinessCalendarEvent;
        use crate::domain::change::calendar::CalendarEvent;
        use crate::domain::change::freeze::FreezeEvent;
        use crate::domain::{change::ChangeEvent, complaint::ComplaintEvent, fault::FaultEvent, subject::SubjectEvent};
        let mut types: Vec<&str> = [
            ComplaintEvent::EVENT_TYPES,
            FaultEvent::EVENT_TYPES,
            ChangeEvent::EVENT_TYPES,
            CalendarEvent::EVENT_TYPES,
            FreezeEvent::EVENT_TYPES,
            SubjectEvent::EVENT_TYPES,
            BusinessCalendarEvent::EVENT_TYPES,
            crate::domain::sla::SlaPolicyEvent::EVENT_TYPES,
        ]
        .concat();
        // Complaints and faults share the `sla.*` types; each is listed once.
        let mut seen = std::collections::HashSet::new();
        types.retain(|t| seen.insert(*t));
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(types))
            .description(Some(
                "The event's type, e.g. `complaint.filed`; its payload has the JSON Schema `schema/<type>.v<schema_version>.json`.",
            ))
            .into()
    }
}

impl ToSchema for EventType {}

/// One event of a ticket's history, as auditors read it.
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    /// The event's version in its stream: 1, 2, 3, … with no gaps.
    pub version: u64,
    /// The event's own id (UUIDv7).
    pub event_id: Uuid,
    /// The event type, e.g. `complaint.filed`; the payload's shape follows from
    /// it and `schema_version`.
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// Version of the payload's schema for this event type, from 1; the JSON
    /// Schema of each is published as `schema/<type>.v<version>.json`.
    pub schema_version: u32,
    /// When the event was stored (RFC 3339 date-time, UTC).
    pub recorded_at: DateTime<Utc>,
    /// Token issuer and subject of whoever caused the event.
    pub actor: String,
    /// The roles the actor held when the event was recorded; roles this server
    /// no longer knows are left out.
    pub roles: Vec<Role>,
    /// The server's id of the request that caused the event.
    pub request_id: String,
    /// The id the client sent for that request (`X-Request-Id`), for
    /// correlation only: any client may send any id. Absent when the
    /// client sent none, and on events recorded before it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// The id that ties together the events of one piece of work: the
    /// `X-Correlation-Id` the client sent, or the server's request id when it
    /// sent none.
    pub correlation_id: String,
    /// What caused the event, as the client's `X-Causation-Id` named it; left
    /// out when the client sent none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// The event's payload; personal data masked unless the caller may read it.
    pub payload: Value,
    /// SHA-256 chain hash of this event (hex).
    pub hash: String,
}

impl HistoryEntry {
    /// An entry from a stored event and its payload as rendered for the caller.
    pub fn from_stored(e: crate::store::StoredEvent, payload: Value) -> HistoryEntry {
        let env = e.envelope;
        HistoryEntry {
            version: env.version,
            event_id: env.event_id,
            event_type: env.event_type,
            schema_version: env.schema_version,
            recorded_at: e.recorded_at,
            actor: env.metadata.actor,
            roles: env.metadata.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            request_id: env.metadata.request_id,
            client_request_id: env.metadata.client_request_id,
            correlation_id: env.metadata.correlation_id,
            causation_id: env.metadata.causation_id,
            payload,
            hash: hex::encode(e.hash),
        }
    }
}

/// One event of a ticket's history with what it means: a sentence in the
/// caller's language and the elements of the view it changed.
#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub event: HistoryEntry,
    /// What happened, in one sentence in the response's `Content-Language`
    /// (chosen by `Accept-Language`), rendered on read; personal data in it is
    /// masked exactly as in the view.
    pub summary: String,
    /// The elements of the ticket's view the event changed, each with an RFC
    /// 6901 pointer to the smallest changed element and its values before and
    /// after (masked as in the view). `version` and `updated_at`, which every
    /// event changes, are left out.
    pub changes: Vec<ViewChange>,
}

/// One page of a ticket's history: its events, oldest first.
#[derive(Serialize, ToSchema)]
pub struct History {
    /// The ticket's identifier (UUID).
    pub id: Uuid,
    /// The ticket's human-facing reference, e.g. `CMP-2026-000001`.
    pub number: String,
    /// Which kind of ticket it is: `complaint`, `fault` or `change`.
    pub kind: String,
    /// The events of this page, oldest first (by `version`); empty past the
    /// last event.
    pub events: Vec<TimelineEntry>,
    /// Pass as `after_version` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after_version: Option<u64>,
}

/// Which page of a history to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only events after this version (the `next_after_version` of the previous page).
    pub after_version: Option<u64>,
    /// Page size, 1 to 1,000 (default 1,000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

const PAGE_MAX: u32 = 1_000;

/// The history of one ticket: its events, oldest first, in pages of up to
/// 1,000; follow `next_after_version` for the rest. Each event comes with a
/// sentence saying what happened, in Chinese or English by
/// `Accept-Language`, and the elements of the view it changed. With
/// `Accept: text/csv`, the page as CSV for spreadsheets: one row per event
/// and changed element (time, actor, event type, version, summary, path,
/// old, new), cells a spreadsheet would run as formulas defused.
#[utoipa::path(
    get,
    path = "/v1/tickets/{id}/history",
    tag = "tickets",
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number"),
        HistoryParams,
        ("Accept-Language" = Option<String>, Header, description = "`zh-CN` or `en` (q-values honoured); the server's default language otherwise"),
    ),
    responses(
        (status = 200, description = "One page of the ticket's events",
            content(
                (History = "application/json"),
                (String = "text/csv"),
            ),
            headers(("Content-Language" = String, description = "The language of the summaries: `en` or `zh-CN`"))),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn history(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    page: Query<HistoryParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit.unwrap_or(PAGE_MAX);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "/limit",
            domain_messages::field_range(1, PAGE_MAX),
        )]));
    }
    let after = i32::try_from(page.after_version.unwrap_or(0))
        .map_err(|_| ApiError::InvalidQuery(vec![FieldError::new("/after_version", messages::field_too_large())]))?;
    let target = parse_lookup(&id)?;
    let language = Language::of_request(&req, state.language);
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let ticket = tickets::identify(&client, &target)
        .await?
        .filter(|t| may_read_kind(&principal, t.kind, t.complaint_linked))
        .ok_or_else(|| ApiError::NotFound(messages::no_ticket_named(&id)))?;
    // One row more than the page tells whether another page follows.
    let rows = store::read_stream_page(&client, ticket.id, after, Some(i64::from(limit) + 1)).await?;
    let mut entries = rows.entries()?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let corrupt = |what: String| ApiError::Internal(format!("{what} of {}", ticket.id));
    let mut parts = Vec::with_capacity(entries.len());
    for e in &entries {
        let (metadata, payload) = store::envelope::split_canonical(e.stored)
            .ok_or_else(|| corrupt(format!("event {} is not a canonical envelope", e.version)))?;
        let metadata: RawMetadata = serde_json::from_str(metadata)
            .map_err(|err| corrupt(format!("the metadata of event {} does not parse: {err}", e.version)))?;
        parts.push((metadata, payload));
    }
    // Every payload is parsed: the sentences and the views' changes are
    // made from them. Those that may carry personal data or name another
    // ticket (which the caller may not be allowed to read) are rendered for
    // the caller; the others are written out as stored.
    let payloads: Vec<Value> = parts
        .iter()
        .map(|(_, payload)| serde_json::from_str(payload))
        .collect::<Result<_, _>>()
        .map_err(|err| corrupt(format!("a payload does not parse: {err}")))?;
    let mut rendered: Vec<Option<Value>> = parts
        .iter()
        .zip(&payloads)
        .map(|((_, stored), value)| {
            (may_hold_personal_data(stored) || may_name_a_ticket(stored)).then(|| value.clone())
        })
        .collect();
    let changes = view_changes(&client, ticket.id, ticket.kind, after, &entries, &parts, &payloads)
        .await
        .map_err(|err| corrupt(format!("the views' changes: {err}")))?;
    // Each changed value is rendered under the member it belongs to, so it
    // is masked as the view masks that member; one that a masked rendering
    // drops (the data subject's id) is left out.
    let mut wrapped: Vec<Vec<(String, Value, Value)>> = changes
        .into_iter()
        .map(|list| {
            list.into_iter()
                .map(|c| {
                    let member = member_of(&c.path).to_owned();
                    let old = Value::Object(serde_json::Map::from_iter([(member.clone(), c.old)]));
                    let new = Value::Object(serde_json::Map::from_iter([(member, c.new)]));
                    (c.path, old, new)
                })
                .collect()
        })
        .collect();
    {
        let mut docs: Vec<&mut Value> = rendered.iter_mut().flatten().collect();
        for list in &mut wrapped {
            for (_, old, new) in list {
                docs.push(old);
                docs.push(new);
            }
        }
        reveal(&req, &principal, &state, &client, &mut docs).await?;
    }
    let changes: Vec<Vec<ViewChange>> = wrapped
        .into_iter()
        .map(|list| {
            list.into_iter()
                .filter_map(|(path, old, new)| {
                    let member = member_of(&path);
                    let unwrap = |wrapper: Value| match wrapper {
                        Value::Object(mut map) => map.remove(member),
                        _ => None,
                    };
                    Some(ViewChange {
                        old: unwrap(old)?,
                        new: unwrap(new)?,
                        path,
                    })
                })
                .collect()
        })
        .collect();
    let summaries: Vec<String> = parts
        .iter()
        .zip(&entries)
        .zip(rendered.iter().zip(&payloads))
        .map(|(((metadata, _), e), (rendered, parsed))| {
            timeline::summary(
                language,
                e.event_type,
                rendered.as_ref().unwrap_or(parsed),
                &metadata.actor,
                &ticket.number,
            )
        })
        .collect();

    if timeline::wants_csv(&req) {
        let csv = timeline::write_csv(entries.iter().zip(&parts).zip(&summaries).zip(&changes).flat_map(
            |(((e, (metadata, _)), summary), changes)| {
                let row = move |path: &'static str, old, new| timeline::CsvRow {
                    recorded_at: e.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    actor: &metadata.actor,
                    event_type: e.event_type,
                    version: e.version,
                    summary,
                    path,
                    old,
                    new,
                };
                let rows: Vec<timeline::CsvRow> = if changes.is_empty() {
                    vec![row("", None, None)]
                } else {
                    changes
                        .iter()
                        .map(|c| timeline::CsvRow {
                            path: &c.path,
                            old: Some(&c.old),
                            new: Some(&c.new),
                            ..row("", None, None)
                        })
                        .collect()
                };
                rows
            },
        ))
        .map_err(|err| corrupt(format!("the history does not write as CSV: {err}")))?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, PRIVATE))
            .insert_header((header::CONTENT_LANGUAGE, language.tag()))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-history.csv\"", ticket.number),
            ))
            .content_type("text/csv; charset=utf-8")
            .body(csv));
    }

    // The response is about the size of the stored events; sizing the
    // buffer once saves the copies of growing it (histories run to MBs).
    let mut body = Vec::with_capacity(entries.iter().map(|e| e.stored.len() + 320).sum::<usize>() + 256);
    let head = HistoryHead {
        id: ticket.id,
        number: &ticket.number,
        kind: ticket.kind,
        next_after_version: more.then(|| entries.last().map(|e| e.version)).flatten(),
    };
    let serialised = (|| {
        open_object(&mut body, &head)?;
        body.extend_from_slice(b"\"events\":[");
        for (i, (((e, (metadata, payload)), rendered), (summary, changes))) in entries
            .iter()
            .zip(&parts)
            .zip(&rendered)
            .zip(summaries.iter().zip(&changes))
            .enumerate()
        {
            if i > 0 {
                body.push(b',');
            }
            write_line(
                &mut body,
                e,
                metadata,
                payload,
                rendered.as_ref(),
                &Meaning { summary, changes },
            )?;
        }
        body.extend_from_slice(b"]}");
        Ok::<(), serde_json::Error>(())
    })();
    serialised.map_err(|err| corrupt(format!("the history does not serialise: {err}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .insert_header((header::CONTENT_LANGUAGE, language.tag()))
        .content_type(header::ContentType::json())
        .body(body))
}

/// The member a change's value belongs to: the last name in its path that
/// is not a list index (`/notes/41` → `notes`, `/complainant/phone` →
/// `phone`).
fn member_of(path: &str) -> &str {
    path.rsplit('/')
        .find(|segment| !segment.is_empty() && !segment.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("value")
}

/// What each event of the page changed in the ticket's view, from a fold of
/// the stream from its first event (the events before the page are read
/// too, and folded without being compared).
async fn view_changes(
    client: &impl deadpool_postgres::GenericClient,
    ticket: Uuid,
    kind: TicketKind,
    after: i32,
    page: &[StoredEntry<'_>],
    parts: &[(RawMetadata<'_>, &str)],
    payloads: &[Value],
) -> Result<Vec<Vec<ViewChange>>, String> {
    let earlier_rows = if after > 0 {
        Some(
            store::read_stream_page(client, ticket, 0, Some(i64::from(after)))
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let earlier = match &earlier_rows {
        Some(rows) => rows.entries().map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let mut stream: Vec<(&StoredEntry<'_>, String, Cow<'_, Value>)> = Vec::with_capacity(earlier.len() + page.len());
    for e in &earlier {
        let envelope: crate::store::Envelope = serde_json::from_str(e.stored).map_err(|err| err.to_string())?;
        stream.push((e, envelope.metadata.actor, Cow::Owned(envelope.payload)));
    }
    for ((e, (metadata, _)), payload) in page.iter().zip(parts).zip(payloads) {
        stream.push((e, metadata.actor.to_string(), Cow::Borrowed(payload)));
    }
    let first = earlier.len();
    match kind {
        TicketKind::Complaint => fold_changes::<Complaint>(stream, first),
        TicketKind::Fault => fold_changes::<Fault>(stream, first),
        TicketKind::Change => fold_changes::<Change>(stream, first),
    }
}

fn fold_changes<A: Diffable>(
    stream: Vec<(&StoredEntry<'_>, String, Cow<'_, Value>)>,
    first: usize,
) -> Result<Vec<Vec<ViewChange>>, String> {
    let mut actors = Vec::with_capacity(stream.len());
    let mut decoded = Vec::with_capacity(stream.len());
    for (e, actor, payload) in stream {
        // Decoded from the parsed payload in place: the page's payloads are
        // written out afterwards.
        let event = <A::Event as crate::domain::DomainEvent>::from_stored(e.event_type, e.schema_version, &*payload)
            .map_err(|err| err.to_string())?;
        actors.push(actor);
        decoded.push((e, event));
    }
    let mut events = Vec::with_capacity(decoded.len());
    for ((e, event), actor) in decoded.into_iter().zip(&actors) {
        let meta = EventMeta {
            recorded_at: e.recorded_at,
            actor,
            version: e.version,
            hash: &e.hash,
        };
        events.push((event, meta));
    }
    changes_of::<A>(&events, first).map_err(|err| err.to_string())
}

/// [`crate::store::Metadata`], borrowed where its strings need no unescaping.
#[derive(Deserialize)]
struct RawMetadata<'a> {
    #[serde(borrow)]
    actor: Cow<'a, str>,
    #[serde(borrow)]
    roles: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    request_id: Cow<'a, str>,
    // Absent from events recorded before client ids were kept apart.
    #[serde(borrow, default)]
    client_request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    correlation_id: Cow<'a, str>,
    #[serde(borrow, default)]
    causation_id: Option<Cow<'a, str>>,
}

/// The members of [`History`] before `events`.
#[derive(Serialize)]
struct HistoryHead<'a> {
    id: Uuid,
    number: &'a str,
    kind: TicketKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after_version: Option<u64>,
}

/// The members of [`HistoryEntry`] before `payload`.
#[derive(Serialize)]
struct LineHead<'a> {
    version: u64,
    event_id: Uuid,
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: u32,
    recorded_at: DateTime<Utc>,
    actor: &'a str,
    roles: Vec<Role>,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_request_id: Option<&'a str>,
    correlation_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation_id: Option<&'a str>,
}

/// Writes `value` as a JSON object left open for more members:
/// `{"a":1,` (or `{` when it has none).
fn open_object(out: &mut Vec<u8>, value: &impl Serialize) -> serde_json::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    match out.pop() {
        Some(b'}') => {}
        _ => return Err(serde::ser::Error::custom("not a JSON object")),
    }
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    Ok(())
}

/// One [`HistoryEntry`]: its members through serde, its payload as stored
/// (valid JSON: it was produced by the canonical encoder and is covered by
/// the stream's hash chain) or as rendered.
fn write_line(
    out: &mut Vec<u8>,
    e: &StoredEntry<'_>,
    metadata: &RawMetadata<'_>,
    stored_payload: &str,
    rendered: Option<&Value>,
    meaning: &Meaning<'_>,
) -> serde_json::Result<()> {
    open_object(
        out,
        &LineHead {
            version: e.version,
            event_id: e.event_id,
            event_type: e.event_type,
            schema_version: e.schema_version,
            recorded_at: e.recorded_at,
            actor: &metadata.actor,
            roles: metadata.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            request_id: &metadata.request_id,
            client_request_id: metadata.client_request_id.as_deref(),
            correlation_id: &metadata.correlation_id,
            causation_id: metadata.causation_id.as_deref(),
        },
    )?;
    out.extend_from_slice(b"\"payload\":");
    match rendered {
        Some(value) => serde_json::to_writer(&mut *out, value)?,
        None => out.extend_from_slice(stored_payload.as_bytes()),
    }
    let mut hex = [0u8; 64];
    hex::encode_to_slice(e.hash, &mut hex).map_err(serde::ser::Error::custom)?;
    out.extend_from_slice(b",\"hash\":\"");
    out.extend_from_slice(&hex);
    out.extend_from_slice(b"\",\"summary\":");
    serde_json::to_writer(&mut *out, meaning.summary)?;
    out.extend_from_slice(b",\"changes\":");
    serde_json::to_writer(&mut *out, meaning.changes)?;
    out.push(b'}');
    Ok(())
}

/// The members of [`TimelineEntry`] after the event's own.
struct Meaning<'a> {
    summary: &'a str,
    changes: &'a [ViewChange],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_line_is_the_documented_entry() {
        let envelope = crate::store::Envelope {
            event_id: Uuid::now_v7(),
            stream_id: Uuid::now_v7(),
            version: 7,
            event_type: "complaint.note_added".into(),
            schema_version: 1,
            recorded_at: "2026-11-30T08:00:00.000001Z".into(),
            metadata: crate::store::Metadata {
                actor: "https://idp|agent \"1\"".into(),
                roles: vec!["agent".into(), "no-such-role".into()],
                request_id: "r-1".into(),
                client_request_id: Some("client-r-1".into()),
                correlation_id: "c-1".into(),
                causation_id: Some("cause".into()),
                idempotency_key: Some("k".into()),
            },
            payload: serde_json::json!({"body": "巡检 \"ok\"", "recorded_at": "inside"}),
        };
        let bytes = envelope.to_stored_bytes().expect("canonical");
        let stored = std::str::from_utf8(&bytes).expect("utf-8");
        let entry = StoredEntry {
            version: 7,
            event_id: envelope.event_id,
            event_type: &envelope.event_type,
            schema_version: 1,
            recorded_at: chrono::DateTime::parse_from_rfc3339("2026-11-30T08:00:00.000001Z")
                .expect("time")
                .with_timezone(&Utc),
            stored,
            hash: [0xab; 32],
        };
        let (metadata, payload) = store::envelope::split_canonical(stored).expect("split");
        let metadata: RawMetadata = serde_json::from_str(metadata).expect("metadata");
        let changes = [ViewChange {
            path: "/notes/5".into(),
            old: Value::Null,
            new: serde_json::json!({"body": "巡检 \"ok\""}),
        }];
        let meaning = Meaning {
            summary: "agent \"1\" added an internal note",
            changes: &changes,
        };
        let mut out = Vec::new();
        write_line(&mut out, &entry, &metadata, payload, None, &meaning).expect("write");
        let written: Value = serde_json::from_slice(&out).expect("valid JSON");
        let stored_event = crate::store::StoredEvent {
            envelope: envelope.clone(),
            recorded_at: entry.recorded_at,
            stored: bytes.clone(),
            hash: entry.hash,
        };
        let documented = serde_json::to_value(TimelineEntry {
            event: HistoryEntry::from_stored(stored_event, envelope.payload.clone()),
            summary: meaning.summary.to_owned(),
            changes: changes.to_vec(),
        })
        .expect("json");
        assert_eq!(written, documented);

        let rendered = serde_json::json!({"body": "***"});
        let mut out = Vec::new();
        write_line(&mut out, &entry, &metadata, payload, Some(&rendered), &meaning).expect("write");
        let written: Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(written["payload"], rendered);
    }

    #[test]
    fn an_event_stored_before_client_request_ids_were_kept_reads_without_one() {
        // The stored bytes of such an event, as they were written.
        let stored = concat!(
            r#"{"event_id":"0190a6f2-0000-7000-8000-000000000001","metadata":{"actor":"https://idp|agent-1","#,
            r#""correlation_id":"trace-7","request_id":"trace-7","roles":["agent"]},"payload":{"body":"巡检"},"#,
            r#""recorded_at":"2026-11-30T08:00:00.000001Z","schema_version":1,"#,
            r#""stream_id":"0190a6f2-0000-7000-8000-000000000002","type":"complaint.note_added","version":2}"#
        );
        let envelope: crate::store::Envelope = serde_json::from_str(stored).expect("an old envelope parses");
        assert_eq!(envelope.metadata.client_request_id, None);
        assert_eq!(
            envelope.to_stored_bytes().expect("canonical"),
            stored.as_bytes(),
            "no member is added to it"
        );

        let entry = StoredEntry {
            version: 2,
            event_id: envelope.event_id,
            event_type: &envelope.event_type,
            schema_version: 1,
            recorded_at: envelope.recorded_at().expect("time"),
            stored,
            hash: [0xcd; 32],
        };
        let (metadata, payload) = store::envelope::split_canonical(stored).expect("split");
        let metadata: RawMetadata = serde_json::from_str(metadata).expect("metadata");
        let mut out = Vec::new();
        let meaning = Meaning {
            summary: "",
            changes: &[],
        };
        write_line(&mut out, &entry, &metadata, payload, None, &meaning).expect("write");
        let written: Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(written["request_id"], "trace-7");
        assert!(written.get("client_request_id").is_none(), "{written}");
        assert_eq!(written["payload"]["body"], "巡检");
    }

    #[test]
    fn an_open_object_takes_more_members() {
        let mut out = Vec::new();
        open_object(
            &mut out,
            &HistoryHead {
                id: Uuid::nil(),
                number: "CMP-1",
                kind: TicketKind::Complaint,
                next_after_version: None,
            },
        )
        .expect("object");
        out.extend_from_slice(b"\"events\":[]}");
        let v: Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["events"], serde_json::json!([]));
        assert!(v.get("next_after_version").is_none());
        let mut out = Vec::new();
        assert!(
            open_object(&mut out, &[1, 2]).is_err(),
            "an array cannot be opened as an object"
        );
    }
}
