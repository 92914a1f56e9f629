//! Turns the auth flags into verifier settings, including the development
//! secret that `serve` and `token` share through the data directory.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;

use crate::http::auth::{AuthSettings, KeySource, MIN_SECRET_BYTES};

use super::config::{AuthArgs, JwtAlgorithm};

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error(
        "no token verification key is configured: set OPSLEDGER_JWT_PUBLIC_KEY_FILE or OPSLEDGER_JWT_JWKS_FILE \
         (or OPSLEDGER_DEV_MODE=true with OPSLEDGER_JWT_SECRET for development)"
    )]
    NoKey,
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the development secret {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "no development secret at {0}: start `opsledger serve` once in development mode, or set OPSLEDGER_JWT_SECRET"
    )]
    NoDevSecret(PathBuf),
    #[error("cannot generate a secret: {0}")]
    Random(String),
}

pub fn dev_secret_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-jwt-secret")
}

/// The development secret: configured, or kept in the data directory
/// (created when `create` is set; 32 random bytes, hex-encoded).
pub fn dev_secret(args: &AuthArgs, data_dir: &Path, create: bool) -> Result<Vec<u8>, AuthSetupError> {
    if let Some(secret) = &args.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = dev_secret_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s.trim().as_bytes().to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut bytes = [0u8; MIN_SECRET_BYTES];
            getrandom::fill(&mut bytes).map_err(|e| AuthSetupError::Random(e.to_string()))?;
            let secret = hex::encode(bytes);
            std::fs::create_dir_all(data_dir).map_err(|source| AuthSetupError::Write {
                path: data_dir.to_owned(),
                source,
            })?;
            super::secret_file::write_private(&path, secret.as_bytes()).map_err(|source| AuthSetupError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(secret.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AuthSetupError::NoDevSecret(path)),
        Err(source) => Err(AuthSetupError::Read { path, source }),
    }
}

/// Settings for the verifier. `dev_mode` is the flag or implied by the
/// embedded database.
pub fn settings(args: &AuthArgs, data_dir: &Path, dev_mode: bool) -> Result<AuthSettings, AuthSetupError> {
    let algorithm = match args.jwt_algorithm {
        Some(JwtAlgorithm::Hs256) => Algorithm::HS256,
        Some(JwtAlgorithm::Rs256) => Algorithm::RS256,
        Some(JwtAlgorithm::Es256) => Algorithm::ES256,
        Some(JwtAlgorithm::EdDsa) => Algorithm::EdDSA,
        None if dev_mode && args.jwt_public_key_file.is_none() && args.jwt_jwks_file.is_none() => Algorithm::HS256,
        None => Algorithm::RS256,
    };
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|source| AuthSetupError::Read {
            path: path.clone(),
            source,
        })
    };
    let keys = if let Some(path) = &args.jwt_jwks_file {
        KeySource::Jwks(String::from_utf8_lossy(&read(path)?).into_owned())
    } else if let Some(path) = &args.jwt_public_key_file {
        KeySource::PublicKeyPem(read(path)?)
    } else if algorithm == Algorithm::HS256 {
        KeySource::Secret(dev_secret(args, data_dir, dev_mode)?)
    } else {
        return Err(AuthSetupError::NoKey);
    };
    Ok(AuthSettings {
        algorithm,
        keys,
        issuer: args.jwt_issuer.clone(),
        audience: args.jwt_audience.clone(),
        leeway_secs: args.jwt_leeway_secs,
        roles_claim: args.jwt_roles_claim.clone(),
        scopes_claim: args.jwt_scopes_claim.clone(),
        dev_mode,
    })
}
