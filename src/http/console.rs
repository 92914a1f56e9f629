//! The web console: the files built from `console/` (TypeScript, bundled
//! by esbuild into `console/dist/`, which is committed), embedded in the
//! binary and served at `/console/`; and, in development mode only, the
//! login that mints a development token for a role the user picks.
//!
//! The Rust build never runs Node: it embeds whatever `console/dist/`
//! holds, and CI (`.ci/run`) rebuilds it from the sources and fails when
//! the two differ.
//!
//! Every console response carries a strict Content-Security-Policy: no
//! inline script or style, scripts, styles and connections to this server
//! only, no framing. The console renders user text with `textContent`, so
//! the policy is a second wall behind the first, not the only one.
//!
//! The bundles have content-hashed names (`console-3F2A….js`), so they are
//! cached for a year as immutable; `index.html`, which names them, is
//! revalidated on every load (`no-cache` with a strong ETag).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use serde::{Deserialize, Deserializer, Serialize, de};

use crate::domain::Role;

use super::auth::{DevToken, KeySource, mint_dev_token};
use super::body;
use super::error::ApiError;
use super::messages;

#[derive(rust_embed::Embed)]
#[folder = "console/dist/"]
struct Assets;

/// The console's Content-Security-Policy without an identity provider:
/// `connect-src` is the server itself (the API and the development login).
/// With OpenID Connect configured, the provider's origin joins
/// `connect-src` (see [`ConsoleConfig`]): the browser reads its discovery
/// document and exchanges the code at its token endpoint.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'; object-src 'none'";

/// How the console signs in, and the policy its responses carry; built
/// once at start-up.
pub struct ConsoleConfig {
    dev_login: Option<DevLogin>,
    oidc: Option<OidcClient>,
    roles_claim: String,
    policy: String,
}

/// The console as a public OpenID Connect client (authorization code with
/// PKCE, no secret).
struct OidcClient {
    discovery_url: String,
    client_id: String,
    scope: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleConfigError {
    #[error("the OpenID Connect discovery URL {0:?} is not an absolute http(s) URL with a plain host")]
    DiscoveryUrl(String),
    #[error("the OpenID Connect client id must be 1 to 200 visible ASCII characters")]
    ClientId,
}

impl ConsoleConfig {
    pub fn new(
        settings: &super::auth::AuthSettings,
        args: &crate::startup::config::ConsoleArgs,
    ) -> Result<ConsoleConfig, ConsoleConfigError> {
        let oidc = match (&args.oidc_discovery_url, &args.oidc_client_id) {
            (Some(url), Some(client_id)) => {
                let fits = (1..=200).contains(&client_id.len()) && client_id.bytes().all(|b| b.is_ascii_graphic());
                if !fits {
                    return Err(ConsoleConfigError::ClientId);
                }
                let origin = origin_of(url).ok_or_else(|| ConsoleConfigError::DiscoveryUrl(url.clone()))?;
                let client = OidcClient {
                    discovery_url: url.clone(),
                    client_id: client_id.clone(),
                    scope: args.oidc_scopes.clone().unwrap_or_else(|| "openid".to_owned()),
                };
                Some((origin, client))
            }
            _ => None,
        };
        let policy = match &oidc {
            Some((origin, _)) => {
                CONTENT_SECURITY_POLICY.replace("connect-src 'self'", &format!("connect-src 'self' {origin}"))
            }
            None => CONTENT_SECURITY_POLICY.to_owned(),
        };
        Ok(ConsoleConfig {
            dev_login: DevLogin::of(settings),
            oidc: oidc.map(|(_, client)| client),
            roles_claim: settings.roles_claim.clone(),
            policy,
        })
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL, or `None` when the
/// URL is not one or its host holds anything but letters, digits, `.`, `-`
/// and a port (so that it can go into a header as it is).
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let plain = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    plain.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Registers `/console`, `/console/`, the console's files, its
/// configuration and the development login.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Every GET answers HEAD too, as the API's routes do.
    let read = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.route("/console", read().to(redirect_to_console))
        .route("/console/config.json", read().to(config))
        .route("/console/dev-login", web::post().to(dev_login))
        .route("/console/", read().to(index))
        .route("/console/{file:[^/]+}", read().to(file));
}

async fn redirect_to_console() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

async fn index(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, "index.html")
}

async fn file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&req, &name)
}

/// What the console needs to know: whether the development login exists,
/// the OpenID Connect client, and which roles hold each permission.
async fn config(req: HttpRequest) -> HttpResponse {
    let console = req.app_data::<web::Data<ConsoleConfig>>();
    let oidc = console
        .and_then(|c| c.oidc.as_ref())
        .map(|o| serde_json::json!({"discovery_url": o.discovery_url, "client_id": o.client_id, "scope": o.scope}));
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    security_headers(&req, &mut response);
    // Which roles hold each permission, from the one matrix: the console
    // offers a command only to a role the server will let run it, and
    // keeps no list of its own.
    let grants: serde_json::Map<String, serde_json::Value> = crate::domain::permissions::MATRIX
        .iter()
        .map(|g| {
            let roles = g.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>();
            (g.permission.key().to_owned(), serde_json::json!(roles))
        })
        .collect();
    response.json(serde_json::json!({
        "dev_login": console.is_some_and(|c| c.dev_login.is_some()),
        "oidc": oidc,
        "roles_claim": console.map_or("roles", |c| c.roles_claim.as_str()),
        "grants": grants,
    }))
}

