//! `sluice bench dynamodb`: drives a running Sluice's DynamoDB stream mappings end to end,
//! from a producer's PutItem to the function's HTTP request, and reports the same table
//! and JSON line as the other benchmarks.
//!
//! # Running it
//!
//! As `sluice bench esm`: the bench process is the function (HTTP on
//! `127.0.0.1:<--function-port>`, answering `200 {}` and noting when each record arrived),
//! and Sluice must be started with a config declaring it under `--function`:
//!
//! ```text
//! sluice serve --listen 127.0.0.1:4599 --data-dir /tmp/bench-ddb-data --config bench-esm.toml &
//! sluice bench dynamodb --endpoint http://127.0.0.1:4599
//! ```
//!
//! # Phases
//!
//! 1. **latency** (skipped with `--latency-samples 0`): CreateTable
//!    `sluice-bench-ddb-<uuid8>` (hash key `id` S, PAY_PER_REQUEST, a KEYS_ONLY stream),
//!    CreateEventSourceMapping on its stream (LATEST, BatchSize 1, no batching window),
//!    wait for `Enabled`, then `--latency-samples` times: PutItem one item and wait for
//!    the function to receive its record. A sample runs from just before the PutItem
//!    request to the handler run for that record; samples are sequential.
//! 2. **throughput**: CreateTable `…-tput` and a mapping (LATEST, BatchSize
//!    `--batch-size`) on its stream, wait for `Enabled`, then `--concurrency` writers put
//!    `--items` items with PutItem (`ddb.put.*`: the write rate) while the mapping
//!    delivers; `ddb.e2e.rate` divides the items by the time from the first PutItem to
//!    the handler run that completed the set.
//! 3. **cleanup**: DeleteEventSourceMapping for every mapping, DeleteTable for every
//!    table, always.
//!
//! Items carry the record id header of `sluice bench esm` ([`RecordId`]) as the base64
//! text of their key `id`, so the function reads it from `dynamodb.Keys.id.S`; each item
//! also has a `payload` attribute of `--size` bytes.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, value_parser};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::esm::{
    DrainBook, FunctionServer, FunctionState, Kind, LambdaClient, RecordId, chain, lock,
    mapping_request,
};
use super::kinesis_wire::{dummy_authorization, parse_error_body};
use super::report::{
    Report, RunInfo, interruptible, label_suffix, mean, ms, now_amz_date, now_iso8601_utc,
    percentile_nearest_rank, sort_samples,
};

/// Poll step while waiting for a table or a mapping.
const POLL: Duration = Duration::from_millis(10);

/// `sluice bench dynamodb` arguments.
#[derive(Debug, Clone, Args)]
pub struct DynamoArgs {
    /// Sluice's endpoint, plain HTTP (e.g. http://127.0.0.1:4599).
    #[arg(long, value_parser = super::parse_endpoint)]
    pub endpoint: Url,
    /// Items the throughput phase puts (0 skips it).
    #[arg(long, default_value_t = 10_000, value_parser = value_parser!(u64).range(0..))]
    pub items: u64,
    /// Bytes of each item's `payload` attribute.
    #[arg(long, default_value_t = 256, value_parser = value_parser!(u32).range(1..=300_000))]
    pub size: u32,
    /// BatchSize of the throughput mapping (the latency mapping uses 1).
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Concurrent PutItem callers in the throughput phase.
    #[arg(long, default_value_t = 4, value_parser = value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// PutItem→invoked samples (0 skips the latency phase).
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u32).range(0..=1_000_000))]
    pub latency_samples: u32,
    /// Name of the function Sluice's config declares (url http://127.0.0.1:PORT/).
    #[arg(long, default_value = "bench")]
    pub function: String,
    /// Port the bench's function listens on (127.0.0.1).
    #[arg(long, default_value_t = 9555, value_parser = value_parser!(u16).range(1..))]
    pub function_port: u16,
    /// Print one JSON line with every figure on stdout (the table then goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Name of this run in the report.
    #[arg(long)]
    pub label: Option<String>,
    /// Region of the dummy SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Deadline of each wait (table, Enabled, delivery), in seconds.
    #[arg(long, default_value_t = 300, value_parser = value_parser!(u64).range(1..))]
    pub phase_timeout: u64,
    /// Give up on one latency sample after this many milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = value_parser!(u64).range(1..))]
    pub sample_timeout_ms: u64,
}

impl DynamoArgs {
    fn params_json(&self) -> Value {
        json!({
            "items": self.items,
            "size": self.size,
            "batch_size": self.batch_size,
            "concurrency": self.concurrency,
            "latency_samples": self.latency_samples,
            "function": self.function,
            "function_port": self.function_port,
            "region": self.region,
            "phase_timeout_s": self.phase_timeout,
            "sample_timeout_ms": self.sample_timeout_ms,
        })
    }

