//! Peer mode: `cargo bench --bench load -- --peer-rt http://127.0.0.1:8091
//! --peer-auth 'token 1-14-…'` measures Request Tracker 5's REST2 API with
//! the same `measure` (same clients, warm-up, seconds, HDR histogram) as our
//! own scenarios. RT is started outside this benchmark by
//! `benches/peer/rt-setup.sh`; nothing here starts or configures it.
//!
//! RT's closest equivalents of our scenarios:
//! - file: `POST /REST/2.0/ticket` (queue General, subject, a text body the
//!   size of our complaint description, a new requestor address each time);
//! - lifecycle: create → comment → correspond → `PUT` Status resolved;
//! - get: `GET /REST/2.0/ticket/{id}` of the prepared tickets;
//! - list: `GET /REST/2.0/tickets?query=Status='new'` (RT's default page);
//! - history: `GET /REST/2.0/ticket/{id}/history` of a ticket with
//!   `--peer-history` comments (RT's default page of transactions).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Args, Measured, machine, measure};

/// A client of RT's REST2 API.
#[derive(Clone)]
struct Rt {
    base: Arc<String>,
    http: reqwest::Client,
    auth: Arc<String>,
    serial: Arc<AtomicU64>,
}

impl Rt {
    /// Sends one request; any status outside 2xx is an error carrying the
    /// body. Command replies are parsed as JSON; reads are checked for a body.
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let parse = method != reqwest::Method::GET;
        let mut request = self
            .http
            .request(method, format!("{}/REST/2.0{path}", self.base))
            .header("Authorization", self.auth.as_str());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&bytes);
            let text: String = text.chars().take(500).collect();
            return Err(format!("{status}: {text}"));
        }
        if parse {
            serde_json::from_slice(&bytes).map_err(|e| format!("{status}: not JSON: {e}"))
        } else if bytes.is_empty() {
            Err(format!("{status}: empty body"))
        } else {
            Ok(Value::Null)
        }
    }

    /// Creates a ticket as our `file` files a complaint; returns its id.
    async fn create(&self) -> Result<u64, String> {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let body = json!({
            "Queue": "General",
            "Subject": "宽带每晚断线",
            "Requestor": format!("bench-{n}@example.com"),
            "Content": "客户反映家中宽带每晚八点后断线，已持续一周。",
            "ContentType": "text/plain",
        });
        let reply = self.send(reqwest::Method::POST, "/ticket", Some(&body)).await?;
        // REST2 returns the id as a string ("id":"42").
        match &reply["id"] {
            Value::String(s) => s.parse().map_err(|_| format!("201: bad ticket id in {reply}")),
            Value::Number(n) => n.as_u64().ok_or_else(|| format!("201: bad ticket id in {reply}")),
            _ => Err(format!("201: no ticket id in {reply}")),
        }
    }

    async fn comment(&self, id: u64, kind: &str, text: &str) -> Result<(), String> {
        let body = json!({"Content": text, "ContentType": "text/plain"});
        self.send(reqwest::Method::POST, &format!("/ticket/{id}/{kind}"), Some(&body))
            .await
            .map(|_| ())
    }

    /// Our lifecycle is file → acknowledge (a message to the complainant) →
    /// note → resolve; RT's closest is create → correspond → comment →
    /// status resolved.
    async fn lifecycle(&self) -> Result<(), String> {
        let id = self.create().await?;
        self.comment(id, "correspond", "您好，已收到您的投诉。").await?;
        self.comment(id, "comment", "工程师已安排上门。").await?;
        self.send(
            reqwest::Method::PUT,
            &format!("/ticket/{id}"),
            Some(&json!({"Status": "resolved"})),
        )
        .await
        .map(|_| ())
    }
}

struct PeerRow {
    scenario: &'static str,
    unit: &'static str,
    clients: u32,
    measured: Measured,
}

/// Runs `n` jobs from `concurrency` tasks; the first error stops the run.
async fn prepare<F, Fut, T>(n: usize, concurrency: usize, job: F) -> Result<Vec<T>, String>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<T, String>> + Send,
    T: Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let job = job.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return Ok::<Vec<T>, String>(done);
                }
                done.push(job(i).await?);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

