//! UpdateFunctionCode: `PUT /2015-03-31/functions/{FunctionName}/code` → 200
//! `FunctionConfiguration`.
//!
//! The new archive is checked and unpacked like CreateFunction's, then kept beside the old
//! one (content-addressed), and the record points at it in one fsync'd transaction that
//! also checks `RevisionId`. New invocations run the new code: its folder is a new command
//! spec, so the process pool retires the warm instances of the old one. Packages that no
//! published version uses are removed, except the one just replaced (its retired instances
//! may still be finishing an invocation).
//! `DryRun` checks everything and changes nothing; `Publish` then publishes a version and
//! answers its configuration.

use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_core::function::{FunctionCode, FunctionOrigin, FunctionRecord};

use super::create_function::{
    CodeInput, MAX_REQUEST, check_runtime, decode_zip, package_error, store_package,
};
use super::resolve_function;
use crate::AppState;
use crate::lambda::model::{function_configuration, function_timestamp, sha256_b64};
use crate::lambda::{blocking, now_ms, parse_json};
use crate::protocol::rest_json::{LambdaCode, LambdaError};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionCodeRequest {
    #[serde(flatten)]
    pub code: CodeInput,
    pub publish: Option<bool>,
    pub dry_run: Option<bool>,
    pub revision_id: Option<String>,
}

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    if body.len() > MAX_REQUEST {
        return Err(LambdaError::new(
            LambdaCode::RequestEntityTooLarge,
            format!(
                "Request must be smaller than {MAX_REQUEST} bytes for the UpdateFunctionCode operation"
            ),
        ));
    }
    let req: UpdateFunctionCodeRequest = parse_json(&body)?;
    let out = blocking(move || update(&app, &name, req)).await??;
    Ok(axum::Json(out).into_response())
}

/// Held from writing a package to removing unused ones (on a blocking thread).
static UPDATES: Mutex<()> = Mutex::new(());

/// The `PreconditionFailedException` of a stale `RevisionId`.
pub(crate) fn revision_mismatch() -> LambdaError {
    LambdaError::new(
        LambdaCode::PreconditionFailed,
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
}

/// Functions of the config file change there, not through the API (a restart would undo it).
pub(crate) fn api_function(f: &FunctionRecord) -> Result<(), LambdaError> {
    match f.origin {
        FunctionOrigin::Api => Ok(()),
        FunctionOrigin::Config => Err(LambdaError::invalid(format!(
            "Function {} is declared in Sluice's config file; change it there.",
            f.name
        ))),
    }
}

fn update(
    app: &AppState,
    given: &str,
    req: UpdateFunctionCodeRequest,
) -> Result<serde_json::Value, LambdaError> {
    let (current, _) = resolve_function(&app.store, &app.scope, given, None)?;
    let name = current.name.clone();
    if req.code.s3_bucket.is_some() || req.code.image_uri.is_some() {
        return Err(LambdaError::invalid(
            "Sluice accepts function code as ZipFile only (no S3 or container image).",
        ));
    }
    let Some(zip_b64) = req.code.zip_file.as_deref() else {
        return Err(LambdaError::invalid(
            "Please provide a source for function code.",
        ));
    };
    let zip = decode_zip(zip_b64, "UpdateFunctionCode")?;
    api_function(&current)?;
    check_runtime(current.runtime.as_deref(), current.handler.as_deref())?;
    if req
        .revision_id
        .as_deref()
        .is_some_and(|r| r != current.revision_id)
    {
        return Err(revision_mismatch());
    }
    let sha = sha256_b64(&zip);
    if req.dry_run == Some(true) {
        let folder = dry_run_dir(app)?;
        let checked = sluice_store::code::unpack(&zip, &folder.join("check"));
        let _ = std::fs::remove_dir_all(&folder);
        checked.map_err(package_error)?;
        let preview = FunctionRecord {
            code: FunctionCode::Zip {
                sha256: sha,
                size: zip.len() as u64,
            },
            ..current
        };
        return Ok(function_configuration(&preview, &app.scope));
    }
    // One code update at a time: another update's clean-up must not remove this package
    // between its write and the commit that points at it.
    let _one_at_a_time = UPDATES.lock().unwrap_or_else(PoisonError::into_inner);
    store_package(app, &name, &sha, &zip)?;
    let now = now_ms();
    let updated = app
        .store
        .modify_function(&name, |f| {
            if req
                .revision_id
                .as_deref()
                .is_some_and(|r| r != f.revision_id)
            {
                return Err(revision_mismatch());
            }
            Ok(FunctionRecord {
                code: FunctionCode::Zip {
                    sha256: sha.clone(),
                    size: zip.len() as u64,
                },
                last_modified: function_timestamp(now),
                revision_id: uuid::Uuid::new_v4().to_string(),
                ..f.clone()
            })
        })?
        .ok_or_else(|| super::super::function_not_found(&app.scope.function_arn(&name)))??;
    tracing::info!(function = %name, code_sha256 = %sha, "Function code updated.");
    forget_old_packages(app, &name, &current);
    if req.publish == Some(true) {
        return super::publish_version::publish(app, &name, Default::default());
    }
    Ok(function_configuration(&updated, &app.scope))
}

/// Removes the packages neither `$LATEST`, a published version, nor the code just replaced
/// (`previous`; its retired instances may be finishing) uses. Best effort: logged.
fn forget_old_packages(app: &AppState, name: &str, previous: &FunctionRecord) {
    let mut keep = Vec::new();
    let records = app
        .store
        .get_function(name)
        .ok()
        .flatten()
        .into_iter()
        .chain(app.store.list_versions(name).unwrap_or_default())
        .chain(std::iter::once(previous.clone()));
    for f in records {
        if let FunctionCode::Zip { sha256, .. } = f.code {
            keep.push(sha256);
        }
    }
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    match sluice_store::code::remove_unreferenced(&app.data_dir, name, &keep) {
        Ok(0) => {}
        Ok(n) => {
            tracing::debug!(function = %name, removed = n, "Unused function packages removed.")
        }
        Err(e) => {
            tracing::warn!(function = %name, error = %e, "Could not remove unused function packages.")
        }
    }
}

/// A scratch folder under the function folders for a DryRun's unpack check.
fn dry_run_dir(app: &AppState) -> Result<std::path::PathBuf, LambdaError> {
    let dir = app
        .data_dir
        .function_dir(".dry-run")
        .join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).map_err(|e| LambdaError::internal(&e))?;
    Ok(dir)
}
