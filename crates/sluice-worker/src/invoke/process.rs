//! `command` functions: local processes that speak the Lambda Runtime API.
//!
//! # Instances
//!
//! Each function has a [`Pool`] of instances, started on demand up to its `concurrency`
//! (default [`DEFAULT_CONCURRENCY`]); a semaphore with that many permits is the limit, so
//! the N+1st concurrent invocation waits for an instance to come back. An instance is one
//! child process with:
//!
//! - its own Runtime API listener on `127.0.0.1:0` ([`runtime_api`]), named in its
//!   `AWS_LAMBDA_RUNTIME_API`. One listener per instance is how `invocation/next` reaches the
//!   right instance: runtime clients take `host:port` and nothing else, so per-instance path
//!   prefixes on a shared listener would not work with them.
//! - stdout and stderr on one Unix socket read by a task that logs each line and keeps the
//!   invocation's tail ([`log`]).
//! - a supervisor task that owns the child: it waits for the process to exit, for the kill
//!   order (the [`Instance`] being dropped), and for the idle deadline (one timer per
//!   instance, re-armed each time the instance goes back to the pool; no polling).
//!
//! An instance runs one invocation at a time. Idle instances are kept, most recently used
//! first (the warmest is reused), and reaped after [`ProcessSettings::idle_timeout`].
//!
//! # Outcomes
//!
//! | what happened | outcome | instance |
//! |---|---|---|
//! | `/response` | the result | kept |
//! | `/error` | function error, the runtime's document | kept (the runtime goes on, as in Lambda) |
//! | result over 6 MB | function error `Function.ResponseSizeTooLarge` | kept |
//! | `/init/error` | function error, the runtime's document | replaced |
//! | the process exits | function error `Runtime.ExitError` | replaced |
//! | no answer by the deadline | function error `Sandbox.Timedout`, "Task timed out after N.00 seconds" | killed, replaced |
//! | the command cannot start | function error `Runtime.InvalidEntrypoint` / `Runtime.InvalidWorkingDir` | none |
//!
//! The deadline (`Lambda-Runtime-Deadline-Ms`) counts from the moment the runtime takes the
//! event, as Lambda's Invoke phase does; a cold instance's Init phase (start to first
//! `next`) is limited separately to [`INIT_LIMIT`], Lambda's 10 seconds.
//!
//! # Environment
//!
//! Sluice's own environment (PATH, HOME, a virtualenv…), less every `AWS_*`, `LAMBDA_*`,
//! `_HANDLER`, `_X_AMZN_*` and `TZ` variable (a function must not pick up the user's real
//! credentials or profile), plus what Lambda sets (`lambda_env`: the Runtime API address,
//! function name, the version (`$LATEST` or the published number; a published version has
//! its own pool), memory, log group and stream, region, `LAMBDA_TASK_ROOT` = the workdir,
//! `AWS_ENDPOINT_URL` = this Sluice, test credentials, `TZ=:UTC`, `_HANDLER` when the
//! function has a handler), plus the function's `env`, which wins. A relative `workdir` is
//! taken from Sluice's working directory.
//!
//! An Init phase longer than [`INIT_LIMIT`] is a `Sandbox.Timedout` function error ("Init
//! timed out after 10.00 seconds"; Lambda's own wording for this case is not documented).
//!
//! # Shutdown
//!
//! [`ProcessInvoker::shutdown`] refuses new invocations, kills idle instances, lets
//! in-flight invocations end (each has its timeout), kills their instances as they come
//! back, and returns when every supervisor has seen its process exit. Each instance runs
//! in its own process group, and the whole group is killed, so helpers a runtime forks do
//! not outlive it. If Sluice itself is killed (`kill -9`), nothing kills the instances; a
//! runtime client then fails its next `next` (the listener is gone) and exits.
//!
//! Zip functions arrive here as command functions too (see [`super::zip`]): their command
//! is derived from the runtime and their workdir is the unpacked package.

