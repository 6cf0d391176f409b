//! The coordinator: brings every mapping to rest.
//!
//! It wakes on each committed mapping change (the store's watch counter; never a timer) and
//! settles transitional states with
//! [`sluice_core::mapping::MappingState::settle`]: Creating and Enabling become
//! Enabled, Disabling becomes Disabled, Updating returns to Enabled or Disabled, Deleting
//! removes the mapping and its tags. Each step is one store transaction, so a crash in the
//! middle resumes at the next start (the first pass runs before waiting).
//!
//! Before settling, each pass reconciles the stream engine: a runner is started for every
//! enabled stream mapping (so a mapping is reported Enabled once its consumers run), gets
//! each settings change through its watch channel, and is stopped (in-flight batches finish
//! and checkpoint) before a Disabling mapping settles to Disabled or a Deleting one is
//! removed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sluice_core::activity::Activity;
use sluice_core::arn::SourceArn;
use sluice_core::function::Invoker;
use sluice_core::mapping::{EventSourceMapping, MappingState, Settled};
use sluice_core::source::{
    FailureDestination, LeaseStore, RecordContext, ShardDirectory, ShardReader,
};
use sluice_core::stream::StreamSource;
use sluice_store::dynamodb::DynamoStore;
use sluice_store::kinesis::KinesisStore;
use sluice_store::{MetaStore, StoreError};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::lease::LocalLeases;
use crate::now_ms;
use crate::queue::{QueuePollerDeps, run_queue_mapping};
use crate::stream::dynamodb::EmbeddedDynamoStream;
use crate::stream::embedded::EmbeddedKinesis;
use crate::stream::{Runner, RunnerDeps};
use crate::{Shutdown, ShutdownSignal};
use sluice_store::sqs::SqsStore;

/// Settles mapping lifecycles and runs the stream engine of every enabled stream mapping.
pub struct Coordinator {
    store: MetaStore,
    kinesis: KinesisStore,
    invoker: Arc<dyn Invoker>,
    destination: Arc<dyn FailureDestination>,
    region: String,
    leases: Arc<dyn LeaseStore>,
    /// The embedded DynamoDB, whose table streams DynamoDB mappings read.
    dynamodb: Option<DynamoStore>,
    sqs: Option<SqsStore>,
    /// Where runners, consumers and pollers report busy / idle.
    activity: Activity,
}

/// A running mapping: its settings channel and how to stop it.
struct Running {
    mapping: watch::Sender<EventSourceMapping>,
    stop: ShutdownSignal,
    task: JoinHandle<()>,
}

impl Coordinator {
    pub fn new(
        store: MetaStore,
        kinesis: KinesisStore,
        invoker: Arc<dyn Invoker>,
        destination: Arc<dyn FailureDestination>,
        region: String,
    ) -> Self {
        Self {
            store,
            kinesis,
            invoker,
            destination,
            region,
            leases: Arc::new(LocalLeases::default()),
            dynamodb: None,
            sqs: None,
            activity: Activity::new(),
        }
    }

    /// Reports busy / idle to `activity` (shared with the API's `/_sluice/quiescent`).
    pub fn with_activity(mut self, activity: Activity) -> Self {
        self.activity = activity;
        self
    }

    /// Runs DynamoDB stream mappings on the embedded DynamoDB's streams.
    /// Lets the coordinator run SQS mappings on the embedded SQS.
    pub fn with_sqs(mut self, sqs: SqsStore) -> Self {
        self.sqs = Some(sqs);
        self
    }

    pub fn with_dynamodb(mut self, dynamodb: DynamoStore) -> Self {
        self.dynamodb = Some(dynamodb);
        self
    }

