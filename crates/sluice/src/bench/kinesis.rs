//! `sluice bench kinesis`: drives any Kinesis-compatible endpoint over JSON 1.1.
//!
//! Phases, each timed with [`Instant`]:
//!
//! 1. **create**: CreateStream `sluice-bench-<uuid8>` with `--shards` shards, then poll
//!    DescribeStreamSummary every 20 ms until ACTIVE (`kinesis.create.active_wait`).
//! 2. **ingest** ([`ingest`]): `--concurrency` tasks claim batches of `--batch` records until
//!    `--records` are stored. Each record carries `--size` random bytes and a random
//!    partition key, so records spread over the shards. Records a PutRecords answer marks
//!    failed (`FailedRecordCount`) are resent, and so are throttled calls; both are counted,
//!    and the backoff before a resend is part of the measured wall time (it is what a
//!    producer would live with).
//! 3. **read-back** ([`read_back`]): one reader per shard, GetShardIterator TRIM_HORIZON
//!    (not timed), then GetRecords (Limit 10,000) until every record is read. A shard is
//!    done when a page is empty with `MillisBehindLatest` 0, or its iterator ends.
//! 4. **latency** ([`latency`]): `--latency-samples` times, PutRecord one record onto the
//!    first shard (`ExplicitHashKey` = its starting hash key), then poll GetRecords on that
//!    shard's iterator (opened at LATEST before the first sample) until a page holds the
//!    record's sequence number; the sample is put-sent → page-received.
//! 5. **delete**: DeleteStream, always, best effort (also after an error or Ctrl-C).
//!
//! # Latency resolution
//!
//! A polling reader cannot see a record the instant it becomes readable: it sees it on the
//! first GetRecords *issued* after that instant, so each sample overestimates the true
//! put→visible time by up to one GetRecords round trip (`kinesis.latency.get_call_p50`
//! tells how much that is). To keep that bound as small as possible the latency reader
//! polls tightly, without sleeping, and gives up on a sample after `--sample-timeout-ms`.
//! The only sleep in that loop is the backoff after a throttled call, and it is counted in
//! the sample (a real consumer would wait too). The figures are therefore an upper bound of
//! the server's visibility delay, plus one PutRecord round trip.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use clap::{Args, value_parser};
use reqwest::Url;
use serde_json::json;
use tokio::task::JoinSet;

use super::kinesis_wire::{
    CallError, JsonString, KinesisClient, PutRecordIn, PutRecordsBody, RecordsPage, Shard,
};
use super::report::{
    Report, RunInfo, interruptible, label_suffix, mean, ms, now_iso8601_utc,
    percentile_nearest_rank, process_cpu_seconds, sort_samples,
};

/// GetRecords page size in the read-back (the API maximum).
const READ_LIMIT: u32 = 10_000;
/// GetRecords page size in the latency reader.
const LATENCY_LIMIT: u32 = 1_000;
/// Poll step while waiting for ACTIVE.
const ACTIVE_POLL: Duration = Duration::from_millis(20);
/// Attempts per batch (first send included) before the ingest gives up.
const MAX_PUT_ATTEMPTS: u32 = 30;
/// Distinct random payloads the ingest cycles through.
const PAYLOADS: usize = 8;

