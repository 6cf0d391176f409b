//! Sluice's durable local storage.
//!
//! # Layout
//!
//! - [`data_dir`]: the data directory: its marker file, what it holds, and the refusal of a
//!   directory that is not Sluice's.
//! - [`meta`]: metadata (functions, mappings, tags, declared sources) in one redb file,
//!   every write an fsync'd transaction, so an answered request survives `kill -9`.
//!
//! Record data (stream shards, queue messages) will live beside it in segment files.

pub mod data_dir;
pub mod meta;

pub use data_dir::DataDir;
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
