//! Poller scaling against the embedded SQS, with a function that holds every invocation
//! until the test releases it, so the number running at once is observable.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use sluice_core::arn::SourceArn;
use sluice_core::function::{InvokeFuture, InvokeRequest};
use sluice_core::mapping::{MappingSettings, MappingState};
use sluice_store::DataDir;
use tokio::sync::Semaphore;

use super::*;
use crate::ShutdownSignal;

/// Counts invocations running at once; each waits for a permit of `gate`.
struct Held {
    running: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicUsize,
    gate: Semaphore,
    started: Notify,
    events: Mutex<Vec<usize>>,
}

impl Invoker for Held {
    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_> {
        Box::pin(async move {
            let n = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(n, Ordering::SeqCst);
            let records: Value = serde_json::from_slice(&request.payload).unwrap();
            self.events
                .lock()
                .unwrap()
                .push(records["Records"].as_array().unwrap().len());
            self.started.notify_waiters();
            self.gate.acquire().await.unwrap().forget();
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.done.fetch_add(1, Ordering::SeqCst);
            Ok(Invocation::Ok(b"{}".to_vec()))
        })
    }
}

fn mapping(max: Option<u32>) -> EventSourceMapping {
    EventSourceMapping {
        uuid: "m".into(),
        source: SourceArn::parse("arn:aws:sqs:us-east-1:000000000000:jobs").unwrap(),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        function_name: "f".into(),
        state: MappingState::Enabled,
        enabled: true,
        state_transition_reason: "USER_INITIATED".into(),
        last_modified_ms: 1,
        last_processing_result: None,
        settings: MappingSettings {
            batch_size: 1,
            maximum_batching_window: Duration::ZERO,
            report_batch_item_failures: false,
            filter_patterns: vec![],
            maximum_concurrency: max,
            kms_key_arn: None,
            metrics: None,
            stream: None,
        },
    }
}

struct Env {
    _tmp: tempfile::TempDir,
    sqs: SqsStore,
    store: MetaStore,
    held: Arc<Held>,
}

async fn env(messages: usize) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::open(&tmp.path().join("data")).unwrap();
    let store = MetaStore::open(&dir).unwrap();
    store
        .put_function(&crate::test_support::url_function("f"))
        .unwrap();
    // The store's clock follows Tokio's paused clock, so long polls and visibility
    // timeouts run on the test's time.
    let mut options = sluice_store::sqs::SqsOptions {
        clock: sluice_store::sqs::Clock::tokio(),
        ..Default::default()
    };
    options.log.fsync = false;
    let sqs = SqsStore::open_with(&dir, "us-east-1", "000000000000", options).unwrap();
    sqs.create_queue(
        "jobs",
        &BTreeMap::from([("VisibilityTimeout".to_owned(), "600".to_owned())]),
        BTreeMap::new(),
    )
    .unwrap();
    for i in 0..messages {
        sqs.send("jobs", format!("m{i}"), BTreeMap::new())
            .await
            .unwrap();
    }
    Env {
        _tmp: tmp,
        sqs,
        store,
        held: Arc::new(Held {
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            gate: Semaphore::new(0),
            started: Notify::new(),
            events: Mutex::new(Vec::new()),
        }),
    }
}

impl Env {
    fn start(
        &self,
        m: EventSourceMapping,
    ) -> (
        ShutdownSignal,
        watch::Sender<EventSourceMapping>,
        tokio::task::JoinHandle<()>,
    ) {
        let deps = QueuePollerDeps {
            store: self.store.clone(),
            sqs: self.sqs.clone(),
            invoker: self.held.clone(),
            region: "us-east-1".into(),
            activity: sluice_core::activity::Activity::new(),
        };
        let (tx, rx) = watch::channel(m);
        let (signal, shutdown) = ShutdownSignal::new();
        let task = tokio::spawn(run_queue_mapping(
            deps,
            rx,
            "arn:aws:sqs:us-east-1:000000000000:jobs".into(),
            shutdown,
            None,
        ));
        (signal, tx, task)
    }

    /// Waits until `n` invocations are running (each is held at the gate).
    async fn running(&self, n: usize) {
        loop {
            let notified = self.held.started.notified();
            let now = self.held.running.load(Ordering::SeqCst);
            if now >= n {
                // The first scale-up may already have happened.
                assert!(now <= n + 1, "{now} running, expected about {n}");
                return;
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn pollers_start_at_five_and_grow_at_aws_pace_up_to_maximum_concurrency() {
    let e = env(40).await;
    let (signal, _tx, task) = e.start(mapping(Some(12)));
    e.running(5).await;
    // Five batches held and a backlog behind them: one more poller every 200 ms.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(e.held.running.load(Ordering::SeqCst) <= 6);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        e.held.running.load(Ordering::SeqCst),
        12,
        "capped at MaximumConcurrency"
    );
    assert_eq!(e.held.peak.load(Ordering::SeqCst), 12);
    // Let everything finish: the peak never passes the cap.
    e.held.gate.add_permits(1000);
    while e.held.done.load(Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(e.held.peak.load(Ordering::SeqCst), 12);
    assert_eq!(e.sqs.visible("jobs"), 0);
    // A minute without messages: idle long polls retire pollers down to five, so a new
    // burst starts from five again.
    tokio::time::sleep(Duration::from_secs(60)).await;
    e.held.gate.forget_permits(usize::MAX);
    for i in 0..20 {
        e.sqs
            .send("jobs", format!("again{i}"), BTreeMap::new())
            .await
            .unwrap();
    }
    e.running(5).await;
    e.held.gate.add_permits(1000);
    signal.fire();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn idle_pollers_shrink_back_and_a_lowered_maximum_applies() {
    let e = env(30).await;
    let (signal, tx, task) = e.start(mapping(None));
    e.running(5).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let grown = e.held.running.load(Ordering::SeqCst);
    assert!(grown > 10, "grew with the backlog: {grown}");
    // MaximumConcurrency lowered to 3: pollers above it retire after their batch.
    let mut lowered = mapping(Some(3));
    lowered.uuid = "m".into();
    tx.send(lowered).unwrap();
    e.held.gate.add_permits(1000);
    while e.held.done.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Idle long polls (20 s) retire pollers above the floor of min(5, 3).
    tokio::time::sleep(Duration::from_secs(60)).await;
    e.held.gate.forget_permits(usize::MAX);
    let before = e.held.done.load(Ordering::SeqCst);
    e.held.peak.store(0, Ordering::SeqCst);
    for i in 0..10 {
        e.sqs
            .send("jobs", format!("late{i}"), BTreeMap::new())
            .await
            .unwrap();
    }
    e.running(3).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        e.held.peak.load(Ordering::SeqCst),
        3,
        "held to the lowered maximum"
    );
    e.held.gate.add_permits(1000);
    while e.held.done.load(Ordering::SeqCst) < before + 10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal.fire();
    task.await.unwrap();
}
