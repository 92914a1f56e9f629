//! Request-wide behaviour: a request id on every log line and response, an
//! access log line, and problem+json for errors the framework produces by
//! itself (unknown route, wrong method, bad query string).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, ResponseError};
use tracing::Instrument;

use super::error::{ApiError, PROBLEM_JSON};
use super::i18n::Language;
use super::messages;
use super::request::RequestIds;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Echoes the client's own `X-Request-Id`, which is not the request's id.
pub const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

/// The client's `X-Request-Id`, kept if it is short, visible ASCII, so log
/// lines can never be forged or flooded through it; otherwise dropped.
fn client_request_id_of(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
}

/// Every request gets an id of the server's own, which the audit trail
/// (event metadata, the personal-data access log) records and
/// `X-Request-Id` returns. An id the client sent is another principal's to
/// choose too, so it is kept beside it only as `client_request_id`, and
/// returned in `X-Client-Request-Id`.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let ids = RequestIds {
        id: uuid::Uuid::now_v7().to_string(),
        client: client_request_id_of(&req),
    };
    req.extensions_mut().insert(ids.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %ids.id,
        client_request_id = ids.client.as_deref(),
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    async move {
        let method = method_label(req.method());
        let response = next.call(req).await?;
        let route = route_label(response.request());
        let response = problem_fallback(response);
        let mut response = localize_problem(response);
        if let Ok(value) = HeaderValue::from_str(&ids.id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        if let Some(value) = ids.client.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
            response.headers_mut().insert(CLIENT_REQUEST_ID, value);
        }
        let status = response.status().as_u16();
        let elapsed = started.elapsed().as_secs_f64();
        let labels = [
            ("method", method.to_owned()),
            ("route", route),
            ("status", status.to_string()),
        ];
        metrics::counter!("opsledger_http_requests_total", &labels).increment(1);
        metrics::histogram!("opsledger_http_request_duration_seconds", &labels).record(elapsed);
        let elapsed_ms = elapsed * 1000.0;
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

/// The method as a metric label. Anyone may send any token as a method,
/// unauthenticated, and the recorder keeps every series it has seen for the
/// life of the process, so only the methods the API knows get their own
/// label; everything else is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route as a metric label: the pattern of the matched route (a set
/// the server defines), never the raw path, which the client chooses and
/// which holds ids; `unmatched` when no route matched.
fn route_label(req: &HttpRequest) -> String {
    req.match_pattern().unwrap_or_else(|| "unmatched".to_owned())
}

/// Puts a problem document into the language the request asks for: every
/// member in words (`title`, `detail`, each `errors[].detail`), from the
/// error it was made from, which [`ApiError`]'s response carries beside its
/// English body; `type`, pointers and the other members stay as they are.
/// Every problem says its language in `Content-Language`.
fn localize_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !is_problem {
        return response;
    }
    let default = response
        .request()
        .app_data::<actix_web::web::Data<super::AppState>>()
        .map_or(Language::En, |state| state.language);
    let language = Language::of_request(response.request(), default);
    let (req, mut res) = response.into_parts();
    res.headers_mut()
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(language.tag()));
    if language == Language::En {
        return ServiceResponse::new(req, res);
    }
    let localized = res
        .extensions()
        .get::<ApiError>()
        .and_then(|error| serde_json::to_vec(&error.problem(language)).ok());
    match localized {
        Some(body) => ServiceResponse::new(req, res.set_body(BoxBody::new(body))),
        None => ServiceResponse::new(req, res),
    }
}

/// Rewrites error responses that are not problem documents yet (actix's own
/// 404, 405 and extractor errors) into problem+json of the matching kind.
fn problem_fallback<B: MessageBody + 'static>(response: ServiceResponse<B>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !status.is_client_error() && !status.is_server_error() || is_problem {
        return response.map_into_boxed_body();
    }
    let error = match status.as_u16() {
        404 => ApiError::NotFound(messages::no_such_resource()),
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge(0),
        415 => ApiError::UnsupportedMediaType(messages::media_type_unsupported()),
        400..=499 => ApiError::BadRequest(match response.response().error() {
            Some(e) => messages::framework_refused(e),
            None => messages::request_invalid(),
        }),
        503 => ApiError::Unavailable(messages::service_unavailable()),
        _ => ApiError::Internal(format!("unhandled status {status}")),
    };
    let (req, _) = response.into_parts();
    let mut problem = error.error_response();
    // Keep the status the framework chose (e.g. 400 for a bad query).
    *problem.status_mut() = status;
    ServiceResponse::new(req, problem)
}
