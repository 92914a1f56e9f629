//! The console in a real browser: each test starts a server on a fresh
//! database and runs one scenario of `console/e2e/run.mjs`, which drives
//! Debian's Chromium (`/usr/bin/chromium`) headless with playwright-core
//! and checks every page it visits with axe-core.
//!
//! They need Node.js, `console/node_modules` (`npm ci` in `console/`) and
//! Chromium. Under CI (`CI=true`) a missing one fails the test; on a
//! developer's machine the test prints what is missing and passes, so that
//! the README's `cargo test` works without Node (the console's own files
//! are committed and tested by the other `console::` tests regardless).
//!
//! `OPSLEDGER_SCREENSHOTS=docs/console` saves the main screens there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::helpers::spawn_app;

const CONSOLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/console");

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    if !Path::new(CONSOLE).join("node_modules/playwright-core").is_dir()
        || !Path::new(CONSOLE).join("node_modules/axe-core").is_dir()
    {
        return Some("console/node_modules is missing: run `npm ci` in console/".into());
    }
    if !chromium().is_file() {
        return Some(format!(
            "{} is missing: apt-get install chromium chromium-driver",
            chromium().display()
        ));
    }
    None
}

/// One browser at a time: the scenarios start several pages each, and on a
/// machine of two cores six Chromiums at once mostly wait for each other.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Whether the browser tests can run; when not, fails under CI and prints
/// why elsewhere.
fn can_run(name: &str) -> bool {
    let Some(reason) = missing() else {
        return true;
    };
    // CI systems set `CI` to "true", "1" or their own name; only an unset,
    // empty, "false" or "0" value means a developer's machine.
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0"));
    assert!(!ci, "browser test {name} cannot run under CI: {reason}");
    eprintln!("SKIPPED browser test {name}: {reason}");
    false
}

/// Runs one scenario against a fresh development-mode server.
async fn scenario(name: &str) {
    if can_run(name) {
        scenario_on(&spawn_app().await, name).await;
    }
}

/// Runs one scenario against `app`; fails with the script's output.
async fn scenario_on(app: &crate::helpers::TestApp, name: &str) {
    let _turn = ONE_BROWSER.lock().await;
    let started = Instant::now();
    let mut command = tokio::process::Command::new("node");
    command
        .arg("e2e/run.mjs")
        .arg(name)
        .current_dir(CONSOLE)
        .env("OPSLEDGER_BASE", &app.base)
        .env("CHROMIUM", chromium())
        .kill_on_drop(true);
    if let Some(dir) = std::env::var_os("OPSLEDGER_SCREENSHOTS") {
        // Relative to the repository, as a reader of the docs names it.
        command.env("OPSLEDGER_SCREENSHOTS", Path::new(env!("CARGO_MANIFEST_DIR")).join(dir));
    }
    let output = command.output().await.expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser scenario {name} failed after {:?}:\n{stdout}\n{stderr}",
        started.elapsed()
    );
    eprintln!("{}", stdout.trim());
}

#[tokio::test]
async fn an_agent_files_acknowledges_escalates_resolves_and_closes_a_complaint_in_chinese() {
    scenario("chinese-lifecycle").await;
}

#[tokio::test]
async fn the_second_of_two_agents_editing_one_ticket_sees_the_conflict() {
    scenario("conflict").await;
}

#[tokio::test]
async fn the_queue_shows_a_complaint_another_user_files_without_reloading() {
    scenario("live-queue").await;
}

#[tokio::test]
async fn stored_complaint_text_full_of_markup_and_script_executes_nothing() {
    scenario("stored-script").await;
}

#[tokio::test]
async fn an_engineer_sees_the_complainant_masked_with_no_way_to_reveal_it() {
    scenario("masked").await;
}

#[tokio::test]
async fn a_manager_triages_and_an_engineer_logs_a_repair_and_closes_the_fault() {
    scenario("engineer-repair").await;
}

#[tokio::test]
async fn with_sla_clocks_the_queue_lists_a_p1_before_an_older_p4_with_its_due_time() {
    if !can_run("sla-queue") {
        return;
    }
    let app = crate::helpers::spawn_app_with(|args| {
        args.sla = opsledger::startup::config::SlaSwitch::On;
    })
    .await;
    scenario_on(&app, "sla-queue").await;
}

#[tokio::test]
async fn outside_development_mode_an_agent_signs_in_at_the_identity_provider_with_pkce() {
    if !can_run("single-sign-on") {
        return;
    }
    let idp = super::provider::start();
    let app = crate::helpers::spawn_app_with(|args| {
        args.auth.dev_mode = false;
        args.auth.jwt_secret = None;
        args.auth.jwt_jwks_file = Some(super::provider::JWKS.into());
        args.auth.jwt_issuer = idp.issuer.clone();
        args.console.oidc_discovery_url = Some(idp.discovery_url());
        args.console.oidc_client_id = Some(super::provider::CLIENT_ID.to_owned());
    })
    .await;
    scenario_on(&app, "single-sign-on").await;
    assert_eq!(idp.refusals(), Vec::<String>::new(), "the provider refused nothing");
}
