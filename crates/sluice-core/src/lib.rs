//! Sluice's decisions, kept pure: no network, no disk, no clock (time is passed in).
//!
//! # Layout
//!
//! - [`arn`]: parsing of event source, destination and function identifiers, once, at the edge.
//! - [`mapping`]: event source mapping settings, their validation (AWS's exact rules and texts),
//!   and the mapping state machine.
//! - [`function`]: the function registry's record and the [`function::Invoker`] seam.
//! - [`filter`]: FilterCriteria patterns (EventBridge semantics): validation and matching.

pub mod arn;
pub mod filter;
pub mod function;
pub mod mapping;
