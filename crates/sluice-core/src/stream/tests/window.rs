use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;

use crate::stream::window::{
    MAX_STATE_SIZE, rfc3339_seconds, same_window_prefix, state_too_large, window_of,
};

#[test]
fn windows_align_on_the_epoch() {
    let two_minutes = Duration::from_secs(120);
    // The guide's example window: 07:04:00 to 07:06:00.
    let (start, end) = window_of(1_607_497_512_345, two_minutes);
    assert_eq!(rfc3339_seconds(start), "2020-12-09T07:04:00Z");
    assert_eq!(rfc3339_seconds(end), "2020-12-09T07:06:00Z");
    let table: &[(u64, u64, (u64, u64))] = &[
        (0, 1000, (0, 1000)),
        (999, 1000, (0, 1000)),
        (1000, 1000, (1000, 2000)),
        (5, 0, (5, 5)),
        (u64::MAX, 1000, (u64::MAX - u64::MAX % 1000, u64::MAX)),
    ];
    for (arrival, width_ms, want) in table {
        assert_eq!(
            window_of(*arrival, Duration::from_millis(*width_ms)),
            *want,
            "{arrival}"
        );
    }
}

#[test]
fn batches_stop_at_the_window_edge() {
    let w = Duration::from_secs(60);
    assert_eq!(same_window_prefix([], w), 0);
    assert_eq!(same_window_prefix([1, 2, 59_999, 60_000, 60_001], w), 3);
    assert_eq!(same_window_prefix([60_000, 61_000], w), 2);
}

#[test]
fn state_limit_is_one_mb() {
    assert!(!state_too_large(&json!({})));
    // {"s":"<n x>"} is n + 8 bytes.
    assert!(!state_too_large(
        &json!({"s": "x".repeat(MAX_STATE_SIZE - 8)})
    ));
    assert!(state_too_large(
        &json!({"s": "x".repeat(MAX_STATE_SIZE - 7)})
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arrival_is_inside_its_window(arrival in 0u64..4_000_000_000_000, secs in 1u64..=900) {
        let (start, end) = window_of(arrival, Duration::from_secs(secs));
        prop_assert!(start <= arrival && arrival < end);
        prop_assert_eq!(end - start, secs * 1000);
        prop_assert_eq!(start % (secs * 1000), 0);
    }
}
