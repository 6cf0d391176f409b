//! The embedded DynamoDB: tables, items and their streams.
//!
//! # Storage and atomicity
//!
//! Everything lives in the metadata redb file (`meta.redb`), in `ddb_*` tables:
//!
//! - `ddb_tables`: table name → [`TableRecord`] (JSON).
//! - `ddb_items`: `<table>\0<hash key JSON>\0<range key JSON>` → the item (DynamoDB JSON).
//!   Key values are normalized ([`value`]), so one key has one encoding.
//! - `ddb_streams`: stream ARN → [`StreamMeta`]; kept after the table is deleted (closed), so
//!   a mapping can finish reading it.
//! - `ddb_records`: (stream ARN, counter) → [`StoredChange`]: the stream record in AWS's
//!   shape.
//! - `ddb_counters`: `seq`, the store-wide change counter behind sequence numbers.
//!
//! An item write reads the old item, checks the condition, writes the new item and appends
//! its stream record in **one** write transaction with immediate durability (fsync before
//! commit returns): an acknowledged write and its stream record survive `kill -9` together,
//! and neither exists without the other. A write that changes nothing writes no record. The
//! shard logs are not used for stream records: one redb transaction is what makes the pair
//! atomic without a recovery protocol; DynamoDB's per-table write rates in local use are far
//! below what one fsync per write costs.
//!
//! BatchWriteItem ([`DynamoStore::write_batch`]) and TransactWriteItems
//! ([`DynamoStore::write_transaction`]) apply all their writes in one such transaction, one
//! stream record per changed item; a transaction first checks every condition and writes
//! nothing unless all pass. UpdateTable ([`DynamoStore::update_table`]) closes the current
//! stream (kept readable, `DISABLED`) and opens a new one with a new label on each enable.
//!
//! Secondary indexes ([`IndexDef`]) keep no entries of their own: a Query or Scan with
//! `IndexName` walks the table's items, keeps those holding the index key (sparse), orders
//! them by index key then table key, and projects them. Always consistent; linear in the
//! table's size, which is what local tables afford.
//!
//! Time to live: [`DynamoStore::expire_now`] (run by the binary on a one-minute timer,
//! called directly by tests) deletes items whose TTL attribute is past, each with a REMOVE
//! record carrying `userIdentity {"PrincipalId": "dynamodb.amazonaws.com", "Type":
//! "Service"}` (the Streams API's casing; the Lambda event gets `type` / `principalId`).
//!
//! Shards: a stream's records are keyed by one store-wide counter; a shard is a counter
//! range. [`DynamoStore::roll_over`] (the binary's timer every `shard_rollover_seconds`,
//! or a test) closes the open shard at the last counter issued and opens a child shard
//! ([`StreamMeta::shards`] rebuilds the chain with its `ParentShardId`s). A shard with no
//! record is not rolled. [`DynamoStore::trim_streams`] removes records past retention (24 h)
//! and remembers the highest counter removed (`trimmed_through`), behind
//! TrimmedDataAccessException.
//!
//! After each commit the store bumps a watch counter; stream readers wait on it.
//!
//! UpdateTable's GlobalSecondaryIndexUpdates ([`IndexChange`]) only change the table
//! record: an index has no entries to backfill, so a new GSI is ACTIVE at once.
//!
//! A closed stream (disabled, or its table deleted) is dropped by `trim_streams` once 24 h
//! have passed since it closed and its records are gone.
//!
//! Not here yet: closed shards of a live stream stay listed after their records are
//! trimmed.

pub mod expr;
pub mod stream;
pub mod value;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::{MetaStore, StoreError};
use expr::{Cond, UpdateAction};
use value::{Av, Item, item_from_json, item_to_json};

const TABLES: TableDefinition<&str, &[u8]> = TableDefinition::new("ddb_tables");
const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("ddb_items");
const STREAMS: TableDefinition<&str, &[u8]> = TableDefinition::new("ddb_streams");
const RECORDS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("ddb_records");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("ddb_counters");
/// TransactWriteItems ClientRequestToken → (request digest, when it was applied, ms).
const TOKENS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("ddb_tokens");

/// How long a ClientRequestToken makes TransactWriteItems idempotent.
pub const TOKEN_TTL_MS: u64 = 10 * 60 * 1000;

