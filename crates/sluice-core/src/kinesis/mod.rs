//! The Kinesis data model, pure: which shard a record goes to, how shards split and merge,
//! what sequence numbers and shard iterators look like.
//!
//! # Invariants
//!
//! - A stream's open shards partition the hash-key space `0..=2^128-1` exactly (no gap, no
//!   overlap); closed shards keep the range they had.
//! - A shard's records are numbered by a per-shard index starting at 0; its sequence numbers
//!   ([`sequence`]) encode the stream, the shard and the index, and compare as numbers in
//!   index order. A child shard's sequence numbers are all above its parents'.
//! - Shard iterators ([`iterator`]) are opaque, keyed (a token made with another key or
//!   altered in any byte is refused), and carry their issue time for the 5-minute expiry.

pub mod iterator;
pub mod sequence;
pub mod shards;

pub use iterator::{IteratorError, IteratorKey, ShardIterator};
pub use sequence::SequenceNumber;
pub use shards::{HashRange, Reshard, ShardLayout, ShardSpec, hash_key_of};

#[cfg(test)]
mod tests;
