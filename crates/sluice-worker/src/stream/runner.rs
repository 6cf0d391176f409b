//! One mapping's runner: starts a consumer for every shard whose parents are done, picks up
//! new shards as the directory announces them, and stops every consumer on request.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use std::sync::atomic::{AtomicUsize, Ordering};

use sluice_core::activity::{Activity, ActivityToken};
use sluice_core::function::Invoker;
use sluice_core::mapping::EventSourceMapping;
use sluice_core::source::{
    Checkpoint, FailureDestination, LeaseStore, RecordContext, ShardDirectory, ShardReader,
};
use sluice_core::stream::StreamSource;
use sluice_store::MetaStore;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::consumer::{ConsumerExit, LastResult, ShardConsumer};
use crate::{Shutdown, ShutdownSignal};

/// What a runner and its consumers use.
#[derive(Clone)]
pub struct RunnerDeps {
    pub store: MetaStore,
    /// Shard leases: a consumer runs only while it holds its shard's.
    pub leases: Arc<dyn LeaseStore>,
    pub invoker: Arc<dyn Invoker>,
    pub destination: Arc<dyn FailureDestination>,
    pub reader: Arc<dyn ShardReader>,
    /// Where consumers report busy / idle (`GET /_sluice/quiescent`).
    pub activity: Activity,
}

/// A mapping's consumers.
pub struct Runner {
    pub deps: RunnerDeps,
    pub directory: Arc<dyn ShardDirectory>,
    pub mapping: watch::Receiver<EventSourceMapping>,
    pub context: RecordContext,
    pub source: StreamSource,
    /// The runner's own unit, registered before it was spawned (busy until it has started
    /// every consumer it can).
    pub token: ActivityToken,
}

impl Runner {
    /// Runs until `shutdown`; in-flight batches finish and checkpoint before it returns.
    pub async fn run(self, mut shutdown: Shutdown) {
        let uuid = self.mapping.borrow().uuid.clone();
        let owner = uuid::Uuid::new_v4().to_string();
        let (stop, consumer_shutdown) = ShutdownSignal::new();
        let mut running: HashSet<String> = HashSet::new();
        let mut consumers: JoinSet<(String, ConsumerExit)> = JoinSet::new();
        let last_result: LastResult = Arc::new(std::sync::Mutex::new(
            self.mapping.borrow().last_processing_result.clone(),
        ));
        // Consumers that ended and that this loop has not seen yet: their children may be
        // waiting to start, so the runner is busy until it looks.
        let unseen_exits = Arc::new(AtomicUsize::new(0));
        loop {
            self.token.busy();
            match self.directory.shards().await {
                Ok(shards) => {
                    let store = self.deps.store.clone();
                    let u = uuid.clone();
                    let checkpoints: BTreeMap<String, Checkpoint> =
                        match tokio::task::spawn_blocking(move || store.checkpoints(&u)).await {
                            Ok(Ok(c)) => c,
                            _ => BTreeMap::new(),
                        };
                    let done = |id: &str| matches!(checkpoints.get(id), Some(Checkpoint::ShardEnd));
                    let known: HashSet<&str> = shards.iter().map(|s| s.shard_id.as_str()).collect();
                    for shard in &shards {
                        if running.contains(&shard.shard_id) || done(&shard.shard_id) {
                            continue;
                        }
                        // WaitingOnParents: every parent still listed must be fully processed.
                        let ready = shard
                            .parents
                            .iter()
                            .all(|p| !known.contains(p.as_str()) || done(p));
                        if !ready {
                            continue;
                        }
                        if !self.deps.leases.take(&uuid, &shard.shard_id, &owner).await {
                            // Another consumer still holds it; tried again on the next change.
                            continue;
                        }
                        running.insert(shard.shard_id.clone());
                        let consumer = ShardConsumer {
                            deps: self.deps.clone(),
                            mapping: self.mapping.clone(),
                            shard_id: shard.shard_id.clone(),
                            has_parents: !shard.parents.is_empty(),
                            context: self.context.clone(),
                            source: self.source,
                            last_result: last_result.clone(),
                            stop: None,
                            token: self
                                .deps
                                .activity
                                .register(format!("mapping {uuid} shard {}", shard.shard_id)),
                        };
                        let id = shard.shard_id.clone();
                        let sd = consumer_shutdown.clone();
                        let exits = unseen_exits.clone();
                        consumers.spawn(async move {
                            let exit = consumer.run(sd).await;
                            exits.fetch_add(1, Ordering::SeqCst);
                            (id, exit)
                        });
                        tracing::debug!(mapping_id = %uuid, shard_id = %shard.shard_id, "Consumer started.");
                    }
                }
                Err(e) => {
                    tracing::warn!(mapping_id = %uuid, error = %e, "Cannot list shards; waiting for a change.");
                }
            }
            let exits = unseen_exits.clone();
            self.token.idle(move || exits.load(Ordering::SeqCst) == 0);
            tokio::select! {
                () = self.directory.changed() => {}
                Some(joined) = consumers.join_next() => {
                    let _ = unseen_exits.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        Some(n.saturating_sub(1))
                    });
                    if let Ok((id, exit)) = joined {
                        running.remove(&id);
                        self.deps.leases.release(&uuid, &id, &owner).await;
                        if let ConsumerExit::Failed(reason) = exit {
                            tracing::warn!(mapping_id = %uuid, shard_id = %id, %reason, "Consumer stopped.");
                        }
                    }
                }
                () = shutdown.recv() => break,
            }
        }
        stop.fire();
        while let Some(joined) = consumers.join_next().await {
            if let Ok((id, _)) = joined {
                self.deps.leases.release(&uuid, &id, &owner).await;
            }
        }
        tracing::debug!(mapping_id = %uuid, "Runner stopped.");
    }
}
