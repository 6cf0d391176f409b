use std::collections::BTreeSet;
use std::ops::Range;
use std::time::Duration;

use proptest::prelude::*;

use crate::stream::destination::Condition;
use crate::stream::failure::{BatchWork, Discarded, FailurePolicy, Outcome, Settled, Step};
use crate::stream::response::BatchResponse;

fn policy(retries: Option<u32>, bisect: bool, report: bool) -> FailurePolicy {
    FailurePolicy {
        maximum_retry_attempts: retries,
        maximum_record_age: None,
        bisect_batch_on_function_error: bisect,
        report_batch_item_failures: report,
    }
}

/// One settled range, as the caller would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Completed(Range<usize>),
    Discarded(Discarded),
}

impl End {
    fn range(&self) -> Range<usize> {
        match self {
            End::Completed(r) => r.clone(),
            End::Discarded(d) => d.range.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct Run {
    ends: Vec<End>,
    invocations: Vec<Range<usize>>,
    /// Clock at each invocation, and at each expiry.
    invoked_at: Vec<u64>,
    expired_at: Vec<(Range<usize>, u64)>,
    done: bool,
}

/// Drives a batch of `n` to the end (or `max_steps`), the clock moving `tick_ms` per
/// invocation.
fn drive(
    policy: FailurePolicy,
    arrivals: &[u64],
    start_ms: u64,
    tick_ms: u64,
    max_steps: usize,
    mut function: impl FnMut(Range<usize>) -> Outcome,
) -> Run {
    let mut work = BatchWork::new(policy, arrivals.len());
    let mut run = Run::default();
    let mut now = start_ms;
    // Strictly in order: what is handed out always starts where the settled part ends.
    let mut frontier = 0;
    for _ in 0..max_steps {
        match work.next(now, |i| arrivals[i]) {
            Step::Invoke(range) => {
                assert_eq!(range.start, frontier, "out of order");
                run.invocations.push(range.clone());
                run.invoked_at.push(now);
                let outcome = function(range);
                for settled in work.record(outcome) {
                    let end = match settled {
                        Settled::Completed(r) => End::Completed(r),
                        Settled::Discarded(d) => End::Discarded(d),
                    };
                    frontier = end.range().end;
                    run.ends.push(end);
                }
                now += tick_ms;
            }
            Step::Expired(d) => {
                assert_eq!(d.condition, Condition::RecordAgeExceeded);
                assert_eq!(d.range.start, frontier, "out of order");
                frontier = d.range.end;
                run.expired_at.push((d.range.clone(), now));
                run.ends.push(End::Discarded(d));
            }
            Step::Done => {
                assert!(work.is_done());
                run.done = true;
                break;
            }
        }
    }
    run
}

/// A function that fails on any batch holding a poison record: with a partial response
/// naming the first poison record when `report`, else with an error.
fn poisoned(poison: &BTreeSet<usize>, report: bool) -> impl FnMut(Range<usize>) -> Outcome + '_ {
    move |range: Range<usize>| match poison.range(range.clone()).next() {
        None => Outcome::Success,
        Some(p) if report => Outcome::PartialFailure {
            failed_from: p - range.start,
        },
        Some(_) => Outcome::FunctionError,
    }
}

/// Every index settled exactly once, in order.
fn assert_in_order_once(ends: &[End], n: usize) {
    let mut next = 0;
    for end in ends {
        let r = end.range();
        assert_eq!(r.start, next, "{ends:?}");
        assert!(r.end > r.start, "{ends:?}");
        next = r.end;
    }
    assert_eq!(next, n, "{ends:?}");
}

fn discarded(range: Range<usize>, condition: Condition, count: u32) -> End {
    End::Discarded(Discarded {
        range,
        condition,
        approximate_invoke_count: count,
    })
}

#[test]
fn bisect_trace() {
    let poison = BTreeSet::from([1]);
    let run = drive(
        policy(Some(0), true, false),
        &[0; 4],
        0,
        1,
        100,
        poisoned(&poison, false),
    );
    assert_eq!(run.invocations, vec![0..4, 0..2, 0..1, 1..2, 2..4]);
    assert_eq!(
        run.ends,
        vec![
            End::Completed(0..1),
            discarded(1..2, Condition::RetryAttemptsExhausted, 3),
            End::Completed(2..4),
        ]
    );
}

#[test]
fn retries_whole_batch_then_discards_with_invoke_count() {
    // Ground truth: MaxRetry 1 -> count 2; 2 -> 3; 3 -> 4.
    for max in [0u32, 1, 2, 3] {
        let poison = BTreeSet::from([2]);
        let run = drive(
            policy(Some(max), false, false),
            &[0; 3],
            0,
            1,
            100,
            poisoned(&poison, false),
        );
        assert_eq!(run.invocations, vec![0..3; max as usize + 1]);
        assert_eq!(
            run.ends,
            vec![discarded(0..3, Condition::RetryAttemptsExhausted, max + 1)]
        );
    }
}

#[test]
fn partial_failure_checkpoints_before_the_lowest_and_counts_a_retry() {
    // Ground truth (test_kinesis_report_batch_item_failures): batch of 3 whose last record
    // always fails, MaxRetry 3 -> the first two complete, the last is discarded alone after
    // 4 invocations.
    let poison = BTreeSet::from([2]);
    let run = drive(
        policy(Some(3), false, true),
        &[0; 3],
        0,
        1,
        100,
        poisoned(&poison, true),
    );
    assert_eq!(run.invocations, vec![0..3, 2..3, 2..3, 2..3]);
    assert_eq!(
        run.ends,
        vec![
            End::Completed(0..2),
            discarded(2..3, Condition::RetryAttemptsExhausted, 4),
        ]
    );
}

#[test]
fn partial_failure_with_bisect_retries_the_remainder_whole() {
    let poison = BTreeSet::from([1]);
    let run = drive(
        policy(Some(1), true, true),
        &[0; 4],
        0,
        1,
        100,
        poisoned(&poison, true),
    );
    assert_eq!(run.invocations, vec![0..4, 1..4]);
    assert_eq!(
        run.ends,
        vec![
            End::Completed(0..1),
            discarded(1..4, Condition::RetryAttemptsExhausted, 2),
        ]
    );
}

#[test]
fn invalid_partial_response_is_a_function_error_and_bisects() {
    assert_eq!(
        Outcome::from_response(BatchResponse::WholeBatchFailed),
        Outcome::FunctionError
    );
    assert_eq!(
        Outcome::from_response(BatchResponse::Success),
        Outcome::Success
    );
    assert_eq!(
        Outcome::from_response(BatchResponse::FailedFrom(2)),
        Outcome::PartialFailure { failed_from: 2 }
    );
    let mut work = BatchWork::new(policy(Some(0), true, true), 4);
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..4));
    assert!(work.record(Outcome::FunctionError).is_empty());
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..2));
}