/// Why a DynamoDB operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    /// The condition failed; carries the old item for `ReturnValuesOnConditionCheckFailure`.
    #[error("The conditional request failed")]
    ConditionalCheckFailed(Option<Item>),
    /// A transaction was not applied; one reason per action, in request order.
    #[error("Transaction cancelled")]
    TransactionCanceled(Vec<CancelReason>),
    /// A ClientRequestToken reused within its 10 minutes for a different request.
    #[error("Request parameters do not match the original request with this client request token")]
    IdempotentParameterMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DynamoError {
    pub fn not_found() -> Self {
        Self::ResourceNotFound("Requested resource not found".into())
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for DynamoError {
            fn from(e: $t) -> Self {
                DynamoError::Store(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// A key attribute: name and type (`S`, `N`, `B`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    pub name: String,
    pub ty: String,
}

/// A secondary index's projection: `ALL`, `KEYS_ONLY`, or `INCLUDE` with `non_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    pub kind: String,
    #[serde(default)]
    pub non_key: Vec<String>,
}

/// A global or local secondary index. Index entries are not stored: an index is read by
/// walking the table's items (fine at local sizes), so it is always consistent and
/// sparse (items lacking the index key are not in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    /// Global (own hash key) or local (the table's hash key).
    pub global: bool,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub projection: Projection,
    pub read_capacity: u64,
    pub write_capacity: u64,
}

impl IndexDef {
    fn key_names(&self) -> impl Iterator<Item = &KeyAttr> {
        std::iter::once(&self.hash).chain(self.range.as_ref())
    }

    /// Whether `item` is in the index (has every index key attribute).
    pub fn holds(&self, item: &Item) -> bool {
        self.key_names().all(|k| item.contains_key(&k.name))
    }

    /// `item` as the index projects it (the table key and index key always included).
    pub fn project(&self, table: &TableRecord, item: &Item) -> Item {
        if self.projection.kind == "ALL" {
            return item.clone();
        }
        item.iter()
            .filter(|(k, _)| {
                table.is_key_attribute(k)
                    || self.key_names().any(|i| &i.name == *k)
                    || self.projection.non_key.iter().any(|n| n == *k)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The LastEvaluatedKey of `item` read through this index: table key and index key.
    pub fn page_key(&self, table: &TableRecord, item: &Item) -> Item {
        let mut key = table.key_of(item);
        for k in self.key_names() {
            if let Some(v) = item.get(&k.name) {
                key.insert(k.name.clone(), v.clone());
            }
        }
        key
    }
}

/// A table's current stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamSettings {
    pub view_type: String,
    pub label: String,
    pub arn: String,
}

/// A table as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRecord {
    pub name: String,
    pub id: String,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    /// Every declared attribute definition (name, type), in request order.
    pub attributes: Vec<KeyAttr>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    pub read_capacity: u64,
    pub write_capacity: u64,
    pub created_ms: u64,
    pub stream: Option<StreamSettings>,
    /// The last stream the table had, kept after it is disabled (DescribeTable still
    /// reports `LatestStreamArn`).
    #[serde(default)]
    pub latest_stream: Option<StreamSettings>,
    /// The TTL attribute, when time to live is enabled.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Secondary indexes, global and local, in request order (GSIs first).
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
}

impl TableRecord {
    pub fn arn(&self, region: &str, account: &str) -> String {
        format!("arn:aws:dynamodb:{region}:{account}:table/{}", self.name)
    }

    fn key_names(&self) -> impl Iterator<Item = &KeyAttr> {
        std::iter::once(&self.hash).chain(self.range.as_ref())
    }

    /// Checks `key` has exactly the key attributes with their types.
    pub fn check_key(&self, key: &Item) -> Result<(), DynamoError> {
        let bad =
            || DynamoError::Validation("The provided key element does not match the schema".into());
        if key.len() != self.key_names().count() {
            return Err(bad());
        }
        for k in self.key_names() {
            let v = key.get(&k.name).ok_or_else(bad)?;
            if v.type_name() != k.ty {
                return Err(bad());
            }
            check_key_value(&k.name, v)?;
        }
        Ok(())
    }

    /// Checks a whole item carries its key attributes with their types.
    pub fn check_item(&self, item: &Item) -> Result<(), DynamoError> {
        for k in self.key_names() {
            let v = item.get(&k.name).ok_or_else(|| {
                DynamoError::Validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    k.name
                ))
            })?;
            if v.type_name() != k.ty {
                return Err(DynamoError::Validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    k.name,
                    k.ty,
                    v.type_name()
                )));
            }
            check_key_value(&k.name, v)?;
        }
        Ok(())
    }

    /// Checks the index key attributes `item` has are of the index key's type.
    pub fn check_index_keys(&self, item: &Item) -> Result<(), DynamoError> {
        for index in &self.indexes {
            for k in index.key_names() {
                let Some(v) = item.get(&k.name) else { continue };
                if v.type_name() != k.ty {
                    return Err(DynamoError::Validation(format!(
                        "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                        k.name,
                        k.ty,
                        v.type_name(),
                        index.name
                    )));
                }
                if matches!(v, Av::S(s) | Av::B(s) if s.is_empty()) {
                    return Err(DynamoError::Validation(format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {}",
                        index.name, k.name
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The key attributes of `item`.
    pub fn key_of(&self, item: &Item) -> Item {
        self.key_names()
            .filter_map(|k| item.get(&k.name).map(|v| (k.name.clone(), v.clone())))
            .collect()
    }

    pub fn is_key_attribute(&self, name: &str) -> bool {
        self.key_names().any(|k| k.name == name)
    }

    fn storage_key(&self, key: &Item) -> String {
        let enc = |k: Option<&KeyAttr>| {
            k.and_then(|k| key.get(&k.name))
                .map_or(String::new(), |v| v.to_json().to_string())
        };
        format!(
            "{}\0{}\0{}",
            self.name,
            enc(Some(&self.hash)),
            enc(self.range.as_ref())
        )
    }
}

fn check_key_value(name: &str, v: &Av) -> Result<(), DynamoError> {
    if matches!(v, Av::S(s) | Av::B(s) if s.is_empty()) {
        return Err(DynamoError::Validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
        )));
    }
    Ok(())
}

/// A stream, open or closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub arn: String,
    pub table: String,
    pub label: String,
    pub view_type: String,
    pub created_ms: u64,
    /// The stream's first shard.
    pub shard_id: String,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    /// The counter the stream's first record can have.
    pub first_seq: u64,
    /// Set when the stream was closed (table deleted or stream disabled): its last counter.
    pub ended_at: Option<u64>,
    /// The shards opened by rollovers after the first, oldest first; each is the child of
    /// the one before.
    #[serde(default)]
    pub rolled: Vec<ShardStart>,
    /// The highest counter retention has removed (0: none).
    #[serde(default)]
    pub trimmed_through: u64,
    /// When the stream was closed; a closed stream is dropped once retention has passed
    /// since then and its records are gone.
    #[serde(default)]
    pub closed_ms: Option<u64>,
}

/// Where a rolled-over shard begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStart {
    pub shard_id: String,
    pub first_seq: u64,
    pub created_ms: u64,
}

/// One shard of a stream: the records of its stream with counters from `first_seq` to
/// `end` (open while `end` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMeta {
    pub shard_id: String,
    pub parent: Option<String>,
    pub first_seq: u64,
    pub end: Option<u64>,
    pub created_ms: u64,
}

impl ShardMeta {
    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }

    /// Whether counter `c` belongs to this shard.
    pub fn holds(&self, c: u64) -> bool {
        c >= self.first_seq && self.end.is_none_or(|e| c <= e)
    }
}

impl StreamMeta {
    pub fn enabled(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Every shard, oldest first: a chain in which each shard is its predecessor's child.
    pub fn shards(&self) -> Vec<ShardMeta> {
        let mut out = vec![ShardMeta {
            shard_id: self.shard_id.clone(),
            parent: None,
            first_seq: self.first_seq,
            end: None,
            created_ms: self.created_ms,
        }];
        for r in &self.rolled {
            let parent = out.last_mut().map(|p| {
                p.end = Some(r.first_seq.saturating_sub(1));
                p.shard_id.clone()
            });
            out.push(ShardMeta {
                shard_id: r.shard_id.clone(),
                parent,
                first_seq: r.first_seq,
                end: None,
                created_ms: r.created_ms,
            });
        }
        if let Some(last) = out.last_mut() {
            last.end = self.ended_at;
        }
        out
    }

    /// The shard `id` of this stream.
    pub fn shard(&self, id: &str) -> Option<ShardMeta> {
        self.shards().into_iter().find(|s| s.shard_id == id)
    }
}

/// A stream record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredChange {
    pub created_ms: u64,
    /// The hash key's JSON text: lanes of a ParallelizationFactor keep per-item order.
    pub partition_key: String,
    /// The record in AWS's shape, without `eventSourceARN`.
    pub record: Value,
}

/// What a write does to the item at a key.
#[derive(Debug, Clone)]
pub enum WriteKind {
    Put(Item),
    Update(Vec<UpdateAction>),
    Delete,
    /// Only the condition (TransactWriteItems' ConditionCheck): nothing is written.
    Check,
}

/// One write of a batch or a transaction.
#[derive(Debug, Clone)]
pub struct WriteOp {
    pub table: String,
    pub key: Item,
    pub kind: WriteKind,
    pub condition: Option<Cond>,
}

/// Why one action of a cancelled transaction failed (AWS's `CancellationReason`); `code`
/// is `None` (the text) for the actions that would have succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelReason {
    pub code: &'static str,
    pub message: Option<String>,
    /// The item as it was, for `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    pub item: Option<Item>,
}

