//! The query-string extractor of every endpoint.
//!
//! Like `web::Query`, but it first refuses control characters in any value
//! (400 `invalid-query`, each offending parameter named by its pointer).
//! PostgreSQL cannot hold NUL in `text` and fails the whole statement, and
//! no filter, cursor or instant has a use for the others; checking here
//! keeps every parameter of every endpoint covered, including those added
//! later, instead of each handler remembering to.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::domain::{FieldError, messages as domain_messages};

use super::error::ApiError;

/// What every query value must match, as an ECMA-262 regular expression
/// for the schema: no control character (`char::is_control`: C0, DEL, C1).
pub const NO_CONTROL_CHARACTERS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// Query parameters of type `T`, checked as the module says.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Query<T>, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

/// A query string that does not parse as `T`, as a problem about the query
/// as a whole, in serde's words (see [`super::body::serde_message`]).
pub fn malformed(e: &actix_web::error::QueryPayloadError) -> ApiError {
    let actix_web::error::QueryPayloadError::Deserialize(cause) = e else {
        return ApiError::InvalidQuery(vec![FieldError::new("", super::messages::framework_refused(e))]);
    };
    ApiError::InvalidQuery(vec![FieldError::new(
        "",
        super::body::serde_message(&cause.to_string()),
    )])
}

/// Parses a raw query string into `T`.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let malformed = |e: actix_web::error::QueryPayloadError| malformed(&e);
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map_err(malformed)?;
    let errors: Vec<FieldError> = pairs
        .iter()
        .filter(|(_, value)| value.chars().any(char::is_control))
        .map(|(name, _)| {
            FieldError::new(
                format!("/{}", name.replace('~', "~0").replace('/', "~1")),
                domain_messages::field_control_characters(),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    web::Query::<T>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pattern_spells_what_the_check_refuses() {
        // The pattern's ranges, read back as the characters they cover.
        let refused = |c: char| matches!(c, '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}');
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            assert_eq!(refused(c), c.is_control(), "{c:?}");
        }
        assert!(NO_CONTROL_CHARACTERS.contains(r"\u0000-\u001F\u007F-\u009F"));
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Params {
        team: Option<String>,
        limit: Option<u32>,
    }

    fn refused(query: &str) -> Vec<FieldError> {
        match parse::<Params>(query) {
            Err(ApiError::InvalidQuery(errors)) => errors,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn control_characters_are_refused_with_the_parameter_named() {
        let errors = refused("team=%00&limit=5");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/team");
        assert_eq!(refused("team=a%0Ab")[0].pointer, "/team");
        assert_eq!(refused("team=%7F")[0].pointer, "/team");
        assert_eq!(refused("team=%C2%85")[0].pointer, "/team", "C1 controls too");
    }

    #[test]
    fn ordinary_values_parse_as_web_query_would() {
        let p = parse::<Params>("team=%E4%B8%80%E7%BA%BF%20support&limit=5").expect("parses");
        assert_eq!(p.team.as_deref(), Some("一线 support"));
        assert_eq!(p.limit, Some(5));
        assert_eq!(refused("limit=five")[0].pointer, "");
        assert_eq!(refused("colour=red")[0].pointer, "");
    }
}
