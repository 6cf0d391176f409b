//! The failure policy: what a function error, a partial batch response or an expired record
//! does to a batch, worked through as a queue of sub-batches.
//!
//! ```text
//!              next(now)                         record(outcome)
//!  queue ──────────────────► front sub-batch ────────────────────────────────┐
//!    ▲   expired prefix ──► Step::Expired (RecordAgeExceeded)                  │
//!    │   rest ──────────► Step::Invoke(range) ── in flight ──► Success ──► Completed
//!    │                                                       ├─ FunctionError:
//!    │◄── both halves, same retries (bisect, > 1 record) ────┤    split, or retry / discard
//!    │◄── same range, retries + 1 ───────────────────────────┤
//!    │                                    Discarded ◄────────┤ (retries exhausted)
//!    │                                                       └─ PartialFailure(k):
//!    │◄── [k..] with retries + 1, or Discarded ◄── Completed [..k]
//! ```
//!
//! # Rules (AWS's, from the Lambda guide and recorded snapshots)
//!
//! - A failed (sub-)batch is retried whole until it succeeds, its retries are exhausted
//!   (discarded with `RetryAttemptsExhausted`), or its records grow older than
//!   `MaximumRecordAgeInSeconds` (cut off the front before the next invocation and discarded
//!   with `RecordAgeExceeded`).
//! - `BisectBatchOnFunctionError`: a failed sub-batch of more than one record is split in two
//!   (first half first, the first half the smaller when odd); splitting does not consume
//!   retries, both halves inherit the parent's retries used. A failed single record follows
//!   the retry rule.
//! - A partial failure at `k` completes the records before `k` and retries the rest whole,
//!   counting one retry (AWS: "bisected at the returned sequence number"; no further halving
//!   of the remainder for that outcome).
//! - Strictly in order: the front sub-batch is always the next one worked on.
//!
//! # Invariants
//!
//! Every index of `0..len` is settled exactly once, by [`Settled::Completed`],
//! [`Settled::Discarded`] or [`Step::Expired`], and the settled ranges come out in index
//! order. `approximate_invoke_count` is the number of invocations that carried the records
//! (a bisected half inherits its parent's): `retries + 1` without bisect.
//!
//! Infrastructure errors (the function never ran) are not outcomes: call [`BatchWork::next`]
//! again, which hands out the same sub-batch (after re-checking record age) and counts
//! nothing.

use std::collections::VecDeque;
use std::ops::Range;
use std::time::Duration;

use super::destination::Condition;
use super::response::BatchResponse;

/// A mapping's retry settings for stream sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailurePolicy {
    /// `None` is AWS's `-1`: retry until the records expire.
    pub maximum_retry_attempts: Option<u32>,
    /// `None` is AWS's `-1`: records never expire for the mapping.
    pub maximum_record_age: Option<Duration>,
    pub bisect_batch_on_function_error: bool,
    /// `FunctionResponseTypes: ["ReportBatchItemFailures"]`. Without it the response body is
    /// not read: a [`Outcome::PartialFailure`] is taken as a success.
    pub report_batch_item_failures: bool,
}

impl FailurePolicy {
    fn max_age_ms(&self) -> Option<u64> {
        self.maximum_record_age
            .map(|age| u64::try_from(age.as_millis()).unwrap_or(u64::MAX))
    }
}

/// What an invocation that ran came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The function erred (handled, unhandled, timed out, crashed), or its partial batch
    /// response was invalid.
    FunctionError,
    /// A valid partial batch response: `failed_from` is the offset, within the invoked
    /// range, of the lowest failed sequence number.
    PartialFailure {
        failed_from: usize,
    },
}

impl Outcome {
    /// The outcome of a function that returned normally with this partial batch response
    /// (parsed over the invoked range's sequence numbers).
    pub fn from_response(response: BatchResponse) -> Self {
        match response {
            BatchResponse::Success => Self::Success,
            BatchResponse::FailedFrom(failed_from) => Self::PartialFailure { failed_from },
            BatchResponse::WholeBatchFailed => Self::FunctionError,
        }
    }
}

/// Records given up on, for the on-failure destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discarded {
    pub range: Range<usize>,
    pub condition: Condition,
    /// Invocations that carried these records; 0 when they expired before their first.
    pub approximate_invoke_count: u32,
}

/// What to do next with the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Invoke the function with these records of the batch, then [`BatchWork::record`].
    Invoke(Range<usize>),
    /// These records are past `MaximumRecordAgeInSeconds`: send them to the on-failure
    /// destination and consider them done. Call [`BatchWork::next`] again.
    Expired(Discarded),
    /// Every record is settled.
    Done,
}

/// What an invocation settled, in index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Processed: may be checkpointed.
    Completed(Range<usize>),
    /// Given up on: send to the on-failure destination, then it may be checkpointed.
    Discarded(Discarded),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SubBatch {
    range: Range<usize>,
    retries: u32,
    invocations: u32,
}

