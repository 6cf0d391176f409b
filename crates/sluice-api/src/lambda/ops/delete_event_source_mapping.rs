//! DeleteEventSourceMapping: `DELETE /2015-03-31/event-source-mappings/{UUID}` → 202 with
//! the last configuration in `Deleting`; the coordinator removes it once its pollers stop.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sluice_core::mapping::validate::{self, NOT_FOUND};

use crate::AppState;
use crate::lambda::model::mapping_json;
use crate::lambda::{blocking, now_ms};
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, LambdaError> {
    let out = blocking(move || -> Result<_, LambdaError> {
        let changed = app.store.modify_mapping(&uuid, |current| {
            validate::plan_delete(current, now_ms()).map(Some)
        })?;
        match changed {
            Some(Ok(Some(m))) => {
                tracing::info!(mapping_id = %m.uuid, "Event source mapping deleting.");
                Ok(mapping_json(&m, &app.scope, false))
            }
            Some(Err(e)) => Err(LambdaError::from(e)),
            None | Some(Ok(None)) => Err(LambdaError::not_found(NOT_FOUND)),
        }
    })
    .await??;
    Ok((StatusCode::ACCEPTED, axum::Json(out)).into_response())
}