pub mod log;
pub mod runtime_api;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use sluice_core::function::{
    FunctionCode, FunctionRecord, Invocation, InvokeContext, InvokeError, InvokeFuture,
    InvokeReport, InvokeReportFuture, InvokeRequest, Invoker,
};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use self::log::{LogCapture, LogPipe};
use self::runtime_api::{Answer, Event, Health, RuntimeSlot};

/// Instances of one function at most, unless its `concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: u32 = 10;

/// Longest Init phase (process start to first `next`), as on Lambda.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How the invoker sets up instances.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// `AWS_ENDPOINT_URL` of every instance: this Sluice, so SDK calls in a handler reach it.
    pub endpoint: Option<String>,
    /// `AWS_REGION` and `AWS_DEFAULT_REGION`.
    pub region: String,
    /// An instance idle this long is stopped.
    pub idle_timeout: Duration,
    /// Longest Init phase ([`INIT_LIMIT`]; shorter in tests).
    pub init_limit: Duration,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: "us-east-1".into(),
            idle_timeout: Duration::from_secs(300),
            init_limit: INIT_LIMIT,
        }
    }
}

/// Runs `command` functions. Cheap to clone; clones share the instances.
#[derive(Debug, Clone, Default)]
pub struct ProcessInvoker {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: ProcessSettings,
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    /// Set by shutdown: no new instance, no instance back to a pool.
    closed: AtomicBool,
    next_instance: AtomicU64,
    /// Each supervisor holds a clone; shutdown drops this one and waits for the channel to
    /// close (every process reaped).
    live: Mutex<Option<mpsc::Sender<()>>>,
    all_exited: tokio::sync::Mutex<mpsc::Receiver<()>>,
    /// How many instances have ended so far (tests and figures wait on it).
    ended: watch::Sender<u64>,
}

impl Default for Shared {
    fn default() -> Self {
        Self::new(ProcessSettings::default())
    }
}

impl Shared {
    fn new(settings: ProcessSettings) -> Self {
        let (tx, rx) = mpsc::channel(1);
        Self {
            settings,
            pools: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            next_instance: AtomicU64::new(1),
            live: Mutex::new(Some(tx)),
            all_exited: tokio::sync::Mutex::new(rx),
            ended: watch::channel(0).0,
        }
    }
}

/// What instances of a function are started with; a change retires the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    name: String,
    command: Vec<String>,
    workdir: Option<String>,
    concurrency: u32,
    memory_size: u32,
    handler: Option<String>,
    environment: BTreeMap<String, String>,
    /// `None` for `$LATEST`; a published version has its own pool.
    version: Option<u64>,
}

impl Spec {
    /// The pool's key: the function name, with `:N` for a published version.
    fn key(&self) -> String {
        match self.version {
            Some(n) => format!("{}:{n}", self.name),
            None => self.name.clone(),
        }
    }

    fn version_name(&self) -> String {
        self.version
            .map_or_else(|| "$LATEST".to_owned(), |n| n.to_string())
    }

    fn of(f: &FunctionRecord) -> Option<Self> {
        let FunctionCode::Command {
            command,
            workdir,
            concurrency,
        } = &f.code
        else {
            return None;
        };
        Some(Self {
            name: f.name.clone(),
            command: command.clone(),
            workdir: workdir.clone(),
            concurrency: concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1),
            memory_size: f.memory_size,
            handler: f.handler.clone(),
            environment: f.environment.clone(),
            version: f.version,
        })
    }
}

/// One function's instances.
#[derive(Debug)]
struct Pool {
    spec: Spec,
    /// `concurrency` permits; one per running invocation. Closed at shutdown.
    permits: Arc<Semaphore>,
    /// Idle instances, the most recently used last.
    idle: Mutex<Vec<Instance>>,
    /// Replaced by a pool with another spec: instances coming back are stopped.
    retired: AtomicBool,
}

