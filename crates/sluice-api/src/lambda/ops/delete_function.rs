//! DeleteFunction: `DELETE /2015-03-31/functions/{FunctionName}` → 204.
//!
//! The function's mappings stay, as on AWS: they keep their state and fail to invoke until a
//! function of that name exists again.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{qualifier_param, resolve_function};
use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let qualifier = qualifier_param(query.as_deref());
    blocking(move || -> Result<(), LambdaError> {
        let (f, _) = resolve_function(&app.store, &app.scope, &name, qualifier.as_deref())?;
        app.store.delete_function(&f.name)?;
        app.store
            .update_tags(&app.scope.function_arn(&f.name), |t| t.clear())?;
        let dir = app.data_dir.function_dir(&f.name);
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(function = %f.name, error = %e, "Could not remove function code.");
        }
        tracing::info!(function = %f.name, "Function deleted.");
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
