//! Sluice's decisions, kept pure: no network, no disk, no clock (time is passed in).
//!
//! # Layout
//!
//! - [`consumer`]: the per-shard consumer lifecycle (KCL's states) and its transitions.
//! - [`constraint`]: model constraint checks with AWS's validation texts.
//! - [`arn`]: parsing of event source, destination and function identifiers, once, at the edge.
//! - [`source`]: the engine's seams: ShardDirectory, ShardReader, FailureDestination,
//!   LeaseStore.
//! - [`mapping`]: event source mapping settings, their validation (AWS's exact rules and texts),
//!   and the mapping state machine.
//! - [`function`]: the function registry's record and the [`function::Invoker`] seam.
//! - [`filter`]: FilterCriteria patterns (EventBridge semantics): validation and matching.
//! - [`kinesis`]: the Kinesis data model: hash-key ranges and shard layouts (split, merge,
//!   resharding), sequence numbers, shard iterators.
//! - [`stream`]: stream engine decisions: batches, events, responses, retries, checkpoints.

pub mod activity;
pub mod arn;
pub mod constraint;
pub mod consumer;
pub mod filter;
pub mod function;
pub mod kinesis;
pub mod mapping;
pub mod source;
pub mod stream;
