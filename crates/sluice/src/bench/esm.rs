//! `sluice bench esm`: drives a running Sluice's Kinesis event source mappings end to end,
//! from a producer's PutRecord to the function's HTTP request, and reports comparable
//! figures (same table and JSON line as `sluice bench kinesis`).
//!
//! # Running it
//!
//! The bench process is its own function: it serves HTTP on
//! `127.0.0.1:<--function-port>` (9555 by default) and answers every invocation `200 {}`,
//! noting when each record arrived. Sluice cannot register a `url` function over the Lambda
//! API (CreateFunction takes zip code only), so start Sluice with a config that declares the
//! function under the name `--function` (default `bench`) and that port:
//!
//! ```toml
//! # bench-esm.toml
//! [[functions]]
//! name = "bench"
//! url = "http://127.0.0.1:9555/"
//! timeout = 30
//! ```
//!
//! ```text
//! rm -rf /tmp/bench-esm-data
//! sluice serve --listen 127.0.0.1:4599 --data-dir /tmp/bench-esm-data --config bench-esm.toml &
//! sluice bench esm --endpoint http://127.0.0.1:4599 --records 100000
//! ```
//!
//! The function only needs to be reachable while the bench runs; Sluice does not call it
//! before a mapping exists. Both must run on the same host (the function listens on
//! loopback).
//!
//! # Phases
//!
//! 0. **preflight**: listen on the function port, GetFunction `--function` (a missing
//!    function fails the run with the config snippet above).
//! 1. **latency** (`latency_phase`, skipped with `--latency-samples 0`): CreateStream
//!    `sluice-bench-esm-<uuid8>` with 1 shard, CreateEventSourceMapping (StartingPosition
//!    LATEST, BatchSize 1, MaximumBatchingWindowInSeconds 0), poll
//!    GetEventSourceMapping until `State` is `Enabled` (`esm.latency.enabled_wait`), then
//!    `--latency-samples` times: PutRecord one record carrying the sample's id and wait
//!    for the function to receive it (at most `--sample-timeout-ms`). A sample is the time
//!    from just before the PutRecord request to the moment the function handler ran for
//!    that record (after Sluice's request body was read); samples are sequential, so each
//!    one meets an idle consumer. The mapping and the stream are deleted at the end of the
//!    phase so they are idle during the next one. If the first record never reaches the
//!    function (it is not the one Sluice calls), the drain is skipped.
//! 2. **drain** (`drain_phase`): CreateStream `sluice-bench-esm-<uuid8>-drain` with
//!    `--shards` shards, put `--records` records of `--size` bytes with PutRecords
//!    (500 per call, `--concurrency` writers; the `esm.put.*` figures), and only then
//!    CreateEventSourceMapping (StartingPosition TRIM_HORIZON, BatchSize `--batch-size`,
//!    no batching window), so the engine drains a backlog. The drain time runs from just
//!    before the CreateEventSourceMapping request to the handler run that completed the
//!    set of distinct record ids; `esm.drain.rate` and `esm.drain.mb_rate` divide by it.
//!    `esm.drain.first_invoke` is the start-up part of it (mapping creation → first
//!    invocation) and `esm.drain.rate_after_first` the rate without it. One second after
//!    the last record the duplicate count is read, so redeliveries show up.
//! 3. **cleanup**: DeleteEventSourceMapping for every mapping this run created (waiting up
//!    to 10 s for each to disappear; one still listed is an error of the run), then
//!    DeleteStream for every stream, always, also after an error or Ctrl-C.
//!
//! # Record ids
//!
//! Every record's data starts with an 18-byte header ([`RecordId`]): `SLB`, a kind byte
//! (`L` latency, `D` drain), the run tag (4 bytes, from the stream name's uuid) and the
//! record's id (8 bytes, big-endian), and 2 zero bytes. 18 bytes are 24 base64 characters
//! with no padding, so the handler decodes only the first 24 characters of
//! `Records[i].kinesis.data`, and the ingest builds each record's data as the header's
//! base64 followed by the shared base64 of the payload (`--size` − 18 random bytes).
//! Records of another run or without the header are counted as `esm.function.foreign`.
//!
//! # What the figures include
//!
//! The function is in the bench process, so its own work (parsing each event; the
//! `esm.function.handler_busy` figure) is part of what is measured, as a real function's
//! would be; at one shard it is sequential with Sluice's invocations. The ingest is done
//! before the drain starts, so the bench's producer does not compete with the engine.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::serve::ListenerExt as _;
use base64::Engine as _;
use clap::{Args, value_parser};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use super::kinesis::{XorShift, put_backoff};
use super::kinesis_wire::{
    CallError, JsonString, KinesisClient, PutRecordIn, PutRecordsBody, parse_error_body,
};
use super::report::{
    Report, RunInfo, interruptible, label_suffix, mean, ms, now_iso8601_utc,
    percentile_nearest_rank, process_cpu_seconds, sort_samples,
};

/// Bytes of the record header; a multiple of 3, so its base64 has no padding.
pub const HEADER_LEN: usize = 18;
/// Base64 characters of the header.
pub const HEADER_B64_LEN: usize = HEADER_LEN / 3 * 4;
const MAGIC: &[u8; 3] = b"SLB";
/// PutRecords entries per call in the drain's ingest (the API maximum).
const PUT_BATCH: u64 = 500;
/// Payload bytes per PutRecords call the ingest stays under (the API allows 5 MiB).
const PUT_CALL_BYTES: u64 = 4 << 20;
/// Attempts per PutRecords batch (first send included) before the ingest gives up.
const MAX_PUT_ATTEMPTS: u32 = 30;
/// Poll step while waiting for ACTIVE, Enabled, or a deleted mapping.
const POLL: Duration = Duration::from_millis(10);
/// How long the cleanup waits for a deleted mapping to disappear.
const DELETE_WAIT: Duration = Duration::from_secs(10);
/// Pause after the drain before the duplicates are counted.
const QUIET: Duration = Duration::from_secs(1);
/// Progress log interval while draining.
const PROGRESS: Duration = Duration::from_secs(5);

/// The `--help` epilogue: how to declare the bench's function.
pub const CONFIG_HELP: &str = "\
Sluice must be started with a config declaring the bench's function (the bench serves it \
on 127.0.0.1:<--function-port>; Sluice cannot register a url function over the API):

  [[functions]]
  name = \"bench\"                    # --function
  url = \"http://127.0.0.1:9555/\"    # --function-port
  timeout = 30

  sluice serve --listen 127.0.0.1:4599 --data-dir /tmp/bench-esm-data --config bench-esm.toml &
  sluice bench esm --endpoint http://127.0.0.1:4599 --records 100000";

