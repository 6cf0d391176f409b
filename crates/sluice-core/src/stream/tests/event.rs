use proptest::prelude::*;
use serde_json::{Value, json};

use crate::stream::event::{
    EMPTY_EVENT_SIZE, KinesisSource, MAX_PAYLOAD, RECORDS_BUDGET, WindowContext, batch_event,
    kinesis_record, payload_size, payload_size_with, record_cost, records_budget, window_event,
};
use crate::stream::record::json_size;

fn source() -> KinesisSource {
    KinesisSource {
        shard_id: "shardId-000000000006".into(),
        stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
        region: "us-east-2".into(),
        invoke_identity_arn: "arn:aws:iam::123456789012:role/lambda-role".into(),
    }
}

#[test]
fn kinesis_record_is_byte_for_byte_the_guide_example() {
    let record = kinesis_record(
        &source(),
        "49590338271490256608559692538361571095921575989136588898",
        "1",
        b"Hello, this is a test.",
        1_545_084_650_987,
    );
    let golden = r#"{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}"#;
    assert_eq!(serde_json::to_string(&record).unwrap(), golden);
}

#[test]
fn arrival_timestamp_is_seconds_with_milliseconds() {
    let table: &[(u64, &str)] = &[
        (1_732_550_000_123, "1732550000.123"),
        (1_732_550_000_100, "1732550000.1"),
        (1_732_550_000_000, "1732550000.0"),
        (1_732_550_000_001, "1732550000.001"),
        (1_732_550_000_999, "1732550000.999"),
    ];
    for (ms, want) in table {
        let record = kinesis_record(&source(), "1", "k", b"", *ms);
        let ts = &record["kinesis"]["approximateArrivalTimestamp"];
        assert_eq!(serde_json::to_string(ts).unwrap(), *want);
    }
    let record = kinesis_record(&source(), "1", "k", b"hello", 0);
    assert_eq!(record["kinesis"]["data"], "aGVsbG8=");
}

#[test]
fn batch_event_wraps_records() {
    assert_eq!(batch_event::<Value>([]), br#"{"Records":[]}"#);
    let a = json!({"a": 1});
    let b = json!({"b": [true, null]});
    assert_eq!(
        batch_event([&a, &b]),
        br#"{"Records":[{"a":1},{"b":[true,null]}]}"#
    );
    assert_eq!(batch_event::<Value>([]).len(), EMPTY_EVENT_SIZE);
    assert_eq!(RECORDS_BUDGET, MAX_PAYLOAD - 13);
}

#[test]
fn window_event_has_aws_fields_in_order() {
    let record = json!({"r": 1});
    let state = json!({"1": 282, "2": 715});
    let context = WindowContext {
        window: (1_607_497_440_000, 1_607_497_560_000),
        state: &state,
        shard_id: "shardId-000000000006",
        event_source_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
        is_final_invoke_for_window: false,
        is_window_terminated_early: false,
    };
    let golden = r#"{"Records":[{"r":1}],"window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},"state":{"1":282,"2":715},"shardId":"shardId-000000000006","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream","isFinalInvokeForWindow":false,"isWindowTerminatedEarly":false}"#;
    assert_eq!(
        String::from_utf8(window_event([&record], &context)).unwrap(),
        golden
    );
    let empty = window_event::<Value>([], &context);
    let parsed: Value = serde_json::from_slice(&empty).unwrap();
    assert_eq!(parsed["Records"], json!([]));
}

fn value_of_size(seed: u8, extra: usize) -> Value {
    match seed % 4 {
        0 => json!("x".repeat(extra)),
        1 => json!({"k": "y".repeat(extra), "n": [1, 2.5, null]}),
        2 => json!(extra),
        _ => json!(["é".repeat(extra)]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn payload_size_is_exact(specs in prop::collection::vec((any::<u8>(), 0usize..40), 0..20)) {
        let records: Vec<Value> = specs.iter().map(|(s, e)| value_of_size(*s, *e)).collect();
        let sizes: Vec<usize> = records.iter().map(json_size).collect();
        prop_assert_eq!(payload_size(sizes.iter().copied()), batch_event(&records).len());

        let state = json!({"count": specs.len()});
        let context = WindowContext {
            window: (0, 60_000), state: &state, shard_id: "s", event_source_arn: "arn",
            is_final_invoke_for_window: true, is_window_terminated_early: false,
        };
        let empty = window_event::<Value>([], &context).len();
        prop_assert_eq!(payload_size_with(empty, sizes.iter().copied()), window_event(&records, &context).len());
    }

    #[test]
    fn costs_fit_the_budget_exactly_when_the_event_fits(
        sizes in prop::collection::vec(0usize..100, 1..30),
        max in 14usize..2000,
    ) {
        let cost: usize = sizes.iter().map(|s| record_cost(*s)).sum();
        let fits = payload_size(sizes.iter().copied()) <= max;
        prop_assert_eq!(cost <= records_budget(EMPTY_EVENT_SIZE, max), fits);
    }
}

#[test]
fn the_raw_kinesis_record_is_the_value_one() {
    let source = KinesisSource {
        shard_id: "shardId-000000000001".into(),
        stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
        region: "us-east-1".into(),
        invoke_identity_arn: "arn:aws:iam::000000000000:role/r".into(),
    };
    for (key, data, at) in [
        ("k", &b"hello"[..], 1_545_084_650_987u64),
        ("\"odd\"\n", &[0u8, 255, 7][..], 1000),
    ] {
        let raw = super::super::event::kinesis_record_raw(&source, "49123", key, data, at);
        let parsed: serde_json::Value = serde_json::from_str(raw.get()).unwrap();
        assert_eq!(parsed, kinesis_record(&source, "49123", key, data, at));
        assert_eq!(
            raw.get(),
            serde_json::to_string(&kinesis_record(&source, "49123", key, data, at)).unwrap()
        );
    }
}
