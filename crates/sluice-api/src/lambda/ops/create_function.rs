//! CreateFunction: `POST /2015-03-31/functions` → 201 `FunctionConfiguration`.
//!
//! Code arrives as `Code.ZipFile` (base64 in JSON). The archive is checked and unpacked
//! ([`sluice_store::code`]: no zip-slip, no symlinks, at most 250 MB unzipped), then
//! written, fsync'd and content-addressed under the function's folder before the record
//! commits, so an answered CreateFunction survives a crash and a refused one never touches
//! a live function's code. `Runtime` must be one Sluice runs ([`RuntimeKind`]): a function
//! it could not run is refused here, not accepted and broken at Invoke.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use sluice_core::arn::FunctionRef;
use sluice_core::function::{
    FunctionCode, FunctionOrigin, FunctionRecord, RuntimeKind, SUPPORTED_RUNTIMES,
};
use sluice_core::mapping::MappingError;
use sluice_core::mapping::validate::tag_constraints;

use crate::AppState;
use crate::lambda::model::{function_configuration, function_timestamp, sha256_b64};
use crate::lambda::{blocking, now_ms, parse_json};
use crate::protocol::rest_json::{LambdaCode, LambdaError};

/// Largest zipped archive Lambda accepts through the API.
pub const MAX_ZIP: usize = 50 * 1024 * 1024;
/// Largest CreateFunction request body.
pub const MAX_REQUEST: usize = 69_905_067;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeInput {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentInput {
    pub variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionRequest {
    pub function_name: Option<String>,
    pub role: Option<String>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub code: Option<CodeInput>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentInput>,
    pub package_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub publish: Option<bool>,
}

fn role_ok(role: &str) -> bool {
    let Some(rest) = role.strip_prefix("arn:") else {
        return false;
    };
    let mut parts = rest.splitn(5, ':');
    let (Some(partition), Some("iam"), Some(""), Some(account), Some(res)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && res.starts_with("role")
        && res.len() > 5
}

pub async fn handle(State(app): State<AppState>, body: Bytes) -> Result<Response, LambdaError> {
    if body.len() > MAX_REQUEST {
        return Err(LambdaError::new(
            LambdaCode::RequestEntityTooLarge,
            format!(
                "Request must be smaller than {MAX_REQUEST} bytes for the CreateFunction operation"
            ),
        ));
    }
    let req: CreateFunctionRequest = parse_json(&body)?;
    let out = blocking(move || create(&app, req)).await??;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

fn create(app: &AppState, req: CreateFunctionRequest) -> Result<serde_json::Value, LambdaError> {
    let mut v = Vec::new();
    let null = |m: &str| {
        format!("Value null at '{m}' failed to satisfy constraint: Member must not be null")
    };
    if req.function_name.is_none() {
        v.push(null("functionName"));
    }
    if req.role.is_none() {
        v.push(null("role"));
    }
    if req.code.is_none() {
        v.push(null("code"));
    }
    setting_constraints(
        &mut v,
        req.role.as_deref(),
        req.timeout,
        req.memory_size,
        req.handler.as_deref(),
    );
    if let Some(tags) = &req.tags {
        tag_constraints(&mut v, tags.iter());
    }
    if !v.is_empty() {
        return Err(MappingError::Validation(v).into());
    }
    let given = req.function_name.unwrap_or_default();
    let name = match FunctionRef::parse(&given) {
        Some(f) if f.qualifier.is_none() && !f.is_foreign(&app.scope) => f.name,
        _ => {
            return Err(MappingError::Validation(vec![format!(
                "Value '{given}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)"
            )])
            .into());
        }
    };
    if name.chars().count() > 64 {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"
        )));
    }
    timeout_limit(req.timeout)?;
    if req.package_type.as_deref().is_some_and(|p| p != "Zip") {
        return Err(LambdaError::invalid(
            "Sluice runs Zip packages only; container images are not supported.",
        ));
    }
    let code = req.code.unwrap_or_default();
    if code.s3_bucket.is_some() || code.image_uri.is_some() {
        return Err(LambdaError::invalid(
            "Sluice accepts function code as Code.ZipFile only (no S3 or container image).",
        ));
    }
    let Some(zip_b64) = code.zip_file else {
        return Err(LambdaError::invalid(
            "Please provide a source for function code.",
        ));
    };
    let zip = decode_zip(&zip_b64, "CreateFunction")?;
    check_runtime(req.runtime.as_deref(), req.handler.as_deref())?;

    let now = now_ms();
    let sha = sha256_b64(&zip);
    let record = FunctionRecord {
        name: name.clone(),
        code: FunctionCode::Zip {
            sha256: sha.clone(),
            size: zip.len() as u64,
        },
        origin: FunctionOrigin::Api,
        runtime: req.runtime,
        handler: req.handler,
        role: req.role.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        timeout: Duration::from_secs(req.timeout.map_or(3, |t| t.unsigned_abs())),
        memory_size: req.memory_size.map_or(FunctionRecord::DEFAULT_MEMORY, |m| {
            u32::try_from(m).unwrap_or(FunctionRecord::DEFAULT_MEMORY)
        }),
        environment: req
            .environment
            .and_then(|e| e.variables)
            .unwrap_or_default(),
        last_modified: function_timestamp(now),
        revision_id: uuid::Uuid::new_v4().to_string(),
        version: None,
    };
    if app.store.get_function(&name)?.is_some() {
        return Err(conflict(&name));
    }
    store_package(app, &name, &sha, &zip)?;
    if !app.store.create_function(&record)? {
        return Err(conflict(&name));
    }
    if let Some(tags) = req.tags.filter(|t| !t.is_empty()) {
        app.store
            .update_tags(&app.scope.function_arn(&name), |t| t.extend(tags))?;
    }
    tracing::info!(function = %name, "Function created.");
    if req.publish == Some(true) {
        return super::publish_version::publish(app, &name, Default::default());
    }
    Ok(function_configuration(&record, &app.scope))
}

/// The model constraints of the settings CreateFunction and UpdateFunctionConfiguration
/// share, in the model's member order.
pub(crate) fn setting_constraints(
    v: &mut Vec<String>,
    role: Option<&str>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    handler: Option<&str>,
) {
    if let Some(role) = role
        && !role_ok(role)
    {
        v.push(format!(
            "Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
        ));
    }
    if let Some(t) = timeout
        && t < 1
    {
        v.push(format!("Value '{t}' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"));
    }
    if let Some(m) = memory_size
        && !(128..=10_240).contains(&m)
    {
        let bound = if m < 128 {
            "greater than or equal to 128"
        } else {
            "less than or equal to 10240"
        };
        v.push(format!("Value '{m}' at 'memorySize' failed to satisfy constraint: Member must have value {bound}"));
    }
    if let Some(h) = handler {
        handler_constraints(v, h);
    }
}

/// Lambda's 900-second ceiling (checked after the model constraints).
pub(crate) fn timeout_limit(timeout: Option<i64>) -> Result<(), LambdaError> {
    match timeout {
        Some(t) if t > 900 => Err(LambdaError::invalid(format!(
            "Value {t} for parameter Timeout is invalid. The maximum value is 900 seconds."
        ))),
        _ => Ok(()),
    }
}

/// `Handler`'s model constraints (length 128, no whitespace).
fn handler_constraints(v: &mut Vec<String>, h: &str) {
    if h.chars().count() > 128 {
        v.push(format!("Value '{h}' at 'handler' failed to satisfy constraint: Member must have length less than or equal to 128"));
    }
    if h.is_empty() || h.chars().any(char::is_whitespace) {
        v.push(format!("Value '{h}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"));
    }
}

/// A zip function needs a runtime Sluice runs and a handler.
pub(crate) fn check_runtime(
    runtime: Option<&str>,
    handler: Option<&str>,
) -> Result<(), LambdaError> {
    let (Some(runtime), Some(_)) = (runtime, handler) else {
        return Err(LambdaError::invalid(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    };
    if RuntimeKind::of(runtime).is_none() {
        return Err(LambdaError::invalid(format!(
            "The runtime parameter of {runtime} is not supported by Sluice for creating or updating functions. Supported runtimes: {SUPPORTED_RUNTIMES}."
        )));
    }
    Ok(())
}

/// `ZipFile` decoded and checked for size; `operation` names the call in AWS's text.
pub(crate) fn decode_zip(zip_b64: &str, operation: &str) -> Result<Vec<u8>, LambdaError> {
    let zip = base64::engine::general_purpose::STANDARD
        .decode(zip_b64.trim())
        .map_err(|_| LambdaError::invalid(sluice_store::code::UNZIP_FAILED))?;
    if zip.len() > MAX_ZIP {
        return Err(LambdaError::new(
            LambdaCode::RequestEntityTooLarge,
            format!(
                "Request must be smaller than {MAX_REQUEST} bytes for the {operation} operation"
            ),
        ));
    }
    Ok(zip)
}

/// Unpacks (checking every entry) and keeps the archive `zip` of function `name`: after
/// this the code can run, whatever record then points at it.
pub(crate) fn store_package(
    app: &AppState,
    name: &str,
    sha: &str,
    zip: &[u8],
) -> Result<(), LambdaError> {
    let folder = sluice_store::code::unpacked_path(&app.data_dir, name, sha);
    if !folder.is_dir() {
        sluice_store::code::unpack(zip, &folder).map_err(package_error)?;
    }
    write_durably(&sluice_store::code::zip_path(&app.data_dir, name, sha), zip)
}

/// A package's fault is the client's (InvalidParameterValueException); the disk's is ours.
pub(crate) fn package_error(e: sluice_store::code::CodeError) -> LambdaError {
    if e.is_package_error() {
        LambdaError::invalid(e.to_string())
    } else {
        LambdaError::internal(&e)
    }
}

fn conflict(name: &str) -> LambdaError {
    LambdaError::new(
        LambdaCode::ResourceConflict,
        format!("Function already exist: {name}"),
    )
}

/// Writes `bytes` to `path` through a temporary file, fsync'd, then renamed into place.
fn write_durably(path: &std::path::Path, bytes: &[u8]) -> Result<(), LambdaError> {
    let dir = path
        .parent()
        .ok_or_else(|| LambdaError::internal(&"code path has no parent"))?;
    std::fs::create_dir_all(dir).map_err(|e| LambdaError::internal(&e))?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| LambdaError::internal(&e))?;
    f.write_all(bytes).map_err(|e| LambdaError::internal(&e))?;
    f.sync_all().map_err(|e| LambdaError::internal(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| LambdaError::internal(&e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LambdaError::internal(&e))?;
    Ok(())
}
