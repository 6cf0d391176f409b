use proptest::prelude::*;

use crate::stream::lanes::{Lanes, lane_of};

#[test]
fn one_lane_is_lane_zero() {
    for key in ["", "a", "partition-key-1"] {
        assert_eq!(lane_of(key, 1), 0);
        assert_eq!(lane_of(key, 0), 0);
    }
    // MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
    assert_eq!(
        lane_of("a", 10),
        (0x0cc175b9c0f1b6a831c399e269772661u128 % 10) as u32
    );
}

#[test]
fn keys_spread_over_lanes() {
    let lanes = Lanes::new(10);
    let mut used = [0usize; 10];
    for i in 0..1000 {
        used[lanes.lane_of(&format!("key-{i}")) as usize] += 1;
    }
    assert!(used.iter().all(|n| *n > 50), "{used:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every item goes to its key's lane once, each key's items in read order.
    #[test]
    fn split_keeps_per_key_order(
        keys in prop::collection::vec(0u8..12, 0..80),
        factor in 0u32..11,
    ) {
        let lanes = Lanes::new(factor);
        let items: Vec<(String, usize)> = keys.iter().enumerate().map(|(i, k)| (format!("k{k}"), i)).collect();
        let split = lanes.split(items.clone(), |(k, _)| k.as_str());
        prop_assert_eq!(split.len() as u32, factor.max(1));
        let mut all: Vec<usize> = Vec::new();
        for (lane, batch) in split.iter().enumerate() {
            prop_assert!(batch.windows(2).all(|w| w[0].1 < w[1].1));
            for (k, i) in batch {
                prop_assert_eq!(lane_of(k, factor) as usize, lane);
                all.push(*i);
            }
        }
        all.sort_unstable();
        prop_assert_eq!(all, (0..items.len()).collect::<Vec<_>>());
    }
}
