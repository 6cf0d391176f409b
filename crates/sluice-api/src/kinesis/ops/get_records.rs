//! GetRecords: `{ShardIterator, Limit?, StreamARN?}` → `{Records, NextShardIterator?,
//! MillisBehindLatest, ChildShards?}`.
//!
//! At most `Limit` (default and maximum 10,000) records and 10 MiB. At the end of a closed
//! shard the answer has no NextShardIterator and lists the shard's children, as AWS does.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_core::kinesis::shards::shard_id;
use sluice_core::kinesis::{IteratorError, SequenceNumber, ShardIterator};

use super::blocking;
use base64::Engine;

use crate::kinesis::{Body, Ctx, KinesisWireError, Reply, epoch, input};

/// Most bytes one GetRecords returns.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    shard_iterator: Option<String>,
    limit: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Reply, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    match &req.shard_iterator {
        None => v.not_null("shardIterator"),
        Some(s) => {
            v.length("shardIterator", s, 1, 512);
        }
    }
    v.range("limit", req.limit, 1, 10_000);
    v.finish().map_err(KinesisWireError::validation)?;
    let now = ctx.now_ms;
    let it = ShardIterator::decode(
        req.shard_iterator.as_deref().unwrap_or_default(),
        ctx.kinesis.iterator_key(),
        now,
    )
    .map_err(|e| match e {
        IteratorError::Invalid => KinesisWireError::invalid(e.to_string()),
        IteratorError::Expired { .. } => {
            KinesisWireError::new("ExpiredIteratorException", e.to_string())
        }
    })?;
    let stream = ctx.kinesis.stream(&it.stream)?;
    if stream.epoch_ms != it.stream_epoch_ms {
        return Err(ctx.kinesis.not_found(&it.stream).into());
    }
    let shard = stream
        .layout
        .get(it.shard)
        .cloned()
        .ok_or_else(|| KinesisWireError::invalid("Invalid ShardIterator."))?;
    if let Some(t) = ctx.kinesis.throttle()
        && !t.admit_read(&stream.name, stream.epoch_ms, shard.ordinal, now)
    {
        return Err(KinesisWireError::new(
            "ProvisionedThroughputExceededException",
            format!(
                "Rate exceeded for shard {} in stream {} under account {}.",
                shard.id(),
                stream.name,
                ctx.kinesis.account()
            ),
        ));
    }
    let limit = usize::try_from(req.limit.unwrap_or(10_000)).unwrap_or(10_000);
    let kinesis = ctx.kinesis.clone();
    let key = ctx.kinesis.iterator_key().clone();
    blocking(move || {
        let log = kinesis.shard_log(&stream, shard.ordinal)?;
        let from = it.index.max(kinesis.trim_horizon(&stream, &log, now)?);
        let records = log.read(from, limit, MAX_BYTES)?;
        let next = records.last().map_or(from, |r| r.index + 1);
        if let Some(t) = kinesis.throttle() {
            let bytes = records
                .iter()
                .map(|r| r.data.len() + r.partition_key.len())
                .sum();
            t.charge_read(&stream.name, stream.epoch_ms, shard.ordinal, bytes, now);
        }
        let end = log.end();
        let millis_behind = if next < end {
            log.arrival_of(next)?.map_or(0, |a| now.saturating_sub(a))
        } else {
            0
        };
        // The answer is written as JSON directly (the hot path of every reader): records
        // first, then the rest. CBOR clients get it converted at the edge.
        let mut out = Vec::with_capacity(
            records
                .iter()
                .map(|r| r.data.len() * 4 / 3 + 160)
                .sum::<usize>()
                + 256,
        );
        out.extend_from_slice(b"{\"Records\":[");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"SequenceNumber\":\"");
            out.extend_from_slice(
                SequenceNumber::new(stream.epoch_ms, shard.ordinal, r.index)
                    .to_string()
                    .as_bytes(),
            );
            out.extend_from_slice(b"\",\"ApproximateArrivalTimestamp\":");
            out.extend_from_slice(epoch(r.arrival_ms).to_string().as_bytes());
            out.extend_from_slice(b",\"Data\":\"");
            let at = out.len();
            let len = base64::encoded_len(r.data.len(), true).unwrap_or(0);
            out.resize(at + len, 0);
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(&r.data, &mut out[at..])
                .unwrap_or(0);
            out.truncate(at + written);
            out.extend_from_slice(b"\",\"PartitionKey\":");
            serde_json::to_writer(&mut out, &r.partition_key)
                .map_err(|e| KinesisWireError::serialization(e.to_string()))?;
            out.push(b'}');
        }
        out.extend_from_slice(b"]");
        let mut tail = serde_json::Map::new();
        tail.insert("MillisBehindLatest".into(), json!(millis_behind));
        if shard.closed && next >= end {
            let children: Vec<Value> = stream
                .layout
                .children(shard.ordinal)
                .into_iter()
                .map(|c| {
                    json!({
                        "ShardId": c.id(),
                        "ParentShards": c.parents().map(shard_id).collect::<Vec<_>>(),
                        "HashKeyRange": {
                            "StartingHashKey": c.range.start.to_string(),
                            "EndingHashKey": c.range.end.to_string(),
                        },
                    })
                })
                .collect();
            tail.insert("ChildShards".into(), json!(children));
        } else {
            tail.insert(
                "NextShardIterator".into(),
                json!(
                    ShardIterator {
                        index: next,
                        issued_ms: now,
                        ..it
                    }
                    .encode(&key)
                ),
            );
        }
        for (k, v) in tail {
            out.push(b',');
            serde_json::to_writer(&mut out, &k)
                .map_err(|e| KinesisWireError::serialization(e.to_string()))?;
            out.push(b':');
            serde_json::to_writer(&mut out, &v)
                .map_err(|e| KinesisWireError::serialization(e.to_string()))?;
        }
        out.push(b'}');
        Ok(Reply::Json(out))
    })
    .await
}
