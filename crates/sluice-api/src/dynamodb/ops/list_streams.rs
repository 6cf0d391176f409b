//! ListStreams (DynamoDB Streams): every stream, or one table's, oldest first.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use crate::dynamodb::{Ctx, DynamoWireError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_stream_arn: Option<String>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    v.range("limit", input.limit, 1, 100);
    DynamoWireError::violations(v)?;
    let limit = usize::try_from(input.limit.unwrap_or(100)).unwrap_or(100);
    let mut streams = ctx.store.list_streams()?;
    streams.retain(|s| input.table_name.as_ref().is_none_or(|t| &s.table == t));
    if let Some(start) = &input.exclusive_start_stream_arn
        && let Some(i) = streams.iter().position(|s| &s.arn == start)
    {
        streams.drain(..=i);
    }
    let more = streams.len() > limit;
    streams.truncate(limit);
    let list: Vec<Value> = streams
        .iter()
        .map(|s| json!({"StreamArn": s.arn, "TableName": s.table, "StreamLabel": s.label}))
        .collect();
    let mut out = json!({"Streams": list});
    if more && let (Some(last), Value::Object(map)) = (streams.last(), &mut out) {
        map.insert("LastEvaluatedStreamArn".into(), json!(last.arn));
    }
    Ok(out)
}
