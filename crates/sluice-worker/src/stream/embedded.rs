//! The embedded Kinesis as a [`ShardDirectory`] and [`ShardReader`]: reads shard logs in
//! process (never over HTTP), waits on their append notifications, and learns of reshards
//! from the store's change counter.
//!
//! Cursor tokens are record indices in the shard's log.

use crate::now_ms;
use base64::Engine;
use serde_json::Value;
use sluice_core::kinesis::SequenceNumber;
use sluice_core::kinesis::shards::{parse_shard_id, shard_id};
use sluice_core::source::{
    BoxFuture, Cursor, ReadBatch, RecordContext, ShardDirectory, ShardInfo, ShardReader,
    SourceError, StartAt,
};
use sluice_core::stream::StreamRecord;
use sluice_core::stream::event::{KinesisSource, kinesis_record, kinesis_record_raw};
use sluice_store::kinesis::{KinesisError, KinesisStore, StreamRecord as StreamMeta};
use tokio::sync::watch;

/// Most bytes one read takes from a log (a batch is cut to 6 MB later).
const READ_BYTES: usize = 8 * 1024 * 1024;

/// One embedded stream, for one mapping's consumers.
pub struct EmbeddedKinesis {
    kinesis: KinesisStore,
    stream: String,
    changes: tokio::sync::Mutex<watch::Receiver<u64>>,
}

impl EmbeddedKinesis {
    pub fn new(kinesis: KinesisStore, stream: String) -> Self {
        let changes = tokio::sync::Mutex::new(kinesis.subscribe());
        Self {
            kinesis,
            stream,
            changes,
        }
    }

    fn meta(&self) -> Result<StreamMeta, SourceError> {
        self.kinesis.stream(&self.stream).map_err(source_error)
    }
}

fn source_error(e: KinesisError) -> SourceError {
    match e {
        KinesisError::ResourceNotFound(m) => SourceError::NotFound(m),
        other => SourceError::Transient(other.to_string()),
    }
}

fn ordinal(shard: &str) -> Result<u32, SourceError> {
    parse_shard_id(shard).ok_or_else(|| SourceError::NotFound(format!("no shard {shard}")))
}

