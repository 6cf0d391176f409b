//! Embedded Kinesis: stream metadata in the metadata store, records in one [`ShardLog`] per
//! shard.
//!
//! ```text
//! DIR/kinesis/<stream name>/<creation epoch ms>/<shard ordinal>/   one ShardLog each
//! ```
//!
//! The creation time in the path keeps a deleted-and-recreated stream from ever reading the
//! old incarnation's records; it is also encoded in sequence numbers and iterators.
//!
//! Streams become ACTIVE as soon as CreateStream returns (AWS takes seconds; every client
//! waits for ACTIVE, so nothing is lost by being quick), and resharding is likewise
//! immediate. Records go to the open shard whose hash range holds the MD5 of their partition
//! key (or their ExplicitHashKey). Metadata writes are fsync'd redb transactions; record
//! appends are acknowledged only once fsync'd by the log's group commit.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sluice_core::kinesis::{IteratorKey, SequenceNumber, ShardLayout, hash_key_of};

use crate::log::{LogOptions, NewRecord, ShardLog};

pub mod throttle;

use crate::{DataDir, MetaStore, StoreError};
pub use throttle::Throttle;

/// Stream status as DescribeStream shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamStatus {
    Creating,
    Active,
    Updating,
    Deleting,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Active => "ACTIVE",
            Self::Updating => "UPDATING",
            Self::Deleting => "DELETING",
        }
    }
}

/// An enhanced fan-out consumer registered on a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerRecord {
    pub name: String,
    pub arn: String,
    pub created_ms: u64,
}

/// A stream as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord {
    pub name: String,
    pub arn: String,
    /// Creation time; also the incarnation id in paths, sequence numbers and iterators.
    pub epoch_ms: u64,
    pub status: StreamStatus,
    pub on_demand: bool,
    pub retention_hours: u32,
    pub layout: ShardLayout,
    pub tags: BTreeMap<String, String>,
    pub consumers: Vec<ConsumerRecord>,
}

