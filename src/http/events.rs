//! The global event feed: pages by position, and a live Server-Sent Events
//! stream. Personal data appears exactly as in the ticket views for the
//! caller's role.
//!
//! Auditors and administrators follow the whole feed: every stream, every
//! position, gap-free. Everyone else who may read tickets (or holds
//! `events:read`) follows it filtered by the rules of `GET /v1/tickets/{id}`:
//! only events of tickets they may read now. Positions stay global, so a
//! filtered feed skips positions by design; `next_after` and the stream's
//! position move past what was read and hidden, so a reader whose batch was
//! all hidden still advances, and never waits for a position it has passed.

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::permissions::{FeedView, Permission};
use crate::domain::subject::SubjectEvent;
use crate::domain::{FieldError, messages as domain_messages};
use crate::projections::tickets;
use crate::store::{StoreError, log};

use super::AppState;
use super::auth::Principal;
use super::error::ApiError;
use super::history::HistoryEntry;
use super::i18n::Language;
use super::messages;
use super::query::Query;
use super::tickets::reveal;

const HEARTBEAT: Duration = Duration::from_secs(15);
const STREAM_BATCH: i64 = 200;

/// One event of the global log: the same entry a ticket's history shows,
/// with its stream and its place in the log.
#[derive(Serialize, ToSchema)]
pub struct FeedEvent {
    /// Contiguous, gap-free, starting at 1: follow the feed with `after`.
    pub position: i64,
    /// The event's stream. Left out of a data subject's own events (erased,
    /// merged, repaired) for callers who may not see personal data: there
    /// the stream id is the subject id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<Uuid>,
    #[serde(flatten)]
    pub event: HistoryEntry,
    /// The global chain hash at this position (hex).
    pub global_hash: String,
}

/// One message of the live stream (`text/event-stream`, the Server-Sent
/// Events format): an `id:` line, an `event:` line and a `data:` line,
/// then a blank line. Besides events of the log, the stream sends comment
/// lines (`: …`) as heartbeats, `event: error` with a problem document as
/// `data`, and `event: end` with `{"reason": …}` when the caller's token
/// expires.
// Documentation only: `frame` writes the messages.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StreamMessage {
    /// The event's position in the global log; send it back as
    /// `Last-Event-ID` to resume after it.
    pub id: i64,
    /// The event's type, e.g. `complaint.filed`.
    pub event: String,
    /// The event, as JSON.
    pub data: FeedEvent,
}

