//! The seams between the stream engine and where records come from and go to.
//!
//! - [`ShardDirectory`] lists a stream's shards with their parents (split/merge order) and
//!   says when the list may have changed.
//! - [`ShardReader`] reads a shard from a position: records, the next cursor, how far
//!   behind the tip, and whether the shard has ended.
//! - [`FailureDestination`] sends on-failure records.
//! - [`LeaseStore`] grants shard leases (one node today; PostgreSQL for several later).
//!
//! Embedded Kinesis implements the readers now; DynamoDB Streams and real AWS Kinesis next.
//! Nothing here knows which: the engine sees shard ids, opaque cursors and
//! [`StreamRecord`]s whose `event` is already in the source's delivered shape.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::stream::record::StreamRecord;

/// A boxed future, for object-safe async seams.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A shard as the engine needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    pub shard_id: String,
    /// Shards whose records all come before this one's (split and merge parents).
    pub parents: Vec<String>,
    /// No more records will be added.
    pub closed: bool,
}

/// Where a consumer starts reading a shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartAt {
    TrimHorizon,
    Latest,
    /// Epoch milliseconds.
    AtTimestamp(u64),
    /// Just after this sequence number (a checkpoint).
    AfterSequence(String),
}

/// A durable per-shard checkpoint of a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Checkpoint {
    /// Nothing processed yet; start where the mapping's StartingPosition says (resolved at
    /// Create time for LATEST, so records put after Create returned are never missed).
    At(StartAt),
    /// Every record up to and including this sequence number is done.
    After(String),
    /// The shard ended and every record was processed: its children may start.
    ShardEnd,
}

/// An opaque read position: the shard, and a token only the reader understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub shard_id: String,
    pub token: String,
}

/// What one read returns.
#[derive(Debug, Clone)]
pub struct ReadBatch {
    pub records: Vec<StreamRecord>,
    /// Filter views of `records`, one each, in order, when asked for (see
    /// [`ShardReader::read`]); empty otherwise.
    pub filter_views: Vec<serde_json::Value>,
    pub next: Cursor,
    pub millis_behind: u64,
    /// The shard is closed and `next` is past its last record.
    pub shard_ended: bool,
}

/// Why a read failed. Transient errors are retried with back-off; the rest stop the shard's
/// consumer and show in LastProcessingResult.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("source unavailable: {0}")]
    Transient(String),
    #[error("source not found: {0}")]
    NotFound(String),
}

impl SourceError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SourceError::Transient(_))
    }
}

/// Per-mapping context the reader needs to shape records as AWS delivers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordContext {
    /// `eventSourceARN` (the stream ARN, also for a consumer-ARN mapping).
    pub event_source_arn: String,
    pub region: String,
    /// `invokeIdentityArn`: the function's execution role.
    pub invoke_identity_arn: String,
}

pub trait ShardDirectory: Send + Sync {
    /// Every shard, open and closed, parents before children.
    fn shards(&self) -> BoxFuture<'_, Result<Vec<ShardInfo>, SourceError>>;
    /// Resolves when the shard list may have changed since the last [`Self::shards`].
    fn changed(&self) -> BoxFuture<'_, ()>;
}

pub trait ShardReader: Send + Sync {
    /// A cursor at `at` in `shard`.
    fn open(&self, shard_id: &str, at: &StartAt) -> BoxFuture<'_, Result<Cursor, SourceError>>;
    /// Up to `max_records` records from `cursor`. With `filter_views`, each record comes
    /// with its filter view: the JSON FilterCriteria patterns are matched against (for
    /// Kinesis the record with `data` decoded and parsed when it is JSON); without, the
    /// views are left empty (a mapping without filters does not pay for them).
    fn read<'a>(
        &'a self,
        cursor: &'a Cursor,
        max_records: usize,
        context: &'a RecordContext,
        filter_views: bool,
    ) -> BoxFuture<'a, Result<ReadBatch, SourceError>>;
    /// Resolves when records past `cursor` may exist (an append notification, never a poll
    /// loop for embedded sources).
    fn wait<'a>(&'a self, cursor: &'a Cursor) -> BoxFuture<'a, ()>;
    /// Whether nothing is readable past `cursor` now and more may still come (the shard is
    /// open), answered from memory without waiting. Sources that cannot tell answer false
    /// (their consumers then never count as idle).
    fn caught_up(&self, cursor: &Cursor) -> bool {
        let _ = cursor;
        false
    }
}

/// Sends on-failure records (an SQS queue or SNS topic ARN, and the record JSON).
pub trait FailureDestination: Send + Sync {
    fn send<'a>(
        &'a self,
        destination_arn: &'a str,
        record: serde_json::Value,
    ) -> BoxFuture<'a, Result<(), SourceError>>;
}

/// Shard leases: a consumer runs only while it holds its shard's lease.
pub trait LeaseStore: Send + Sync {
    /// Takes or renews the lease of `shard_id` for `mapping` on behalf of `owner`; false when
    /// another owner holds it.
    fn take(&self, mapping: &str, shard_id: &str, owner: &str) -> BoxFuture<'_, bool>;
    /// Gives the lease up (shutdown, shard end).
    fn release(&self, mapping: &str, shard_id: &str, owner: &str) -> BoxFuture<'_, ()>;
}
