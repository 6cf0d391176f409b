//! The Lambda Runtime API (2018-06-01) that one function instance talks to.
//!
//! Every instance has its own listener on `127.0.0.1:0`, named in the instance's
//! `AWS_LAMBDA_RUNTIME_API` (`host:port`: runtime clients accept nothing else, so a path
//! prefix per instance on one shared listener is not an option). Routes, status codes and
//! error bodies are those of AWS's runtime interface emulator:
//!
//! | route | answer |
//! |---|---|
//! | `GET  /2018-06-01/runtime/invocation/next` | 200, the event, with `Lambda-Runtime-*` headers; waits until there is one |
//! | `POST /2018-06-01/runtime/invocation/{id}/response` | 202 `{"status":"OK"}`; 413 `RequestEntityTooLarge` over 6 MB + 100 bytes |
//! | `POST /2018-06-01/runtime/invocation/{id}/error` | 202; the invocation is a function error |
//! | `POST /2018-06-01/runtime/init/error` | 202; the instance has failed |
//!
//! An `{id}` other than the current invocation's is 400 `InvalidRequestID`; a transition the
//! state machine does not allow (a second answer, `init/error` after init) is 403
//! `InvalidStateTransition` with the emulator's message.
//!
//! ```text
//!             next                    event taken               response | error
//!  Started ─────────▶ Ready (waiting) ─────────────▶ Running ───────────────────▶ ResponseSent
//!     │                    ▲                                                        │
//!     │ init/error         └──────────────────────── next ◀─────────────────────────┘
//!     ▼
//!  InitError (final: the instance is replaced)
//! ```
//!
//! `next` while an invocation is Running (no answer yet) is refused with 403, where the
//! emulator would hand the same event out again: one invocation at a time, answered once.
//! This module owns the protocol only; starting, timing and killing the process is
//! `process.rs`'s.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot, watch};

/// Largest response or error body a runtime may post (the emulator's 6 MiB + 100 bytes).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024 + 100;

/// One invocation handed to the runtime.
#[derive(Debug)]
pub struct Event {
    pub request_id: String,
    pub payload: Bytes,
    pub function_arn: String,
    /// The function's timeout; the deadline runs from the moment the runtime takes the event.
    pub timeout: Duration,
    pub trace_id: String,
    /// `Lambda-Runtime-Client-Context`, when the caller sent one.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`, when the caller has one.
    pub cognito_identity: Option<String>,
    /// Told when the runtime takes the event, with the instant the deadline counts from.
    pub picked: oneshot::Sender<Instant>,
    /// Told the runtime's answer.
    pub reply: oneshot::Sender<Reply>,
}

/// What the runtime answered.
#[derive(Debug)]
pub struct Reply {
    pub answer: Answer,
    /// When the answer arrived (for the invoker's overhead figures).
    pub at: Instant,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// `/response`: the result.
    Response(Bytes),
    /// `/error`: `Lambda-Runtime-Function-Error-Type` and the error document.
    Error { error_type: String, body: Bytes },
    /// A result larger than [`MAX_RESPONSE`]; its size as far as read.
    TooLarge,
}

/// How the instance stands, as the invoker watches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Alive,
    /// The runtime posted `init/error`: its error type and document.
    InitFailed {
        error_type: String,
        body: Bytes,
    },
    /// The process is gone; how it ended, worded as Lambda words it ("exit status 1").
    Exited(String),
}

/// The runtime's state (names as the emulator reports them in its 403 messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Started,
    Ready,
    Running,
    ResponseSent,
    InitError,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Self::Started => "Started",
            Self::Ready => "Ready",
            Self::Running => "Running",
            Self::ResponseSent => "RuntimeResponseSentState",
            Self::InitError => "InitError",
        }
    }
}

/// The transitions the routes ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    Next,
    Response,
    ErrorResponse,
    InitError,
}

impl Transition {
    fn target(self) -> &'static str {
        match self {
            Self::Next => "Ready",
            Self::Response => "InvocationResponse",
            Self::ErrorResponse => "InvocationErrorResponse",
            Self::InitError => "InitError",
        }
    }
}

/// The state machine's one transition function: the phase after `t`, or `None` when the
/// emulator refuses it.
fn transition(phase: Phase, t: Transition) -> Option<Phase> {
    match (phase, t) {
        (Phase::Started | Phase::Ready | Phase::ResponseSent, Transition::Next) => {
            Some(Phase::Ready)
        }
        (Phase::Running, Transition::Response | Transition::ErrorResponse) => {
            Some(Phase::ResponseSent)
        }
        (Phase::Started, Transition::InitError) => Some(Phase::InitError),
        _ => None,
    }
}

/// One instance's side of the Runtime API: the event queue and the runtime's state.
#[derive(Debug)]
pub struct RuntimeSlot {
    events_tx: mpsc::Sender<Event>,
    /// Held across the wait in `next` (a Tokio mutex for that reason); one `next` at a time.
    events_rx: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    state: Mutex<SlotState>,
    health: watch::Sender<Health>,
}

#[derive(Debug)]
struct SlotState {
    phase: Phase,
    /// The id of the last event handed out; answers must name it.
    current: Option<String>,
    /// Where its answer goes; taken by the first answer.
    reply: Option<oneshot::Sender<Reply>>,
}

impl Default for RuntimeSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl RuntimeSlot {
    pub fn new() -> Self {
        let (events_tx, events_rx) = mpsc::channel(1);
        Self {
            events_tx,
            events_rx: tokio::sync::Mutex::new(events_rx),
            state: Mutex::new(SlotState {
                phase: Phase::Started,
                current: None,
                reply: None,
            }),
            health: watch::channel(Health::Alive).0,
        }
    }

