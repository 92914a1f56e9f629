//! The raw PostgreSQL ceiling: runs the pgbench scripts in `benches/load/sql/`, which replay the statements the
//! server issues for one request of each scenario (see the comment at the top of each script), and reads pgbench's
//! throughput and mean latency.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one pgbench run measured. For `lifecycle.sql` a "transaction" is one whole lifecycle (four requests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PgbenchResult {
    /// Script executions per second, without the initial connection time.
    pub tps: f64,
    /// Mean latency of one script execution, in milliseconds.
    pub latency_avg_ms: f64,
}

/// pgbench next to the PostgreSQL server binaries: PATH, else the highest /usr/lib/postgresql/*/bin.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("pgbench");
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    let mut versions: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            // "15", "9.6": numeric components, so that 10 sorts above 9.6.
            let version = name
                .split('.')
                .map(|part| part.parse::<u64>().ok())
                .collect::<Option<Vec<u64>>>()?;
            let candidate = entry.path().join("bin").join("pgbench");
            is_executable(&candidate).then_some((version, candidate))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, path)| path)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `script` (a path) for `seconds` with `clients` connections (-j min(clients, 2)), `-n -M prepared`, against the
/// libpq URL (pass it as the last argument / dbname); `vars` become `-D name=value`. Parses "tps = … (without initial
/// connection time)" and "latency average = … ms". Error text includes pgbench's stderr tail.
pub fn run(
    pgbench: &Path,
    script: &Path,
    url: &str,
    clients: u32,
    seconds: u64,
    vars: &[(&str, String)],
) -> Result<PgbenchResult, String> {
    let clients = clients.max(1);
    let mut command = Command::new(pgbench);
    command
        .arg("-n")
        .args(["-M", "prepared"])
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.min(2).to_string()])
        .args(["-T", &seconds.max(1).to_string()])
        .arg("-f")
        .arg(script);
    for (name, value) in vars {
        command.arg("-D").arg(format!("{name}={value}"));
    }
    command.arg(url);
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", pgbench.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let what = format!("pgbench {} ({clients} clients)", script.display());
    // pgbench exits with 2 when a client aborted (a failed statement): its figures would cover a partial run.
    if !output.status.success() {
        return Err(format!("{what} failed ({}): {}", output.status, tail(&stderr, &stdout)));
    }
    match parse(&stdout) {
        Some(result) => Ok(result),
        None => Err(format!(
            "{what}: no \"tps = … (without initial connection time)\" and \"latency average = … ms\" in its output: {}",
            tail(&stderr, &stdout)
        )),
    }
}

/// The scripts directory: concat!(env!("CARGO_MANIFEST_DIR"), "/benches/load/sql").
pub fn script(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/load/sql")).join(name)
}

/// The throughput and mean latency in pgbench's summary.
fn parse(stdout: &str) -> Option<PgbenchResult> {
    let mut tps = None;
    let mut latency = None;
    for line in stdout.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("tps = ") {
            // PostgreSQL 14 and later: "(without initial connection time)"; 13 and earlier printed two lines,
            // "(including connections establishing)" and "(excluding connections establishing)".
            if rest.contains("without initial connection time") || rest.contains("excluding connections establishing") {
                tps = first_number(rest);
            }
        } else if let Some(rest) = line.strip_prefix("latency average = ") {
            latency = rest.strip_suffix(" ms").and_then(first_number);
        }
    }
    Some(PgbenchResult {
        tps: tps?,
        latency_avg_ms: latency?,
    })
}

fn first_number(s: &str) -> Option<f64> {
    s.split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// The last lines of stderr (where pgbench reports failures), else of stdout, at most a few kilobytes (a failed
/// statement's message may quote long parameters).
fn tail(stderr: &str, stdout: &str) -> String {
    const LINES: usize = 12;
    const CHARS: usize = 4000;
    let text = if stderr.trim().is_empty() { stdout } else { stderr };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(LINES)..].join("\n");
    let count = tail.chars().count();
    if count == 0 {
        "(no output)".to_owned()
    } else if count > CHARS {
        let kept: String = tail.chars().skip(count - CHARS).collect();
        format!("…{kept}")
    } else {
        tail
    }
}
