//! The checkpoint tracker: batches complete in any order (ParallelizationFactor lanes), the
//! shard's checkpoint only moves to the highest record below which everything is complete.
//!
//! Records are registered as they are read and get a dense per-consumer ordinal (read order,
//! which is sequence order within a shard). Filtered-out records are registered and completed
//! at once so the checkpoint moves past them.
//!
//! # Invariants
//!
//! - The checkpoint is the sequence number of the highest ordinal `h` such that every
//!   registered ordinal `<= h` is complete; it never moves backwards.
//! - Memory is bounded by the records in flight: the complete prefix is released as soon as
//!   it is contiguous.

use std::collections::VecDeque;

/// The highest contiguous completed record of one shard consumer.
#[derive(Debug, Clone, Default)]
pub struct CheckpointTracker {
    /// Ordinal of `pending[0]`: everything below it is complete and released.
    base: u64,
    /// Registered records not yet released: sequence number and whether complete.
    pending: VecDeque<(String, bool)>,
    /// The sequence number of ordinal `base - 1`, or what the consumer resumed from.
    checkpoint: Option<String>,
}

impl CheckpointTracker {
    /// A tracker whose first record gets ordinal 0. `resumed_from` is the checkpoint the
    /// consumer started after, reported until the first record completes.
    pub fn new(resumed_from: Option<String>) -> Self {
        Self {
            base: 0,
            pending: VecDeque::new(),
            checkpoint: resumed_from,
        }
    }

    /// Registers the next record read and returns its ordinal.
    pub fn register(&mut self, sequence_number: impl Into<String>) -> u64 {
        let ordinal = self.next_ordinal();
        self.pending.push_back((sequence_number.into(), false));
        ordinal
    }

    /// The ordinal the next registered record will get.
    pub fn next_ordinal(&self) -> u64 {
        self.base.saturating_add(self.pending.len() as u64)
    }

    /// Marks records complete. Ordinals already released, or never registered, are ignored.
    /// Returns true when the checkpoint moved.
    pub fn complete(&mut self, ordinals: impl IntoIterator<Item = u64>) -> bool {
        for ordinal in ordinals {
            let Some(offset) = ordinal.checked_sub(self.base) else {
                continue;
            };
            let Ok(offset) = usize::try_from(offset) else {
                continue;
            };
            if let Some(entry) = self.pending.get_mut(offset) {
                entry.1 = true;
            }
        }
        let mut moved = false;
        while self.pending.front().is_some_and(|(_, done)| *done) {
            if let Some((sequence_number, _)) = self.pending.pop_front() {
                self.checkpoint = Some(sequence_number);
                self.base = self.base.saturating_add(1);
                moved = true;
            }
        }
        moved
    }

    /// The sequence number to checkpoint: the highest record below which every registered
    /// record is complete (or the resumed-from checkpoint when none has completed).
    pub fn checkpoint(&self) -> Option<&str> {
        self.checkpoint.as_deref()
    }

    /// The ordinal of the checkpointed record, if one completed.
    pub fn checkpoint_ordinal(&self) -> Option<u64> {
        self.base.checked_sub(1)
    }

    /// Registered records not yet released (in flight, or complete behind one that is not).
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}
