//! The maintenance commands: `verify` and `rotate-master-key`.

use crate::privacy::keys;
use crate::store::verify::{self, Verdict};

use super::config::{RotateArgs, VerifyArgs};
use super::{database, master_key};

/// `opsledger verify`: recomputes every stream's chain.
pub async fn verify(args: &VerifyArgs) -> Result<Verdict, String> {
    let (client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    verify::verify_streams(&client).await.map_err(|e| e.to_string())
}

/// `opsledger rotate-master-key`: re-wraps every key under the new master
/// key in one transaction. Events and views are untouched: they hold
/// ciphertext under subject keys, which do not change.
pub async fn rotate_master_key(args: &RotateArgs) -> Result<String, String> {
    let dev_mode = args.database.database_url.is_none();
    let old = master_key::load(&args.master, &args.database.data_dir, dev_mode).map_err(|e| e.to_string())?;
    let new = master_key::read_file(&args.new_key).map_err(|e| e.to_string())?;
    if old.id() == new.id() {
        return Err("the new master key is the current one".into());
    }
    let (mut client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    let tx = client.transaction().await.map_err(|e| e.to_string())?;
    let (subjects, system) = keys::rewrap_all(&tx, &old, &new).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let uses_dev_file = args.master.master_key.is_none() && args.master.master_key_file.is_none();
    if uses_dev_file {
        // The development key file must follow, or the next start could not
        // open anything.
        let path = args.database.data_dir.join("master-key");
        std::fs::write(&path, new.to_text())
            .map_err(|e| format!("keys re-wrapped, but writing {}: {e}", path.display()))?;
    }
    Ok(format!(
        "re-wrapped {subjects} subject key(s) and {system} system key(s) under master key {}; {}",
        new.id(),
        if uses_dev_file {
            "the development key file was updated"
        } else {
            "now configure the new key (OPSLEDGER_MASTER_KEY or OPSLEDGER_MASTER_KEY_FILE) and restart"
        }
    ))
}
