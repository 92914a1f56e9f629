//! The one way commands go through HTTP: the request's headers become the
//! command's context and precondition, the app runs the command, and its
//! answer, fresh or replayed, is rendered here: status, `ETag`,
//! `Location` and the body the caller may see.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};
use uuid::Uuid;

use crate::app::commands::{Action, Answer, CommandContext, CommandError, TicketAnswer, TicketCommand};
use crate::app::etag;
use crate::domain::ticket::TicketKind;
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Problem};
use super::request::{command_context, precondition};
use super::tickets::{PRIVATE, TicketDoc, location, parse_lookup, reveal, reveal_to};

/// Runs `action` on the ticket the path's `id` names, at the version the
/// request's `If-Match` requires (none for an action that commutes).
pub(crate) async fn act(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    id: &str,
    raw_body: &[u8],
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let target = parse_lookup(id)?;
    let precondition = precondition(req, action.commutes())?;
    let ctx = command_context(req, principal, raw_body)?;
    let command = TicketCommand::Act {
        target,
        precondition,
        action,
    };
    run(req, principal, state, &ctx, command).await
}

/// Reads the request's body as `B` and runs the action `to_action` makes of
/// it on the ticket the path's `id` names: what every command endpoint on
/// an existing ticket does, after its route admitted the caller.
pub(crate) async fn act_on<B: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    id: &str,
    payload: actix_web::web::Payload,
    to_action: impl FnOnce(B) -> Action,
) -> Result<HttpResponse, ApiError> {
    let body = super::body::read::<B>(req, payload).await?;
    act(req, principal, state, id, &body.raw, to_action(body.value)).await
}

/// Runs a command on tickets and answers with its receipt: `201` with a
/// `Location` for one that creates a ticket, `200` otherwise.
pub(crate) async fn run(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    ctx: &CommandContext,
    command: TicketCommand,
) -> Result<HttpResponse, ApiError> {
    let answer = match state.commands.handle(ctx, &command).await {
        Ok(answer) => answer,
        // A conflict or a stale If-Match carries the ticket's current
        // ETag, so the client need not read the ticket to try again.
        Err(CommandError::Refused { error, ticket, version }) => {
            let mut response = ApiError::from(*error).error_response();
            let tag = etag::etag(&state.etag_key, ticket, version, reveal_to(principal));
            if let Ok(tag) = header::HeaderValue::from_str(&tag) {
                response.headers_mut().insert(header::ETAG, tag);
            }
            if let Ok(name) = header::HeaderName::try_from(etag::TICKET_VERSION) {
                response.headers_mut().insert(name, header::HeaderValue::from(version));
            }
            return Ok(response);
        }
        Err(other) => return Err(other.into()),
    };
    send_answer(req, principal, state, answer, command.creates()).await
}

/// The response header of an escalation that carries the escalated
/// complaint's `ETag` as it is now (the answer itself is the new fault).
pub const COMPLAINT_ETAG: &str = "Complaint-ETag";

/// What a command answers when the caller may not read the ticket, or
/// asked for `Prefer: return=minimal`: the ticket's identity and version,
/// without its view.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Receipt)]
pub struct ReceiptDoc {
    /// Which kind of ticket the command acted on: `complaint`, `fault` or
    /// `change`.
    pub kind: TicketKind,
    /// The ticket's identifier (UUID).
    pub id: Uuid,
    /// The human-facing reference, e.g. `CMP-2026-000123`.
    pub number: String,
    /// The ticket's version after the command.
    pub version: u64,
}

/// Whether the request asks for `Prefer: return=minimal` (RFC 7240 §4.2).
fn prefers_minimal(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
}

/// Renders a command's answer, fresh and replayed alike: the status, the
/// ticket's `ETag` for the caller's masking variant, its `Location` when
/// `created`, and the view rendered for the caller, or the receipt alone
/// when the caller may not read the ticket (now) or prefers it minimal.
async fn send_answer(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    answer: TicketAnswer,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    let TicketAnswer {
        receipt,
        replayed,
        readable,
        escalated,
    } = answer;
    let mut response = HttpResponse::build(if created { StatusCode::CREATED } else { StatusCode::OK });
    response
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .insert_header((
            header::ETAG,
            etag::etag(&state.etag_key, receipt.id, receipt.version, reveal_to(principal)),
        ))
        .insert_header((etag::TICKET_VERSION, receipt.version));
    if created {
        response.insert_header((header::LOCATION, location(receipt.id)));
    }
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    if let Some((complaint, version)) = escalated {
        let tag = etag::etag(&state.etag_key, complaint, version, reveal_to(principal));
        response.insert_header((COMPLAINT_ETAG, tag));
    }
    let minimal = prefers_minimal(req);
    if readable && !minimal {
        let mut view = receipt.view;
        let client = state.pool.get().await.map_err(store::StoreError::from)?;
        reveal(req, principal, state, &client, &mut [&mut view]).await?;
        return Ok(response.json(view));
    }
    if minimal {
        response.insert_header(("Preference-Applied", "return=minimal"));
    }
    Ok(response.json(ReceiptDoc {
        kind: receipt.kind,
        id: receipt.id,
        number: receipt.number,
        version: receipt.version,
    }))
}

/// Sends the answer of a command whose result is a document of its own
/// (a freeze window, a merge's account), fresh or replayed alike.
pub(crate) fn send_document(answer: Answer<impl Serialize>, status: StatusCode) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, PRIVATE));
    if answer.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.json(answer.document)
}

/// The answers of a state transition on an existing ticket: a command that
/// needs `If-Match`. (For the documentation: the answers are rendered by
/// [`send_answer`] and the problem mapping.)
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum TransitionAnswers {
    /// The ticket after the command.
    #[response(status = 200)]
    Done(TicketDoc),
    /// No such ticket of this kind, or none the caller may read (`not-found`).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Not allowed in the ticket's current state (`invalid-transition`, naming `state` and `command`) or refused by a
    /// rule (`rule-violated`, `schedule-conflict`), with the ticket's current `ETag`; or a request with the same
    /// `Idempotency-Key` is still in progress (`idempotency-in-progress`; retry after `Retry-After`).
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// `If-Match` names another version than the current one, whose `ETag` the answer carries, or another request
    /// changed the ticket first (`precondition-failed`).
    #[response(status = 412, content_type = "application/problem+json")]
    Stale(Problem),
    /// Invalid fields, every one listed in `errors` (`validation-failed`), or an `Idempotency-Key` used before for
    /// another request (`idempotency-key-reused`).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// `If-Match` is missing (`precondition-required`).
    #[response(status = 428, content_type = "application/problem+json")]
    IfMatchRequired(Problem),
}

/// The answers of a command on an existing ticket that commutes with
/// others (a note, a repair): no `If-Match` needed, so no 428.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum CommutingAnswers {
    /// The ticket after the command.
    #[response(status = 200)]
    Done(TicketDoc),
    /// No such ticket of this kind, or none the caller may read (`not-found`).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Refused by a rule (`rule-violated`), with the ticket's current `ETag`; or a request with the same
    /// `Idempotency-Key` is still in progress (`idempotency-in-progress`; retry after `Retry-After`).
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// An `If-Match` that was sent names another version than the current one (`precondition-failed`).
    #[response(status = 412, content_type = "application/problem+json")]
    Stale(Problem),
    /// Invalid fields, every one listed in `errors` (`validation-failed`), or an `Idempotency-Key` used before for
    /// another request (`idempotency-key-reused`).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}
