//! Production token verification with asymmetric keys: RS256, ES256 and
//! EdDSA public keys in PEM, and a JWKS whose `kid` picks the key.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use opsledger::domain::Role;
use opsledger::http::auth::{AuthSettings, KeySource, Verifier};
use serde_json::{Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).expect("fixture")
}

fn settings(algorithm: Algorithm, keys: KeySource) -> AuthSettings {
    AuthSettings {
        algorithm,
        keys,
        issuer: "https://idp.example".into(),
        audience: "opsledger".into(),
        leeway_secs: 30,
        roles_claim: "roles".into(),
        scopes_claim: "scope".into(),
        dev_mode: false,
    }
}

fn claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "https://idp.example", "aud": "opsledger", "sub": "eng-7", "exp": now + 300, "nbf": now,
           "roles": ["engineer"]})
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &claims(), key).expect("sign")
}

#[test]
fn rs256_es256_and_eddsa_public_keys_verify_their_tokens() {
    let cases = [
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&read("rsa-private.pem")),
            "rsa-public.pem",
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(&read("ec-private.pem")),
            "ec-public.pem",
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&read("ed25519-private.pem")),
            "ed25519-public.pem",
        ),
    ];
    for (alg, key, public) in cases {
        let key = key.expect("private key");
        let verifier = Verifier::new(&settings(alg, KeySource::PublicKeyPem(read(public)))).expect("verifier");
        let principal = verifier.verify(&sign(alg, &key, None)).expect("valid token");
        assert_eq!(
            (principal.subject.as_str(), principal.roles.as_slice()),
            ("eng-7", &[Role::Engineer][..])
        );
    }
}

#[test]
fn a_token_signed_by_another_key_or_with_another_algorithm_is_refused() {
    let rsa_verifier = Verifier::new(&settings(
        Algorithm::RS256,
        KeySource::PublicKeyPem(read("rsa-public.pem")),
    ))
    .expect("verifier");
    let ec_key = EncodingKey::from_ec_pem(&read("ec-private.pem")).expect("key");
    assert!(rsa_verifier.verify(&sign(Algorithm::ES256, &ec_key, None)).is_err());
    // The classic confusion attack: HS256 keyed with the RSA public key's bytes.
    let confused = EncodingKey::from_secret(&read("rsa-public.pem"));
    assert!(rsa_verifier.verify(&sign(Algorithm::HS256, &confused, None)).is_err());
}

#[test]
fn a_jwks_picks_the_key_by_kid() {
    let jwks = String::from_utf8(read("jwks.json")).expect("utf-8");
    let verifier = Verifier::new(&settings(Algorithm::RS256, KeySource::Jwks(jwks))).expect("verifier");
    let rsa = EncodingKey::from_rsa_pem(&read("rsa-private.pem")).expect("key");
    assert!(verifier.verify(&sign(Algorithm::RS256, &rsa, Some("rsa-2026"))).is_ok());
    assert!(
        verifier.verify(&sign(Algorithm::RS256, &rsa, Some("unknown"))).is_err(),
        "unknown kid"
    );
    assert!(verifier.verify(&sign(Algorithm::RS256, &rsa, None)).is_err(), "no kid");
    // A kid that names the EC key does not let an RS256 token through.
    assert!(verifier.verify(&sign(Algorithm::RS256, &rsa, Some("ec-2026"))).is_err());
}

#[test]
fn shared_secrets_are_refused_outside_development_mode() {
    let s = settings(Algorithm::HS256, KeySource::Secret(vec![7; 64]));
    assert!(Verifier::new(&s).is_err());
}