impl Pool {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The warmest idle instance still alive.
    fn take(&self) -> Option<Instance> {
        let mut dead = Vec::new();
        let found = {
            let mut idle = self.idle();
            loop {
                match idle.pop() {
                    Some(i) if i.slot.is_alive() => break Some(i),
                    Some(i) => dead.push(i),
                    None => break None,
                }
            }
        };
        drop(dead);
        found
    }

    /// Takes instance `id` out if it is idle (for the reaper).
    fn take_idle(&self, id: u64) -> Option<Instance> {
        let mut idle = self.idle();
        let at = idle.iter().position(|i| i.id == id)?;
        Some(idle.remove(at))
    }
}

impl ProcessInvoker {
    pub fn new(settings: ProcessSettings) -> Self {
        Self {
            shared: Arc::new(Shared::new(settings)),
        }
    }

    /// Stops every instance; see the module doc. Later invocations are refused.
    pub async fn shutdown(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        let pools: Vec<Arc<Pool>> = {
            let mut pools = self
                .shared
                .pools
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pools.drain().map(|(_, p)| p).collect()
        };
        for pool in &pools {
            pool.permits.close();
            let idle = std::mem::take(&mut *pool.idle());
            drop(idle);
        }
        drop(
            self.shared
                .live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let mut rx = self.shared.all_exited.lock().await;
        while rx.recv().await.is_some() {}
        tracing::debug!("Function instances stopped.");
    }

    /// Counts instances that have ended (exited, killed or reaped), for tests and figures.
    pub fn ended_instances(&self) -> watch::Receiver<u64> {
        self.shared.ended.subscribe()
    }

    /// Idle instances of `function` now.
    pub fn idle_instances(&self, function: &str) -> usize {
        let pools = self
            .shared
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pools.get(function).map_or(0, |p| p.idle().len())
    }

    /// The pool for `spec`, made (or remade, when the function changed) on first use.
    fn pool(&self, spec: Spec) -> Arc<Pool> {
        let mut pools = self
            .shared
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = spec.key();
        if let Some(p) = pools.get(&key) {
            if p.spec == spec {
                return p.clone();
            }
            p.retired.store(true, Ordering::SeqCst);
            drop(std::mem::take(&mut *p.idle()));
            tracing::info!(function = %spec.name, "Function changed; its instances are replaced.");
        }
        let pool = Arc::new(Pool {
            permits: Arc::new(Semaphore::new(spec.concurrency as usize)),
            spec: spec.clone(),
            idle: Mutex::new(Vec::new()),
            retired: AtomicBool::new(false),
        });
        pools.insert(key, pool.clone());
        pool
    }

    async fn run(&self, request: InvokeRequest, context: InvokeContext) -> InvokeReport {
        let request_id = context
            .request_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let name = request.function.name.clone();
        let report = |outcome, log_tail| InvokeReport {
            outcome,
            request_id: Some(request_id.clone()),
            log_tail,
        };
        let Some(spec) = Spec::of(&request.function) else {
            return report(
                Err(InvokeError::Unsupported(
                    name,
                    "not a command function".into(),
                )),
                None,
            );
        };
        if self.shared.closed.load(Ordering::SeqCst) {
            return report(Err(shutting_down(&name)), None);
        }
        let pool = self.pool(spec);
        let Ok(permit) = pool.permits.clone().acquire_owned().await else {
            return report(Err(shutting_down(&name)), None);
        };
        let instance = match pool.take() {
            Some(i) => i,
            None => match Instance::spawn(&self.shared, &pool).await {
                Ok(i) => i,
                Err(Spawn::Refused(e)) => return report(Err(e), None),
                Err(Spawn::Failed(inv)) => return report(Ok(inv), None),
            },
        };
        let started = Instant::now();
        let run = instance
            .invoke(
                request,
                &request_id,
                context.client_context,
                self.shared.settings.init_limit,
            )
            .await;
        if let Some(runtime) = run.runtime_time {
            let total = started.elapsed();
            tracing::debug!(
                function = %name,
                request_id = %request_id,
                total_us = total.as_micros() as u64,
                runtime_us = runtime.as_micros() as u64,
                overhead_us = total.saturating_sub(runtime).as_micros() as u64,
                "Invocation finished."
            );
        }
        let keep = run.keep
            && !self.shared.closed.load(Ordering::SeqCst)
            && !pool.retired.load(Ordering::SeqCst);
        if keep {
            instance.idle_until(Instant::now() + self.shared.settings.idle_timeout);
            pool.idle().push(instance);
        } else {
            drop(instance);
        }
        drop(permit);
        report(Ok(run.outcome), Some(run.tail))
    }
}

fn shutting_down(name: &str) -> InvokeError {
    InvokeError::Unreachable(name.to_owned(), "Sluice is shutting down".into())
}

impl Invoker for ProcessInvoker {
    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_> {
        Box::pin(async move { self.run(request, InvokeContext::default()).await.outcome })
    }

