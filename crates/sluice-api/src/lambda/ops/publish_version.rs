//! PublishVersion: `POST /2015-03-31/functions/{FunctionName}/versions` → 201
//! `FunctionConfiguration` of the version.
//!
//! A version is an immutable snapshot of `$LATEST` (code SHA and every setting), numbered
//! from 1 and never reused, stored with the number counter in one fsync'd transaction. Its
//! code is the content-addressed package `$LATEST` had, which stays on disk. When nothing
//! changed since the last version, that version is the answer (as on Lambda). `CodeSha256`
//! and `RevisionId`, when given, must match `$LATEST`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_core::function::FunctionRecord;

use super::resolve_function;
use super::update_function_code::revision_mismatch;
use crate::AppState;
use crate::lambda::model::{code_sha256, function_configuration, function_timestamp};
use crate::lambda::{blocking, now_ms, parse_json};
use crate::protocol::rest_json::LambdaError;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishVersionRequest {
    pub code_sha256: Option<String>,
    pub description: Option<String>,
    pub revision_id: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let req: PublishVersionRequest = parse_json(&body)?;
    let out = blocking(move || publish(&app, &name, req)).await??;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

/// The same code and settings (what a version snapshots).
fn same_function(a: &FunctionRecord, b: &FunctionRecord) -> bool {
    FunctionRecord {
        last_modified: String::new(),
        revision_id: String::new(),
        description: String::new(),
        version: None,
        ..a.clone()
    } == FunctionRecord {
        last_modified: String::new(),
        revision_id: String::new(),
        description: String::new(),
        version: None,
        ..b.clone()
    }
}

pub(crate) fn publish(
    app: &AppState,
    given: &str,
    req: PublishVersionRequest,
) -> Result<serde_json::Value, LambdaError> {
    let (current, _) = resolve_function(&app.store, &app.scope, given, None)?;
    let name = current.name.clone();
    let now = now_ms();
    let published = app
        .store
        .publish_version(&name, |latest, last, _next| {
            let sha = code_sha256(latest);
            if let Some(given) = req.code_sha256.as_deref().filter(|g| !g.is_empty())
                && given != sha
            {
                return Err(LambdaError::invalid(format!(
                    "CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST ({sha}). Please try again with the CodeSHA256 in $LATEST."
                )));
            }
            if req
                .revision_id
                .as_deref()
                .is_some_and(|r| r != latest.revision_id)
            {
                return Err(revision_mismatch());
            }
            if last.is_some_and(|l| same_function(l, latest)) {
                return Ok(None);
            }
            Ok(Some(FunctionRecord {
                description: req
                    .description
                    .clone()
                    .unwrap_or_else(|| latest.description.clone()),
                last_modified: function_timestamp(now),
                revision_id: uuid::Uuid::new_v4().to_string(),
                ..latest.clone()
            }))
        })?
        .ok_or_else(|| crate::lambda::function_not_found(&app.scope.function_arn(&name)))??;
    tracing::info!(function = %name, version = %published.version_name(), "Function version published.");
    Ok(function_configuration(&published, &app.scope))
}
