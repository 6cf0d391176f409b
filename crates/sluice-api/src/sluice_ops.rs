//! Sluice's own endpoints (`/_sluice/...`) and the `POST /` dispatcher for the awsJson and
//! query protocols.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::aws_json::{JsonError, JsonService};
use crate::protocol::aws_query::QueryError;
use crate::protocol::rest_json::LambdaError;
use crate::protocol::{form_pairs, request_id, sigv4_service};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sluice/health", get(health))
        .route("/_sluice/sources", get(sources))
        .route("/_sluice/functions/{name}/code", get(function_code))
        .route("/_sluice/outbox", get(outbox))
        .route("/_sluice/quiescent", get(quiescent))
}

/// 200 once the server serves: the listener is bound and the store is open before the
/// router exists.
async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// Declared streams, queues, topics and table streams, with their ARNs.
async fn sources(State(app): State<AppState>) -> Result<Response, LambdaError> {
    let store = app.store.clone();
    let list = blocking(move || store.list_sources()).await??;
    let items: Vec<_> = list
        .iter()
        .map(|s| {
            serde_json::json!({
                "Arn": s.arn,
                "Kind": format!("{:?}", s.kind),
                "Name": s.name,
                "Attributes": s.attributes,
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "Sources": items })).into_response())
}

/// On-failure records kept for a destination (`?destination=<queue or topic ARN>`) that
/// neither the embedded SQS nor SNS serves (a declared topic deleted since), oldest first.
async fn outbox(
    State(app): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, LambdaError> {
    let destination = form_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "destination")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let store = app.store.clone();
    let records = blocking(move || store.outbox(&destination)).await??;
    Ok(axum::Json(serde_json::json!({ "Records": records })).into_response())
}

/// Longest `GET /_sluice/quiescent` wait.
const MAX_QUIESCENT_WAIT_MS: u64 = 300_000;

/// `GET /_sluice/quiescent[?timeout_ms=N]`: answers once everything written so far has been
/// processed — every enabled mapping caught up with nothing in hand (stream consumers at the
/// end of their shards, queues empty, none in flight after a failure), no mapping in a
/// transitional state, no asynchronous invocation running, no SNS delivery pending — or
/// when `timeout_ms` (default 10,000) has passed. 200 `{"Quiescent": true}`, or
/// `{"Quiescent": false, "Busy": [...]}` naming what is still working. For tests that must
/// not sleep: write, then wait here, then assert.
async fn quiescent(
    State(app): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, LambdaError> {
    let timeout = match form_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "timeout_ms")
    {
        None => 10_000,
        Some((_, v)) => match v.parse::<u64>() {
            Ok(ms) if ms <= MAX_QUIESCENT_WAIT_MS => ms,
            _ => {
                return Err(LambdaError::new(
                    crate::protocol::rest_json::LambdaCode::InvalidParameterValue,
                    format!(
                        "timeout_ms must be a whole number of milliseconds from 0 to {MAX_QUIESCENT_WAIT_MS}."
                    ),
                ));
            }
        },
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(timeout);
    loop {
        let probe = app.clone();
        let busy = blocking(move || busy_units(&probe)).await??;
        if busy.is_empty() {
            return Ok(axum::Json(serde_json::json!({"Quiescent": true})).into_response());
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(
                axum::Json(serde_json::json!({"Quiescent": false, "Busy": busy})).into_response(),
            );
        }
        // Only while a client waits here.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// What is still working, by name; empty when everything is idle.
fn busy_units(app: &AppState) -> Result<Vec<String>, LambdaError> {
    use sluice_core::mapping::MappingState;
    let mut busy = Vec::new();
    for m in app.store.list_mappings()? {
        if !matches!(m.state, MappingState::Enabled | MappingState::Disabled) {
            busy.push(format!("mapping {} is {:?}", m.uuid, m.state));
        }
    }
    busy.extend(app.activity.busy());
    let running = app.in_flight.running();
    if running > 0 {
        busy.push(format!("{running} asynchronous invocation(s) running"));
    }
    let pending = app.sns.pending_deliveries();
    if pending > 0 {
        busy.push(format!("{pending} SNS delivery(ies) pending"));
    }
    Ok(busy)
}

/// The zip of an API-deployed function (GetFunction's `Code.Location`), of a published
/// version with `?Qualifier=N`.
async fn function_code(
    State(app): State<AppState>,
    Path(name): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, LambdaError> {
    let store = app.store.clone();
    let dir = app.data_dir.clone();
    let qualifier = crate::lambda::ops::qualifier_param(query.as_deref());
    let found = blocking(move || -> Result<Option<Vec<u8>>, LambdaError> {
        let Some(f) = store.resolve_function(&name, qualifier.as_deref())? else {
            return Ok(None);
        };
        let sluice_core::function::FunctionCode::Zip { sha256, .. } = &f.code else {
            return Ok(None);
        };
        let path = crate::lambda::code_path(&dir, &name, sha256);
        Ok(std::fs::read(path).ok())
    })
    .await??;
    match found {
        Some(bytes) => Ok(([("content-type", "application/zip")], bytes).into_response()),
        None => Ok(StatusCode::NOT_FOUND.into_response()),
    }
}

/// `POST /` (and any other unrouted request): awsJson by `X-Amz-Target`, query by `Action`.
pub async fn dispatch_root(
    State(app): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return match JsonService::from_target(target) {
            Some((JsonService::Kinesis, op)) => {
                let op = op.to_owned();
                crate::kinesis::handle(app, &op, &headers, body).await
            }
            Some((JsonService::Sqs, op)) => {
                let op = op.to_owned();
                crate::sqs::handle_json(app, &op, body).await
            }
            Some((JsonService::DynamoDb, op)) => {
                let op = op.to_owned();
                crate::dynamodb::handle(app, &op, body).await
            }
            Some((JsonService::DynamoDbStreams, op)) => {
                let op = op.to_owned();
                crate::dynamodb::handle_streams(app, &op, body).await
            }
            None => JsonError {
                status: StatusCode::BAD_REQUEST,
                code: "UnknownOperationException".into(),
                message: format!("Unknown target {target}."),
                content_type: "application/x-amz-json-1.1",
            }
            .into_response(),
        };
    }
    let mut form = uri.query().map(form_pairs).unwrap_or_default();
    form.extend(
        std::str::from_utf8(&body)
            .map(form_pairs)
            .unwrap_or_default(),
    );
    if let Some((_, action)) = form.iter().find(|(k, _)| k == "Action") {
        let service = sigv4_service(&headers).unwrap_or_default();
        // SQS by its SigV4 scope, or by an SQS action when the request is unsigned.
        if service == "sqs" || (service.is_empty() && crate::sqs::is_action(action)) {
            return crate::sqs::handle_query(app, uri.path(), &headers, form).await;
        }
        if service == "sns" || (service.is_empty() && crate::sns::is_action(action)) {
            return crate::sns::handle_query(app, form).await;
        }
        tracing::debug!(%service, %action, "Query-protocol request for a service not served yet.");
        return QueryError::invalid_action(action, request_id()).into_response();
    }
    LambdaError::new(
        crate::protocol::rest_json::LambdaCode::ResourceNotFound,
        "Unknown operation.",
    )
    .into_response()
}
