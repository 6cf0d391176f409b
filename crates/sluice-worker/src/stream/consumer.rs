//! One shard's consumer: read, filter, batch, invoke, apply the failure policy, checkpoint.
//!
//! Invariants:
//! - A record is checkpointed only once it and every record before it in the shard is
//!   settled (completed, filtered out, or discarded to the on-failure destination).
//! - Records with the same partition key are invoked in order, never concurrently; with a
//!   ParallelizationFactor of N, up to N lanes of one shard are in flight at once.
//! - A batch in flight finishes (and checkpoints) before the consumer stops.
//! - Waiting costs nothing: the consumer sleeps on the reader's append notification, the
//!   batching window's deadline, a settings change, or shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sluice_core::activity::ActivityToken;
use sluice_core::consumer::{ConsumerEvent, ConsumerState};
use sluice_core::filter::FilterSet;
use sluice_core::function::{Invocation, InvokeError, InvokeRequest};
use sluice_core::mapping::{EventSourceMapping, StartingPosition};
use sluice_core::source::{Checkpoint, Cursor, RecordContext, SourceError, StartAt};
use sluice_core::stream::destination::{RequestContext, ResponseContext, failure_record};
use sluice_core::stream::event::{WindowContext, batch_event, record_cost, window_event};
use sluice_core::stream::response::parse_window_response;
use sluice_core::stream::window::{state_too_large, window_of};
use sluice_core::stream::{
    BatchInfo, BatchLimits, BatchResponse, BatchWork, Batcher, CheckpointTracker, Discarded,
    FailurePolicy, Lanes, Outcome, Settled, Step, StreamRecord, StreamSource,
    parse_batch_item_failures,
};
use tokio::sync::watch;

use super::runner::RunnerDeps;
use crate::Shutdown;
use crate::now_ms;

/// Why a consumer stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerExit {
    /// Every record of the closed shard is processed; `ShardEnd` is checkpointed.
    ShardEnd,
    /// Asked to stop (disable, delete, shutdown).
    Requested,
    /// The source failed in a way retrying will not fix (the stream was deleted).
    Failed(String),
}

/// Shared by the consumers of one mapping: the last LastProcessingResult written, so
/// unchanged results cost no write.
pub type LastResult = Arc<Mutex<Option<String>>>;

pub struct ShardConsumer {
    pub deps: RunnerDeps,
    pub mapping: watch::Receiver<EventSourceMapping>,
    pub shard_id: String,
    pub has_parents: bool,
    pub context: RecordContext,
    pub source: StreamSource,
    pub last_result: LastResult,
    /// The consumer's shutdown, for the pauses inside a batch (set when `run` starts).
    pub stop: Option<Shutdown>,
    /// Busy from the start; idle only while caught up with nothing in hand.
    pub token: ActivityToken,
}

/// A record waiting in the batcher: its tracker ordinal and the record.
type Pending = (u64, StreamRecord);

/// A tumbling window in progress on this shard. Its records are checkpointed only once the
/// window's final invocation succeeds; the state lives in memory (as on AWS, a restart
/// replays the window from the last checkpoint with a fresh state).
struct OpenWindow {
    bounds: (u64, u64),
    state: serde_json::Value,
    /// Records invoked (or discarded) in this window, awaiting the final invocation.
    ordinals: Vec<u64>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.min(6);
    (BACKOFF_MIN * factor).min(BACKOFF_MAX)
}

/// The settings a consumer applies, derived once per mapping snapshot.
struct Settings {
    mapping: EventSourceMapping,
    filters: FilterSet,
    policy: FailurePolicy,
    lanes: Lanes,
    limits: BatchLimits,
    /// `TumblingWindowInSeconds`; zero for none.
    tumbling: Duration,
}

impl Settings {
    fn of(mapping: EventSourceMapping) -> Self {
        let s = &mapping.settings;
        let stream = s.stream.clone();
        // Patterns were validated at Create/Update; an unparsable one cannot be stored.
        let filters =
            FilterSet::parse(s.filter_patterns.iter().map(String::as_str)).unwrap_or_default();
        let factor = stream
            .as_ref()
            .map_or(1, |t| t.parallelization_factor.max(1));
        let batch = usize::try_from(s.batch_size).unwrap_or(usize::MAX);
        Self {
            policy: FailurePolicy {
                maximum_retry_attempts: stream.as_ref().and_then(|t| t.maximum_retry_attempts),
                maximum_record_age: stream.as_ref().and_then(|t| t.maximum_record_age),
                bisect_batch_on_function_error: stream
                    .as_ref()
                    .is_some_and(|t| t.bisect_batch_on_function_error),
                report_batch_item_failures: s.report_batch_item_failures,
            },
            lanes: Lanes::new(factor),
            tumbling: stream
                .as_ref()
                .map_or(Duration::ZERO, |t| t.tumbling_window),
            limits: BatchLimits::stream_event(batch, s.maximum_batching_window),
            filters,
            mapping,
        }
    }