/// `sluice bench kinesis` arguments.
#[derive(Debug, Clone, Args)]
pub struct KinesisArgs {
    /// Kinesis-compatible endpoint, plain HTTP (e.g. http://127.0.0.1:4567).
    #[arg(long, value_parser = super::parse_endpoint)]
    pub endpoint: Url,
    /// Records to put and read back.
    #[arg(long, value_parser = value_parser!(u64).range(1..))]
    pub records: u64,
    /// Data bytes per record (1 B to 1 MiB).
    #[arg(long, default_value_t = 1024, value_parser = value_parser!(u32).range(1..=1_048_576))]
    pub size: u32,
    /// Shards of the benchmark stream.
    #[arg(long, value_parser = value_parser!(u32).range(1..=10_000))]
    pub shards: u32,
    /// Records per PutRecords call (at most 500).
    #[arg(long, default_value_t = 500, value_parser = value_parser!(u32).range(1..=500))]
    pub batch: u32,
    /// Concurrent PutRecords callers in the ingest phase.
    #[arg(long, default_value_t = 4, value_parser = value_parser!(u32).range(1..=1_024))]
    pub concurrency: u32,
    /// Put→visible samples (0 skips the latency phase).
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u32).range(0..=1_000_000))]
    pub latency_samples: u32,
    /// Print one JSON line with every figure on stdout (the table then goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Name of this run in the report (e.g. kinesalite-r1).
    #[arg(long)]
    pub label: Option<String>,
    /// Region in the dummy SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Deadline of each phase (waiting for ACTIVE, ingest, read-back), in seconds.
    #[arg(long, default_value_t = 300, value_parser = value_parser!(u64).range(1..))]
    pub phase_timeout: u64,
    /// Give up on one latency sample after this many milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = value_parser!(u64).range(1..))]
    pub sample_timeout_ms: u64,
}

impl KinesisArgs {
    fn params_json(&self) -> serde_json::Value {
        json!({
            "records": self.records,
            "size": self.size,
            "shards": self.shards,
            "batch": self.batch,
            "concurrency": self.concurrency,
            "latency_samples": self.latency_samples,
            "region": self.region,
            "phase_timeout_s": self.phase_timeout,
            "sample_timeout_ms": self.sample_timeout_ms,
        })
    }

    fn phase_timeout(&self) -> Duration {
        Duration::from_secs(self.phase_timeout)
    }
}

/// Runs the benchmark, prints the report, and fails if a phase failed.
pub async fn run(args: &KinesisArgs) -> anyhow::Result<()> {
    let started_utc = now_iso8601_utc();
    let mut report = Report::new();
    report.add_loadavg("before");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    report.add("host.cpus", cpus as f64, "cpus", 0);

    let pool = args.concurrency as usize + args.shards as usize;
    let client = KinesisClient::new(args.endpoint.clone(), args.region.clone(), pool)?;
    let stream = stream_name();
    tracing::info!(endpoint = %args.endpoint, %stream, "Benchmarking Kinesis.");

    let may_exist = AtomicBool::new(false);
    if interruptible(phases(&client, args, &stream, &may_exist, &mut report)).await {
        report.interrupted();
    }
    if may_exist.load(Ordering::Acquire) {
        match client.delete_stream(&stream).await {
            Ok(()) => tracing::info!(%stream, "Deleted the stream."),
            Err(e) if e.api_kind() == Some("ResourceNotFoundException") => {}
            Err(e) => {
                tracing::warn!(%stream, "DeleteStream failed: {e}");
                report.error("delete", e.to_string());
            }
        }
    }
    report.add_loadavg("after");

    let info = RunInfo {
        bench: "kinesis",
        label: args.label.clone(),
        endpoint: args.endpoint.to_string(),
        started_utc,
        params: args.params_json(),
        resource: Some(stream),
    };
    let heading = format!(
        "# sluice bench kinesis{} endpoint={} records={} size={} shards={} batch={} concurrency={} latency_samples={}\n",
        label_suffix(args.label.as_deref()),
        args.endpoint,
        args.records,
        args.size,
        args.shards,
        args.batch,
        args.concurrency,
        args.latency_samples,
    );
    report.emit(&info, &heading, args.json)
}

/// `sluice-bench-` and 8 hex digits of a v4 UUID.
fn stream_name() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("sluice-bench-{}", &id[..8])
}

