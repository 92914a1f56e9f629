//! Data subjects' rights over HTTP (admin only): finding a person's
//! subjects by contact, export, erasure, and merging two subjects.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::commands::Merge;
use crate::app::subjects::Erasure;
use crate::domain::subject::{EraseSubject, MergeSubjects, ValidMerge};
use crate::domain::{FieldError, messages as domain_messages};
use crate::privacy::access_log::{self, AccessQuery, AccessRecord};
use crate::privacy::crypto::IndexKind;
use crate::privacy::render::Gone;
use crate::store::StoreError;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::commands::send_document;
use super::error::{ApiError, Problem};
use super::history::HistoryEntry;
use super::messages;
use super::request::command_context;
use super::tickets::record_reads;
use crate::projections::tickets::with_kind;

fn parse_subject(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound(domain_messages::no_such_subject(id)))
}

/// Erase a data subject's personal data.
///
/// Destroys the subject's key, so every value sealed under it, in every
/// event, view, feed and export, is unreadable from now on; deletes every
/// blind-index entry that points to them; scrubs the stored idempotent
/// responses that carried their data (a retry replays the scrubbed
/// response); and records who erased whom, when and why in the log
/// (without personal data). The event log is otherwise untouched and every
/// chain still verifies. A person may hold several subjects: find them with
/// `GET /v1/subjects?phone=…` and erase each.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/erasure",
    tag = "personal data",
    request_body = EraseSubject,
    params(("id" = Uuid, Path, description = "The data subject (the `subject` of a complaint)")),
    responses(
        (status = 200, description = "Erased", body = Erasure),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already erased, or merged or repaired into other subjects (erase those)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn erase(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let subject = parse_subject(&id)?;
    let body = body::read::<EraseSubject>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let answer = state.subjects.erase(&ctx, subject, &body.value).await?;
    Ok(send_document(answer, StatusCode::OK))
}

/// One ticket that holds the subject's personal data, as the export gives it.
#[derive(Serialize, ToSchema)]
pub struct ExportedTicket {
    /// The current view, personal data in clear.
    pub view: Value,
    /// Every event of the ticket, oldest first, this subject's personal data in
    /// clear (another subject's reads `[withheld]`, `[merged]` or
    /// `[repaired]`).
    pub history: Vec<HistoryEntry>,
}

/// What became of a data subject.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum SubjectStatus {
    /// Its key exists; its data reads in clear to those allowed.
    Active,
    Erased,
    /// Merged into another subject, which holds its complaints now.
    Merged,
    /// Split by a privacy repair into subjects of their own.
    Repaired,
}

/// Everything held about one data subject.
#[derive(Serialize, ToSchema)]
pub struct SubjectExport {
    /// The data subject exported (UUID).
    pub subject: Uuid,
    /// What became of the subject: still active, erased, merged into another or
    /// split by a privacy repair.
    pub status: SubjectStatus,
    /// Whether the subject's data was erased (then every personal field reads `[erased]`).
    pub erased: bool,
    /// When the export was made (RFC 3339 date-time, UTC).
    pub exported_at: DateTime<Utc>,
    /// Every ticket that carries the subject's personal data, each with its
    /// current view and its full history; empty when none does any more.
    pub tickets: Vec<ExportedTicket>,
    /// Who saw this subject's personal data, newest first (up to 500).
    pub access_log: Vec<AccessRecord>,
}

/// Export everything held about a data subject (the right of access).
///
/// Personal data sealed under this subject's key is in clear, and nothing
/// else is opened: a value of another subject in the same history (before
/// a merge or a repair moved the ticket) reads `[withheld]`, `[merged]` or
/// `[repaired]`. The export itself is recorded in the access log.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/export",
    tag = "personal data",
    params(("id" = Uuid, Path, description = "The data subject")),
    responses(
        (status = 200, description = "Everything held about the subject", body = SubjectExport),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn export(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let subject = parse_subject(&id)?;
    let records = state
        .subjects
        .records(subject)
        .await?
        .ok_or_else(|| ApiError::NotFound(domain_messages::no_such_subject(subject)))?;
    let client = state.pool.get().await.map_err(StoreError::from)?;
    let mut docs: Vec<Value> = Vec::new();
    for (ticket, events) in &records.tickets {
        docs.push(with_kind(ticket.view.clone(), ticket.kind));
        docs.extend(events.iter().map(|e| e.envelope.payload.clone()));
    }
    let revealed = state
        .privacy
        .render_for_subject(&client, &mut docs.iter_mut().collect::<Vec<_>>(), subject)
        .await?;
    // The export is a read of this subject's data even when nothing was left
    // to reveal.
    let mut subjects: Vec<Uuid> = revealed.into_iter().collect();
    if !subjects.contains(&subject) {
        subjects.push(subject);
    }
    record_reads(&req, &principal, &state, subjects).await?;
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
            status: match records.gone {
                None | Some(Gone::Withheld) => SubjectStatus::Active,
                Some(Gone::Erased) => SubjectStatus::Erased,
                Some(Gone::Merged) => SubjectStatus::Merged,
                Some(Gone::Repaired) => SubjectStatus::Repaired,
            },
            erased: records.gone == Some(Gone::Erased),
            exported_at: Utc::now(),
            tickets,
            access_log,
        }))
}

