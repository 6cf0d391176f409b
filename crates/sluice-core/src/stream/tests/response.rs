use proptest::prelude::*;
use serde_json::json;

use crate::stream::response::{
    BatchResponse::{self, FailedFrom, Success, WholeBatchFailed},
    WindowResponseError, item_identifiers, parse_batch_item_failures, parse_window_response,
};

const BATCH: &[&str] = &[
    "49590338271490256608559692538361571095921575989136588898",
    "49590338271490256608559692538361571095921575989136588899",
    "49590338271490256608559692538361571095921575989136588900",
    "49590338271490256608559692538361571095921575989136588901",
];

/// Every form in the ground truth (esm-ground-truth §4.2, aws-semantics §2.4), and the
/// neighbours of each.
#[test]
fn partial_batch_response_forms() {
    let table: &[(&str, BatchResponse)] = &[
        // Success, as recorded for Kinesis and DynamoDB.
        ("", Success),
        ("  \n", Success),
        (r#""""#, Success),
        ("null", Success),
        ("[]", Success),
        ("{}", Success),
        (r#"{"batchItemFailures": []}"#, Success),
        (r#"{"batchItemFailures": null}"#, Success),
        // Other falsy values, as LocalStack reads them.
        ("0", Success),
        ("false", Success),
        (r#"{"batchItemFailures": {}}"#, Success),
        (r#"{"other": 1}"#, Success),
        // Whole-batch failure, as recorded.
        (
            r#"{"batchItemFailures": [{"itemIdentifier": 123}]}"#,
            WholeBatchFailed,
        ),
        (
            r#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#,
            WholeBatchFailed,
        ),
        (
            r#"{"batchItemFailures": [{"itemIdentifier": null}]}"#,
            WholeBatchFailed,
        ),
        (r#"{"batchItemFailures": [{"foo": 123}]}"#, WholeBatchFailed),
        (
            r#"{"batchItemFailures": [{"foo": null}]}"#,
            WholeBatchFailed,
        ),
        (
            r#"{"batchItemFailures": [{"foo": "notvalid"}]}"#,
            WholeBatchFailed,
        ),
        (
            r#"{"batchItemFailures": [{"itemIdentifier": "1"}]}"#,
            WholeBatchFailed,
        ),
        // Not a partial batch response at all.
        ("not json", WholeBatchFailed),
        ("{", WholeBatchFailed),
        (r#""ok""#, WholeBatchFailed),
        ("1", WholeBatchFailed),
        ("true", WholeBatchFailed),
        ("[1]", WholeBatchFailed),
        (r#"{"batchItemFailures": "x"}"#, WholeBatchFailed),
        (r#"{"batchItemFailures": [null]}"#, WholeBatchFailed),
        (
            r#"{"batchItemFailures": ["49590338271490256608559692538361571095921575989136588898"]}"#,
            WholeBatchFailed,
        ),
        // One valid id among invalid ones is still a whole-batch failure.
        (
            r#"{"batchItemFailures": [{"itemIdentifier": "49590338271490256608559692538361571095921575989136588899"}, {"itemIdentifier": ""}]}"#,
            WholeBatchFailed,
        ),
        // Failed from the lowest sequence number, wherever it is listed.
        (
            r#"{"batchItemFailures": [{"itemIdentifier": "49590338271490256608559692538361571095921575989136588900"}]}"#,
            FailedFrom(2),
        ),
        (
            r#"{"batchItemFailures": [{"itemIdentifier": "49590338271490256608559692538361571095921575989136588901"}, {"itemIdentifier": "49590338271490256608559692538361571095921575989136588899"}]}"#,
            FailedFrom(1),
        ),
        (
            r#"{"batchItemFailures": [{"itemIdentifier": "49590338271490256608559692538361571095921575989136588898", "extra": 1}]}"#,
            FailedFrom(0),
        ),
        (
            r#"{"state": {}, "batchItemFailures": [{"itemIdentifier": "49590338271490256608559692538361571095921575989136588901"}, {"itemIdentifier": "49590338271490256608559692538361571095921575989136588901"}]}"#,
            FailedFrom(3),
        ),
    ];
    for (body, want) in table {
        assert_eq!(
            parse_batch_item_failures(body.as_bytes(), BATCH),
            *want,
            "{body}"
        );
    }
}

#[test]
fn lowest_is_numeric_not_positional() {
    // A batch whose sequence numbers are not in text order (different lengths).
    let batch = ["9", "10", "11"];
    let body = br#"{"batchItemFailures": [{"itemIdentifier": "11"}, {"itemIdentifier": "9"}]}"#;
    assert_eq!(parse_batch_item_failures(body, &batch), FailedFrom(0));
    let body = br#"{"batchItemFailures": [{"itemIdentifier": "11"}, {"itemIdentifier": "10"}]}"#;
    assert_eq!(parse_batch_item_failures(body, &batch), FailedFrom(1));
}

#[test]
fn sqs_identifiers() {
    assert_eq!(item_identifiers(b""), Some(vec![]));
    assert_eq!(item_identifiers(b"{}"), Some(vec![]));
    assert_eq!(
        item_identifiers(
            br#"{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m3"}]}"#
        ),
        Some(vec!["m1".to_owned(), "m3".to_owned()])
    );
    assert_eq!(
        item_identifiers(br#"{"batchItemFailures":[{"foo":"notvalid"}]}"#),
        None
    );
    assert_eq!(item_identifiers(b"nope"), None);
}

#[test]
fn window_responses() {
    let ok = parse_window_response(br#"{"state": {"1": 282}}"#, BATCH).unwrap();
    assert_eq!(ok.state, json!({"1": 282}));
    assert_eq!(ok.items, Success);

    let partial = parse_window_response(
        br#"{"state": {}, "batchItemFailures": [{"itemIdentifier": "49590338271490256608559692538361571095921575989136588899"}]}"#,
        BATCH,
    )
    .unwrap();
    assert_eq!(partial.items, FailedFrom(1));

    let invalid = parse_window_response(
        br#"{"state": {}, "batchItemFailures": [{"foo": 1}]}"#,
        BATCH,
    )
    .unwrap();
    assert_eq!(invalid.items, WholeBatchFailed);

    let table: &[(&str, WindowResponseError)] = &[
        ("", WindowResponseError::NotJson),
        ("nope", WindowResponseError::NotJson),
        ("null", WindowResponseError::NotAnObject),
        ("[]", WindowResponseError::NotAnObject),
        ("{}", WindowResponseError::MissingState),
        (
            r#"{"batchItemFailures": []}"#,
            WindowResponseError::MissingState,
        ),
        (r#"{"state": null}"#, WindowResponseError::StateNotAnObject),
        (r#"{"state": 5}"#, WindowResponseError::StateNotAnObject),
    ];
    for (body, want) in table {
        assert_eq!(
            parse_window_response(body.as_bytes(), BATCH),
            Err(*want),
            "{body}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_any_body(body in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_batch_item_failures(&body, BATCH);
        let _ = parse_window_response(&body, BATCH);
        let _ = item_identifiers(&body);
    }

    #[test]
    fn failed_from_is_the_lowest_listed(listed in prop::collection::btree_set(0usize..4, 1..4)) {
        let entries: Vec<_> = listed.iter().rev().map(|i| json!({"itemIdentifier": BATCH[*i]})).collect();
        let body = serde_json::to_vec(&json!({"batchItemFailures": entries})).unwrap();
        let lowest = *listed.iter().next().unwrap();
        prop_assert_eq!(parse_batch_item_failures(&body, BATCH), FailedFrom(lowest));
    }
}