    fn invoke_with(
        &self,
        request: InvokeRequest,
        context: InvokeContext,
    ) -> InvokeReportFuture<'_> {
        Box::pin(self.run(request, context))
    }
}

/// Why no instance could be started.
enum Spawn {
    /// Sluice could not (shutting down, no port): not the function's fault.
    Refused(InvokeError),
    /// The function's command or workdir is wrong: a function error, as on Lambda.
    Failed(Invocation),
}

/// One running process; dropping it kills the process (see the supervisor).
#[derive(Debug)]
struct Instance {
    id: u64,
    slot: Arc<RuntimeSlot>,
    capture: Arc<LogCapture>,
    logs: LogPipe,
    /// The idle deadline the supervisor's timer waits for.
    idle: watch::Sender<Option<Instant>>,
    /// Dropped with the instance: the supervisor then kills the process group.
    _kill: oneshot::Sender<()>,
    api: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.api.abort();
    }
}

/// One invocation's end.
struct Run {
    outcome: Invocation,
    /// The instance may take the next invocation.
    keep: bool,
    tail: Vec<u8>,
    /// From the event taken to the answer received: the runtime's share.
    runtime_time: Option<Duration>,
}

impl Instance {
    /// Starts a process for `pool`'s function.
    async fn spawn(shared: &Arc<Shared>, pool: &Arc<Pool>) -> Result<Self, Spawn> {
        let spec = &pool.spec;
        let Some(live) = shared
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        else {
            return Err(Spawn::Refused(shutting_down(&spec.name)));
        };
        let unreachable = |e: std::io::Error| {
            Spawn::Refused(InvokeError::Unreachable(
                spec.name.clone(),
                format!("cannot start an instance: {e}"),
            ))
        };
        let cwd = std::env::current_dir().map_err(unreachable)?;
        let workdir = spec.workdir.as_ref().map(|w| cwd.join(w));
        if let Some(w) = &workdir
            && !w.is_dir()
        {
            return Err(Spawn::Failed(Invocation::function_error(
                "Runtime.InvalidWorkingDir",
                &format!("Error: chdir {}: no such file or directory", w.display()),
            )));
        }
        let task_root = workdir.clone().unwrap_or_else(|| cwd.clone());

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(unreachable)?;
        let api_addr = listener.local_addr().map_err(unreachable)?;
        let slot = Arc::new(RuntimeSlot::new());
        let router = runtime_api::router(slot.clone());
        let api = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(error = %e, "Runtime API listener failed.");
            }
        });

        let capture = Arc::new(LogCapture::new(&spec.name));
        let (logs, theirs) = LogPipe::start(capture.clone()).map_err(unreachable)?;
        let program = program_path(&spec.command[0], workdir.as_deref());
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&spec.command[1..])
            .current_dir(&task_root)
            .env_clear()
            .envs(std::env::vars_os().filter(|(k, _)| inherited(k)))
            .envs(lambda_env(
                &shared.settings,
                spec,
                &api_addr.to_string(),
                &task_root,
            ))
            .envs(&spec.environment)
            .stdin(std::process::Stdio::null())
            .stdout(std::os::fd::OwnedFd::from(
                theirs.try_clone().map_err(unreachable)?,
            ))
            .stderr(std::os::fd::OwnedFd::from(theirs))
            .process_group(0)
            .kill_on_drop(true);
        let spawned = cmd.spawn();
        // The command holds the child's ends of the socket: drop it so the reader sees the
        // end of the output when the process (group) is gone.
        drop(cmd);
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                api.abort();
                return Err(Spawn::Failed(Invocation::function_error(
                    "Runtime.InvalidEntrypoint",
                    &format!("Error: fork/exec {}: {}", program.display(), e),
                )));
            }
        };
        let id = shared.next_instance.fetch_add(1, Ordering::Relaxed);
        let (kill_tx, kill_rx) = oneshot::channel();
        let (idle_tx, idle_rx) = watch::channel(None);
        tracing::debug!(function = %spec.name, instance = id, runtime_api = %api_addr, "Function instance started.");
        tokio::spawn(supervise(
            child,
            slot.clone(),
            kill_rx,
            idle_rx,
            Arc::downgrade(pool),
            id,
            (live, Arc::downgrade(shared)),
        ));
        Ok(Self {
            id,
            slot,
            capture,
            logs,
            idle: idle_tx,
            _kill: kill_tx,
            api,
        })
    }

    fn idle_until(&self, deadline: Instant) {
        self.idle.send_replace(Some(deadline));
    }

    /// Hands one invocation to the runtime and waits for its end.
    async fn invoke(
        &self,
        request: InvokeRequest,
        request_id: &str,
        client_context: Option<String>,
        init_limit: Duration,
    ) -> Run {
        let timeout = request.timeout;
        let (picked_tx, picked_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        self.capture.begin(request_id);
        let event = Event {
            request_id: request_id.to_owned(),
            payload: Bytes::from(request.payload),
            function_arn: request.function_arn,
            timeout,
            trace_id: trace_id(),
            client_context,
            cognito_identity: None,
            picked: picked_tx,
            reply: reply_tx,
        };
        let mut health = self.slot.health();
        if self.slot.offer(event).is_err() {
            return self
                .end(
                    Invocation::function_error(
                        "Runtime.Unknown",
                        &format!("RequestId: {request_id} Error: the instance is busy"),
                    ),
                    false,
                    None,
                )
                .await;
        }
        // Init (or the runtime's way back to `next`): bounded by Lambda's Init limit.
        let picked = tokio::select! {
            biased;
            p = picked_rx => p.ok(),
            h = wait_failed(&mut health) => return self.failed(h, request_id).await,
            () = tokio::time::sleep(init_limit) => {
                let msg = format!(
                    "{} {request_id} Init timed out after {:.2} seconds",
                    rfc3339_now(),
                    init_limit.as_secs_f64()
                );
                return self.timed_out(&msg).await;
            }
        };
        let Some(picked_at) = picked else {
            let h = self.slot.health().borrow().clone();
            return self.failed(h, request_id).await;
        };
        let deadline = tokio::time::Instant::from_std(picked_at + timeout);
        tokio::select! {
            biased;
            reply = reply_rx => match reply {
                Ok(reply) => {
                    let runtime_time = reply.at.saturating_duration_since(picked_at);
                    let outcome = match reply.answer {
                        Answer::Response(body) => Invocation::Ok(body.to_vec()),
                        Answer::Error { error_type, body } => error_document(&error_type, &body),
                        Answer::TooLarge => Invocation::function_error(
                            "Function.ResponseSizeTooLarge",
                            &format!(
                                "Response payload size exceeded maximum allowed payload size ({} bytes).",
                                runtime_api::MAX_RESPONSE
                            ),
                        ),
                    };
                    self.end(outcome, true, Some(runtime_time)).await
                }
                Err(_) => {
                    let h = self.slot.health().borrow().clone();
                    self.failed(h, request_id).await
                }
            },
            h = wait_failed(&mut health) => self.failed(h, request_id).await,
            () = tokio::time::sleep_until(deadline) => {
                let msg = format!(
                    "{} {request_id} Task timed out after {:.2} seconds",
                    rfc3339_now(),
                    timeout.as_secs_f64()
                );
                self.timed_out(&msg).await
            }
        }
    }

    /// Timed out: the instance is killed (by the caller dropping it) and replaced.
    async fn timed_out(&self, message: &str) -> Run {
        self.logs.sync().await;
        self.capture.note(message);
        self.end(
            Invocation::function_error("Sandbox.Timedout", message),
            false,
            None,
        )
        .await
    }

    /// The process ended or failed its init.
    async fn failed(&self, health: Health, request_id: &str) -> Run {
        let outcome = match health {
            Health::InitFailed { error_type, body } => error_document(&error_type, &body),
            Health::Exited(how) => {
                let message = if how == "exit status 0" {
                    format!(
                        "RequestId: {request_id} Error: Runtime exited without providing a reason"
                    )
                } else {
                    format!("RequestId: {request_id} Error: Runtime exited with error: {how}")
                };
                self.logs.sync().await;
                self.capture.note(&message);
                self.capture.note("Runtime.ExitError");
                Invocation::function_error("Runtime.ExitError", &message)
            }
            // Not reached: callers pass a failed health; treat as lost.
            Health::Alive => Invocation::function_error(
                "Runtime.Unknown",
                &format!("RequestId: {request_id} Error: the runtime did not answer"),
            ),
        };
        self.end(outcome, false, None).await
    }

    /// Reads the invocation's last lines, then closes it.
    async fn end(&self, outcome: Invocation, keep: bool, runtime_time: Option<Duration>) -> Run {
        self.logs.sync().await;
        Run {
            outcome,
            keep,
            tail: self.capture.finish(),
            runtime_time,
        }
    }
}