    fn read_size(&self) -> usize {
        self.limits
            .max_records
            .saturating_mul(self.lanes.count() as usize)
            .max(1)
    }
}

impl ShardConsumer {
    /// Runs the shard from Initializing to Done (the runner held it in WaitingOnParents
    /// until its parents were done).
    pub async fn run(self, shutdown: Shutdown) -> ConsumerExit {
        let uuid = self.mapping.borrow().uuid.clone();
        let shard = self.shard_id.clone();
        let state = ConsumerState::WaitingOnParents.on(ConsumerEvent::ParentsDone);
        tracing::debug!(mapping_id = %uuid, shard_id = %shard, state = state.as_str(), "Consumer state.");
        let exit = self.process_shard(shutdown).await;
        let events: &[ConsumerEvent] = match &exit {
            ConsumerExit::ShardEnd => &[ConsumerEvent::CursorOpened, ConsumerEvent::ShardEnded],
            ConsumerExit::Requested => &[ConsumerEvent::StopRequested],
            ConsumerExit::Failed(_) => &[ConsumerEvent::Failed],
        };
        let shutting = events.iter().fold(state, |s, e| s.on(*e));
        tracing::debug!(mapping_id = %uuid, shard_id = %shard, state = shutting.as_str(), "Consumer state.");
        let done = shutting.on(ConsumerEvent::Finished);
        tracing::debug!(mapping_id = %uuid, shard_id = %shard, state = done.as_str(), "Consumer state.");
        exit
    }