/// One exact contact to look subjects up by.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactParams {
    /// An exact phone number, in any formatting (digits and a leading `+` count).
    pub phone: Option<String>,
    /// An exact email address (case-insensitive).
    #[param(format = Email)]
    pub email: Option<String>,
    /// An exact customer reference.
    pub customer_ref: Option<String>,
}

/// A subject an exact contact identifies.
#[derive(Serialize, ToSchema)]
pub struct SubjectMatch {
    /// A data subject (UUID) the contact identifies.
    pub subject: Uuid,
    /// The tickets that carry the subject's personal data (id and number).
    pub tickets: Vec<SubjectTicket>,
}

/// A ticket that carries a data subject's personal data: its id and number.
#[derive(Serialize, ToSchema)]
pub struct SubjectTicket {
    /// The ticket's identifier (UUID).
    pub id: Uuid,
    /// The ticket's human-facing reference, e.g. `CMP-2026-000001`.
    pub number: String,
}

/// The data subjects one exact contact identifies.
#[derive(Serialize, ToSchema)]
pub struct SubjectMatches {
    /// Every data subject the contact identifies; empty when it identifies
    /// none.
    pub items: Vec<SubjectMatch>,
}

/// Find data subjects by an exact contact (one of `phone`, `email`,
/// `customer_ref`).
///
/// A filing gets a data subject of its own unless its filer named one, or
/// the deployment declares an identifier strong: a shared phone or email
/// never joins two people. So one person may hold several subjects, and one
/// contact may identify several people; handling a person's request, look
/// at each subject's export, then export, erase or merge the ones that are
/// theirs. The lookup is recorded in the access log for every subject found.
#[utoipa::path(
    get,
    path = "/v1/subjects",
    tag = "personal data",
    params(ContactParams),
    responses(
        (status = 200, description = "Every subject the contact identifies (possibly none)", body = SubjectMatches),
    ),
)]
pub async fn find(
    req: HttpRequest,
    principal: Principal,
    params: web::Query<ContactParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let given: Vec<(IndexKind, &str)> = [
        (IndexKind::Phone, params.phone.as_deref()),
        (IndexKind::Email, params.email.as_deref()),
        (IndexKind::CustomerRef, params.customer_ref.as_deref()),
    ]
    .into_iter()
    .filter_map(|(kind, value)| value.map(|v| (kind, v)))
    .collect();
    let [(kind, value)] = given[..] else {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "",
            messages::field_give_one_contact(),
        )]));
    };
    let found = state.subjects.by_contact(kind, value).await?;
    let subjects: Vec<Uuid> = found.iter().map(|m| m.subject).collect();
    // Which people a contact identifies is personal data of each.
    record_reads(&req, &principal, &state, subjects).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(SubjectMatches {
            items: found
                .into_iter()
                .map(|m| SubjectMatch {
                    subject: m.subject,
                    tickets: m
                        .tickets
                        .into_iter()
                        .map(|t| SubjectTicket {
                            id: t.id,
                            number: t.number,
                        })
                        .collect(),
                })
                .collect(),
        }))
}

/// Merge a data subject into another, because both are the same person.
///
/// Every complaint of the subject is sealed anew under the other subject's
/// key (a `complaint.personal_data_resealed` event on each, naming the
/// reason), the subject's contacts are indexed for the other, and the
/// subject's key is destroyed: its earlier events read `[merged]` from then
/// on, and the other subject's export and erasure cover everything.
/// Recorded as `subject.merged` on the merged subject's stream.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/merge",
    tag = "personal data",
    request_body = MergeSubjects,
    params(
        ("id" = Uuid, Path, description = "The data subject merged away"),
    ),
    responses(
        (status = 200, description = "Merged", body = Merge),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The subject was erased, merged or repaired already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: no reason, or `into` names no live subject (or the same one)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn merge(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let subject = parse_subject(&id)?;
    let body = body::read::<MergeSubjects>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let merge = ValidMerge::check(subject, &body.value)?;
    let answer = state.commands.merge_subjects(&ctx, &merge).await?;
    Ok(send_document(answer, StatusCode::OK))
}
