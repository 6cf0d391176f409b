//! ParallelizationFactor: up to 10 batches of one shard in flight at once, ordered per
//! partition key. A record's lane is a stable hash of its partition key, so one key always
//! takes one lane; each lane runs its batches one at a time, in read order.
//!
//! The checkpoint across lanes is the [`super::checkpoint::CheckpointTracker`]'s job.

use md5::{Digest, Md5};

/// The lane (`0..lanes`) of a partition key: MD5 of the key as a 128-bit big-endian number,
/// modulo `lanes` (Kinesis's own hash of the key). Zero lanes is treated as one.
pub fn lane_of(partition_key: &str, lanes: u32) -> u32 {
    let lanes = u128::from(lanes.max(1));
    let hash = u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into());
    // The remainder is below `lanes`, which came from a u32.
    u32::try_from(hash % lanes).unwrap_or(0)
}

/// Splits read chunks into per-lane batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lanes {
    count: u32,
}

impl Lanes {
    /// `ParallelizationFactor` lanes; zero is treated as one.
    pub fn new(parallelization_factor: u32) -> Self {
        Self {
            count: parallelization_factor.max(1),
        }
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// The lane of `partition_key`.
    pub fn lane_of(&self, partition_key: &str) -> u32 {
        lane_of(partition_key, self.count)
    }

    /// One `Vec` per lane (index = lane), each keeping the items' relative order, so every
    /// partition key's records stay in read order in exactly one lane.
    pub fn split<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        key_of: impl Fn(&T) -> &str,
    ) -> Vec<Vec<T>> {
        let mut lanes: Vec<Vec<T>> = (0..self.count).map(|_| Vec::new()).collect();
        for item in items {
            let lane = self.lane_of(key_of(&item)) as usize;
            if let Some(batch) = lanes.get_mut(lane) {
                batch.push(item);
            }
        }
        lanes
    }
}
