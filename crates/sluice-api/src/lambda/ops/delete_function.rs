//! DeleteFunction: `DELETE /2015-03-31/functions/{FunctionName}` → 204.
//!
//! The function's mappings stay, as on AWS: they keep their state and fail to invoke until a
//! function of that name exists again. Its versions and aliases go with it. With a version
//! number as qualifier (`Qualifier=3` or `name:3`) only that version is deleted, unless
//! aliases point at it (ResourceConflictException).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{qualifier_param, resolve_function};
use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::rest_json::{LambdaCode, LambdaError};

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let qualifier = qualifier_param(query.as_deref());
    blocking(move || -> Result<(), LambdaError> {
        let version = sluice_core::arn::FunctionRef::parse(&name).and_then(|f| {
            f.qualifier
                .or_else(|| qualifier.clone())
                .and_then(|q| q.parse::<u64>().ok())
                .map(|n| (f.name, n))
        });
        if let Some((fname, n)) = version {
            let (f, _) = resolve_function(&app.store, &app.scope, &fname, None)?;
            let arn = format!("{}:{n}", app.scope.function_arn(&f.name));
            return match app.store.delete_version(&f.name, n)? {
                Ok(true) => {
                    tracing::info!(function = %f.name, version = n, "Function version deleted.");
                    Ok(())
                }
                Ok(false) => Err(crate::lambda::function_not_found(&arn)),
                Err(aliases) => Err(LambdaError::new(
                    LambdaCode::ResourceConflict,
                    format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        aliases.join(", ")
                    ),
                )),
            };
        }
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
