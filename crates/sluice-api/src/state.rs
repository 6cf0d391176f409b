//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sluice_core::arn::Scope;
use sluice_core::function::Invoker;
use sluice_store::kinesis::KinesisStore;
use sluice_store::sqs::SqsStore;
use sluice_store::{DataDir, MetaStore};
use tokio::sync::Notify;

/// Shared state of the HTTP surface. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: MetaStore,
    /// The embedded Kinesis (streams, shards, records).
    pub kinesis: KinesisStore,
    /// The embedded SQS (queues, messages).
    pub sqs: SqsStore,
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

/// Counts background tasks so shutdown can wait until they end.
#[derive(Clone, Default, Debug)]
pub struct InFlight {
    inner: Arc<(AtomicUsize, Notify)>,
}

/// Held by a running background task; dropping it marks the task done.
#[derive(Debug)]
pub struct InFlightGuard {
    inner: Arc<(AtomicUsize, Notify)>,
}

impl InFlight {
    pub fn start(&self) -> InFlightGuard {
        self.inner.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard {
            inner: self.inner.clone(),
        }
    }

    /// Resolves once no background task is running.
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.inner.0.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.inner.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.1.notify_waiters();
        }
    }
}
