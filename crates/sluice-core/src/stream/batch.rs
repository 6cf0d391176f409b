//! The batcher: gathers items until a batch is due by count (`BatchSize`), by bytes (the
//! 6 MB payload) or by time (`MaximumBatchingWindowInSeconds`), and tells the loop when the
//! window ends so it can sleep exactly until then.
//!
//! # Invariants
//!
//! - [`Batcher::take`] returns the longest prefix that fits both limits, at least one item:
//!   never more than `max_records`, never more than `max_payload` bytes unless that one item
//!   alone is bigger (the caller then treats it as a failed batch).
//! - Items leave in the order they came, each exactly once.
//! - The window opens when an item enters the empty batcher, and again at take time for the
//!   items a take leaves behind.
//!
//! Sizes are whatever the caller counts; for stream events use [`super::event::record_cost`]
//! against [`super::event::RECORDS_BUDGET`], which makes the count the event's exact size.

use std::collections::VecDeque;
use std::time::Duration;

/// When a batch is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// `BatchSize`. Zero is treated as one (a batch always has a record).
    pub max_records: usize,
    /// Bytes the items' sizes may add up to.
    pub max_payload: usize,
    /// `MaximumBatchingWindowInSeconds`; zero flushes whatever is there.
    pub window: Duration,
}

impl BatchLimits {
    /// Limits for a plain stream event (`{"Records":[...]}`) under the 6 MB payload limit;
    /// push each record with [`super::event::record_cost`] of its event size.
    pub fn stream_event(batch_size: usize, window: Duration) -> Self {
        Self {
            max_records: batch_size,
            max_payload: super::event::RECORDS_BUDGET,
            window,
        }
    }

    fn max_records(&self) -> usize {
        self.max_records.max(1)
    }

    fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Items waiting to be sent, in arrival order.
#[derive(Debug, Clone)]
pub struct Batcher<T> {
    limits: BatchLimits,
    items: VecDeque<(T, usize)>,
    /// Sum of the buffered items' sizes.
    bytes: usize,
    /// When the current window opened; `None` exactly when empty.
    opened_ms: Option<u64>,
}

impl<T> Batcher<T> {
    pub fn new(limits: BatchLimits) -> Self {
        Self {
            limits,
            items: VecDeque::new(),
            bytes: 0,
            opened_ms: None,
        }
    }

    pub fn limits(&self) -> BatchLimits {
        self.limits
    }

    /// Changes the limits for the next takes (a tumbling window's state grows the envelope;
    /// an UpdateEventSourceMapping changes `BatchSize` or the window). The open window keeps
    /// its start.
    pub fn set_limits(&mut self, limits: BatchLimits) {
        self.limits = limits;
    }

    /// Adds an item of `size` bytes. The first item into an empty batcher opens the window.
    pub fn push(&mut self, item: T, size: usize, now_ms: u64) {
        if self.items.is_empty() {
            self.opened_ms = Some(now_ms);
        }
        self.bytes = self.bytes.saturating_add(size);
        self.items.push_back((item, size));
    }

    /// True when a batch should go now: it is full by count, no further item could fit (the
    /// bytes reached the limit, or already passed it), or the window has elapsed (a zero
    /// window: whenever anything is buffered).
    pub fn is_ready(&self, now_ms: u64) -> bool {
        let Some(opened) = self.opened_ms else {
            return false;
        };
        self.items.len() >= self.limits.max_records()
            || self.bytes >= self.limits.max_payload
            || self.limits.window.is_zero()
            || now_ms >= opened.saturating_add(self.limits.window_ms())
    }

    /// When the open window ends (epoch ms), or `None` when empty.
    pub fn deadline(&self) -> Option<u64> {
        self.opened_ms
            .map(|opened| opened.saturating_add(self.limits.window_ms()))
    }

    /// Takes the longest prefix that fits both limits, at least one item when not empty. What
    /// stays behind starts a new window at `now_ms`.
    pub fn take(&mut self, now_ms: u64) -> Vec<T> {
        let max_records = self.limits.max_records();
        let mut n = 0;
        let mut bytes = 0usize;
        for (_, size) in &self.items {
            let after = bytes.saturating_add(*size);
            if n >= max_records || (n > 0 && after > self.limits.max_payload) {
                break;
            }
            bytes = after;
            n += 1;
        }
        self.bytes = self.bytes.saturating_sub(bytes);
        let taken: Vec<T> = self.items.drain(..n).map(|(item, _)| item).collect();
        self.opened_ms = if self.items.is_empty() {
            None
        } else {
            Some(now_ms)
        };
        taken
    }

    /// Everything buffered, in order, ignoring the limits (shutdown, lost lease).
    pub fn drain_all(&mut self) -> Vec<T> {
        self.bytes = 0;
        self.opened_ms = None;
        self.items.drain(..).map(|(item, _)| item).collect()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sum of the buffered items' sizes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}