/// Runs the phases in order, adding figures and errors to `report`. A failed create stops
/// everything; a failed ingest skips the read-back; the latency phase runs whenever the
/// stream is ACTIVE. `may_exist` is set while CreateStream may have created the stream, so
/// the caller deletes it even if this future is dropped half-way.
async fn phases(
    client: &KinesisClient,
    args: &KinesisArgs,
    stream: &str,
    may_exist: &AtomicBool,
    report: &mut Report,
) {
    let shards = match create(client, args, stream, may_exist).await {
        Ok((wait, shards)) => {
            report.add("kinesis.create.active_wait", ms(wait), "ms", 1);
            shards
        }
        Err(e) => {
            report.error("create", format!("{e:#}"));
            return;
        }
    };

    tracing::info!(records = args.records, "Ingest.");
    match ingest(client, args, stream).await {
        Ok(put) => {
            put.report(report, args.size);
            tracing::info!(records = args.records, "Read-back.");
            match read_back(client, stream, &shards, args.records, args.phase_timeout()).await {
                Ok(got) => {
                    let complete = got.records >= args.records;
                    got.report(report);
                    if !complete {
                        report.error(
                            "readback",
                            format!("read back only {} of {} records", got.records, args.records),
                        );
                    }
                }
                Err(e) => report.error("readback", format!("{e:#}")),
            }
        }
        Err(e) => report.error("ingest", format!("{e:#}")),
    }

    if args.latency_samples > 0 {
        tracing::info!(samples = args.latency_samples, "Latency.");
        let timeout = Duration::from_millis(args.sample_timeout_ms);
        match latency(client, stream, &shards[0], args.latency_samples, timeout).await {
            Ok(lat) => lat.report(report),
            Err(e) => report.error("latency", format!("{e:#}")),
        }
    }
}

/// CreateStream, wait for ACTIVE, ListShards. Returns the wait and the shards.
async fn create(
    client: &KinesisClient,
    args: &KinesisArgs,
    stream: &str,
    may_exist: &AtomicBool,
) -> anyhow::Result<(Duration, Vec<Shard>)> {
    let start = Instant::now();
    let deadline = start + args.phase_timeout();
    may_exist.store(true, Ordering::Release);
    if let Err(e) = client.create_stream(stream, args.shards).await {
        // An error answer or a refused connection created nothing; a lost answer might have.
        let created_nothing = match &e {
            CallError::Api { .. } => true,
            CallError::Transport { source, .. } => source.is_connect(),
            CallError::Json { .. } => false,
        };
        if created_nothing {
            may_exist.store(false, Ordering::Release);
        }
        return Err(e.into());
    }
    loop {
        match client.stream_status(stream).await {
            Ok(status) if status == "ACTIVE" => break,
            Ok(_) => {}
            Err(e) if e.is_retryable() || e.api_kind() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            bail!("stream {stream} not ACTIVE after {} s", args.phase_timeout);
        }
        tokio::time::sleep(ACTIVE_POLL).await;
    }
    let wait = start.elapsed();
    let mut shards = client.list_shards(stream).await?;
    shards.sort_by(|a, b| a.shard_id.cmp(&b.shard_id));
    if shards.is_empty() {
        bail!("ListShards returned no shards for {stream}");
    }
    tracing::info!(
        shards = shards.len(),
        wait_ms = ms(wait) as u64,
        "Stream is ACTIVE."
    );
    Ok((wait, shards))
}

/// Takes up to `batch` records from `remaining`; 0 once nothing is left.
pub fn claim(remaining: &AtomicU64, batch: u64) -> u64 {
    remaining
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
            (left > 0).then(|| left - left.min(batch))
        })
        .map_or(0, |left| left.min(batch))
}

/// Delay before resend number `retry` (1-based) of a batch: the first resend of records a
/// PutRecords answer marked failed goes at once; later ones, and throttled calls, back off
/// exponentially from 5 ms to 500 ms.
pub fn put_backoff(retry: u32, throttled: bool) -> Duration {
    if retry <= 1 && !throttled {
        return Duration::ZERO;
    }
    let exp = retry.saturating_sub(1).min(10);
    Duration::from_millis((5u64 << exp).min(500))
}