    async fn process_shard(mut self, mut shutdown: Shutdown) -> ConsumerExit {
        self.stop = Some(shutdown.clone());
        let uuid = self.mapping.borrow().uuid.clone();
        let shard = self.shard_id.clone();
        // Initializing.
        let store = self.deps.store.clone();
        let (u, s) = (uuid.clone(), shard.clone());
        let checkpoint =
            match tokio::task::spawn_blocking(move || store.get_checkpoint(&u, &s)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return ConsumerExit::Failed(e.to_string()),
                Err(e) => return ConsumerExit::Failed(e.to_string()),
            };
        let start = match &checkpoint {
            Some(Checkpoint::ShardEnd) => return ConsumerExit::ShardEnd,
            Some(Checkpoint::After(seq)) => StartAt::AfterSequence(seq.clone()),
            Some(Checkpoint::At(at)) => at.clone(),
            None if self.has_parents => StartAt::TrimHorizon,
            None => {
                let m = self.mapping.borrow();
                match m
                    .settings
                    .stream
                    .as_ref()
                    .map(|t| (t.starting_position, t.starting_position_timestamp))
                {
                    Some((StartingPosition::TrimHorizon, _)) | None => StartAt::TrimHorizon,
                    Some((StartingPosition::Latest, _)) => StartAt::Latest,
                    Some((StartingPosition::AtTimestamp, ts)) => {
                        StartAt::AtTimestamp((ts.unwrap_or(0.0) * 1000.0).max(0.0) as u64)
                    }
                }
            }
        };
        let mut failures = 0u32;
        let mut cursor = loop {
            match self.deps.reader.open(&shard, &start).await {
                Ok(c) => break c,
                Err(e) if e.is_retryable() => {
                    failures += 1;
                    tokio::select! {
                        () = tokio::time::sleep(backoff(failures)) => {}
                        () = shutdown.recv() => return ConsumerExit::Requested,
                    }
                }
                Err(e) => return ConsumerExit::Failed(e.to_string()),
            }
        };
        let resumed = match checkpoint {
            Some(Checkpoint::After(seq)) => Some(seq),
            _ => None,
        };
        let mut tracker = CheckpointTracker::new(resumed);
        let mut settings = Settings::of(self.mapping.borrow_and_update().clone());
        let mut batcher: Batcher<Pending> = Batcher::new(settings.limits);
        let mut ended = false;
        let mut window: Option<OpenWindow> = None;
        tracing::debug!(mapping_id = %uuid, shard_id = %shard, "Consumer processing.");

        // Processing.
        loop {
            if self.mapping.has_changed().unwrap_or(false) {
                settings = Settings::of(self.mapping.borrow_and_update().clone());
                batcher.set_limits(settings.limits);
            }
            let now = now_ms();
            if !batcher.is_empty() && (batcher.is_ready(now) || ended) {
                let batch: Vec<Pending> = batcher.take(now);
                tracing::trace!(mapping_id = %uuid, shard_id = %shard, records = batch.len(), "Batch taken.");
                if settings.tumbling.is_zero() {
                    self.process(&settings, batch, &mut tracker).await;
                } else {
                    self.process_windowed(&settings, batch, &mut tracker, &mut window)
                        .await;
                }
                continue;
            }
            // A window whose time is up (or whose shard ended) gets its final invocation.
            if let Some(w) = &window
                && (ended || now_ms() >= w.bounds.1)
            {
                let w = window.take();
                self.close_window(&settings, w, false, &mut tracker).await;
                continue;
            }
            if ended {
                // Every record is settled; the tracker holds nothing in flight.
                if let Err(e) = self.write_checkpoint(&uuid, Checkpoint::ShardEnd).await {
                    return ConsumerExit::Failed(e);
                }
                tracing::info!(mapping_id = %uuid, shard_id = %shard, "Shard fully processed.");
                return ConsumerExit::ShardEnd;
            }
            if shutdown.is_fired() {
                return ConsumerExit::Requested;
            }
            let want = settings.read_size().saturating_sub(batcher.len()).max(1);
            let with_views = !settings.filters.is_empty();
            let read = match self
                .deps
                .reader
                .read(&cursor, want, &self.context, with_views)
                .await
            {
                Ok(r) => r,
                Err(SourceError::NotFound(m)) => {
                    self.set_result(format!("PROBLEM: {m}")).await;
                    return ConsumerExit::Failed(m);
                }
                Err(SourceError::Transient(m)) => {
                    tracing::warn!(mapping_id = %uuid, shard_id = %shard, error = %m, "Read failed; retrying.");
                    failures += 1;
                    tokio::select! {
                        () = tokio::time::sleep(backoff(failures)) => {}
                        () = shutdown.recv() => return ConsumerExit::Requested,
                    }
                    continue;
                }
            };
            failures = 0;
            let got = read.records.len();
            tracing::trace!(mapping_id = %uuid, shard_id = %shard, records = got, ended = read.shard_ended, "Read.");
            let now = now_ms();
            let mut filtered = Vec::new();
            let views = read.filter_views;
            for (i, record) in read.records.into_iter().enumerate() {
                let ordinal = tracker.register(record.sequence_number.clone());
                let keep = !with_views || views.get(i).is_some_and(|v| settings.filters.matches(v));
                if keep {
                    let size = record_cost(record.event_size);
                    batcher.push((ordinal, record), size, now);
                } else {
                    filtered.push(ordinal);
                }
            }
            if !filtered.is_empty() && tracker.complete(filtered) {
                self.checkpoint_progress(&uuid, &tracker).await;
            }
            cursor = read.next;
            ended = read.shard_ended;
            if got > 0 || ended {
                continue;
            }
            // Nothing new: wait for an append, the batching window's or the tumbling window's
            // end, a settings change, or shutdown.
            let deadline = match (batcher.deadline(), window.as_ref().map(|w| w.bounds.1)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if batcher.is_empty() && window.is_none() {
                // Caught up with nothing in hand: idle while nothing lies past the cursor.
                let (reader, at) = (self.deps.reader.clone(), cursor.clone());
                self.token.idle(move || reader.caught_up(&at));
            }
            self.wait(&cursor, deadline, &mut shutdown).await;
            self.token.busy();
        }
    }

    /// Sleeps `d` unless asked to stop first; false when stopping (the caller abandons the
    /// batch: nothing of it is checkpointed, so it is delivered again later).
    async fn pause(&self, d: Duration) -> bool {
        let Some(mut stop) = self.stop.clone() else {
            tokio::time::sleep(d).await;
            return true;
        };
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = stop.recv() => false,
        }
    }

