//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sluice_core::arn::Scope;
use sluice_core::function::Invoker;
use sluice_store::kinesis::KinesisStore;
use sluice_store::sqs::SqsStore;
use sluice_store::{DataDir, MetaStore};
use tokio::sync::{Notify, watch};

/// Shared state of the HTTP surface. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: MetaStore,
    /// The embedded Kinesis (streams, shards, records).
    pub kinesis: KinesisStore,
    /// The embedded SQS (queues, messages).
    pub sqs: SqsStore,
    /// Where the engine reports busy / idle (`GET /_sluice/quiescent`).
    pub activity: sluice_core::activity::Activity,
    /// The embedded SNS (topics, subscriptions).
    pub sns: sluice_store::sns::SnsStore,
    /// The embedded DynamoDB (tables, items, streams).
    pub dynamodb: sluice_store::dynamodb::DynamoStore,
    pub data_dir: DataDir,
    /// Region and account this Sluice answers for.
    pub scope: Scope,
    pub invoker: Arc<dyn Invoker>,
    /// `http://host:port` clients reach this server at (for URLs Sluice hands out).
    pub endpoint: String,
    /// Background work started by requests (asynchronous Invokes); shutdown waits for it.
    pub in_flight: InFlight,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("scope", &self.scope)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Counts background tasks so shutdown can wait until they end, and tells them when
/// shutdown begins (asynchronous Invokes then stop waiting to retry).
#[derive(Clone, Debug)]
pub struct InFlight {
    inner: Arc<Tasks>,
}

#[derive(Debug)]
struct Tasks {
    running: AtomicUsize,
    done: Notify,
    closing: watch::Sender<bool>,
}

impl Default for InFlight {
    fn default() -> Self {
        Self {
            inner: Arc::new(Tasks {
                running: AtomicUsize::new(0),
                done: Notify::new(),
                closing: watch::channel(false).0,
            }),
        }
    }
}

/// Held by a running background task; dropping it marks the task done.
#[derive(Debug)]
pub struct InFlightGuard {
    inner: Arc<Tasks>,
}

impl InFlight {
    pub fn start(&self) -> InFlightGuard {
        self.inner.running.fetch_add(1, Ordering::SeqCst);
        InFlightGuard {
            inner: self.inner.clone(),
        }
    }

    /// Shutdown begins: tasks waiting to retry give up (see [`InFlight::closing`]).
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Becomes `true` when shutdown begins.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// Background tasks running now.
    pub fn running(&self) -> usize {
        self.inner.running.load(Ordering::SeqCst)
    }

    /// Resolves once no background task is running.
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.done.notified();
            if self.inner.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.inner.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.done.notify_waiters();
        }
    }
}
