#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sluice_core::arn::SourceArn;
use sluice_core::mapping::{MappingSettings, MappingState, StartingPosition, StreamSettings};

use super::*;

fn mapping(source: &str, stream: Option<StreamSettings>) -> EventSourceMapping {
    EventSourceMapping {
        uuid: "u".into(),
        source: SourceArn::parse(source).unwrap(),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        function_name: "f".into(),
        state: MappingState::Creating,
        enabled: true,
        state_transition_reason: "User action".into(),
        last_modified_ms: 1_732_550_000_123,
        last_processing_result: stream.as_ref().map(|_| "No records processed".into()),
        settings: MappingSettings {
            batch_size: 100,
            maximum_batching_window: Duration::ZERO,
            report_batch_item_failures: false,
            filter_patterns: vec![],
            maximum_concurrency: None,
            kms_key_arn: None,
            metrics: None,
            stream,
        },
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn streams_echo_the_full_default_set() {
    let m = mapping(
        "arn:aws:kinesis:us-east-1:000000000000:stream/s",
        Some(StreamSettings {
            starting_position: StartingPosition::Latest,
            starting_position_timestamp: None,
            parallelization_factor: 1,
            maximum_record_age: None,
            maximum_retry_attempts: None,
            bisect_batch_on_function_error: false,
            tumbling_window: Duration::ZERO,
            on_failure_destination: None,
        }),
    );
    let v = mapping_json(&m, &Scope::new("us-east-1", "000000000000"), false);
    assert_eq!(
        keys(&v),
        [
            "BatchSize",
            "BisectBatchOnFunctionError",
            "DestinationConfig",
            "EventSourceArn",
            "EventSourceMappingArn",
            "FunctionArn",
            "FunctionResponseTypes",
            "LastModified",
            "LastProcessingResult",
            "MaximumBatchingWindowInSeconds",
            "MaximumRecordAgeInSeconds",
            "MaximumRetryAttempts",
            "ParallelizationFactor",
            "StartingPosition",
            "State",
            "StateTransitionReason",
            "TumblingWindowInSeconds",
            "UUID"
        ]
    );
    assert_eq!(v["DestinationConfig"], json!({"OnFailure": {}}));
    assert_eq!(v["LastModified"].to_string(), "1732550000.123");
    assert_eq!(v["MaximumRetryAttempts"], -1);
}

#[test]
fn sqs_echoes_the_short_set_and_kms_hides_filters_in_lists() {
    let mut m = mapping("arn:aws:sqs:us-east-1:000000000000:q", None);
    m.settings.filter_patterns = vec![r#"{"body":{"a":[1]}}"#.into()];
    m.settings.kms_key_arn = Some("arn:aws:kms:us-east-1:000000000000:key/k".into());
    let scope = Scope::new("us-east-1", "000000000000");
    let v = mapping_json(&m, &scope, false);
    assert_eq!(
        keys(&v),
        [
            "BatchSize",
            "EventSourceArn",
            "EventSourceMappingArn",
            "FilterCriteria",
            "FunctionArn",
            "FunctionResponseTypes",
            "KMSKeyArn",
            "LastModified",
            "MaximumBatchingWindowInSeconds",
            "State",
            "StateTransitionReason",
            "UUID"
        ]
    );
    assert!(
        mapping_json(&m, &scope, true)
            .get("FilterCriteria")
            .is_none()
    );
}

#[test]
fn function_timestamps_are_lambdas_format() {
    assert_eq!(
        function_timestamp(1_571_861_006_045),
        "2019-10-23T20:03:26.045+0000"
    );
}