/// Resolves when the instance has failed, with how.
async fn wait_failed(health: &mut watch::Receiver<Health>) -> Health {
    match health.wait_for(|h| *h != Health::Alive).await {
        Ok(h) => h.clone(),
        Err(_) => Health::Exited("lost".into()),
    }
}

/// The runtime's error document as the result; one is made when the body is not one.
fn error_document(header_type: &str, body: &[u8]) -> Invocation {
    let doc = serde_json::from_slice::<serde_json::Value>(body).ok();
    match doc.as_ref().and_then(|d| d.as_object()) {
        Some(obj) => {
            let error_type = obj
                .get("errorType")
                .and_then(|t| t.as_str())
                .unwrap_or(header_type)
                .to_owned();
            Invocation::FunctionError {
                error_type,
                payload: body.to_vec(),
            }
        }
        None => Invocation::function_error(
            header_type,
            &String::from_utf8_lossy(&body[..body.len().min(4096)]),
        ),
    }
}

/// `command[0]`, resolved against the workdir when it is a relative path (`./bootstrap`),
/// so it does not depend on how the platform orders chdir and exec.
fn program_path(program: &str, workdir: Option<&Path>) -> PathBuf {
    let p = Path::new(program);
    match workdir {
        Some(w) if p.is_relative() && p.components().count() > 1 => w.join(p),
        _ => p.to_path_buf(),
    }
}

