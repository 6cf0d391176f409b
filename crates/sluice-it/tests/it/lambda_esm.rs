//! Event source mappings through aws-sdk-lambda.

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::{
    DestinationConfig, EventSourcePosition, Filter, FilterCriteria, FunctionResponseType,
    OnFailure, ScalingConfig,
};

use crate::harness::*;

/// Error code and message of a failed SDK call.
fn code_message<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_mapping_lifecycle_matches_aws() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();

    let created = c
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(KINESIS)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap();
    let uuid = created.uuid().unwrap().to_owned();
    assert_eq!(created.state(), Some("Creating"));
    assert_eq!(created.batch_size(), Some(100));
    assert_eq!(created.maximum_retry_attempts(), Some(-1));
    assert_eq!(created.maximum_record_age_in_seconds(), Some(-1));
    assert_eq!(created.parallelization_factor(), Some(1));
    assert_eq!(created.bisect_batch_on_function_error(), Some(false));
    assert_eq!(created.tumbling_window_in_seconds(), Some(0));
    assert_eq!(
        created.last_processing_result(),
        Some("No records processed")
    );
    assert_eq!(created.state_transition_reason(), Some("User action"));
    assert!(
        created
            .destination_config()
            .unwrap()
            .on_failure()
            .unwrap()
            .destination()
            .is_none()
    );
    assert_eq!(
        created.event_source_mapping_arn(),
        Some(format!("arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{uuid}").as_str())
    );
    assert_eq!(
        created.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:echo")
    );
    assert!(created.last_modified().is_some());
    wait_state(&c, &uuid, "Enabled").await;

    let dup = c
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(KINESIS)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&dup),
        (
            "ResourceConflictException".into(),
            format!(
                "The event source arn (\" {KINESIS} \") and function (\" echo \") provided mapping already exists. Please update or delete the existing mapping with UUID {uuid}"
            )
        )
    );

    let updated = c
        .update_event_source_mapping()
        .uuid(&uuid)
        .batch_size(500)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(3)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(DLQ).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(updated.state(), Some("Updating"));
    assert_eq!(updated.batch_size(), Some(500));
    wait_state(&c, &uuid, "Enabled").await;
    let got = c
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(got.maximum_retry_attempts(), Some(3));
    assert_eq!(got.bisect_batch_on_function_error(), Some(true));
    assert_eq!(
        got.destination_config()
            .unwrap()
            .on_failure()
            .unwrap()
            .destination(),
        Some(DLQ)
    );

    let disabling = c
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    assert_eq!(disabling.state(), Some("Disabling"));
    wait_state(&c, &uuid, "Disabled").await;
    let enabling = c
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(enabling.state(), Some("Enabling"));
    wait_state(&c, &uuid, "Enabled").await;

    let deleting = c
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(deleting.state(), Some("Deleting"));
    let mut gone = false;
    for _ in 0..2000 {
        match c.get_event_source_mapping().uuid(&uuid).send().await {
            Ok(_) => continue,
            Err(e) => {
                assert_eq!(
                    code_message(&e),
                    (
                        "ResourceNotFoundException".into(),
                        "The resource you requested does not exist.".into()
                    )
                );
                gone = true;
                break;
            }
        }
    }
    assert!(gone, "mapping was never removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_mapping_has_the_short_shape_and_its_rules() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let created = c
        .create_event_source_mapping()
        .function_name("echo:$LATEST")
        .event_source_arn(SQS)
        .enabled(false)
        .scaling_config(ScalingConfig::builder().maximum_concurrency(5).build())
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .filter_criteria(
            FilterCriteria::builder()
                .filters(
                    Filter::builder()
                        .pattern(r#"{"body": {"k": ["v"]}}"#)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.state(), Some("Disabled"));
    assert_eq!(created.state_transition_reason(), Some("USER_INITIATED"));
    assert_eq!(created.batch_size(), Some(10));
    assert_eq!(created.maximum_batching_window_in_seconds(), Some(0));
    assert_eq!(created.starting_position(), None);
    assert_eq!(created.parallelization_factor(), None);
    assert_eq!(created.last_processing_result(), None);
    assert!(created.destination_config().is_none());
    assert_eq!(
        created.scaling_config().unwrap().maximum_concurrency(),
        Some(5)
    );
    assert_eq!(
        created.filter_criteria().unwrap().filters()[0].pattern(),
        Some(r#"{"body": {"k": ["v"]}}"#)
    );
    assert_eq!(
        created.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST")
    );
    let uuid = created.uuid().unwrap();

    let e = c
        .update_event_source_mapping()
        .uuid(uuid)
        .batch_size(11)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&e),
        (
            "InvalidParameterValueException".into(),
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10".into()
        )
    );
    let raw = e.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 400);

    let e = c
        .create_event_source_mapping()
        .function_name("echo:$LATEST")
        .event_source_arn(SQS)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&e),
        (
            "ResourceConflictException".into(),
            format!(
                "An event source mapping with SQS arn (\" {SQS} \") and function (\" echo:$LATEST \") already exists. Please update or delete the existing mapping with UUID {uuid}"
            )
        )
    );
    // The same queue with another function is allowed.
    c.create_event_source_mapping()
        .function_name("other")
        .event_source_arn(SQS)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_aws_codes_and_texts_and_change_nothing() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let ipve = "InvalidParameterValueException";
    // (function, source, starting position, batch size, error code, message)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<EventSourcePosition>,
        Option<i32>,
        &'a str,
        String,
    );
    let cases: Vec<Case> = vec![
        ("nope", Some(SQS), None, None, ipve, "Function does not exist".into()),
        ("echo", Some(KINESIS), None, None, ipve,
         "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.".into()),
        ("echo", Some("arn:aws:sqs:us-east-1:000000000000:missing"), None, None, ipve,
         "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.".into()),
        ("echo", Some("arn:aws:kinesis:us-east-1:000000000000:stream/missing"), Some(EventSourcePosition::Latest), None, ipve,
         "Stream not found: arn:aws:kinesis:us-east-1:000000000000:stream/missing".into()),
        ("echo", Some(DDB), Some(EventSourcePosition::AtTimestamp), None, ipve,
         format!("Unsupported starting position for arn type: {DDB}")),
        ("echo", Some(SQS), None, Some(11), ipve,
         "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10".into()),
        ("echo", Some(SQS), None, Some(10001), "ValidationException",
         "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000".into()),
        ("echo", None, None, None, ipve, "Unrecognized event source.".into()),
    ];
    for (function, source, position, batch, code, message) in cases {
        let mut req = c.create_event_source_mapping().function_name(function);
        if let Some(s) = source {
            req = req.event_source_arn(s);
        }
        if let Some(p) = position.clone() {
            req = req.starting_position(p.clone());
            if p == EventSourcePosition::AtTimestamp {
                req = req.starting_position_timestamp(
                    aws_sdk_lambda::primitives::DateTime::from_secs(1_000),
                );
            }
        }
        if let Some(b) = batch {
            req = req.batch_size(b);
        }
        let e = req.send().await.unwrap_err();
        assert_eq!(
            code_message(&e),
            (code.to_owned(), message),
            "{function} {source:?}"
        );
    }
    let e = c
        .create_event_source_mapping()
        .function_name("nope")
        .event_source_arn(SQS)
        .destination_config(
            DestinationConfig::builder()
                .on_success(
                    aws_sdk_lambda::types::OnSuccess::builder()
                        .destination(DLQ)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&e).1,
        "Unsupported DestinationConfig parameter for given event source mapping type."
    );
    let e = c
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(FIFO)
        .batch_size(11)
        .maximum_batching_window_in_seconds(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&e).1,
        "Batching window is not supported for FIFO queues"
    );
    for pattern in [
        "simple string",
        r#"{"eventSource":"aws:sqs"}"#,
        r#"{"eventSource":[]}"#,
    ] {
        let e = c
            .create_event_source_mapping()
            .function_name("echo")
            .event_source_arn(SQS)
            .filter_criteria(
                FilterCriteria::builder()
                    .filters(Filter::builder().pattern(pattern).build())
                    .build(),
            )
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            code_message(&e),
            (ipve.into(), "Invalid filter pattern definition.".into())
        );
    }
    for op in ["get", "delete", "update"] {
        let e = match op {
            "get" => c
                .get_event_source_mapping()
                .uuid("00000000-0000-0000-0000-000000000000")
                .send()
                .await
                .map(|_| ())
                .unwrap_err()
                .into_service_error()
                .meta()
                .clone(),
            "delete" => c
                .delete_event_source_mapping()
                .uuid("00000000-0000-0000-0000-000000000000")
                .send()
                .await
                .map(|_| ())
                .unwrap_err()
                .into_service_error()
                .meta()
                .clone(),
            _ => c
                .update_event_source_mapping()
                .uuid("00000000-0000-0000-0000-000000000000")
                .batch_size(5)
                .send()
                .await
                .map(|_| ())
                .unwrap_err()
                .into_service_error()
                .meta()
                .clone(),
        };
        assert_eq!(e.code(), Some("ResourceNotFoundException"), "{op}");
        assert_eq!(
            e.message(),
            Some("The resource you requested does not exist."),
            "{op}"
        );
    }
    let listed = c.list_event_source_mappings().send().await.unwrap();
    assert!(listed.event_source_mappings().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_and_pages() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let mut uuids = Vec::new();
    for (function, source) in [
        ("echo", SQS),
        ("other", SQS),
        ("echo", KINESIS),
        ("other", KINESIS),
        ("echo", DDB),
    ] {
        let mut req = c
            .create_event_source_mapping()
            .function_name(function)
            .event_source_arn(source);
        if source != SQS {
            req = req.starting_position(EventSourcePosition::TrimHorizon);
        }
        uuids.push(req.send().await.unwrap().uuid().unwrap().to_owned());
    }
    let by_source = c
        .list_event_source_mappings()
        .event_source_arn(KINESIS)
        .send()
        .await
        .unwrap();
    assert_eq!(by_source.event_source_mappings().len(), 2);
    let by_function = c
        .list_event_source_mappings()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    assert_eq!(by_function.event_source_mappings().len(), 3);
    let none = c
        .list_event_source_mappings()
        .function_name("doesnotexist")
        .send()
        .await
        .unwrap();
    assert!(none.event_source_mappings().is_empty());

    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = c
            .list_event_source_mappings()
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert!(page.event_source_mappings().len() <= 2);
        seen.extend(
            page.event_source_mappings()
                .iter()
                .map(|m| m.uuid().unwrap().to_owned()),
        );
        marker = page.next_marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    seen.sort();
    uuids.sort();
    assert_eq!(seen, uuids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_live_on_the_mapping_arn() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let m = c
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(SQS)
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    let arn = m.event_source_mapping_arn().unwrap();
    let tags = c.list_tags().resource(arn).send().await.unwrap();
    assert_eq!(
        tags.tags().unwrap().get("team").map(String::as_str),
        Some("data")
    );
    c.tag_resource()
        .resource(arn)
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource(arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c.list_tags().resource(arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags.get("env").map(String::as_str), Some("dev"));
    let e = c
        .list_tags()
        .resource("arn:aws:lambda:us-east-1::event-source-mapping:x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&e).1,
        "Unsupported resource type for tagging or invalid arn: arn:aws:lambda:us-east-1::event-source-mapping:x"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_mapping_and_function() {
    let (_f, url) = FakeFunction::start().await;
    let mut s = Sluice::start(&url).await;
    let c = s.lambda();
    let zip = minimal_zip();
    c.create_function()
        .function_name("zipped")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(zip.into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let m = c
        .create_event_source_mapping()
        .function_name("zipped")
        .event_source_arn(KINESIS)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(7)
        .send()
        .await
        .unwrap();
    let uuid = m.uuid().unwrap().to_owned();
    s.restart().await;
    let c = s.lambda();
    let got = c
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(got.batch_size(), Some(7));
    assert_eq!(
        got.starting_position(),
        Some(&EventSourcePosition::TrimHorizon)
    );
    wait_state(&c, &uuid, "Enabled").await;
    let f = c
        .get_function()
        .function_name("zipped")
        .send()
        .await
        .unwrap();
    assert_eq!(f.configuration().unwrap().handler(), Some("index.handler"));
}

/// An empty zip archive (end-of-central-directory record only).
pub fn minimal_zip() -> Vec<u8> {
    let mut z = b"PK\x05\x06".to_vec();
    z.extend_from_slice(&[0u8; 18]);
    z
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_cannot_make_a_duplicate() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let first = c
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(SQS)
        .send()
        .await
        .unwrap();
    let second = c
        .create_event_source_mapping()
        .function_name("other")
        .event_source_arn(SQS)
        .send()
        .await
        .unwrap();
    let second_uuid = second.uuid().unwrap();
    wait_state(&c, second_uuid, "Enabled").await;
    let e = c
        .update_event_source_mapping()
        .uuid(second_uuid)
        .function_name("echo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceConflictException"));
    assert!(e.message().unwrap().ends_with(first.uuid().unwrap()));
    let got = c
        .get_event_source_mapping()
        .uuid(second_uuid)
        .send()
        .await
        .unwrap();
    assert!(got.function_arn().unwrap().ends_with(":function:other"));
}