#[test]
fn partial_failure_is_ignored_without_report_batch_item_failures() {
    let mut work = BatchWork::new(policy(Some(0), false, false), 3);
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..3));
    assert_eq!(
        work.record(Outcome::PartialFailure { failed_from: 1 }),
        vec![Settled::Completed(0..3)]
    );
    assert_eq!(work.next(0, |_| 0), Step::Done);
}

#[test]
fn partial_failure_out_of_range_is_a_whole_failure() {
    let mut work = BatchWork::new(policy(Some(0), false, true), 3);
    work.next(0, |_| 0);
    assert_eq!(
        work.record(Outcome::PartialFailure { failed_from: 3 }),
        vec![Settled::Discarded(Discarded {
            range: 0..3,
            condition: Condition::RetryAttemptsExhausted,
            approximate_invoke_count: 1
        })]
    );
}

#[test]
fn infrastructure_errors_count_nothing() {
    let mut work = BatchWork::new(policy(Some(0), false, false), 2);
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..2));
    assert_eq!(work.in_flight(), Some(0..2));
    // The function never ran: ask again.
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..2));
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..2));
    assert_eq!(
        work.record(Outcome::FunctionError),
        vec![Settled::Discarded(Discarded {
            range: 0..2,
            condition: Condition::RetryAttemptsExhausted,
            approximate_invoke_count: 1
        })]
    );
    assert!(
        work.record(Outcome::Success).is_empty(),
        "nothing in flight"
    );
    assert_eq!(work.next(0, |_| 0), Step::Done);
}

#[test]
fn empty_batch_is_done() {
    let mut work = BatchWork::new(FailurePolicy::default(), 0);
    assert!(work.is_done());
    assert_eq!(work.next(0, |_| 0), Step::Done);
}

