//! The maintenance commands: `verify`, `checkpoint`, `rebuild`,
//! `rotate-master-key`, `rotate-etag-key` and `subjects repair`.

use crate::privacy::keys;
use crate::store::verify::{VerifyReport, verify_all};
use crate::store::{checkpoint, log};

use super::config::{
    CheckpointArgs, DatabaseArgs, LoadCalendarsArgs, MasterKeyArgs, RebuildArgs, RepairArgs, RotateArgs,
    RotateEtagKeyArgs, VerifyArgs,
};
use super::master_key;
use crate::app::commands::{CommandContext, Commands, RepairReport};
use crate::infra::database;
use crate::projections::rebuild;

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `opsledger verify`: recomputes every per-stream chain and the global
/// chain; with a checkpoint, also proves the log still extends it unchanged.
pub async fn verify(args: &VerifyArgs) -> Result<VerifyReport, String> {
    let (client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    let mut report = verify_all(&client).await.map_err(|e| e.to_string())?;
    if let (Some(cp_path), Some(key_path)) = (&args.checkpoint, &args.public_key) {
        let cp: checkpoint::Checkpoint =
            serde_json::from_str(&read(cp_path)?).map_err(|e| format!("malformed checkpoint: {e}"))?;
        checkpoint::verify_signature(&cp, &read(key_path)?).map_err(|e| e.to_string())?;
        let expected = checkpoint::head_hash(&cp).map_err(|e| e.to_string())?;
        let found = log::hash_at(&client, cp.position).await.map_err(|e| e.to_string())?;
        if report.ok && found != Some(expected) {
            report.ok = false;
            report.position = Some(cp.position);
            report.reason = Some(match found {
                None => format!("the log no longer reaches the checkpoint's position {}", cp.position),
                Some(_) => format!(
                    "the log up to position {} differs from the checkpoint: history was rewritten",
                    cp.position
                ),
            });
        }
    }
    Ok(report)
}

/// `opsledger checkpoint`: signs the current head of the global log.
pub async fn checkpoint(args: &CheckpointArgs) -> Result<String, String> {
    let (client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    let (position, hash) = log::head(&client).await.map_err(|e| e.to_string())?;
    let cp = checkpoint::sign(position, &hash, &read(&args.key)?).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&cp).map_err(|e| e.to_string())? + "\n";
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(format!(
                "checkpoint at position {position} written to {}\n",
                path.display()
            ))
        }
        None => Ok(text),
    }
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

/// `opsledger subjects repair`: splits the data subjects that a matching
/// contact had joined across different people (see
/// [`Commands::repair_subjects`]). Runs beside a serving server: each
/// subject is repaired in a transaction of its own, under row locks.
pub async fn repair_subjects(args: &RepairArgs) -> Result<RepairReport, String> {
    let (commands, _embedded) = commands_on(&args.database, &args.master, args.strong.kinds()).await?;
    let ctx = CommandContext::on_behalf_of(crate::domain::Actor {
        id: "opsledger|subjects-repair".to_owned(),
        roles: vec![crate::domain::Role::Admin],
    });
    commands
        .repair_subjects(&ctx, args.dry_run)
        .await
        .map_err(|e| e.to_string())
}

/// `opsledger calendars load`: defines the shipped business calendars
/// (`24x7`, `CN`) that the store does not have yet, and answers the codes it
/// defined; a second run defines none. Runs beside a serving server.
pub async fn load_calendars(args: &LoadCalendarsArgs) -> Result<Vec<String>, String> {
    let (commands, _embedded) = commands_on(&args.database, &args.master, Vec::new()).await?;
    commands.load_shipped_calendars().await.map_err(|e| e.to_string())
}

/// `opsledger sla upgrade`: pins clocks on open tickets that have none and
/// answers how many got them; a second run pins none. Runs beside a
/// serving server (each ticket is locked while it is looked at).
pub async fn upgrade_clocks(args: &LoadCalendarsArgs) -> Result<u64, String> {
    let (commands, _embedded) = commands_on(&args.database, &args.master, Vec::new()).await?;
    commands.upgrade_clocks().await.map_err(|e| e.to_string())
}

/// The commands a maintenance subcommand runs, on the owner's pool, with
/// the store's personal-data and ETag keys; the embedded cluster, if one
/// was started, lives as long as the second value.
async fn commands_on(
    database_args: &DatabaseArgs,
    master_args: &MasterKeyArgs,
    strong: Vec<crate::privacy::crypto::IndexKind>,
) -> Result<(Commands, Option<crate::infra::embedded_pg::EmbeddedPostgres>), String> {
    let dev_mode = database_args.database_url.is_none();
    let master = master_key::load(master_args, &database_args.data_dir, dev_mode).map_err(|e| e.to_string())?;
    let (pool, embedded) = database::owner_pool(database_args).await.map_err(|e| e.to_string())?;
    let privacy = {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        crate::privacy::Privacy::open(&client, master)
            .await
            .map_err(|e| e.to_string())?
            .with_strong_identifiers(strong)
    };
    let etag_key = {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        let key = keys::system_key(&client, privacy.master(), keys::SystemKey::Etag)
            .await
            .map_err(|e| e.to_string())?;
        crate::app::etag::EtagKey::new(&key).map_err(|e| e.to_string())?
    };
    let commands = Commands::new(
        pool,
        std::sync::Arc::new(privacy),
        Default::default(),
        etag_key,
        crate::app::clock::SystemClock::shared(),
    );
    Ok((commands, embedded))
}

/// `opsledger rotate-etag-key`: replaces the key of ETags. Servers read it
/// at start, so until every instance has restarted, instances disagree and
/// a client may get 412 for a tag another instance gave it; after that,
/// every tag issued before is stale once (412 on `If-Match`, a full 200
/// instead of 304 on `If-None-Match`) and clients read the ticket again.
pub async fn rotate_etag_key(args: &RotateEtagKeyArgs) -> Result<String, String> {
    let dev_mode = args.database.database_url.is_none();
    let master = master_key::load(&args.master, &args.database.data_dir, dev_mode).map_err(|e| e.to_string())?;
    let (client, _embedded) = database::connect_owner(&args.database)
        .await
        .map_err(|e| e.to_string())?;
    keys::replace_etag_key(&client, &master)
        .await
        .map_err(|e| e.to_string())?;
    Ok("the ETag key was replaced; restart every server instance: ETags issued before are stale from then on".into())
}

/// `opsledger rebuild`: replays the log into fresh views and swaps them in,
/// with a progress bar on standard error. One connection holds the snapshot
/// and writes the views, another reads the log, and
/// [`rebuild::default_folds`] tasks fold it.
pub async fn rebuild(args: &RebuildArgs) -> Result<rebuild::RebuildReport, String> {
    let (pool, _embedded) = database::owner_pool(&args.database).await.map_err(|e| e.to_string())?;
    let folds = args.folds.map_or_else(rebuild::default_folds, usize::from);
    pool.resize(2);
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    // Taken out of the pool: it moves into the task that reads with it.
    let reader = deadpool_postgres::Object::take(pool.get().await.map_err(|e| e.to_string())?);
    let bar = progress_bar("replaying the log");
    let reading = rebuild::Reading::Dealt {
        reader,
        folds,
        read_ahead: rebuild::READ_AHEAD,
    };
    let report = rebuild::rebuild(&mut client, reading, &|read, total| {
        bar.set_length(total.max(read));
        bar.set_position(read);
    })
    .await
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    Ok(report)
}

/// A progress bar on standard error, counting events.
pub(crate) fn progress_bar(message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg}: {bar:40} {pos}/{len} events ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(message);
    bar
}
