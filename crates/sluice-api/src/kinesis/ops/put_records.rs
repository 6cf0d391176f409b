//! PutRecords: `{StreamName | StreamARN, Records: [{Data, PartitionKey, ExplicitHashKey?}]}`
//! → `{FailedRecordCount, Records, EncryptionType}`; at most 500 records and 5 MiB; answered
//! once every record is on disk.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_core::kinesis::hash_key_of;
use sluice_core::kinesis::shards::shard_id;
use sluice_store::kinesis::PutRecord;

use crate::kinesis::{Body, Ctx, KinesisWireError, blob, input};

/// Largest record: data plus partition key.
pub const MAX_RECORD: usize = 1024 * 1024;
/// Largest PutRecords request: data plus keys of all records.
pub const MAX_REQUEST: usize = 5 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    records: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    data: Option<String>,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
}

/// The model's constraints on one record; `prefix` names the list member (`records.1.member.`).
pub fn check_record(
    v: &mut Violations,
    prefix: &str,
    key: Option<&str>,
    data: Option<&[u8]>,
    explicit: Option<&str>,
) {
    match key {
        None => v.not_null(&format!("{prefix}partitionKey")),
        Some(k) => {
            v.length(&format!("{prefix}partitionKey"), k, 1, 256);
        }
    }
    match data {
        None => v.not_null(&format!("{prefix}data")),
        Some(d) if d.len() + key.map_or(0, str::len) > MAX_RECORD => v.push(format!(
            "Value at '{prefix}data' failed to satisfy constraint: Member must have length less than or equal to {MAX_RECORD}"
        )),
        Some(_) => {}
    }
    if let Some(e) = explicit {
        let ok = e == "0"
            || (!e.starts_with('0')
                && !e.is_empty()
                && e.len() <= 39
                && e.bytes().all(|b| b.is_ascii_digit()));
        v.pattern(
            &format!("{prefix}explicitHashKey"),
            e,
            ok,
            "0|([1-9]\\d{0,38})",
        );
    }
}

/// An ExplicitHashKey as a number; above 2^128-1 is refused as AWS refuses it.
pub fn explicit_hash_key(e: Option<&str>) -> Result<Option<u128>, KinesisWireError> {
    match e {
        None => Ok(None),
        Some(s) => s.parse::<u128>().map(Some).map_err(|_| {
            KinesisWireError::invalid(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {s}"
            ))
        }),
    }
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    let entries = req.records.unwrap_or_default();
    if entries.is_empty() {
        v.push("Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1".into());
    } else if entries.len() > 500 {
        v.push(format!("Value '[{}]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500", entries.len()));
    }
    let mut records = Vec::with_capacity(entries.len());
    let mut total = 0usize;
    for (i, e) in entries.iter().enumerate() {
        let data = e.data.as_deref().map(|d| blob("Data", d)).transpose()?;
        check_record(
            &mut v,
            &format!("records.{}.member.", i + 1),
            e.partition_key.as_deref(),
            data.as_deref(),
            e.explicit_hash_key.as_deref(),
        );
        total +=
            data.as_ref().map_or(0, Vec::len) + e.partition_key.as_ref().map_or(0, String::len);
        records.push((e, data));
    }
    v.finish().map_err(KinesisWireError::validation)?;
    if total > MAX_REQUEST {
        return Err(KinesisWireError::invalid(format!(
            "Records size exceeds {MAX_REQUEST} bytes limit."
        )));
    }
    let stream = ctx.active_stream(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let mut puts = Vec::with_capacity(records.len());
    for (e, data) in records {
        puts.push(PutRecord {
            explicit_hash_key: explicit_hash_key(e.explicit_hash_key.as_deref())?,
            partition_key: e.partition_key.clone().unwrap_or_default(),
            data: data.unwrap_or_default(),
        });
    }
    // With shard limits on, records over their shard's limit fail one by one, as on AWS.
    let mut throttled = vec![None; puts.len()];
    if let Some(t) = ctx.kinesis.throttle() {
        for (i, p) in puts.iter().enumerate() {
            let key = p
                .explicit_hash_key
                .unwrap_or_else(|| hash_key_of(&p.partition_key));
            if let Some(shard) = stream.layout.route(key)
                && !t.admit_write(
                    &stream.name,
                    stream.epoch_ms,
                    shard.ordinal,
                    p.data.len() + p.partition_key.len(),
                    ctx.now_ms,
                )
            {
                throttled[i] = Some(shard.id());
            }
        }
    }
    let admitted: Vec<PutRecord> = puts
        .into_iter()
        .zip(&throttled)
        .filter(|(_, t)| t.is_none())
        .map(|(p, _)| p)
        .collect();
    let mut put = ctx
        .kinesis
        .put_records(&stream, admitted, ctx.now_ms)
        .await?
        .into_iter();
    let failed = throttled.iter().filter(|t| t.is_some()).count();
    let account = ctx.kinesis.account().to_owned();
    let entries: Vec<Value> = throttled
        .iter()
        .map(|t| match t {
            Some(shard) => json!({
                "ErrorCode": "ProvisionedThroughputExceededException",
                "ErrorMessage": format!("Rate exceeded for shard {shard} in stream {} under account {account}.", stream.name),
            }),
            None => match put.next() {
                Some((shard, seq)) => json!({
                    "SequenceNumber": seq.to_string(),
                    "ShardId": shard_id(shard),
                }),
                None => json!({"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}),
            },
        })
        .collect();
    Ok(json!({
        "FailedRecordCount": failed,
        "Records": entries,
        "EncryptionType": "NONE",
    }))
}