/// A small xorshift64* generator for payloads and partition keys: no `rand` dependency,
/// cheap enough to stay out of the measurements.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded from a v4 UUID (the OS's randomness).
    pub fn from_entropy() -> Self {
        Self::new(uuid::Uuid::new_v4().as_u64_pair().0)
    }

    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    /// A random partition key: 16 hex digits (its MD5 spreads records over the shards).
    pub fn partition_key(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}

/// Figures of the ingest phase.
#[derive(Debug, Default)]
struct IngestStats {
    records: u64,
    calls: u64,
    failed_records: u64,
    resend_calls: u64,
    throttled_calls: u64,
    backoff: Duration,
    call_ms: Vec<f64>,
    wall: Duration,
    client_cpu: Option<f64>,
}

impl IngestStats {
    fn merge(&mut self, other: IngestStats) {
        self.records += other.records;
        self.calls += other.calls;
        self.failed_records += other.failed_records;
        self.resend_calls += other.resend_calls;
        self.throttled_calls += other.throttled_calls;
        self.backoff += other.backoff;
        self.call_ms.extend(other.call_ms);
    }

    fn report(mut self, report: &mut Report, size: u32) {
        let secs = self.wall.as_secs_f64();
        let bytes = self.records as f64 * f64::from(size);
        report.add("kinesis.put.records", self.records as f64, "records", 0);
        report.add("kinesis.put.rate", self.records as f64 / secs, "rec/s", 1);
        report.add("kinesis.put.mb_rate", bytes / secs / 1e6, "MB/s", 2);
        report.add(
            "kinesis.put.mib_rate",
            bytes / secs / f64::from(1u32 << 20),
            "MiB/s",
            2,
        );
        report.add("kinesis.put.wall", secs, "s", 3);
        report.add("kinesis.put.calls", self.calls as f64, "calls", 0);
        report.add(
            "kinesis.put.failed_records",
            self.failed_records as f64,
            "records",
            0,
        );
        report.add(
            "kinesis.put.resend_calls",
            self.resend_calls as f64,
            "calls",
            0,
        );
        report.add(
            "kinesis.put.throttled_calls",
            self.throttled_calls as f64,
            "calls",
            0,
        );
        report.add("kinesis.put.backoff", ms(self.backoff), "ms", 1);
        sort_samples(&mut self.call_ms);
        add_percentiles(report, "kinesis.put.call", &self.call_ms);
        if let Some(cpu) = self.client_cpu {
            report.add("kinesis.put.client_cpu", cpu, "s", 2);
        }
    }
}

/// Adds `<prefix>_p50`, `_p99` and `_max` in ms for ascending `sorted`.
fn add_percentiles(report: &mut Report, prefix: &str, sorted: &[f64]) {
    if let (Some(p50), Some(p99), Some(max)) = (
        percentile_nearest_rank(sorted, 50.0),
        percentile_nearest_rank(sorted, 99.0),
        sorted.last(),
    ) {
        report.add(format!("{prefix}_p50"), p50, "ms", 2);
        report.add(format!("{prefix}_p99"), p99, "ms", 2);
        report.add(format!("{prefix}_max"), *max, "ms", 2);
    }
}

struct IngestShared {
    client: KinesisClient,
    stream: JsonString,
    remaining: AtomicU64,
    batch: u64,
    /// Random payloads, base64 and JSON-quoted once.
    payloads: Vec<JsonString>,
    deadline: Instant,
}