#[test]
fn infinite_retries_never_discard() {
    let mut work = BatchWork::new(policy(None, true, false), 1);
    for i in 0..1000 {
        assert_eq!(work.next(i, |_| 0), Step::Invoke(0..1));
        assert!(work.record(Outcome::FunctionError).is_empty());
    }
    assert_eq!(work.consecutive_failures(), 1000);
    work.next(1000, |_| 0);
    work.record(Outcome::Success);
    assert_eq!(work.consecutive_failures(), 0);
}

#[test]
fn expired_records_are_cut_off_before_invoking() {
    // Ground truth (..._discard_records): 1 old + 5 fresh records -> the old one to the
    // destination, the function gets the 5 fresh ones.
    let arrivals = [0, 100_000, 100_000, 100_000, 100_000, 100_000];
    let mut p = policy(Some(0), false, false);
    p.maximum_record_age = Some(Duration::from_secs(60));
    let mut work = BatchWork::new(p, arrivals.len());
    assert_eq!(
        work.next(100_500, |i| arrivals[i]),
        Step::Expired(Discarded {
            range: 0..1,
            condition: Condition::RecordAgeExceeded,
            approximate_invoke_count: 0
        })
    );
    assert_eq!(work.next(100_500, |i| arrivals[i]), Step::Invoke(1..6));
    // Exactly the maximum age is not over it.
    let mut work = BatchWork::new(p, 1);
    assert_eq!(work.next(60_000, |_| 0), Step::Invoke(0..1));
}

#[test]
fn records_expiring_while_retried_carry_their_invoke_count() {
    let mut p = policy(None, false, false);
    p.maximum_record_age = Some(Duration::from_secs(60));
    let arrivals = [0, 0, 50_000];
    let mut work = BatchWork::new(p, 3);
    for t in [0, 20_000, 40_000] {
        assert_eq!(work.next(t, |i| arrivals[i]), Step::Invoke(0..3));
        work.record(Outcome::FunctionError);
    }
    assert_eq!(
        work.next(70_000, |i| arrivals[i]),
        Step::Expired(Discarded {
            range: 0..2,
            condition: Condition::RecordAgeExceeded,
            approximate_invoke_count: 3
        })
    );
    assert_eq!(work.next(70_000, |i| arrivals[i]), Step::Invoke(2..3));
    assert_eq!(
        work.record(Outcome::Success),
        vec![Settled::Completed(2..3)]
    );
    assert_eq!(work.next(70_000, |i| arrivals[i]), Step::Done);
}

#[test]
fn infrastructure_retry_rechecks_age() {
    let mut p = policy(None, false, false);
    p.maximum_record_age = Some(Duration::from_secs(60));
    let mut work = BatchWork::new(p, 2);
    assert_eq!(work.next(0, |_| 0), Step::Invoke(0..2));
    assert!(
        matches!(work.next(61_000, |_| 0), Step::Expired(d) if d.range == (0..2) && d.approximate_invoke_count == 0)
    );
    assert_eq!(work.next(61_000, |_| 0), Step::Done);
}

fn ceil_log2(n: usize) -> usize {
    let mut k = 0;
    while (1usize << k) < n {
        k += 1;
    }
    k
}

