//! GetFunction: `GET /2015-03-31/functions/{FunctionName}[?Qualifier=]` → 200
//! `{Configuration, Code, Tags}`.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sluice_core::function::FunctionCode;

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
        let tags = app.store.get_tags(&app.scope.function_arn(&f.name))?;
        let code = match &f.code {
            FunctionCode::Zip { .. } => json!({
                "RepositoryType": "S3",
                "Location": match f.version {
                    Some(n) => format!("{}/_sluice/functions/{}/code?Qualifier={n}", app.endpoint, f.name),
                    None => format!("{}/_sluice/functions/{}/code", app.endpoint, f.name),
                },
            }),
            FunctionCode::Url { url } => json!({"RepositoryType": "Sluice", "Location": url}),
            FunctionCode::Command { .. } => json!({"RepositoryType": "Sluice"}),
        };
        let mut body = json!({
            "Configuration": function_configuration(&f, &app.scope),
            "Code": code,
        });
        if !tags.is_empty() {
            body["Tags"] = json!(tags);
        }
        Ok(body)
    })
    .await??;
    Ok(axum::Json(out).into_response())
}
