//! GetShardIterator: `{StreamName | StreamARN, ShardId, ShardIteratorType,
//! StartingSequenceNumber?, Timestamp?}` → `{ShardIterator}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_core::kinesis::{SequenceNumber, ShardIterator};

use super::{blocking, find_shard};
use crate::kinesis::{Body, Ctx, KinesisWireError, input};

const TYPES: [&str; 5] = [
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    shard_id: Option<String>,
    shard_iterator_type: Option<String>,
    starting_sequence_number: Option<String>,
    timestamp: Option<f64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    match &req.shard_id {
        None => v.not_null("shardId"),
        Some(s) => {
            v.length("shardId", s, 1, 128);
        }
    }
    match &req.shard_iterator_type {
        None => v.not_null("shardIteratorType"),
        Some(t) => v.one_of(
            "shardIteratorType",
            t,
            &TYPES,
            "[AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
        ),
    }
    if let Some(s) = &req.starting_sequence_number
        && !sluice_core::kinesis::sequence::is_decimal(s)
    {
        v.pattern("startingSequenceNumber", s, false, "0|([1-9]\\d{0,128})");
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let stream = ctx.stream(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let shard_id = req.shard_id.unwrap_or_default();
    let kind = req.shard_iterator_type.unwrap_or_default();
    let shard = find_shard(ctx.kinesis, &stream, &shard_id)?.ordinal;
    let by_sequence = matches!(
        kind.as_str(),
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER"
    );
    match (by_sequence, &req.starting_sequence_number) {
        (true, None) => {
            return Err(KinesisWireError::invalid(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and no StartingSequenceNumber."
            )));
        }
        (false, Some(_)) if kind != "AT_TIMESTAMP" => {
            return Err(KinesisWireError::invalid(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and also a StartingSequenceNumber."
            )));
        }
        _ => {}
    }
    let now = ctx.now_ms;
    let kinesis = ctx.kinesis.clone();
    let account = kinesis.account().to_owned();
    let index = blocking(move || {
        let log = kinesis.shard_log(&stream, shard)?;
        let index = match kind.as_str() {
            "TRIM_HORIZON" => kinesis.trim_horizon(&stream, &log, now)?,
            "LATEST" => log.end(),
            "AT_TIMESTAMP" => {
                let Some(ts) = req.timestamp else {
                    return Err(KinesisWireError::invalid(
                        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                    ));
                };
                let ms = (ts * 1000.0).max(0.0) as u64;
                if ms > now {
                    return Err(KinesisWireError::invalid(format!(
                        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {ms}, currentTimestampInMillis: {now}"
                    )));
                }
                log.index_at_time(ms)?.max(kinesis.trim_horizon(&stream, &log, now)?)
            }
            _ => {
                let given = req.starting_sequence_number.unwrap_or_default();
                let seq = SequenceNumber::parse(&given)
                    .filter(|s| s.stream_epoch_ms == stream.epoch_ms && s.shard == shard)
                    .ok_or_else(|| {
                        KinesisWireError::invalid(format!(
                            "StartingSequenceNumber {given} used in GetShardIterator on shard {shard_id} in stream {} under account {account} is invalid because it did not come from this stream.",
                            stream.name
                        ))
                    })?;
                let index = if kind == "AFTER_SEQUENCE_NUMBER" {
                    seq.index.saturating_add(1)
                } else {
                    seq.index
                };
                index.max(kinesis.trim_horizon(&stream, &log, now)?).min(log.end())
            }
        };
        Ok((index, stream))
    })
    .await?;
    let (index, stream) = index;
    let token = ShardIterator {
        stream: stream.name.clone(),
        stream_epoch_ms: stream.epoch_ms,
        shard,
        index,
        issued_ms: now,
    }
    .encode(ctx.kinesis.iterator_key());
    Ok(json!({ "ShardIterator": token }))
}