    /// Queues an event for the runtime's next `next`. Gives it back when one is already
    /// queued (the instance takes one invocation at a time).
    pub fn offer(&self, event: Event) -> Result<(), Box<Event>> {
        self.events_tx.try_send(event).map_err(|e| match e {
            mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => {
                Box::new(ev)
            }
        })
    }

    pub fn health(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }

    pub fn is_alive(&self) -> bool {
        *self.health.borrow() == Health::Alive
    }

    /// Records that the process ended, unless an init error already says why.
    pub fn mark_exited(&self, how: String) {
        self.health.send_if_modified(|h| match h {
            Health::Alive => {
                *h = Health::Exited(how);
                true
            }
            _ => false,
        });
    }

    pub fn phase(&self) -> Phase {
        self.lock().phase
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Runtime API routes for `slot`.
pub fn router(slot: std::sync::Arc<RuntimeSlot>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(slot)
}

type Slot = State<std::sync::Arc<RuntimeSlot>>;

/// The emulator's error body, `{"errorMessage", "errorType"}`.
fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({"errorMessage": message, "errorType": error_type});
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn forbidden(from: Phase, t: Transition) -> Response {
    api_error(
        StatusCode::FORBIDDEN,
        "InvalidStateTransition",
        &format!(
            "State transition from {} to {} failed for runtime. Error: State transition is not allowed",
            from.name(),
            t.target()
        ),
    )
}

fn invalid_request_id() -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn next(State(slot): Slot) -> Response {
    {
        let mut s = slot.lock();
        match transition(s.phase, Transition::Next) {
            Some(p) => s.phase = p,
            None => return forbidden(s.phase, Transition::Next),
        }
    }
    // Also ends when the process is gone: hyper does not notice a closed connection while a
    // handler is pending, and a `next` left waiting would keep its connection task forever.
    let mut health = slot.health();
    let event = tokio::select! {
        ev = async { slot.events_rx.lock().await.recv().await } => ev,
        _ = health.wait_for(|h| *h != Health::Alive) => None,
    };
    let Some(event) = event else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal Server Error",
        );
    };
    let started = Instant::now();
    let deadline = SystemTime::now() + event.timeout;
    {
        let mut s = slot.lock();
        s.phase = Phase::Running;
        s.current = Some(event.request_id.clone());
        s.reply = Some(event.reply);
    }
    let _ = event.picked.send(started);
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut resp = Response::new(Body::from(event.payload));
    let h = resp.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if !value.is_empty()
            && let Ok(v) = HeaderValue::from_str(value)
        {
            h.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &event.request_id);
    set("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &event.function_arn);
    set("lambda-runtime-trace-id", &event.trace_id);
    if let Some(c) = &event.client_context {
        set("lambda-runtime-client-context", c);
    }
    if let Some(c) = &event.cognito_identity {
        set("lambda-runtime-cognito-identity", c);
    }
    set("content-type", "application/json");
    resp
}

/// Reads a posted body up to [`MAX_RESPONSE`]; `None` when it is larger.
async fn read_body(body: Body) -> Option<Bytes> {
    axum::body::to_bytes(body, MAX_RESPONSE).await.ok()
}

/// Checks the id and the transition, then hands the answer over.
fn answer(slot: &RuntimeSlot, id: &str, t: Transition, answer: Answer) -> Response {
    let at = Instant::now();
    let mut s = slot.lock();
    if s.current.as_deref() != Some(id) {
        return invalid_request_id();
    }
    let Some(p) = transition(s.phase, t) else {
        return forbidden(s.phase, t);
    };
    s.phase = p;
    let too_large = answer == Answer::TooLarge;
    if let Some(reply) = s.reply.take() {
        let _ = reply.send(Reply { answer, at });
    }
    drop(s);
    if too_large {
        api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."),
        )
    } else {
        accepted()
    }
}

async fn response(State(slot): Slot, Path(id): Path<String>, body: Body) -> Response {
    let a = match read_body(body).await {
        Some(b) => Answer::Response(b),
        None => Answer::TooLarge,
    };
    answer(&slot, &id, Transition::Response, a)
}

/// `Lambda-Runtime-Function-Error-Type` as the emulator keeps it: `Runtime.X` and
/// `Function.X` as given, anything else `Runtime.Unknown` (`Function.Unknown` for a
/// malformed `Function.` type).
fn error_type(headers: &HeaderMap) -> String {
    let given = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let well_formed = |rest: &str| {
        let mut chars = rest.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.clone().next().is_some()
            && chars.all(|c| c.is_ascii_alphabetic())
    };
    for prefix in ["Runtime.", "Function."] {
        if let Some(rest) = given.strip_prefix(prefix)
            && well_formed(rest)
        {
            return given.to_owned();
        }
    }
    if given.starts_with("Function.") {
        "Function.Unknown".into()
    } else {
        "Runtime.Unknown".into()
    }
}

async fn error(
    State(slot): Slot,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let a = match read_body(body).await {
        Some(body) => Answer::Error {
            error_type: error_type(&headers),
            body,
        },
        None => Answer::TooLarge,
    };
    answer(&slot, &id, Transition::ErrorResponse, a)
}

async fn init_error(State(slot): Slot, headers: HeaderMap, body: Body) -> Response {
    let body = read_body(body).await.unwrap_or_default();
    {
        let mut s = slot.lock();
        let Some(p) = transition(s.phase, Transition::InitError) else {
            return forbidden(s.phase, Transition::InitError);
        };
        s.phase = p;
    }
    let error_type = error_type(&headers);
    slot.health.send_if_modified(|h| match h {
        Health::Alive => {
            *h = Health::InitFailed { error_type, body };
            true
        }
        _ => false,
    });
    accepted()
}

#[cfg(test)]
mod tests;
