//! Start and stop: data dir → store → config → listener → router and coordinator.
//!
//! The listener is bound only after the store is open and the config applied, so the first
//! answer of `/_sluice/health` means everything is served. Shutdown stops accepting, lets
//! in-flight requests and background invocations finish, stops the coordinator, kills the
//! `command` function instances (after their last invocation ends), and closes the store
//! (every acknowledged write is already on disk).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use sluice_api::{AppState, InFlight};
use sluice_core::arn::Scope;
use sluice_store::kinesis::KinesisStore;
use sluice_store::sns::SnsStore;
use sluice_store::sqs::SqsStore;
use sluice_store::{DataDir, MetaStore};
use sluice_worker::invoke::{ProcessInvoker, ProcessSettings};
use sluice_worker::{Coordinator, FunctionInvoker, ShutdownSignal};
use tokio::task::JoinHandle;

use crate::config;

/// What `sluice serve` is given.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub config: Option<PathBuf>,
    pub region: String,
    pub account_id: String,
    /// fdatasync stream records and queue changes before acknowledging them (`--fsync`).
    pub fsync: bool,
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    signal: ShutdownSignal,
    http: JoinHandle<std::io::Result<()>>,
    coordinator: JoinHandle<()>,
    retention: JoinHandle<()>,
    /// Deliveries to SNS `lambda` and `http(s)` subscribers.
    deliverer: JoinHandle<()>,
    /// DynamoDB TTL expiry, shard rollover and stream retention on a timer.
    dynamodb_timer: JoinHandle<()>,
    /// The embedded DynamoDB (tests drive its timers directly).
    dynamodb: sluice_store::dynamodb::DynamoStore,
    in_flight: InFlight,
    /// The embedded SQS: long polls end when shutdown begins; its journal is closed last.
    sqs: SqsStore,
    /// `command` function instances: killed last, once nothing can invoke them.
    processes: ProcessInvoker,
}

