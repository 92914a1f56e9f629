//! Data subjects' rights over HTTP: erasure and export (admin only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::permissions::Permission;
use crate::domain::subject::EraseSubject;
use crate::privacy::access_log::{self, AccessQuery, AccessRecord};
use crate::privacy::render::Reveal;
use crate::store::StoreError;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::error::{ApiError, Problem};
use super::history::HistoryEntry;
use super::request::{client_request_id, command_context, request_id};

fn parse_subject(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound(format!("no data subject {id:?}")))
}

/// The result of an erasure.
#[derive(Serialize, ToSchema)]
pub struct ErasureReceipt {
    pub subject: Uuid,
    /// The `subject.erased` event in the log.
    pub event_id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// Views whose sealed values were replaced by an erased marker.
    pub tickets_scrubbed: u64,
    /// Stored idempotent responses that carried the subject's data, deleted.
    pub responses_deleted: u64,
}

/// Erase a data subject's personal data.
///
/// Destroys the subject's key, so every value sealed under it, in every
/// event, view, feed and export, is unreadable from now on; deletes their
/// blind-index entries and the stored responses that carried their data;
/// and records who erased whom, when and why in the log (without personal
/// data). The event log is otherwise untouched and every chain still verifies.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/erasure",
    tag = "personal data",
    request_body = EraseSubject,
    params(("id" = Uuid, Path, description = "The data subject (the `subject` of a complaint)")),
    responses(
        (status = 200, description = "Erased", body = ErasureReceipt),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already erased", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn erase(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SubjectAdmin)?;
    let subject = parse_subject(&id)?;
    let body = body::read::<EraseSubject>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let erasure = state.subjects.erase(&ctx, subject, &body.value).await?;
    Ok(HttpResponse::Ok().json(ErasureReceipt {
        subject: erasure.subject,
        event_id: erasure.event_id,
        erased_at: erasure.erased_at,
        tickets_scrubbed: erasure.tickets_scrubbed,
        responses_deleted: erasure.responses_deleted,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ExportedTicket {
    /// The current view, personal data in clear.
    pub view: Value,
    pub history: Vec<HistoryEntry>,
}

/// Everything held about one data subject.
#[derive(Serialize, ToSchema)]
pub struct SubjectExport {
    pub subject: Uuid,
    /// Whether the subject's data was erased (then every personal field reads `[erased]`).
    pub erased: bool,
    pub exported_at: DateTime<Utc>,
    pub tickets: Vec<ExportedTicket>,
    /// Who saw this subject's personal data, newest first (up to 500).
    pub access_log: Vec<AccessRecord>,
}

/// Export everything held about a data subject (the right of access).
///
/// Personal data is in clear; the export itself is recorded in the access log.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/export",
    tag = "personal data",
    params(("id" = Uuid, Path, description = "The data subject")),
    responses(
        (status = 200, description = "Everything held about the subject", body = SubjectExport),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::SubjectAdmin)?;
    let subject = parse_subject(&id)?;
    let records = state
        .subjects
        .records(subject)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no data subject {subject}")))?;
    let client = state.pool.get().await.map_err(StoreError::from)?;
    let mut docs: Vec<Value> = Vec::new();
    for (ticket, events) in &records.tickets {
        let mut view = ticket.view.clone();
        if let Value::Object(map) = &mut view {
            map.insert("kind".into(), Value::String(ticket.kind.clone()));
        }
        docs.push(view);
        docs.extend(events.iter().map(|e| e.envelope.payload.clone()));
    }
    let revealed = state
        .privacy
        .render_all(&client, &mut docs.iter_mut().collect::<Vec<_>>(), Reveal::Clear)
        .await?;
    // The export is a read of this subject's data even when nothing was left
    // to reveal; it is recorded before anything is sent.
    let mut subjects: Vec<Uuid> = revealed.into_iter().collect();
    if !subjects.contains(&subject) {
        subjects.push(subject);
    }
    state
        .access_log
        .record(
            &principal.actor().id,
            &subjects,
            "GET /v1/subjects/{id}/export",
            &request_id(&req),
            client_request_id(&req).as_deref(),
        )
        .await?;
    let mut docs = docs.into_iter();
    let mut tickets = Vec::new();
    for (_, events) in records.tickets {
        let view = docs.next().unwrap_or_default();
        let history = events
            .into_iter()
            .map(|e| HistoryEntry::from_stored(e, docs.next().unwrap_or_default()))
            .collect();
        tickets.push(ExportedTicket { view, history });
    }
    let access_log = access_log::query(
        &client,
        &AccessQuery {
            subject: Some(subject),
            limit: 500,
            ..AccessQuery::default()
        },
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(SubjectExport {
            subject,
            erased: records.erased,
            exported_at: Utc::now(),
            tickets,
            access_log,
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/subjects/{id}/erasure").route(web::post().to(erase)))
        .service(web::resource("/v1/subjects/{id}/export").route(web::get().to(export)));
}
