//! SQS event source mappings: pollers that receive from an embedded queue, filter, invoke the
//! function, and delete what succeeded.
//!
//! AWS's rules, as implemented here:
//! - Batches gather up to `BatchSize` messages; with `MaximumBatchingWindowInSeconds` the
//!   poller keeps receiving until the batch is full or the window (from the first message)
//!   ends; without a window it invokes with what one long poll returned.
//! - The event is `{"Records": [...]}` in AWS's SQS shape (messageId, receiptHandle, body,
//!   attributes as strings, messageAttributes in lower-camel form, md5OfBody, eventSource,
//!   eventSourceARN, awsRegion).
//! - Success deletes the batch; a function error deletes nothing (the messages come back
//!   after the queue's visibility timeout, and the queue's RedrivePolicy moves them to its
//!   dead-letter queue after maxReceiveCount); with ReportBatchItemFailures only the listed
//!   messages stay, and an invalid response fails the whole batch.
//! - FilterCriteria are matched against the record with `body` parsed when it is JSON;
//!   messages that match no filter are deleted without invoking.
//! - Concurrency scales as on AWS: 5 pollers to start (fewer if MaximumConcurrency is
//!   lower); while a poller finds messages left behind its batch, one more poller is added,
//!   at most 300 a minute (one per 200 ms), up to `ScalingConfig.MaximumConcurrency` or
//!   1,000; a poller whose long poll comes back empty retires while more than 5 run, and any
//!   poller above a lowered MaximumConcurrency retires after its batch. A FIFO queue hands
//!   out one in-flight batch per message group, so order per group holds whatever the
//!   concurrency.
//! - Waiting is the queue's long poll, which wakes on arrival; an idle mapping uses no CPU.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value, json};
use sluice_core::activity::{Activity, ActivityToken};
use sluice_core::filter::FilterSet;
use sluice_core::function::{Invocation, InvokeRequest, Invoker};
use sluice_core::mapping::EventSourceMapping;
use sluice_core::stream::response::item_identifiers;
use sluice_store::MetaStore;
use sluice_store::sqs::{AttributeValue, ReceivedMessage, SqsStore};
use tokio::sync::{Notify, watch};

use crate::Shutdown;

#[cfg(test)]
mod tests;

/// Pollers a mapping starts with (and scales back to when idle).
pub const DEFAULT_CONCURRENCY: u32 = 5;
/// Most pollers a mapping without MaximumConcurrency scales to.
pub const MAX_CONCURRENCY: u32 = 1000;
/// Time between two scale-ups: 300 more pollers a minute at most.
const SCALE_UP_EVERY: Duration = Duration::from_millis(200);
/// Longest single long poll.
const LONG_POLL: Duration = Duration::from_secs(20);

/// What a queue mapping's pollers use.
#[derive(Clone)]
pub struct QueuePollerDeps {
    pub store: MetaStore,
    pub sqs: SqsStore,
    pub invoker: Arc<dyn Invoker>,
    pub region: String,
    /// Where pollers report busy / idle.
    pub activity: Activity,
}

/// The mapping's concurrency ceiling: MaximumConcurrency, or 1,000.
fn ceiling(m: &EventSourceMapping) -> usize {
    m.settings
        .maximum_concurrency
        .unwrap_or(MAX_CONCURRENCY)
        .max(1) as usize
}

/// The pollers a mapping starts with and scales back to.
fn floor(m: &EventSourceMapping) -> usize {
    (DEFAULT_CONCURRENCY as usize).min(ceiling(m))
}

/// How many pollers run, and the pollers' requests for one more.
#[derive(Default)]
struct Scale {
    active: AtomicUsize,
    more: Notify,
}

impl Scale {
    /// Retires the caller if more than `keep` pollers run; true when it must stop.
    fn retire_above(&self, keep: usize) -> bool {
        self.active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n > keep).then(|| n - 1)
            })
            .is_ok()
    }
}

/// Runs a queue mapping until `shutdown`: its pollers finish the batch in flight first.
pub async fn run_queue_mapping(
    deps: QueuePollerDeps,
    mapping: watch::Receiver<EventSourceMapping>,
    queue_arn: String,
    shutdown: Shutdown,
    starting: Option<ActivityToken>,
) {
    let mut stop = shutdown.clone();
    let scale = Arc::new(Scale::default());
    let mut pollers = tokio::task::JoinSet::new();
    // Read once: a watch borrow must never be held while taking another (a waiting writer
    // would block the second and deadlock).
    let uuid = mapping.borrow().uuid.clone();
    let spawn = |pollers: &mut tokio::task::JoinSet<()>| {
        scale.active.fetch_add(1, Ordering::SeqCst);
        let poller = Poller {
            deps: deps.clone(),
            mapping: mapping.clone(),
            queue_arn: queue_arn.clone(),
            scale: scale.clone(),
            token: deps.activity.register(format!("mapping {uuid} poller")),
        };
        pollers.spawn(poller.run(shutdown.clone()));
    };
    let start_with = floor(&mapping.borrow());
    for _ in 0..start_with {
        spawn(&mut pollers);
    }
    // The pollers report for themselves from here.
    drop(starting);
    loop {
        tokio::select! {
            () = scale.more.notified() => {
                if scale.active.load(Ordering::SeqCst) < ceiling(&mapping.borrow()) {
                    spawn(&mut pollers);
                    tracing::debug!(queue = %queue_arn, pollers = scale.active.load(Ordering::SeqCst), "Scaled up the queue's pollers.");
                    tokio::select! {
                        () = tokio::time::sleep(SCALE_UP_EVERY) => {}
                        () = stop.recv() => break,
                    }
                }
            }
            Some(_) = pollers.join_next() => {
                // A poller retired. Keep the floor (a raised floor after an update, say).
                let m = mapping.borrow().clone();
                if !stop.is_fired() && scale.active.load(Ordering::SeqCst) < floor(&m) {
                    spawn(&mut pollers);
                }
            }
            () = stop.recv() => break,
        }
    }
    while pollers.join_next().await.is_some() {}
}