/// The ingest phase: `--concurrency` tasks put `--records` records.
async fn ingest(
    client: &KinesisClient,
    args: &KinesisArgs,
    stream: &str,
) -> anyhow::Result<IngestStats> {
    let mut rng = XorShift::from_entropy();
    let engine = base64::engine::general_purpose::STANDARD;
    let payloads = (0..PAYLOADS)
        .map(|_| {
            let mut data = vec![0u8; args.size as usize];
            rng.fill(&mut data);
            JsonString::new(&engine.encode(data))
        })
        .collect();
    let shared = Arc::new(IngestShared {
        client: client.clone(),
        stream: JsonString::new(stream),
        remaining: AtomicU64::new(args.records),
        batch: u64::from(args.batch),
        payloads,
        deadline: Instant::now() + args.phase_timeout(),
    });

    let cpu0 = process_cpu_seconds();
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..args.concurrency {
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
    total.client_cpu = cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a);
    if total.records != args.records {
        bail!("stored {} of {} records", total.records, args.records);
    }
    Ok(total)
}

/// One ingest caller: claim a batch, put it, resend what failed, repeat.
async fn ingest_task(shared: &IngestShared) -> anyhow::Result<IngestStats> {
    let mut rng = XorShift::from_entropy();
    let mut stats = IngestStats::default();
    let mut next_payload = rng.next_u64() as usize;
    loop {
        let n = claim(&shared.remaining, shared.batch);
        if n == 0 {
            return Ok(stats);
        }
        // (payload index, partition key) of the records still to store.
        let mut pending: Vec<(usize, String)> = (0..n)
            .map(|_| {
                next_payload = next_payload.wrapping_add(1);
                (next_payload % shared.payloads.len(), rng.partition_key())
            })
            .collect();
        let mut attempts = 0u32;
        while !pending.is_empty() {
            if Instant::now() >= shared.deadline {
                bail!("phase deadline reached with records still to put");
            }
            attempts += 1;
            let record_bytes = shared.payloads[0].as_str().len() + 48;
            let mut body = PutRecordsBody::new(&shared.stream, pending.len() * record_bytes);
            for (payload, key) in &pending {
                body.push(&shared.payloads[*payload], key);
            }
            let body = body.finish();
            let sent = Instant::now();
            let result = shared.client.put_records(body).await;
            stats.call_ms.push(ms(sent.elapsed()));
            stats.calls += 1;
            if attempts > 1 {
                stats.resend_calls += 1;
            }
            let throttled = match result {
                Ok(out) => {
                    if out.failed_record_count == 0 {
                        pending.clear();
                    } else {
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
                    }
                    false
                }
                Err(e) if e.is_retryable() => {
                    stats.throttled_calls += 1;
                    tracing::debug!("PutRecords throttled: {e}");
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
                    stats.backoff += pause;
                    tokio::time::sleep(pause).await;
                }
            }
        }
        stats.records += n;
    }
}

/// Figures of the read-back phase.
#[derive(Debug, Default)]
struct ReadStats {
    records: u64,
    data_bytes: u64,
    calls: u64,
    empty_calls: u64,
    throttled_calls: u64,
    wall: Duration,
    client_cpu: Option<f64>,
}

impl ReadStats {
    fn merge(&mut self, other: ReadStats) {
        self.records += other.records;
        self.data_bytes += other.data_bytes;
        self.calls += other.calls;
        self.empty_calls += other.empty_calls;
        self.throttled_calls += other.throttled_calls;
    }

    fn report(&self, report: &mut Report) {
        let secs = self.wall.as_secs_f64();
        report.add("kinesis.get.records", self.records as f64, "records", 0);
        report.add("kinesis.get.rate", self.records as f64 / secs, "rec/s", 1);
        report.add(
            "kinesis.get.mb_rate",
            self.data_bytes as f64 / secs / 1e6,
            "MB/s",
            2,
        );
        report.add("kinesis.get.wall", secs, "s", 3);
        report.add("kinesis.get.calls", self.calls as f64, "calls", 0);
        report.add(
            "kinesis.get.empty_calls",
            self.empty_calls as f64,
            "calls",
            0,
        );
        report.add(
            "kinesis.get.throttled_calls",
            self.throttled_calls as f64,
            "calls",
            0,
        );
        if let Some(cpu) = self.client_cpu {
            report.add("kinesis.get.client_cpu", cpu, "s", 2);
        }
    }
}