/// `sluice bench esm` arguments.
#[derive(Debug, Clone, Args)]
pub struct EsmArgs {
    /// Sluice's endpoint, plain HTTP (e.g. http://127.0.0.1:4599).
    #[arg(long, value_parser = super::parse_endpoint)]
    pub endpoint: Url,
    /// Records the drain phase puts and the mapping delivers.
    #[arg(long, default_value_t = 100_000, value_parser = value_parser!(u64).range(1..))]
    pub records: u64,
    /// Data bytes per record (18 B, the id header, to 1 MiB).
    #[arg(long, default_value_t = 1024,
          value_parser = value_parser!(u32).range(HEADER_LEN as i64..=1_048_576))]
    pub size: u32,
    /// Shards of the drain stream (the latency stream has 1).
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u32).range(1..=1_000))]
    pub shards: u32,
    /// BatchSize of the drain mapping (the latency mapping uses 1).
    #[arg(long, default_value_t = 1_000, value_parser = value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Concurrent PutRecords callers while preparing the drain backlog.
    #[arg(long, default_value_t = 4, value_parser = value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Put→invoked samples (0 skips the latency phase).
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u32).range(0..=1_000_000))]
    pub latency_samples: u32,
    /// Name of the function Sluice's config declares (url http://127.0.0.1:PORT/, PORT being --function-port).
    #[arg(long, default_value = "bench")]
    pub function: String,
    /// Port the bench's function listens on (127.0.0.1), fixed so the config can name it.
    #[arg(long, default_value_t = 9555, value_parser = value_parser!(u16).range(1..))]
    pub function_port: u16,
    /// Print one JSON line with every figure on stdout (the table then goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Name of this run in the report (e.g. sluice-r1).
    #[arg(long)]
    pub label: Option<String>,
    /// Region of the stream ARNs and of the dummy SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account id of the stream ARNs.
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
    /// Deadline of each wait (ACTIVE, Enabled, ingest, drain), in seconds.
    #[arg(long, default_value_t = 300, value_parser = value_parser!(u64).range(1..))]
    pub phase_timeout: u64,
    /// Give up on one latency sample after this many milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = value_parser!(u64).range(1..))]
    pub sample_timeout_ms: u64,
}

impl EsmArgs {
    fn params_json(&self) -> Value {
        json!({
            "records": self.records,
            "size": self.size,
            "shards": self.shards,
            "batch_size": self.batch_size,
            "concurrency": self.concurrency,
            "latency_samples": self.latency_samples,
            "function": self.function,
            "function_port": self.function_port,
            "region": self.region,
            "account_id": self.account_id,
            "phase_timeout_s": self.phase_timeout,
            "sample_timeout_ms": self.sample_timeout_ms,
        })
    }

    fn phase_timeout(&self) -> Duration {
        Duration::from_secs(self.phase_timeout)
    }

    fn stream_arn(&self, stream: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{stream}",
            self.region, self.account_id
        )
    }

    /// PutRecords entries per call: 500, fewer for records so large that 500 would pass
    /// the per-call payload cap.
    fn put_batch(&self) -> u64 {
        (PUT_CALL_BYTES / u64::from(self.size)).clamp(1, PUT_BATCH)
    }
}

// ---------------------------------------------------------------------------------------
// Record ids.

/// Which phase a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Latency,
    Drain,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Latency => b'L',
            Kind::Drain => b'D',
        }
    }

    fn of_byte(b: u8) -> Option<Self> {
        match b {
            b'L' => Some(Kind::Latency),
            b'D' => Some(Kind::Drain),
            _ => None,
        }
    }
}

/// The identity a record's data starts with; see the module docs for the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordId {
    pub kind: Kind,
    pub run: u32,
    pub id: u64,
}

impl RecordId {
    pub fn header(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..3].copy_from_slice(MAGIC);
        h[3] = self.kind.byte();
        h[4..8].copy_from_slice(&self.run.to_be_bytes());
        h[8..16].copy_from_slice(&self.id.to_be_bytes());
        h
    }

    /// The header as base64: [`HEADER_B64_LEN`] characters, no padding.
    pub fn header_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.header())
    }

    pub fn from_header(h: &[u8]) -> Option<Self> {
        let h: &[u8; HEADER_LEN] = h.get(..HEADER_LEN)?.try_into().ok()?;
        if &h[..3] != MAGIC || h[16..] != [0, 0] {
            return None;
        }
        let mut run = [0u8; 4];
        run.copy_from_slice(&h[4..8]);
        let mut id = [0u8; 8];
        id.copy_from_slice(&h[8..16]);
        Some(Self {
            kind: Kind::of_byte(h[3])?,
            run: u32::from_be_bytes(run),
            id: u64::from_be_bytes(id),
        })
    }

    /// The id of a record from its base64 `data`, decoding only the header's characters.
    pub fn parse_base64(data: &str) -> Option<Self> {
        let head = data.get(..HEADER_B64_LEN)?;
        let mut buf = [0u8; HEADER_LEN];
        let n = base64::engine::general_purpose::STANDARD
            .decode_slice(head, &mut buf)
            .ok()?;
        if n != HEADER_LEN {
            return None;
        }
        Self::from_header(&buf)
    }
}

/// The base64 of `len` random bytes, the part of each record after its header.
fn payload_base64(len: usize) -> String {
    let mut data = vec![0u8; len];
    XorShift::from_entropy().fill(&mut data);
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Names of one run: the run tag in every record header and the two streams.
#[derive(Debug, Clone)]
struct Names {
    run: u32,
    latency_stream: String,
    drain_stream: String,
}

impl Names {
    fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let short = &id[..8];
        let base = format!("sluice-bench-esm-{short}");
        Self {
            run: u32::from_str_radix(short, 16).unwrap_or(0),
            drain_stream: format!("{base}-drain"),
            latency_stream: base,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The bench's function.

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "Records", borrow, default)]
    records: Vec<EventRecord<'a>>,
}

/// A Kinesis record (`kinesis.data`) or a DynamoDB stream record whose key `id` (type S)
/// carries the header's base64 (`sluice bench dynamodb`).
#[derive(Deserialize)]
struct EventRecord<'a> {
    #[serde(borrow, default)]
    kinesis: Option<EventKinesis<'a>>,
    #[serde(borrow, default)]
    dynamodb: Option<EventDynamo<'a>>,
}

impl EventRecord<'_> {
    /// The text the record's id header is read from.
    fn data(&self) -> Option<&str> {
        match (&self.kinesis, &self.dynamodb) {
            (Some(k), _) => Some(&k.data),
            (None, Some(d)) => Some(&d.keys.id.s),
            (None, None) => None,
        }
    }
}

#[derive(Deserialize)]
struct EventKinesis<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Deserialize)]
struct EventDynamo<'a> {
    #[serde(rename = "Keys", borrow)]
    keys: EventDynamoKeys<'a>,
}

#[derive(Deserialize)]
struct EventDynamoKeys<'a> {
    #[serde(borrow)]
    id: EventDynamoString<'a>,
}

#[derive(Deserialize)]
struct EventDynamoString<'a> {
    #[serde(rename = "S", borrow)]
    s: Cow<'a, str>,
}

/// Latency samples in flight and what arrived for them.
#[derive(Debug, Default)]
pub struct LatencyBook {
    waiters: HashMap<u64, oneshot::Sender<Instant>>,
    seen: HashSet<u64>,
    /// Records whose id arrived before.
    pub duplicates: u64,
    /// First arrivals nobody waited for any more (the sample had timed out).
    pub late: u64,
}

impl LatencyBook {
    /// Registers sample `id`; the receiver gets the instant it arrives.
    pub fn expect(&mut self, id: u64) -> oneshot::Receiver<Instant> {
        let (tx, rx) = oneshot::channel();
        self.waiters.insert(id, tx);
        rx
    }

    pub fn give_up(&mut self, id: u64) {
        self.waiters.remove(&id);
    }

    pub fn note(&mut self, ids: &[u64], now: Instant) {
        for &id in ids {
            if !self.seen.insert(id) {
                self.duplicates += 1;
                continue;
            }
            let delivered = self
                .waiters
                .remove(&id)
                .is_some_and(|tx| tx.send(now).is_ok());
            if !delivered {
                self.late += 1;
            }
        }
    }
}

/// The drain's expected ids `0..expected` and what arrived of them.
#[derive(Debug)]
pub struct DrainBook {
    expected: u64,
    bits: Vec<u64>,
    pub distinct: u64,
    pub duplicates: u64,
    /// Ids of this run's drain outside `0..expected`.
    pub out_of_range: u64,
    pub invocations: u64,
    pub records: u64,
    pub max_batch: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    pub done_at: Option<Instant>,
    done: Option<oneshot::Sender<Instant>>,
}