struct Poller {
    deps: QueuePollerDeps,
    mapping: watch::Receiver<EventSourceMapping>,
    queue_arn: String,
    scale: Arc<Scale>,
    /// Idle while long-polling an empty queue; busy with a batch in hand.
    token: ActivityToken,
}

impl Poller {
    async fn run(self, mut shutdown: Shutdown) {
        let mut failures = 0u32;
        while !shutdown.is_fired() {
            let m = self.mapping.borrow().clone();
            // Waiting for messages: idle while the queue holds none at all (one visible, in
            // flight after a failure, or delayed means work still to come).
            let (sqs, arn) = (self.deps.sqs.clone(), self.queue_arn.clone());
            self.token.idle(move || sqs.is_empty(&arn));
            let batch = tokio::select! {
                b = self.gather(&m) => b,
                () = shutdown.recv() => return,
            };
            self.token.busy();
            let messages = match batch {
                Ok(messages) => messages,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(mapping_id = %m.uuid, error = %e, "Queue receive failed; retrying.");
                    let pause = Duration::from_millis(100 * u64::from(failures.min(50)));
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = shutdown.recv() => return,
                    }
                    continue;
                }
            };
            failures = 0;
            if messages.is_empty() {
                if self.deps.sqs.is_stopping() {
                    // Sluice is shutting down: long polls no longer wait, so stop here
                    // rather than spin until this mapping's own stop arrives.
                    self.scale.active.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
                // A whole long poll found nothing: scale down towards the floor.
                if self.scale.retire_above(floor(&m)) {
                    return;
                }
                tokio::task::yield_now().await;
                continue;
            }
            // Messages left behind this batch: ask for one more poller.
            if self.deps.sqs.visible(&self.queue_arn) > 0
                && self.scale.active.load(Ordering::SeqCst) < ceiling(&m)
            {
                self.scale.more.notify_one();
            }
            self.process(&m, messages).await;
            // MaximumConcurrency lowered by an update: the extra pollers stop here.
            let now = self.mapping.borrow().clone();
            if self.scale.retire_above(ceiling(&now)) {
                return;
            }
        }
        self.scale.active.fetch_sub(1, Ordering::SeqCst);
    }

    /// Receives one batch: a single long poll without a window, or until the batch is full
    /// or the window (counted from the first message) ends.
    async fn gather(&self, m: &EventSourceMapping) -> Result<Vec<ReceivedMessage>, String> {
        let want = usize::try_from(m.settings.batch_size).unwrap_or(10).max(1);
        let window = m.settings.maximum_batching_window;
        let sqs = &self.deps.sqs;
        let first = sqs
            .receive_wait(&self.queue_arn, want.min(10), None, LONG_POLL)
            .await
            .map_err(|e| e.to_string())?;
        if first.is_empty() || window.is_zero() || first.len() >= want {
            return Ok(first);
        }
        let mut batch = first;
        let deadline = tokio::time::Instant::now() + window;
        while batch.len() < want {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let more = sqs
                .receive_wait(&self.queue_arn, (want - batch.len()).min(10), None, left)
                .await
                .map_err(|e| e.to_string())?;
            batch.extend(more);
        }
        Ok(batch)
    }

    async fn process(&self, m: &EventSourceMapping, messages: Vec<ReceivedMessage>) {
        let filters = FilterSet::parse(m.settings.filter_patterns.iter().map(String::as_str))
            .unwrap_or_default();
        let (keep, dropped): (Vec<_>, Vec<_>) = messages
            .into_iter()
            .map(|msg| {
                let record = sqs_record(&msg, &self.queue_arn, &self.deps.region);
                (msg, record)
            })
            .partition(|(_, record)| filters.is_empty() || filters.matches(&filter_view(record)));
        if !dropped.is_empty() {
            let handles: Vec<String> = dropped
                .iter()
                .map(|(msg, _)| msg.receipt_handle.clone())
                .collect();
            self.delete(m, &handles).await;
        }
        if keep.is_empty() {
            return;
        }
        let payload = serde_json::to_vec(&json!({
            "Records": keep.iter().map(|(_, r)| r).collect::<Vec<_>>()
        }))
        .unwrap_or_default();
        let outcome = self.invoke(m, payload).await;
        let to_delete: Vec<String> = match outcome {
            Some(Invocation::Ok(body)) if m.settings.report_batch_item_failures => {
                let ids: HashSet<&str> = keep
                    .iter()
                    .map(|(msg, _)| msg.message_id.as_str())
                    .collect();
                match item_identifiers(&body) {
                    // Every listed id must be a message of the batch; anything else fails it whole.
                    Some(failed) if failed.iter().all(|f| ids.contains(f.as_str())) => {
                        let failed: HashSet<String> = failed.into_iter().collect();
                        keep.iter()
                            .filter(|(msg, _)| !failed.contains(&msg.message_id))
                            .map(|(msg, _)| msg.receipt_handle.clone())
                            .collect()
                    }
                    _ => Vec::new(),
                }
            }
            Some(Invocation::Ok(_)) => keep
                .iter()
                .map(|(msg, _)| msg.receipt_handle.clone())
                .collect(),
            // A function error, or a function that could not run: the messages return to
            // the queue when their visibility timeout ends.
            Some(Invocation::FunctionError { .. }) | None => Vec::new(),
        };
        if !to_delete.is_empty() {
            self.delete(m, &to_delete).await;
        }
    }

    async fn delete(&self, m: &EventSourceMapping, handles: &[String]) {
        if let Err(e) = self.deps.sqs.delete(&self.queue_arn, handles).await {
            tracing::warn!(mapping_id = %m.uuid, error = %e, "Could not delete processed messages.");
        }
    }

    /// Runs the function once; `None` when it could not run at all.
    async fn invoke(&self, m: &EventSourceMapping, payload: Vec<u8>) -> Option<Invocation> {
        let arn = m.function_arn.clone();
        let store = self.deps.store.clone();
        // The qualifier (version or alias) picks the version that runs.
        let function = tokio::task::spawn_blocking(move || store.function_for_arn(&arn))
            .await
            .ok()?
            .ok()??;
        let request = InvokeRequest {
            timeout: function.timeout,
            function,
            function_arn: m.function_arn.clone(),
            payload,
        };
        match self.deps.invoker.invoke(request).await {
            Ok(invocation) => Some(invocation),
            Err(e) => {
                tracing::warn!(mapping_id = %m.uuid, error = %e, "Function could not run; messages return after their visibility timeout.");
                None
            }
        }
    }
}