    fn phase_timeout(&self) -> Duration {
        Duration::from_secs(self.phase_timeout)
    }
}

/// A minimal DynamoDB JSON 1.0 client with a dummy SigV4 header.
#[derive(Debug, Clone)]
struct DynamoClient {
    http: reqwest::Client,
    endpoint: Url,
    region: String,
}

impl DynamoClient {
    fn new(endpoint: Url, region: String, pool: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(pool)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            endpoint,
            region,
        })
    }

    /// Calls `op`; an error answer becomes `Err` with its type and message.
    async fn call(&self, op: &str, body: &Value) -> anyhow::Result<Value> {
        let amz_date = now_amz_date();
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
            .header("x-amz-date", &amz_date)
            .header(AUTHORIZATION, dummy_authorization(&amz_date, &self.region))
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| anyhow!("{op}: {}", chain(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| anyhow!("{op}: {}", chain(&e)))?;
        if !status.is_success() {
            let (kind, message) = parse_error_body(&bytes);
            bail!(
                "{op}: HTTP {} {}: {message}",
                status.as_u16(),
                kind.unwrap_or_default()
            );
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{op}: bad JSON"))
    }

    async fn put(&self, table: &str, id: &RecordId, payload: &str) -> anyhow::Result<()> {
        let body = json!({
            "TableName": table,
            "Item": {"id": {"S": id.header_base64()}, "payload": {"S": payload}},
        });
        self.call("PutItem", &body).await.map(drop)
    }
}

/// Names of one run.
struct Names {
    run: u32,
    latency_table: String,
    tput_table: String,
}

impl Names {
    fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let short = &id[..8];
        let base = format!("sluice-bench-ddb-{short}");
        Self {
            run: u32::from_str_radix(short, 16).unwrap_or(0),
            tput_table: format!("{base}-tput"),
            latency_table: base,
        }
    }
}

/// What this run created and has not deleted yet.
#[derive(Debug, Default)]
struct Created {
    tables: Vec<String>,
    mappings: Vec<String>,
}

struct Ctx<'a> {
    args: &'a DynamoArgs,
    names: &'a Names,
    ddb: DynamoClient,
    lambda: LambdaClient,
    function: Arc<FunctionState>,
    created: &'a Mutex<Created>,
}

/// Runs the benchmark, prints the report, and fails if a phase failed.
pub async fn run(args: &DynamoArgs) -> anyhow::Result<()> {
    let started_utc = now_iso8601_utc();
    let mut report = Report::new();
    report.add_loadavg("before");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    report.add("host.cpus", cpus as f64, "cpus", 0);
    let names = Names::new();
    let function = Arc::new(FunctionState::new(names.run));
    let server = FunctionServer::start(args.function_port, Arc::clone(&function)).await?;
    let created = Mutex::new(Created::default());
    let ctx = Ctx {
        args,
        names: &names,
        ddb: DynamoClient::new(
            args.endpoint.clone(),
            args.region.clone(),
            args.concurrency as usize + 2,
        )?,
        lambda: LambdaClient::new(&args.endpoint)?,
        function: Arc::clone(&function),
        created: &created,
    };
    tracing::info!(endpoint = %args.endpoint, table = %names.latency_table,
        function = %args.function, port = args.function_port, "Benchmarking DynamoDB stream mappings.");
    if interruptible(phases(&ctx, &mut report)).await {
        report.interrupted();
    }
    cleanup(&ctx, &mut report).await;
    drop(server);
    function.report(&mut report);
    report.add_loadavg("after");
    let info = RunInfo {
        bench: "dynamodb",
        label: args.label.clone(),
        endpoint: args.endpoint.to_string(),
        started_utc,
        params: args.params_json(),
        resource: Some(names.latency_table.clone()),
    };
    let heading = format!(
        "# sluice bench dynamodb{} endpoint={} items={} size={} batch_size={} concurrency={} latency_samples={} function={}\n",
        label_suffix(args.label.as_deref()),
        args.endpoint,
        args.items,
        args.size,
        args.batch_size,
        args.concurrency,
        args.latency_samples,
        args.function,
    );
    report.emit(&info, &heading, args.json)
}

async fn phases(ctx: &Ctx<'_>, report: &mut Report) {
    if let Err(e) = ctx.lambda.get_function(&ctx.args.function).await {
        let hint = if e.not_found() {
            format!("\n{}", super::esm::CONFIG_HELP)
        } else {
            String::new()
        };
        report.error("preflight", format!("{e}{hint}"));
        return;
    }
    if ctx.args.latency_samples > 0 {
        tracing::info!(samples = ctx.args.latency_samples, "Latency.");
        if let Err(e) = latency_phase(ctx, report).await {
            report.error("latency", format!("{e:#}"));
            return;
        }
    }
    if ctx.args.items > 0 {
        tracing::info!(items = ctx.args.items, "Throughput.");
        if let Err(e) = throughput_phase(ctx, report).await {
            report.error("throughput", format!("{e:#}"));
        }
    }
}

