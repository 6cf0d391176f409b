//! `sluice bench sqs`: drives an SQS-compatible endpoint (JSON 1.0 protocol, as boto3 and
//! current SDKs speak it) and, on Sluice, its SQS event source mappings.
//!
//! # Phases
//!
//! 1. **roundtrip** (any endpoint, Sluice or a peer such as fauxqs): CreateQueue
//!    `sluice-bench-sqs-<uuid8>`, then `--concurrency` clients each loop SendMessageBatch
//!    (10 × `--size` bytes), ReceiveMessage (10, no wait) and DeleteMessageBatch of what it
//!    received, until `--messages` messages are deleted; the same loop as
//!    `peers/bench_boto3.py`'s `sqs.roundtrip`, with the same metric names.
//! 2. **mapping** (`--mapping`, Sluice only; the function is the bench process, declared in
//!    Sluice's config as for `sluice bench esm`):
//!    - latency: a queue and a mapping with BatchSize 1; `--latency-samples` times, one
//!      SendMessage and the wait for the function to receive it (sequential samples);
//!    - drain: `--drain-messages` messages sent first (SendMessageBatch, 8 writers), then
//!      a mapping with BatchSize `--batch-size`; the rate is distinct messages delivered
//!      over the time from CreateEventSourceMapping to the last one.
//! 3. **cleanup**: mappings, then queues, always.
//!
//! Message bodies start with `SLQ:<run>:<id>:` so the function knows which sample or
//! drain message arrived.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use clap::{Args, value_parser};
use reqwest::Url;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use super::esm::LambdaClient;
use super::kinesis_wire::{dummy_authorization, parse_error_body};
use super::report::{
    Report, RunInfo, interruptible, label_suffix, ms, now_amz_date, now_iso8601_utc,
    percentile_nearest_rank, process_cpu_seconds, sort_samples,
};

/// Messages per SendMessageBatch / ReceiveMessage / DeleteMessageBatch (the API maximum).
const BATCH: usize = 10;
const JSON_1_0: &str = "application/x-amz-json-1.0";

#[derive(Debug, Clone, Args)]
pub struct SqsArgs {
    /// The endpoint, plain HTTP (e.g. http://127.0.0.1:4599).
    #[arg(long, value_parser = super::parse_endpoint)]
    pub endpoint: Url,
    /// Messages the round trip sends, receives and deletes.
    #[arg(long, default_value_t = 20_000, value_parser = value_parser!(u64).range(10..))]
    pub messages: u64,
    /// Body bytes per message.
    #[arg(long, default_value_t = 1024, value_parser = value_parser!(u32).range(32..=262_144))]
    pub size: u32,
    /// Concurrent round-trip clients (1: one fast client).
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Also benchmark Sluice's SQS event source mappings (needs the function in the config).
    #[arg(long)]
    pub mapping: bool,
    /// Send→invoked samples of the mapping phase.
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u32).range(0..=100_000))]
    pub latency_samples: u32,
    /// Messages of the mapping drain.
    #[arg(long, default_value_t = 50_000, value_parser = value_parser!(u64).range(1..))]
    pub drain_messages: u64,
    /// BatchSize of the drain mapping.
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// MaximumBatchingWindowInSeconds of the drain mapping (default: 0, or 1 when
    /// --batch-size is over 10, as AWS requires).
    #[arg(long, value_parser = value_parser!(u32).range(0..=300))]
    pub window: Option<u32>,
    /// Name of the function Sluice's config declares (url http://127.0.0.1:PORT/).
    #[arg(long, default_value = "bench")]
    pub function: String,
    /// Port the bench's function listens on (127.0.0.1).
    #[arg(long, default_value_t = 9555, value_parser = value_parser!(u16).range(1..))]
    pub function_port: u16,
    /// Print one JSON line with every figure on stdout (the table then goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Name of this run in the report (e.g. sluice-r1).
    #[arg(long)]
    pub label: Option<String>,
    /// Region of the queue ARNs and of the dummy SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account id of the queue ARNs.
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
    /// Deadline of each phase, in seconds.
    #[arg(long, default_value_t = 300, value_parser = value_parser!(u64).range(1..))]
    pub phase_timeout: u64,
}

