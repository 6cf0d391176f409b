//! The Lambda REST API (rest-json, API version 2015-03-31; tags 2017-03-31): event source
//! mappings, functions, tags and Invoke. One file per operation under [`ops`].

mod catalog;
pub mod model;
pub mod ops;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use sluice_store::DataDir;

pub use catalog::StoreCatalog;

use crate::AppState;
use crate::protocol::rest_json::{LambdaCode, LambdaError};

pub fn routes() -> Router<AppState> {
    use ops::*;
    let esm = "/2015-03-31/event-source-mappings";
    let functions = "/2015-03-31/functions";
    Router::new()
        .route(
            esm,
            post(create_event_source_mapping::handle).get(list_event_source_mappings::handle),
        )
        .route(
            &format!("{esm}/"),
            post(create_event_source_mapping::handle).get(list_event_source_mappings::handle),
        )
        .route(
            &format!("{esm}/{{uuid}}"),
            get(get_event_source_mapping::handle)
                .put(update_event_source_mapping::handle)
                .delete(delete_event_source_mapping::handle),
        )
        .route(
            functions,
            post(create_function::handle).get(list_functions::handle),
        )
        .route(
            &format!("{functions}/"),
            post(create_function::handle).get(list_functions::handle),
        )
        .route(
            &format!("{functions}/{{name}}"),
            get(get_function::handle).delete(delete_function::handle),
        )
        .route(
            &format!("{functions}/{{name}}/configuration"),
            get(get_function_configuration::handle).put(update_function_configuration::handle),
        )
        .route(
            &format!("{functions}/{{name}}/code"),
            axum::routing::put(update_function_code::handle),
        )
        .route(
            &format!("{functions}/{{name}}/versions"),
            post(publish_version::handle).get(list_versions_by_function::handle),
        )
        .route(
            &format!("{functions}/{{name}}/aliases"),
            post(create_alias::handle).get(list_aliases::handle),
        )
        .route(
            &format!("{functions}/{{name}}/aliases/{{alias}}"),
            get(get_alias::handle)
                .put(update_alias::handle)
                .delete(delete_alias::handle),
        )
        .route(
            &format!("{functions}/{{name}}/invocations"),
            post(invoke::handle),
        )
        .route(
            "/2017-03-31/tags/{arn}",
            get(list_tags::handle)
                .post(tag_resource::handle)
                .delete(untag_resource::handle),
        )
}

/// Runs store work off the async threads (redb commits fsync).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, LambdaError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| LambdaError::internal(&e))
}

/// Parses a JSON request body; an empty body is `{}`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, LambdaError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        LambdaError::new(
            LambdaCode::InvalidRequestContent,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Where an API-deployed function's zip lives: content-addressed, so a refused or crashed
/// CreateFunction never overwrites a live function's code.
pub fn code_path(dir: &DataDir, name: &str, sha256_b64: &str) -> PathBuf {
    sluice_store::code::zip_path(dir, name, sha256_b64)
}

/// The `Function not found: <arn>` error.
pub fn function_not_found(arn: &str) -> LambdaError {
    LambdaError::not_found(format!("Function not found: {arn}"))
}
