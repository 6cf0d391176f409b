#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::validate::{plan_create, plan_delete, plan_update};
use super::*;
use crate::arn::{DestinationArn, FunctionRef, Scope};

struct Fake;

impl Catalog for Fake {
    fn function_exists(&self, f: &FunctionRef) -> bool {
        f.name == "fn" && f.qualifier.as_deref().is_none_or(|q| q == "$LATEST")
    }
    fn source_exists(&self, s: &SourceArn) -> bool {
        !s.as_str().contains("missing")
    }
    fn destination_exists(&self, d: &DestinationArn) -> bool {
        !d.as_str().contains("missing")
    }
}

const KINESIS: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
const DDB: &str =
    "arn:aws:dynamodb:us-east-1:000000000000:table/users/stream/2026-01-01T00:00:00.000";
const SQS: &str = "arn:aws:sqs:us-east-1:000000000000:jobs";
const FIFO: &str = "arn:aws:sqs:us-east-1:000000000000:jobs.fifo";
const NOW_MS: u64 = 1_800_000_000_000;

fn scope() -> Scope {
    Scope::new("us-east-1", "000000000000")
}

fn create(body: serde_json::Value) -> Result<EventSourceMapping, MappingError> {
    let req: CreateRequest = serde_json::from_value(body).unwrap();
    plan_create(&req, &scope(), &Fake, "u-1".into(), NOW_MS)
}

fn err_text(e: &MappingError) -> (&'static str, String) {
    let kind = match e {
        MappingError::Validation(_) => "ValidationException",
        MappingError::InvalidParameter(_) => "InvalidParameterValueException",
        MappingError::NotFound(_) => "ResourceNotFoundException",
        MappingError::Conflict(_) => "ResourceConflictException",
        MappingError::InUse(_) => "ResourceInUseException",
    };
    (kind, e.to_string())
}

#[test]
fn create_refusals_have_aws_type_and_text() {
    let ipve = "InvalidParameterValueException";
    let ve = "ValidationException";
    let cases: Vec<(serde_json::Value, &str, String)> = vec![
        (json!({"FunctionName": "fn"}), ipve, "Unrecognized event source.".into()),
        (json!({"FunctionName": "nope", "EventSourceArn": SQS}), ipve, "Function does not exist".into()),
        (
            json!({"FunctionName": "nope", "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:missing",
                   "DestinationConfig": {"OnSuccess": {"Destination": SQS}}}),
            ipve,
            "Unsupported DestinationConfig parameter for given event source mapping type.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS}),
            ipve,
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "invalid"}),
            ve,
            "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": DDB, "StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1000}),
            ipve,
            format!("Unsupported starting position for arn type: {DDB}"),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:missing"}),
            ipve,
            "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/missing", "StartingPosition": "LATEST"}),
            ipve,
            "Stream not found: arn:aws:kinesis:us-east-1:000000000000:stream/missing".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "BatchSize": 11}),
            ipve,
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "FilterCriteria": {"Filters": [{"Pattern": "simple string"}]}}),
            ipve,
            "Invalid filter pattern definition.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "FilterCriteria": {"Filters": [{}]}}),
            ipve,
            "Invalid filter pattern definition.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "BatchSize": 10001}),
            ve,
            "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "BatchSize": 0, "ParallelizationFactor": 11}),
            ve,
            "2 validation errors detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have value less than or equal to 10".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "MaximumBatchingWindowInSeconds": 301}),
            ve,
            "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "MaximumRetryAttempts": -2}),
            ve,
            "1 validation error detected: Value '-2' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to -1".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "TumblingWindowInSeconds": 901}),
            ve,
            "1 validation error detected: Value '901' at 'tumblingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": 604801}),
            ve,
            "1 validation error detected: Value '604801' at 'maximumRecordAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 604800".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "ScalingConfig": {"MaximumConcurrency": 1}}),
            ve,
            "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 2".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "FunctionResponseTypes": ["Nope"]}),
            ve,
            "1 validation error detected: Value '[Nope]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures], Member must not be null]".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": "arn:aws:s3:::bucket"}),
            ipve,
            "Unrecognized event source. Unsupported source arn : arn:aws:s3:::bucket".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": FIFO, "BatchSize": 11, "MaximumBatchingWindowInSeconds": 1}),
            ipve,
            "Batching window is not supported for FIFO queues".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "StartingPosition": "LATEST"}),
            ipve,
            "StartingPosition is not valid for SQS event sources.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": SQS, "ParallelizationFactor": 2}),
            ipve,
            "Unsupported ParallelizationFactor parameter for given event source mapping type.".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": 30}),
            ipve,
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "AT_TIMESTAMP"}),
            ipve,
            "Need to specify a timestamp".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "StartingPositionTimestamp": 1}),
            ipve,
            "Timestamp only valid with StartingPosition AT_TIMESTAMP".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST",
                   "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:missing"}}}),
            ipve,
            "The provided execution role does not have permissions to call SendMessage on SQS".into(),
        ),
        (
            json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST",
                   "DestinationConfig": {"OnFailure": {}}}),
            ipve,
            "The Destination field is required for an OnFailure configuration.".into(),
        ),
        (
            json!({"FunctionName": "bad name!", "EventSourceArn": SQS}),
            ve,
            "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?".into(),
        ),
    ];
    for (body, kind, text) in cases {
        let e = create(body.clone()).expect_err(&body.to_string());
        assert_eq!(err_text(&e), (kind, text), "{body}");
    }
}