/// The read-back phase: one reader per shard from TRIM_HORIZON until `expected` records
/// have been read in all, or every shard is drained, or the deadline passes.
async fn read_back(
    client: &KinesisClient,
    stream: &str,
    shards: &[Shard],
    expected: u64,
    timeout: Duration,
) -> anyhow::Result<ReadStats> {
    let mut iterators = Vec::with_capacity(shards.len());
    for shard in shards {
        iterators.push(
            client
                .shard_iterator(stream, &shard.shard_id, "TRIM_HORIZON")
                .await?,
        );
    }
    let read = Arc::new(AtomicU64::new(0));
    let cpu0 = process_cpu_seconds();
    let start = Instant::now();
    let deadline = start + timeout;
    let mut tasks = JoinSet::new();
    for iterator in iterators {
        let (client, read) = (client.clone(), Arc::clone(&read));
        tasks.spawn(async move { read_shard(&client, iterator, &read, expected, deadline).await });
    }
    let mut total = ReadStats::default();
    while let Some(joined) = tasks.join_next().await {
        match joined.context("reader task panicked").and_then(|r| r) {
            Ok(stats) => total.merge(stats),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
    total.wall = start.elapsed();
    total.client_cpu = cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a);
    Ok(total)
}

/// Whether a reader is done with its shard after `page`.
fn shard_drained(page: &RecordsPage) -> bool {
    page.next_shard_iterator.is_none()
        || (page.records == 0 && page.millis_behind_latest == Some(0))
}

async fn read_shard(
    client: &KinesisClient,
    mut iterator: String,
    read: &AtomicU64,
    expected: u64,
    deadline: Instant,
) -> anyhow::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut throttle_streak = 0u32;
    while read.load(Ordering::Acquire) < expected && Instant::now() < deadline {
        let page = match client.get_records(&iterator, READ_LIMIT, None).await {
            Ok(page) => page,
            Err(e) if e.is_retryable() => {
                stats.throttled_calls += 1;
                throttle_streak += 1;
                tokio::time::sleep(put_backoff(throttle_streak, true)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        throttle_streak = 0;
        stats.calls += 1;
        stats.records += page.records;
        stats.data_bytes += page.data_bytes;
        read.fetch_add(page.records, Ordering::AcqRel);
        if page.records == 0 {
            stats.empty_calls += 1;
        }
        if shard_drained(&page) {
            break;
        }
        if page.records == 0 && page.millis_behind_latest.is_none() {
            // The server does not say whether more is coming: do not spin on it.
            tokio::time::sleep(ACTIVE_POLL).await;
        }
        if let Some(next) = page.next_shard_iterator {
            iterator = next;
        }
    }
    Ok(stats)
}

/// Figures of the latency phase, in ms.
#[derive(Debug, Default)]
struct LatencyStats {
    samples_ms: Vec<f64>,
    put_call_ms: Vec<f64>,
    get_call_ms: Vec<f64>,
    polls: Vec<f64>,
    timeouts: u64,
    throttled_calls: u64,
}

impl LatencyStats {
    fn report(mut self, report: &mut Report) {
        sort_samples(&mut self.samples_ms);
        if let (Some(p50), Some(p99), Some(max), Some(avg)) = (
            percentile_nearest_rank(&self.samples_ms, 50.0),
            percentile_nearest_rank(&self.samples_ms, 99.0),
            self.samples_ms.last().copied(),
            mean(&self.samples_ms),
        ) {
            report.add("kinesis.latency.p50", p50, "ms", 2);
            report.add("kinesis.latency.p99", p99, "ms", 2);
            report.add("kinesis.latency.max", max, "ms", 2);
            report.add("kinesis.latency.mean", avg, "ms", 2);
        }
        report.add(
            "kinesis.latency.samples",
            self.samples_ms.len() as f64,
            "samples",
            0,
        );
        report.add(
            "kinesis.latency.timeouts",
            self.timeouts as f64,
            "samples",
            0,
        );
        if let Some(polls) = mean(&self.polls) {
            report.add("kinesis.latency.polls_per_sample", polls, "polls", 2);
        }
        sort_samples(&mut self.put_call_ms);
        sort_samples(&mut self.get_call_ms);
        if let Some(p50) = percentile_nearest_rank(&self.put_call_ms, 50.0) {
            report.add("kinesis.latency.put_call_p50", p50, "ms", 2);
        }
        if let Some(p50) = percentile_nearest_rank(&self.get_call_ms, 50.0) {
            report.add("kinesis.latency.get_call_p50", p50, "ms", 2);
        }
        report.add(
            "kinesis.latency.throttled_calls",
            self.throttled_calls as f64,
            "calls",
            0,
        );
    }
}

/// The latency phase; see the module docs for what a sample measures and its resolution.
async fn latency(
    client: &KinesisClient,
    stream: &str,
    shard: &Shard,
    samples: u32,
    sample_timeout: Duration,
) -> anyhow::Result<LatencyStats> {
    let engine = base64::engine::general_purpose::STANDARD;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut iterator = client
        .shard_iterator(stream, &shard.shard_id, "LATEST")
        .await?;
    let mut stats = LatencyStats::default();
    for i in 0..samples {
        let data = engine.encode(format!("sluice-bench-latency-{run_id}-{i}"));
        let input = PutRecordIn {
            stream_name: stream,
            data: &data,
            partition_key: "latency",
            explicit_hash_key: Some(&shard.hash_key_range.starting_hash_key),
        };
        let t0 = Instant::now();
        let mut throttle_streak = 0u32;
        let put = loop {
            let sent = Instant::now();
            match client.put_record(&input).await {
                Ok(put) => {
                    stats.put_call_ms.push(ms(sent.elapsed()));
                    break put;
                }
                Err(e) if e.is_retryable() && t0.elapsed() < sample_timeout => {
                    stats.throttled_calls += 1;
                    throttle_streak += 1;
                    tokio::time::sleep(put_backoff(throttle_streak, true)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        if put.shard_id != shard.shard_id {
            bail!(
                "PutRecord with ExplicitHashKey {} landed on {}, not {}",
                shard.hash_key_range.starting_hash_key,
                put.shard_id,
                shard.shard_id
            );
        }
        let mut polls = 0u32;
        throttle_streak = 0;
        loop {
            let sent = Instant::now();
            let page = match client
                .get_records(&iterator, LATENCY_LIMIT, Some(&put.sequence_number))
                .await
            {
                Ok(page) => page,
                Err(e) if e.is_retryable() => {
                    // Counted in the sample: the reader could not look any sooner.
                    stats.throttled_calls += 1;
                    throttle_streak += 1;
                    tokio::time::sleep(put_backoff(throttle_streak, true)).await;
                    if t0.elapsed() > sample_timeout {
                        stats.timeouts += 1;
                        break;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let elapsed = t0.elapsed();
            stats.get_call_ms.push(ms(sent.elapsed()));
            throttle_streak = 0;
            polls += 1;
            iterator = page.next_shard_iterator.ok_or_else(|| {
                anyhow!(
                    "GetRecords ended the iterator of open shard {}",
                    shard.shard_id
                )
            })?;
            if page.found {
                stats.samples_ms.push(ms(elapsed));
                stats.polls.push(f64::from(polls));
                break;
            }
            if elapsed > sample_timeout {
                stats.timeouts += 1;
                break;
            }
        }
    }
    if stats.samples_ms.is_empty() {
        bail!("no record became visible within {sample_timeout:?} in {samples} samples");
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_cover_the_total_exactly() {
        let remaining = AtomicU64::new(1_234);
        let mut claimed = Vec::new();
        loop {
            let n = claim(&remaining, 500);
            if n == 0 {
                break;
            }
            claimed.push(n);
        }
        assert_eq!(claimed, [500, 500, 234]);
        assert_eq!(claim(&remaining, 500), 0);
    }

    #[test]
    fn concurrent_claims_never_overshoot() {
        let remaining = Arc::new(AtomicU64::new(100_003));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let remaining = Arc::clone(&remaining);
                std::thread::spawn(move || {
                    let mut total = 0;
                    loop {
                        match claim(&remaining, 7) {
                            0 => return total,
                            n => total += n,
                        }
                    }
                })
            })
            .collect();
        let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
        assert_eq!(total, 100_003);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(put_backoff(1, false), Duration::ZERO);
        assert_eq!(put_backoff(1, true), Duration::from_millis(5));
        assert_eq!(put_backoff(2, false), Duration::from_millis(10));
        assert_eq!(put_backoff(3, true), Duration::from_millis(20));
        assert_eq!(put_backoff(30, true), Duration::from_millis(500));
        assert_eq!(put_backoff(u32::MAX, true), Duration::from_millis(500));
    }

    #[test]
    fn stream_names_are_valid_kinesis_names() {
        let name = stream_name();
        assert_eq!(name.len(), "sluice-bench-".len() + 8);
        assert!(name.starts_with("sluice-bench-"));
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        );
        assert_ne!(stream_name(), name);
    }

    #[test]
    fn random_keys_and_payloads() {
        let mut rng = XorShift::new(42);
        let keys: std::collections::HashSet<String> =
            (0..1_000).map(|_| rng.partition_key()).collect();
        assert_eq!(keys.len(), 1_000);
        assert!(keys.iter().all(|k| k.len() == 16));
        let mut buf = [0u8; 13];
        rng.fill(&mut buf);
        assert!(buf.iter().any(|&b| b != 0));
        // Deterministic for a seed.
        assert_eq!(XorShift::new(7).next_u64(), XorShift::new(7).next_u64());
    }

    #[test]
    fn drained_shards() {
        let page = |records, next: Option<&str>, behind| RecordsPage {
            records,
            data_bytes: 0,
            found: false,
            next_shard_iterator: next.map(str::to_owned),
            millis_behind_latest: behind,
        };
        assert!(shard_drained(&page(0, Some("i"), Some(0))));
        assert!(shard_drained(&page(5, None, Some(0))));
        assert!(!shard_drained(&page(5, Some("i"), Some(0))));
        assert!(!shard_drained(&page(0, Some("i"), Some(1_000))));
        assert!(!shard_drained(&page(0, Some("i"), None)));
    }

    #[test]
    fn ingest_and_latency_figures() {
        let mut report = Report::new();
        IngestStats {
            records: 1_000,
            calls: 3,
            failed_records: 10,
            resend_calls: 1,
            call_ms: vec![3.0, 1.0, 2.0],
            wall: Duration::from_millis(500),
            client_cpu: Some(0.1),
            ..IngestStats::default()
        }
        .report(&mut report, 1_000);
        assert_eq!(report.get("kinesis.put.rate"), Some(2_000.0));
        assert_eq!(report.get("kinesis.put.mb_rate"), Some(2.0));
        assert_eq!(report.get("kinesis.put.call_p50"), Some(2.0));
        assert_eq!(report.get("kinesis.put.call_max"), Some(3.0));
        LatencyStats {
            samples_ms: (1..=100).rev().map(f64::from).collect(),
            polls: vec![1.0, 3.0],
            ..LatencyStats::default()
        }
        .report(&mut report);
        assert_eq!(report.get("kinesis.latency.p50"), Some(50.0));
        assert_eq!(report.get("kinesis.latency.p99"), Some(99.0));
        assert_eq!(report.get("kinesis.latency.max"), Some(100.0));
        assert_eq!(report.get("kinesis.latency.mean"), Some(50.5));
        assert_eq!(report.get("kinesis.latency.samples"), Some(100.0));
        assert_eq!(report.get("kinesis.latency.polls_per_sample"), Some(2.0));
    }
}
