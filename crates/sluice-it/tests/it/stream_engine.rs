//! Kinesis event source mappings end to end: records put through aws-sdk-kinesis reach an
//! HTTP function through the engine, with AWS's batching, failure handling and checkpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, EventSourcePosition, Filter, FilterCriteria, FunctionResponseType, OnFailure,
};

use crate::harness::*;

const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/flow";

/// A server whose `echo` function is `f`, with a stream `flow` of `shards` shards.
async fn setup(f: &ScriptedFunction, shards: i32) -> Sluice {
    let s = Sluice::start(&f.url).await;
    s.kinesis()
        .create_stream()
        .stream_name("flow")
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    s
}

async fn put(s: &Sluice, key: &str, data: &str) -> String {
    s.kinesis()
        .put_record()
        .stream_name("flow")
        .partition_key(key)
        .data(Blob::new(data.as_bytes().to_vec()))
        .send()
        .await
        .unwrap()
        .sequence_number()
        .to_owned()
}

fn ok() -> Script {
    Arc::new(|_| (200, "{}".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_reach_the_function_in_order_with_aws_shape() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 1).await;
    let mut seqs = Vec::new();
    for i in 0..12 {
        seqs.push(put(&s, "k", &format!("r{i}")).await);
    }
    let m = s
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(5)
        .send()
        .await
        .unwrap();
    let first = f.next().await;
    let records = first["Records"].as_array().unwrap();
    assert_eq!(records.len(), 5);
    let r = &records[0];
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "kinesis",
            "eventSource",
            "eventVersion",
            "eventID",
            "eventName",
            "invokeIdentityArn",
            "awsRegion",
            "eventSourceARN"
        ]
    );
    assert_eq!(r["eventSource"], "aws:kinesis");
    assert_eq!(r["eventSourceARN"], STREAM);
    assert_eq!(r["eventID"], format!("shardId-000000000000:{}", seqs[0]));
    assert_eq!(r["kinesis"]["sequenceNumber"], seqs[0].as_str());
    assert_eq!(r["kinesis"]["partitionKey"], "k");
    assert!(
        r["kinesis"]["approximateArrivalTimestamp"]
            .as_f64()
            .unwrap()
            > 1.0e9
    );
    let mut all: Vec<String> = records.iter().map(data_of).collect();
    all.extend(f.records(7).await.iter().map(data_of));
    assert_eq!(all, (0..12).map(|i| format!("r{i}")).collect::<Vec<_>>());

    let uuid = m.uuid().unwrap();
    let mut got = None;
    for _ in 0..2000 {
        let m = s
            .lambda()
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
            .unwrap();
        if m.last_processing_result() == Some("OK") {
            got = Some(());
            break;
        }
    }
    assert!(got.is_some(), "LastProcessingResult never became OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_starts_at_the_tip_when_create_returns() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 2).await;
    put(&s, "a", "before").await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap();
    // Put right after Create returned: never missed, whatever the consumers' start-up.
    put(&s, "a", "after-1").await;
    put(&s, "b", "after-2").await;
    let mut got: Vec<String> = f.records(2).await.iter().map(data_of).collect();
    got.sort();
    assert_eq!(got, ["after-1", "after-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_is_isolated_and_sent_to_the_destination_alone() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let count = invocations.clone();
    let mut f = ScriptedFunction::start(Arc::new(move |event| {
        count.fetch_add(1, Ordering::SeqCst);
        let poisoned = event["Records"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| data_of(r) == "poison"));
        if poisoned {
            (500, "boom".into())
        } else {
            (200, "{}".into())
        }
    }))
    .await;
    let s = setup(&f, 1).await;
    let mut seqs = Vec::new();
    for i in 0..8 {
        let data = if i == 5 {
            "poison".to_owned()
        } else {
            format!("good-{i}")
        };
        seqs.push(put(&s, "k", &data).await);
    }
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(8)
        .maximum_retry_attempts(0)
        .bisect_batch_on_function_error(true)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(DLQ).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Collect delivered good records until all seven arrived.
    let mut good = std::collections::BTreeSet::new();
    while good.len() < 7 {
        let e = f.next().await;
        let rs = e["Records"].as_array().unwrap().clone();
        if !rs.iter().any(|r| data_of(r) == "poison") {
            good.extend(rs.iter().map(data_of));
        }
    }
    // The destination queue gets exactly one record, for the poison record alone.
    let records = destination_messages(&s, "dlq").await;
    assert_eq!(records.len(), 1, "{records:?}");
    let info = &records[0]["KinesisBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["startSequenceNumber"], seqs[5].as_str());
    assert_eq!(info["endSequenceNumber"], seqs[5].as_str());
    assert_eq!(info["shardId"], "shardId-000000000000");
    assert_eq!(info["streamArn"], STREAM);
    assert_eq!(
        records[0]["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(records[0]["responseContext"]["functionError"], "Unhandled");
    assert_eq!(records[0]["version"], "1.0");
}

/// Every on-failure record that reached the embedded SQS queue `queue` (polled until at
/// least one is there; the record is sent before the consumer moves on).
async fn destination_messages(s: &Sluice, queue: &str) -> Vec<serde_json::Value> {
    let sqs = s.sqs();
    let url = sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let mut out = Vec::new();
    for _ in 0..200 {
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(if out.is_empty() { 5 } else { 0 })
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            break;
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_failures_retry_from_the_lowest_failed_record() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let mut f = ScriptedFunction::start(Arc::new(move |event| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        let rs = event["Records"].as_array().cloned().unwrap_or_default();
        if n == 0 && rs.len() >= 4 {
            let failed: Vec<_> = [3usize, 2]
                .iter()
                .map(|i| serde_json::json!({"itemIdentifier": rs[*i]["kinesis"]["sequenceNumber"]}))
                .collect();
            (
                200,
                serde_json::json!({"batchItemFailures": failed}).to_string(),
            )
        } else {
            (200, "{\"batchItemFailures\":[]}".into())
        }
    }))
    .await;
    let s = setup(&f, 1).await;
    for i in 0..5 {
        put(&s, "k", &format!("r{i}")).await;
    }
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(5)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
    let first: Vec<String> = f.next().await["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(data_of)
        .collect();
    assert_eq!(first, ["r0", "r1", "r2", "r3", "r4"]);
    let retry: Vec<String> = f.next().await["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(data_of)
        .collect();
    assert_eq!(retry, ["r2", "r3", "r4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_drop_records_and_checkpoints_survive_restart() {
    let mut f = ScriptedFunction::start(ok()).await;
    let mut s = setup(&f, 1).await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .filter_criteria(
            FilterCriteria::builder()
                .filters(
                    Filter::builder()
                        .pattern(r#"{"data": {"kind": ["keep"]}}"#)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    put(&s, "k", r#"{"kind":"drop","n":1}"#).await;
    put(&s, "k", r#"{"kind":"keep","n":2}"#).await;
    put(&s, "k", "not json").await;
    put(&s, "k", r#"{"kind":"keep","n":4}"#).await;
    let got: Vec<String> = f.records(2).await.iter().map(data_of).collect();
    assert_eq!(
        got,
        [r#"{"kind":"keep","n":2}"#, r#"{"kind":"keep","n":4}"#]
    );
    s.restart().await;
    put(&s, "k", r#"{"kind":"keep","n":5}"#).await;
    // After the restart the checkpoint holds: only the new record is delivered.
    let got: Vec<String> = f.records(1).await.iter().map(data_of).collect();
    assert_eq!(got, [r#"{"kind":"keep","n":5}"#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_start_after_their_parent_is_done() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 1).await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        put(&s, &format!("p{i}"), &format!("parent-{i}")).await;
    }
    s.kinesis()
        .split_shard()
        .stream_name("flow")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("170141183460469231731687303715884105728")
        .send()
        .await
        .unwrap();
    for i in 0..4 {
        put(&s, &format!("c{i}"), &format!("child-{i}")).await;
    }
    let got: Vec<String> = f.records(7).await.iter().map(data_of).collect();
    let last_parent = got.iter().rposition(|d| d.starts_with("parent")).unwrap();
    let first_child = got.iter().position(|d| d.starts_with("child")).unwrap();
    assert!(last_parent < first_child, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tumbling_windows_carry_state_to_a_final_invocation() {
    let mut f = ScriptedFunction::start(Arc::new(|event| {
        let seen = event["state"]["count"].as_u64().unwrap_or(0);
        let n = event["Records"].as_array().map_or(0, Vec::len) as u64;
        (
            200,
            serde_json::json!({"state": {"count": seen + n}}).to_string(),
        )
    }))
    .await;
    let s = setup(&f, 1).await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .tumbling_window_in_seconds(1)
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        put(&s, "k", &format!("w{i}")).await;
    }
    // Records may straddle a window boundary: sum the final states until all three are in.
    let mut finals = 0;
    while finals < 3 {
        let e = f.next().await;
        assert_eq!(e["shardId"], "shardId-000000000000");
        assert_eq!(e["eventSourceARN"], STREAM);
        assert!(e["window"]["start"].as_str().unwrap().ends_with('Z'));
        assert_eq!(e["isWindowTerminatedEarly"], false);
        if e["isFinalInvokeForWindow"] == true {
            assert!(e["Records"].as_array().unwrap().is_empty());
            finals += e["state"]["count"].as_u64().unwrap();
        } else {
            assert!(e["state"].is_object());
        }
    }
    assert_eq!(finals, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_apply_live_and_disable_pauses_delivery() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 1).await;
    let m = s
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(1)
        .send()
        .await
        .unwrap();
    let uuid = m.uuid().unwrap().to_owned();
    put(&s, "k", "one").await;
    assert_eq!(
        f.records(1).await.iter().map(data_of).collect::<Vec<_>>(),
        ["one"]
    );

    s.lambda()
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    wait_state(&s.lambda(), &uuid, "Disabled").await;
    put(&s, "k", "while-disabled-1").await;
    put(&s, "k", "while-disabled-2").await;
    s.lambda()
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .batch_size(10)
        .send()
        .await
        .unwrap();
    // Resumes from the checkpoint with the new batch size: both records in one batch.
    let e = f.next().await;
    let got: Vec<String> = e["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(data_of)
        .collect();
    assert_eq!(got, ["while-disabled-1", "while-disabled-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallelization_keeps_per_key_order() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 1).await;
    for i in 0..40 {
        put(&s, &format!("key-{}", i % 4), &format!("key-{}:{i}", i % 4)).await;
    }
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(3)
        .parallelization_factor(4)
        .send()
        .await
        .unwrap();
    let got: Vec<String> = f.records(40).await.iter().map(data_of).collect();
    for k in 0..4 {
        let seq: Vec<usize> = got
            .iter()
            .filter(|d| d.starts_with(&format!("key-{k}:")))
            .map(|d| d.split(':').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(seq.len(), 10);
        assert!(
            seq.windows(2).all(|w| w[0] < w[1]),
            "key-{k} out of order: {seq:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_arn_mapping_reads_its_stream() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 1).await;
    let consumer = s
        .kinesis()
        .register_stream_consumer()
        .stream_arn(STREAM)
        .consumer_name("efo")
        .send()
        .await
        .unwrap();
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(consumer.consumer().unwrap().consumer_arn())
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap();
    put(&s, "k", "via-consumer").await;
    let r = f.records(1).await;
    assert_eq!(data_of(&r[0]), "via-consumer");
    assert_eq!(r[0]["eventSourceARN"], STREAM);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_stuck_on_an_unrunnable_function_still_deletes() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = setup(&f, 1).await;
    let lambda = s.lambda();
    lambda
        .create_function()
        .function_name("zipped")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(crate::lambda_esm::minimal_zip().into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Its code is gone from the data dir: the function cannot be started at all.
    std::fs::remove_dir_all(s.dir.join("functions/zipped")).unwrap();
    let stuck = lambda
        .create_event_source_mapping()
        .function_name("zipped")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    let uuid = stuck.uuid().unwrap().to_owned();
    put(&s, "k", "first").await;
    let mut problem = false;
    for _ in 0..2000 {
        let m = lambda
            .get_event_source_mapping()
            .uuid(&uuid)
            .send()
            .await
            .unwrap();
        if m.last_processing_result()
            .is_some_and(|r| r.starts_with("PROBLEM: "))
        {
            problem = true;
            break;
        }
    }
    assert!(problem, "LastProcessingResult never showed the problem");
    lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    let mut gone = false;
    for _ in 0..2000 {
        if lambda
            .get_event_source_mapping()
            .uuid(&uuid)
            .send()
            .await
            .is_err()
        {
            gone = true;
            break;
        }
    }
    assert!(gone, "the stuck mapping was never removed");
    // Other mappings were never held up.
    lambda
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(STREAM)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    assert_eq!(data_of(&f.records(1).await[0]), "first");
}
