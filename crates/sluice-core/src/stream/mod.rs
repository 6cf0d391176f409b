//! The stream engine's decisions for Kinesis and DynamoDB Streams mappings, pure: what goes
//! into a batch, what the function is sent, how its answer is read, what a failure does to
//! the batch, how far the shard may be checkpointed, which lane a record takes, which
//! tumbling window it falls in, and what the on-failure destination receives.
//!
//! ```text
//!  read chunk ──► lanes (ParallelizationFactor, per partition key)
//!                   │
//!                   ▼
//!                Batcher (count / 6 MB payload / window; tells the loop its deadline)
//!                   │ take
//!                   ▼
//!                BatchWork ── Step::Invoke(range) ──► function ──► response::parse_*
//!                   ▲                                                   │ Outcome
//!                   └──────────────── record(outcome) ◄─────────────────┘
//!                   │ Settled::Completed / Discarded, Step::Expired
//!                   ▼
//!       CheckpointTracker (highest contiguous)      destination::failure_record
//! ```
//!
//! # Invariants
//!
//! - A batch is worked through strictly in order: [`failure::BatchWork`] never hands out a
//!   later sub-batch before every earlier record is completed or discarded, and the ranges it
//!   settles, concatenated, are exactly the batch, each record once.
//! - The serialized event never exceeds [`event::MAX_PAYLOAD`] unless a single record alone
//!   does: the batcher's byte count is the event's exact size ([`event::record_cost`],
//!   [`event::RECORDS_BUDGET`]).
//! - A checkpoint only moves forward, and only past records that are all complete
//!   ([`checkpoint::CheckpointTracker`]).
//! - The same partition key always takes the same lane ([`lanes::lane_of`]).
//!
//! # What this module does not do
//!
//! No I/O, no `async`, no clock: time comes in as epoch milliseconds (`now_ms`), and the
//! caller (the worker's shard consumer) reads records, invokes the function, sleeps until
//! [`batch::Batcher::deadline`], writes checkpoints and sends failure records. Infrastructure
//! errors (the function never ran: throttles, connection failures) are not outcomes here; the
//! caller retries them without counting retries.

pub mod batch;
pub mod checkpoint;
pub mod destination;
pub mod event;
pub mod failure;
pub mod lanes;
pub mod record;
pub mod response;
pub mod timestamp;
pub mod window;

pub use batch::{BatchLimits, Batcher};
pub use checkpoint::CheckpointTracker;
pub use destination::{BatchInfo, Condition, RequestContext, ResponseContext, StreamSource};
pub use failure::{BatchWork, Discarded, FailurePolicy, Outcome, Settled, Step};
pub use lanes::{Lanes, lane_of};
pub use record::{StreamRecord, cmp_sequence};
pub use response::{BatchResponse, WindowResponse, parse_batch_item_failures};

#[cfg(test)]
mod tests;
