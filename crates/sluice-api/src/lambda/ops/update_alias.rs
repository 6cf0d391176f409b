//! UpdateAlias: `PUT /2015-03-31/functions/{FunctionName}/aliases/{Name}` → 200
//! `AliasConfiguration`. `FunctionVersion` and `Description` change; `RevisionId`, when
//! given, must match (PreconditionFailedException). Mappings through the alias run the new
//! version from their next invocation.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_core::function::AliasRecord;
use sluice_core::mapping::MappingError;

use super::create_alias::{no_routing, version_constraints, version_exists};
use super::update_function_code::revision_mismatch;
use super::{alias_not_found, resolve_function};
use crate::AppState;
use crate::lambda::model::alias_json;
use crate::lambda::{blocking, parse_json};
use crate::protocol::rest_json::LambdaError;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAliasRequest {
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub revision_id: Option<String>,
    pub routing_config: Option<serde_json::Value>,
}

pub async fn handle(
    State(app): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let req: UpdateAliasRequest = parse_json(&body)?;
    let out = blocking(move || -> Result<_, LambdaError> {
        let mut v = Vec::new();
        if let Some(fv) = &req.function_version {
            version_constraints(&mut v, fv);
        }
        if !v.is_empty() {
            return Err(MappingError::Validation(v).into());
        }
        let (f, _) = resolve_function(&app.store, &app.scope, &name, None)?;
        no_routing(req.routing_config.as_ref())?;
        let arn = format!("{}:{alias}", app.scope.function_arn(&f.name));
        if let Some(fv) = &req.function_version {
            version_exists(&app, &f.name, fv)?;
        }
        let updated = app
            .store
            .modify_alias(&f.name, &alias, |a| {
                if req.revision_id.as_deref().is_some_and(|r| r != a.revision_id) {
                    return Err(revision_mismatch());
                }
                Ok(AliasRecord {
                    function_version: req
                        .function_version
                        .clone()
                        .unwrap_or_else(|| a.function_version.clone()),
                    description: req
                        .description
                        .clone()
                        .unwrap_or_else(|| a.description.clone()),
                    revision_id: uuid::Uuid::new_v4().to_string(),
                    ..a.clone()
                })
            })?
            .ok_or_else(|| alias_not_found(&arn))??;
        tracing::info!(function = %f.name, alias = %alias, version = %updated.function_version, "Alias updated.");
        Ok(alias_json(&updated, &app.scope))
    })
    .await??;
    Ok(axum::Json(out).into_response())
}
