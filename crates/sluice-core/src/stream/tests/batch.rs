use std::time::Duration;

use proptest::prelude::*;

use crate::stream::batch::{BatchLimits, Batcher};
use crate::stream::event::{MAX_PAYLOAD, RECORDS_BUDGET, payload_size, record_cost};

fn limits(max_records: usize, max_payload: usize, window_ms: u64) -> BatchLimits {
    BatchLimits {
        max_records,
        max_payload,
        window: Duration::from_millis(window_ms),
    }
}

#[test]
fn ready_by_count_bytes_or_window() {
    let mut b = Batcher::new(limits(3, 100, 1000));
    assert!(!b.is_ready(0));
    assert_eq!(b.deadline(), None);
    b.push("a", 10, 50);
    assert_eq!(b.deadline(), Some(1050));
    assert!(!b.is_ready(1049));
    assert!(b.is_ready(1050));
    b.push("b", 10, 60);
    assert!(!b.is_ready(60));
    b.push("c", 10, 70);
    assert!(b.is_ready(70), "count reached");
    assert_eq!(b.take(70), vec!["a", "b", "c"]);
    assert!(b.is_empty());
    assert_eq!(b.deadline(), None);

    b.push("big", 100, 200);
    assert!(b.is_ready(200), "bytes full: nothing more can fit");
}

#[test]
fn zero_window_is_ready_whenever_not_empty() {
    let mut b = Batcher::new(limits(10, 100, 0));
    assert!(!b.is_ready(5));
    b.push(1, 1, 5);
    assert!(b.is_ready(5));
    assert!(b.is_ready(0), "even if the clock stepped back");
    assert_eq!(b.deadline(), Some(5));
}

#[test]
fn take_leaves_the_overflow_with_a_new_window() {
    let mut b = Batcher::new(limits(10, 100, 1000));
    b.push(1, 60, 0);
    b.push(2, 30, 10);
    b.push(3, 20, 20);
    assert!(b.is_ready(20), "110 bytes buffered: past the limit");
    assert_eq!(b.take(500), vec![1, 2]);
    assert_eq!(b.len(), 1);
    assert_eq!(b.bytes(), 20);
    assert_eq!(b.deadline(), Some(1500));
    assert!(!b.is_ready(1499));
    assert!(b.is_ready(1500));
}

#[test]
fn a_single_oversize_item_still_goes() {
    let mut b = Batcher::new(limits(10, 100, 1000));
    b.push("huge", 500, 0);
    b.push("small", 1, 0);
    assert!(b.is_ready(0));
    assert_eq!(b.take(0), vec!["huge"]);
    assert_eq!(b.take(0), vec!["small"]);
    assert_eq!(b.take(0), Vec::<&str>::new());
}

#[test]
fn zero_batch_size_counts_as_one() {
    let mut b = Batcher::new(limits(0, 100, 1000));
    b.push(1, 1, 0);
    b.push(2, 1, 0);
    assert!(b.is_ready(0));
    assert_eq!(b.take(0), vec![1]);
}

#[test]
fn stream_limits_cut_exactly_at_six_mb() {
    // Three records whose event just fits 6 MiB together, and one more byte does not.
    let each = (MAX_PAYLOAD - 14 - 2) / 3;
    let rest = (MAX_PAYLOAD - 14 - 2) % 3;
    let sizes = [each, each, each + rest];
    assert_eq!(payload_size(sizes), MAX_PAYLOAD);
    let mut b = Batcher::new(BatchLimits::stream_event(10_000, Duration::ZERO));
    for (i, s) in sizes.iter().enumerate() {
        b.push(i, record_cost(*s), 0);
    }
    assert_eq!(b.bytes(), RECORDS_BUDGET);
    assert_eq!(b.take(0), vec![0, 1, 2]);

    let sizes = [each, each, each + rest + 1];
    assert_eq!(payload_size(sizes), MAX_PAYLOAD + 1);
    for (i, s) in sizes.iter().enumerate() {
        b.push(i, record_cost(*s), 0);
    }
    assert_eq!(b.take(0), vec![0, 1]);
    assert_eq!(b.take(0), vec![2]);
}

#[test]
fn drain_all_ignores_limits() {
    let mut b = Batcher::new(limits(1, 1, 1000));
    b.push(1, 5, 0);
    b.push(2, 5, 0);
    assert_eq!(b.drain_all(), vec![1, 2]);
    assert!(b.is_empty());
    assert_eq!(b.bytes(), 0);
    assert_eq!(b.deadline(), None);
}

#[derive(Debug, Clone)]
enum Op {
    Push(usize),
    Advance(u64),
    Take,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..60).prop_map(Op::Push),
        2 => (0u64..400).prop_map(Op::Advance),
        2 => Just(Op::Take),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batcher_matches_the_model(
        max_records in 0usize..6,
        max_payload in 0usize..150,
        window_ms in prop_oneof![Just(0u64), 1u64..1000],
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let lim = limits(max_records, max_payload, window_ms);
        let mut b = Batcher::new(lim);
        // The model: (id, size) in order, and when the window opened.
        let mut model: Vec<(usize, usize)> = Vec::new();
        let mut opened: Option<u64> = None;
        let mut now = 0u64;
        let mut next_id = 0usize;
        let mut taken: Vec<usize> = Vec::new();
        let cap = max_records.max(1);

        for op in ops {
            match op {
                Op::Push(size) => {
                    if model.is_empty() { opened = Some(now); }
                    model.push((next_id, size));
                    b.push(next_id, size, now);
                    next_id += 1;
                }
                Op::Advance(dt) => now += dt,
                Op::Take => {
                    let batch = b.take(now);
                    if model.is_empty() {
                        prop_assert!(batch.is_empty());
                    } else {
                        prop_assert!(!batch.is_empty());
                        prop_assert!(batch.len() <= cap);
                        let sizes: Vec<usize> = model[..batch.len()].iter().map(|(_, s)| *s).collect();
                        let total: usize = sizes.iter().sum();
                        prop_assert!(total <= max_payload || batch.len() == 1, "{total} > {max_payload}");
                        // Longest prefix: the next one would break a limit.
                        if let Some((_, next)) = model.get(batch.len()) {
                            prop_assert!(batch.len() == cap || total + next > max_payload);
                        }
                        let ids: Vec<usize> = model.drain(..batch.len()).map(|(id, _)| id).collect();
                        prop_assert_eq!(&batch, &ids);
                        taken.extend(batch);
                        opened = if model.is_empty() { None } else { Some(now) };
                    }
                }
            }
            let bytes: usize = model.iter().map(|(_, s)| *s).sum();
            prop_assert_eq!(b.len(), model.len());
            prop_assert_eq!(b.bytes(), bytes);
            prop_assert_eq!(b.deadline(), opened.map(|o| o + window_ms));
            let ready = opened.is_some_and(|o| {
                model.len() >= cap || bytes >= max_payload || window_ms == 0 || now >= o + window_ms
            });
            prop_assert_eq!(b.is_ready(now), ready);
        }
        // Nothing lost, nothing duplicated, in order.
        taken.extend(b.drain_all());
        prop_assert_eq!(taken, (0..next_id).collect::<Vec<_>>());
    }
}
