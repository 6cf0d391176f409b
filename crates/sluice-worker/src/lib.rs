//! The running side of Sluice.
//!
//! # Layout
//!
//! - [`shutdown`]: the shutdown signal every loop selects on.
//! - [`coordinator`]: watches the mapping store and carries each mapping through its
//!   lifecycle (starting and stopping its pollers; completing Creating, Updating, Enabling,
//!   Disabling and Deleting).
//! - [`invoke`]: the [`sluice_core::function::Invoker`] implementations: HTTP functions and
//!   `command` functions (local processes speaking the Lambda Runtime API, in
//!   [`invoke::process`]); Lambda Invoke next.
//!
//! - [`stream`]: the stream engine: a runner per enabled stream mapping, a consumer per
//!   shard, reading through the `ShardReader` seam ([`stream::embedded`] for the embedded
//!   Kinesis).
//! - [`queue`]: SQS mapping pollers (receive, filter, invoke, delete).
//! - [`lease`]: the local lease store (one consumer per shard at a time).
//! - [`destination`]: on-failure destinations (embedded SQS queues and SNS topics).
//! - [`sns`]: deliveries to SNS `lambda` and `http(s)` subscribers, with AWS's retries.

pub mod coordinator;
pub mod destination;
pub mod invoke;
pub mod lease;
pub mod queue;
pub mod shutdown;
pub mod sns;
pub mod stream;
#[cfg(test)]
mod test_support;

pub use coordinator::Coordinator;
pub use invoke::FunctionInvoker;
pub use shutdown::{Shutdown, ShutdownSignal};

/// Milliseconds since the epoch, now (the engine's decisions take time as a value).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
