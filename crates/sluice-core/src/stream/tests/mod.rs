//! Tests of the stream engine's decisions, one file per module: golden payloads and
//! responses as AWS recorded them, tables for the rules, and property tests against simple
//! models for the batcher, the failure policy and the checkpoint tracker.

#![allow(clippy::unwrap_used)]

mod batch;
mod checkpoint;
mod destination;
mod event;
mod failure;
mod lanes;
mod record;
mod response;
mod timestamp;
mod window;
