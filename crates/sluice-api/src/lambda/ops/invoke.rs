//! Invoke: `POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=]`.
//!
//! `X-Amz-Invocation-Type`: `RequestResponse` (200, the function's result;
//! `X-Amz-Function-Error: Unhandled` when it failed), `Event` (202, runs in the background),
//! `DryRun` (204, checks only). `X-Amz-Log-Type: Tail` returns the invocation's log lines,
//! base64, in `X-Amz-Log-Result`. A qualifier (`?Qualifier=` or `name:qualifier`) runs that
//! version or alias; `X-Amz-Executed-Version` says which version ran.
//!
//! Payload limits are Lambda's: 6 MB (6291456 bytes) for synchronous invocations, and for
//! `Event` 1 MB (1048576 bytes), raised from 256 KB in 2025 (the Invoke API reference, docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html: "For asynchronous
//! invocations, the maximum payload size is 1 MB"). An `Event` invocation whose function
//! fails is tried twice more, about one and two minutes later ([`EVENT_RETRY_DELAYS`]), as
//! Lambda does by default ("Lambda executes the function up to two more times"). The queue of pending retries lives in memory: a shutdown drops the retries
//! still waiting (logged), where Lambda's queue would keep them.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sluice_core::function::{Invocation, InvokeContext, InvokeError, InvokeRequest, Invoker};
use tokio::sync::watch;

use super::{qualifier_param, resolve_qualified};
use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::request_id;
use crate::protocol::rest_json::{LambdaCode, LambdaError};

/// Largest synchronous invocation payload.
pub const MAX_PAYLOAD: usize = 6_291_456;
/// Largest asynchronous (`Event`) invocation payload.
pub const MAX_EVENT_PAYLOAD: usize = 1_048_576;

/// How long after each failure an `Event` invocation is tried again: twice, as Lambda's
/// default `MaximumRetryAttempts` (2), about one then two minutes apart.
pub const EVENT_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];

/// How much of the log `X-Amz-Log-Result` carries.
const LOG_TAIL: usize = 4096;

