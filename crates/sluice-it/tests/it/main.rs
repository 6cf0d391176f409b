//! Sluice driven by the AWS SDK for Rust: the server starts in process on 127.0.0.1:0 with
//! a temporary data dir, and every call goes over HTTP through `aws-sdk-lambda`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dynamodb;
mod functions_runtime;
mod functions_zip;
mod harness;
mod kinesis;
mod lambda_esm;
mod lambda_functions;
mod quiescent;
mod sns;
mod sqs;
mod sqs_mapping;
mod stream_engine;
