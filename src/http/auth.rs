//! Bearer-token authentication.
//!
//! Tokens are verified with jsonwebtoken against keys and an algorithm that
//! come from configuration only; the token's own `alg` header is checked
//! against that choice, never obeyed. `exp`, `iss`, `aud` and `sub` are
//! required, `nbf` is honoured, and clock leeway is capped at 30 seconds.
//! HS256 with a shared secret is accepted only in development mode.
//!
//! A verified token is remembered, keyed by the SHA-256 of its text, until
//! its `exp` and for at most [`TOKEN_CACHE_TTL`], in a cache bounded to
//! [`TOKEN_CACHE_ENTRIES`] entries; a hit is checked against `exp` again. A
//! token that fails verification is never cached, and a token differing in
//! any byte (a tampered one) has another hash and is verified in full. The
//! cache belongs to its [`Verifier`], whose keys are fixed when it is built:
//! new keys mean a new verifier and so an empty cache.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::time::{Duration, Instant};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::permissions::{self, Permission};
use crate::domain::{Actor, Message, Role};

use super::error::ApiError;
use super::messages;

pub const MAX_LEEWAY_SECS: u64 = 30;
pub const MIN_SECRET_BYTES: usize = 32;
/// The longest a verified token is served from the cache, whatever its `exp`.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// At most this many verified tokens are cached; the cache evicts beyond it.
pub const TOKEN_CACHE_ENTRIES: u64 = 10_000;

/// Where verification keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// HS256 shared secret (development mode only).
    Secret(Vec<u8>),
    /// One public key in PEM (RS256, ES256 or EdDSA).
    PublicKeyPem(Vec<u8>),
    /// A JSON Web Key Set; the token's `kid` picks the key.
    Jwks(String),
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub algorithm: Algorithm,
    pub keys: KeySource,
    pub issuer: String,
    pub audience: String,
    pub leeway_secs: u64,
    /// Dot-separated path of the roles claim, e.g. `roles` or `realm_access.roles`.
    pub roles_claim: String,
    /// Dot-separated path of the scopes claim (a space-separated string or an array).
    pub scopes_claim: String,
    pub dev_mode: bool,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub issuer: String,
    pub subject: String,
    pub name: Option<String>,
    pub roles: Vec<Role>,
    pub scopes: Vec<String>,
    /// Seconds since the epoch when the token expires.
    pub expires_at: i64,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::new(&self.issuer, &self.subject, self.roles.clone())
    }

    pub fn can(&self, permission: Permission) -> bool {
        permissions::allows(&self.roles, &self.scopes, permission)
    }

    /// 403 unless the permission matrix grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(permission))
        }
    }
}

enum Keys {
    Single(DecodingKey),
    ByKid(HashMap<String, DecodingKey>),
}

/// Verifies bearer tokens; built once from configuration.
pub struct Verifier {
    keys: Keys,
    validation: Validation,
    roles_claim: Vec<String>,
    scopes_claim: Vec<String>,
    /// Verified tokens by the SHA-256 of their text.
    cache: moka::sync::Cache<[u8; 32], Cached>,
}

/// A verified token's principal and how long the cache may keep it.
#[derive(Clone)]
struct Cached {
    principal: Principal,
    keep_for: Duration,
}

/// Expires each entry after its own `keep_for`: until the token's `exp`,
/// capped at [`TOKEN_CACHE_TTL`].
struct UntilExp;

impl moka::Expiry<[u8; 32], Cached> for UntilExp {
    fn expire_after_create(&self, _key: &[u8; 32], value: &Cached, _created_at: Instant) -> Option<Duration> {
        Some(value.keep_for)
    }
}

/// How long a token expiring at `exp` may be cached at `now` (both seconds since the epoch).
fn keep_for(exp: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(exp.saturating_sub(now)).unwrap_or(0)).min(TOKEN_CACHE_TTL)
}

#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("HS256 is accepted only in development mode; configure RS256, ES256 or EdDSA with a public key")]
    SharedSecretOutsideDevMode,
    #[error("the HS256 secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    #[error("algorithm {0:?} is not supported; use RS256, ES256, EdDSA (or HS256 in development mode)")]
    UnsupportedAlgorithm(Algorithm),
    #[error("the key source does not fit algorithm {0:?}")]
    KeyDoesNotFitAlgorithm(Algorithm),
    #[error("leeway may be at most {MAX_LEEWAY_SECS} seconds")]
    LeewayTooLarge,
    #[error("invalid key: {0}")]
    InvalidKey(String),
}

