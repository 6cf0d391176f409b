//! UpdateFunctionConfiguration: `PUT /2015-03-31/functions/{FunctionName}/configuration`
//! → 200 `FunctionConfiguration`.
//!
//! Changes Role, Handler, Description, Timeout, MemorySize, Environment and Runtime of an
//! API-deployed function, checked as CreateFunction checks them, in one fsync'd transaction
//! that also checks `RevisionId`. New invocations use the new settings: handler, runtime,
//! memory and environment are part of the process pool's spec, so warm instances started
//! with the old ones are retired; the timeout applies from the next invocation.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_core::function::{FunctionCode, FunctionRecord};
use sluice_core::mapping::MappingError;

use super::create_function::{EnvironmentInput, check_runtime, setting_constraints, timeout_limit};
use super::resolve_function;
use super::update_function_code::{api_function, revision_mismatch};
use crate::AppState;
use crate::lambda::model::{function_configuration, function_timestamp};
use crate::lambda::{blocking, now_ms, parse_json};
use crate::protocol::rest_json::LambdaError;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionConfigurationRequest {
    pub role: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentInput>,
    pub runtime: Option<String>,
    pub revision_id: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let req: UpdateFunctionConfigurationRequest = parse_json(&body)?;
    let out = blocking(move || update(&app, &name, req)).await??;
    Ok(axum::Json(out).into_response())
}

/// `f` with the request's settings applied.
fn apply(f: &FunctionRecord, req: &UpdateFunctionConfigurationRequest) -> FunctionRecord {
    let mut next = f.clone();
    if let Some(r) = &req.role {
        next.role = r.clone();
    }
    if let Some(h) = &req.handler {
        next.handler = Some(h.clone());
    }
    if let Some(d) = &req.description {
        next.description = d.clone();
    }
    if let Some(t) = req.timeout {
        next.timeout = Duration::from_secs(t.unsigned_abs());
    }
    if let Some(m) = req.memory_size.and_then(|m| u32::try_from(m).ok()) {
        next.memory_size = m;
    }
    if let Some(e) = &req.environment {
        next.environment = e.variables.clone().unwrap_or_else(BTreeMap::new);
    }
    if let Some(r) = &req.runtime {
        next.runtime = Some(r.clone());
    }
    next
}

fn update(
    app: &AppState,
    given: &str,
    req: UpdateFunctionConfigurationRequest,
) -> Result<serde_json::Value, LambdaError> {
    let mut v = Vec::new();
    setting_constraints(
        &mut v,
        req.role.as_deref(),
        req.timeout,
        req.memory_size,
        req.handler.as_deref(),
    );
    if let Some(d) = &req.description
        && d.chars().count() > 256
    {
        v.push(format!("Value '{d}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"));
    }
    if !v.is_empty() {
        return Err(MappingError::Validation(v).into());
    }
    let (current, _) = resolve_function(&app.store, &app.scope, given, None)?;
    timeout_limit(req.timeout)?;
    api_function(&current)?;
    let check = |f: &FunctionRecord| -> Result<FunctionRecord, LambdaError> {
        if req
            .revision_id
            .as_deref()
            .is_some_and(|r| r != f.revision_id)
        {
            return Err(revision_mismatch());
        }
        let next = apply(f, &req);
        if let FunctionCode::Zip { .. } = next.code {
            check_runtime(next.runtime.as_deref(), next.handler.as_deref())?;
        }
        Ok(next)
    };
    check(&current)?;
    let now = now_ms();
    let name = current.name.clone();
    let updated = app
        .store
        .modify_function(&name, |f| {
            let next = check(f)?;
            Ok::<_, LambdaError>(FunctionRecord {
                last_modified: function_timestamp(now),
                revision_id: uuid::Uuid::new_v4().to_string(),
                ..next
            })
        })?
        .ok_or_else(|| super::super::function_not_found(&app.scope.function_arn(&name)))??;
    tracing::info!(function = %name, "Function configuration updated.");
    Ok(function_configuration(&updated, &app.scope))
}
