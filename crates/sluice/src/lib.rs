//! The `sluice` binary's library half: configuration and wiring, so integration tests start
//! the same server the binary runs.
//!
//! # Layout
//!
//! - [`bench`]: `sluice bench`, load generators for Sluice and peer emulators.
//! - [`config`]: the TOML config file (functions, streams, queues, topics, tables, mappings),
//!   parsed with file/line errors, and applied to the store at start.
//! - [`server`]: opens the data dir, applies the config, binds, serves, and shuts down.

pub mod bench;
pub mod config;
pub mod server;

pub use server::{Options, Server};