impl Verifier {
    pub fn new(s: &AuthSettings) -> Result<Verifier, AuthConfigError> {
        if s.leeway_secs > MAX_LEEWAY_SECS {
            return Err(AuthConfigError::LeewayTooLarge);
        }
        let bad_key = |e: jsonwebtoken::errors::Error| AuthConfigError::InvalidKey(e.to_string());
        let keys = match (&s.keys, s.algorithm) {
            (KeySource::Secret(secret), Algorithm::HS256) => {
                if !s.dev_mode {
                    return Err(AuthConfigError::SharedSecretOutsideDevMode);
                }
                if secret.len() < MIN_SECRET_BYTES {
                    return Err(AuthConfigError::SecretTooShort);
                }
                Keys::Single(DecodingKey::from_secret(secret))
            }
            (KeySource::PublicKeyPem(pem), Algorithm::RS256) => {
                Keys::Single(DecodingKey::from_rsa_pem(pem).map_err(bad_key)?)
            }
            (KeySource::PublicKeyPem(pem), Algorithm::ES256) => {
                Keys::Single(DecodingKey::from_ec_pem(pem).map_err(bad_key)?)
            }
            (KeySource::PublicKeyPem(pem), Algorithm::EdDSA) => {
                Keys::Single(DecodingKey::from_ed_pem(pem).map_err(bad_key)?)
            }
            (KeySource::Jwks(json), Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA) => {
                let set: JwkSet = serde_json::from_str(json).map_err(|e| AuthConfigError::InvalidKey(e.to_string()))?;
                let mut by_kid = HashMap::new();
                for jwk in &set.keys {
                    let Some(kid) = jwk.common.key_id.clone() else {
                        return Err(AuthConfigError::InvalidKey("every JWKS key needs a kid".into()));
                    };
                    by_kid.insert(kid, DecodingKey::from_jwk(jwk).map_err(bad_key)?);
                }
                Keys::ByKid(by_kid)
            }
            (_, alg @ (Algorithm::HS256 | Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA)) => {
                return Err(AuthConfigError::KeyDoesNotFitAlgorithm(alg));
            }
            (_, other) => return Err(AuthConfigError::UnsupportedAlgorithm(other)),
        };
        let mut validation = Validation::new(s.algorithm);
        validation.algorithms = vec![s.algorithm];
        validation.leeway = s.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&s.issuer]);
        validation.set_audience(&[&s.audience]);
        Ok(Verifier {
            keys,
            validation,
            roles_claim: s.roles_claim.split('.').map(str::to_owned).collect(),
            scopes_claim: s.scopes_claim.split('.').map(str::to_owned).collect(),
            cache: moka::sync::Cache::builder()
                .max_capacity(TOKEN_CACHE_ENTRIES)
                .expire_after(UntilExp)
                .build(),
        })
    }

    /// Verifies a compact JWS and returns who it names: from the cache when
    /// this exact token was verified before and has not expired, else in full.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        self.verify_at(token, chrono::Utc::now().timestamp())
    }

    /// [`Verifier::verify`] with the time (seconds since the epoch) that the
    /// cache checks `exp` against.
    fn verify_at(&self, token: &str, now: i64) -> Result<Principal, ApiError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = self.cache.get(&key) {
            if now < hit.principal.expires_at {
                return Ok(hit.principal);
            }
            self.cache.invalidate(&key);
        }
        let principal = self.verify_uncached(token)?;
        let keep_for = keep_for(principal.expires_at, now);
        if !keep_for.is_zero() {
            self.cache.insert(
                key,
                Cached {
                    principal: principal.clone(),
                    keep_for,
                },
            );
        }
        Ok(principal)
    }

    /// Verifies a compact JWS in full, without the cache.
    fn verify_uncached(&self, token: &str) -> Result<Principal, ApiError> {
        let invalid = |e: jsonwebtoken::errors::Error| ApiError::Unauthenticated(token_refusal(&e));
        let key = match &self.keys {
            Keys::Single(key) => key,
            Keys::ByKid(keys) => {
                let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
                let kid = header
                    .kid
                    .ok_or_else(|| ApiError::Unauthenticated(messages::token_without_kid()))?;
                keys.get(&kid)
                    .ok_or_else(|| ApiError::Unauthenticated(messages::token_unknown_kid(kid)))?
            }
        };
        let data = jsonwebtoken::decode::<Value>(token, key, &self.validation).map_err(invalid)?;
        let claims = data.claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let subject = text("sub")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::Unauthenticated(messages::token_empty_sub()))?;
        let issuer = text("iss").ok_or_else(|| ApiError::Unauthenticated(messages::token_without_iss()))?;
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::Unauthenticated(messages::token_exp_not_integer()))?;
        let roles = strings_at(&claims, &self.roles_claim)
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect();
        Ok(Principal {
            issuer,
            subject,
            name: text("name"),
            roles,
            scopes: strings_at(&claims, &self.scopes_claim),
            expires_at,
        })
    }
}

