//! Topics, subscriptions and deliveries not yet made, in their own redb file
//! `DIR/sns/sns.redb`; every write is an fsync'd transaction.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{PendingDelivery, SubscriptionRecord, TopicRecord};
use crate::StoreError;

const TOPICS: TableDefinition<&str, &[u8]> = TableDefinition::new("topics");
const SUBSCRIPTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("subscriptions");
const DELIVERIES: TableDefinition<u64, &[u8]> = TableDefinition::new("deliveries");

pub struct SnsDb {
    db: Database,
}

fn corrupt(table: &'static str, key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Records are plain data (strings, maps, numbers): serialising cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(table, key, e))
}

/// Everything the file holds, read once at open.
pub struct Loaded {
    pub topics: Vec<TopicRecord>,
    pub subscriptions: Vec<SubscriptionRecord>,
    pub deliveries: Vec<PendingDelivery>,
}

impl SnsDb {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = match crate::create_db(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::InUse(path.display().to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        let txn = db.begin_write()?;
        txn.open_table(TOPICS)?;
        txn.open_table(SUBSCRIPTIONS)?;
        txn.open_table(DELIVERIES)?;
        txn.commit()?;
        Ok(Self { db })
    }

    pub fn load(&self) -> Result<Loaded, StoreError> {
        let txn = self.db.begin_read()?;
        let mut topics = Vec::new();
        for row in txn.open_table(TOPICS)?.iter()? {
            let (k, v) = row?;
            topics.push(decode("sns topics", k.value(), v.value())?);
        }
        let mut subscriptions = Vec::new();
        for row in txn.open_table(SUBSCRIPTIONS)?.iter()? {
            let (k, v) = row?;
            subscriptions.push(decode("sns subscriptions", k.value(), v.value())?);
        }
        let mut deliveries = Vec::new();
        for row in txn.open_table(DELIVERIES)?.iter()? {
            let (k, v) = row?;
            deliveries.push(decode("sns deliveries", &k.value().to_string(), v.value())?);
        }
        Ok(Loaded {
            topics,
            subscriptions,
            deliveries,
        })
    }

    /// Applies one change: topics and subscriptions written or removed, deliveries added or
    /// removed, all in one transaction.
    pub fn apply(&self, change: &Change<'_>) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut topics = txn.open_table(TOPICS)?;
            for t in change.put_topics {
                topics.insert(t.arn.as_str(), encode(t).as_slice())?;
            }
            for arn in change.delete_topics {
                topics.remove(arn.as_str())?;
            }
            let mut subs = txn.open_table(SUBSCRIPTIONS)?;
            for s in change.put_subscriptions {
                subs.insert(s.arn.as_str(), encode(s).as_slice())?;
            }
            for arn in change.delete_subscriptions {
                subs.remove(arn.as_str())?;
            }
            let mut deliveries = txn.open_table(DELIVERIES)?;
            for d in change.put_deliveries {
                deliveries.insert(d.id, encode(d).as_slice())?;
            }
            for id in change.delete_deliveries {
                deliveries.remove(*id)?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// One transaction's worth of writes.
#[derive(Default)]
pub struct Change<'a> {
    pub put_topics: &'a [TopicRecord],
    pub delete_topics: &'a [String],
    pub put_subscriptions: &'a [SubscriptionRecord],
    pub delete_subscriptions: &'a [String],
    pub put_deliveries: &'a [PendingDelivery],
    pub delete_deliveries: &'a [u64],
}
