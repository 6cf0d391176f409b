//! Sluice's durable local storage.
//!
//! # Layout
//!
//! - [`data_dir`]: the data directory: its marker file, what it holds, and the refusal of a
//!   directory that is not Sluice's.
//! - [`code`]: deployment packages of zip functions: the stored archive and its unpacked
//!   folder; unpacking refuses unsafe entries and AWS's size limits.
//! - [`meta`]: metadata (functions, mappings, tags, declared sources) in one redb file,
//!   every write an fsync'd transaction, so an answered request survives `kill -9`; also
//!   stream checkpoints and the on-failure outbox.
//! - [`log`]: per-shard append-only segment logs with group commit, sparse indexes,
//!   torn-tail recovery and retention (the design is in the module header).
//! - [`kinesis`]: the embedded Kinesis: stream metadata in [`meta`], records in one
//!   [`log::ShardLog`] per shard.
//! - [`dynamodb`]: the embedded DynamoDB: tables, items and stream records in the metadata
//!   redb file, each item write and its stream record in one fsync'd transaction.
//! - [`sqs`]: the embedded SQS: queue records in their own redb file, every message change
//!   in one journal (a [`log::ShardLog`]) with group commit, a small index per message in
//!   memory.

pub mod code;
pub mod data_dir;
pub mod dynamodb;
pub mod kinesis;
pub mod log;
pub mod meta;
pub mod sns;
pub mod sqs;

pub use data_dir::DataDir;
pub use log::{LogOptions, NewRecord, ShardLog, StoredRecord};
pub use meta::{MetaStore, SourceRecord, SourceType};

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory is not a Sluice data directory, or is of a newer format. Never
    /// overwritten.
    #[error("{0}")]
    Foreign(String),
    /// Another process holds the data directory.
    #[error("data directory {0} is in use by another Sluice process")]
    InUse(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("metadata database error: {0}")]
    Db(#[from] redb::Error),
    /// A stored value no longer decodes: the file was damaged or written by another version.
    #[error("corrupt metadata record {table}/{key}: {reason}")]
    Corrupt {
        table: &'static str,
        key: String,
        reason: String,
    },
    /// A log segment is damaged where a crash cannot explain it (not the torn tail of the
    /// newest segment). Never repaired silently.
    #[error("corrupt log segment {path} at byte {offset}: {reason}")]
    CorruptLog {
        path: String,
        offset: u64,
        reason: String,
    },
    /// The log refuses appends: an earlier write or fsync failed, or it was destroyed.
    /// Reopening the log (after fixing the cause) recovers.
    #[error("log {path} is unavailable: {reason}")]
    LogFailed { path: String, reason: String },
    /// A record exceeds what the log stores (the API's own limits are far lower).
    #[error("record too large: {0}")]
    RecordTooLarge(String),
}

impl StoreError {
    /// Storage errors are never the client's fault; this tells loops whether to try again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Io { .. } | StoreError::Db(_))
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Opens (or creates) a redb file. A file still held by this process's previous instance
/// (work finishing on a blocking thread after its request was dropped) is waited for
/// briefly; a file another process holds is refused after that wait.
pub(crate) fn create_db(path: &std::path::Path) -> Result<redb::Database, redb::DatabaseError> {
    let mut attempt = 0;
    loop {
        match redb::Database::create(path) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if attempt < 30 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other,
        }
    }
}
