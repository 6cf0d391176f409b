//! The embedded DynamoDB Streams as a [`ShardDirectory`] and [`ShardReader`]: reads a
//! stream's records in process (never over HTTP) and waits on the store's change counter.
//!
//! A stream's shards form a chain (each rollover closes the open shard and opens its
//! child); the last one closes when the stream is disabled or its table deleted. Cursor
//! tokens are the store's record counters; a shard's records are the counters in its range. Records are delivered in AWS's shape plus
//! `eventSourceARN`; the filter view is the record itself (with its typed `dynamodb`
//! object), as AWS matches DynamoDB filters.

use std::sync::Mutex;

use crate::now_ms;
use serde_json::Value;
use sluice_core::source::{
    BoxFuture, Cursor, ReadBatch, RecordContext, ShardDirectory, ShardInfo, ShardReader,
    SourceError, StartAt,
};
use sluice_core::stream::StreamRecord;
use sluice_store::dynamodb::stream::{parse_sequence_number, sequence_number};
use sluice_store::dynamodb::{DynamoError, DynamoStore, ShardMeta, StreamMeta};
use tokio::sync::watch;

/// One table stream, for one mapping's consumers.
pub struct EmbeddedDynamoStream {
    store: DynamoStore,
    arn: String,
    changes: tokio::sync::Mutex<watch::Receiver<u64>>,
    /// The shard list (id, closed) when [`ShardDirectory::shards`] last looked.
    seen: Mutex<Option<Vec<(String, bool)>>>,
}

impl EmbeddedDynamoStream {
    pub fn new(store: DynamoStore, arn: String) -> Self {
        let changes = tokio::sync::Mutex::new(store.subscribe());
        Self {
            store,
            arn,
            changes,
            seen: Mutex::new(None),
        }
    }

    async fn meta(&self) -> Result<StreamMeta, SourceError> {
        let store = self.store.clone();
        let arn = self.arn.clone();
        blocking(move || store.stream(&arn).map_err(source_error)).await
    }
}

/// The Streams API writes `userIdentity` (TTL deletions) as `{"PrincipalId", "Type"}`; the
/// Lambda event carries it in lower camel case, `{"type", "principalId"}`, as AWS's TTL
/// filter examples match it.
fn lambda_user_identity(event: &mut serde_json::Map<String, Value>) {
    let Some(Value::Object(id)) = event.get("userIdentity") else {
        return;
    };
    let mut out = serde_json::Map::new();
    if let Some(t) = id.get("Type") {
        out.insert("type".into(), t.clone());
    }
    if let Some(p) = id.get("PrincipalId") {
        out.insert("principalId".into(), p.clone());
    }
    event.insert("userIdentity".into(), Value::Object(out));
}

fn source_error(e: DynamoError) -> SourceError {
    match e {
        DynamoError::ResourceNotFound(m) => SourceError::NotFound(m),
        other => SourceError::Transient(other.to_string()),
    }
}

/// The shard list as [`ShardDirectory::changed`] compares it.
fn signature(meta: &StreamMeta) -> Vec<(String, bool)> {
    meta.shards()
        .into_iter()
        .map(|s| (s.shard_id.clone(), !s.is_open()))
        .collect()
}

fn shard_of(meta: &StreamMeta, shard: &str) -> Result<ShardMeta, SourceError> {
    meta.shard(shard)
        .ok_or_else(|| SourceError::NotFound(format!("no shard {shard}")))
}

fn counter_of(cursor: &Cursor) -> Result<u64, SourceError> {
    cursor
        .token
        .parse()
        .map_err(|_| SourceError::NotFound(format!("bad cursor {}", cursor.token)))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SourceError::Transient(e.to_string()))?
}

