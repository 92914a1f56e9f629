//! `POST /v1/faults`, one endpoint per fault command, escalation of a
//! complaint into a fault, and the fault queue.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::domain::FieldError;
use crate::domain::fault::{
    AddNote, AssignTechnician, Close, CompleteActionItem, EscalateComplaint, Evaluate, FaultCommand, LogRepair,
    Mitigate, Reopen, ReportFault, Resolve, StartInvestigation, Triage, WriteReview,
};
use crate::domain::permissions::Permission;
use crate::projections::tickets;
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::error::{ApiError, Problem};
use super::query::Query;
use super::request::{command_context, precondition};
use super::tickets::{PRIVATE, TicketDoc, TicketPage, parse_lookup, run_on_ticket, send_outcome, stored_response};

/// Report a fault.
///
/// Returns the new fault with its number (`FLT-2026-000123`), a `Location`
/// and an `ETag`. A manager triages it next.
#[utoipa::path(
    post,
    path = "/v1/faults",
    tag = "faults",
    request_body = ReportFault,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first response to this key is returned again; the same key with a different body is refused (422)."),
    ),
    responses(
        (status = 201, description = "Reported", body = TicketDoc,
            headers(("Location" = String, description = "The ticket"), ("ETag" = String, description = "Current version"), ("Ticket-Version" = u64, description = "The version the ETag names, in clear (the ETag itself is opaque)"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn report_fault(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::FaultReport)?;
    let body = body::read::<ReportFault>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let render = |row: &_| stored_response(&state, row, &principal, StatusCode::CREATED, true);
    let outcome = state.commands.report_fault(&ctx, &body.value, render).await?;
    send_outcome(&req, &principal, &state, outcome, StatusCode::CREATED, true).await
}

/// Escalate a complaint into a new fault.
///
/// Creates the fault (detected by a customer complaint, linked back to the
/// complaint) and records the escalation on the complaint, atomically: both
/// or neither. Returns the new fault; the complaint's new version is on its
/// own view. `If-Match` names the complaint's version.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/escalate",
    tag = "complaints",
    request_body = EscalateComplaint,
    params(
        ("id" = String, Path, description = "Complaint id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the complaint version this escalation is based on."),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe; scoped to the caller."),
    ),
    responses(
        (status = 201, description = "The new fault", body = TicketDoc,
            headers(("Location" = String, description = "The fault"), ("ETag" = String, description = "The fault's version"), ("Ticket-Version" = u64, description = "The version the ETag names, in clear (the ETag itself is opaque)"))),
        (status = 400, description = "Malformed JSON or headers", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in the complaint's state, or already escalated; or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is stale", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn escalate(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::ComplaintEscalate)?;
    let body = body::read::<EscalateComplaint>(&req, payload).await?;
    let target = parse_lookup(&id)?;
    let precondition = precondition(&req, false)?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let render = |row: &_| stored_response(&state, row, &principal, StatusCode::CREATED, true);
    let outcome = state
        .commands
        .escalate(&ctx, &target, &body.value, &precondition, render)
        .await?;
    send_outcome(&req, &principal, &state, outcome, StatusCode::CREATED, true).await
}

/// Runs one command against an existing fault.
async fn run(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    id: &str,
    command: FaultCommand,
    raw: &[u8],
    commutes: bool,
) -> Result<HttpResponse, ApiError> {
    run_on_ticket(
        req,
        principal,
        state,
        id,
        raw,
        commutes,
        async |ctx, target, precondition, render| {
            state
                .commands
                .handle_fault(ctx, target, &command, precondition, render)
                .await
        },
    )
    .await
}

/// Declares one fault command endpoint (see [`super::command_endpoint`]).
macro_rules! fault_command {
    ($(#[doc = $doc:literal])* $name:ident, $($rest:tt)*) => {
        command_endpoint!(
            tag = "faults",
            id = "Fault id (UUID) or number (FLT-2026-000123)",
            commuting = "The ETag of the version this change is based on. Required unless the command commutes (notes, repairs, completed action items).",
            not_found = "No such fault",
            conflict = "Not allowed in the fault's current state, or refused by a rule (the problem says which); or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)",
            run = run,
            command = FaultCommand,
            $(#[doc = $doc])* $name, $($rest)*
        );
    };
}

fault_command!(
    /// Triage a fault: severity (1 critical … 4 low), the engineer who evaluates it, and, at severity 1 (which cannot stay unassigned), its technician. Also re-triages an open fault.
    triage, "/v1/faults/{id}/triage", Triage, Triage, Permission::FaultTriage, commutes = false);
fault_command!(
    /// Assign (or reassign) the technician who works the fault.
    assign_technician, "/v1/faults/{id}/assign", AssignTechnician, AssignTechnician, Permission::FaultTriage, commutes = false);
fault_command!(
    /// Record the evaluation: nature of the problem, estimated effort, proposed priority. Only the evaluator named at triage may.
    evaluate, "/v1/faults/{id}/evaluate", Evaluate, Evaluate, Permission::FaultWork, commutes = false);
fault_command!(
    /// Start investigating a triaged fault (needs a technician).
    start_investigation, "/v1/faults/{id}/investigate", StartInvestigation, StartInvestigation, Permission::FaultWork, commutes = false);
fault_command!(
    /// Record that a workaround is in place.
    mitigate, "/v1/faults/{id}/mitigate", Mitigate, Mitigate, Permission::FaultWork, commutes = false);
fault_command!(
    /// Resolve a fault with its resolution and root cause. Every complaint the fault concerns gets the resolution on its own history, in the same transaction.
    resolve, "/v1/faults/{id}/resolve", Resolve, Resolve, Permission::FaultWork, commutes = false);
fault_command!(
    /// Close a resolved fault; severity 1 and 2 need a post-incident review first.
    close, "/v1/faults/{id}/close", Close, Close, Permission::FaultWork, commutes = false);
fault_command!(
    /// Reopen a resolved or closed fault.
    reopen, "/v1/faults/{id}/reopen", Reopen, Reopen, Permission::FaultWork, commutes = false);
fault_command!(
    /// Log a repair (a maintenance record): technician, action taken, start and end, person-minutes, maintenance type, parts. Commutes: no If-Match needed.
    log_repair, "/v1/faults/{id}/repairs", LogRepair, LogRepair, Permission::FaultWork, commutes = true);
fault_command!(
    /// Write the post-incident review of a resolved fault: summary, root cause, contributing factors, action items.
    write_review, "/v1/faults/{id}/review", WriteReview, WriteReview, Permission::FaultWork, commutes = false);
fault_command!(
    /// Mark one action item of the post-incident review done. Commutes: no If-Match needed.
    complete_action_item, "/v1/faults/{id}/review/completed-items", CompleteActionItem, CompleteActionItem, Permission::FaultWork, commutes = true);
fault_command!(
    /// Add an internal note to a fault. Commutes: no If-Match needed.
    add_note, "/v1/faults/{id}/notes", AddNote, AddNote, Permission::FaultWork, commutes = true);

/// Paging of the fault queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// How many faults, 1 to 500 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page. The queue is live: a fault
    /// triaged to another severity meanwhile may move past the cursor.
    pub cursor: Option<String>,
}

/// The fault queue: every open fault (not resolved or closed), untriaged
/// first, then by severity (critical first), oldest first within each.
#[utoipa::path(
    get,
    path = "/v1/faults/queue",
    tag = "faults",
    params(QueueParams),
    responses(
        (status = 200, description = "Open faults in working order; `next_cursor` when more follow", body = TicketPage),
        (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn queue(
    principal: Principal,
    params: Query<QueueParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::FaultRead)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "/limit",
            "must be 1 to 500",
        )]));
    }
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            tickets::QueueCursor::decode(c, &state.cursor_key).ok_or_else(|| {
                ApiError::InvalidQuery(vec![FieldError::new("/cursor", "is not a cursor of this queue")])
            })
        })
        .transpose()?;
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let (rows, next) = tickets::fault_queue(&client, after, limit).await?;
    // Faults carry no personal data, so there is nothing to reveal or mask.
    let items: Vec<Value> = rows.into_iter().map(super::tickets::into_raw_view).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(super::tickets::ViewPage {
            items,
            next_cursor: next.map(|c| c.encode(&state.cursor_key)),
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/faults").route(web::post().to(report_fault)))
        .service(web::resource("/v1/faults/queue").route(web::get().to(queue)))
        .service(web::resource("/v1/complaints/{id}/escalate").route(web::post().to(escalate)))
        .service(web::resource("/v1/faults/{id}/triage").route(web::post().to(triage)))
        .service(web::resource("/v1/faults/{id}/assign").route(web::post().to(assign_technician)))
        .service(web::resource("/v1/faults/{id}/evaluate").route(web::post().to(evaluate)))
        .service(web::resource("/v1/faults/{id}/investigate").route(web::post().to(start_investigation)))
        .service(web::resource("/v1/faults/{id}/mitigate").route(web::post().to(mitigate)))
        .service(web::resource("/v1/faults/{id}/resolve").route(web::post().to(resolve)))
        .service(web::resource("/v1/faults/{id}/close").route(web::post().to(close)))
        .service(web::resource("/v1/faults/{id}/reopen").route(web::post().to(reopen)))
        .service(web::resource("/v1/faults/{id}/repairs").route(web::post().to(log_repair)))
        .service(web::resource("/v1/faults/{id}/review").route(web::post().to(write_review)))
        .service(web::resource("/v1/faults/{id}/review/completed-items").route(web::post().to(complete_action_item)))
        .service(web::resource("/v1/faults/{id}/notes").route(web::post().to(add_note)));
}