/// CreateTable `table` with a KEYS_ONLY stream; returns the stream ARN.
async fn create_table(ctx: &Ctx<'_>, table: &str) -> anyhow::Result<String> {
    lock(ctx.created).tables.push(table.to_owned());
    let out = ctx
        .ddb
        .call(
            "CreateTable",
            &json!({
                "TableName": table,
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"},
            }),
        )
        .await?;
    let deadline = Instant::now() + ctx.args.phase_timeout();
    let mut desc = out["TableDescription"].clone();
    while desc["TableStatus"] != "ACTIVE" {
        if Instant::now() >= deadline {
            bail!("table {table} not ACTIVE in time");
        }
        tokio::time::sleep(POLL).await;
        desc = ctx
            .ddb
            .call("DescribeTable", &json!({"TableName": table}))
            .await?["Table"]
            .clone();
    }
    desc["LatestStreamArn"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("CreateTable answered no LatestStreamArn: {desc}"))
}

/// A mapping from `stream_arn` to the bench function, waited on until `Enabled`.
async fn create_mapping(ctx: &Ctx<'_>, stream_arn: &str, batch: u32) -> anyhow::Result<()> {
    let body = mapping_request(&ctx.args.function, stream_arn, "LATEST", batch);
    let out = ctx.lambda.create_mapping(&body).await?;
    let uuid = out["UUID"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateEventSourceMapping answered no UUID: {out}"))?
        .to_owned();
    lock(ctx.created).mappings.push(uuid.clone());
    let deadline = Instant::now() + ctx.args.phase_timeout();
    loop {
        let m = ctx.lambda.get_mapping(&uuid).await?;
        match m["State"].as_str() {
            Some("Enabled") => return Ok(()),
            Some("Creating" | "Enabling" | "Updating") => {}
            other => bail!("mapping {uuid} is {}", other.unwrap_or("without State")),
        }
        if Instant::now() >= deadline {
            bail!("mapping {uuid} not Enabled in time");
        }
        tokio::time::sleep(POLL).await;
    }
}

fn payload(size: u32) -> String {
    "x".repeat(size as usize)
}

async fn latency_phase(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let table = &ctx.names.latency_table;
    let arn = create_table(ctx, table).await?;
    create_mapping(ctx, &arn, 1).await?;
    let payload = payload(ctx.args.size);
    let timeout = Duration::from_millis(ctx.args.sample_timeout_ms);
    let (mut samples, mut put_ms, mut timeouts) = (Vec::new(), Vec::new(), 0u64);
    for i in 0..u64::from(ctx.args.latency_samples) {
        let id = RecordId {
            kind: Kind::Latency,
            run: ctx.names.run,
            id: i,
        };
        let arrived = lock(&ctx.function.latency).expect(i);
        let t0 = Instant::now();
        ctx.ddb.put(table, &id, &payload).await?;
        put_ms.push(ms(t0.elapsed()));
        match tokio::time::timeout(timeout, arrived).await {
            Ok(Ok(at)) => samples.push(ms(at.saturating_duration_since(t0))),
            _ => {
                lock(&ctx.function.latency).give_up(i);
                timeouts += 1;
                if samples.is_empty() && i == 0 {
                    bail!(
                        "the function did not receive the first record within {timeout:?}: is function {:?} declared with url http://127.0.0.1:{}/ in Sluice's config?",
                        ctx.args.function,
                        ctx.args.function_port
                    );
                }
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let duplicates = lock(&ctx.function.latency).duplicates;
    sort_samples(&mut samples);
    if let (Some(p50), Some(p99), Some(max), Some(avg)) = (
        percentile_nearest_rank(&samples, 50.0),
        percentile_nearest_rank(&samples, 99.0),
        samples.last().copied(),
        mean(&samples),
    ) {
        report.add("ddb.latency.p50", p50, "ms", 2);
        report.add("ddb.latency.p99", p99, "ms", 2);
        report.add("ddb.latency.max", max, "ms", 2);
        report.add("ddb.latency.mean", avg, "ms", 2);
    }
    report.add("ddb.latency.samples", samples.len() as f64, "samples", 0);
    report.add("ddb.latency.timeouts", timeouts as f64, "samples", 0);
    report.add("ddb.latency.duplicates", duplicates as f64, "records", 0);
    sort_samples(&mut put_ms);
    if let Some(p50) = percentile_nearest_rank(&put_ms, 50.0) {
        report.add("ddb.latency.put_call_p50", p50, "ms", 2);
    }
    Ok(())
}

async fn throughput_phase(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let table = ctx.names.tput_table.clone();
    let arn = create_table(ctx, &table).await?;
    create_mapping(ctx, &arn, ctx.args.batch_size).await?;
    let (book, done) = DrainBook::new(ctx.args.items);
    *lock(&ctx.function.drain) = Some(book);
    let next = Arc::new(AtomicU64::new(0));
    let payload = Arc::new(payload(ctx.args.size));
    let start = Instant::now();
    let mut writers = JoinSet::new();
    for _ in 0..ctx.args.concurrency {
        let (ddb, table, next, payload) = (
            ctx.ddb.clone(),
            table.clone(),
            Arc::clone(&next),
            Arc::clone(&payload),
        );
        let (run, total) = (ctx.names.run, ctx.args.items);
        writers.spawn(async move {
            let mut call_ms = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(call_ms);
                }
                let id = RecordId {
                    kind: Kind::Drain,
                    run,
                    id: i,
                };
                let t = Instant::now();
                ddb.put(&table, &id, &payload).await?;
                call_ms.push(ms(t.elapsed()));
            }
        });
    }
    let mut call_ms = Vec::new();
    while let Some(joined) = writers.join_next().await {
        call_ms.extend(joined.map_err(|e| anyhow!("writer task: {e}"))??);
    }
    let put_wall = start.elapsed();
    let items = ctx.args.items as f64;
    report.add("ddb.put.items", items, "items", 0);
    report.add("ddb.put.rate", items / put_wall.as_secs_f64(), "items/s", 1);
    report.add("ddb.put.wall", put_wall.as_secs_f64(), "s", 3);
    sort_samples(&mut call_ms);
    if let (Some(p50), Some(p99)) = (
        percentile_nearest_rank(&call_ms, 50.0),
        percentile_nearest_rank(&call_ms, 99.0),
    ) {
        report.add("ddb.put.call_p50", p50, "ms", 2);
        report.add("ddb.put.call_p99", p99, "ms", 2);
    }
    let finished = tokio::time::timeout_at((start + ctx.args.phase_timeout()).into(), done).await;
    let book = lock(&ctx.function.drain).take();
    let Some(book) = book else {
        bail!("the drain book vanished");
    };
    report.add("ddb.e2e.distinct", book.distinct as f64, "items", 0);
    report.add("ddb.e2e.duplicates", book.duplicates as f64, "records", 0);
    report.add("ddb.e2e.invocations", book.invocations as f64, "calls", 0);
    report.add("ddb.e2e.max_batch", book.max_batch as f64, "records", 0);
    match finished {
        Ok(Ok(at)) => {
            let wall = at.saturating_duration_since(start).as_secs_f64();
            report.add("ddb.e2e.wall", wall, "s", 3);
            report.add("ddb.e2e.rate", items / wall, "items/s", 1);
            Ok(())
        }
        _ => bail!(
            "{} of {} items reached the function within {} s",
            book.distinct,
            ctx.args.items,
            ctx.args.phase_timeout
        ),
    }
}

async fn cleanup(ctx: &Ctx<'_>, report: &mut Report) {
    let created = std::mem::take(&mut *lock(ctx.created));
    for uuid in created.mappings {
        if let Err(e) = ctx.lambda.delete_mapping(&uuid).await
            && !e.not_found()
        {
            report.error("cleanup", e.to_string());
        }
    }
    for table in created.tables {
        if let Err(e) = ctx
            .ddb
            .call("DeleteTable", &json!({"TableName": table}))
            .await
        {
            report.error("cleanup", format!("{e:#}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_function_reads_ids_from_dynamodb_keys() {
        let state = FunctionState::new(7);
        let mut arrived = lock(&state.latency).expect(3);
        let id = RecordId {
            kind: Kind::Latency,
            run: 7,
            id: 3,
        };
        let other_run = RecordId {
            kind: Kind::Latency,
            run: 8,
            id: 3,
        };
        let event = json!({"Records": [
            {"eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": id.header_base64()}}}},
            {"eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": other_run.header_base64()}}}},
        ]});
        state.note_event(event.to_string().as_bytes(), Instant::now());
        assert!(arrived.try_recv().is_ok(), "sample 3 was delivered");
        let mut report = Report::new();
        state.report(&mut report);
        assert_eq!(report.get("esm.function.records"), Some(2.0));
        assert_eq!(report.get("esm.function.foreign"), Some(1.0));
    }

    #[test]
    fn names_share_the_run_tag() {
        let n = Names::new();
        assert!(n.tput_table.starts_with(&n.latency_table));
        assert!(n.latency_table.starts_with("sluice-bench-ddb-"));
        assert!(n.latency_table.len() <= 255);
    }
}