impl ShardDirectory for EmbeddedDynamoStream {
    fn shards(&self) -> BoxFuture<'_, Result<Vec<ShardInfo>, SourceError>> {
        Box::pin(async move {
            // A stream that is gone (dropped 24 h after it was closed) reads as `None`, so
            // `changed` waits for the next change instead of answering at once forever.
            let meta = self.meta().await;
            if let Ok(mut seen) = self.seen.lock() {
                *seen = meta.as_ref().ok().map(signature);
            }
            let meta = meta?;
            Ok(meta
                .shards()
                .into_iter()
                .map(|s| ShardInfo {
                    closed: !s.is_open(),
                    parents: s.parent.into_iter().collect(),
                    shard_id: s.shard_id,
                })
                .collect())
        })
    }

    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut rx = self.changes.lock().await;
            loop {
                let seen = self.seen.lock().ok().and_then(|s| s.clone());
                let now = self.meta().await.ok().map(|m| signature(&m));
                if now != seen {
                    return;
                }
                // Item writes bump the counter too; only a change of the shard list counts.
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

impl ShardReader for EmbeddedDynamoStream {
    fn open(&self, shard: &str, at: &StartAt) -> BoxFuture<'_, Result<Cursor, SourceError>> {
        let shard = shard.to_owned();
        let at = at.clone();
        Box::pin(async move {
            let meta = self.meta().await?;
            let sh = shard_of(&meta, &shard)?;
            let horizon = sh.first_seq.max(meta.trimmed_through.saturating_add(1));
            let store = self.store.clone();
            let counter = blocking(move || {
                Ok(match at {
                    // AT_TIMESTAMP is refused for DynamoDB streams at Create.
                    StartAt::TrimHorizon | StartAt::AtTimestamp(_) => horizon,
                    StartAt::Latest => match sh.end {
                        Some(end) => end + 1,
                        None => store.next_counter().map_err(source_error)?,
                    },
                    StartAt::AfterSequence(seq) => {
                        parse_sequence_number(&seq).map_or(horizon, |c| c.saturating_add(1))
                    }
                })
            })
            .await?;
            Ok(Cursor {
                shard_id: shard,
                token: counter.to_string(),
            })
        })
    }

    fn read<'a>(
        &'a self,
        cursor: &'a Cursor,
        max_records: usize,
        context: &'a RecordContext,
        want_views: bool,
    ) -> BoxFuture<'a, Result<ReadBatch, SourceError>> {
        Box::pin(async move {
            let meta = self.meta().await?;
            let sh = shard_of(&meta, &cursor.shard_id)?;
            let from = counter_of(cursor)?;
            let store = self.store.clone();
            let arn = self.arn.clone();
            let max = max_records.max(1);
            let mut stored =
                blocking(move || store.read_records(&arn, from, max).map_err(source_error)).await?;
            let read = stored.len();
            // Records past a closed shard's end are its child's.
            stored.retain(|(c, _)| sh.holds(*c));
            let now = now_ms();
            let full = stored.len() >= max;
            let shard_ended = !sh.is_open() && (read < max || stored.len() < read);
            let next = stored.last().map_or(from, |(c, _)| c + 1);
            let millis_behind = match stored.last() {
                Some((_, r)) if full => now.saturating_sub(r.created_ms),
                _ => 0,
            };
            let mut records = Vec::with_capacity(stored.len());
            let mut views = Vec::new();
            for (counter, change) in stored {
                let mut event = change.record;
                if let Value::Object(map) = &mut event {
                    map.insert(
                        "eventSourceARN".into(),
                        Value::String(context.event_source_arn.clone()),
                    );
                    lambda_user_identity(map);
                }
                if want_views {
                    views.push(event.clone());
                }
                records.push(StreamRecord::new(
                    sequence_number(counter),
                    change.partition_key,
                    change.created_ms,
                    event,
                ));
            }
            Ok(ReadBatch {
                records,
                filter_views: views,
                next: Cursor {
                    shard_id: cursor.shard_id.clone(),
                    token: next.to_string(),
                },
                millis_behind,
                shard_ended,
            })
        })
    }

    fn wait<'a>(&'a self, cursor: &'a Cursor) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(from) = counter_of(cursor) else {
                return;
            };
            // Subscribe first, then look: a write between the consumer's last read and now
            // is seen either way (no lost wakeup).
            let mut rx = self.store.subscribe();
            loop {
                let store = self.store.clone();
                let arn = self.arn.clone();
                let shard = cursor.shard_id.clone();
                let ready = blocking(move || {
                    let meta = store.stream(&arn).map_err(source_error)?;
                    let closed = meta.shard(&shard).is_none_or(|s| !s.is_open());
                    let more = !store
                        .read_records(&arn, from, 1)
                        .map_err(source_error)?
                        .is_empty();
                    Ok(closed || more)
                })
                .await;
                if !matches!(ready, Ok(false)) {
                    return;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
    }

    fn caught_up(&self, cursor: &Cursor) -> bool {
        let Ok(from) = counter_of(cursor) else {
            return false;
        };
        let Ok(meta) = self.store.stream(&self.arn) else {
            return false;
        };
        let open = meta.shard(&cursor.shard_id).is_some_and(|s| s.is_open());
        open && self
            .store
            .read_records(&self.arn, from, 1)
            .is_ok_and(|r| r.is_empty())
    }
}
