use proptest::prelude::*;

use crate::stream::timestamp::{civil, rfc3339_millis, rfc3339_seconds};

#[test]
fn formats_known_instants() {
    let table: &[(u64, &str, &str)] = &[
        (0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        (
            1_607_497_440_000,
            "2020-12-09T07:04:00Z",
            "2020-12-09T07:04:00.000Z",
        ),
        (
            1_573_691_886_021,
            "2019-11-14T00:38:06Z",
            "2019-11-14T00:38:06.021Z",
        ),
        (
            951_782_400_000,
            "2000-02-29T00:00:00Z",
            "2000-02-29T00:00:00.000Z",
        ),
        (
            4_107_542_399_999,
            "2100-02-28T23:59:59Z",
            "2100-02-28T23:59:59.999Z",
        ),
        (
            1_764_088_501_123,
            "2025-11-25T16:35:01Z",
            "2025-11-25T16:35:01.123Z",
        ),
    ];
    for (ms, seconds, millis) in table {
        assert_eq!(rfc3339_seconds(*ms), *seconds);
        assert_eq!(rfc3339_millis(*ms), *millis);
    }
}

#[test]
fn far_future_does_not_panic() {
    let _ = rfc3339_millis(u64::MAX);
    let _ = civil(u64::MAX);
}

/// Days from civil, the inverse, to check round trips.
fn days_from_civil(y: u64, m: u32, d: u32) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let m = u64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + u64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn civil_round_trips(ms in 0u64..32_503_680_000_000) {
        let (y, m, d, h, mi, s) = civil(ms);
        prop_assert!((1..=12).contains(&m) && (1..=31).contains(&d));
        let back = days_from_civil(y, m, d) * 86_400_000
            + u64::from(h) * 3_600_000 + u64::from(mi) * 60_000 + u64::from(s) * 1000 + ms % 1000;
        prop_assert_eq!(back, ms);
    }
}