/// `X-Amz-Client-Context` (base64 JSON), decoded for the function; ignored when malformed.
fn client_context(headers: &HeaderMap) -> Option<String> {
    let b64 = headers.get("x-amz-client-context")?.to_str().ok()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    String::from_utf8(bytes).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let kind = match headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse")
    {
        "RequestResponse" => InvocationType::RequestResponse,
        "Event" => InvocationType::Event,
        "DryRun" => InvocationType::DryRun,
        other => {
            return Err(LambdaError::new(
                LambdaCode::Validation,
                format!(
                    "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
                ),
            ));
        }
    };
    let tail = headers
        .get("x-amz-log-type")
        .is_some_and(|v| v.as_bytes() == b"Tail");
    if kind == InvocationType::Event && body.len() > MAX_EVENT_PAYLOAD {
        return Err(LambdaError::new(
            LambdaCode::RequestTooLarge,
            format!(
                "{} byte payload is too large for the Event invocation type (limit {MAX_EVENT_PAYLOAD} bytes)",
                body.len()
            ),
        ));
    }
    if body.len() > MAX_PAYLOAD {
        return Err(LambdaError::new(
            LambdaCode::RequestTooLarge,
            format!(
                "Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
            ),
        ));
    }
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".to_vec()
    } else {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            return Err(LambdaError::new(
                LambdaCode::InvalidRequestContent,
                format!(
                    "Could not parse request body into json: Could not parse payload into json: {e}"
                ),
            ));
        }
        body.to_vec()
    };
    let qualifier = qualifier_param(query.as_deref());
    let store = app.store.clone();
    let scope = app.scope.clone();
    let (function, function_arn) =
        blocking(move || resolve_qualified(&store, &scope, &name, qualifier.as_deref())).await??;
    let request = InvokeRequest {
        timeout: function.timeout,
        function,
        function_arn,
        payload,
    };
    match kind {
        InvocationType::DryRun => Ok(StatusCode::NO_CONTENT.into_response()),
        InvocationType::Event => {
            let guard = app.in_flight.start();
            let invoker = app.invoker.clone();
            let closing = app.in_flight.closing();
            tokio::spawn(async move {
                let _guard = guard;
                let _ = run_event(invoker.as_ref(), request, &EVENT_RETRY_DELAYS, closing).await;
            });
            Ok(StatusCode::ACCEPTED.into_response())
        }
        InvocationType::RequestResponse => {
            let memory = request.function.memory_size;
            let version = request.function.version_name();
            let context = InvokeContext {
                request_id: Some(request_id()),
                client_context: client_context(&headers),
            };
            let started = Instant::now();
            let report = app.invoker.invoke_with(request, context).await;
            let elapsed = started.elapsed();
            // The id the function saw, so the response, its log and the function agree.
            let request_id = report.request_id.clone().unwrap_or_else(request_id);
            let (body, error) = match report.outcome {
                Ok(Invocation::Ok(b)) => (b, None),
                Ok(Invocation::FunctionError { payload, .. }) => (payload, Some("Unhandled")),
                Err(e @ InvokeError::Unsupported(..)) => {
                    return Err(LambdaError::new(
                        LambdaCode::ResourceNotReady,
                        e.to_string(),
                    ));
                }
                Err(e @ InvokeError::Unreachable(..)) => {
                    return Err(LambdaError::new(
                        LambdaCode::ResourceNotReady,
                        e.to_string(),
                    ));
                }
            };
            let mut resp = (StatusCode::OK, body).into_response();
            let h = resp.headers_mut();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            if let Ok(v) = HeaderValue::from_str(&version) {
                h.insert("x-amz-executed-version", v);
            }
            if let Some(e) = error {
                h.insert("x-amz-function-error", HeaderValue::from_static(e));
            }
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                h.insert("x-amzn-RequestId", v);
            }
            if tail {
                let ms = elapsed.as_secs_f64() * 1000.0;
                let mut log =
                    format!("START RequestId: {request_id} Version: {version}\n").into_bytes();
                log.extend_from_slice(report.log_tail.as_deref().unwrap_or_default());
                log.extend_from_slice(format!(
                    "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory} MB\tMax Memory Used: {memory} MB\t\n",
                    ms.ceil() as u64
                ).as_bytes());
                // Lambda returns the last 4 KB of the invocation's log.
                let log = &log[log.len().saturating_sub(LOG_TAIL)..];
                let b64 = base64::engine::general_purpose::STANDARD.encode(log);
                if let Ok(v) = HeaderValue::from_str(&b64) {
                    h.insert("x-amz-log-result", v);
                }
            }
            Ok(resp)
        }
    }
}

/// Runs an `Event` invocation: once, then again after each of `delays` while it fails
/// (a function error, or the function could not run). Stops waiting when `closing` turns
/// true. Returns how many attempts ran and the last outcome.
pub async fn run_event(
    invoker: &dyn Invoker,
    request: InvokeRequest,
    delays: &[Duration],
    mut closing: watch::Receiver<bool>,
) -> (usize, Result<Invocation, InvokeError>) {
    let name = request.function.name.clone();
    let mut attempts = 0;
    let mut waits = delays.iter();
    loop {
        attempts += 1;
        let outcome = invoker.invoke(request.clone()).await;
        match &outcome {
            Ok(Invocation::Ok(_)) => {
                tracing::debug!(function = %name, attempts, "Asynchronous invocation succeeded.");
                return (attempts, outcome);
            }
            Ok(Invocation::FunctionError { error_type, .. }) => {
                tracing::warn!(function = %name, %error_type, attempts, "Asynchronous invocation failed.");
            }
            Err(e) => {
                tracing::warn!(function = %name, error = %e, attempts, "Asynchronous invocation could not run.");
            }
        }
        let Some(delay) = waits.next() else {
            tracing::warn!(function = %name, attempts, "Asynchronous invocation discarded after its retries.");
            return (attempts, outcome);
        };
        tokio::select! {
            () = tokio::time::sleep(*delay) => {}
            _ = closing.wait_for(|c| *c) => {
                tracing::warn!(function = %name, attempts, "Asynchronous invocation retry dropped at shutdown.");
                return (attempts, outcome);
            }
        }
    }
}

#[cfg(test)]
mod tests;