    async fn wait(&mut self, cursor: &Cursor, deadline: Option<u64>, shutdown: &mut Shutdown) {
        let window = async {
            match deadline {
                Some(at) => {
                    tokio::time::sleep(Duration::from_millis(at.saturating_sub(now_ms()))).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = self.deps.reader.wait(cursor) => {}
            () = window => {}
            _ = self.mapping.changed() => {}
            () = shutdown.recv() => {}
        }
    }

    /// Invokes a taken batch, lane by lane, and settles every record of it.
    async fn process(
        &self,
        settings: &Settings,
        batch: Vec<Pending>,
        tracker: &mut CheckpointTracker,
    ) {
        let uuid = settings.mapping.uuid.clone();
        let lanes = if settings.lanes.count() > 1 {
            settings
                .lanes
                .split(batch, |(_, r): &Pending| r.partition_key.as_str())
        } else {
            vec![batch]
        };
        let max = settings.limits.max_records.max(1);
        let mut runs = Vec::new();
        for lane in lanes.into_iter().filter(|l| !l.is_empty()) {
            runs.push(async move {
                let mut done = Vec::new();
                let mut rest = lane;
                while !rest.is_empty() {
                    let tail = rest.split_off(rest.len().min(max));
                    done.extend(self.invoke_batch(settings, rest).await);
                    rest = tail;
                }
                done
            });
        }
        let mut settled = Vec::new();
        for done in join_all(runs).await {
            settled.extend(done);
        }
        if tracker.complete(settled) {
            self.checkpoint_progress(&uuid, tracker).await;
        }
    }

    /// Invokes a taken batch under tumbling windows: records go in window order, a batch
    /// never spans two windows, and a window's final invocation comes before the next one
    /// opens.
    async fn process_windowed(
        &self,
        settings: &Settings,
        batch: Vec<Pending>,
        tracker: &mut CheckpointTracker,
        window: &mut Option<OpenWindow>,
    ) {
        let max = settings.limits.max_records.max(1);
        let mut rest = batch;
        while !rest.is_empty() {
            let bounds = window_of(rest[0].1.arrival_ms, settings.tumbling);
            let same = rest
                .iter()
                .take(max)
                .take_while(|(_, r)| window_of(r.arrival_ms, settings.tumbling) == bounds)
                .count();
            let tail = rest.split_off(same);
            if window.as_ref().is_some_and(|w| w.bounds != bounds) {
                let done = window.take();
                self.close_window(settings, done, false, tracker).await;
            }
            let open = window.get_or_insert_with(|| OpenWindow {
                bounds,
                state: serde_json::json!({}),
                ordinals: Vec::new(),
            });
            let settled = self.invoke_batch_in(settings, rest, Some(open)).await;
            open.ordinals.extend(settled);
            if state_too_large(&open.state) {
                let done = window.take();
                self.close_window(settings, done, true, tracker).await;
            }
            rest = tail;
        }
    }

    /// The window's final invocation (no records, `isFinalInvokeForWindow`), retried under
    /// the mapping's retry limit; then its records are checkpointed and its state dropped.
    async fn close_window(
        &self,
        settings: &Settings,
        window: Option<OpenWindow>,
        terminated_early: bool,
        tracker: &mut CheckpointTracker,
    ) {
        let Some(w) = window else {
            return;
        };
        let payload = window_event(
            std::iter::empty::<&serde_json::Value>(),
            &WindowContext {
                window: w.bounds,
                state: &w.state,
                shard_id: &self.shard_id,
                event_source_arn: &self.context.event_source_arn,
                is_final_invoke_for_window: true,
                is_window_terminated_early: terminated_early,
            },
        );
        let mut failures = 0u32;
        loop {
            let ok = match self.invoke(settings, payload.clone()).await {
                Ok((Invocation::Ok(body), _)) => parse_window_response(&body, &[]).is_ok(),
                Ok((Invocation::FunctionError { .. }, _)) => false,
                Err(problem) => {
                    self.set_result(format!("PROBLEM: {problem}")).await;
                    if !self.pause(backoff(failures + 1)).await {
                        return;
                    }
                    continue;
                }
            };
            if ok {
                self.set_result("OK".into()).await;
                break;
            }
            failures += 1;
            self.set_result("PROBLEM: Function call failed".into())
                .await;
            let exhausted = settings
                .policy
                .maximum_retry_attempts
                .is_some_and(|max| failures > max);
            if exhausted {
                tracing::warn!(mapping_id = %settings.mapping.uuid, shard_id = %self.shard_id,
                    "Final window invocation failed; window closed without it.");
                break;
            }
            if !self.pause(backoff(failures)).await {
                return;
            }
        }
        if tracker.complete(w.ordinals) {
            self.checkpoint_progress(&settings.mapping.uuid, tracker)
                .await;
        }
    }

    /// Works one batch through the failure policy; returns the ordinals it settled. With a
    /// tumbling window, the event carries the window and its state, and the function's
    /// answer must carry the next state (or it is a failed invocation).
    async fn invoke_batch(&self, settings: &Settings, batch: Vec<Pending>) -> Vec<u64> {
        self.invoke_batch_in(settings, batch, None).await
    }

    async fn invoke_batch_in(
        &self,
        settings: &Settings,
        batch: Vec<Pending>,
        mut window: Option<&mut OpenWindow>,
    ) -> Vec<u64> {
        let records: Vec<StreamRecord> = batch.iter().map(|(_, r)| r.clone()).collect();
        let ordinals: Vec<u64> = batch.iter().map(|(o, _)| *o).collect();
        let mut work = BatchWork::new(settings.policy, records.len());
        let mut infra_failures = 0u32;
        loop {
            let step = work.next(now_ms(), |i| records.get(i).map_or(0, |r| r.arrival_ms));
            match step {
                Step::Done => break,
                Step::Expired(d) => {
                    if !self
                        .discard(settings, &records, &d, None, &uuid_string())
                        .await
                    {
                        return Vec::new();
                    }
                }
                Step::Invoke(range) => {
                    let slice = &records[range.clone()];
                    let payload = match window.as_deref() {
                        None => batch_event(slice.iter().map(|r| &r.event)),
                        Some(w) => window_event(
                            slice.iter().map(|r| &r.event),
                            &WindowContext {
                                window: w.bounds,
                                state: &w.state,
                                shard_id: &self.shard_id,
                                event_source_arn: &self.context.event_source_arn,
                                is_final_invoke_for_window: false,
                                is_window_terminated_early: false,
                            },
                        ),
                    };
                    let request_id = uuid_string();
                    match self.invoke(settings, payload).await {
                        Err(problem) => {
                            // The function did not run: retry without counting.
                            infra_failures += 1;
                            self.set_result(format!("PROBLEM: {problem}")).await;
                            if !self.pause(backoff(infra_failures)).await {
                                return Vec::new();
                            }
                            continue;
                        }
                        Ok((invocation, executed_version)) => {
                            infra_failures = 0;
                            let response;
                            let outcome = match &invocation {
                                Invocation::Ok(body) => {
                                    response = Some(ResponseContext {
                                        status_code: 200,
                                        executed_version: executed_version.clone(),
                                        function_error: None,
                                    });
                                    let seqs: Vec<&str> =
                                        slice.iter().map(|r| r.sequence_number.as_str()).collect();
                                    match window.as_deref_mut() {
                                        Some(w) => match parse_window_response(body, &seqs) {
                                            // A window answer without state is a failure.
                                            Err(_) => Outcome::FunctionError,
                                            Ok(answer) => {
                                                w.state = answer.state;
                                                if settings.policy.report_batch_item_failures {
                                                    Outcome::from_response(answer.items)
                                                } else {
                                                    Outcome::Success
                                                }
                                            }
                                        },
                                        None if settings.policy.report_batch_item_failures => {
                                            match parse_batch_item_failures(body, &seqs) {
                                                BatchResponse::Success => Outcome::Success,
                                                other => Outcome::from_response(other),
                                            }
                                        }
                                        None => Outcome::Success,
                                    }
                                }
                                Invocation::FunctionError { .. } => {
                                    response = Some(ResponseContext {
                                        status_code: 200,
                                        executed_version: executed_version.clone(),
                                        function_error: Some("Unhandled".into()),
                                    });
                                    Outcome::FunctionError
                                }
                            };
                            let ok = outcome == Outcome::Success;
                            self.set_result(if ok {
                                "OK".into()
                            } else {
                                "PROBLEM: Function call failed".into()
                            })
                            .await;
                            for settled in work.record(outcome) {
                                if let Settled::Discarded(d) = settled
                                    && !self
                                        .discard(
                                            settings,
                                            &records,
                                            &d,
                                            response.as_ref(),
                                            &request_id,
                                        )
                                        .await
                                {
                                    return Vec::new();
                                }
                            }
                            if !ok && !work.is_done() {
                                let failures = work.consecutive_failures();
                                if failures > 1 && !self.pause(backoff(failures - 1)).await {
                                    return Vec::new();
                                }
                            }
                        }
                    }
                }
            }
        }
        ordinals
    }

    /// Runs the mapping's function once; with the version that ran (`$LATEST` or the number
    /// the mapping's qualifier names). `Err` when it could not run at all.
    async fn invoke(
        &self,
        settings: &Settings,
        payload: Vec<u8>,
    ) -> Result<(Invocation, String), String> {
        let arn = settings.mapping.function_arn.clone();
        let store = self.deps.store.clone();
        let lookup = arn.clone();
        // The qualifier (version or alias) picks the version that runs.
        let function = tokio::task::spawn_blocking(move || store.function_for_arn(&lookup))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("Function not found: {arn}"))?;
        let version = function.version_name();
        let request = InvokeRequest {
            timeout: function.timeout,
            function,
            function_arn: arn,
            payload,
        };
        match self.deps.invoker.invoke(request).await {
            Ok(inv) => Ok((inv, version)),
            Err(e @ (InvokeError::Unreachable(..) | InvokeError::Unsupported(..))) => {
                Err(e.to_string())
            }
        }
    }

    /// Sends discarded records to the on-failure destination (or drops them with a log line
    /// when none is configured, as AWS does).
    async fn discard(
        &self,
        settings: &Settings,
        records: &[StreamRecord],
        d: &Discarded,
        response: Option<&ResponseContext>,
        request_id: &str,
    ) -> bool {
        let Some(slice) = records.get(d.range.clone()) else {
            return true;
        };
        let uuid = &settings.mapping.uuid;
        let stream_arn = &self.context.event_source_arn;
        let Some(info) = BatchInfo::of_records(&self.shard_id, stream_arn, slice) else {
            return true;
        };
        let destination = settings
            .mapping
            .settings
            .stream
            .as_ref()
            .and_then(|t| t.on_failure_destination.clone());
        tracing::warn!(mapping_id = %uuid, shard_id = %self.shard_id, records = slice.len(),
            condition = d.condition.as_str(), destination = ?destination, "Records discarded.");
        let Some(destination) = destination else {
            return true;
        };
        let record = failure_record(
            &RequestContext {
                request_id: request_id.to_owned(),
                function_arn: settings.mapping.function_arn.clone(),
                condition: d.condition,
                approximate_invoke_count: d.approximate_invoke_count,
            },
            response,
            now_ms(),
            &info,
            self.source,
        );
        let mut attempt = 0u32;
        while let Err(e) = self
            .deps
            .destination
            .send(&destination, record.clone())
            .await
        {
            attempt += 1;
            tracing::warn!(mapping_id = %uuid, error = %e, "On-failure destination refused the record; retrying.");
            if !self.pause(backoff(attempt)).await {
                return false;
            }
        }
        true
    }

    async fn checkpoint_progress(&self, uuid: &str, tracker: &CheckpointTracker) {
        if let Some(seq) = tracker.checkpoint() {
            let c = Checkpoint::After(seq.to_owned());
            if let Err(e) = self.write_checkpoint(uuid, c).await {
                tracing::error!(mapping_id = %uuid, shard_id = %self.shard_id, error = %e, "Checkpoint failed.");
            }
        }
    }

    async fn write_checkpoint(&self, uuid: &str, c: Checkpoint) -> Result<(), String> {
        let store = self.deps.store.clone();
        let (u, s) = (uuid.to_owned(), self.shard_id.clone());
        tokio::task::spawn_blocking(move || store.put_checkpoints(&u, &[(s.as_str(), c)]))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// Writes LastProcessingResult when it changes.
    async fn set_result(&self, result: String) {
        {
            let mut last = self.last_result.lock().unwrap_or_else(|e| e.into_inner());
            if last.as_deref() == Some(result.as_str()) {
                return;
            }
            *last = Some(result.clone());
        }
        let store = self.deps.store.clone();
        let uuid = self.mapping.borrow().uuid.clone();
        let _ = tokio::task::spawn_blocking(move || {
            store.modify_mapping::<()>(&uuid, |m| {
                let mut next = m.clone();
                next.last_processing_result = Some(result);
                Ok(Some(next))
            })
        })
        .await;
    }
}

fn uuid_string() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs futures concurrently on this task and returns their outputs in order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut slots: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in slots.iter_mut().zip(pinned.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().flatten().collect()
}
