//! GetFunctionConfiguration: `GET /2015-03-31/functions/{FunctionName}/configuration` → 200.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use super::{qualifier_param, resolve_qualified};
use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::function_configuration;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let qualifier = qualifier_param(query.as_deref());
    let out = blocking(move || -> Result<_, LambdaError> {
        let (f, _) = resolve_qualified(&app.store, &app.scope, &name, qualifier.as_deref())?;
        Ok(function_configuration(&f, &app.scope))
    })
    .await??;
    Ok(axum::Json(out).into_response())
}