/// One page of the global log, in position order.
#[derive(Serialize, ToSchema)]
pub struct FeedPage {
    /// The events after `after` that the caller may see, oldest first (by
    /// position); empty when there is nothing new.
    pub events: Vec<FeedEvent>,
    /// The newest position at the time of the request.
    pub head: i64,
    /// Pass as `after` for the next page: the last position read, shown or
    /// not (a filtered feed skips the positions it hides); equal to `after`
    /// when there was nothing new.
    pub next_after: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Events after this position (default 0: from the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The caller's view of the feed, or 403.
fn feed_view(principal: &Principal) -> Result<FeedView, ApiError> {
    // Any ticket reader may follow it too; the permission says so.
    FeedView::of(&principal.roles, &principal.scopes).ok_or(ApiError::Forbidden(Permission::EventsRead))
}

/// Up to `limit` positions after `after`, the events among them the caller
/// may see rendered for it, and the last position read.
async fn rendered_batch(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    view: FeedView,
    after: i64,
    limit: i64,
) -> Result<(Vec<FeedEvent>, i64), ApiError> {
    metrics::counter!("opsledger_feed_reads_total").increment(1);
    let client = state.pool.get().await.map_err(StoreError::from)?;
    let mut logged = log::read_after(&client, after, limit).await?;
    let last_read = logged.last().map_or(after, |l| l.position);
    if let FeedView::Filtered(scope) = view {
        let mut streams: Vec<Uuid> = logged.iter().map(|l| l.event.envelope.stream_id).collect();
        streams.sort_unstable();
        streams.dedup();
        let kinds = tickets::kinds_of(&client, &streams).await?;
        logged.retain(|l| {
            kinds
                .get(&l.event.envelope.stream_id)
                .is_some_and(|(kind, linked)| scope.allows(*kind, *linked))
        });
    }
    let mut payloads: Vec<Value> = logged.iter().map(|l| l.event.envelope.payload.clone()).collect();
    reveal(
        req,
        principal,
        state,
        &client,
        &mut payloads.iter_mut().collect::<Vec<_>>(),
    )
    .await?;
    let sees_subjects = principal.can(Permission::PiiRead);
    let events = logged
        .into_iter()
        .zip(payloads)
        .map(|(l, payload)| FeedEvent {
            position: l.position,
            stream_id: (sees_subjects || !SubjectEvent::EVENT_TYPES.contains(&l.event.envelope.event_type.as_str()))
                .then_some(l.event.envelope.stream_id),
            event: HistoryEntry::from_stored(l.event, payload),
            global_hash: hex::encode(l.global_hash),
        })
        .collect();
    Ok((events, last_read))
}

/// Events in position order, a page at a time.
///
/// Auditors and administrators get every event, gap-free. Every other
/// caller that may read tickets (or holds `events:read`) gets only the
/// events of tickets it may read, rendered as `GET /v1/tickets/{id}` would
/// show them; its pages skip positions, and `next_after` moves past them.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(FeedParams),
    responses(
        (status = 200, description = "One page of the global log", body = FeedPage),
    ),
)]
pub async fn page(
    req: HttpRequest,
    principal: Principal,
    params: Query<FeedParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let view = feed_view(&principal)?;
    let after = params.after.unwrap_or(0);
    let limit = params.limit.unwrap_or(100);
    let mut errors = Vec::new();
    if after < 0 {
        errors.push(FieldError::new("/after", messages::field_zero_or_more()));
    }
    if !(1..=1000).contains(&limit) {
        errors.push(FieldError::new("/limit", domain_messages::field_range(1, 1000)));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    let (events, next_after) = rendered_batch(&req, &principal, &state, view, after, limit).await?;
    // The watched head may trail what this read just returned by a moment.
    let head = (*state.log_head.borrow()).max(next_after);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(FeedPage {
            events,
            head,
            next_after,
        }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Events after this position; a `Last-Event-ID` header overrides it.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

struct Follower {
    req: HttpRequest,
    principal: Principal,
    view: FeedView,
    state: web::Data<AppState>,
    head: tokio::sync::watch::Receiver<i64>,
    position: i64,
    pending: VecDeque<Bytes>,
    expires: tokio::time::Instant,
    done: bool,
}

fn frame(event: &FeedEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_default();
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.position, event.event.event_type
    ))
}

impl Follower {
    /// The next chunk of the stream: queued events, a fresh batch, a
    /// heartbeat after 15 quiet seconds, or the end when the token expires.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Follower)> {
        if self.done {
            return None;
        }
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some((Ok(chunk), self));
            }
            if tokio::time::Instant::now() >= self.expires {
                self.done = true;
                return Some((
                    Ok(Bytes::from_static(
                        b"event: end\ndata: {\"reason\":\"token expired\"}\n\n",
                    )),
                    self,
                ));
            }
            let batch = rendered_batch(
                &self.req,
                &self.principal,
                &self.state,
                self.view,
                self.position,
                STREAM_BATCH,
            )
            .await;
            match batch {
                // Read past, whether shown or hidden: the next wait is for a
                // position after this one, never for one already passed.
                Ok((events, last_read)) if last_read > self.position => {
                    self.position = last_read;
                    self.pending.extend(events.iter().map(frame));
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    // The client reconnects with Last-Event-ID and loses nothing.
                    self.done = true;
                    let language = Language::of_request(&self.req, self.state.language);
                    let problem = serde_json::to_string(&e.problem(language)).unwrap_or_default();
                    return Some((Ok(Bytes::from(format!("event: error\ndata: {problem}\n\n"))), self));
                }
            }
            let quiet = tokio::time::sleep_until(self.expires.min(tokio::time::Instant::now() + HEARTBEAT));
            let position = self.position;
            let woke = tokio::select! {
                changed = self.head.wait_for(|head| *head > position) => Some(changed.is_ok()),
                () = quiet => None,
            };
            match woke {
                Some(true) => {}
                // The server is shutting down; the client resumes elsewhere.
                Some(false) => return None,
                None if tokio::time::Instant::now() < self.expires => {
                    // Nothing new for a while: keep proxies from closing the stream.
                    self.pending.push_back(Bytes::from_static(b": heartbeat\n\n"));
                }
                None => {}
            }
        }
    }
}

/// Follow the log live, as Server-Sent Events.
///
/// Each event's `id:` is its position; reconnect with `Last-Event-ID` to
/// resume exactly where you stopped. A comment line is sent every 15 s of
/// quiet; the stream ends (`event: end`) when the caller's token expires.
/// What a caller sees is what `GET /v1/events` shows it: the whole feed for
/// auditors and administrators, the events of readable tickets for others.
/// Browsers read it with `fetch` and a stream reader, sending the token in
/// the `Authorization` header (`EventSource` cannot send headers, and a
/// token never belongs in a URL).
#[utoipa::path(
    get,
    path = "/v1/events/stream",
    tag = "events",
    params(StreamParams, ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this position")),
    responses(
        (status = 200, description = "The log from the position on, then live: one message per event (see StreamMessage)", content_type = "text/event-stream", body = StreamMessage),
    ),
)]
pub async fn stream(
    req: HttpRequest,
    principal: Principal,
    params: Query<StreamParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let view = feed_view(&principal)?;
    let last_event_id = match req.headers().get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|p| *p >= 0)
                .ok_or_else(|| ApiError::BadRequest(messages::last_event_id()))?,
        ),
    };
    let position = last_event_id.or(params.after).unwrap_or(0);
    if position < 0 {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "/after",
            messages::field_zero_or_more(),
        )]));
    }
    if req.method() == actix_web::http::Method::HEAD {
        // The headers of the stream, without following the log.
        return Ok(HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    }
    let remaining = (principal.expires_at - Utc::now().timestamp()).max(0) as u64;
    let follower = Follower {
        head: state.log_head.clone(),
        req,
        principal,
        view,
        state,
        position,
        pending: VecDeque::from([Bytes::from_static(b": following the OpsLedger log\n\n")]),
        expires: tokio::time::Instant::now() + Duration::from_secs(remaining),
        done: false,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(follower, Follower::next)))
}