    /// Runs until shutdown; then stops every mapping's consumers (in-flight batches finish
    /// and checkpoint).
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut changes = self.store.subscribe();
        let mut running: HashMap<String, Running> = HashMap::new();
        // Runners told to stop, finishing their in-flight batches; their mappings do not
        // settle (to Disabled, or gone) until they have.
        let mut stopping: JoinSet<String> = JoinSet::new();
        let mut busy: HashSet<String> = HashSet::new();
        loop {
            changes.borrow_and_update();
            let store = self.store.clone();
            match tokio::task::spawn_blocking(move || store.list_mappings()).await {
                Ok(Ok(mappings)) => {
                    self.reconcile(&mut running, &mut stopping, &mut busy, &mappings)
                        .await
                }
                Ok(Err(e)) => tracing::error!(error = %e, "Cannot list mappings."),
                Err(e) => tracing::error!(error = %e, "Listing task failed."),
            }
            let store = self.store.clone();
            let held = busy.clone();
            let pass =
                tokio::task::spawn_blocking(move || settle_all(&store, now_ms(), &held)).await;
            match pass {
                Ok(Ok(n)) if n > 0 => tracing::debug!(settled = n, "Mappings settled."),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "Could not settle mappings; retrying on the next change.");
                }
                Err(e) => tracing::error!(error = %e, "Settling task failed."),
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                Some(done) = stopping.join_next() => {
                    if let Ok(uuid) = done {
                        busy.remove(&uuid);
                        tracing::info!(mapping_id = %uuid, "Mapping consumers stopped.");
                    }
                }
                () = shutdown.recv() => break,
            }
        }
        for (_, r) in running.drain() {
            r.stop.fire();
            let _ = r.task.await;
        }
        while stopping.join_next().await.is_some() {}
    }

    /// Starts, updates and stops runners so exactly the mappings that should run do.
    async fn reconcile(
        &self,
        running: &mut HashMap<String, Running>,
        stopping: &mut JoinSet<String>,
        busy: &mut HashSet<String>,
        mappings: &[EventSourceMapping],
    ) {
        let wanted: HashMap<&str, &EventSourceMapping> = mappings
            .iter()
            .filter(|m| should_run(m))
            .map(|m| (m.uuid.as_str(), m))
            .collect();
        let stale: Vec<String> = running
            .keys()
            .filter(|k| !wanted.contains_key(k.as_str()))
            .cloned()
            .collect();
        for uuid in stale {
            if let Some(r) = running.remove(&uuid) {
                // Stop without waiting here: a batch in flight (a slow or unreachable
                // function) must not hold up every other mapping.
                r.stop.fire();
                busy.insert(uuid.clone());
                stopping.spawn(async move {
                    let _ = r.task.await;
                    uuid
                });
            }
        }
        for (uuid, m) in wanted {
            if let Some(r) = running.get(uuid) {
                r.mapping.send_if_modified(|current| {
                    let changed = current.settings != m.settings
                        || current.function_arn != m.function_arn
                        || current.enabled != m.enabled;
                    if changed {
                        *current = (*m).clone();
                    }
                    changed
                });
                continue;
            }
            if busy.contains(uuid) {
                // Still stopping from a previous state; started on the pass after it ends.
                continue;
            }
            if let Some(r) = self.start(m).await {
                running.insert(uuid.to_owned(), r);
            }
        }
    }

    /// Starts the runner of a stream mapping.
    async fn start(&self, m: &EventSourceMapping) -> Option<Running> {
        let (stream, stream_arn) = match &m.source {
            SourceArn::DynamoDbStream { arn, .. } => {
                let dynamodb = self.dynamodb.clone()?;
                let source = Arc::new(EmbeddedDynamoStream::new(dynamodb, arn.clone()));
                return Some(
                    self.run_runner(
                        m,
                        source.clone(),
                        source,
                        arn.clone(),
                        StreamSource::DynamoDb,
                    )
                    .await,
                );
            }
            SourceArn::KinesisStream {
                stream,
                region,
                account,
                ..
            }
            | SourceArn::KinesisConsumer {
                stream,
                region,
                account,
                ..
            } => (
                stream.clone(),
                format!("arn:aws:kinesis:{region}:{account}:stream/{stream}"),
            ),
            SourceArn::SqsQueue { arn, .. } => {
                let sqs = self.sqs.clone()?;
                let deps = QueuePollerDeps {
                    store: self.store.clone(),
                    sqs,
                    invoker: self.invoker.clone(),
                    region: self.region.clone(),
                    activity: self.activity.clone(),
                };
                let (tx, rx) = watch::channel(m.clone());
                let (stop, shutdown) = ShutdownSignal::new();
                // Busy from now until the pollers run and report for themselves.
                let starting = self.activity.register(format!("mapping {}", m.uuid));
                let queue_arn = arn.clone();
                let task = tokio::spawn(async move {
                    run_queue_mapping(deps, rx, queue_arn, shutdown, Some(starting)).await;
                });
                tracing::info!(mapping_id = %m.uuid, "Queue pollers started.");
                return Some(Running {
                    mapping: tx,
                    stop,
                    task,
                });
            }
        };
        let source = Arc::new(EmbeddedKinesis::new(self.kinesis.clone(), stream));
        Some(
            self.run_runner(m, source.clone(), source, stream_arn, StreamSource::Kinesis)
                .await,
        )
    }

    /// Spawns the runner of mapping `m` on a source.
    async fn run_runner(
        &self,
        m: &EventSourceMapping,
        reader: Arc<dyn ShardReader>,
        directory: Arc<dyn ShardDirectory>,
        stream_arn: String,
        kind: StreamSource,
    ) -> Running {
        let store = self.store.clone();
        let name = sluice_core::arn::function_name_of(&m.function_arn).to_owned();
        let role = tokio::task::spawn_blocking(move || store.get_function(&name))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
            .map(|f| f.role)
            .unwrap_or_default();
        let (tx, rx) = watch::channel(m.clone());
        let runner = Runner {
            deps: RunnerDeps {
                store: self.store.clone(),
                leases: self.leases.clone(),
                invoker: self.invoker.clone(),
                destination: self.destination.clone(),
                reader,
                activity: self.activity.clone(),
            },
            token: self.activity.register(format!("mapping {}", m.uuid)),
            directory,
            mapping: rx,
            context: RecordContext {
                event_source_arn: stream_arn,
                region: self.region.clone(),
                invoke_identity_arn: role,
            },
            source: kind,
        };
        let (stop, shutdown) = ShutdownSignal::new();
        let task = tokio::spawn(runner.run(shutdown));
        tracing::info!(mapping_id = %m.uuid, "Mapping consumers started.");
        Running {
            mapping: tx,
            stop,
            task,
        }
    }
}

