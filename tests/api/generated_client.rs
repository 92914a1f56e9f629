//! A client generated from the committed spec by a third-party generator
//! works without workarounds: openapi-python-client (pinned, installed
//! from PyPI into `target/generated-client/`) generates it without a
//! warning, and `tests/generated_client/drive.py` drives a complaint
//! through its lifecycle with it, checking that every answer comes back
//! as its typed model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::*;
use opsledger::domain::Role;

/// The generator, pinned.
const GENERATOR: &str = "openapi-python-client==0.29.1";

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e} (python3 and its venv module are needed)"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A virtual environment with the generator, made once and kept in
/// `target/`; returns its Python.
fn generator_environment(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let python = venv.join("bin/python");
    let marker = venv.join(GENERATOR);
    if !marker.exists() {
        run(
            Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                GENERATOR,
            ]),
            "pip install the generator",
        );
        std::fs::write(&marker, "").expect("mark the environment ready");
    }
    python
}

#[tokio::test]
async fn a_client_generated_from_the_spec_drives_a_complaint_with_typed_answers() {
    let dir = repo("target/generated-client");
    std::fs::create_dir_all(&dir).expect("target/generated-client");
    let python = generator_environment(&dir);
    let out = dir.join("opsledger_client");
    let generated = run(
        Command::new(python.parent().expect("bin").join("openapi-python-client"))
            .args(["generate", "--meta", "none", "--overwrite", "--config"])
            .arg(repo("tests/generated_client/config.yml"))
            .arg("--path")
            .arg(repo("openapi/openapi.json"))
            .arg("--output-path")
            .arg(&out),
        "openapi-python-client generate",
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(
        !said.to_lowercase().contains("warning"),
        "the generator warned about the spec:\n{said}"
    );

    let app = spawn_app().await;
    let manager = token("mgr-1", &[Role::Manager]);
    let drive = tokio::process::Command::new(&python)
        .arg(repo("tests/generated_client/drive.py"))
        .arg(&app.base)
        .arg(agent())
        .arg(manager)
        .env("PYTHONPATH", &dir)
        .output()
        .await
        .expect("run drive.py");
    assert!(
        drive.status.success(),
        "the generated client failed:\n{}\n{}",
        String::from_utf8_lossy(&drive.stdout),
        String::from_utf8_lossy(&drive.stderr)
    );
    let story = String::from_utf8_lossy(&drive.stdout);
    assert!(story.contains("closed"), "{story}");
}
