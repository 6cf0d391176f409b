//! TagResource: `POST /2017-03-31/tags/{ARN}` with `{"Tags": {...}}` → 204.
//!
//! Taggable resources are event source mappings and functions, by ARN.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_core::arn::{Arn, Scope};
use sluice_core::mapping::MappingError;
use sluice_core::mapping::validate::{NOT_FOUND, tag_constraints};
use sluice_store::MetaStore;

use crate::AppState;
use crate::lambda::{blocking, function_not_found, parse_json};
use crate::protocol::rest_json::LambdaError;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceRequest {
    tags: Option<BTreeMap<String, String>>,
}

pub async fn handle(
    State(app): State<AppState>,
    Path(arn): Path<String>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let req: TagResourceRequest = parse_json(&body)?;
    let Some(tags) = req.tags else {
        return Err(MappingError::Validation(vec![
            "Value null at 'tags' failed to satisfy constraint: Member must not be null".into(),
        ])
        .into());
    };
    let mut violations = Vec::new();
    tag_constraints(&mut violations, tags.iter());
    if !violations.is_empty() {
        return Err(MappingError::Validation(violations).into());
    }
    blocking(move || -> Result<(), LambdaError> {
        require_taggable(&app.store, &app.scope, &arn)?;
        app.store.update_tags(&arn, |t| t.extend(tags))?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Checks that `arn` names an existing mapping or function of this scope.
pub(crate) fn require_taggable(
    store: &MetaStore,
    scope: &Scope,
    arn: &str,
) -> Result<(), LambdaError> {
    let unsupported = || {
        LambdaError::invalid(format!(
            "Unsupported resource type for tagging or invalid arn: {arn}"
        ))
    };
    let parsed = Arn::parse(arn).ok_or_else(unsupported)?;
    if parsed.service != "lambda" || parsed.region.is_empty() || parsed.account.len() != 12 {
        return Err(unsupported());
    }
    let foreign = parsed.region != scope.region || parsed.account != scope.account;
    if let Some(uuid) = parsed.resource.strip_prefix("event-source-mapping:") {
        if foreign || store.get_mapping(uuid)?.is_none() {
            return Err(LambdaError::not_found(NOT_FOUND));
        }
        return Ok(());
    }
    if let Some(name) = parsed.resource.strip_prefix("function:") {
        if name.contains(':') {
            return Err(unsupported());
        }
        if foreign || store.get_function(name)?.is_none() {
            return Err(function_not_found(arn));
        }
        return Ok(());
    }
    Err(unsupported())
}
