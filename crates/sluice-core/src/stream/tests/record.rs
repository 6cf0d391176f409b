use std::cmp::Ordering::{self, Equal, Greater, Less};

use proptest::prelude::*;
use serde_json::json;

use crate::stream::record::{StreamRecord, cmp_sequence, json_size};

#[test]
fn sequence_numbers_compare_as_numbers() {
    let table: &[(&str, &str, Ordering)] = &[
        ("1", "2", Less),
        ("9", "10", Less),
        ("10", "9", Greater),
        ("007", "7", Equal),
        ("0", "", Equal),
        ("0", "00", Equal),
        ("100", "099", Greater),
        (
            "49590338271490256608559692538361571095921575989136588898",
            "49590338271490256608559692538361571095921575989136588899",
            Less,
        ),
        (
            "49590338271490256608559692538361571095921575989136588898",
            "4421584500000000017450439091",
            Greater,
        ),
        ("abc", "abd", Less),
    ];
    for (a, b, want) in table {
        assert_eq!(cmp_sequence(a, b), *want, "{a} vs {b}");
        assert_eq!(cmp_sequence(b, a), want.reverse(), "{b} vs {a}");
    }
}

#[test]
fn records_measure_their_compact_json() {
    let event = json!({"kinesis": {"data": "aGVsbG8=", "n": 1.5}, "é": "ü"});
    let record = StreamRecord::new("1", "k", 5, event.clone());
    assert_eq!(record.event_size, serde_json::to_vec(&event).unwrap().len());
    assert_eq!(json_size(&json!(null)), 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cmp_sequence_agrees_with_u128(a in any::<u64>(), b in any::<u64>(), za in 0usize..3, zb in 0usize..3) {
        let sa = format!("{}{a}", "0".repeat(za));
        let sb = format!("{}{b}", "0".repeat(zb));
        prop_assert_eq!(cmp_sequence(&sa, &sb), a.cmp(&b));
    }

    #[test]
    fn cmp_sequence_never_panics(a in ".{0,20}", b in ".{0,20}") {
        let _ = cmp_sequence(&a, &b);
    }
}
