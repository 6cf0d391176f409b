//! The stream engine: one runner per enabled stream mapping, one consumer per shard.
//!
//! ```text
//! Coordinator ──starts/stops──► runner (per mapping) ──spawns──► consumer (per shard)
//!                                   │ waits on ShardDirectory::changed      │
//!                                   │ children start once every parent      │ read ─► filter ─► batch
//!                                   │ has checkpointed ShardEnd             │ invoke ─► failure policy
//!                                   ▼                                       ▼ checkpoint (fsync'd)
//! ```
//!
//! Per-shard consumer lifecycle (KCL's): WaitingOnParents (the runner holds it back) →
//! Initializing (checkpoint → cursor) → Processing → ShuttingDown(ShardEnd | Requested |
//! Failed) → Done. Settings are read from the mapping's watch channel before each batch, so
//! an Update takes effect on the next batch without losing the position.
//!
//! Nothing here knows the source: records come through [`sluice_core::source::ShardReader`].

pub mod consumer;
pub mod dynamodb;
pub mod embedded;
pub mod runner;

pub use runner::{Runner, RunnerDeps};
