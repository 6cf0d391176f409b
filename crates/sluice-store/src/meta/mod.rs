//! Metadata: functions, event source mappings, tags and declared sources, in one redb file.
//!
//! Every table maps a string key to a JSON-encoded record. Every write is one redb
//! transaction with immediate durability (fsync before commit returns), so a client that got
//! a success answer never loses the change, even to `kill -9`. Read-modify-write operations
//! (create-if-unique, update) run inside one write transaction, so two concurrent requests
//! cannot both pass a uniqueness or state check.
//!
//! Writes are few and small (control-plane calls); keeping JSON values makes the file
//! readable with any redb tool and lets records gain fields without a migration.
//!
//! After each committed mapping change the store bumps a [`tokio::sync::watch`] counter, so
//! the coordinator wakes on change instead of polling.

use std::collections::BTreeMap;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sluice_core::function::{AliasRecord, FunctionRecord};
use sluice_core::mapping::EventSourceMapping;
use sluice_core::source::Checkpoint;
use tokio::sync::watch;

use crate::{DataDir, StoreError};

const FUNCTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("functions");
/// `<function>/<10-digit version>` → the published version's [`FunctionRecord`].
const FUNCTION_VERSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("function_versions");
/// `<function>` → the last version number handed out (numbers are never reused).
const FUNCTION_VERSION_SEQ: TableDefinition<&str, u64> =
    TableDefinition::new("function_version_seq");
/// `<function>/<alias>` → [`AliasRecord`].
const FUNCTION_ALIASES: TableDefinition<&str, &[u8]> = TableDefinition::new("function_aliases");
const MAPPINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("mappings");
const TAGS: TableDefinition<&str, &[u8]> = TableDefinition::new("tags");
const SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("sources");
const KINESIS_STREAMS: TableDefinition<&str, &[u8]> = TableDefinition::new("kinesis_streams");
const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// `<mapping uuid>/<shard id>` → [`Checkpoint`].
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");
/// `<destination arn>/<20-digit counter>` → an on-failure record waiting for its queue or
/// topic (the embedded SQS/SNS drain it once they exist).
const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("outbox");

/// What kind of resource a declared source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceType {
    KinesisStream,
    SqsQueue,
    SnsTopic,
    DynamoDbStream,
}

/// A stream, queue, topic or table stream known to this Sluice. Until the embedded
/// services land, these come from the config file; the control plane checks sources and
/// destinations against them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub arn: String,
    pub kind: SourceType,
    pub name: String,
    /// Kind-specific settings as declared (e.g. `shards`, `stream_view_type`).
    pub attributes: BTreeMap<String, String>,
}

/// The metadata store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct MetaStore {
    db: Arc<Database>,
    changes: Arc<watch::Sender<u64>>,
}

impl std::fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaStore").finish_non_exhaustive()
    }
}

fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain structs to JSON cannot fail (string keys, no custom impls).
    serde_json::to_vec(value).unwrap_or_default()
}