impl DrainBook {
    /// A book for `expected` records; the receiver gets the instant the last distinct id
    /// arrived.
    pub fn new(expected: u64) -> (Self, oneshot::Receiver<Instant>) {
        let (tx, rx) = oneshot::channel();
        let words = usize::try_from(expected.div_ceil(64)).unwrap_or(usize::MAX);
        let book = Self {
            expected,
            bits: vec![0; words],
            distinct: 0,
            duplicates: 0,
            out_of_range: 0,
            invocations: 0,
            records: 0,
            max_batch: 0,
            first: None,
            last: None,
            done_at: None,
            done: Some(tx),
        };
        (book, rx)
    }

    /// Notes one invocation's drain ids.
    pub fn note(&mut self, ids: &[u64], now: Instant) {
        self.invocations += 1;
        self.records += ids.len() as u64;
        self.max_batch = self.max_batch.max(ids.len() as u64);
        self.first.get_or_insert(now);
        self.last = Some(now);
        for &id in ids {
            let Some(word) = usize::try_from(id / 64)
                .ok()
                .filter(|_| id < self.expected)
                .and_then(|w| self.bits.get_mut(w))
            else {
                self.out_of_range += 1;
                continue;
            };
            let bit = 1u64 << (id % 64);
            if *word & bit != 0 {
                self.duplicates += 1;
            } else {
                *word |= bit;
                self.distinct += 1;
            }
        }
        if self.distinct == self.expected && self.done_at.is_none() {
            self.done_at = Some(now);
            if let Some(tx) = self.done.take() {
                let _ = tx.send(now);
            }
        }
    }
}

/// What the function handler shares with the phases.
#[derive(Debug)]
pub struct FunctionState {
    run: u32,
    pub(super) latency: Mutex<LatencyBook>,
    pub(super) drain: Mutex<Option<DrainBook>>,
    invocations: AtomicU64,
    records: AtomicU64,
    /// Records without this run's header, or drain records while no drain is armed.
    foreign: AtomicU64,
    /// Requests whose body was not a Kinesis event.
    bad_events: AtomicU64,
    /// Time spent in [`FunctionState::note_event`], in ns.
    busy_ns: AtomicU64,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FunctionState {
    pub fn new(run: u32) -> Self {
        Self {
            run,
            latency: Mutex::new(LatencyBook::default()),
            drain: Mutex::new(None),
            invocations: AtomicU64::new(0),
            records: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            bad_events: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
        }
    }

    /// Books one invocation's event, which arrived at `now`.
    pub fn note_event(&self, body: &[u8], now: Instant) {
        let event: Event<'_> = match serde_json::from_slice(body) {
            Ok(e) => e,
            Err(e) => {
                self.bad_events.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("The bench function got a body that is not a Kinesis event: {e}");
                return;
            }
        };
        self.invocations.fetch_add(1, Ordering::Relaxed);
        self.records
            .fetch_add(event.records.len() as u64, Ordering::Relaxed);
        let (mut latency, mut drain) = (Vec::new(), Vec::with_capacity(event.records.len()));
        let mut foreign = 0u64;
        for r in &event.records {
            match r.data().and_then(RecordId::parse_base64) {
                Some(id) if id.run == self.run => match id.kind {
                    Kind::Latency => latency.push(id.id),
                    Kind::Drain => drain.push(id.id),
                },
                _ => foreign += 1,
            }
        }
        if !latency.is_empty() {
            lock(&self.latency).note(&latency, now);
        }
        if !drain.is_empty() {
            match lock(&self.drain).as_mut() {
                Some(book) => book.note(&drain, now),
                None => foreign += drain.len() as u64,
            }
        }
        if foreign > 0 {
            self.foreign.fetch_add(foreign, Ordering::Relaxed);
        }
    }

    pub(super) fn report(&self, report: &mut Report) {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        report.add("esm.function.invocations", n(&self.invocations), "calls", 0);
        report.add("esm.function.records", n(&self.records), "records", 0);
        report.add("esm.function.foreign", n(&self.foreign), "records", 0);
        report.add("esm.function.bad_events", n(&self.bad_events), "calls", 0);
        report.add("esm.function.handler_busy", n(&self.busy_ns) / 1e9, "s", 3);
    }
}

async fn invoke(State(state): State<Arc<FunctionState>>, body: Bytes) -> impl IntoResponse {
    let now = Instant::now();
    state.note_event(&body, now);
    let busy = u64::try_from(now.elapsed().as_nanos()).unwrap_or(u64::MAX);
    state.busy_ns.fetch_add(busy, Ordering::Relaxed);
    ([(CONTENT_TYPE, "application/json")], "{}")
}

/// The bench's function, served on 127.0.0.1:`port` until dropped.
pub(super) struct FunctionServer {
    task: JoinHandle<std::io::Result<()>>,
}

impl FunctionServer {
    pub(super) async fn start(port: u16, state: Arc<FunctionState>) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on 127.0.0.1:{port} for the bench function (--function-port)"
                )
            })?
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        let app = Router::new()
            .fallback(invoke)
            .layer(DefaultBodyLimit::disable())
            .with_state(state);
        let task = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { task })
    }
}

impl Drop for FunctionServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------
// The Lambda API.

/// Why a Lambda API call failed.
#[derive(Debug)]
pub(super) struct LambdaCallError {
    op: &'static str,
    /// `None`: no answer.
    status: Option<u16>,
    kind: String,
    message: String,
}

impl std::fmt::Display for LambdaCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "{}: HTTP {status} {}: {}",
                self.op, self.kind, self.message
            ),
            None => write!(f, "{}: {}", self.op, self.message),
        }
    }
}

impl std::error::Error for LambdaCallError {}

impl LambdaCallError {
    pub(super) fn not_found(&self) -> bool {
        self.status == Some(404)
    }
}

/// A minimal client of Sluice's Lambda REST API (rest-json, no signature: Sluice checks
/// none).
#[derive(Debug, Clone)]
pub(super) struct LambdaClient {
    http: reqwest::Client,
    base: String,
}

impl LambdaClient {
    pub(super) fn new(endpoint: &Url) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            base: endpoint.as_str().trim_end_matches('/').to_owned(),
        })
    }

    async fn call(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, LambdaCallError> {
        let transport = |e: &dyn std::fmt::Display| LambdaCallError {
            op,
            status: None,
            kind: String::new(),
            message: e.to_string(),
        };
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| transport(&chain(&e)))?;
        let status = response.status();
        let kind_header = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|k| k.split(':').next().unwrap_or(k).to_owned());
        let bytes = response.bytes().await.map_err(|e| transport(&chain(&e)))?;
        if !status.is_success() {
            let (kind, message) = parse_error_body(&bytes);
            return Err(LambdaCallError {
                op,
                status: Some(status.as_u16()),
                kind: kind_header
                    .or(kind)
                    .unwrap_or_else(|| format!("HTTP{}", status.as_u16())),
                message,
            });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| transport(&format!("bad JSON: {e}")))
    }

    pub(super) async fn get_function(&self, name: &str) -> Result<Value, LambdaCallError> {
        let path = format!("/2015-03-31/functions/{name}");
        self.call("GetFunction", Method::GET, &path, None).await
    }

    pub(super) async fn create_mapping(&self, body: &Value) -> Result<Value, LambdaCallError> {
        let path = "/2015-03-31/event-source-mappings/";
        self.call("CreateEventSourceMapping", Method::POST, path, Some(body))
            .await
    }

    pub(super) async fn get_mapping(&self, uuid: &str) -> Result<Value, LambdaCallError> {
        let path = format!("/2015-03-31/event-source-mappings/{uuid}");
        self.call("GetEventSourceMapping", Method::GET, &path, None)
            .await
    }

    pub(super) async fn delete_mapping(&self, uuid: &str) -> Result<Value, LambdaCallError> {
        let path = format!("/2015-03-31/event-source-mappings/{uuid}");
        self.call("DeleteEventSourceMapping", Method::DELETE, &path, None)
            .await
    }
}

