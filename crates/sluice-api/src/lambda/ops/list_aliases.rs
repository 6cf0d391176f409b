//! ListAliases: `GET /2015-03-31/functions/{FunctionName}/aliases[?FunctionVersion=]` →
//! 200 `{Aliases: [...]}`, by name.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::resolve_function;
use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::alias_json;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let version = crate::protocol::form_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "FunctionVersion")
        .map(|(_, v)| v);
    let out = blocking(move || -> Result<_, LambdaError> {
        let (f, _) = resolve_function(&app.store, &app.scope, &name, None)?;
        let aliases: Vec<_> = app
            .store
            .list_aliases(&f.name)?
            .iter()
            .filter(|a| version.as_deref().is_none_or(|v| a.function_version == v))
            .map(|a| alias_json(a, &app.scope))
            .collect();
        Ok(json!({ "Aliases": aliases }))
    })
    .await??;
    Ok(axum::Json(out).into_response())
}