fn poison_set(n: usize) -> impl Strategy<Value = BTreeSet<usize>> {
    prop::collection::btree_set(0..n, 0..=n.min(4))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Bisect isolates every poison record: all others complete exactly once, in order.
    #[test]
    fn bisect_completes_every_good_record(
        (n, poison) in (1usize..40).prop_flat_map(|n| (Just(n), poison_set(n))),
        retries in 0u32..3,
    ) {
        let run = drive(policy(Some(retries), true, false), &vec![0; n], 0, 1, 10_000, poisoned(&poison, false));
        prop_assert!(run.done);
        assert_in_order_once(&run.ends, n);
        for end in &run.ends {
            match end {
                End::Completed(r) => prop_assert!(poison.range(r.clone()).next().is_none()),
                End::Discarded(d) => {
                    prop_assert_eq!(d.range.len(), 1);
                    prop_assert!(poison.contains(&d.range.start));
                    prop_assert_eq!(d.condition, Condition::RetryAttemptsExhausted);
                    prop_assert!(d.approximate_invoke_count > retries);
                }
            }
        }
    }

    /// Any policy with finite retries: everything settles once, in order; poison records are
    /// always discarded; a completed range never holds one.
    #[test]
    fn every_policy_settles_everything_once(
        (n, poison) in (1usize..30).prop_flat_map(|n| (Just(n), poison_set(n))),
        retries in 0u32..3,
        bisect in any::<bool>(),
        report in any::<bool>(),
    ) {
        let run = drive(policy(Some(retries), bisect, report), &vec![0; n], 0, 1, 10_000, poisoned(&poison, report));
        prop_assert!(run.done);
        assert_in_order_once(&run.ends, n);
        for end in &run.ends {
            if let End::Completed(r) = end {
                prop_assert!(poison.range(r.clone()).next().is_none());
            }
        }
        for p in &poison {
            prop_assert!(run.ends.iter().any(|e| matches!(e, End::Discarded(d) if d.range.contains(p))));
        }
        if poison.is_empty() {
            prop_assert_eq!(run.invocations, vec![0..n]);
        }
    }

    /// Max retries 0 with bisect: a single poison record is isolated within
    /// ceil(log2 n) + 1 invocations of the sub-batches holding it.
    #[test]
    fn bisect_isolates_a_poison_record_in_log_rounds(
        (n, p) in (1usize..200).prop_flat_map(|n| (Just(n), 0..n)),
    ) {
        let poison = BTreeSet::from([p]);
        let run = drive(policy(Some(0), true, false), &vec![0; n], 0, 1, 10_000, poisoned(&poison, false));
        prop_assert!(run.done);
        let rounds = run.invocations.iter().filter(|r| r.contains(&p)).count();
        prop_assert!(rounds <= ceil_log2(n) + 1, "{rounds} rounds for n = {n}");
        let d = run.ends.iter().find_map(|e| match e { End::Discarded(d) => Some(d), _ => None }).unwrap();
        prop_assert_eq!(d.range.clone(), p..p + 1);
        prop_assert_eq!(d.approximate_invoke_count as usize, rounds);
    }

    /// Bisect off: a batch with a poison record is invoked whole max retries + 1 times and
    /// discarded whole.
    #[test]
    fn without_bisect_the_whole_batch_is_discarded(
        (n, poison) in (1usize..30).prop_flat_map(|n| (Just(n), poison_set(n))),
        retries in 0u32..5,
    ) {
        prop_assume!(!poison.is_empty());
        let run = drive(policy(Some(retries), false, false), &vec![0; n], 0, 1, 10_000, poisoned(&poison, false));
        prop_assert_eq!(run.invocations, vec![0..n; retries as usize + 1]);
        prop_assert_eq!(run.ends, vec![discarded(0..n, Condition::RetryAttemptsExhausted, retries + 1)]);
    }

    /// Infinite retries with an age limit: poison records eventually expire; nothing is
    /// invoked once expired, and nothing is cut while still fresh.
    #[test]
    fn age_limit_ends_infinite_retries(
        (n, poison) in (1usize..20).prop_flat_map(|n| (Just(n), poison_set(n))),
        gaps in prop::collection::vec(0u64..5_000, 20),
        tick in 1_000u64..20_000,
        bisect in any::<bool>(),
        report in any::<bool>(),
    ) {
        let mut arrivals = Vec::with_capacity(n);
        let mut t = 0;
        for gap in gaps.iter().take(n) {
            t += gap;
            arrivals.push(t);
        }
        let max_age_ms = 60_000;
        let mut p = policy(None, bisect, report);
        p.maximum_record_age = Some(Duration::from_millis(max_age_ms));
        let start = t;
        let run = drive(p, &arrivals, start, tick, 100_000, poisoned(&poison, report));
        prop_assert!(run.done);
        assert_in_order_once(&run.ends, n);
        for end in &run.ends {
            match end {
                End::Completed(r) => prop_assert!(poison.range(r.clone()).next().is_none()),
                End::Discarded(d) => prop_assert_eq!(d.condition, Condition::RecordAgeExceeded),
            }
        }
        for (range, at) in run.invocations.iter().zip(&run.invoked_at) {
            prop_assert!(at - arrivals[range.start] <= max_age_ms, "invoked an expired record");
        }
        for (range, at) in &run.expired_at {
            for i in range.clone() {
                prop_assert!(at - arrivals[i] > max_age_ms, "cut a fresh record");
            }
        }
    }
}
