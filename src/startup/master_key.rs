//! Where the master key comes from: configuration, or in development mode a
//! key generated once into the data directory (next to the embedded
//! database it protects, which is fine for a developer's machine and
//! nowhere else).

use std::path::Path;

use crate::privacy::crypto::MasterKey;

use super::config::MasterKeyArgs;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "no master key is configured: set OPSLEDGER_MASTER_KEY or OPSLEDGER_MASTER_KEY_FILE \
         (32 bytes as 64 hex characters, e.g. `openssl rand -hex 32`)"
    )]
    Missing,
    #[error("cannot read the master key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write the development master key {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("invalid master key: {0}")]
    Invalid(String),
}

pub fn load(args: &MasterKeyArgs, data_dir: &Path, dev_mode: bool) -> Result<MasterKey, MasterKeyError> {
    if let Some(text) = &args.master_key {
        return MasterKey::parse(text).map_err(|e| MasterKeyError::Invalid(e.to_string()));
    }
    if let Some(path) = &args.master_key_file {
        return read_file(path);
    }
    if !dev_mode {
        return Err(MasterKeyError::Missing);
    }
    let path = data_dir.join("master-key");
    if path.exists() {
        return read_file(&path);
    }
    let key = MasterKey::generate().map_err(|e| MasterKeyError::Invalid(e.to_string()))?;
    let write_error = |source| MasterKeyError::Write {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(write_error)?;
    super::secret_file::write_private(&path, key.to_text().as_bytes()).map_err(write_error)?;
    tracing::warn!(path = %path.display(), "development mode: generated a master key next to the data");
    Ok(key)
}

pub fn read_file(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| MasterKeyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    MasterKey::parse(&text).map_err(|e| MasterKeyError::Invalid(e.to_string()))
}