/// A Kinesis error, by AWS exception name. Messages are AWS's texts.
#[derive(Debug, thiserror::Error)]
pub enum KinesisError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ExpiredIterator(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ProvisionedThroughputExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A record to put: its partition key, optional explicit hash key, and data.
#[derive(Debug, Clone)]
pub struct PutRecord {
    pub partition_key: String,
    pub explicit_hash_key: Option<u128>,
    pub data: Vec<u8>,
}

/// Open logs by (stream name, stream creation ms, shard ordinal).
type LogKey = (String, u64, u32);

/// The embedded Kinesis data store. Cheap to clone.
#[derive(Clone)]
pub struct KinesisStore {
    meta: MetaStore,
    root: PathBuf,
    account: String,
    region: String,
    key: IteratorKey,
    options: LogOptions,
    logs: Arc<Mutex<HashMap<LogKey, ShardLog>>>,
    /// Bumped after every stream metadata change (create, reshard, delete), so consumers
    /// learn of new or closed shards without polling.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// Per-shard throughput limits, when switched on.
    throttle: Option<Arc<Throttle>>,
}

impl std::fmt::Debug for KinesisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KinesisStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl KinesisStore {
    pub fn open(
        meta: MetaStore,
        dir: &DataDir,
        region: &str,
        account: &str,
    ) -> Result<Self, StoreError> {
        let key = IteratorKey::from_bytes(meta.secret("kinesis-iterator-key")?);
        Ok(Self {
            meta,
            root: dir.root().join("kinesis"),
            account: account.to_owned(),
            region: region.to_owned(),
            key,
            options: LogOptions::default(),
            logs: Arc::new(Mutex::new(HashMap::new())),
            changes: Arc::new(tokio::sync::watch::channel(0).0),
            throttle: None,
        })
    }

    /// Switches per-shard throughput limits on (see [`throttle`]).
    pub fn with_shard_limits(mut self, on: bool) -> Self {
        self.throttle = on.then(|| Arc::new(Throttle::default()));
        self
    }

    /// The throughput limits, when switched on.
    pub fn throttle(&self) -> Option<&Throttle> {
        self.throttle.as_deref()
    }

    /// Uses `options` for logs opened from now on (tests and benches).
    pub fn with_log_options(mut self, options: LogOptions) -> Self {
        self.options = options;
        self
    }

    /// A receiver that changes after every stream metadata change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn iterator_key(&self) -> &IteratorKey {
        &self.key
    }

    pub fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.region, self.account
        )
    }

    pub fn not_found(&self, name: &str) -> KinesisError {
        KinesisError::ResourceNotFound(format!(
            "Stream {name} under account {} not found.",
            self.account
        ))
    }

    /// The stream named `name`.
    pub fn stream(&self, name: &str) -> Result<StreamRecord, KinesisError> {
        self.meta
            .kinesis_get::<StreamRecord>(name)?
            .ok_or_else(|| self.not_found(name))
    }

    /// The stream, refused unless ACTIVE (writes and reshards need it).
    pub fn active_stream(&self, name: &str) -> Result<StreamRecord, KinesisError> {
        let s = self.stream(name)?;
        if s.status != StreamStatus::Active {
            return Err(KinesisError::ResourceInUse(format!(
                "Stream {name} under account {} not ACTIVE, instead in state {}",
                self.account,
                s.status.as_str()
            )));
        }
        Ok(s)
    }

    /// All streams, by name.
    pub fn list_streams(&self) -> Result<Vec<StreamRecord>, StoreError> {
        self.meta.kinesis_all()
    }

    /// Creates an ACTIVE stream of `shards` shards.
    pub fn create_stream(
        &self,
        name: &str,
        shards: u32,
        on_demand: bool,
        tags: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<StreamRecord, KinesisError> {
        let arn = self.stream_arn(name);
        let account = self.account.clone();
        let created =
            self.meta
                .kinesis_modify::<StreamRecord, KinesisError>(name, |existing| {
                    if existing.is_some() {
                        return Err(KinesisError::ResourceInUse(format!(
                            "Stream {name} under account {account} already exists."
                        )));
                    }
                    Ok(StreamRecord {
                        name: name.to_owned(),
                        arn,
                        epoch_ms: now_ms,
                        status: StreamStatus::Active,
                        on_demand,
                        retention_hours: 24,
                        layout: ShardLayout::initial(shards, now_ms),
                        tags,
                        consumers: Vec::new(),
                    })
                })??;
        tracing::info!(stream = name, shards, "Kinesis stream created.");
        self.notify();
        Ok(created)
    }

    /// Changes a stream's record atomically.
    pub fn modify_stream(
        &self,
        name: &str,
        change: impl FnOnce(&mut StreamRecord) -> Result<(), KinesisError>,
    ) -> Result<StreamRecord, KinesisError> {
        let not_found = self.not_found(name);
        let changed =
            self.meta
                .kinesis_modify::<StreamRecord, KinesisError>(name, |current| {
                    let mut s = current.ok_or(not_found)?;
                    change(&mut s)?;
                    Ok(s)
                })??;
        self.notify();
        Ok(changed)
    }

    /// Deletes a stream and its records.
    pub fn delete_stream(&self, name: &str) -> Result<(), KinesisError> {
        let s = self.stream(name)?;
        self.meta.kinesis_remove(name)?;
        let logs: Vec<ShardLog> = {
            let mut cache = self.logs.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<_> = cache
                .keys()
                .filter(|(n, e, _)| n == name && *e == s.epoch_ms)
                .cloned()
                .collect();
            keys.into_iter().filter_map(|k| cache.remove(&k)).collect()
        };
        drop(logs);
        let dir = self.root.join(name).join(s.epoch_ms.to_string());
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        tracing::info!(stream = name, "Kinesis stream deleted.");
        self.notify();
        Ok(())
    }

    /// The log of one shard, opened on first use.
    pub fn shard_log(&self, stream: &StreamRecord, ordinal: u32) -> Result<ShardLog, StoreError> {
        let key = (stream.name.clone(), stream.epoch_ms, ordinal);
        let mut cache = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(log) = cache.get(&key) {
            return Ok(log.clone());
        }
        let dir = self
            .root
            .join(&stream.name)
            .join(stream.epoch_ms.to_string())
            .join(ordinal.to_string());
        let log = ShardLog::open(&dir, self.options.clone())?;
        // Retention applies from the first open.
        log.trim_before(retention_cutoff(stream, now_ms()))?;
        cache.insert(key, log.clone());
        Ok(log)
    }

    /// Appends records, each to the open shard its hash key routes to, all shards in
    /// parallel; resolves once every record is durable. Returns (shard, sequence number) per
    /// record, in request order.
    pub async fn put_records(
        &self,
        stream: &StreamRecord,
        records: Vec<PutRecord>,
        now_ms: u64,
    ) -> Result<Vec<(u32, SequenceNumber)>, KinesisError> {
        let mut by_shard: BTreeMap<u32, (Vec<usize>, Vec<NewRecord>)> = BTreeMap::new();
        for (i, r) in records.into_iter().enumerate() {
            let key = r
                .explicit_hash_key
                .unwrap_or_else(|| hash_key_of(&r.partition_key));
            let shard = stream.layout.route(key).map(|s| s.ordinal).ok_or_else(|| {
                KinesisError::Store(StoreError::Corrupt {
                    table: "kinesis_streams",
                    key: stream.name.clone(),
                    reason: "open shards do not cover the hash key space".into(),
                })
            })?;
            let slot = by_shard.entry(shard).or_default();
            slot.0.push(i);
            slot.1.push(NewRecord {
                partition_key: r.partition_key,
                data: r.data,
            });
        }
        let total: usize = by_shard.values().map(|(idx, _)| idx.len()).sum();
        // One task per shard, so the shards' group commits overlap.
        let mut appends = tokio::task::JoinSet::new();
        for (shard, (positions, batch)) in by_shard {
            let log = self.shard_log(stream, shard)?;
            appends.spawn(async move {
                let range = log.append(batch, now_ms).await?;
                Ok::<_, StoreError>((shard, positions, range))
            });
        }
        let mut out = vec![(0u32, SequenceNumber::new(0, 0, 0)); total];
        while let Some(joined) = appends.join_next().await {
            let (shard, positions, range) = joined.map_err(|e| {
                KinesisError::Store(StoreError::Io {
                    path: "append task".into(),
                    source: std::io::Error::other(e.to_string()),
                })
            })??;
            for (pos, index) in positions.into_iter().zip(range) {
                out[pos] = (shard, SequenceNumber::new(stream.epoch_ms, shard, index));
            }
        }
        Ok(out)
    }

    /// The oldest index a reader may see now: past both the log's trimmed start and the
    /// stream's retention (records expire at read time, not only when the trimmer runs).
    pub fn trim_horizon(
        &self,
        stream: &StreamRecord,
        log: &ShardLog,
        now_ms: u64,
    ) -> Result<u64, StoreError> {
        let by_age = log.index_at_time(retention_cutoff(stream, now_ms))?;
        Ok(by_age.max(log.start()))
    }

    /// Applies every stream's retention now.
    pub fn trim_all(&self, now_ms: u64) -> Result<(), StoreError> {
        for s in self.list_streams()? {
            for shard in &s.layout.shards {
                self.shard_log(&s, shard.ordinal)?
                    .trim_before(retention_cutoff(&s, now_ms))?;
            }
        }
        Ok(())
    }
}

/// Arrival time before which a stream's records are past retention.
pub fn retention_cutoff(stream: &StreamRecord, now_ms: u64) -> u64 {
    now_ms.saturating_sub(u64::from(stream.retention_hours) * 3_600_000)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
