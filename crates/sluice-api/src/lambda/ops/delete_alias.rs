//! DeleteAlias: `DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}` → 204.
//!
//! Mappings through the alias stay, as when a function is deleted: they fail to invoke
//! until an alias of that name exists again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{alias_not_found, resolve_function};
use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Response, LambdaError> {
    blocking(move || -> Result<(), LambdaError> {
        let (f, _) = resolve_function(&app.store, &app.scope, &name, None)?;
        if !app.store.delete_alias(&f.name, &alias)? {
            return Err(alias_not_found(&format!(
                "{}:{alias}",
                app.scope.function_arn(&f.name)
            )));
        }
        tracing::info!(function = %f.name, alias = %alias, "Alias deleted.");
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
