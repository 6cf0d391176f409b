//! CreateAlias: `POST /2015-03-31/functions/{FunctionName}/aliases` → 201
//! `AliasConfiguration`.
//!
//! An alias names `$LATEST` or a published version; invocations and event source mappings
//! through `name:alias` run that version. Weighted routing (`RoutingConfig`) is refused.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_core::function::AliasRecord;
use sluice_core::mapping::MappingError;

use super::resolve_function;
use crate::AppState;
use crate::lambda::model::alias_json;
use crate::lambda::{blocking, parse_json};
use crate::protocol::rest_json::{LambdaCode, LambdaError};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAliasRequest {
    pub name: Option<String>,
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub routing_config: Option<serde_json::Value>,
}

/// The model's constraints on an alias name.
pub(crate) fn alias_name_constraints(v: &mut Vec<String>, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        && !name.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        v.push(format!("Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"));
    }
}

/// The model's constraints on a `FunctionVersion`.
pub(crate) fn version_constraints(v: &mut Vec<String>, version: &str) {
    let ok = version == "$LATEST"
        || (!version.is_empty()
            && version.len() <= 1024
            && version.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        v.push(format!("Value '{version}' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"));
    }
}

/// Refuses weighted routing, which Sluice does not do.
pub(crate) fn no_routing(routing: Option<&serde_json::Value>) -> Result<(), LambdaError> {
    let weighted = routing
        .and_then(|r| r.get("AdditionalVersionWeights"))
        .and_then(|w| w.as_object())
        .is_some_and(|w| !w.is_empty());
    if weighted {
        return Err(LambdaError::invalid(
            "Sluice does not support RoutingConfig (weighted aliases).",
        ));
    }
    Ok(())
}

/// `Function not found` unless `version` of `name` exists.
pub(crate) fn version_exists(app: &AppState, name: &str, version: &str) -> Result<(), LambdaError> {
    if app.store.resolve_function(name, Some(version))?.is_none() {
        return Err(crate::lambda::function_not_found(&format!(
            "{}:{version}",
            app.scope.function_arn(name)
        )));
    }
    Ok(())
}

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let req: CreateAliasRequest = parse_json(&body)?;
    let out = blocking(move || create(&app, &name, req)).await??;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

fn create(
    app: &AppState,
    given: &str,
    req: CreateAliasRequest,
) -> Result<serde_json::Value, LambdaError> {
    let mut v = Vec::new();
    let null = |m: &str| {
        format!("Value null at '{m}' failed to satisfy constraint: Member must not be null")
    };
    match &req.name {
        None => v.push(null("name")),
        Some(n) => alias_name_constraints(&mut v, n),
    }
    match &req.function_version {
        None => v.push(null("functionVersion")),
        Some(fv) => version_constraints(&mut v, fv),
    }
    if !v.is_empty() {
        return Err(MappingError::Validation(v).into());
    }
    let (f, _) = resolve_function(&app.store, &app.scope, given, None)?;
    no_routing(req.routing_config.as_ref())?;
    let alias = AliasRecord {
        function: f.name.clone(),
        name: req.name.unwrap_or_default(),
        function_version: req.function_version.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        revision_id: uuid::Uuid::new_v4().to_string(),
    };
    version_exists(app, &f.name, &alias.function_version)?;
    if !app.store.create_alias(&alias)? {
        return Err(LambdaError::new(
            LambdaCode::ResourceConflict,
            format!(
                "Alias already exists: {}:{}",
                app.scope.function_arn(&f.name),
                alias.name
            ),
        ));
    }
    tracing::info!(function = %f.name, alias = %alias.name, version = %alias.function_version, "Alias created.");
    Ok(alias_json(&alias, &app.scope))
}