/// One embedded file with its type, caching headers and the policy; 304
/// when the client's `If-None-Match` names its ETag.
fn serve(req: &HttpRequest, name: &str) -> Result<HttpResponse, ApiError> {
    let asset = Assets::get(name).ok_or_else(|| ApiError::NotFound(messages::no_such_resource()))?;
    let etag = format!("\"{}\"", hex::encode(&asset.metadata.sha256_hash()[..16]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CONTENT_TYPE, content_type(name)))
        .insert_header((header::CACHE_CONTROL, cache_control(name)))
        .insert_header((header::ETAG, etag));
    security_headers(req, &mut response);
    if fresh {
        return Ok(response.finish());
    }
    Ok(response.body(asset.data.into_owned()))
}

/// The headers every console response carries.
fn security_headers(req: &HttpRequest, response: &mut actix_web::HttpResponseBuilder) {
    let policy = req
        .app_data::<web::Data<ConsoleConfig>>()
        .map_or(CONTENT_SECURITY_POLICY, |c| c.policy.as_str());
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"));
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A hashed bundle never changes under its name; everything else is
/// revalidated.
fn cache_control(name: &str) -> &'static str {
    if is_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// `name-HASH.ext`, as the console's build names its bundles (esbuild's
/// `[name]-[hash]`: 8 characters of A–Z and 0–9).
fn is_hashed(name: &str) -> bool {
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

/// What the development login can mint with: the development secret and
/// the issuer and audience the verifier expects. Present only in
/// development mode with a shared secret.
#[derive(Clone)]
pub struct DevLogin {
    secret: Vec<u8>,
    issuer: String,
    audience: String,
}

/// How long a development token from the console lasts: a working day.
const DEV_TOKEN_TTL_SECS: i64 = 8 * 3600;

impl DevLogin {
    /// The login for `settings`, or `None` outside development mode or
    /// when tokens are verified with public keys.
    pub fn of(settings: &super::auth::AuthSettings) -> Option<DevLogin> {
        match (&settings.keys, settings.dev_mode) {
            (KeySource::Secret(secret), true) => Some(DevLogin {
                secret: secret.clone(),
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
            }),
            _ => None,
        }
    }
}

/// Whom the development login is for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevLoginRequest {
    role: Role,
    /// The token's `sub`; `<role>-1` when left out.
    subject: Option<DevSubject>,
}

/// A subject of 1 to 64 letters, digits, `.`, `_` or `-`.
struct DevSubject(String);

impl<'de> Deserialize<'de> for DevSubject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DevSubject, D::Error> {
        let text = String::deserialize(deserializer)?;
        let fits = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if fits {
            Ok(DevSubject(text))
        } else {
            Err(de::Error::invalid_value(
                de::Unexpected::Str(&text),
                &"1 to 64 letters, digits, '.', '_' or '-'",
            ))
        }
    }
}

#[derive(Serialize)]
struct DevLoginResponse {
    token: String,
    /// Seconds since the epoch.
    expires_at: i64,
    /// `issuer|subject`, as events record the actor.
    actor: String,
    subject: String,
    role: Role,
}

/// `POST /console/dev-login`: a development token for a role. 404 outside
/// development mode, exactly as if the route did not exist. Never part of
/// the API contract, and the token is only in the response body (the
/// access log records the path and status, never bodies).
async fn dev_login(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let Some(login) = req
        .app_data::<web::Data<ConsoleConfig>>()
        .and_then(|c| c.dev_login.clone())
    else {
        return Err(ApiError::NotFound(messages::no_such_resource()));
    };
    let request: DevLoginRequest = body::read(&req, payload).await?.value;
    let subject = request
        .subject
        .map_or_else(|| format!("{}-1", request.role.as_str()), |s| s.0);
    let now = chrono::Utc::now().timestamp();
    let token = mint_dev_token(
        &login.secret,
        &DevToken {
            issuer: &login.issuer,
            audience: &login.audience,
            subject: &subject,
            name: None,
            roles: &[request.role],
            scopes: &[],
            ttl_secs: DEV_TOKEN_TTL_SECS,
        },
    )
    .map_err(|e| ApiError::Internal(format!("minting a development token: {e}")))?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    security_headers(&req, &mut response);
    Ok(response.json(DevLoginResponse {
        token,
        expires_at: now + DEV_TOKEN_TTL_SECS,
        actor: format!("{}|{subject}", login.issuer),
        subject,
        role: request.role,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_with_a_content_hash_are_immutable_and_the_rest_revalidated() {
        assert_eq!(
            cache_control("console-3F2AB7QZ.js"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("console.js"), "no-cache");
        assert_eq!(cache_control("my-page.html"), "no-cache");
    }

    #[test]
    fn the_policy_allows_no_inline_script_and_no_other_origin() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(!CONTENT_SECURITY_POLICY.contains("http"));
    }

    #[test]
    fn the_providers_origin_comes_from_a_plain_url_only() {
        assert_eq!(
            origin_of("https://IdP.example:8443/realms/x/.well-known/openid-configuration").as_deref(),
            Some("https://idp.example:8443")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:9000").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        for bad in [
            "idp.example/.well-known",
            "ftp://idp.example/",
            "https://idp.example;script-src */",
            "https://user@idp.example/",
            "https:///x",
        ] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_console_has_an_index() {
        assert!(
            Assets::get("index.html").is_some(),
            "console/dist/index.html is embedded"
        );
    }
}