/// What UpdateTable changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct TableUpdate {
    pub billing_mode: Option<String>,
    /// Read and write capacity units.
    pub throughput: Option<(u64, u64)>,
    /// `Some(Some(view))` enables a new stream; `Some(None)` disables the current one.
    pub stream: Option<Option<String>>,
    /// GlobalSecondaryIndexUpdates, validated against the request by the caller.
    pub indexes: Vec<IndexChange>,
}

/// One GlobalSecondaryIndexUpdate.
#[derive(Debug, Clone)]
pub enum IndexChange {
    /// A new GSI and the attribute definitions it adds to the table.
    Create(IndexDef, Vec<KeyAttr>),
    Delete(String),
    /// New read and write capacity of a GSI.
    Throughput(String, u64, u64),
}

/// The `userIdentity` of a stream record written by DynamoDB itself (TTL deletions), in
/// the Streams API's casing.
pub fn service_identity() -> Value {
    serde_json::json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
}

/// The item before and after a write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteOutcome {
    pub old: Option<Item>,
    pub new: Option<Item>,
}

/// One page of a Query or Scan.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub scanned: usize,
    pub last_key: Option<Item>,
}

/// What a new table is.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub name: String,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub attributes: Vec<KeyAttr>,
    pub billing_mode: String,
    pub read_capacity: u64,
    pub write_capacity: u64,
    /// The StreamViewType, when a stream is enabled.
    pub stream_view_type: Option<String>,
    /// A fixed stream label (config files); else the creation time.
    pub stream_label: Option<String>,
}

/// The embedded DynamoDB. Cheap to clone.
#[derive(Clone)]
pub struct DynamoStore {
    db: Arc<Database>,
    region: String,
    account: String,
    changes: Arc<watch::Sender<u64>>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore").finish_non_exhaustive()
    }
}

fn corrupt(table: &'static str, key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    table: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(table, key, e))
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    // Plain structs and JSON values always serialize.
    serde_json::to_vec(v).unwrap_or_default()
}

fn decode_item(key: &str, bytes: &[u8]) -> Result<Item, StoreError> {
    let v: Value = decode("ddb_items", key, bytes)?;
    item_from_json(&v).map_err(|e| corrupt("ddb_items", key, e))
}

