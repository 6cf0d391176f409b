//! The running side of Sluice.
//!
//! # Layout
//!
//! - [`shutdown`]: the shutdown signal every loop selects on.
//! - [`coordinator`]: watches the mapping store and carries each mapping through its
//!   lifecycle (starting and stopping its pollers; completing Creating, Updating, Enabling,
//!   Disabling and Deleting).
//! - [`invoke`]: the [`sluice_core::function::Invoker`] implementations: HTTP functions now;
//!   Runtime API processes and Lambda Invoke next.
//!
//! Stream consumers, queue pollers and on-failure destinations arrive with their services.

pub mod coordinator;
pub mod invoke;
pub mod shutdown;

pub use coordinator::Coordinator;
pub use invoke::FunctionInvoker;
pub use shutdown::{Shutdown, ShutdownSignal};
