//! GetAlias: `GET /2015-03-31/functions/{FunctionName}/aliases/{Name}` → 200
//! `AliasConfiguration`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{alias_not_found, resolve_function};
use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::alias_json;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Response, LambdaError> {
    let out = blocking(move || -> Result<_, LambdaError> {
        let (f, _) = resolve_function(&app.store, &app.scope, &name, None)?;
        match app.store.get_alias(&f.name, &alias)? {
            Some(a) => Ok(alias_json(&a, &app.scope)),
            None => Err(alias_not_found(&format!(
                "{}:{alias}",
                app.scope.function_arn(&f.name)
            ))),
        }
    })
    .await??;
    Ok(axum::Json(out).into_response())
}
