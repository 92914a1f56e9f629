//! The web console at `/console/`: its files come out of the binary with
//! their types, caching headers and a strict Content-Security-Policy; the
//! development login exists in development mode only. The browser tests
//! (`console::browser::`) drive it in Chromium.

mod browser;
mod provider;

use serde_json::{Value, json};

use crate::helpers::{header, spawn_app, spawn_app_with};

/// The file names `index.html` refers to (`src="…"`, `href="…"`).
fn referenced(html: &str) -> Vec<String> {
    let mut names = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            if let Some((name, _)) = part.split_once('"') {
                names.push(name.to_owned());
            }
        }
    }
    names
}

#[tokio::test]
async fn the_console_and_its_bundles_are_served_from_the_binary_with_a_strict_policy() {
    let app = spawn_app().await;
    let index = app.http.get(app.url("/console/")).send().await.expect("request");
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let policy = header(&index, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    let html = index.text().await.expect("html");
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );

    let files = referenced(&html);
    let script = files.iter().find(|f| f.ends_with(".js")).expect("a script");
    let style = files.iter().find(|f| f.ends_with(".css")).expect("a style sheet");
    for (file, content_type) in [
        (script, "text/javascript; charset=utf-8"),
        (style, "text/css; charset=utf-8"),
    ] {
        assert!(!file.contains("//"), "{file} is on this server");
        let response = app
            .http
            .get(app.url(&format!("/console/{file}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(header(&response, "content-type"), content_type);
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&response, "content-security-policy"), policy);
        // Revalidation with the strong ETag.
        let etag = header(&response, "etag");
        let again = app
            .http
            .get(app.url(&format!("/console/{file}")))
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);
    }

    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(app.url("/console"))
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), 308);
    assert_eq!(header(&bare, "location"), "/console/");
    let head = app.http.head(app.url("/console/")).send().await.expect("request");
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-security-policy"), policy);
    assert!(head.bytes().await.expect("body").is_empty(), "HEAD has no body");
    let missing = app
        .http
        .get(app.url("/console/nothing.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_first_screen_loads_at_most_150_kb_of_gzipped_javascript() {
    use std::io::Write;
    let app = spawn_app().await;
    let html = app
        .http
        .get(app.url("/console/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    let mut total = 0;
    for script in referenced(&html).iter().filter(|f| f.ends_with(".js")) {
        let bytes = app
            .http
            .get(app.url(&format!("/console/{script}")))
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("bytes");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).expect("gzip");
        total += gz.finish().expect("gzip").len();
    }
    assert!(total > 0 && total <= 150 * 1024, "{total} bytes of gzipped JavaScript");
}

#[tokio::test]
async fn in_development_mode_the_console_signs_in_with_a_role() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/console/dev-login"))
        .json(&json!({"role": "agent", "subject": "agent-7"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let login: Value = response.json().await.expect("json");
    assert_eq!(login["actor"], "https://idp.test|agent-7");
    assert_eq!(login["role"], "agent");
    let token = login["token"].as_str().expect("a token");
    // The token is an agent's: it files a complaint.
    let filed = app
        .post("/v1/complaints", token, &crate::helpers::sample_complaint())
        .await;
    assert_eq!(filed.status(), 201);
    let view: Value = filed.json().await.expect("json");
    assert_eq!(view["created_by"], "https://idp.test|agent-7");

    // A role that does not exist, or a subject with a slash, is refused at its field.
    for (body, pointer) in [
        (json!({"role": "root"}), "/role"),
        (json!({"role": "agent", "subject": "a/b"}), "/subject"),
    ] {
        let refused = app
            .http
            .post(app.url("/console/dev-login"))
            .json(&body)
            .send()
            .await
            .expect("request");
        let problem = crate::helpers::problem(refused, 422, "validation-failed").await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
}

#[tokio::test]
async fn outside_development_mode_there_is_no_development_login() {
    let app = spawn_app_with(|args| {
        args.auth.dev_mode = false;
        args.auth.jwt_secret = None;
        args.auth.jwt_public_key_file =
            Some(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/rsa-public.pem").into());
    })
    .await;
    let response = app
        .http
        .post(app.url("/console/dev-login"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .expect("request");
    crate::helpers::problem(response, 404, "not-found").await;
    // The console itself is still served.
    let index = app.http.get(app.url("/console/")).send().await.expect("request");
    assert_eq!(index.status(), 200);
}

#[tokio::test]
async fn with_an_identity_provider_configured_the_console_may_connect_to_it_and_knows_its_client() {
    let idp = provider::start();
    let app = spawn_app_with(|args| {
        args.auth.dev_mode = false;
        args.auth.jwt_secret = None;
        args.auth.jwt_jwks_file = Some(provider::JWKS.into());
        args.auth.jwt_issuer = idp.issuer.clone();
        args.console.oidc_discovery_url = Some(idp.discovery_url());
        args.console.oidc_client_id = Some(provider::CLIENT_ID.to_owned());
    })
    .await;
    let response = app
        .http
        .get(app.url("/console/config.json"))
        .send()
        .await
        .expect("request");
    let policy = header(&response, "content-security-policy");
    assert!(
        policy.contains(&format!("connect-src 'self' {};", idp.issuer)),
        "{policy}"
    );
    let config: Value = response.json().await.expect("json");
    assert_eq!(config["dev_login"], false);
    assert_eq!(config["oidc"]["client_id"], provider::CLIENT_ID);
    assert_eq!(config["oidc"]["discovery_url"], idp.discovery_url().as_str());
    assert_eq!(config["oidc"]["scope"], "openid");
    // Who may do what is the server's one matrix, permission by permission.
    for grant in opsledger::domain::permissions::MATRIX {
        let roles: Vec<&str> = grant.roles.iter().map(|r| r.as_str()).collect();
        assert_eq!(config["grants"][grant.permission.key()], serde_json::json!(roles));
    }
    assert_eq!(
        config["grants"]["complaint_file"],
        serde_json::json!(["agent", "manager", "admin"])
    );
    // The index carries the same policy.
    let index = app.http.get(app.url("/console/")).send().await.expect("request");
    assert_eq!(header(&index, "content-security-policy"), policy);
}
