//! Reading what every command request carries besides its body: the
//! request id, correlation, `If-Match` and `Idempotency-Key`.

use actix_web::{HttpMessage, HttpRequest, http::header};
use sha2::{Digest, Sha256};

use crate::app::commands::{CommandContext, IdempotencyRequest, Precondition};
use crate::domain::permissions::Reader;

use super::auth::Principal;
use super::error::ApiError;
use super::messages;

/// The ids of the current request, set by the request-id middleware.
#[derive(Debug, Clone)]
pub struct RequestIds {
    /// The server's own id (UUIDv7), new for every request: the one the
    /// audit trail records, because no client can choose or repeat it.
    pub id: String,
    /// The client's `X-Request-Id`, kept only to correlate with the
    /// client's own logs: any principal can send any id, including one
    /// another principal used.
    pub client: Option<String>,
}

/// The server's id of the current request.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestIds>()
        .map_or_else(|| "unknown".to_owned(), |r| r.id.clone())
}

/// The id the client gave the current request, if it gave a usable one.
pub fn client_request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestIds>().and_then(|r| r.client.clone())
}

const MAX_KEY_LEN: usize = 255;

fn header_text(req: &HttpRequest, name: &str) -> Result<Option<String>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim().to_owned()))
            .map_err(|_| ApiError::BadRequest(messages::header_not_text(name))),
    }
}

/// An opaque client-chosen token: 1 to 255 visible ASCII characters.
fn check_token(name: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > MAX_KEY_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(messages::header_token_shape(name, MAX_KEY_LEN)));
    }
    Ok(())
}

/// Builds the command context. The idempotency fingerprint covers the
/// method, the path and the exact body bytes, so reusing a key for any
/// other request is detected.
pub fn command_context(req: &HttpRequest, principal: &Principal, body: &[u8]) -> Result<CommandContext, ApiError> {
    let request_id = request_id(req);
    let correlation_id = match header_text(req, "x-correlation-id")? {
        Some(c) => {
            check_token("X-Correlation-Id", &c)?;
            c
        }
        None => request_id.clone(),
    };
    let causation_id = header_text(req, "x-causation-id")?;
    if let Some(c) = &causation_id {
        check_token("X-Causation-Id", c)?;
    }
    let idempotency = match header_text(req, "idempotency-key")? {
        None => None,
        Some(key) => {
            check_token("Idempotency-Key", &key)?;
            let mut h = Sha256::new();
            h.update(req.method().as_str());
            h.update([0]);
            h.update(req.path());
            h.update([0]);
            h.update(body);
            Some(IdempotencyRequest {
                key,
                request_hash: h.finalize().to_vec(),
            })
        }
    };
    let actor = principal.actor();
    Ok(CommandContext {
        reader: Reader::new(&principal.roles, &principal.scopes, actor.id.clone()),
        actor,
        request_id,
        client_request_id: client_request_id(req),
        correlation_id,
        causation_id,
        idempotency,
    })
}

/// The precondition of a command. Transitions need `If-Match` (428 when it
/// is missing); commands that commute need none, but honour one if sent.
pub fn precondition(req: &HttpRequest, commutes: bool) -> Result<Precondition, ApiError> {
    let tags: Vec<String> = req
        .headers()
        .get_all(header::IF_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if !tags.is_empty() {
        if tags.iter().any(|t| t.starts_with("W/")) {
            // RFC 9110 §13.1.1: If-Match uses the strong comparison.
            return Err(ApiError::PreconditionFailed(messages::weak_entity_tag()));
        }
        Ok(Precondition::IfMatch(tags))
    } else if commutes {
        Ok(Precondition::Commutes)
    } else {
        Err(ApiError::PreconditionRequired)
    }
}

/// Parses an RFC 3339 query parameter, recording a field error when it is
/// malformed so that every bad parameter is reported at once.
pub fn parse_instant(
    errors: &mut Vec<crate::domain::FieldError>,
    name: &str,
    value: &Option<String>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = value.as_ref()?;
    match chrono::DateTime::parse_from_rfc3339(v) {
        Ok(t) => Some(t.with_timezone(&chrono::Utc)),
        Err(_) => {
            errors.push(crate::domain::FieldError::new(
                format!("/{name}"),
                messages::field_instant(),
            ));
            None
        }
    }
}