/// One batch being worked through its sub-batches, strictly in order.
#[derive(Debug, Clone)]
pub struct BatchWork {
    policy: FailurePolicy,
    /// Not yet settled, in order; never holds an empty range.
    queue: VecDeque<SubBatch>,
    /// Handed out by `next`, awaiting `record`.
    in_flight: Option<SubBatch>,
    consecutive_failures: u32,
}

impl BatchWork {
    /// A batch of `len` records, indices `0..len`.
    pub fn new(policy: FailurePolicy, len: usize) -> Self {
        let mut queue = VecDeque::new();
        if len > 0 {
            queue.push_back(SubBatch {
                range: 0..len,
                retries: 0,
                invocations: 0,
            });
        }
        Self {
            policy,
            queue,
            in_flight: None,
            consecutive_failures: 0,
        }
    }

    pub fn policy(&self) -> &FailurePolicy {
        &self.policy
    }

    /// The next step. `arrival_of(i)` is record `i`'s arrival, epoch ms. Calling it again
    /// without [`BatchWork::record`] (an infrastructure error) hands out the same records.
    pub fn next(&mut self, now_ms: u64, arrival_of: impl Fn(usize) -> u64) -> Step {
        if let Some(in_flight) = self.in_flight.take() {
            self.queue.push_front(in_flight);
        }
        let Some(mut sub) = self.queue.pop_front() else {
            return Step::Done;
        };
        if let Some(max_age) = self.policy.max_age_ms() {
            let fresh_from = sub
                .range
                .clone()
                .find(|&i| now_ms.saturating_sub(arrival_of(i)) <= max_age)
                .unwrap_or(sub.range.end);
            if fresh_from > sub.range.start {
                let expired = Discarded {
                    range: sub.range.start..fresh_from,
                    condition: Condition::RecordAgeExceeded,
                    approximate_invoke_count: sub.invocations,
                };
                if fresh_from < sub.range.end {
                    sub.range.start = fresh_from;
                    self.queue.push_front(sub);
                }
                return Step::Expired(expired);
            }
        }
        let range = sub.range.clone();
        self.in_flight = Some(sub);
        Step::Invoke(range)
    }

    /// Records what the invocation handed out by the last [`BatchWork::next`] came to, and
    /// returns what it settled (possibly nothing: a retry or a split). Without a sub-batch
    /// in flight this does nothing.
    pub fn record(&mut self, outcome: Outcome) -> Vec<Settled> {
        let Some(mut sub) = self.in_flight.take() else {
            return Vec::new();
        };
        sub.invocations = sub.invocations.saturating_add(1);
        let len = sub.range.len();
        let outcome = match outcome {
            Outcome::PartialFailure { .. } if !self.policy.report_batch_item_failures => {
                Outcome::Success
            }
            Outcome::PartialFailure { failed_from } if failed_from >= len => Outcome::FunctionError,
            other => other,
        };
        match outcome {
            Outcome::Success => {
                self.consecutive_failures = 0;
                vec![Settled::Completed(sub.range)]
            }
            Outcome::FunctionError => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                if self.policy.bisect_batch_on_function_error && len > 1 {
                    let mid = sub.range.start + len / 2;
                    self.queue.push_front(SubBatch {
                        range: mid..sub.range.end,
                        ..sub.clone()
                    });
                    self.queue.push_front(SubBatch {
                        range: sub.range.start..mid,
                        ..sub
                    });
                    Vec::new()
                } else {
                    self.retry_or_discard(sub).into_iter().collect()
                }
            }
            Outcome::PartialFailure { failed_from } => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                let mut settled = Vec::new();
                if failed_from > 0 {
                    let split = sub.range.start + failed_from;
                    settled.push(Settled::Completed(sub.range.start..split));
                    sub.range.start = split;
                }
                settled.extend(self.retry_or_discard(sub));
                settled
            }
        }
    }

    /// Puts a failed sub-batch back for one more retry, or discards it when its retries are
    /// used up.
    fn retry_or_discard(&mut self, mut sub: SubBatch) -> Option<Settled> {
        match self.policy.maximum_retry_attempts {
            Some(max) if sub.retries >= max => Some(Settled::Discarded(Discarded {
                range: sub.range,
                condition: Condition::RetryAttemptsExhausted,
                approximate_invoke_count: sub.invocations,
            })),
            _ => {
                sub.retries = sub.retries.saturating_add(1);
                self.queue.push_front(sub);
                None
            }
        }
    }

    /// True when every record is settled.
    pub fn is_done(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_none()
    }

    /// The range handed out and not yet recorded.
    pub fn in_flight(&self) -> Option<Range<usize>> {
        self.in_flight.as_ref().map(|sub| sub.range.clone())
    }

    /// Failed invocations since the last success, for backing off between retries and for
    /// `LastProcessingResult`.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
}