fn index_of(cursor: &Cursor) -> Result<u64, SourceError> {
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

impl ShardDirectory for EmbeddedKinesis {
    fn shards(&self) -> BoxFuture<'_, Result<Vec<ShardInfo>, SourceError>> {
        Box::pin(async move {
            let meta = self.meta()?;
            Ok(meta
                .layout
                .shards
                .iter()
                .map(|s| ShardInfo {
                    shard_id: s.id(),
                    parents: s.parents().map(shard_id).collect(),
                    closed: s.closed,
                })
                .collect())
        })
    }

    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut rx = self.changes.lock().await;
            // An error means the store is gone: nothing will change any more.
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

impl ShardReader for EmbeddedKinesis {
    fn open(&self, shard: &str, at: &StartAt) -> BoxFuture<'_, Result<Cursor, SourceError>> {
        let shard = shard.to_owned();
        let at = at.clone();
        Box::pin(async move {
            let meta = self.meta()?;
            let ordinal = ordinal(&shard)?;
            let kinesis = self.kinesis.clone();
            let index = blocking(move || {
                let log = kinesis
                    .shard_log(&meta, ordinal)
                    .map_err(|e| SourceError::Transient(e.to_string()))?;
                let now = now_ms();
                let horizon = kinesis
                    .trim_horizon(&meta, &log, now)
                    .map_err(|e| SourceError::Transient(e.to_string()))?;
                Ok(match at {
                    StartAt::TrimHorizon => horizon,
                    StartAt::Latest => log.end(),
                    StartAt::AtTimestamp(ms) => log
                        .index_at_time(ms)
                        .map_err(|e| SourceError::Transient(e.to_string()))?
                        .max(horizon),
                    StartAt::AfterSequence(seq) => match SequenceNumber::parse(&seq) {
                        Some(s) if s.stream_epoch_ms == meta.epoch_ms && s.shard == ordinal => {
                            s.index.saturating_add(1).max(horizon)
                        }
                        // A checkpoint of another incarnation of the stream: start over.
                        _ => horizon,
                    },
                })
            })
            .await?;
            Ok(Cursor {
                shard_id: shard,
                token: index.to_string(),
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
            let meta = self.meta()?;
            let ordinal = ordinal(&cursor.shard_id)?;
            let index = index_of(cursor)?;
            let kinesis = self.kinesis.clone();
            let shard_closed = meta.layout.get(ordinal).is_some_and(|s| s.closed);
            let source = KinesisSource {
                shard_id: cursor.shard_id.clone(),
                stream_arn: context.event_source_arn.clone(),
                region: context.region.clone(),
                invoke_identity_arn: context.invoke_identity_arn.clone(),
            };
            let shard = cursor.shard_id.clone();
            blocking(move || {
                let transient = |e: sluice_store::StoreError| SourceError::Transient(e.to_string());
                let log = kinesis.shard_log(&meta, ordinal).map_err(transient)?;
                let now = now_ms();
                let from = index.max(kinesis.trim_horizon(&meta, &log, now).map_err(transient)?);
                let stored = log
                    .read(from, max_records.max(1), READ_BYTES)
                    .map_err(transient)?;
                let next = stored.last().map_or(from, |r| r.index + 1);
                let end = log.end();
                let millis_behind = if next < end {
                    log.arrival_of(next)
                        .map_err(transient)?
                        .map_or(0, |a| now.saturating_sub(a))
                } else {
                    0
                };
                let mut records = Vec::with_capacity(stored.len());
                let mut views = Vec::with_capacity(stored.len());
                for r in stored {
                    let seq = SequenceNumber::new(meta.epoch_ms, ordinal, r.index).to_string();
                    if want_views {
                        let event =
                            kinesis_record(&source, &seq, &r.partition_key, &r.data, r.arrival_ms);
                        views.push(filter_view(&event, &r.data));
                    }
                    let event =
                        kinesis_record_raw(&source, &seq, &r.partition_key, &r.data, r.arrival_ms);
                    records.push(StreamRecord::from_raw(
                        seq,
                        r.partition_key,
                        r.arrival_ms,
                        event,
                    ));
                }
                Ok(ReadBatch {
                    records,
                    filter_views: views,
                    next: Cursor {
                        shard_id: shard,
                        token: next.to_string(),
                    },
                    millis_behind,
                    shard_ended: shard_closed && next >= end,
                })
            })
            .await
        })
    }

    fn wait<'a>(&'a self, cursor: &'a Cursor) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(meta) = self.meta() else {
                // The stream is gone; wake on the next metadata change.
                let _ = self.changed().await;
                return;
            };
            let (Ok(ordinal), Ok(index)) = (ordinal(&cursor.shard_id), index_of(cursor)) else {
                return;
            };
            let Ok(log) = self.kinesis.shard_log(&meta, ordinal) else {
                return;
            };
            // Subscribe first, then look: a change between the consumer's last read and now
            // is seen either way (no lost wakeup).
            let mut appended = log.subscribe();
            let mut changes = self.kinesis.subscribe();
            let closed_now = self
                .meta()
                .ok()
                .and_then(|m| m.layout.get(ordinal).map(|s| s.closed));
            if closed_now != Some(false) {
                return;
            }
            tokio::select! {
                _ = appended.wait_for(|end| *end > index) => {}
                // A reshard may close this shard: the consumer must look again.
                _ = changes.changed() => {}
            }
        })
    }

    fn caught_up(&self, cursor: &Cursor) -> bool {
        let Ok(meta) = self.meta() else {
            return false;
        };
        let (Ok(ordinal), Ok(index)) = (ordinal(&cursor.shard_id), index_of(cursor)) else {
            return false;
        };
        let open = meta.layout.get(ordinal).is_some_and(|s| !s.closed);
        open && self
            .kinesis
            .shard_log(&meta, ordinal)
            .is_ok_and(|log| log.end() <= index)
    }
}

/// What FilterCriteria match a Kinesis record against: the record, with `data` decoded and
/// parsed at the top level when it is JSON (and absent otherwise, so a `data` pattern drops
/// the record), as AWS does.
fn filter_view(event: &Value, data: &[u8]) -> Value {
    let mut view = event.clone();
    if let Value::Object(map) = &mut view {
        map.remove("eventSource");
        map.remove("eventSourceARN");
        map.remove("awsRegion");
        match serde_json::from_slice::<Value>(data) {
            Ok(parsed) => {
                map.insert("data".into(), parsed);
            }
            Err(_) => {
                // Not JSON: keep the base64 text, which no object pattern matches.
                let b64 = base64::engine::general_purpose::STANDARD.encode(data);
                map.insert("data".into(), Value::String(b64));
            }
        }
    }
    view
}