/// True for mappings whose consumers should run: enabled and not being deleted or disabled.
fn should_run(m: &EventSourceMapping) -> bool {
    m.enabled
        && !matches!(
            m.state,
            MappingState::Deleting | MappingState::Disabling | MappingState::Disabled
        )
}

/// Settles every transitional mapping once; returns how many changed.
/// Mappings in `held` are skipped: their consumers are still stopping.
pub fn settle_all(
    store: &MetaStore,
    now_ms: u64,
    held: &HashSet<String>,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    for m in store.list_mappings()? {
        if !m.state.is_transitional() || held.contains(&m.uuid) {
            continue;
        }
        let outcome = store.modify_mapping(&m.uuid, |current| {
            match current.state.settle(current.enabled) {
                Settled::Gone => {
                    tracing::info!(mapping_id = %current.uuid, "Event source mapping deleted.");
                    Ok(None)
                }
                Settled::State(s) if s != current.state => {
                    let mut next = current.clone();
                    next.state = s;
                    next.last_modified_ms = now_ms;
                    tracing::info!(mapping_id = %current.uuid, state = s.as_str(), "Event source mapping settled.");
                    Ok(Some(next))
                }
                Settled::State(_) => Err(()),
            }
        })?;
        if matches!(outcome, Some(Ok(_))) {
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests;
