//! Response shapes: `EventSourceMappingConfiguration` and `FunctionConfiguration`.
//!
//! Streams echo the full default set (`DestinationConfig: {"OnFailure": {}}`,
//! `LastProcessingResult`, retry/age/bisect/parallelization/tumbling); SQS echoes the short
//! one. Members appear in the order AWS's recorded answers list them.

use serde_json::{Map, Value, json};
use sluice_core::arn::Scope;
use sluice_core::function::{AliasRecord, FunctionCode, FunctionRecord};
use sluice_core::mapping::EventSourceMapping;

/// Epoch seconds with millisecond precision, as a JSON number.
pub fn epoch_seconds(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// `EventSourceMappingConfiguration`. `in_list` hides FilterCriteria of KMS-encrypted
/// mappings, as ListEventSourceMappings does.
pub fn mapping_json(m: &EventSourceMapping, scope: &Scope, in_list: bool) -> Value {
    let s = &m.settings;
    let stream = s.stream.as_ref();
    let mut o = Map::new();
    o.insert("BatchSize".into(), json!(s.batch_size));
    if let Some(t) = stream {
        o.insert(
            "BisectBatchOnFunctionError".into(),
            json!(t.bisect_batch_on_function_error),
        );
        let on_failure = match &t.on_failure_destination {
            Some(d) => json!({"Destination": d}),
            None => json!({}),
        };
        o.insert("DestinationConfig".into(), json!({"OnFailure": on_failure}));
    }
    o.insert("EventSourceArn".into(), json!(m.source.as_str()));
    o.insert(
        "EventSourceMappingArn".into(),
        json!(scope.mapping_arn(&m.uuid)),
    );
    let hidden = in_list && s.kms_key_arn.is_some();
    if !s.filter_patterns.is_empty() && !hidden {
        let filters: Vec<Value> = s
            .filter_patterns
            .iter()
            .map(|p| json!({"Pattern": p}))
            .collect();
        o.insert("FilterCriteria".into(), json!({"Filters": filters}));
    }
    o.insert("FunctionArn".into(), json!(m.function_arn));
    let types: Vec<&str> = if s.report_batch_item_failures {
        vec!["ReportBatchItemFailures"]
    } else {
        vec![]
    };
    o.insert("FunctionResponseTypes".into(), json!(types));
    if let Some(k) = &s.kms_key_arn {
        o.insert("KMSKeyArn".into(), json!(k));
    }
    o.insert("LastModified".into(), epoch_seconds(m.last_modified_ms));
    if let Some(r) = &m.last_processing_result {
        o.insert("LastProcessingResult".into(), json!(r));
    }
    o.insert(
        "MaximumBatchingWindowInSeconds".into(),
        json!(s.maximum_batching_window.as_secs()),
    );
    if let Some(t) = stream {
        o.insert(
            "MaximumRecordAgeInSeconds".into(),
            json!(t.maximum_record_age.map_or(-1, |d| d.as_secs() as i64)),
        );
        o.insert(
            "MaximumRetryAttempts".into(),
            json!(t.maximum_retry_attempts.map_or(-1, i64::from)),
        );
    }
    if let Some(metrics) = &s.metrics {
        o.insert("MetricsConfig".into(), json!({"Metrics": metrics}));
    }
    if let Some(t) = stream {
        o.insert(
            "ParallelizationFactor".into(),
            json!(t.parallelization_factor),
        );
    }
    if let Some(c) = s.maximum_concurrency {
        o.insert("ScalingConfig".into(), json!({"MaximumConcurrency": c}));
    }
    if let Some(t) = stream {
        o.insert(
            "StartingPosition".into(),
            json!(t.starting_position.as_str()),
        );
        if let Some(ts) = t.starting_position_timestamp {
            o.insert("StartingPositionTimestamp".into(), json!(ts));
        }
    }
    o.insert("State".into(), json!(m.state.as_str()));
    o.insert(
        "StateTransitionReason".into(),
        json!(m.state_transition_reason),
    );
    if let Some(t) = stream {
        o.insert(
            "TumblingWindowInSeconds".into(),
            json!(t.tumbling_window.as_secs()),
        );
    }
    o.insert("UUID".into(), json!(m.uuid));
    Value::Object(o)
}

/// `AliasConfiguration`.
pub fn alias_json(a: &AliasRecord, scope: &Scope) -> Value {
    json!({
        "AliasArn": format!("{}:{}", scope.function_arn(&a.function), a.name),
        "Name": a.name,
        "FunctionVersion": a.function_version,
        "Description": a.description,
        "RevisionId": a.revision_id,
    })
}

/// `FunctionConfiguration` of `$LATEST` or of a published version (qualified ARN).
pub fn function_configuration(f: &FunctionRecord, scope: &Scope) -> Value {
    let code_size = match &f.code {
        FunctionCode::Zip { size, .. } => *size,
        _ => 0,
    };
    let code_sha = code_sha256(f);
    let mut o = Map::new();
    o.insert("FunctionName".into(), json!(f.name));
    let arn = match f.version {
        Some(n) => format!("{}:{n}", scope.function_arn(&f.name)),
        None => scope.function_arn(&f.name),
    };
    o.insert("FunctionArn".into(), json!(arn));
    if let Some(r) = &f.runtime {
        o.insert("Runtime".into(), json!(r));
    }
    o.insert("Role".into(), json!(f.role));
    if let Some(h) = &f.handler {
        o.insert("Handler".into(), json!(h));
    }
    o.insert("CodeSize".into(), json!(code_size));
    o.insert("Description".into(), json!(f.description));
    o.insert("Timeout".into(), json!(f.timeout.as_secs()));
    o.insert("MemorySize".into(), json!(f.memory_size));
    o.insert("LastModified".into(), json!(f.last_modified));
    o.insert("CodeSha256".into(), json!(code_sha));
    o.insert("Version".into(), json!(f.version_name()));
    if !f.environment.is_empty() {
        o.insert("Environment".into(), json!({"Variables": f.environment}));
    }
    o.insert("TracingConfig".into(), json!({"Mode": "PassThrough"}));
    o.insert("RevisionId".into(), json!(f.revision_id));
    o.insert("State".into(), json!("Active"));
    o.insert("LastUpdateStatus".into(), json!("Successful"));
    o.insert("PackageType".into(), json!("Zip"));
    o.insert("Architectures".into(), json!(["x86_64"]));
    o.insert("EphemeralStorage".into(), json!({"Size": 512}));
    o.insert(
        "SnapStart".into(),
        json!({"ApplyOn": "None", "OptimizationStatus": "Off"}),
    );
    o.insert(
        "LoggingConfig".into(),
        json!({"LogFormat": "Text", "LogGroup": format!("/aws/lambda/{}", f.name)}),
    );
    Value::Object(o)
}

/// `CodeSha256`: the package's, or a digest of the URL or command of config functions.
pub fn code_sha256(f: &FunctionRecord) -> String {
    match &f.code {
        FunctionCode::Zip { sha256, .. } => sha256.clone(),
        FunctionCode::Url { url } => sha256_b64(url.as_bytes()),
        FunctionCode::Command { command, .. } => sha256_b64(command.join(" ").as_bytes()),
    }
}

/// Base64 of a SHA-256 digest, as Lambda's `CodeSha256`.
pub fn sha256_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Lambda's `LastModified` string for functions: `2019-10-23T20:03:26.045+0000`.
pub fn function_timestamp(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    format!(
        "{}.{:03}+0000",
        t.format(&fmt).unwrap_or_default(),
        ms % 1000
    )
}

#[cfg(test)]
mod tests;