/// Why the token library refused a token. It names most reasons
/// (`ExpiredSignature`, …), which the catalogues word; a missing claim is
/// named with the claim, and a token that does not decode with the
/// decoder's own words.
fn token_refusal(e: &jsonwebtoken::errors::Error) -> Message {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::MissingRequiredClaim(claim) => messages::token_without_claim(claim),
        ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => messages::token_undecodable(e),
        _ => messages::token_invalid(e),
    }
}

/// The strings at a claim path: an array of strings, or one string of
/// space-separated values (the OAuth `scope` form).
fn strings_at(claims: &Value, path: &[String]) -> Vec<String> {
    let mut node = claims;
    for segment in path {
        match node.get(segment) {
            Some(next) => node = next,
            None => return Vec::new(),
        }
    }
    match node {
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// What `opsledger token` puts into a development token.
#[derive(Debug, Clone)]
pub struct DevToken<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub subject: &'a str,
    pub name: Option<&'a str>,
    pub roles: &'a [Role],
    pub scopes: &'a [String],
    pub ttl_secs: i64,
}

/// Mints an HS256 development token. Never used by the server itself.
pub fn mint_dev_token(secret: &[u8], t: &DevToken<'_>) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "iss": t.issuer,
        "aud": t.audience,
        "sub": t.subject,
        "iat": now,
        "nbf": now,
        "exp": now + t.ttl_secs,
        "roles": t.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    });
    if let Some(name) = t.name {
        claims["name"] = Value::String(name.to_owned());
    }
    if !t.scopes.is_empty() {
        claims["scope"] = Value::String(t.scopes.join(" "));
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Extracts and verifies the bearer token of a request. 401 when it is
/// missing or invalid.
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(p) = req.extensions().get::<Principal>() {
        return Ok(p.clone());
    }
    let verifier = req
        .app_data::<web::Data<Verifier>>()
        .ok_or_else(|| ApiError::Internal("no verifier configured".into()))?;
    let principal = verifier.verify(bearer_token(req)?)?;
    req.extensions_mut().insert(principal.clone());
    Ok(principal)
}

