//! The JSON body extractor of every command.
//!
//! It refuses a body that is not `application/json` (415), larger than the
//! configured limit (413), not JSON at all (400), or JSON of the wrong shape
//! (422, naming the field by JSON Pointer). Unknown fields are refused by the
//! command types themselves. It keeps the raw bytes for the idempotency
//! fingerprint.

use actix_web::{HttpRequest, http::header, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::FieldError;

use super::error::ApiError;

/// The configured maximum body size, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

pub struct JsonBody<T> {
    pub value: T,
    pub raw: web::Bytes,
}

/// Reads and parses the body of `req`. Handlers call this after checking
/// permissions, so a caller without the right gets 403 whatever it sent.
pub async fn read<T: DeserializeOwned>(req: &HttpRequest, mut payload: web::Payload) -> Result<JsonBody<T>, ApiError> {
    let limit = req.app_data::<BodyLimit>().map_or(64 * 1024, |l| l.0);
    check_content_type(req)?;
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the request body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    let raw = body.freeze();
    let value = parse(&raw)?;
    Ok(JsonBody { value, raw })
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let value = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        Ok(())
    } else if value.is_empty() {
        Err(ApiError::UnsupportedMediaType(
            "the request has no Content-Type; send application/json".into(),
        ))
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {value:?} is not supported; send application/json"
        )))
    }
}

/// Parses in two steps so that malformed JSON (400) and well-formed JSON of
/// the wrong shape (422 with a pointer) are told apart.
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|e| ApiError::MalformedBody(format!("the request body is not valid JSON: {e}")))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = pointer_of(e.path());
        let detail = e.inner().to_string();
        // serde reports a missing field at its parent; point at the field.
        if let Some(field) = detail
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            pointer.push('/');
            pointer.push_str(&field.replace('~', "~0").replace('/', "~1"));
        }
        ApiError::Validation(vec![FieldError::new(pointer, detail)])
    })
}

/// Turns serde's path (`complainant.phone`, `items[2]`) into a JSON Pointer.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    fn problem(raw: &str) -> ApiError {
        match parse::<Outer>(raw.as_bytes()) {
            Err(e) => e,
            Ok(v) => panic!("parsed {v:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(problem("{\"inner\":"), ApiError::MalformedBody(_)));
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        match problem(r#"{"inner": {"n": 300}}"#) {
            ApiError::Validation(errors) => assert_eq!(errors[0].pointer, "/inner/n"),
            other => panic!("{other:?}"),
        }
        match problem(r#"{"inner": {}}"#) {
            ApiError::Validation(errors) => assert_eq!(errors[0].pointer, "/inner/n"),
            other => panic!("{other:?}"),
        }
        match problem(r#"{"inner": {"n": 1}, "extra": true}"#) {
            ApiError::Validation(errors) => assert!(errors[0].detail.contains("extra")),
            other => panic!("{other:?}"),
        }
    }
}
