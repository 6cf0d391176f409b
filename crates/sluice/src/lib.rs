//! The `sluice` binary's library half: configuration and wiring, so integration tests start
//! the same server the binary runs.
//!
//! # Layout
//!
//! - [`config`]: the TOML config file (functions, streams, queues, topics, tables, mappings),
//!   parsed with file/line errors, and applied to the store at start.
//! - [`server`]: opens the data dir, applies the config, binds, serves, and shuts down.

pub mod config;
pub mod server;

pub use server::{Options, Server};
