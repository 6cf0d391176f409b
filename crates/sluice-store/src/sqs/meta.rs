//! Queue records (name, incarnation id, settings, tags, timestamps) in their own redb file,
//! `DIR/sqs/queues.redb`; every write is an fsync'd transaction. Queue ids come from a
//! counter kept in the same file and are never reused, so a deleted queue's journal records
//! and receipt handles can never be mistaken for a later queue's of the same name.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::attributes::QueueSettings;
use crate::StoreError;

const QUEUES: TableDefinition<&str, &[u8]> = TableDefinition::new("queues");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// A queue as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRecord {
    /// The incarnation: unique over the data dir's whole life.
    pub id: u64,
    pub name: String,
    /// Epoch seconds, as CreatedTimestamp shows it.
    pub created_s: u64,
    /// Epoch seconds of the last SetQueueAttributes, as LastModifiedTimestamp shows it.
    pub modified_s: u64,
    pub settings: QueueSettings,
    pub tags: BTreeMap<String, String>,
}

pub struct QueueDb {
    db: Database,
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: "sqs queues",
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

impl QueueDb {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = match crate::create_db(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::InUse(path.display().to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        let txn = db.begin_write()?;
        txn.open_table(QUEUES)?;
        txn.open_table(COUNTERS)?;
        txn.commit()?;
        Ok(Self { db })
    }

    pub fn all(&self) -> Result<Vec<QueueRecord>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(QUEUES)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push(serde_json::from_slice(v.value()).map_err(|e| corrupt(k.value(), e))?);
        }
        Ok(out)
    }

    /// Inserts the record `make` builds from a fresh id, unless `name` exists: then returns
    /// the existing record and writes nothing.
    pub fn create(
        &self,
        name: &str,
        make: impl FnOnce(u64) -> QueueRecord,
    ) -> Result<Result<QueueRecord, QueueRecord>, StoreError> {
        let txn = self.db.begin_write()?;
        let record = {
            let mut table = txn.open_table(QUEUES)?;
            if let Some(v) = table.get(name)? {
                let existing = serde_json::from_slice(v.value()).map_err(|e| corrupt(name, e))?;
                return Ok(Err(existing));
            }
            let mut counters = txn.open_table(COUNTERS)?;
            let id = counters.get("queue_id")?.map_or(1, |v| v.value());
            counters.insert("queue_id", id + 1)?;
            let record = make(id);
            let bytes = serde_json::to_vec(&record).map_err(|e| corrupt(name, e))?;
            table.insert(name, bytes.as_slice())?;
            record
        };
        txn.commit()?;
        Ok(Ok(record))
    }

    /// Replaces a queue's record (same name).
    pub fn put(&self, record: &QueueRecord) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(record).map_err(|e| corrupt(&record.name, e))?;
        let txn = self.db.begin_write()?;
        txn.open_table(QUEUES)?
            .insert(record.name.as_str(), bytes.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    pub fn remove(&self, name: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(QUEUES)?.remove(name)?;
        txn.commit()?;
        Ok(())
    }
}
