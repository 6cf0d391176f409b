//! GetEventSourceMapping: `GET /2015-03-31/event-source-mappings/{UUID}` → 200.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use sluice_core::mapping::validate::NOT_FOUND;

use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::mapping_json;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, LambdaError> {
    let store = app.store.clone();
    let found = blocking(move || store.get_mapping(&uuid)).await??;
    match found {
        Some(m) => Ok(axum::Json(mapping_json(&m, &app.scope, false)).into_response()),
        None => Err(LambdaError::not_found(NOT_FOUND)),
    }
}