/// One message as the function sees it in `Records[]` (AWS's SQS event shape).
pub fn sqs_record(msg: &ReceivedMessage, queue_arn: &str, region: &str) -> Value {
    let mut attrs = Map::new();
    for (k, v) in &msg.attributes {
        attrs.insert(k.clone(), Value::String(v.clone()));
    }
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut message_attributes = Map::new();
    for (name, attr) in &msg.message_attributes {
        let mut o = Map::new();
        match &attr.value {
            AttributeValue::String(s) => {
                o.insert("stringValue".into(), json!(s));
            }
            AttributeValue::Binary(b) => {
                o.insert("binaryValue".into(), json!(b64(b)));
            }
            AttributeValue::StringList(_) | AttributeValue::BinaryList(_) => {}
        }
        let strings: Vec<&String> = match &attr.value {
            AttributeValue::StringList(l) => l.iter().collect(),
            _ => Vec::new(),
        };
        let binaries: Vec<String> = match &attr.value {
            AttributeValue::BinaryList(l) => l.iter().map(|b| b64(b)).collect(),
            _ => Vec::new(),
        };
        o.insert("stringListValues".into(), json!(strings));
        o.insert("binaryListValues".into(), json!(binaries));
        o.insert("dataType".into(), json!(attr.data_type));
        message_attributes.insert(name.clone(), Value::Object(o));
    }
    let mut record = Map::new();
    record.insert("messageId".into(), json!(msg.message_id));
    record.insert("receiptHandle".into(), json!(msg.receipt_handle));
    record.insert("body".into(), json!(msg.body));
    record.insert("attributes".into(), Value::Object(attrs));
    record.insert(
        "messageAttributes".into(),
        Value::Object(message_attributes),
    );
    record.insert("md5OfBody".into(), json!(msg.md5_of_body));
    if let Some(md5) = &msg.md5_of_message_attributes {
        record.insert("md5OfMessageAttributes".into(), json!(md5));
    }
    record.insert("eventSource".into(), json!("aws:sqs"));
    record.insert("eventSourceARN".into(), json!(queue_arn));
    record.insert("awsRegion".into(), json!(region));
    Value::Object(record)
}

/// What FilterCriteria see: the record with `body` parsed when it is JSON.
fn filter_view(record: &Value) -> Value {
    let mut view = record.clone();
    if let Some(body) = view.get("body").and_then(Value::as_str)
        && let Ok(parsed) = serde_json::from_str::<Value>(body)
        && (parsed.is_object() || parsed.is_array())
        && let Value::Object(map) = &mut view
    {
        map.insert("body".into(), parsed);
    }
    view
}