impl SqsArgs {
    fn params_json(&self) -> Value {
        json!({
            "messages": self.messages,
            "size": self.size,
            "concurrency": self.concurrency,
            "mapping": self.mapping,
            "latency_samples": self.latency_samples,
            "drain_messages": self.drain_messages,
            "batch_size": self.batch_size,
            "window": self.window,
            "function": self.function,
            "function_port": self.function_port,
        })
    }

    fn queue_arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account_id)
    }
}

/// A minimal SQS JSON 1.0 client.
#[derive(Debug, Clone)]
struct SqsClient {
    http: reqwest::Client,
    url: String,
    region: String,
}

impl SqsClient {
    fn new(endpoint: &Url, region: &str, pool: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(pool)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            url: endpoint.as_str().to_owned(),
            region: region.to_owned(),
        })
    }

    async fn call(&self, op: &str, body: &Value) -> anyhow::Result<Value> {
        let amz_date = now_amz_date();
        let resp = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, JSON_1_0)
            .header("x-amz-target", format!("AmazonSQS.{op}"))
            .header("x-amz-date", &amz_date)
            .header(
                "authorization",
                // The credential scope names the service (moto routes by it).
                dummy_authorization(&amz_date, &self.region).replace("/kinesis/", "/sqs/"),
            )
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("{op}: no answer"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.with_context(|| format!("{op}: body"))?;
        if !status.is_success() {
            let (kind, message) = parse_error_body(&bytes);
            bail!(
                "{op}: HTTP {status} {}: {message}",
                kind.unwrap_or_default()
            );
        }
        if bytes.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{op}: bad JSON"))
    }

    async fn create_queue(&self, name: &str) -> anyhow::Result<String> {
        let out = self
            .call("CreateQueue", &json!({"QueueName": name}))
            .await?;
        out["QueueUrl"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("CreateQueue: no QueueUrl"))
    }

    async fn send_batch(&self, url: &str, bodies: &[String]) -> anyhow::Result<usize> {
        let entries: Vec<Value> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| json!({"Id": i.to_string(), "MessageBody": b}))
            .collect();
        let out = self
            .call(
                "SendMessageBatch",
                &json!({"QueueUrl": url, "Entries": entries}),
            )
            .await?;
        Ok(out["Successful"].as_array().map_or(0, Vec::len))
    }
}

/// What the function saw, by message id.
struct FunctionState {
    run: String,
    /// Id → arrival (latency samples).
    arrivals: Mutex<std::collections::HashMap<u64, Instant>>,
    arrived: Notify,
    /// Distinct drain ids and the moment the last new one arrived.
    drained: Mutex<(HashSet<u64>, Option<Instant>)>,
    duplicates: AtomicU64,
    invocations: AtomicU64,
}