/// The token of the request's `Authorization: Bearer` header.
pub(crate) fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated(messages::authorization_missing()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthenticated(messages::authorization_not_text()))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthenticated(messages::authorization_not_bearer()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn settings() -> AuthSettings {
        AuthSettings {
            algorithm: Algorithm::HS256,
            keys: KeySource::Secret(SECRET.to_vec()),
            issuer: "https://idp.example".into(),
            audience: "opsledger".into(),
            leeway_secs: 5,
            roles_claim: "roles".into(),
            scopes_claim: "scope".into(),
            dev_mode: true,
        }
    }

    fn token(claims: Value, alg: Algorithm, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret)).expect("encode")
    }

    fn claims() -> Value {
        let now = chrono::Utc::now().timestamp();
        serde_json::json!({"iss": "https://idp.example", "aud": "opsledger", "sub": "agent-1",
            "exp": now + 60, "roles": ["agent", "no-such-role"], "scope": "tickets:read pii:read"})
    }

    #[test]
    fn a_valid_token_names_the_principal() {
        let v = Verifier::new(&settings()).expect("verifier");
        let p = v.verify(&token(claims(), Algorithm::HS256, SECRET)).expect("valid");
        assert_eq!(p.subject, "agent-1");
        assert_eq!(p.roles, vec![Role::Agent]);
        assert_eq!(p.scopes, vec!["tickets:read", "pii:read"]);
        assert_eq!(p.actor().id, "https://idp.example|agent-1");
    }

    #[test]
    fn required_claims_are_enforced() {
        let v = Verifier::new(&settings()).expect("verifier");
        for missing in ["exp", "iss", "aud", "sub"] {
            let mut c = claims();
            c.as_object_mut().expect("object").remove(missing);
            assert!(
                v.verify(&token(c, Algorithm::HS256, SECRET)).is_err(),
                "without {missing}"
            );
        }
    }

    #[test]
    fn wrong_issuer_audience_expiry_or_nbf_is_refused() {
        let v = Verifier::new(&settings()).expect("verifier");
        let now = chrono::Utc::now().timestamp();
        for (field, value) in [
            ("iss", serde_json::json!("https://evil.example")),
            ("aud", serde_json::json!("someone-else")),
            ("exp", serde_json::json!(now - 60)),
            ("nbf", serde_json::json!(now + 60)),
        ] {
            let mut c = claims();
            c[field] = value;
            assert!(v.verify(&token(c, Algorithm::HS256, SECRET)).is_err(), "bad {field}");
        }
    }

    #[test]
    fn a_refused_token_is_told_why_in_chinese_as_well() {
        use crate::http::i18n::Language;
        let v = Verifier::new(&settings()).expect("verifier");
        let why = |token: String| match v.verify(&token) {
            Err(refused) => refused.problem(Language::ZhCn).detail,
            Ok(p) => panic!("{p:?} accepted"),
        };
        let now = chrono::Utc::now().timestamp();
        let with = |field: &str, value: Value| {
            let mut c = claims();
            c[field] = value;
            token(c, Algorithm::HS256, SECRET)
        };
        assert_eq!(why(with("exp", (now - 60).into())), "持有者令牌无效：令牌已过期");
        assert_eq!(why(with("nbf", (now + 60).into())), "持有者令牌无效：令牌尚未生效");
        assert_eq!(
            why(with("iss", "https://evil.example".into())),
            "持有者令牌无效：签发者不被接受"
        );
        assert_eq!(why(with("aud", "someone-else".into())), "持有者令牌无效：受众不符");
        assert_eq!(
            why(token(
                claims(),
                Algorithm::HS256,
                b"another secret, just as long as ours"
            )),
            "持有者令牌无效：签名不正确"
        );
        let mut c = claims();
        c.as_object_mut().expect("object").remove("exp");
        assert_eq!(
            why(token(c, Algorithm::HS256, SECRET)),
            "持有者令牌无效：缺少必需的声明 exp"
        );
        assert!(why("a.b.c".to_owned()).starts_with("持有者令牌无效：无法解码"));
        assert_eq!(why("not-a-token".to_owned()), "持有者令牌无效：格式不正确");
    }

    #[test]
    fn the_algorithm_comes_from_configuration_not_the_token() {
        let v = Verifier::new(&settings()).expect("verifier");
        assert!(v.verify(&token(claims(), Algorithm::HS384, SECRET)).is_err());
        // alg=none is never accepted.
        let unsigned = format!(
            "{}.{}.",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"alg":"none"}"#),
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims().to_string())
        );
        assert!(v.verify(&unsigned).is_err());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let v = Verifier::new(&settings()).expect("verifier");
        assert!(
            v.verify(&token(claims(), Algorithm::HS256, b"another-secret-another-secret-xx"))
                .is_err()
        );
    }

    #[test]
    fn shared_secrets_need_dev_mode_and_32_bytes_and_leeway_is_capped() {
        let mut s = settings();
        s.dev_mode = false;
        assert!(matches!(
            Verifier::new(&s),
            Err(AuthConfigError::SharedSecretOutsideDevMode)
        ));
        let mut s = settings();
        s.keys = KeySource::Secret(b"short".to_vec());
        assert!(matches!(Verifier::new(&s), Err(AuthConfigError::SecretTooShort)));
        let mut s = settings();
        s.leeway_secs = 31;
        assert!(matches!(Verifier::new(&s), Err(AuthConfigError::LeewayTooLarge)));
    }

    #[test]
    fn roles_can_come_from_a_nested_claim() {
        let mut s = settings();
        s.roles_claim = "realm_access.roles".into();
        let v = Verifier::new(&s).expect("verifier");
        let mut c = claims();
        c["realm_access"] = serde_json::json!({"roles": ["manager"]});
        assert_eq!(
            v.verify(&token(c, Algorithm::HS256, SECRET)).expect("valid").roles,
            vec![Role::Manager]
        );
    }

    #[test]
    fn a_verified_token_is_cached_until_exp_and_at_most_five_minutes() {
        let v = Verifier::new(&settings()).expect("verifier");
        let t = token(claims(), Algorithm::HS256, SECRET);
        let first = v.verify(&t).expect("valid");
        v.cache.run_pending_tasks();
        assert_eq!(v.cache.entry_count(), 1);
        assert_eq!(v.verify(&t).expect("cached"), first);
        assert_eq!(keep_for(1_000 + 60, 1_000), Duration::from_secs(60));
        assert_eq!(keep_for(1_000 + 6 * 3600, 1_000), TOKEN_CACHE_TTL);
        assert_eq!(keep_for(1_000, 1_000 + 5), Duration::ZERO);
    }

    #[test]
    fn an_expired_token_is_refused_even_if_it_was_cached_before_expiry() {
        let v = Verifier::new(&settings()).expect("verifier");
        let now = chrono::Utc::now().timestamp();
        let mut c = claims();
        c["exp"] = serde_json::json!(now - 60);
        let t = token(c, Algorithm::HS256, SECRET);
        // As cached while the token was still valid, a minute and a half ago.
        let mut c = claims();
        c["exp"] = serde_json::json!(now + 60);
        let earlier = v.verify(&token(c, Algorithm::HS256, SECRET)).expect("valid");
        let key: [u8; 32] = Sha256::digest(t.as_bytes()).into();
        v.cache.insert(
            key,
            Cached {
                principal: Principal {
                    expires_at: now - 60,
                    ..earlier
                },
                keep_for: TOKEN_CACHE_TTL,
            },
        );
        assert!(v.verify(&t).is_err(), "served an expired token from the cache");
        assert!(v.cache.get(&key).is_none(), "the expired entry is dropped");
    }

    #[test]
    fn a_cached_token_is_not_served_past_exp_by_the_clock() {
        let v = Verifier::new(&settings()).expect("verifier");
        let now = chrono::Utc::now().timestamp();
        let t = token(claims(), Algorithm::HS256, SECRET);
        let p = v.verify_at(&t, now).expect("valid");
        let key: [u8; 32] = Sha256::digest(t.as_bytes()).into();
        assert!(v.cache.get(&key).is_some());
        // At exp the hit is dropped and the token verified in full again
        // (jsonwebtoken still accepts it here: its clock is the real one),
        // and not cached again: nothing of its lifetime is left.
        let _ = v.verify_at(&t, p.expires_at);
        assert!(v.cache.get(&key).is_none());
    }

    #[test]
    fn a_tampered_or_failing_token_is_not_served_from_or_put_in_the_cache() {
        let v = Verifier::new(&settings()).expect("verifier");
        let t = token(claims(), Algorithm::HS256, SECRET);
        v.verify(&t).expect("valid");
        // Another subject with the original signature.
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        let mut c = claims();
        c["sub"] = serde_json::json!("mallory");
        c["roles"] = serde_json::json!(["manager"]);
        parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, c.to_string());
        assert!(v.verify(&parts.join(".")).is_err());
        // A changed signature byte.
        let mut bytes = t.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(v.verify(&tampered).is_err());
        assert!(v.verify(&tampered).is_err(), "a failure is not cached as valid");
        v.cache.run_pending_tasks();
        assert_eq!(v.cache.entry_count(), 1, "only the valid token is cached");
    }

    #[test]
    fn minted_dev_tokens_verify() {
        let v = Verifier::new(&settings()).expect("verifier");
        let t = mint_dev_token(
            SECRET,
            &DevToken {
                issuer: "https://idp.example",
                audience: "opsledger",
                subject: "m-1",
                name: Some("Mei"),
                roles: &[Role::Manager],
                scopes: &[],
                ttl_secs: 60,
            },
        )
        .expect("mint");
        let p = v.verify(&t).expect("valid");
        assert_eq!((p.subject.as_str(), p.name.as_deref()), ("m-1", Some("Mei")));
    }
}
