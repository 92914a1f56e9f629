//! A small OpenID Connect provider on loopback, for the console's single
//! sign-on: discovery, an authorization endpoint that signs in one agent
//! at once (no login page), and a token endpoint that checks the PKCE
//! verifier (RFC 7636, S256) and answers an RS256 access token signed with
//! the `rsa-2026` key of `tests/fixtures/keys/jwks.json`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "opsledger-console";
pub const JWKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/jwks.json");
const PRIVATE_KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/rsa-private.pem");
/// Who the provider signs in.
pub const SUBJECT: &str = "li.na";

/// A code the provider issued: for which challenge and redirect.
struct Grant {
    challenge: String,
    redirect_uri: String,
}

struct Provider {
    issuer: String,
    grants: Mutex<HashMap<String, Grant>>,
    /// Token requests refused, and why (a wrong verifier, say).
    refusals: Mutex<Vec<String>>,
}

pub struct Running {
    pub issuer: String,
    state: Arc<Provider>,
}

impl Running {
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    pub fn refusals(&self) -> Vec<String> {
        self.state.refusals.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

pub fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
    let state = Arc::new(Provider {
        issuer: issuer.clone(),
        grants: Mutex::new(HashMap::new()),
        refusals: Mutex::new(Vec::new()),
    });
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/.well-known/openid-configuration", web::get().to(discovery))
            .route("/authorize", web::get().to(authorize))
            .route("/token", web::post().to(token))
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    // Stops with the test's runtime.
    tokio::spawn(server);
    Running { issuer, state }
}

/// The browser reads discovery and the token endpoint from the console's
/// origin: both allow it (CORS).
fn cors(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        actix_web::http::header::HeaderValue::from_static("*"),
    );
    response
}

async fn discovery(p: web::Data<Provider>) -> HttpResponse {
    cors(HttpResponse::Ok().json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/authorize", p.issuer),
        "token_endpoint": format!("{}/token", p.issuer),
        "jwks_uri": format!("{}/jwks", p.issuer),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    })))
}

async fn authorize(p: web::Data<Provider>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code"
        || get("client_id") != CLIENT_ID
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("redirect_uri").ends_with("/console/")
    {
        return HttpResponse::BadRequest().body(format!("bad authorization request: {:?}", q.0));
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(mut grants) = p.grants.lock() {
        grants.insert(
            code.clone(),
            Grant {
                challenge: get("code_challenge"),
                redirect_uri: get("redirect_uri"),
            },
        );
    }
    HttpResponse::Found()
        .insert_header((
            "Location",
            format!("{}?code={code}&state={}", get("redirect_uri"), get("state")),
        ))
        .finish()
}

async fn token(p: web::Data<Provider>, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let grant = p.grants.lock().ok().and_then(|mut g| g.remove(&get("code")));
    let refuse = |why: &str| {
        if let Ok(mut r) = p.refusals.lock() {
            r.push(why.to_owned());
        }
        cors(HttpResponse::BadRequest().json(json!({"error": "invalid_grant", "error_description": why})))
    };
    let Some(grant) = grant else {
        return refuse("unknown or used code");
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier")));
    if get("grant_type") != "authorization_code" || get("client_id") != CLIENT_ID {
        return refuse("grant type or client");
    }
    if challenge != grant.challenge {
        return refuse("the verifier does not match the challenge");
    }
    if get("redirect_uri") != grant.redirect_uri {
        return refuse("redirect_uri differs");
    }
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-2026".into());
    let key = std::fs::read(PRIVATE_KEY).expect("the fixture key");
    let access = jsonwebtoken::encode(
        &header,
        &json!({"iss": p.issuer, "aud": "opsledger", "sub": SUBJECT, "name": "李娜",
                "roles": ["agent"], "iat": now, "nbf": now, "exp": now + 600}),
        &EncodingKey::from_rsa_pem(&key).expect("an RSA key"),
    )
    .expect("sign");
    cors(HttpResponse::Ok().json(json!({"access_token": access, "token_type": "Bearer", "expires_in": 600})))
}