impl MetaStore {
    /// Opens (or creates) the metadata database of `dir`.
    pub fn open(dir: &DataDir) -> Result<Self, StoreError> {
        let path = dir.meta_path();
        let db = match crate::create_db(&path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::InUse(dir.root().display().to_string()));
            }
            Err(e) => {
                return Err(StoreError::Foreign(format!(
                    "cannot open metadata database {}: {e}",
                    path.display()
                )));
            }
        };
        let txn = db.begin_write()?;
        for def in [
            FUNCTIONS,
            MAPPINGS,
            TAGS,
            SOURCES,
            KINESIS_STREAMS,
            SETTINGS,
            CHECKPOINTS,
            OUTBOX,
            FUNCTION_VERSIONS,
            FUNCTION_ALIASES,
        ] {
            txn.open_table(def)?;
        }
        txn.open_table(FUNCTION_VERSION_SEQ)?;
        txn.commit()?;
        let (tx, _) = watch::channel(0);
        Ok(Self {
            db: Arc::new(db),
            changes: Arc::new(tx),
        })
    }

    /// The database, shared with the embedded DynamoDB (its `ddb_*` tables live here, so
    /// the control plane's catalog reads table streams in the same snapshot).
    pub(crate) fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// A receiver that changes after every committed mapping write.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn get<T: DeserializeOwned>(
        &self,
        def: TableDefinition<&str, &[u8]>,
        name: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(def)?;
        match table.get(key)? {
            Some(v) => decode(name, key, v.value()).map(Some),
            None => Ok(None),
        }
    }

    fn all<T: DeserializeOwned>(
        &self,
        def: TableDefinition<&str, &[u8]>,
        name: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(def)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push(decode(name, k.value(), v.value())?);
        }
        Ok(out)
    }

    fn put<T: Serialize>(
        &self,
        def: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(def)?.insert(key, encode(value).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    fn remove(&self, def: TableDefinition<&str, &[u8]>, key: &str) -> Result<bool, StoreError> {
        let txn = self.db.begin_write()?;
        let removed = txn.open_table(def)?.remove(key)?.is_some();
        txn.commit()?;
        Ok(removed)
    }

    // ---- functions ----

    pub fn get_function(&self, name: &str) -> Result<Option<FunctionRecord>, StoreError> {
        self.get(FUNCTIONS, "functions", name)
    }

    /// All functions, ordered by name.
    pub fn list_functions(&self) -> Result<Vec<FunctionRecord>, StoreError> {
        self.all(FUNCTIONS, "functions")
    }

    /// Stores `f`, replacing any function of that name.
    pub fn put_function(&self, f: &FunctionRecord) -> Result<(), StoreError> {
        self.put(FUNCTIONS, &f.name, f)
    }

    /// Stores `f` unless a function of that name exists; `false` if it does.
    pub fn create_function(&self, f: &FunctionRecord) -> Result<bool, StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(FUNCTIONS)?;
            if table.get(f.name.as_str())?.is_some() {
                return Ok(false);
            }
            table.insert(f.name.as_str(), encode(f).as_slice())?;
        }
        txn.commit()?;
        Ok(true)
    }

    /// Reads, changes and writes one function atomically (a `RevisionId` check cannot race
    /// another update). `Ok(None)` when there is no such function; `Ok(Some(Err(e)))` when
    /// `change` refused, and then nothing is written.
    pub fn modify_function<E>(
        &self,
        name: &str,
        change: impl FnOnce(&FunctionRecord) -> Result<FunctionRecord, E>,
    ) -> Result<Option<Result<FunctionRecord, E>>, StoreError> {
        let txn = self.db.begin_write()?;
        let next = {
            let mut table = txn.open_table(FUNCTIONS)?;
            let current: FunctionRecord = match table.get(name)? {
                Some(v) => decode("functions", name, v.value())?,
                None => return Ok(None),
            };
            match change(&current) {
                Err(e) => return Ok(Some(Err(e))),
                Ok(next) => {
                    table.insert(name, encode(&next).as_slice())?;
                    next
                }
            }
        };
        txn.commit()?;
        Ok(Some(Ok(next)))
    }

    /// Removes a function with its versions and aliases; `false` if there was none.
    pub fn delete_function(&self, name: &str) -> Result<bool, StoreError> {
        let txn = self.db.begin_write()?;
        let removed = txn.open_table(FUNCTIONS)?.remove(name)?.is_some();
        let prefix = format!("{name}/");
        for def in [FUNCTION_VERSIONS, FUNCTION_ALIASES] {
            let mut table = txn.open_table(def)?;
            let keys: Vec<String> = table
                .range(prefix.as_str()..)?
                .filter_map(|e| e.ok())
                .map(|(k, _)| k.value().to_owned())
                .take_while(|k| k.starts_with(&prefix))
                .collect();
            for k in keys {
                table.remove(k.as_str())?;
            }
        }
        txn.open_table(FUNCTION_VERSION_SEQ)?.remove(name)?;
        txn.commit()?;
        Ok(removed)
    }

    // ---- versions and aliases ----

    fn version_key(name: &str, version: u64) -> String {
        format!("{name}/{version:010}")
    }

    /// Publishes `$LATEST` of `name` in one transaction. `decide` sees `$LATEST`, the last
    /// published version (if any) and the number a new one would get; it returns the
    /// snapshot to store as that version, `None` to answer the last one (nothing changed
    /// since it), or `Err` to write nothing. `Ok(None)` when there is no such function.
    #[allow(clippy::type_complexity)]
    pub fn publish_version<E>(
        &self,
        name: &str,
        decide: impl FnOnce(
            &FunctionRecord,
            Option<&FunctionRecord>,
            u64,
        ) -> Result<Option<FunctionRecord>, E>,
    ) -> Result<Option<Result<FunctionRecord, E>>, StoreError> {
        let txn = self.db.begin_write()?;
        let published = {
            let latest: FunctionRecord = match txn.open_table(FUNCTIONS)?.get(name)? {
                Some(v) => decode("functions", name, v.value())?,
                None => return Ok(None),
            };
            let mut seq = txn.open_table(FUNCTION_VERSION_SEQ)?;
            let last_n = seq.get(name)?.map_or(0, |v| v.value());
            let mut versions = txn.open_table(FUNCTION_VERSIONS)?;
            let last_key = Self::version_key(name, last_n);
            let last: Option<FunctionRecord> = match versions.get(last_key.as_str())? {
                Some(v) => Some(decode("function_versions", &last_key, v.value())?),
                None => None,
            };
            match decide(&latest, last.as_ref(), last_n + 1) {
                Err(e) => return Ok(Some(Err(e))),
                Ok(None) => match last {
                    Some(l) => return Ok(Some(Ok(l))),
                    None => return Ok(None),
                },
                Ok(Some(mut record)) => {
                    record.version = Some(last_n + 1);
                    versions.insert(
                        Self::version_key(name, last_n + 1).as_str(),
                        encode(&record).as_slice(),
                    )?;
                    seq.insert(name, last_n + 1)?;
                    record
                }
            }
        };
        txn.commit()?;
        Ok(Some(Ok(published)))
    }

    /// Deletes published version `version` of `name` unless aliases point at it. `Ok(false)`
    /// when there was no such version; `Err(aliases)` (by name) when aliases reference it.
    #[allow(clippy::type_complexity)]
    pub fn delete_version(
        &self,
        name: &str,
        version: u64,
    ) -> Result<Result<bool, Vec<String>>, StoreError> {
        let txn = self.db.begin_write()?;
        {
            let aliases = txn.open_table(FUNCTION_ALIASES)?;
            let prefix = format!("{name}/");
            let mut users = Vec::new();
            for entry in aliases.range(prefix.as_str()..)? {
                let (k, v) = entry?;
                if !k.value().starts_with(&prefix) {
                    break;
                }
                let a: AliasRecord = decode("function_aliases", k.value(), v.value())?;
                if a.function_version == version.to_string() {
                    users.push(a.name);
                }
            }
            if !users.is_empty() {
                return Ok(Err(users));
            }
        }
        let removed = txn
            .open_table(FUNCTION_VERSIONS)?
            .remove(Self::version_key(name, version).as_str())?
            .is_some();
        txn.commit()?;
        Ok(Ok(removed))
    }

    /// Published version `version` of `name`.
    pub fn get_version(
        &self,
        name: &str,
        version: u64,
    ) -> Result<Option<FunctionRecord>, StoreError> {
        self.get(
            FUNCTION_VERSIONS,
            "function_versions",
            &Self::version_key(name, version),
        )
    }

    /// Published versions of `name`, oldest first.
    pub fn list_versions(&self, name: &str) -> Result<Vec<FunctionRecord>, StoreError> {
        self.prefixed(FUNCTION_VERSIONS, "function_versions", name)
    }

    fn prefixed<T: DeserializeOwned>(
        &self,
        def: TableDefinition<&str, &[u8]>,
        table_name: &'static str,
        name: &str,
    ) -> Result<Vec<T>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(def)?;
        let prefix = format!("{name}/");
        let mut out = Vec::new();
        for entry in table.range(prefix.as_str()..)? {
            let (k, v) = entry?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            out.push(decode(table_name, k.value(), v.value())?);
        }
        Ok(out)
    }

    /// Every `name:qualifier` that exists besides `$LATEST`: versions and aliases (the
    /// control plane's catalog).
    pub fn function_qualifiers(&self) -> Result<Vec<String>, StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for entry in txn.open_table(FUNCTION_VERSIONS)?.iter()? {
            let (k, _) = entry?;
            if let Some((name, n)) = k.value().split_once('/')
                && let Ok(n) = n.parse::<u64>()
            {
                out.push(format!("{name}:{n}"));
            }
        }
        for entry in txn.open_table(FUNCTION_ALIASES)?.iter()? {
            let (k, _) = entry?;
            if let Some((name, alias)) = k.value().split_once('/') {
                out.push(format!("{name}:{alias}"));
            }
        }
        Ok(out)
    }

    /// The function a qualifier names: `None`/`$LATEST`, a version number, or an alias
    /// (followed to its version). `None` when any of it does not exist.
    pub fn resolve_function(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<FunctionRecord>, StoreError> {
        match qualifier {
            None | Some("$LATEST") => self.get_function(name),
            Some(q) if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) => match q.parse() {
                Ok(n) => self.get_version(name, n),
                Err(_) => Ok(None),
            },
            Some(alias) => match self.get_alias(name, alias)? {
                Some(a) if a.function_version == "$LATEST" => self.get_function(name),
                Some(a) => match a.function_version.parse() {
                    Ok(n) => self.get_version(name, n),
                    Err(_) => Ok(None),
                },
                None => Ok(None),
            },
        }
    }

    /// The function a (possibly qualified) function ARN names, as a mapping holds it.
    pub fn function_for_arn(&self, arn: &str) -> Result<Option<FunctionRecord>, StoreError> {
        let name = sluice_core::arn::function_name_of(arn);
        let qualifier = arn
            .split(":function:")
            .nth(1)
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, q)| q);
        self.resolve_function(name, qualifier)
    }

    pub fn get_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Option<AliasRecord>, StoreError> {
        self.get(
            FUNCTION_ALIASES,
            "function_aliases",
            &format!("{function}/{alias}"),
        )
    }

    /// Aliases of `function`, by name.
    pub fn list_aliases(&self, function: &str) -> Result<Vec<AliasRecord>, StoreError> {
        self.prefixed(FUNCTION_ALIASES, "function_aliases", function)
    }

    /// Stores `a` unless an alias of that name exists; `false` if it does.
    pub fn create_alias(&self, a: &AliasRecord) -> Result<bool, StoreError> {
        let key = format!("{}/{}", a.function, a.name);
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(FUNCTION_ALIASES)?;
            if table.get(key.as_str())?.is_some() {
                return Ok(false);
            }
            table.insert(key.as_str(), encode(a).as_slice())?;
        }
        txn.commit()?;
        Ok(true)
    }

    /// Reads, changes and writes one alias atomically; `Ok(None)` when there is none.
    pub fn modify_alias<E>(
        &self,
        function: &str,
        alias: &str,
        change: impl FnOnce(&AliasRecord) -> Result<AliasRecord, E>,
    ) -> Result<Option<Result<AliasRecord, E>>, StoreError> {
        let key = format!("{function}/{alias}");
        let txn = self.db.begin_write()?;
        let next = {
            let mut table = txn.open_table(FUNCTION_ALIASES)?;
            let current: AliasRecord = match table.get(key.as_str())? {
                Some(v) => decode("function_aliases", &key, v.value())?,
                None => return Ok(None),
            };
            match change(&current) {
                Err(e) => return Ok(Some(Err(e))),
                Ok(next) => {
                    table.insert(key.as_str(), encode(&next).as_slice())?;
                    next
                }
            }
        };
        txn.commit()?;
        Ok(Some(Ok(next)))
    }

    /// Removes an alias; `false` if there was none.
    pub fn delete_alias(&self, function: &str, alias: &str) -> Result<bool, StoreError> {
        self.remove(FUNCTION_ALIASES, &format!("{function}/{alias}"))
    }

    // ---- mappings ----

    pub fn get_mapping(&self, uuid: &str) -> Result<Option<EventSourceMapping>, StoreError> {
        self.get(MAPPINGS, "mappings", uuid)
    }

    /// All mappings, ordered by UUID.
    pub fn list_mappings(&self) -> Result<Vec<EventSourceMapping>, StoreError> {
        self.all(MAPPINGS, "mappings")
    }

    /// Inserts `m`, and its tags under `tags.0`, unless an existing mapping `conflicts`; then
    /// returns that mapping and writes nothing.
    pub fn insert_mapping(
        &self,
        m: &EventSourceMapping,
        tags: Option<(&str, &BTreeMap<String, String>)>,
        conflicts: impl Fn(&EventSourceMapping) -> bool,
    ) -> Result<Result<(), EventSourceMapping>, StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(MAPPINGS)?;
            for entry in table.iter()? {
                let (k, v) = entry?;
                let existing: EventSourceMapping = decode("mappings", k.value(), v.value())?;
                if conflicts(&existing) {
                    return Ok(Err(existing));
                }
            }
            table.insert(m.uuid.as_str(), encode(m).as_slice())?;
        }
        if let Some((arn, tags)) = tags.filter(|(_, t)| !t.is_empty()) {
            txn.open_table(TAGS)?.insert(arn, encode(tags).as_slice())?;
        }
        txn.commit()?;
        self.notify();
        Ok(Ok(()))
    }

    /// Reads, changes and writes one mapping atomically. `change` returns the new value, or
    /// `None` to remove the mapping (its tags go with it). `Ok(None)` when there is no such
    /// mapping; `Ok(Some(Err(e)))` when `change` refused.
    pub fn modify_mapping<E>(
        &self,
        uuid: &str,
        change: impl FnOnce(&EventSourceMapping) -> Result<Option<EventSourceMapping>, E>,
    ) -> Result<Option<Result<Option<EventSourceMapping>, E>>, StoreError> {
        let txn = self.db.begin_write()?;
        let outcome = {
            let mut table = txn.open_table(MAPPINGS)?;
            let current: EventSourceMapping = match table.get(uuid)? {
                Some(v) => decode("mappings", uuid, v.value())?,
                None => return Ok(None),
            };
            match change(&current) {
                Err(e) => return Ok(Some(Err(e))),
                Ok(Some(next)) => {
                    table.insert(uuid, encode(&next).as_slice())?;
                    Some(next)
                }
                Ok(None) => {
                    table.remove(uuid)?;
                    None
                }
            }
        };
        if outcome.is_none() {
            let mut checkpoints = txn.open_table(CHECKPOINTS)?;
            let prefix = format!("{uuid}/");
            let keys: Vec<String> = checkpoints
                .range(prefix.as_str()..)?
                .filter_map(|e| e.ok())
                .map(|(k, _)| k.value().to_owned())
                .take_while(|k| k.starts_with(&prefix))
                .collect();
            for k in keys {
                checkpoints.remove(k.as_str())?;
            }
            drop(checkpoints);
            let mut tags = txn.open_table(TAGS)?;
            let keys: Vec<String> = tags
                .iter()?
                .filter_map(|e| e.ok())
                .map(|(k, _)| k.value().to_owned())
                .filter(|k| k.ends_with(&format!(":event-source-mapping:{uuid}")))
                .collect();
            for k in keys {
                tags.remove(k.as_str())?;
            }
        }
        txn.commit()?;
        self.notify();
        Ok(Some(Ok(outcome)))
    }

    // ---- tags ----

    /// Tags of a resource ARN (empty when none).
    pub fn get_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.get(TAGS, "tags", arn)?.unwrap_or_default())
    }

    /// Applies `change` to a resource's tags atomically.
    pub fn update_tags(
        &self,
        arn: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(TAGS)?;
            let mut tags: BTreeMap<String, String> = match table.get(arn)? {
                Some(v) => decode("tags", arn, v.value())?,
                None => BTreeMap::new(),
            };
            change(&mut tags);
            if tags.is_empty() {
                table.remove(arn)?;
            } else {
                table.insert(arn, encode(&tags).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    // ---- sources ----

    pub fn get_source(&self, arn: &str) -> Result<Option<SourceRecord>, StoreError> {
        self.get(SOURCES, "sources", arn)
    }

    pub fn list_sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        self.all(SOURCES, "sources")
    }

    pub fn put_source(&self, s: &SourceRecord) -> Result<(), StoreError> {
        self.put(SOURCES, &s.arn, s)
    }

    // ---- generic records of other modules (Kinesis streams, settings) ----

    pub(crate) fn kinesis_get<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get(KINESIS_STREAMS, "kinesis_streams", name)
    }

    pub(crate) fn kinesis_all<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        self.all(KINESIS_STREAMS, "kinesis_streams")
    }

    pub(crate) fn kinesis_remove(&self, name: &str) -> Result<bool, StoreError> {
        self.remove(KINESIS_STREAMS, name)
    }

    /// Reads, changes and writes one stream record atomically; `change` sees `None` when
    /// there is none and returns the record to store (or `Err` to write nothing).
    pub(crate) fn kinesis_modify<T: Serialize + DeserializeOwned, E>(
        &self,
        name: &str,
        change: impl FnOnce(Option<T>) -> Result<T, E>,
    ) -> Result<Result<T, E>, StoreError> {
        let txn = self.db.begin_write()?;
        let next = {
            let mut table = txn.open_table(KINESIS_STREAMS)?;
            let current: Option<T> = match table.get(name)? {
                Some(v) => Some(decode("kinesis_streams", name, v.value())?),
                None => None,
            };
            match change(current) {
                Err(e) => return Ok(Err(e)),
                Ok(next) => {
                    table.insert(name, encode(&next).as_slice())?;
                    next
                }
            }
        };
        txn.commit()?;
        Ok(Ok(next))
    }

    // ---- checkpoints ----

    pub fn get_checkpoint(
        &self,
        mapping: &str,
        shard: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.get(CHECKPOINTS, "checkpoints", &format!("{mapping}/{shard}"))
    }

    /// Writes checkpoints of one mapping in one fsync'd transaction.
    pub fn put_checkpoints(
        &self,
        mapping: &str,
        checkpoints: &[(&str, Checkpoint)],
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(CHECKPOINTS)?;
            for (shard, c) in checkpoints {
                table.insert(format!("{mapping}/{shard}").as_str(), encode(c).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Removes every checkpoint of `mapping` (pinned for a mapping that was then not
    /// created).
    pub fn delete_checkpoints(&self, mapping: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(CHECKPOINTS)?;
            let prefix = format!("{mapping}/");
            let keys: Vec<String> = table
                .range(prefix.as_str()..)?
                .filter_map(|e| e.ok())
                .map(|(k, _)| k.value().to_owned())
                .take_while(|k| k.starts_with(&prefix))
                .collect();
            for k in keys {
                table.remove(k.as_str())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Every checkpoint of a mapping, by shard id.
    pub fn checkpoints(&self, mapping: &str) -> Result<BTreeMap<String, Checkpoint>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CHECKPOINTS)?;
        let prefix = format!("{mapping}/");
        let mut out = BTreeMap::new();
        for entry in table.range(prefix.as_str()..)? {
            let (k, v) = entry?;
            let Some(shard) = k.value().strip_prefix(&prefix) else {
                break;
            };
            out.insert(
                shard.to_owned(),
                decode("checkpoints", k.value(), v.value())?,
            );
        }
        Ok(out)
    }

    // ---- on-failure outbox ----

    /// Keeps an on-failure record for `destination` durably, in arrival order.
    pub fn push_outbox(
        &self,
        destination: &str,
        record: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(OUTBOX)?;
            let prefix = format!("{destination}/");
            let next = table
                .range(prefix.as_str()..)?
                .filter_map(|e| e.ok())
                .map(|(k, _)| k.value().to_owned())
                .take_while(|k| k.starts_with(&prefix))
                .count();
            table.insert(
                format!("{prefix}{next:020}").as_str(),
                encode(record).as_slice(),
            )?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The records kept for `destination`, oldest first.
    pub fn outbox(&self, destination: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(OUTBOX)?;
        let prefix = format!("{destination}/");
        let mut out = Vec::new();
        for entry in table.range(prefix.as_str()..)? {
            let (k, v) = entry?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            out.push(decode("outbox", k.value(), v.value())?);
        }
        Ok(out)
    }

    /// A 32-byte secret kept in the data dir, made on first use (iterator tokens).
    pub fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let txn = self.db.begin_write()?;
        let key = {
            let mut table = txn.open_table(SETTINGS)?;
            let existing = table.get(name)?.map(|v| v.value().to_vec());
            match existing.and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok()) {
                Some(k) => return Ok(k),
                None => {
                    let mut k = [0u8; 32];
                    k[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                    k[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                    table.insert(name, k.as_slice())?;
                    k
                }
            }
        };
        txn.commit()?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests;
