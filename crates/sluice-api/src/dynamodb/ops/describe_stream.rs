//! DescribeStream (DynamoDB Streams): one shard per stream, with its sequence number range.

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
    let range = ctx.store.record_range(&s.arn)?;
    let mut seq_range = json!({
        "StartingSequenceNumber": sequence_number(range.map_or(s.first_seq, |r| r.0)),
    });
    if let (Some(end), Value::Object(map)) = (s.ended_at, &mut seq_range) {
        map.insert(
            "EndingSequenceNumber".into(),
            json!(sequence_number(range.map_or(end, |r| r.1))),
        );
    }
    let shards = if input.exclusive_start_shard_id.as_deref() == Some(s.shard_id.as_str()) {
        vec![]
    } else {
        vec![json!({"ShardId": s.shard_id, "SequenceNumberRange": seq_range})]
    };
    let mut key_schema = vec![json!({"AttributeName": s.hash.name, "KeyType": "HASH"})];
    if let Some(r) = &s.range {
        key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
    }
    Ok(json!({"StreamDescription": {
        "StreamArn": s.arn,
        "StreamLabel": s.label,
        "StreamStatus": if s.enabled() { "ENABLED" } else { "DISABLED" },
        "StreamViewType": s.view_type,
        "CreationRequestDateTime": epoch(s.created_ms),
        "TableName": s.table,
        "KeySchema": key_schema,
        "Shards": shards,
    }}))
}