#[test]
fn create_refusals_without_recorded_text_are_ipve() {
    let cases = vec![
        json!({"FunctionName": "fn", "EventSourceArn": FIFO, "BatchSize": 11, "MaximumBatchingWindowInSeconds": 1}),
        json!({"FunctionName": "fn", "EventSourceArn": SQS, "StartingPosition": "LATEST"}),
        json!({"FunctionName": "fn", "EventSourceArn": SQS, "MaximumRetryAttempts": 1}),
        json!({"FunctionName": "fn", "EventSourceArn": SQS, "BisectBatchOnFunctionError": true}),
        json!({"FunctionName": "fn", "EventSourceArn": SQS, "DestinationConfig": {"OnFailure": {"Destination": SQS}}}),
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "ScalingConfig": {"MaximumConcurrency": 5}}),
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": 30}),
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "AT_TIMESTAMP"}),
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "StartingPositionTimestamp": 1}),
        json!({"FunctionName": "fn", "EventSourceArn": "arn:aws:s3:::bucket"}),
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST",
               "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:missing"}}}),
        json!({"FunctionName": "fn", "EventSourceArn": SQS, "Topics": ["t"]}),
        json!({"FunctionName": "fn", "EventSourceArn": SQS, "FilterCriteria": {"Filters": [
            {"Pattern": "{\"a\": [1]}"}, {"Pattern": "{\"a\": [2]}"}, {"Pattern": "{\"a\": [3]}"},
            {"Pattern": "{\"a\": [4]}"}, {"Pattern": "{\"a\": [5]}"}, {"Pattern": "{\"a\": [6]}"}]}}),
        json!({"FunctionName": "fn:1", "EventSourceArn": SQS}),
        json!({"FunctionName": "arn:aws:lambda:eu-west-1:000000000000:function:fn", "EventSourceArn": SQS}),
    ];
    for body in cases {
        let e = create(body.clone()).expect_err(&body.to_string());
        assert!(
            matches!(e, MappingError::InvalidParameter(_)),
            "{body}: {e:?}"
        );
    }
}

#[test]
fn stream_defaults_are_the_full_set() {
    let m = create(
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST"}),
    )
    .unwrap();
    assert_eq!(m.state, MappingState::Creating);
    assert_eq!(m.state_transition_reason, "User action");
    assert_eq!(
        m.last_processing_result.as_deref(),
        Some("No records processed")
    );
    assert_eq!(m.settings.batch_size, 100);
    let s = m.settings.stream.unwrap();
    assert_eq!(s.parallelization_factor, 1);
    assert_eq!(s.maximum_record_age, None);
    assert_eq!(s.maximum_retry_attempts, None);
    assert!(!s.bisect_batch_on_function_error);
    assert_eq!(
        m.function_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:fn"
    );
}