impl DynamoStore {
    /// Opens the DynamoDB tables of the metadata database.
    pub fn open(meta: &MetaStore, region: &str, account: &str) -> Result<Self, StoreError> {
        let db = meta.database().clone();
        let txn = db.begin_write()?;
        txn.open_table(TABLES)?;
        txn.open_table(ITEMS)?;
        txn.open_table(STREAMS)?;
        txn.open_table(RECORDS)?;
        txn.open_table(COUNTERS)?;
        txn.open_table(TOKENS)?;
        txn.commit()?;
        let (tx, _) = watch::channel(0);
        Ok(Self {
            db,
            region: region.to_owned(),
            account: account.to_owned(),
            changes: Arc::new(tx),
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Changes after every committed write (items, tables, streams).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The current stream ARNs of every table (what event source mappings may name).
    pub fn current_stream_arns(meta: &MetaStore) -> Result<Vec<String>, StoreError> {
        let txn = meta.database().begin_read()?;
        let table = match txn.open_table(TABLES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let t: TableRecord = decode("ddb_tables", k.value(), v.value())?;
            out.extend(t.stream.map(|s| s.arn));
        }
        Ok(out)
    }

    // ---- tables ----

    pub fn create_table(&self, spec: TableSpec, now_ms: u64) -> Result<TableRecord, DynamoError> {
        self.create_table_with_indexes(spec, Vec::new(), now_ms)
    }

    /// CreateTable with secondary indexes (validated by the caller).
    pub fn create_table_with_indexes(
        &self,
        spec: TableSpec,
        indexes: Vec<IndexDef>,
        now_ms: u64,
    ) -> Result<TableRecord, DynamoError> {
        let txn = self.db.begin_write()?;
        let record = {
            if txn.open_table(TABLES)?.get(spec.name.as_str())?.is_some() {
                return Err(DynamoError::ResourceInUse(format!(
                    "Table already exists: {}",
                    spec.name
                )));
            }
            let id = uuid::Uuid::new_v4();
            let mut record = TableRecord {
                name: spec.name.clone(),
                id: id.to_string(),
                hash: spec.hash.clone(),
                range: spec.range.clone(),
                attributes: spec.attributes.clone(),
                billing_mode: spec.billing_mode.clone(),
                read_capacity: spec.read_capacity,
                write_capacity: spec.write_capacity,
                created_ms: now_ms,
                stream: None,
                latest_stream: None,
                ttl_attribute: None,
                indexes,
            };
            if let Some(view) = &spec.stream_view_type {
                let label = spec
                    .stream_label
                    .clone()
                    .unwrap_or_else(|| stream::stream_label(now_ms));
                self.open_stream(&txn, &mut record, view, label, now_ms)?;
            }
            txn.open_table(TABLES)?
                .insert(record.name.as_str(), encode(&record).as_slice())?;
            record
        };
        txn.commit()?;
        self.notify();
        Ok(record)
    }

    /// Creates a new stream for `record` (labelled `label`) and makes it the table's current
    /// one.
    fn open_stream(
        &self,
        txn: &WriteTransaction,
        record: &mut TableRecord,
        view: &str,
        label: String,
        now_ms: u64,
    ) -> Result<(), DynamoError> {
        let arn = format!("{}/stream/{label}", record.arn(&self.region, &self.account));
        let next = txn
            .open_table(COUNTERS)?
            .get("seq")?
            .map_or(1, |v| v.value());
        let mut streams = txn.open_table(STREAMS)?;
        if streams.get(arn.as_str())?.is_some() {
            // Two enables within one millisecond would share a label.
            return Err(DynamoError::Validation(format!(
                "Table already has an enabled stream: TableName: {}",
                record.name
            )));
        }
        let salt = uuid::Uuid::new_v4().as_u128() as u32;
        let meta = StreamMeta {
            arn: arn.clone(),
            table: record.name.clone(),
            label: label.clone(),
            view_type: view.to_owned(),
            created_ms: now_ms,
            shard_id: stream::shard_id(now_ms, salt),
            hash: record.hash.clone(),
            range: record.range.clone(),
            first_seq: next,
            ended_at: None,
            rolled: Vec::new(),
            trimmed_through: 0,
            closed_ms: None,
        };
        streams.insert(arn.as_str(), encode(&meta).as_slice())?;
        let settings = StreamSettings {
            view_type: view.to_owned(),
            label,
            arn,
        };
        record.stream = Some(settings.clone());
        record.latest_stream = Some(settings);
        Ok(())
    }

    /// Closes stream `arn` at the last counter issued so far (it stays readable).
    fn close_stream(txn: &WriteTransaction, arn: &str, now_ms: u64) -> Result<(), DynamoError> {
        let last = txn
            .open_table(COUNTERS)?
            .get("seq")?
            .map_or(0, |v| v.value())
            .saturating_sub(1);
        let mut streams = txn.open_table(STREAMS)?;
        let meta: Option<StreamMeta> = match streams.get(arn)? {
            Some(v) => Some(decode("ddb_streams", arn, v.value())?),
            None => None,
        };
        if let Some(mut meta) = meta {
            meta.ended_at = Some(last);
            meta.closed_ms = Some(now_ms);
            streams.insert(arn, encode(&meta).as_slice())?;
        }
        Ok(())
    }

    /// UpdateTable: billing mode, throughput and the stream. Enabling makes a new stream
    /// (new label and ARN); disabling closes the current one, which stays readable.
    pub fn update_table(
        &self,
        name: &str,
        update: &TableUpdate,
        now_ms: u64,
    ) -> Result<TableRecord, DynamoError> {
        let txn = self.db.begin_write()?;
        let record = {
            let mut record = load_table(&txn, name)?;
            match &update.stream {
                Some(Some(view)) => {
                    if record.stream.is_some() {
                        return Err(DynamoError::Validation(format!(
                            "Table already has an enabled stream: TableName: {}",
                            record.name
                        )));
                    }
                    let label = stream::stream_label(now_ms);
                    self.open_stream(&txn, &mut record, view, label, now_ms)?;
                }
                Some(None) => {
                    let Some(s) = record.stream.take() else {
                        return Err(DynamoError::Validation(format!(
                            "Table has no stream to disable: TableName: {}",
                            record.name
                        )));
                    };
                    Self::close_stream(&txn, &s.arn, now_ms)?;
                }
                None => {}
            }
            for change in &update.indexes {
                apply_index_change(&mut record, change)?;
            }
            if let Some(b) = &update.billing_mode {
                record.billing_mode.clone_from(b);
                if b == "PAY_PER_REQUEST" {
                    record.read_capacity = 0;
                    record.write_capacity = 0;
                    for i in &mut record.indexes {
                        i.read_capacity = 0;
                        i.write_capacity = 0;
                    }
                }
            }
            if let Some((r, w)) = update.throughput {
                record.read_capacity = r;
                record.write_capacity = w;
            }
            txn.open_table(TABLES)?
                .insert(record.name.as_str(), encode(&record).as_slice())?;
            record
        };
        txn.commit()?;
        self.notify();
        Ok(record)
    }

    pub fn table(&self, name: &str) -> Result<TableRecord, DynamoError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        match tables.get(name)? {
            Some(v) => Ok(decode("ddb_tables", name, v.value())?),
            None => Err(DynamoError::not_found()),
        }
    }

    pub fn list_tables(&self) -> Result<Vec<String>, DynamoError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        let mut out = Vec::new();
        for entry in tables.iter()? {
            out.push(entry?.0.value().to_owned());
        }
        Ok(out)
    }

    /// Item count and size of a table (DescribeTable).
    pub fn table_stats(&self, name: &str) -> Result<(u64, u64), DynamoError> {
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ITEMS)?;
        let (lo, hi) = table_bounds(name);
        let (mut n, mut bytes) = (0u64, 0u64);
        for entry in
            items.range::<&str>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str())))?
        {
            let (_, v) = entry?;
            n += 1;
            bytes += v.value().len() as u64;
        }
        Ok((n, bytes))
    }

    /// Deletes a table and its items; its stream is closed (still readable).
    pub fn delete_table(&self, name: &str, now_ms: u64) -> Result<TableRecord, DynamoError> {
        let txn = self.db.begin_write()?;
        let record = {
            let mut tables = txn.open_table(TABLES)?;
            let record: TableRecord = match tables.remove(name)? {
                Some(v) => decode("ddb_tables", name, v.value())?,
                None => return Err(DynamoError::not_found()),
            };
            let mut items = txn.open_table(ITEMS)?;
            let (lo, hi) = table_bounds(name);
            let keys: Vec<String> = items
                .range::<&str>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str())))?
                .map(|e| e.map(|(k, _)| k.value().to_owned()))
                .collect::<Result<_, _>>()?;
            for k in keys {
                items.remove(k.as_str())?;
            }
            if let Some(s) = &record.stream {
                Self::close_stream(&txn, &s.arn, now_ms)?;
            }
            record
        };
        txn.commit()?;
        self.notify();
        Ok(record)
    }

    // ---- time to live ----

    /// UpdateTimeToLive: enables TTL on `attribute`, or disables it.
    pub fn update_ttl(
        &self,
        name: &str,
        enabled: bool,
        attribute: &str,
    ) -> Result<TableRecord, DynamoError> {
        let txn = self.db.begin_write()?;
        let record = {
            let mut record = load_table(&txn, name)?;
            match (&record.ttl_attribute, enabled) {
                (Some(_), true) => {
                    return Err(DynamoError::Validation(
                        "TimeToLive is already enabled".into(),
                    ));
                }
                (None, false) => {
                    return Err(DynamoError::Validation(
                        "TimeToLive is already disabled".into(),
                    ));
                }
                (Some(current), false) if current != attribute => {
                    return Err(DynamoError::Validation(format!(
                        "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
                    )));
                }
                _ => {}
            }
            record.ttl_attribute = enabled.then(|| attribute.to_owned());
            txn.open_table(TABLES)?
                .insert(record.name.as_str(), encode(&record).as_slice())?;
            record
        };
        txn.commit()?;
        self.notify();
        Ok(record)
    }

    /// Deletes every item whose TTL attribute (a Number, epoch seconds) is before `now_ms`,
    /// as DynamoDB's TTL does: each deletion writes a REMOVE stream record with a `Service`
    /// `userIdentity`. Items whose TTL is more than five years past are left alone (AWS
    /// ignores them too), as are items whose attribute is not a Number. One transaction per
    /// table; the number of items deleted is returned.
    pub fn expire_now(&self, now_ms: u64) -> Result<usize, DynamoError> {
        const FIVE_YEARS_S: f64 = 5.0 * 365.0 * 86_400.0;
        let now_s = now_ms as f64 / 1000.0;
        let mut deleted = 0;
        for name in self.list_tables()? {
            let t = self.table(&name)?;
            let Some(attr) = &t.ttl_attribute else {
                continue;
            };
            let (lo, hi) = table_bounds(&name);
            let mut expired = Vec::new();
            {
                let txn = self.db.begin_read()?;
                let items = txn.open_table(ITEMS)?;
                for entry in items
                    .range::<&str>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str())))?
                {
                    let (k, v) = entry?;
                    let item = decode_item(k.value(), v.value())?;
                    let at = match item.get(attr) {
                        Some(Av::N(n)) => n.parse::<f64>().ok(),
                        _ => None,
                    };
                    if at.is_some_and(|at| at < now_s && at > now_s - FIVE_YEARS_S) {
                        expired.push(t.key_of(&item));
                    }
                }
            }
            if expired.is_empty() {
                continue;
            }
            let txn = self.db.begin_write()?;
            // Read again under the write lock: the item may have changed since.
            let t = load_table(&txn, &name)?;
            if t.ttl_attribute.as_ref() != Some(attr) {
                continue;
            }
            for key in expired {
                let (skey, old) = read_item(&txn, &t, &key)?;
                let still = old.as_ref().and_then(|o| match o.get(attr) {
                    Some(Av::N(n)) => n.parse::<f64>().ok(),
                    _ => None,
                });
                if still.is_some_and(|at| at < now_s && at > now_s - FIVE_YEARS_S) {
                    self.apply(
                        &txn,
                        &t,
                        &skey,
                        &key,
                        old.as_ref(),
                        None,
                        now_ms,
                        Some(service_identity()),
                    )?;
                    deleted += 1;
                }
            }
            txn.commit()?;
            self.notify();
        }
        Ok(deleted)
    }

    // ---- items ----

    pub fn get_item(&self, table: &str, key: &Item) -> Result<Option<Item>, DynamoError> {
        let t = self.table(table)?;
        t.check_key(key)?;
        let skey = t.storage_key(key);
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ITEMS)?;
        match items.get(skey.as_str())? {
            Some(v) => Ok(Some(decode_item(&skey, v.value())?)),
            None => Ok(None),
        }
    }

    /// Writes one item: reads the old one, checks `condition` against it, applies `kind`,
    /// and appends the stream record of the change, all in one fsync'd transaction.
    pub fn write_item(
        &self,
        table: &str,
        key: &Item,
        kind: WriteKind,
        condition: Option<&Cond>,
        now_ms: u64,
    ) -> Result<WriteOutcome, DynamoError> {
        let txn = self.db.begin_write()?;
        let outcome = {
            let t = load_table(&txn, table)?;
            t.check_key(key)?;
            let (skey, old) = read_item(&txn, &t, key)?;
            if let Some(c) = condition
                && !expr::eval(c, old.as_ref().unwrap_or(&Item::new()))
            {
                return Err(DynamoError::ConditionalCheckFailed(old));
            }
            let new = next_item(&kind, key, old.as_ref()).map_err(DynamoError::Validation)?;
            if !matches!(kind, WriteKind::Check) {
                self.apply(
                    &txn,
                    &t,
                    &skey,
                    key,
                    old.as_ref(),
                    new.as_ref(),
                    now_ms,
                    None,
                )?;
            }
            WriteOutcome { old, new }
        };
        txn.commit()?;
        self.notify();
        Ok(outcome)
    }

    /// BatchWriteItem: every put and delete of `ops` (no conditions) in one transaction,
    /// each change with its stream record. Any error applies none of them.
    pub fn write_batch(&self, ops: &[WriteOp], now_ms: u64) -> Result<(), DynamoError> {
        let txn = self.db.begin_write()?;
        for op in ops {
            let t = load_table(&txn, &op.table)?;
            t.check_key(&op.key)?;
            let (skey, old) = read_item(&txn, &t, &op.key)?;
            let new =
                next_item(&op.kind, &op.key, old.as_ref()).map_err(DynamoError::Validation)?;
            self.apply(
                &txn,
                &t,
                &skey,
                &op.key,
                old.as_ref(),
                new.as_ref(),
                now_ms,
                None,
            )?;
        }
        txn.commit()?;
        self.notify();
        Ok(())
    }

    /// TransactWriteItems: checks every condition against the items as they are, and
    /// applies every action in one transaction only if all pass; otherwise
    /// [`DynamoError::TransactionCanceled`] with one reason per action and nothing changes.
    /// The caller has refused two actions on one item.
    pub fn write_transaction(&self, ops: &[WriteOp], now_ms: u64) -> Result<(), DynamoError> {
        self.write_transaction_once(ops, None, now_ms)
    }

    /// [`DynamoStore::write_transaction`] with a ClientRequestToken: the same request again
    /// within [`TOKEN_TTL_MS`] succeeds without applying anything twice; a different request
    /// with the token is [`DynamoError::IdempotentParameterMismatch`]. The token is recorded
    /// in the transaction that applies the writes.
    pub fn write_transaction_once(
        &self,
        ops: &[WriteOp],
        token: Option<&str>,
        now_ms: u64,
    ) -> Result<(), DynamoError> {
        let txn = self.db.begin_write()?;
        let digest = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            format!("{ops:?}").hash(&mut h);
            h.finish()
        };
        if let Some(t) = token
            && let Some((seen, at)) = txn.open_table(TOKENS)?.get(t)?.map(|v| v.value())
            && at + TOKEN_TTL_MS > now_ms
        {
            return if seen == digest {
                Ok(())
            } else {
                Err(DynamoError::IdempotentParameterMismatch)
            };
        }
        let mut staged = Vec::with_capacity(ops.len());
        let mut reasons = Vec::with_capacity(ops.len());
        let mut cancelled = false;
        for op in ops {
            let t = load_table(&txn, &op.table)?;
            t.check_key(&op.key)?;
            let (skey, old) = read_item(&txn, &t, &op.key)?;
            let passed = op
                .condition
                .as_ref()
                .is_none_or(|c| expr::eval(c, old.as_ref().unwrap_or(&Item::new())));
            if !passed {
                cancelled = true;
                reasons.push(CancelReason {
                    code: "ConditionalCheckFailed",
                    message: Some("The conditional request failed".into()),
                    item: old,
                });
                continue;
            }
            match next_item(&op.kind, &op.key, old.as_ref()) {
                Ok(new) => {
                    reasons.push(CancelReason {
                        code: "None",
                        message: None,
                        item: None,
                    });
                    staged.push((t, skey, old, new, op));
                }
                Err(m) => {
                    cancelled = true;
                    reasons.push(CancelReason {
                        code: "ValidationError",
                        message: Some(m),
                        item: None,
                    });
                }
            }
        }
        if cancelled {
            return Err(DynamoError::TransactionCanceled(reasons));
        }
        for (t, skey, old, new, op) in &staged {
            if !matches!(op.kind, WriteKind::Check) {
                self.apply(
                    &txn,
                    t,
                    skey,
                    &op.key,
                    old.as_ref(),
                    new.as_ref(),
                    now_ms,
                    None,
                )?;
            }
        }
        if let Some(t) = token {
            txn.open_table(TOKENS)?.insert(t, (digest, now_ms))?;
        }
        txn.commit()?;
        self.notify();
        Ok(())
    }

    /// Reads several items at once (BatchGetItem, TransactGetItems) from one snapshot;
    /// `None` for a missing item.
    pub fn get_items(&self, keys: &[(String, Item)]) -> Result<Vec<Option<Item>>, DynamoError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        let items = txn.open_table(ITEMS)?;
        let mut out = Vec::with_capacity(keys.len());
        for (table, key) in keys {
            let t: TableRecord = match tables.get(table.as_str())? {
                Some(v) => decode("ddb_tables", table, v.value())?,
                None => return Err(DynamoError::not_found()),
            };
            t.check_key(key)?;
            let skey = t.storage_key(key);
            out.push(match items.get(skey.as_str())? {
                Some(v) => Some(decode_item(&skey, v.value())?),
                None => None,
            });
        }
        Ok(out)
    }

    /// Writes `new` (or deletes, for `None`) at `skey` and appends the stream record of
    /// the change, if the table has a stream and something changed.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        txn: &WriteTransaction,
        t: &TableRecord,
        skey: &str,
        key: &Item,
        old: Option<&Item>,
        new: Option<&Item>,
        now_ms: u64,
        user_identity: Option<Value>,
    ) -> Result<(), DynamoError> {
        if let Some(n) = new {
            t.check_index_keys(n)?;
        }
        {
            let mut items = txn.open_table(ITEMS)?;
            match new {
                Some(n) => {
                    items.insert(skey, encode(&item_to_json(n)).as_slice())?;
                }
                None => {
                    items.remove(skey)?;
                }
            }
        }
        let Some(s) = &t.stream else {
            return Ok(());
        };
        if stream::EventName::of(old, new).is_none() {
            return Ok(());
        }
        let mut counters = txn.open_table(COUNTERS)?;
        let seq = counters.get("seq")?.map_or(1, |v| v.value());
        counters.insert("seq", seq + 1)?;
        let sequence_number = stream::sequence_number(seq);
        let change = stream::Change {
            view_type: &s.view_type,
            region: &self.region,
            keys: key,
            old,
            new,
            sequence_number: &sequence_number,
            now_ms,
        };
        if let Some(mut record) = stream::record(&change) {
            if let (Some(id), Value::Object(map)) = (user_identity, &mut record) {
                map.insert("userIdentity".into(), id);
            }
            let stored = StoredChange {
                created_ms: now_ms,
                partition_key: key
                    .get(&t.hash.name)
                    .map_or(String::new(), |v| v.to_json().to_string()),
                record,
            };
            txn.open_table(RECORDS)?
                .insert((s.arn.as_str(), seq), encode(&stored).as_slice())?;
        }
        Ok(())
    }

    /// Items of one partition whose key satisfies `key_condition` (and then `filter`), in
    /// sort-key order (`forward`) or reverse, up to `limit` evaluated, after `start`.
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &self,
        table: &TableRecord,
        hash: &Av,
        key_condition: &Cond,
        filter: Option<&Cond>,
        forward: bool,
        limit: Option<usize>,
        start: Option<&Item>,
    ) -> Result<Page, DynamoError> {
        let mut key = Item::new();
        key.insert(table.hash.name.clone(), hash.clone());
        let prefix = format!("{}\0{}\0", table.name, hash.to_json());
        let mut end = prefix.clone();
        end.pop();
        end.push('\u{1}');
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ITEMS)?;
        let mut all = Vec::new();
        for entry in items.range::<&str>((
            Bound::Included(prefix.as_str()),
            Bound::Excluded(end.as_str()),
        ))? {
            let (k, v) = entry?;
            let item = decode_item(k.value(), v.value())?;
            if expr::eval(key_condition, &item) {
                all.push(item);
            }
        }
        let range_name = table.range.as_ref().map(|r| r.name.clone());
        let sort = |a: &Item, b: &Item| -> Ordering {
            match &range_name {
                Some(r) => match (a.get(r), b.get(r)) {
                    (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
                    _ => Ordering::Equal,
                },
                None => Ordering::Equal,
            }
        };
        all.sort_by(sort);
        if !forward {
            all.reverse();
        }
        if let Some(s) = start {
            let pos = all.iter().position(|i| sort(i, s) == Ordering::Equal);
            all = match pos {
                Some(p) => all.split_off(p + 1),
                None => all
                    .into_iter()
                    .filter(|i| {
                        let o = sort(i, s);
                        if forward {
                            o == Ordering::Greater
                        } else {
                            o == Ordering::Less
                        }
                    })
                    .collect(),
            };
        }
        Ok(page(table, all, filter, limit))
    }

    /// Items of a table in storage order, after `start`.
    pub fn scan(
        &self,
        table: &TableRecord,
        filter: Option<&Cond>,
        limit: Option<usize>,
        start: Option<&Item>,
    ) -> Result<Page, DynamoError> {
        let (lo, hi) = table_bounds(&table.name);
        let from = match start {
            Some(s) => Bound::Excluded(table.storage_key(s)),
            None => Bound::Included(lo),
        };
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ITEMS)?;
        let mut all = Vec::new();
        let from_ref = match &from {
            Bound::Included(s) => Bound::Included(s.as_str()),
            Bound::Excluded(s) => Bound::Excluded(s.as_str()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let max = limit.map_or(usize::MAX, |l| l.saturating_add(1));
        for entry in items.range::<&str>((from_ref, Bound::Excluded(hi.as_str())))? {
            let (k, v) = entry?;
            all.push(decode_item(k.value(), v.value())?);
            if all.len() >= max {
                break;
            }
        }
        Ok(page(table, all, filter, limit))
    }

    /// The items of `index`, ordered by [`index_order`].
    fn index_items(&self, table: &TableRecord, index: &IndexDef) -> Result<Vec<Item>, DynamoError> {
        let (lo, hi) = table_bounds(&table.name);
        let txn = self.db.begin_read()?;
        let items = txn.open_table(ITEMS)?;
        let mut all = Vec::new();
        for entry in
            items.range::<&str>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str())))?
        {
            let (k, v) = entry?;
            let item = decode_item(k.value(), v.value())?;
            if index.holds(&item) {
                all.push(item);
            }
        }
        all.sort_by(|a, b| index_order(table, index, a, b));
        Ok(all)
    }

    /// Query through a secondary index: the items whose index hash key is `hash` and that
    /// satisfy `key_condition`, in index sort-key order (ties in table-key order).
    #[allow(clippy::too_many_arguments)]
    pub fn query_index(
        &self,
        table: &TableRecord,
        index: &IndexDef,
        hash: &Av,
        key_condition: &Cond,
        filter: Option<&Cond>,
        forward: bool,
        limit: Option<usize>,
        start: Option<&Item>,
    ) -> Result<Page, DynamoError> {
        let mut all: Vec<Item> = self
            .index_items(table, index)?
            .into_iter()
            .filter(|i| i.get(&index.hash.name) == Some(hash) && expr::eval(key_condition, i))
            .collect();
        if !forward {
            all.reverse();
        }
        let all = after_start(table, index, all, start, forward);
        Ok(page_with(
            all,
            filter,
            limit,
            |i| index.page_key(table, &index.project(table, i)),
            |i| index.project(table, i),
        ))
    }

    /// Scan through a secondary index: every item in it, after `start`.
    pub fn scan_index(
        &self,
        table: &TableRecord,
        index: &IndexDef,
        filter: Option<&Cond>,
        limit: Option<usize>,
        start: Option<&Item>,
    ) -> Result<Page, DynamoError> {
        let all = after_start(table, index, self.index_items(table, index)?, start, true);
        Ok(page_with(
            all,
            filter,
            limit,
            |i| index.page_key(table, &index.project(table, i)),
            |i| index.project(table, i),
        ))
    }

    /// Item count and size of an index (DescribeTable).
    pub fn index_stats(
        &self,
        table: &TableRecord,
        index: &IndexDef,
    ) -> Result<(u64, u64), DynamoError> {
        let items = self.index_items(table, index)?;
        let bytes = items
            .iter()
            .map(|i| value::item_size(&index.project(table, i)) as u64)
            .sum();
        Ok((items.len() as u64, bytes))
    }

    // ---- streams ----

    pub fn stream(&self, arn: &str) -> Result<StreamMeta, DynamoError> {
        let txn = self.db.begin_read()?;
        let streams = txn.open_table(STREAMS)?;
        match streams.get(arn)? {
            Some(v) => Ok(decode("ddb_streams", arn, v.value())?),
            None => Err(DynamoError::ResourceNotFound(format!(
                "Requested resource not found: Stream: {arn} not found"
            ))),
        }
    }

    /// Every stream, oldest first.
    pub fn list_streams(&self) -> Result<Vec<StreamMeta>, DynamoError> {
        let txn = self.db.begin_read()?;
        let streams = txn.open_table(STREAMS)?;
        let mut out: Vec<StreamMeta> = Vec::new();
        for entry in streams.iter()? {
            let (k, v) = entry?;
            out.push(decode("ddb_streams", k.value(), v.value())?);
        }
        out.sort_by_key(|s| s.created_ms);
        Ok(out)
    }

    /// Closes the open shard of stream `arn` and opens its child, as DynamoDB does every
    /// few hours. A shard with no record yet is kept open (no chains of empty shards).
    /// Returns the new shard's id, if one was opened.
    pub fn roll_over(&self, arn: &str, now_ms: u64) -> Result<Option<String>, DynamoError> {
        let txn = self.db.begin_write()?;
        let new_id = {
            let mut streams = txn.open_table(STREAMS)?;
            let mut meta: StreamMeta = match streams.get(arn)? {
                Some(v) => decode("ddb_streams", arn, v.value())?,
                None => return Err(DynamoError::not_found()),
            };
            let Some(open) = meta.shards().pop().filter(ShardMeta::is_open) else {
                return Ok(None);
            };
            let has_records = txn
                .open_table(RECORDS)?
                .range((arn, open.first_seq)..=(arn, u64::MAX))?
                .next()
                .is_some();
            if !has_records {
                return Ok(None);
            }
            let next = txn
                .open_table(COUNTERS)?
                .get("seq")?
                .map_or(1, |v| v.value());
            let salt = uuid::Uuid::new_v4().as_u128() as u32;
            let id = stream::shard_id(now_ms, salt);
            meta.rolled.push(ShardStart {
                shard_id: id.clone(),
                first_seq: next,
                created_ms: now_ms,
            });
            streams.insert(arn, encode(&meta).as_slice())?;
            id
        };
        txn.commit()?;
        self.notify();
        Ok(Some(new_id))
    }

    /// Rolls over every enabled stream whose open shard is `period_ms` old or older.
    pub fn roll_due(&self, now_ms: u64, period_ms: u64) -> Result<usize, DynamoError> {
        let mut rolled = 0;
        for s in self.list_streams()? {
            let due = s
                .shards()
                .last()
                .is_some_and(|open| open.is_open() && open.created_ms + period_ms <= now_ms);
            if due && self.roll_over(&s.arn, now_ms)?.is_some() {
                rolled += 1;
            }
        }
        Ok(rolled)
    }

    /// Stream retention: removes the records older than `retention_ms` of every stream
    /// (DynamoDB keeps 24 hours) and remembers the highest counter removed.
    pub fn trim_streams(&self, now_ms: u64, retention_ms: u64) -> Result<usize, DynamoError> {
        self.forget_tokens(now_ms)?;
        let cutoff = now_ms.saturating_sub(retention_ms);
        let mut removed = 0;
        for s in self.list_streams()? {
            // Look first (a read transaction): most minutes nothing is old enough.
            let mut old = Vec::new();
            {
                let txn = self.db.begin_read()?;
                let records = txn.open_table(RECORDS)?;
                for entry in records.range((s.arn.as_str(), 0)..=(s.arn.as_str(), u64::MAX))? {
                    let (k, v) = entry?;
                    let change: StoredChange = decode("ddb_records", &s.arn, v.value())?;
                    if change.created_ms >= cutoff {
                        break;
                    }
                    old.push(k.value().1);
                }
            }
            let Some(&last) = old.last() else {
                self.drop_if_expired(&s, cutoff)?;
                continue;
            };
            // Records are only ever appended after these, so the list is still right.
            let txn = self.db.begin_write()?;
            {
                let mut records = txn.open_table(RECORDS)?;
                for c in &old {
                    records.remove((s.arn.as_str(), *c))?;
                }
                let mut streams = txn.open_table(STREAMS)?;
                let mut meta: StreamMeta = match streams.get(s.arn.as_str())? {
                    Some(v) => decode("ddb_streams", &s.arn, v.value())?,
                    None => continue,
                };
                meta.trimmed_through = meta.trimmed_through.max(last);
                streams.insert(s.arn.as_str(), encode(&meta).as_slice())?;
            }
            txn.commit()?;
            removed += old.len();
            self.drop_if_expired(&s, cutoff)?;
        }
        if removed > 0 {
            self.notify();
        }
        Ok(removed)
    }

    /// Removes stream `s` if it was closed before `cutoff` and has no records left, as
    /// DynamoDB forgets a disabled stream 24 hours after disabling it.
    fn drop_if_expired(&self, s: &StreamMeta, cutoff: u64) -> Result<(), DynamoError> {
        if s.closed_ms.is_none_or(|c| c >= cutoff) {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let empty = txn
                .open_table(RECORDS)?
                .range((s.arn.as_str(), 0)..=(s.arn.as_str(), u64::MAX))?
                .next()
                .is_none();
            if !empty {
                return Ok(());
            }
            txn.open_table(STREAMS)?.remove(s.arn.as_str())?;
        }
        txn.commit()?;
        self.notify();
        Ok(())
    }

    /// Drops ClientRequestTokens older than [`TOKEN_TTL_MS`].
    fn forget_tokens(&self, now_ms: u64) -> Result<(), DynamoError> {
        let txn = self.db.begin_write()?;
        {
            let mut tokens = txn.open_table(TOKENS)?;
            let mut old = Vec::new();
            for entry in tokens.iter()? {
                let (k, v) = entry?;
                if v.value().1 + TOKEN_TTL_MS <= now_ms {
                    old.push(k.value().to_owned());
                }
            }
            for k in old {
                tokens.remove(k.as_str())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Up to `limit` records of `arn` with counters from `from` on.
    pub fn read_records(
        &self,
        arn: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, StoredChange)>, DynamoError> {
        let txn = self.db.begin_read()?;
        let records = txn.open_table(RECORDS)?;
        let mut out = Vec::new();
        for entry in records.range((arn, from)..=(arn, u64::MAX))? {
            let (k, v) = entry?;
            let seq = k.value().1;
            out.push((seq, decode("ddb_records", arn, v.value())?));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The counter the next record of `arn` will have at least (LATEST).
    pub fn next_counter(&self) -> Result<u64, DynamoError> {
        let txn = self.db.begin_read()?;
        let counters = txn.open_table(COUNTERS)?;
        Ok(counters.get("seq")?.map_or(1, |v| v.value()))
    }

    /// The first and last counters of the records of `arn` between `from` and `to`.
    pub fn record_range(
        &self,
        arn: &str,
        from: u64,
        to: u64,
    ) -> Result<Option<(u64, u64)>, DynamoError> {
        let txn = self.db.begin_read()?;
        let records = txn.open_table(RECORDS)?;
        let mut range = records.range((arn, from)..=(arn, to))?;
        let first = match range.next() {
            Some(e) => e?.0.value().1,
            None => return Ok(None),
        };
        let last = match range.next_back() {
            Some(e) => e?.0.value().1,
            None => first,
        };
        Ok(Some((first, last)))
    }
}

/// One GlobalSecondaryIndexUpdate on `record`, with AWS's errors.
fn apply_index_change(record: &mut TableRecord, change: &IndexChange) -> Result<(), DynamoError> {
    let find = |record: &TableRecord, name: &str| -> Result<usize, DynamoError> {
        match record.indexes.iter().position(|i| i.name == name) {
            Some(p) if record.indexes[p].global => Ok(p),
            Some(_) => Err(DynamoError::Validation(format!(
                "Cannot update an index that is not a GlobalSecondaryIndex: {name}"
            ))),
            None => Err(DynamoError::ResourceNotFound(format!(
                "Requested resource not found: Index: {name} not found for table: {}",
                record.name
            ))),
        }
    };
    match change {
        IndexChange::Create(index, attributes) => {
            if record.indexes.iter().any(|i| i.name == index.name) {
                return Err(DynamoError::Validation(
                    "Attempting to create an index which already exists".into(),
                ));
            }
            for a in attributes {
                match record.attributes.iter().find(|d| d.name == a.name) {
                    Some(d) if d.ty != a.ty => {
                        return Err(DynamoError::Validation(format!(
                            "One or more parameter values were invalid: Attribute {} has a different type from the one already defined",
                            a.name
                        )));
                    }
                    Some(_) => {}
                    None => record.attributes.push(a.clone()),
                }
            }
            record.indexes.push(index.clone());
        }
        IndexChange::Delete(name) => {
            let p = match find(record, name) {
                Err(DynamoError::Validation(_)) => {
                    return Err(DynamoError::Validation(format!(
                        "Cannot delete an index that is not a GlobalSecondaryIndex: {name}"
                    )));
                }
                other => other?,
            };
            record.indexes.remove(p);
            // Definitions only that index used go with it.
            let used: Vec<String> = record
                .key_names()
                .chain(record.indexes.iter().flat_map(IndexDef::key_names))
                .map(|k| k.name.clone())
                .collect();
            record.attributes.retain(|a| used.contains(&a.name));
        }
        IndexChange::Throughput(name, r, w) => {
            let p = find(record, name)?;
            record.indexes[p].read_capacity = *r;
            record.indexes[p].write_capacity = *w;
        }
    }
    Ok(())
}

/// The table record `name`, inside a write transaction.
fn load_table(txn: &WriteTransaction, name: &str) -> Result<TableRecord, DynamoError> {
    match txn.open_table(TABLES)?.get(name)? {
        Some(v) => Ok(decode("ddb_tables", name, v.value())?),
        None => Err(DynamoError::not_found()),
    }
}

/// The storage key of `key` in `t` and the item stored there.
fn read_item(
    txn: &WriteTransaction,
    t: &TableRecord,
    key: &Item,
) -> Result<(String, Option<Item>), DynamoError> {
    let skey = t.storage_key(key);
    let old = match txn.open_table(ITEMS)?.get(skey.as_str())? {
        Some(v) => Some(decode_item(&skey, v.value())?),
        None => None,
    };
    Ok((skey, old))
}

/// The item after `kind` is applied to `old` (at `key`); the error is AWS's text.
fn next_item(kind: &WriteKind, key: &Item, old: Option<&Item>) -> Result<Option<Item>, String> {
    Ok(match kind {
        WriteKind::Put(item) => Some(item.clone()),
        WriteKind::Delete => None,
        WriteKind::Check => old.cloned(),
        WriteKind::Update(actions) => {
            let base = old.cloned().unwrap_or_else(|| key.clone());
            Some(expr::apply_update(&base, actions)?)
        }
    })
}

fn table_bounds(name: &str) -> (String, String) {
    (format!("{name}\0"), format!("{name}\u{1}"))
}

/// The order of an index: index hash key (its JSON text), index sort key, table key.
fn index_order(table: &TableRecord, index: &IndexDef, a: &Item, b: &Item) -> Ordering {
    let hash = |i: &Item| i.get(&index.hash.name).map(|v| v.to_json().to_string());
    let range = match &index.range {
        Some(r) => match (a.get(&r.name), b.get(&r.name)) {
            (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
        None => Ordering::Equal,
    };
    hash(a).cmp(&hash(b)).then(range).then_with(|| {
        table
            .storage_key(&table.key_of(a))
            .cmp(&table.storage_key(&table.key_of(b)))
    })
}

/// The items of an index read (in `forward` order or its reverse) that come after the
/// ExclusiveStartKey `start` (index key and table key), whether or not that item still
/// exists.
fn after_start(
    table: &TableRecord,
    index: &IndexDef,
    all: Vec<Item>,
    start: Option<&Item>,
    forward: bool,
) -> Vec<Item> {
    let Some(s) = start else { return all };
    all.into_iter()
        .filter(|i| {
            let o = index_order(table, index, i, s);
            if forward {
                o == Ordering::Greater
            } else {
                o == Ordering::Less
            }
        })
        .collect()
}

/// [`page`] for index reads: items are projected, and the last key is `key_of`.
fn page_with(
    mut all: Vec<Item>,
    filter: Option<&Cond>,
    limit: Option<usize>,
    key_of: impl Fn(&Item) -> Item,
    project: impl Fn(&Item) -> Item,
) -> Page {
    let mut last_key = None;
    if let Some(l) = limit
        && all.len() > l
    {
        all.truncate(l);
        last_key = all.last().map(&key_of);
    }
    let scanned = all.len();
    let items = all
        .iter()
        .filter(|i| filter.is_none_or(|f| expr::eval(f, i)))
        .map(project)
        .collect();
    Page {
        items,
        scanned,
        last_key,
    }
}

/// Cuts `all` (evaluated in order) at `limit`, applies `filter`, and sets the last key.
fn page(
    table: &TableRecord,
    mut all: Vec<Item>,
    filter: Option<&Cond>,
    limit: Option<usize>,
) -> Page {
    let mut last_key = None;
    if let Some(l) = limit
        && all.len() > l
    {
        all.truncate(l);
        last_key = all.last().map(|i| table.key_of(i));
    }
    let scanned = all.len();
    let items = match filter {
        Some(f) => all.into_iter().filter(|i| expr::eval(f, i)).collect(),
        None => all,
    };
    Page {
        items,
        scanned,
        last_key,
    }
}
