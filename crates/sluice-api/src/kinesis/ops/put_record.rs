//! PutRecord: `{StreamName | StreamARN, PartitionKey, Data, ExplicitHashKey?,
//! SequenceNumberForOrdering?}` → `{ShardId, SequenceNumber, EncryptionType}`; answered once
//! the record is on disk.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_core::kinesis::shards::shard_id;
use sluice_store::kinesis::PutRecord;

use super::put_records::{check_record, explicit_hash_key};
use crate::kinesis::{Body, Ctx, KinesisWireError, blob, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    partition_key: Option<String>,
    data: Option<String>,
    explicit_hash_key: Option<String>,
    sequence_number_for_ordering: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let data = req.data.as_deref().map(|d| blob("Data", d)).transpose()?;
    let mut v = Violations::default();
    check_record(
        &mut v,
        "",
        req.partition_key.as_deref(),
        data.as_deref(),
        req.explicit_hash_key.as_deref(),
    );
    if let Some(s) = &req.sequence_number_for_ordering
        && !sluice_core::kinesis::sequence::is_decimal(s)
    {
        v.pattern("sequenceNumberForOrdering", s, false, "0|([1-9]\\d{0,128})");
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let stream = ctx.active_stream(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let record = PutRecord {
        explicit_hash_key: explicit_hash_key(req.explicit_hash_key.as_deref())?,
        partition_key: req.partition_key.unwrap_or_default(),
        data: data.unwrap_or_default(),
    };
    if let Some(t) = ctx.kinesis.throttle() {
        let key = record
            .explicit_hash_key
            .unwrap_or_else(|| sluice_core::kinesis::hash_key_of(&record.partition_key));
        if let Some(shard) = stream.layout.route(key)
            && !t.admit_write(
                &stream.name,
                stream.epoch_ms,
                shard.ordinal,
                record.data.len() + record.partition_key.len(),
                ctx.now_ms,
            )
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
    }
    let put = ctx
        .kinesis
        .put_records(&stream, vec![record], ctx.now_ms)
        .await?;
    let (shard, seq) = put.first().copied().ok_or_else(|| {
        KinesisWireError::from(sluice_store::kinesis::KinesisError::InvalidArgument(
            "Nothing was written.".into(),
        ))
    })?;
    Ok(json!({
        "ShardId": shard_id(shard),
        "SequenceNumber": seq.to_string(),
        "EncryptionType": "NONE",
    }))
}