#[test]
fn sqs_defaults_are_the_short_set() {
    let m = create(json!({"FunctionName": "fn:$LATEST", "EventSourceArn": SQS, "Enabled": false}))
        .unwrap();
    assert_eq!(m.state, MappingState::Disabled);
    assert_eq!(m.state_transition_reason, "USER_INITIATED");
    assert_eq!(m.settings.batch_size, 10);
    assert!(m.settings.stream.is_none());
    assert!(m.last_processing_result.is_none());
    assert_eq!(
        m.function_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST"
    );
}

#[test]
fn update_merges_and_revalidates() {
    let mut m = create(json!({"FunctionName": "fn", "EventSourceArn": SQS})).unwrap();
    m.state = MappingState::Enabled;
    let upd = |body: serde_json::Value, m: &EventSourceMapping| {
        let req: UpdateRequest = serde_json::from_value(body).unwrap();
        plan_update(m, &req, &scope(), &Fake, NOW_MS + 1)
    };
    let e = upd(json!({"BatchSize": 11}), &m).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    );
    let n = upd(
        json!({"BatchSize": 11, "MaximumBatchingWindowInSeconds": 1}),
        &m,
    )
    .unwrap();
    assert_eq!(
        (n.settings.batch_size, n.state),
        (11, MappingState::Updating)
    );
    let n = upd(json!({"Enabled": false}), &m).unwrap();
    assert_eq!(n.state, MappingState::Disabling);
    assert!(matches!(
        upd(json!({"MaximumRetryAttempts": 3}), &m),
        Err(MappingError::InvalidParameter(_))
    ));
    assert!(matches!(
        upd(json!({"FunctionName": "other"}), &m),
        Err(MappingError::InvalidParameter(_))
    ));
    let mut busy = m.clone();
    busy.state = MappingState::Updating;
    assert!(matches!(
        upd(json!({"BatchSize": 5}), &busy),
        Err(MappingError::InUse(_))
    ));
    assert!(matches!(
        plan_delete(&busy, NOW_MS),
        Err(MappingError::InUse(_))
    ));
    assert_eq!(
        plan_delete(&m, NOW_MS).unwrap().state,
        MappingState::Deleting
    );
}

#[test]
fn update_removes_filters_and_destinations() {
    let mut m = create(json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "TRIM_HORIZON",
        "FilterCriteria": {"Filters": [{"Pattern": "{\"data\": {\"a\": [1]}}"}]},
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}}})).unwrap();
    m.state = MappingState::Enabled;
    assert_eq!(m.settings.filter_patterns.len(), 1);
    let req: UpdateRequest =
        serde_json::from_value(json!({"FilterCriteria": {}, "DestinationConfig": {}})).unwrap();
    let n = plan_update(&m, &req, &scope(), &Fake, NOW_MS).unwrap();
    assert!(n.settings.filter_patterns.is_empty());
    assert_eq!(n.settings.stream.unwrap().on_failure_destination, None);
}

#[test]
fn state_machine_table() {
    use MappingState::*;
    let cases = [
        (Enabled, Some(false), Ok(Disabling)),
        (Enabled, Some(true), Ok(Updating)),
        (Enabled, None, Ok(Updating)),
        (Disabled, Some(true), Ok(Enabling)),
        (Disabled, None, Ok(Updating)),
        (Creating, None, Err(())),
        (Updating, Some(true), Err(())),
        (Deleting, None, Err(())),
    ];
    for (from, enabled, to) in cases {
        assert_eq!(from.on_update(enabled), to, "{from:?} {enabled:?}");
    }
    assert_eq!(Creating.settle(true), Settled::State(Enabled));
    assert_eq!(Updating.settle(false), Settled::State(Disabled));
    assert_eq!(Disabling.settle(false), Settled::State(Disabled));
    assert_eq!(Deleting.settle(true), Settled::Gone);
}

#[test]
fn conflict_messages_follow_source_type() {
    let m = create(json!({"FunctionName": "fn", "EventSourceArn": SQS})).unwrap();
    assert_eq!(
        m.conflict_message("fn"),
        format!(
            "An event source mapping with SQS arn (\" {SQS} \") and function (\" fn \") already exists. Please update or delete the existing mapping with UUID u-1"
        )
    );
    let k = create(
        json!({"FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST"}),
    )
    .unwrap();
    assert!(
        k.conflict_message("fn")
            .starts_with("The event source arn (\" arn:aws:kinesis")
    );
}
