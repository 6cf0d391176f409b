//! Per-shard throughput limits, off by default: when switched on, each shard takes at most
//! 1 MiB or 1,000 records per second in, and serves 2 MiB and 5 GetRecords calls per second
//! out, as a provisioned Kinesis shard does, so users can exercise their
//! `ProvisionedThroughputExceededException` handling.
//!
//! Token buckets hold one second of capacity and refill continuously; reads may overdraw
//! the byte bucket (a read is answered whole), which throttles the next calls until it
//! refills, as on AWS.

use std::collections::HashMap;
use std::sync::Mutex;

/// Capacities per shard per second.
pub const WRITE_BYTES: f64 = 1024.0 * 1024.0;
pub const WRITE_RECORDS: f64 = 1000.0;
pub const READ_BYTES: f64 = 2.0 * 1024.0 * 1024.0;
pub const READ_CALLS: f64 = 5.0;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    per_sec: f64,
    at_ms: u64,
}

impl Bucket {
    fn new(per_sec: f64, now_ms: u64) -> Self {
        Self {
            tokens: per_sec,
            per_sec,
            at_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.per_sec);
        self.at_ms = now_ms;
    }
}

#[derive(Debug, Clone, Copy)]
struct ShardBuckets {
    write_bytes: Bucket,
    write_records: Bucket,
    read_bytes: Bucket,
    read_calls: Bucket,
}

/// The limits of every shard, keyed by (stream, incarnation, shard).
#[derive(Debug, Default)]
pub struct Throttle {
    shards: Mutex<HashMap<(String, u64, u32), ShardBuckets>>,
}

impl Throttle {
    fn with<T>(
        &self,
        key: (String, u64, u32),
        now_ms: u64,
        f: impl FnOnce(&mut ShardBuckets) -> T,
    ) -> T {
        let mut shards = self.shards.lock().unwrap_or_else(|e| e.into_inner());
        let b = shards.entry(key).or_insert_with(|| ShardBuckets {
            write_bytes: Bucket::new(WRITE_BYTES, now_ms),
            write_records: Bucket::new(WRITE_RECORDS, now_ms),
            read_bytes: Bucket::new(READ_BYTES, now_ms),
            read_calls: Bucket::new(READ_CALLS, now_ms),
        });
        for bucket in [
            &mut b.write_bytes,
            &mut b.write_records,
            &mut b.read_bytes,
            &mut b.read_calls,
        ] {
            bucket.refill(now_ms);
        }
        f(b)
    }

    /// Takes room for one record of `bytes` into a shard; false when the shard is over its
    /// write limit (nothing is taken then).
    pub fn admit_write(
        &self,
        stream: &str,
        epoch: u64,
        shard: u32,
        bytes: usize,
        now_ms: u64,
    ) -> bool {
        self.with((stream.to_owned(), epoch, shard), now_ms, |b| {
            let bytes = bytes as f64;
            if b.write_records.tokens < 1.0 || b.write_bytes.tokens < bytes {
                return false;
            }
            b.write_records.tokens -= 1.0;
            b.write_bytes.tokens -= bytes;
            true
        })
    }

    /// Takes one GetRecords call; false when over 5 calls per second or the byte budget is
    /// overdrawn.
    pub fn admit_read(&self, stream: &str, epoch: u64, shard: u32, now_ms: u64) -> bool {
        self.with((stream.to_owned(), epoch, shard), now_ms, |b| {
            if b.read_calls.tokens < 1.0 || b.read_bytes.tokens <= 0.0 {
                return false;
            }
            b.read_calls.tokens -= 1.0;
            true
        })
    }

    /// Charges the bytes a GetRecords answered.
    pub fn charge_read(&self, stream: &str, epoch: u64, shard: u32, bytes: usize, now_ms: u64) {
        self.with((stream.to_owned(), epoch, shard), now_ms, |b| {
            b.read_bytes.tokens -= bytes as f64;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_limited_per_second_and_refill() {
        let t = Throttle::default();
        let admitted = (0..1500)
            .filter(|_| t.admit_write("s", 1, 0, 10, 1000))
            .count();
        assert_eq!(admitted, 1000);
        assert!(!t.admit_write("s", 1, 0, 10, 1000));
        assert!(t.admit_write("s", 1, 1, 10, 1000), "shards are independent");
        assert!(
            t.admit_write("s", 1, 0, 10, 1100),
            "a tenth of a second refills 100 records"
        );
        assert!(
            !t.admit_write("s", 1, 2, 2 * 1024 * 1024, 1000),
            "over a second of bytes"
        );
    }

    #[test]
    fn reads_are_limited_by_calls_and_bytes() {
        let t = Throttle::default();
        assert_eq!((0..10).filter(|_| t.admit_read("s", 1, 0, 0)).count(), 5);
        assert!(t.admit_read("s", 1, 1, 0));
        t.charge_read("s", 1, 1, 3 * 1024 * 1024, 0);
        assert!(!t.admit_read("s", 1, 1, 100), "bytes overdrawn");
        assert!(t.admit_read("s", 1, 1, 1000), "refilled after a second");
    }
}