impl Server {
    /// Opens the data dir, applies the config and starts serving.
    pub async fn start(opts: Options) -> anyhow::Result<Self> {
        let scope = Scope::new(opts.region.clone(), opts.account_id.clone());
        // The config file is read first (a bad one refuses the start before anything opens).
        let file = opts
            .config
            .as_deref()
            .map(config::ConfigFile::load)
            .transpose()?;
        let shard_limits = file.as_ref().is_some_and(|f| f.kinesis.shard_limits);
        let rollover = std::time::Duration::from_secs(
            file.as_ref()
                .map_or(4 * 3600, |f| f.dynamodb.shard_rollover_seconds)
                .max(1),
        );
        let data_dir = opts.data_dir.clone();
        let (region, account) = (opts.region.clone(), opts.account_id.clone());
        let fsync = opts.fsync;
        let (dir, store, kinesis, sqs) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let dir = DataDir::open(&data_dir)?;
                let store = MetaStore::open(&dir)?;
                let log = sluice_store::LogOptions {
                    fsync,
                    ..Default::default()
                };
                let kinesis = KinesisStore::open(store.clone(), &dir, &region, &account)?
                    .with_shard_limits(shard_limits)
                    .with_log_options(log);
                let mut sqs_options = sluice_store::sqs::SqsOptions::default();
                sqs_options.log.fsync = fsync;
                let sqs = SqsStore::open_with(&dir, &region, &account, sqs_options)?;
                Ok((dir, store, kinesis, sqs))
            })
            .await??;
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("cannot listen on {}", opts.listen))?;
        let addr = listener.local_addr()?;
        // The embedded SNS hands out URLs on this server (UnsubscribeURL, SubscribeURL).
        let sns = {
            let (dir, sqs, endpoint) = (dir.clone(), sqs.clone(), format!("http://{addr}"));
            let (region, account) = (opts.region.clone(), opts.account_id.clone());
            tokio::task::spawn_blocking(move || {
                SnsStore::open(&dir, &region, &account, sqs, &endpoint)
            })
            .await??
        };
        let in_flight = InFlight::default();
        let processes = ProcessInvoker::new(ProcessSettings {
            endpoint: Some(format!("http://{addr}")),
            region: opts.region.clone(),
            ..ProcessSettings::default()
        });
        let invoker: Arc<dyn sluice_core::function::Invoker> =
            Arc::new(FunctionInvoker::with_processes(processes.clone()).with_code(dir.clone()));
        // Zip functions' folders come back at start when missing (Invoke would unpack too).
        let (code_store, code_dir) = (store.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            sluice_worker::invoke::zip::unpack_missing(&code_store, &code_dir)
        });
        // The embedded DynamoDB keeps its tables in the metadata database.
        let dynamodb =
            sluice_store::dynamodb::DynamoStore::open(&store, &opts.region, &opts.account_id)?;
        let activity = sluice_core::activity::Activity::new();
        let app = AppState {
            store: store.clone(),
            kinesis: kinesis.clone(),
            sqs: sqs.clone(),
            sns: sns.clone(),
            activity: activity.clone(),
            dynamodb: dynamodb.clone(),
            data_dir: dir,
            scope,
            invoker: invoker.clone(),
            endpoint: format!("http://{addr}"),
            in_flight: in_flight.clone(),
        };
        if let Some(file) = file {
            let app = app.clone();
            tokio::task::spawn_blocking(move || file.apply(&app)).await??;
        }

        let (signal, shutdown) = ShutdownSignal::new();
        let destination = Arc::new(
            sluice_worker::destination::OutboxDestination::new(store.clone())
                .with_sqs(sqs.clone())
                .with_sns(sns.clone()),
        );
        let deliverer = tokio::spawn(
            sluice_worker::sns::SnsDeliverer::new(sns, store.clone(), invoker.clone())
                .run(shutdown.clone()),
        );
        let coordinator = tokio::spawn(
            Coordinator::new(
                store,
                kinesis.clone(),
                invoker,
                destination,
                opts.region.clone(),
            )
            .with_dynamodb(dynamodb.clone())
            .with_sqs(sqs.clone())
            .with_activity(activity)
            .run(shutdown.clone()),
        );
        let retention = tokio::spawn(trim_periodically(kinesis, shutdown.clone()));
        let dynamodb_timer = tokio::spawn(dynamodb_periodically(
            dynamodb.clone(),
            rollover,
            shutdown.clone(),
        ));
        let router = sluice_api::router(app);
        let mut http_shutdown = shutdown;
        // Answers go out at once: without TCP_NODELAY a response written in two parts can
        // wait for the client's delayed ACK.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let http = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { http_shutdown.recv().await })
                .await
        });
        Ok(Self {
            addr,
            signal,
            http,
            coordinator,
            retention,
            deliverer,
            dynamodb_timer,
            dynamodb,
            in_flight,
            sqs,
            processes,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` of this server.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The embedded DynamoDB.
    pub fn dynamodb(&self) -> &sluice_store::dynamodb::DynamoStore {
        &self.dynamodb
    }

    /// Stops accepting, finishes in-flight work, and returns once state is flushed.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.signal.fire();
        self.sqs.stop_waiting();
        self.http.await??;
        tracing::debug!("HTTP server stopped.");
        self.coordinator.await?;
        tracing::debug!("Coordinator stopped.");
        self.retention.await?;
        self.deliverer.await?;
        self.in_flight.close();
        self.dynamodb_timer.await?;
        self.in_flight.idle().await;
        self.processes.shutdown().await;
        tracing::debug!("Function instances stopped.");
        self.sqs.close().await;
        Ok(())
    }
}

/// How often stream retention frees disk; records past retention already stop being readable
/// at read time (`KinesisStore::trim_horizon`).
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Applies Kinesis retention on a timer until shutdown.
async fn trim_periodically(kinesis: KinesisStore, mut shutdown: sluice_worker::Shutdown) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(TRIM_EVERY) => {}
            () = shutdown.recv() => return,
        }
        let k = kinesis.clone();
        let now = sluice_api::lambda::now_ms();
        match tokio::task::spawn_blocking(move || k.trim_all(now)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "Could not apply stream retention."),
            Err(e) => tracing::warn!(error = %e, "Retention task failed."),
        }
    }
}

/// How often DynamoDB's housekeeping runs (AWS deletes expired items within days; here
/// within a minute).
const DYNAMODB_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long DynamoDB stream records are kept.
const DYNAMODB_STREAM_RETENTION_MS: u64 = 24 * 3600 * 1000;

/// DynamoDB's timers until shutdown: TTL expiry, stream shard rollover every `rollover`,
/// and 24-hour stream retention.
async fn dynamodb_periodically(
    dynamodb: sluice_store::dynamodb::DynamoStore,
    rollover: std::time::Duration,
    mut shutdown: sluice_worker::Shutdown,
) {
    let every = DYNAMODB_EVERY.min(rollover);
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.recv() => return,
        }
        let d = dynamodb.clone();
        let now = sluice_api::lambda::now_ms();
        let period = u64::try_from(rollover.as_millis()).unwrap_or(u64::MAX);
        let work = move || -> Result<(), sluice_store::dynamodb::DynamoError> {
            let expired = d.expire_now(now)?;
            let rolled = d.roll_due(now, period)?;
            let trimmed = d.trim_streams(now, DYNAMODB_STREAM_RETENTION_MS)?;
            if expired + rolled + trimmed > 0 {
                tracing::debug!(expired, rolled, trimmed, "DynamoDB housekeeping.");
            }
            Ok(())
        };
        match tokio::task::spawn_blocking(work).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "DynamoDB housekeeping failed."),
            Err(e) => tracing::warn!(error = %e, "DynamoDB housekeeping task failed."),
        }
    }
}