/// True for Sluice's variables an instance inherits (see the module doc).
fn inherited(key: &std::ffi::OsStr) -> bool {
    let k = key.to_string_lossy();
    !(k.starts_with("AWS_")
        || k.starts_with("LAMBDA_")
        || k.starts_with("_X_AMZN")
        || k == "_HANDLER"
        || k == "TZ")
}

/// What Lambda sets in a function's environment.
fn lambda_env(
    settings: &ProcessSettings,
    spec: &Spec,
    runtime_api: &str,
    task_root: &Path,
) -> Vec<(String, String)> {
    let now = time::OffsetDateTime::now_utc();
    let stream = format!(
        "{:04}/{:02}/{:02}/[{}]{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        spec.version_name(),
        uuid::Uuid::new_v4().simple()
    );
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), spec.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), spec.version_name()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            spec.memory_size.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", spec.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_REGION".into(), settings.region.clone()),
        ("AWS_DEFAULT_REGION".into(), settings.region.clone()),
        (
            "LAMBDA_TASK_ROOT".into(),
            task_root.to_string_lossy().into_owned(),
        ),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_SESSION_TOKEN".into(), "test".into()),
        ("TZ".into(), ":UTC".into()),
    ];
    if let Some(h) = &spec.handler {
        env.push(("_HANDLER".into(), h.clone()));
    }
    if let Some(e) = &settings.endpoint {
        env.push(("AWS_ENDPOINT_URL".into(), e.clone()));
    }
    env
}

