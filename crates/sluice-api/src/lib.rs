//! Every HTTP surface of Sluice, on one port, wire-compatible with AWS.
//!
//! # Layout
//!
//! - [`protocol`]: error envelopes and routing helpers per protocol family (rest-json for
//!   Lambda, awsJson by `X-Amz-Target`, query by `Action` + SigV4 scope).
//! - [`kinesis`]: the Kinesis API (JSON 1.1 and CBOR) on the embedded Kinesis store.
//! - [`dynamodb`]: the DynamoDB and DynamoDB Streams APIs (JSON 1.0) on the embedded
//!   DynamoDB store.
//! - [`sqs`]: the SQS API (JSON 1.0 and query protocol) on the embedded SQS store.
//! - [`lambda`]: the Lambda REST API: event source mappings, functions, tags, Invoke; one
//!   file per operation under `lambda/ops/`.
//! - [`state`]: what handlers share ([`AppState`]).
//!
//! Routing: Lambda by path (`/2015-03-31/...`, `/2017-03-31/tags/...`); Sluice's own
//! endpoints under `/_sluice/`; everything else is `POST /` dispatched by `X-Amz-Target`
//! (Kinesis, SQS, DynamoDB, DynamoDB Streams) or by `Action` and the SigV4 service (SQS and
//! SNS query protocol).

pub mod dynamodb;
pub mod kinesis;
pub mod lambda;
pub mod protocol;
mod sluice_ops;
pub mod sns;
pub mod sqs;
pub mod state;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;

pub use state::{AppState, InFlight};

/// The largest request body any operation accepts (a base64 50 MB zip with its JSON framing).
pub const MAX_BODY: usize = 70 * 1024 * 1024;

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(lambda::routes())
        .merge(sluice_ops::routes())
        .fallback(sluice_ops::dispatch_root)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(add_request_id))
        .with_state(state)
}

/// Every answer carries `x-amzn-RequestId`, as AWS's do.
async fn add_request_id(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key("x-amzn-requestid")
        && let Ok(v) = HeaderValue::from_str(&protocol::request_id())
    {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    resp
}