/// An error and its causes on one line (reqwest's own message is terse).
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// The CreateEventSourceMapping body of a bench mapping.
pub fn mapping_request(function: &str, stream_arn: &str, position: &str, batch: u32) -> Value {
    json!({
        "FunctionName": function,
        "EventSourceArn": stream_arn,
        "StartingPosition": position,
        "BatchSize": batch,
        "MaximumBatchingWindowInSeconds": 0,
    })
}

// ---------------------------------------------------------------------------------------
// The run.

/// What this run created and has not deleted yet.
#[derive(Debug, Default)]
struct Created {
    streams: Vec<String>,
    mappings: Vec<String>,
}

/// Everything the phases share.
struct Ctx<'a> {
    args: &'a EsmArgs,
    names: &'a Names,
    kinesis: KinesisClient,
    lambda: LambdaClient,
    function: Arc<FunctionState>,
    created: &'a Mutex<Created>,
}

/// Runs the benchmark, prints the report, and fails if a phase failed.
pub async fn run(args: &EsmArgs) -> anyhow::Result<()> {
    let started_utc = now_iso8601_utc();
    let mut report = Report::new();
    report.add_loadavg("before");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    report.add("host.cpus", cpus as f64, "cpus", 0);

    let names = Names::new();
    let function = Arc::new(FunctionState::new(names.run));
    let server = FunctionServer::start(args.function_port, Arc::clone(&function)).await?;
    let pool = args.concurrency as usize + 2;
    let created = Mutex::new(Created::default());
    let ctx = Ctx {
        args,
        names: &names,
        kinesis: KinesisClient::new(args.endpoint.clone(), args.region.clone(), pool)?,
        lambda: LambdaClient::new(&args.endpoint)?,
        function: Arc::clone(&function),
        created: &created,
    };
    tracing::info!(endpoint = %args.endpoint, stream = %names.latency_stream,
        function = %args.function, port = args.function_port, "Benchmarking event source mappings.");

    if interruptible(phases(&ctx, &mut report)).await {
        report.interrupted();
    }
    cleanup(&ctx, &mut report).await;
    drop(server);
    function.report(&mut report);
    report.add_loadavg("after");

    let info = RunInfo {
        bench: "esm",
        label: args.label.clone(),
        endpoint: args.endpoint.to_string(),
        started_utc,
        params: args.params_json(),
        resource: Some(names.latency_stream.clone()),
    };
    let heading = format!(
        "# sluice bench esm{} endpoint={} records={} size={} shards={} batch_size={} concurrency={} latency_samples={} function={}\n",
        label_suffix(args.label.as_deref()),
        args.endpoint,
        args.records,
        args.size,
        args.shards,
        args.batch_size,
        args.concurrency,
        args.latency_samples,
        args.function,
    );
    report.emit(&info, &heading, args.json)
}

/// Preflight, latency, drain; figures and errors go to `report`.
async fn phases(ctx: &Ctx<'_>, report: &mut Report) {
    if let Err(e) = ctx.lambda.get_function(&ctx.args.function).await {
        let hint = if e.not_found() {
            format!("\n{CONFIG_HELP}")
        } else {
            String::new()
        };
        report.error("preflight", format!("{e}{hint}"));
        return;
    }
    if ctx.args.latency_samples > 0 {
        tracing::info!(samples = ctx.args.latency_samples, "Latency.");
        let result = latency_phase(ctx, report).await;
        retire(ctx, &ctx.names.latency_stream, report).await;
        if let Err(e) = result {
            report.error("latency", format!("{e:#}"));
            if e.is::<NeverCalled>() {
                report.error("drain", "skipped: the function never received a record");
                return;
            }
        }
    }
    tracing::info!(records = ctx.args.records, "Drain.");
    if let Err(e) = drain_phase(ctx, report).await {
        report.error("drain", format!("{e:#}"));
    }
}