pub(crate) async fn run(args: &Args, base: &str) {
    let auth = args.peer_auth.clone().unwrap_or_default();
    let rt = Rt {
        base: Arc::new(base.trim_end_matches('/').to_owned()),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("client"),
        auth: Arc::new(auth),
        serial: Arc::new(AtomicU64::new(1)),
    };
    let wanted = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let started = std::time::Instant::now();

    // Fail early, with RT's answer, if the URL or the credential is wrong.
    if let Err(e) = rt.send(reqwest::Method::GET, "/queue/General", None).await {
        eprintln!("peer: RT at {base} refused GET /REST/2.0/queue/General: {e}");
        std::process::exit(1);
    }

    eprintln!("peer: preparing {} tickets", args.peer_tickets);
    let ids = {
        let rt = rt.clone();
        prepare(args.peer_tickets, 8, move |_| {
            let rt = rt.clone();
            async move { rt.create().await }
        })
        .await
    };
    let ids = match ids {
        Ok(ids) => Arc::new(ids),
        Err(e) => {
            eprintln!("peer: preparing tickets failed: {e}");
            std::process::exit(1);
        }
    };
    let history_id = match rt.create().await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("peer: creating the history ticket failed: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("peer: adding {} comments to ticket {history_id}", args.peer_history);
    {
        let rt = rt.clone();
        let comments = prepare(args.peer_history, 8, move |i| {
            let rt = rt.clone();
            async move { rt.comment(history_id, "comment", &format!("巡检记录 {i}")).await }
        })
        .await;
        if let Err(e) = comments {
            eprintln!("peer: adding comments failed: {e}");
            std::process::exit(1);
        }
    }
    let prepared_in = started.elapsed();
    eprintln!("peer: prepared in {:.0} s", prepared_in.as_secs_f64());

    let warmup = Duration::from_secs(args.warmup);
    let seconds = Duration::from_secs(args.seconds);
    let scenarios: [(&'static str, &'static str); 5] = [
        ("file", "creates/s"),
        ("lifecycle", "lifecycles/s (4 requests each)"),
        ("get", "requests/s"),
        ("list", "requests/s"),
        ("history", "requests/s"),
    ];
    let mut rows = Vec::new();
    for (scenario, unit) in scenarios {
        if !wanted(scenario) {
            continue;
        }
        for &clients in &args.clients {
            eprintln!("peer: {scenario} at {clients} client(s)");
            let rt = rt.clone();
            let ids = ids.clone();
            let measured = match scenario {
                "file" => {
                    measure(clients, warmup, seconds, move |_| {
                        let rt = rt.clone();
                        async move { rt.create().await.map(|_| ()) }
                    })
                    .await
                }
                "lifecycle" => {
                    measure(clients, warmup, seconds, move |_| {
                        let rt = rt.clone();
                        async move { rt.lifecycle().await }
                    })
                    .await
                }
                "get" => {
                    measure(clients, warmup, seconds, move |i| {
                        let rt = rt.clone();
                        let id = ids[(i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize];
                        async move {
                            rt.send(reqwest::Method::GET, &format!("/ticket/{id}"), None)
                                .await
                                .map(|_| ())
                        }
                    })
                    .await
                }
                "list" => {
                    measure(clients, warmup, seconds, move |_| {
                        let rt = rt.clone();
                        async move {
                            rt.send(reqwest::Method::GET, "/tickets?query=Status%3D%27new%27", None)
                                .await
                                .map(|_| ())
                        }
                    })
                    .await
                }
                _ => {
                    measure(clients, warmup, seconds, move |_| {
                        let rt = rt.clone();
                        let path = format!("/ticket/{history_id}/history");
                        async move { rt.send(reqwest::Method::GET, &path, None).await.map(|_| ()) }
                    })
                    .await
                }
            };
            rows.push(PeerRow {
                scenario,
                unit,
                clients,
                measured,
            });
        }
    }

    // What one page of the list and the history holds, for the report.
    let page = |path: String| {
        let rt = rt.clone();
        async move {
            let response = rt
                .http
                .get(format!("{}/REST/2.0{path}", rt.base))
                .header("Authorization", rt.auth.as_str())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let v: Value = response.json().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(format!(
                "{} items of {} (per_page {}, {} pages)",
                v["count"], v["total"], v["per_page"], v["pages"]
            ))
        }
    };
    let list_page = page("/tickets?query=Status%3D%27new%27".into())
        .await
        .unwrap_or_else(|e| format!("unknown: {e}"));
    let history_page = page(format!("/ticket/{history_id}/history"))
        .await
        .unwrap_or_else(|e| format!("unknown: {e}"));

    let mut out = String::new();
    out.push_str(&format!(
        "Peer: Request Tracker 5 REST2 at {base}. Machine: {}. {} s measured after {} s warm-up per row; \
         RT and clients on the same machine. Prepared {} tickets and a ticket ({history_id}) with {} comments \
         in {:.0} s. One list response at the end: {list_page}; one history response: {history_page}.\n\n",
        machine(),
        args.seconds,
        args.warmup,
        ids.len(),
        args.peer_history,
        prepared_in.as_secs_f64(),
    ));
    out.push_str("| scenario | clients | throughput | p50 ms | p99 ms | errors |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in &rows {
        let m = &r.measured;
        if m.ops_per_sec == 0.0 && m.errors == 0 {
            // `measure` records operations that start inside the window; one
            // that started in the warm-up and ran past the end is not counted.
            out.push_str(&format!(
                "| {} | {} | none completed that started in the window ({} s) | — | — | 0 |\n",
                r.scenario, r.clients, args.seconds
            ));
            continue;
        }
        out.push_str(&format!(
            "| {} | {} | {:.1} {} | {:.2} | {:.2} | {} |\n",
            r.scenario, r.clients, m.ops_per_sec, r.unit, m.p50_ms, m.p99_ms, m.errors
        ));
    }
    for r in rows.iter().filter(|r| r.measured.errors > 0) {
        out.push_str(&format!(
            "\n{} at {} clients, first error: {}\n",
            r.scenario,
            r.clients,
            r.measured.first_error.as_deref().unwrap_or("?")
        ));
    }
    crate::publish("peer-rt-report.md", &out);
}