/// An X-Ray trace header as Lambda passes it (`Root=1-<epoch hex>-<96 bits>;…`).
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let root = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &root[..24],
        &parent[..16]
    )
}

/// Now as Lambda writes it in timeout messages: `2026-01-01T00:00:00.000Z`.
fn rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// How a process ended, as Go (and so Lambda) words it.
fn describe_exit(status: std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(sig)) => format!(
                "signal: {}",
                match sig {
                    6 => "aborted".to_owned(),
                    9 => "killed".to_owned(),
                    11 => "segmentation fault".to_owned(),
                    15 => "terminated".to_owned(),
                    n => n.to_string(),
                }
            ),
            (None, None) => "exit status unknown".into(),
        },
        Err(e) => format!("wait failed: {e}"),
    }
}

/// Owns the child until it is gone: see the module doc.
async fn supervise(
    mut child: tokio::process::Child,
    slot: Arc<RuntimeSlot>,
    mut kill: oneshot::Receiver<()>,
    mut idle: watch::Receiver<Option<Instant>>,
    pool: Weak<Pool>,
    id: u64,
    (live, shared): (mpsc::Sender<()>, Weak<Shared>),
) {
    let pgid = child
        .id()
        .and_then(|p| rustix::process::Pid::from_raw(p as i32));
    let mut deadline: Option<Instant> = None;
    let mut idle_open = true;
    let how = loop {
        tokio::select! {
            biased;
            _ = &mut kill => {
                kill_group(pgid);
                let _ = child.start_kill();
                break describe_exit(child.wait().await);
            }
            status = child.wait() => break describe_exit(status),
            changed = idle.changed(), if idle_open => match changed {
                Ok(()) => deadline = *idle.borrow_and_update(),
                Err(_) => idle_open = false,
            },
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(
                deadline.unwrap_or_else(Instant::now),
            )), if deadline.is_some() => {
                deadline = None;
                // Still idle: taken out and dropped, which fires the kill branch.
                if let Some(p) = pool.upgrade()
                    && let Some(instance) = p.take_idle(id)
                {
                    tracing::debug!(function = %p.spec.name, instance = id, "Idle function instance stopped.");
                    drop(instance);
                }
            }
        }
    };
    // Whatever the runtime started in its group goes with it.
    kill_group(pgid);
    tracing::debug!(instance = id, how = %how, "Function instance ended.");
    slot.mark_exited(how);
    if let Some(s) = shared.upgrade() {
        s.ended.send_modify(|n| *n += 1);
    }
    drop(live);
}

fn kill_group(pgid: Option<rustix::process::Pid>) {
    if let Some(p) = pgid {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests;