/// CreateStream `stream` with `shards` shards and wait for ACTIVE; returns the wait.
async fn create_stream(ctx: &Ctx<'_>, stream: &str, shards: u32) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let deadline = start + ctx.args.phase_timeout();
    lock(ctx.created).streams.push(stream.to_owned());
    if let Err(e) = ctx.kinesis.create_stream(stream, shards).await {
        if matches!(e, CallError::Api { .. }) {
            lock(ctx.created).streams.retain(|s| s != stream);
        }
        return Err(e.into());
    }
    loop {
        match ctx.kinesis.stream_status(stream).await {
            Ok(status) if status == "ACTIVE" => return Ok(start.elapsed()),
            Ok(_) => {}
            Err(e) if e.is_retryable() || e.api_kind() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            bail!(
                "stream {stream} not ACTIVE after {} s",
                ctx.args.phase_timeout
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// CreateEventSourceMapping from `stream` to the bench function; returns its UUID.
async fn create_mapping(
    ctx: &Ctx<'_>,
    stream: &str,
    position: &str,
    batch: u32,
) -> anyhow::Result<String> {
    let body = mapping_request(
        &ctx.args.function,
        &ctx.args.stream_arn(stream),
        position,
        batch,
    );
    let out = ctx.lambda.create_mapping(&body).await?;
    let uuid = out["UUID"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateEventSourceMapping answered no UUID: {out}"))?
        .to_owned();
    lock(ctx.created).mappings.push(uuid.clone());
    tracing::info!(%stream, mapping = %uuid, position, batch, "Mapping created.");
    Ok(uuid)
}

/// Polls GetEventSourceMapping until `State` is `Enabled`; returns when it saw it.
async fn wait_enabled(ctx: &Ctx<'_>, uuid: &str) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + ctx.args.phase_timeout();
    loop {
        let m = ctx.lambda.get_mapping(uuid).await?;
        let state = m["State"].as_str();
        if Instant::now() >= deadline {
            bail!(
                "mapping {uuid} not Enabled after {} s (State {}, LastProcessingResult {})",
                ctx.args.phase_timeout,
                state.unwrap_or("missing"),
                m["LastProcessingResult"].as_str().unwrap_or("missing")
            );
        }
        match state {
            Some("Enabled") => return Ok(Instant::now()),
            Some("Creating" | "Enabling" | "Updating") => {}
            other => bail!(
                "mapping {uuid} is {} ({})",
                other.unwrap_or("without State"),
                m["StateTransitionReason"]
                    .as_str()
                    .unwrap_or("no reason given")
            ),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The function did not receive the first latency sample: it is probably not the one
/// Sluice calls, and the drain would only wait for its deadline.
#[derive(Debug)]
struct NeverCalled {
    timeout: Duration,
    function: String,
    port: u16,
}

impl std::fmt::Display for NeverCalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the function did not receive the first record within {:?}: is function {:?} \
             declared with url http://127.0.0.1:{}/ in Sluice's config?",
            self.timeout, self.function, self.port
        )
    }
}

impl std::error::Error for NeverCalled {}

/// Figures of the latency phase.
#[derive(Debug, Default)]
struct LatencyStats {
    create_wait: Duration,
    enabled_wait: Duration,
    samples_ms: Vec<f64>,
    put_call_ms: Vec<f64>,
    timeouts: u64,
    throttled_calls: u64,
    duplicates: u64,
    late: u64,
}

impl LatencyStats {
    fn report(mut self, report: &mut Report) {
        report.add("esm.latency.create_wait", ms(self.create_wait), "ms", 1);
        report.add("esm.latency.enabled_wait", ms(self.enabled_wait), "ms", 1);
        let first = self.samples_ms.first().copied();
        sort_samples(&mut self.samples_ms);
        if let (Some(p50), Some(p99), Some(max), Some(avg)) = (
            percentile_nearest_rank(&self.samples_ms, 50.0),
            percentile_nearest_rank(&self.samples_ms, 99.0),
            self.samples_ms.last().copied(),
            mean(&self.samples_ms),
        ) {
            report.add("esm.latency.p50", p50, "ms", 2);
            report.add("esm.latency.p99", p99, "ms", 2);
            report.add("esm.latency.max", max, "ms", 2);
            report.add("esm.latency.mean", avg, "ms", 2);
        }
        if let Some(min) = self.samples_ms.first() {
            report.add("esm.latency.min", *min, "ms", 2);
        }
        if let Some(first) = first {
            report.add("esm.latency.first", first, "ms", 2);
        }
        report.add(
            "esm.latency.samples",
            self.samples_ms.len() as f64,
            "samples",
            0,
        );
        report.add("esm.latency.timeouts", self.timeouts as f64, "samples", 0);
        report.add("esm.latency.late", self.late as f64, "records", 0);
        report.add(
            "esm.latency.duplicates",
            self.duplicates as f64,
            "records",
            0,
        );
        sort_samples(&mut self.put_call_ms);
        if let Some(p50) = percentile_nearest_rank(&self.put_call_ms, 50.0) {
            report.add("esm.latency.put_call_p50", p50, "ms", 2);
        }
        report.add(
            "esm.latency.throttled_calls",
            self.throttled_calls as f64,
            "calls",
            0,
        );
    }
}

/// The latency phase; see the module docs.
async fn latency_phase(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let stream = &ctx.names.latency_stream;
    let mut stats = LatencyStats {
        create_wait: create_stream(ctx, stream, 1).await?,
        ..LatencyStats::default()
    };
    let uuid = create_mapping(ctx, stream, "LATEST", 1).await?;
    let t0 = Instant::now();
    stats.enabled_wait = wait_enabled(ctx, &uuid).await?.duration_since(t0);

    let payload = payload_base64(ctx.args.size as usize - HEADER_LEN);
    let timeout = Duration::from_millis(ctx.args.sample_timeout_ms);
    let result = async {
        for i in 0..u64::from(ctx.args.latency_samples) {
            let id = RecordId {
                kind: Kind::Latency,
                run: ctx.names.run,
                id: i,
            };
            let data = format!("{}{payload}", id.header_base64());
            let input = PutRecordIn {
                stream_name: stream,
                data: &data,
                partition_key: "latency",
                explicit_hash_key: None,
            };
            let arrived = lock(&ctx.function.latency).expect(i);
            let t0 = Instant::now();
            let deadline = t0 + timeout;
            let mut throttle_streak = 0u32;
            loop {
                let sent = Instant::now();
                match ctx.kinesis.put_record(&input).await {
                    Ok(_) => {
                        stats.put_call_ms.push(ms(sent.elapsed()));
                        break;
                    }
                    Err(e) if e.is_retryable() && Instant::now() < deadline => {
                        stats.throttled_calls += 1;
                        throttle_streak += 1;
                        tokio::time::sleep(put_backoff(throttle_streak, true)).await;
                    }
                    Err(e) => return Err(anyhow::Error::from(e)),
                }
            }
            match tokio::time::timeout_at(deadline.into(), arrived).await {
                Ok(Ok(at)) => stats.samples_ms.push(ms(at.saturating_duration_since(t0))),
                _ => {
                    lock(&ctx.function.latency).give_up(i);
                    stats.timeouts += 1;
                    tracing::warn!(sample = i, "Latency sample timed out.");
                    if stats.samples_ms.is_empty() && i == 0 {
                        return Err(anyhow::Error::new(NeverCalled {
                            timeout,
                            function: ctx.args.function.clone(),
                            port: ctx.args.function_port,
                        }));
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    // A short pause so a redelivery of the last sample is counted.
    tokio::time::sleep(Duration::from_millis(100)).await;
    {
        let book = lock(&ctx.function.latency);
        stats.duplicates = book.duplicates;
        stats.late = book.late;
    }
    stats.report(report);
    result
}

/// Figures of the drain's ingest.
#[derive(Debug, Default)]
struct IngestStats {
    records: u64,
    calls: u64,
    failed_records: u64,
    throttled_calls: u64,
    call_ms: Vec<f64>,
    wall: Duration,
}

impl IngestStats {
    fn merge(&mut self, other: IngestStats) {
        self.records += other.records;
        self.calls += other.calls;
        self.failed_records += other.failed_records;
        self.throttled_calls += other.throttled_calls;
        self.call_ms.extend(other.call_ms);
    }

    fn report(mut self, report: &mut Report, size: u32) {
        let secs = self.wall.as_secs_f64();
        let bytes = self.records as f64 * f64::from(size);
        report.add("esm.put.records", self.records as f64, "records", 0);
        report.add("esm.put.rate", self.records as f64 / secs, "rec/s", 1);
        report.add("esm.put.mb_rate", bytes / secs / 1e6, "MB/s", 2);
        report.add("esm.put.wall", secs, "s", 3);
        report.add("esm.put.calls", self.calls as f64, "calls", 0);
        report.add(
            "esm.put.failed_records",
            self.failed_records as f64,
            "records",
            0,
        );
        report.add(
            "esm.put.throttled_calls",
            self.throttled_calls as f64,
            "calls",
            0,
        );
        sort_samples(&mut self.call_ms);
        if let Some(p50) = percentile_nearest_rank(&self.call_ms, 50.0) {
            report.add("esm.put.call_p50", p50, "ms", 2);
        }
    }
}

struct IngestShared {
    client: KinesisClient,
    stream: JsonString,
    run: u32,
    next: AtomicU64,
    total: u64,
    batch: u64,
    /// The base64 of every record's data after its header.
    payload: String,
    deadline: Instant,
}

/// Puts records `0..--records` of the drain onto `stream`.
async fn ingest(ctx: &Ctx<'_>, stream: &str) -> anyhow::Result<IngestStats> {
    let shared = Arc::new(IngestShared {
        client: ctx.kinesis.clone(),
        stream: JsonString::new(stream),
        run: ctx.names.run,
        next: AtomicU64::new(0),
        total: ctx.args.records,
        batch: ctx.args.put_batch(),
        payload: payload_base64(ctx.args.size as usize - HEADER_LEN),
        deadline: Instant::now() + ctx.args.phase_timeout(),
    });
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..ctx.args.concurrency {
        let shared = Arc::clone(&shared);
        tasks.spawn(async move { ingest_task(&shared).await });
    }
    let mut total = IngestStats::default();
    while let Some(joined) = tasks.join_next().await {
        match joined.context("ingest task panicked").and_then(|r| r) {
            Ok(stats) => total.merge(stats),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
    total.wall = start.elapsed();
    if total.records != ctx.args.records {
        bail!("stored {} of {} records", total.records, ctx.args.records);
    }
    Ok(total)
}

/// One ingest caller: take the next ids, put them, resend what failed, repeat.
async fn ingest_task(shared: &IngestShared) -> anyhow::Result<IngestStats> {
    let mut rng = XorShift::from_entropy();
    let mut stats = IngestStats::default();
    let record_bytes = HEADER_B64_LEN + shared.payload.len() + 48;
    loop {
        let first = shared.next.fetch_add(shared.batch, Ordering::AcqRel);
        if first >= shared.total {
            return Ok(stats);
        }
        let end = (first + shared.batch).min(shared.total);
        // (header base64, partition key) of the records still to store.
        let mut pending: Vec<(String, String)> = (first..end)
            .map(|id| {
                let header = RecordId {
                    kind: Kind::Drain,
                    run: shared.run,
                    id,
                }
                .header_base64();
                (header, rng.partition_key())
            })
            .collect();
        let mut attempts = 0u32;
        while !pending.is_empty() {
            if Instant::now() >= shared.deadline {
                bail!("phase deadline reached with records still to put");
            }
            attempts += 1;
            let mut body = PutRecordsBody::new(&shared.stream, pending.len() * record_bytes);
            for (header, key) in &pending {
                body.push_base64_parts(&[header, &shared.payload], key);
            }
            let sent = Instant::now();
            let result = shared.client.put_records(body.finish()).await;
            stats.call_ms.push(ms(sent.elapsed()));
            stats.calls += 1;
            let throttled = match result {
                Ok(out) if out.failed_record_count == 0 => {
                    pending.clear();
                    false
                }
                Ok(out) => {
                    if out.records.len() != pending.len() {
                        bail!(
                            "PutRecords answered {} entries for {} records",
                            out.records.len(),
                            pending.len()
                        );
                    }
                    stats.failed_records += out.failed_record_count;
                    let mut results = out.records.iter();
                    pending.retain(|_| results.next().is_some_and(|r| r.error_code.is_some()));
                    false
                }
                Err(e) if e.is_retryable() => {
                    stats.throttled_calls += 1;
                    true
                }
                Err(e) => return Err(e.into()),
            };
            if !pending.is_empty() {
                if attempts >= MAX_PUT_ATTEMPTS {
                    bail!(
                        "{} records still failing after {attempts} PutRecords attempts",
                        pending.len()
                    );
                }
                let pause = put_backoff(attempts, throttled);
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }
        stats.records += end - first;
    }
}

/// Figures of the drain, from mapping creation on.
#[derive(Debug, Default)]
struct DrainStats {
    expected: u64,
    size: u32,
    create_wait: Duration,
    create_call: Duration,
    enabled_wait: Option<Duration>,
    first_invoke: Option<Duration>,
    /// Mapping creation → last distinct record; `None` if not every record arrived.
    wall: Option<Duration>,
    received: u64,
    duplicates: u64,
    out_of_range: u64,
    invocations: u64,
    max_batch: u64,
    client_cpu: Option<f64>,
}

impl DrainStats {
    fn report(&self, report: &mut Report) {
        report.add("esm.drain.create_wait", ms(self.create_wait), "ms", 1);
        report.add("esm.drain.create_call", ms(self.create_call), "ms", 2);
        if let Some(wait) = self.enabled_wait {
            report.add("esm.drain.enabled_wait", ms(wait), "ms", 1);
        }
        if let Some(first) = self.first_invoke {
            report.add("esm.drain.first_invoke", ms(first), "ms", 1);
        }
        if let Some(wall) = self.wall {
            let secs = wall.as_secs_f64();
            let bytes = self.expected as f64 * f64::from(self.size);
            report.add("esm.drain.rate", self.expected as f64 / secs, "rec/s", 1);
            report.add("esm.drain.mb_rate", bytes / secs / 1e6, "MB/s", 2);
            report.add("esm.drain.wall", secs, "s", 3);
            if let Some(first) = self.first_invoke {
                let steady = secs - first.as_secs_f64();
                if steady > 0.0 {
                    report.add(
                        "esm.drain.rate_after_first",
                        self.expected as f64 / steady,
                        "rec/s",
                        1,
                    );
                }
            }
        }
        report.add("esm.drain.received", self.received as f64, "records", 0);
        report.add("esm.drain.duplicates", self.duplicates as f64, "records", 0);
        if self.out_of_range > 0 {
            report.add(
                "esm.drain.out_of_range",
                self.out_of_range as f64,
                "records",
                0,
            );
        }
        report.add("esm.drain.invocations", self.invocations as f64, "calls", 0);
        if self.invocations > 0 {
            let records = self.received + self.duplicates + self.out_of_range;
            report.add(
                "esm.drain.mean_batch",
                records as f64 / self.invocations as f64,
                "records",
                1,
            );
        }
        report.add("esm.drain.max_batch", self.max_batch as f64, "records", 0);
        if let Some(cpu) = self.client_cpu {
            report.add("esm.drain.client_cpu", cpu, "s", 2);
        }
    }
}

/// The drain phase; see the module docs.
async fn drain_phase(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let args = ctx.args;
    let stream = &ctx.names.drain_stream;
    let create_wait = create_stream(ctx, stream, args.shards).await?;
    tracing::info!(records = args.records, %stream, "Putting the backlog.");
    let put = ingest(ctx, stream).await?;
    tracing::info!(
        records = put.records,
        secs = put.wall.as_secs_f64(),
        "Backlog stored."
    );
    put.report(report, args.size);

    let (book, mut done) = DrainBook::new(args.records);
    *lock(&ctx.function.drain) = Some(book);
    let cpu0 = process_cpu_seconds();
    let t0 = Instant::now();
    let uuid = create_mapping(ctx, stream, "TRIM_HORIZON", args.batch_size).await?;
    let create_call = t0.elapsed();
    let deadline = t0 + args.phase_timeout();

    // The handler stamps the last record's arrival, so waiting for Enabled first loses
    // nothing even if the drain ends before it is seen.
    let enabled = wait_enabled(ctx, &uuid).await;
    let drained = async {
        if enabled.is_err() {
            return None;
        }
        loop {
            let step =
                tokio::time::timeout_at(deadline.min(Instant::now() + PROGRESS).into(), &mut done)
                    .await;
            match step {
                Ok(Ok(at)) => return Some(at),
                Ok(Err(_)) => return None,
                Err(_) if Instant::now() >= deadline => return None,
                Err(_) => {
                    let got = lock(&ctx.function.drain).as_ref().map_or(0, |b| b.distinct);
                    tracing::info!(received = got, of = args.records, "Draining.");
                }
            }
        }
    };
    let done_at = drained.await;
    if done_at.is_some() {
        tokio::time::sleep(QUIET).await;
    }
    let client_cpu = cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a);
    let stats = {
        let guard = lock(&ctx.function.drain);
        let book = guard.as_ref();
        DrainStats {
            expected: args.records,
            size: args.size,
            create_wait,
            create_call,
            enabled_wait: enabled.as_ref().ok().map(|at| at.duration_since(t0)),
            first_invoke: book.and_then(|b| b.first).map(|at| at.duration_since(t0)),
            wall: done_at.map(|at| at.saturating_duration_since(t0)),
            received: book.map_or(0, |b| b.distinct),
            duplicates: book.map_or(0, |b| b.duplicates),
            out_of_range: book.map_or(0, |b| b.out_of_range),
            invocations: book.map_or(0, |b| b.invocations),
            max_batch: book.map_or(0, |b| b.max_batch),
            client_cpu,
        }
    };
    stats.report(report);
    enabled?;
    if done_at.is_none() {
        bail!(
            "the function received {} of {} distinct records within {} s",
            stats.received,
            args.records,
            args.phase_timeout
        );
    }
    Ok(())
}

/// Deletes the mapping(s) reading `stream` that this run created, then `stream`.
async fn retire(ctx: &Ctx<'_>, stream: &str, report: &mut Report) {
    let arn = ctx.args.stream_arn(stream);
    let mappings: Vec<String> = std::mem::take(&mut lock(ctx.created).mappings);
    let mut keep = Vec::new();
    for uuid in mappings {
        let reads_stream = match ctx.lambda.get_mapping(&uuid).await {
            Ok(m) => m["EventSourceArn"].as_str() == Some(arn.as_str()),
            Err(e) if e.not_found() => continue,
            Err(_) => true,
        };
        if reads_stream {
            delete_mapping(ctx, &uuid, report).await;
        } else {
            keep.push(uuid);
        }
    }
    lock(ctx.created).mappings.extend(keep);
    let known = {
        let mut created = lock(ctx.created);
        let before = created.streams.len();
        created.streams.retain(|s| s != stream);
        before != created.streams.len()
    };
    if known {
        delete_stream(ctx, stream, report).await;
    }
}

/// Deletes every mapping and then every stream this run created.
async fn cleanup(ctx: &Ctx<'_>, report: &mut Report) {
    let mappings = std::mem::take(&mut lock(ctx.created).mappings);
    for uuid in mappings {
        delete_mapping(ctx, &uuid, report).await;
    }
    let streams = std::mem::take(&mut lock(ctx.created).streams);
    for stream in streams {
        delete_stream(ctx, &stream, report).await;
    }
}

/// DeleteEventSourceMapping, then wait (up to [`DELETE_WAIT`]) until it is gone so its
/// consumers have stopped before the stream goes.
async fn delete_mapping(ctx: &Ctx<'_>, uuid: &str, report: &mut Report) {
    match ctx.lambda.delete_mapping(uuid).await {
        Ok(_) => {}
        Err(e) if e.not_found() => return,
        Err(e) => {
            tracing::warn!(mapping = %uuid, "DeleteEventSourceMapping failed: {e}");
            report.error(format!("cleanup.mapping.{uuid}"), e.to_string());
            return;
        }
    }
    let deadline = Instant::now() + DELETE_WAIT;
    loop {
        match ctx.lambda.get_mapping(uuid).await {
            Err(e) if e.not_found() => {
                tracing::info!(mapping = %uuid, "Deleted the mapping.");
                return;
            }
            Ok(m) if Instant::now() >= deadline => {
                let message = format!(
                    "still listed {DELETE_WAIT:?} after DeleteEventSourceMapping (State {}, \
                     LastProcessingResult {})",
                    m["State"].as_str().unwrap_or("missing"),
                    m["LastProcessingResult"].as_str().unwrap_or("missing"),
                );
                tracing::warn!(mapping = %uuid, "Mapping {message}.");
                report.error(format!("cleanup.mapping.{uuid}"), message);
                return;
            }
            Err(e) if Instant::now() >= deadline => {
                tracing::warn!(mapping = %uuid, "GetEventSourceMapping after its deletion: {e}");
                return;
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

async fn delete_stream(ctx: &Ctx<'_>, stream: &str, report: &mut Report) {
    match ctx.kinesis.delete_stream(stream).await {
        Ok(()) => tracing::info!(%stream, "Deleted the stream."),
        Err(e) if e.api_kind() == Some("ResourceNotFoundException") => {}
        Err(e) => {
            tracing::warn!(%stream, "DeleteStream failed: {e}");
            report.error(format!("cleanup.stream.{stream}"), e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: Kind, run: u32, id: u64) -> RecordId {
        RecordId { kind, run, id }
    }

    #[test]
    fn record_ids_round_trip_through_base64() {
        let engine = base64::engine::general_purpose::STANDARD;
        for rid in [
            id(Kind::Latency, 0, 0),
            id(Kind::Drain, 0xdead_beef, 99_999),
            id(Kind::Drain, u32::MAX, u64::MAX),
        ] {
            let h = rid.header_base64();
            assert_eq!(h.len(), HEADER_B64_LEN);
            assert!(!h.contains('='), "{h}");
            assert_eq!(RecordId::parse_base64(&h), Some(rid));
            // Header and payload encoded apart are the encoding of header ++ payload.
            for len in [0usize, 1, 2, 3, 1006] {
                let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let joined = format!("{h}{}", engine.encode(&payload));
                let mut whole = rid.header().to_vec();
                whole.extend_from_slice(&payload);
                assert_eq!(joined, engine.encode(&whole), "{len}");
                assert_eq!(RecordId::parse_base64(&joined), Some(rid));
            }
        }
        assert_eq!(
            id(Kind::Latency, 1, 2).header(),
            *b"SLBL\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00"
        );
    }

    #[test]
    fn foreign_data_has_no_record_id() {
        let engine = base64::engine::general_purpose::STANDARD;
        assert_eq!(RecordId::parse_base64(""), None);
        assert_eq!(RecordId::parse_base64("aGVsbG8="), None);
        assert_eq!(
            RecordId::parse_base64(&engine.encode([7u8; 100])),
            None,
            "no magic"
        );
        assert_eq!(RecordId::parse_base64(&"!".repeat(40)), None, "not base64");
        let mut h = id(Kind::Drain, 1, 1).header();
        h[3] = b'X';
        assert_eq!(RecordId::parse_base64(&engine.encode(h)), None, "bad kind");
        let mut h = id(Kind::Drain, 1, 1).header();
        h[17] = 1;
        assert_eq!(RecordId::parse_base64(&engine.encode(h)), None, "reserved");
    }

    fn event(data: &[String]) -> Vec<u8> {
        let records: Vec<Value> = data
            .iter()
            .map(|d| {
                json!({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "k",
                    "sequenceNumber": "1", "data": d, "approximateArrivalTimestamp": 1.5},
                    "eventSource": "aws:kinesis", "eventID": "shardId-000000000000:1"})
            })
            .collect();
        serde_json::to_vec(&json!({ "Records": records })).expect("json")
    }

    #[test]
    fn the_function_books_latency_and_drain_records() {
        let state = FunctionState::new(42);
        let (book, mut done) = DrainBook::new(3);
        *lock(&state.drain) = Some(book);
        let mut waiting = lock(&state.latency).expect(7);
        let t = Instant::now();
        let h = |kind, run, n| id(kind, run, n).header_base64();
        state.note_event(
            &event(&[
                h(Kind::Latency, 42, 7),
                h(Kind::Drain, 42, 0),
                h(Kind::Drain, 41, 1),
                "aGVsbG8=".into(),
            ]),
            t,
        );
        assert_eq!(waiting.try_recv().ok(), Some(t));
        assert!(done.try_recv().is_err());
        state.note_event(
            &event(&[
                h(Kind::Drain, 42, 0),
                h(Kind::Drain, 42, 1),
                h(Kind::Drain, 42, 2),
                h(Kind::Drain, 42, 3),
                h(Kind::Latency, 42, 7),
                h(Kind::Latency, 42, 8),
            ]),
            t + Duration::from_millis(5),
        );
        assert_eq!(done.try_recv().ok(), Some(t + Duration::from_millis(5)));
        state.note_event(b"not json", t);
        let drain = lock(&state.drain);
        let d = drain.as_ref().expect("armed");
        assert_eq!((d.distinct, d.duplicates, d.out_of_range), (3, 1, 1));
        assert_eq!((d.invocations, d.records, d.max_batch), (2, 5, 4));
        assert_eq!(
            (d.first, d.done_at),
            (Some(t), Some(t + Duration::from_millis(5)))
        );
        let lat = lock(&state.latency);
        assert_eq!((lat.duplicates, lat.late), (1, 1));
        assert_eq!(state.foreign.load(Ordering::Relaxed), 2);
        assert_eq!(state.bad_events.load(Ordering::Relaxed), 1);
        assert_eq!(state.invocations.load(Ordering::Relaxed), 2);
        assert_eq!(state.records.load(Ordering::Relaxed), 10);
    }

    #[test]
    fn drain_records_before_arming_are_foreign() {
        let state = FunctionState::new(1);
        let h = id(Kind::Drain, 1, 0).header_base64();
        state.note_event(&event(&[h]), Instant::now());
        assert_eq!(state.foreign.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn drain_book_completes_once_on_the_last_distinct_id() {
        let (mut book, mut done) = DrainBook::new(130);
        let t = Instant::now();
        let ids: Vec<u64> = (0..129).collect();
        book.note(&ids, t);
        assert!(done.try_recv().is_err());
        book.note(&[128, 129, 130], t + Duration::from_secs(1));
        assert_eq!(done.try_recv().ok(), Some(t + Duration::from_secs(1)));
        assert_eq!(book.distinct, 130);
        assert_eq!((book.duplicates, book.out_of_range), (1, 1));
        book.note(&[5], t + Duration::from_secs(2));
        assert_eq!(book.done_at, Some(t + Duration::from_secs(1)));
        assert_eq!(book.duplicates, 2);
    }

    #[test]
    fn latency_book_times_out_and_counts_late_records() {
        let mut book = LatencyBook::default();
        let rx = book.expect(1);
        book.give_up(1);
        drop(rx);
        book.note(&[1], Instant::now());
        assert_eq!(book.late, 1);
        // The sample's receiver is gone but the waiter was not removed: late as well.
        let rx = book.expect(2);
        drop(rx);
        book.note(&[2, 2], Instant::now());
        assert_eq!((book.late, book.duplicates), (2, 1));
    }

    #[test]
    fn names_and_mapping_requests() {
        let n = Names::new();
        assert!(n.latency_stream.starts_with("sluice-bench-esm-"));
        assert_eq!(n.latency_stream.len(), "sluice-bench-esm-".len() + 8);
        assert_eq!(n.drain_stream, format!("{}-drain", n.latency_stream));
        assert_eq!(
            format!("{:08x}", n.run),
            n.latency_stream["sluice-bench-esm-".len()..]
        );
        assert_eq!(
            mapping_request(
                "bench",
                "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                "LATEST",
                1
            ),
            json!({
                "FunctionName": "bench",
                "EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                "StartingPosition": "LATEST",
                "BatchSize": 1,
                "MaximumBatchingWindowInSeconds": 0,
            })
        );
    }

    #[test]
    fn report_figures() {
        let mut report = Report::new();
        LatencyStats {
            enabled_wait: Duration::from_millis(12),
            samples_ms: (1..=200).rev().map(f64::from).collect(),
            put_call_ms: vec![0.5, 0.25, 1.0],
            timeouts: 1,
            ..LatencyStats::default()
        }
        .report(&mut report);
        assert_eq!(report.get("esm.latency.enabled_wait"), Some(12.0));
        assert_eq!(report.get("esm.latency.p50"), Some(100.0));
        assert_eq!(report.get("esm.latency.p99"), Some(198.0));
        assert_eq!(report.get("esm.latency.max"), Some(200.0));
        assert_eq!(report.get("esm.latency.min"), Some(1.0));
        assert_eq!(report.get("esm.latency.first"), Some(200.0));
        assert_eq!(report.get("esm.latency.mean"), Some(100.5));
        assert_eq!(report.get("esm.latency.samples"), Some(200.0));
        assert_eq!(report.get("esm.latency.timeouts"), Some(1.0));
        assert_eq!(report.get("esm.latency.put_call_p50"), Some(0.5));

        IngestStats {
            records: 1_000,
            calls: 2,
            call_ms: vec![3.0, 1.0],
            wall: Duration::from_millis(500),
            ..IngestStats::default()
        }
        .report(&mut report, 1_000);
        assert_eq!(report.get("esm.put.rate"), Some(2_000.0));
        assert_eq!(report.get("esm.put.mb_rate"), Some(2.0));
        assert_eq!(report.get("esm.put.call_p50"), Some(1.0));

        DrainStats {
            expected: 100_000,
            size: 1_000,
            first_invoke: Some(Duration::from_millis(500)),
            wall: Some(Duration::from_secs(2)),
            received: 100_000,
            duplicates: 0,
            invocations: 100,
            max_batch: 1_000,
            ..DrainStats::default()
        }
        .report(&mut report);
        assert_eq!(report.get("esm.drain.rate"), Some(50_000.0));
        assert_eq!(report.get("esm.drain.mb_rate"), Some(50.0));
        assert_eq!(report.get("esm.drain.wall"), Some(2.0));
        assert_eq!(report.get("esm.drain.first_invoke"), Some(500.0));
        assert!(
            (report.get("esm.drain.rate_after_first").expect("rate") - 100_000.0 / 1.5).abs()
                < 1e-6
        );
        assert_eq!(report.get("esm.drain.mean_batch"), Some(1_000.0));
        assert_eq!(report.get("esm.drain.out_of_range"), None);

        // An incomplete drain has no rate, but says what arrived.
        let mut partial = Report::new();
        DrainStats {
            expected: 10,
            received: 9,
            ..DrainStats::default()
        }
        .report(&mut partial);
        assert_eq!(partial.get("esm.drain.rate"), None);
        assert_eq!(partial.get("esm.drain.received"), Some(9.0));
    }

    #[test]
    fn json_report_shape() {
        let args = EsmArgs {
            endpoint: super::super::parse_endpoint("http://127.0.0.1:4599").expect("url"),
            records: 10,
            size: 1024,
            shards: 1,
            batch_size: 1000,
            concurrency: 4,
            latency_samples: 200,
            function: "bench".into(),
            function_port: 9555,
            json: true,
            label: Some("sluice-r1".into()),
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            phase_timeout: 300,
            sample_timeout_ms: 10_000,
        };
        let mut report = Report::new();
        report.add("host.loadavg_1m_before", 0.5, "load", 2);
        report.add("esm.latency.p99", 3.456, "ms", 2);
        let info = RunInfo {
            bench: "esm",
            label: args.label.clone(),
            endpoint: args.endpoint.to_string(),
            started_utc: "2026-01-01T00:00:00Z".into(),
            params: args.params_json(),
            resource: Some("sluice-bench-esm-0123abcd".into()),
        };
        let v = report.to_json(&info);
        assert_eq!(v["bench"], "esm");
        assert_eq!(v["params"]["records"], 10);
        assert_eq!(v["params"]["batch_size"], 1000);
        assert_eq!(v["params"]["latency_samples"], 200);
        assert_eq!(v["params"]["function"], "bench");
        assert_eq!(v["params"]["function_port"], 9555);
        assert_eq!(v["params"]["account_id"], "000000000000");
        assert_eq!(
            v["metrics"]["host.loadavg_1m_before"],
            json!({"value": 0.5, "unit": "load"})
        );
        assert_eq!(v["metrics"]["esm.latency.p99"]["value"], 3.46);
        assert!(!v.to_string().contains('\n'));
        assert_eq!(
            args.stream_arn("s"),
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        );
        assert_eq!(args.put_batch(), 500);
        let big = EsmArgs {
            size: 1_048_576,
            ..args.clone()
        };
        assert_eq!(big.put_batch(), 4);
        let huge_batch = EsmArgs { size: 18, ..args };
        assert_eq!(huge_batch.put_batch(), 500);
    }

    #[tokio::test]
    async fn the_function_server_answers_and_books() {
        let state = Arc::new(FunctionState::new(9));
        // Port 0 is refused by the flag but fine here: pick any free port.
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new()
            .fallback(invoke)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let rx = lock(&state.latency).expect(3);
        let body = event(&[id(Kind::Latency, 9, 3).header_base64()]);
        let response = reqwest::Client::new()
            .post(format!("http://{addr}/"))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "{}");
        assert!(rx.await.is_ok());
        server.abort();
    }
}