impl FunctionState {
    fn note(&self, body: &[u8]) {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let Ok(event) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let prefix = format!("SLQ:{}:", self.run);
        for r in event["Records"].as_array().into_iter().flatten() {
            let Some(rest) = r["body"].as_str().and_then(|b| b.strip_prefix(&prefix)) else {
                continue;
            };
            let mut parts = rest.splitn(3, ':');
            let (Some(kind), Some(id)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(id) = id.parse::<u64>() else {
                continue;
            };
            if kind == "L" {
                lock(&self.arrivals).insert(id, now);
                self.arrived.notify_waiters();
            } else {
                let mut d = lock(&self.drained);
                if d.0.insert(id) {
                    d.1 = Some(now);
                } else {
                    self.duplicates.fetch_add(1, Ordering::Relaxed);
                }
                drop(d);
                self.arrived.notify_waiters();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn invoke(State(state): State<Arc<FunctionState>>, body: Bytes) -> impl IntoResponse {
    state.note(&body);
    ([(CONTENT_TYPE, "application/json")], "{}")
}

struct FunctionServer(JoinHandle<std::io::Result<()>>);

impl Drop for FunctionServer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve_function(port: u16, state: Arc<FunctionState>) -> anyhow::Result<FunctionServer> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} (--function-port)"))?;
    let app = Router::new()
        .fallback(invoke)
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    Ok(FunctionServer(tokio::spawn(async move {
        axum::serve(listener, app).await
    })))
}

/// What the run created, for the cleanup.
#[derive(Default)]
struct Created {
    queues: Vec<String>,
    mappings: Vec<String>,
}

struct Ctx<'a> {
    args: &'a SqsArgs,
    sqs: SqsClient,
    run: String,
    created: Mutex<Created>,
}

pub async fn run(args: &SqsArgs) -> anyhow::Result<()> {
    let started_utc = now_iso8601_utc();
    let mut report = Report::new();
    report.add_loadavg("before");
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let ctx = Ctx {
        args,
        sqs: SqsClient::new(&args.endpoint, &args.region, args.concurrency as usize + 8)?,
        run: run.clone(),
        created: Mutex::new(Created::default()),
    };
    let work = async {
        if let Err(e) = roundtrip(&ctx, &mut report).await {
            report.error("roundtrip", format!("{e:#}"));
        }
        if args.mapping
            && let Err(e) = mapping(&ctx, &mut report).await
        {
            report.error("mapping", format!("{e:#}"));
        }
    };
    if interruptible(work).await {
        report.interrupted();
    }
    cleanup(&ctx, &mut report).await;
    report.add_loadavg("after");
    let info = RunInfo {
        bench: "sqs",
        label: args.label.clone(),
        endpoint: args.endpoint.to_string(),
        started_utc,
        params: args.params_json(),
        resource: Some(format!("sluice-bench-sqs-{run}")),
    };
    let heading = format!(
        "# sluice bench sqs{} endpoint={} messages={} size={} concurrency={} mapping={}\n",
        label_suffix(args.label.as_deref()),
        args.endpoint,
        args.messages,
        args.size,
        args.concurrency,
        args.mapping,
    );
    report.emit(&info, &heading, args.json)
}

fn body(run: &str, kind: &str, id: u64, size: usize) -> String {
    let mut b = format!("SLQ:{run}:{kind}:{id}:");
    if b.len() < size {
        b.push_str(&"x".repeat(size - b.len()));
    }
    b
}

#[derive(Default)]
struct RoundTrip {
    deleted: u64,
    receive_calls: u64,
    empty: u64,
}

async fn roundtrip(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let name = format!("sluice-bench-sqs-{}", ctx.run);
    let url = ctx.sqs.create_queue(&name).await?;
    lock(&ctx.created).queues.push(url.clone());
    let workers = u64::from(ctx.args.concurrency);
    let share = ctx.args.messages.div_ceil(workers);
    let size = ctx.args.size as usize;
    let t0 = Instant::now();
    let cpu0 = process_cpu_seconds();
    let deadline = t0 + Duration::from_secs(ctx.args.phase_timeout);
    let mut tasks = JoinSet::new();
    for w in 0..workers {
        let sqs = ctx.sqs.clone();
        let url = url.clone();
        let bodies: Vec<String> = (0..BATCH as u64)
            .map(|i| body(&ctx.run, "R", w * 100 + i, size))
            .collect();
        tasks.spawn(async move {
            let mut t = RoundTrip::default();
            let mut sent = 0u64;
            while t.deleted < share {
                if Instant::now() > deadline {
                    bail!("deleted only {} of {share} messages in time", t.deleted);
                }
                if sent < share {
                    sent += sqs.send_batch(&url, &bodies).await? as u64;
                }
                let got = sqs
                    .call(
                        "ReceiveMessage",
                        &json!({"QueueUrl": url, "MaxNumberOfMessages": BATCH, "WaitTimeSeconds": 0}),
                    )
                    .await?;
                t.receive_calls += 1;
                let msgs = got["Messages"].as_array().cloned().unwrap_or_default();
                if msgs.is_empty() {
                    t.empty += 1;
                    continue;
                }
                let entries: Vec<Value> = msgs
                    .iter()
                    .enumerate()
                    .map(|(i, m)| json!({"Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"]}))
                    .collect();
                let out = sqs
                    .call(
                        "DeleteMessageBatch",
                        &json!({"QueueUrl": url, "Entries": entries}),
                    )
                    .await?;
                t.deleted += out["Successful"].as_array().map_or(0, Vec::len) as u64;
            }
            Ok(t)
        });
    }
    let mut total = RoundTrip::default();
    while let Some(joined) = tasks.join_next().await {
        let t = joined.map_err(|e| anyhow!("round-trip client failed: {e}"))??;
        total.deleted += t.deleted;
        total.receive_calls += t.receive_calls;
        total.empty += t.empty;
    }
    let wall = t0.elapsed().as_secs_f64();
    report.add(
        "sqs.roundtrip.rate",
        total.deleted as f64 / wall,
        "msg/s",
        0,
    );
    report.add("sqs.roundtrip.deleted", total.deleted as f64, "messages", 0);
    report.add("sqs.roundtrip.wall", wall, "s", 3);
    report.add(
        "sqs.roundtrip.receive_calls",
        total.receive_calls as f64,
        "calls",
        0,
    );
    report.add(
        "sqs.roundtrip.empty_receives",
        total.empty as f64,
        "calls",
        0,
    );
    if let (Some(a), Some(b)) = (cpu0, process_cpu_seconds()) {
        report.add("sqs.roundtrip.client_cpu", b - a, "s", 2);
    }
    Ok(())
}

async fn create_mapping(
    ctx: &Ctx<'_>,
    lambda: &LambdaClient,
    queue: &str,
    batch: u32,
) -> anyhow::Result<(String, Instant)> {
    let created_at = Instant::now();
    let out = lambda
        .create_mapping(&json!({
            "FunctionName": ctx.args.function,
            "EventSourceArn": ctx.args.queue_arn(queue),
            "BatchSize": batch,
            // AWS requires a batching window for batches over 10 messages.
            "MaximumBatchingWindowInSeconds": ctx.args.window.unwrap_or(u32::from(batch > 10)),
        }))
        .await?;
    let uuid = out["UUID"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateEventSourceMapping: no UUID"))?
        .to_owned();
    lock(&ctx.created).mappings.push(uuid.clone());
    let deadline = Instant::now() + Duration::from_secs(ctx.args.phase_timeout);
    loop {
        let m = lambda.get_mapping(&uuid).await?;
        if m["State"] == "Enabled" {
            return Ok((uuid, created_at));
        }
        if Instant::now() > deadline {
            bail!("mapping {uuid} never became Enabled");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn mapping(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let lambda = LambdaClient::new(&ctx.args.endpoint)?;
    lambda.get_function(&ctx.args.function).await.map_err(|e| {
        anyhow!(
            "{e}; declare the function in Sluice's config:\n[[functions]]\nname = \"{}\"\nurl = \"http://127.0.0.1:{}/\"",
            ctx.args.function,
            ctx.args.function_port
        )
    })?;
    let state = Arc::new(FunctionState {
        run: ctx.run.clone(),
        arrivals: Mutex::new(std::collections::HashMap::new()),
        arrived: Notify::new(),
        drained: Mutex::new((HashSet::new(), None)),
        duplicates: AtomicU64::new(0),
        invocations: AtomicU64::new(0),
    });
    let _server = serve_function(ctx.args.function_port, state.clone()).await?;
    let size = ctx.args.size as usize;

    // Latency: one message at a time.
    if ctx.args.latency_samples > 0 {
        let name = format!("sluice-bench-sqs-{}-lat", ctx.run);
        let url = ctx.sqs.create_queue(&name).await?;
        lock(&ctx.created).queues.push(url.clone());
        create_mapping(ctx, &lambda, &name, 1).await?;
        let mut samples = Vec::new();
        for id in 0..u64::from(ctx.args.latency_samples) {
            let sent = Instant::now();
            ctx.sqs
                .call(
                    "SendMessage",
                    &json!({"QueueUrl": url, "MessageBody": body(&ctx.run, "L", id, size)}),
                )
                .await?;
            let wait = async {
                loop {
                    let notified = state.arrived.notified();
                    if let Some(at) = lock(&state.arrivals).get(&id) {
                        return *at;
                    }
                    notified.await;
                }
            };
            let at = tokio::time::timeout(Duration::from_secs(10), wait)
                .await
                .map_err(|_| anyhow!("sample {id} never reached the function"))?;
            samples.push(ms(at.saturating_duration_since(sent)));
        }
        sort_samples(&mut samples);
        for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0)] {
            if let Some(v) = percentile_nearest_rank(&samples, p) {
                report.add(format!("sqs.esm.latency.{name}"), v, "ms", 2);
            }
        }
        if let Some(max) = samples.last() {
            report.add("sqs.esm.latency.max", *max, "ms", 2);
        }
    }

    // Drain: a backlog first, then the mapping.
    let name = format!("sluice-bench-sqs-{}-drain", ctx.run);
    let url = ctx.sqs.create_queue(&name).await?;
    lock(&ctx.created).queues.push(url.clone());
    let total = ctx.args.drain_messages;
    let next = Arc::new(AtomicU64::new(0));
    let t_send = Instant::now();
    let mut writers = JoinSet::new();
    for _ in 0..8 {
        let (sqs, url, next, run) = (ctx.sqs.clone(), url.clone(), next.clone(), ctx.run.clone());
        writers.spawn(async move {
            loop {
                let first = next.fetch_add(BATCH as u64, Ordering::SeqCst);
                if first >= total {
                    return anyhow::Ok(());
                }
                let bodies: Vec<String> = (first..(first + BATCH as u64).min(total))
                    .map(|id| body(&run, "D", id, size))
                    .collect();
                let n = sqs.send_batch(&url, &bodies).await?;
                if n != bodies.len() {
                    bail!("SendMessageBatch accepted {n} of {}", bodies.len());
                }
            }
        });
    }
    while let Some(w) = writers.join_next().await {
        w.map_err(|e| anyhow!("writer failed: {e}"))??;
    }
    report.add(
        "sqs.esm.send.rate",
        total as f64 / t_send.elapsed().as_secs_f64(),
        "msg/s",
        0,
    );
    let (_, created_at) = create_mapping(ctx, &lambda, &name, ctx.args.batch_size).await?;
    let deadline = Instant::now() + Duration::from_secs(ctx.args.phase_timeout);
    let last = loop {
        let notified = state.arrived.notified();
        {
            let d = lock(&state.drained);
            if d.0.len() as u64 >= total {
                break d.1.unwrap_or_else(Instant::now);
            }
        }
        if Instant::now() > deadline {
            bail!("drained only {} of {total}", lock(&state.drained).0.len());
        }
        let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
    };
    let secs = last.saturating_duration_since(created_at).as_secs_f64();
    report.add("sqs.esm.drain.rate", total as f64 / secs, "msg/s", 0);
    report.add("sqs.esm.drain.wall", secs, "s", 3);
    report.add(
        "sqs.esm.drain.invocations",
        state.invocations.load(Ordering::Relaxed) as f64,
        "calls",
        0,
    );
    report.add(
        "sqs.esm.drain.duplicates",
        state.duplicates.load(Ordering::Relaxed) as f64,
        "messages",
        0,
    );
    Ok(())
}

async fn cleanup(ctx: &Ctx<'_>, report: &mut Report) {
    let created = std::mem::take(&mut *lock(&ctx.created));
    if !created.mappings.is_empty()
        && let Ok(lambda) = LambdaClient::new(&ctx.args.endpoint)
    {
        for uuid in &created.mappings {
            if let Err(e) = lambda.delete_mapping(uuid).await {
                report.error("cleanup", format!("DeleteEventSourceMapping {uuid}: {e}"));
            }
        }
    }
    for url in &created.queues {
        if let Err(e) = ctx.sqs.call("DeleteQueue", &json!({"QueueUrl": url})).await {
            report.error("cleanup", format!("DeleteQueue {url}: {e:#}"));
        }
    }
}
