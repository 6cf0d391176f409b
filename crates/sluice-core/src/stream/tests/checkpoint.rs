use proptest::prelude::*;

use crate::stream::checkpoint::CheckpointTracker;

#[test]
fn checkpoint_waits_for_the_contiguous_prefix() {
    let mut t = CheckpointTracker::new(Some("5".into()));
    assert_eq!(t.checkpoint(), Some("5"));
    let ordinals: Vec<u64> = ["10", "11", "12", "13"]
        .into_iter()
        .map(|s| t.register(s))
        .collect();
    assert_eq!(ordinals, vec![0, 1, 2, 3]);
    assert!(!t.complete([2, 3]), "a later lane finished first");
    assert_eq!(t.checkpoint(), Some("5"));
    assert!(t.complete([0]));
    assert_eq!(t.checkpoint(), Some("10"));
    assert_eq!(t.checkpoint_ordinal(), Some(0));
    assert!(t.complete(1..2));
    assert_eq!(t.checkpoint(), Some("13"));
    assert_eq!(t.in_flight(), 0);
    assert_eq!(t.next_ordinal(), 4);
}

#[test]
fn unknown_and_repeated_ordinals_are_ignored() {
    let mut t = CheckpointTracker::new(None);
    assert_eq!(t.checkpoint(), None);
    t.register("1");
    assert!(!t.complete([7, u64::MAX]));
    assert!(t.complete([0, 0]));
    assert!(!t.complete([0]));
    assert_eq!(t.checkpoint(), Some("1"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random registration and completion orders against a model that keeps every record.
    #[test]
    fn checkpoint_matches_the_model(
        (n, order) in (1usize..60).prop_flat_map(|n| (Just(n), Just((0..n as u64).collect::<Vec<_>>()).prop_shuffle())),
        chunk in 1usize..5,
        registered_ahead in 0usize..10,
    ) {
        let mut t = CheckpointTracker::new(None);
        let mut done = vec![false; n];
        let mut registered = 0usize;
        let mut last = None::<String>;
        for batch in order.chunks(chunk) {
            // Register everything a batch needs (and some more, read but not yet done).
            let need = batch.iter().map(|o| *o as usize + 1).max().unwrap_or(0) + registered_ahead;
            while registered < need.min(n) {
                prop_assert_eq!(t.register(format!("{}", 1000 + registered)), registered as u64);
                registered += 1;
            }
            t.complete(batch.iter().copied());
            for o in batch {
                done[*o as usize] = true;
            }
            let contiguous = done[..registered].iter().take_while(|d| **d).count();
            let want = contiguous.checked_sub(1).map(|h| format!("{}", 1000 + h));
            prop_assert_eq!(t.checkpoint().map(str::to_owned), want.clone().or(last.clone()));
            if want.is_some() { last = want; }
            // Memory: only what is not yet released.
            prop_assert_eq!(t.in_flight(), registered - contiguous);
        }
        prop_assert_eq!(t.checkpoint().map(str::to_owned), Some(format!("{}", 1000 + n - 1)));
    }
}
