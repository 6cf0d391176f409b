//! DescribeStream (DynamoDB Streams): the shards of a stream with their lineage
//! (`ParentShardId`) and sequence number ranges, paged by Limit / ExclusiveStartShardId.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::stream::sequence_number;

use crate::dynamodb::{Ctx, DynamoWireError, epoch};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub stream_arn: String,
    pub limit: Option<i64>,
    pub exclusive_start_shard_id: Option<String>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    v.length("streamArn", &input.stream_arn, 37, 1024);
    v.range("limit", input.limit, 1, 100);
    DynamoWireError::violations(v)?;
    let s = ctx.store.stream(&input.stream_arn)?;
    let limit = usize::try_from(input.limit.unwrap_or(100)).unwrap_or(100);
    let mut all = s.shards();
    if let Some(start) = &input.exclusive_start_shard_id {
        match all.iter().position(|sh| &sh.shard_id == start) {
            Some(i) => {
                all.drain(..=i);
            }
            None => all.clear(),
        }
    }
    let more = all.len() > limit;
    all.truncate(limit);
    let mut shards = Vec::with_capacity(all.len());
    for sh in &all {
        // Trimmed records are gone; the range starts at the oldest one kept.
        let from = sh.first_seq.max(s.trimmed_through.saturating_add(1));
        let range = ctx
            .store
            .record_range(&s.arn, from, sh.end.unwrap_or(u64::MAX))?;
        let mut seq_range = json!({
            "StartingSequenceNumber": sequence_number(range.map_or(from, |r| r.0)),
        });
        if let (Some(end), Value::Object(map)) = (sh.end, &mut seq_range) {
            map.insert(
                "EndingSequenceNumber".into(),
                json!(sequence_number(range.map_or(end, |r| r.1))),
            );
        }
        let mut shard = json!({"ShardId": sh.shard_id, "SequenceNumberRange": seq_range});
        if let (Some(p), Value::Object(map)) = (&sh.parent, &mut shard) {
            map.insert("ParentShardId".into(), json!(p));
        }
        shards.push(shard);
    }
    let mut key_schema = vec![json!({"AttributeName": s.hash.name, "KeyType": "HASH"})];
    if let Some(r) = &s.range {
        key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
    }
    let mut out = json!({"StreamDescription": {
        "StreamArn": s.arn,
        "StreamLabel": s.label,
        "StreamStatus": if s.enabled() { "ENABLED" } else { "DISABLED" },
        "StreamViewType": s.view_type,
        "CreationRequestDateTime": epoch(s.created_ms),
        "TableName": s.table,
        "KeySchema": key_schema,
        "Shards": shards,
    }});
    if more
        && let (Some(last), Some(Value::Object(desc))) =
            (all.last(), out.get_mut("StreamDescription"))
    {
        desc.insert("LastEvaluatedShardId".into(), json!(last.shard_id));
    }
    Ok(out)
}
