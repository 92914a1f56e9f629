//! The README's walkthrough, run as a reader would run it: every `sh` block
//! of its "Walkthrough" section, in order, in one bash session against a
//! real server, with tokens minted by the real binary. The only edits are
//! the two a reader's machine makes for them: the binary is already built,
//! and the server listens on a test port. `call` uses `--fail-with-body`
//! and the script runs under `set -e`, so any refused request fails it.

use std::process::Command;

use crate::helpers::*;
use serde_json::Value;

/// The issuer of the development tokens `opsledger token` mints by default,
/// which the README's actor ids name.
const DEV_ISSUER: &str = "opsledger-dev";

fn walkthrough_script(readme: &str) -> String {
    let start = readme.find("\n## Walkthrough").expect("a Walkthrough section");
    let rest = &readme[start + 1..];
    let end = rest.find("\n## ").expect("a section after the walkthrough");
    let section = &rest[..end];
    let mut script = String::new();
    let mut blocks = section.split("```sh\n").skip(1);
    for block in blocks.by_ref() {
        let (code, _) = block.split_once("```").expect("a closed code block");
        script.push_str(code);
        script.push('\n');
    }
    assert!(script.contains("/v1/faults/"), "the walkthrough covers the fault story");
    script
}

/// A token as `opsledger token` mints it for the server under test.
fn dev_token(sub: &str, role: &str) -> String {
    let output = Command::new(BIN)
        .args(["token", "--sub", sub, "--role", role])
        .env("OPSLEDGER_JWT_SECRET", SECRET)
        .env("OPSLEDGER_JWT_AUDIENCE", AUDIENCE)
        .env_remove("OPSLEDGER_JWT_ISSUER")
        .output()
        .expect("opsledger token runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

#[tokio::test]
async fn the_readme_walkthrough_runs_as_written() {
    let app = spawn_app_with(|args| args.auth.jwt_issuer = DEV_ISSUER.to_owned()).await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let script = walkthrough_script(&readme);
    for needle in ["cargo run --release -q --", "API=http://127.0.0.1:8080"] {
        assert!(script.contains(needle), "the walkthrough uses {needle:?}");
    }
    let script = script
        .replace("cargo run --release -q --", BIN)
        .replace("API=http://127.0.0.1:8080", &format!("API={}", app.base));
    let data_dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("readme-walkthrough");
    std::fs::create_dir_all(&data_dir).expect("data dir");

    // Off the runtime's thread: the server under test runs on it.
    let mut bash = Command::new("bash");
    bash.args(["-euo", "pipefail", "-c", &script])
        .current_dir(&data_dir)
        .env_remove("DATABASE_URL")
        .env("OPSLEDGER_DATA_DIR", &data_dir)
        .env("OPSLEDGER_JWT_SECRET", SECRET)
        .env("OPSLEDGER_JWT_AUDIENCE", AUDIENCE)
        .env_remove("OPSLEDGER_JWT_ISSUER");
    let output = tokio::task::spawn_blocking(move || bash.output())
        .await
        .expect("the blocking task completes")
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the walkthrough failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    // What the walkthrough did is in the server, as it says.
    let auditor = dev_token("auditor-1", "auditor");
    let list = |query: &'static str| {
        let app = &app;
        let auditor = auditor.clone();
        async move {
            let response = app.get(&format!("/v1/tickets?{query}"), &auditor).await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")["items"]
                .as_array()
                .cloned()
                .expect("items")
        }
    };
    let complaints = list("kind=complaint").await;
    assert_eq!(complaints.len(), 2, "two complaints filed");
    assert!(complaints.iter().all(|c| c["status"] == "closed"), "{complaints:?}");
    let faults = list("kind=fault").await;
    assert_eq!(faults.len(), 1, "one fault escalated");
    let fault = &faults[0];
    assert_eq!(fault["status"], "closed");
    assert_eq!(fault["severity"], 1);
    assert_eq!(fault["person_minutes"]["corrective"], 60);
    assert_eq!(fault["person_minutes"]["preventive"], 45);
    assert_eq!(fault["review"]["action_items"][0]["done"]["by"], "opsledger-dev|eng-1");
    let escalated = complaints
        .iter()
        .find(|c| c["escalated_to"].is_object())
        .expect("the escalated complaint");
    assert_eq!(escalated["linked_fault_resolutions"][0]["fault"]["id"], fault["id"]);
    assert_eq!(escalated["satisfaction"]["rating"], 4, "{escalated}");
}
