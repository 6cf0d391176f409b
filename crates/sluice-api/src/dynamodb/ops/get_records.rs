//! GetRecords (DynamoDB Streams): at most 1,000 records of one shard from an iterator; no
//! NextShardIterator once a closed shard (rolled over, or its stream disabled) is read to
//! its end.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use super::get_shard_iterator::{ITERATOR_TTL_MS, decode, encode};
use crate::dynamodb::{Ctx, DynamoWireError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub shard_iterator: String,
    pub limit: Option<i64>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    v.length("shardIterator", &input.shard_iterator, 1, 2048);
    v.range("limit", input.limit, 1, 1000);
    DynamoWireError::violations(v)?;
    let (arn, shard, counter, issued) = decode(&input.shard_iterator)
        .ok_or_else(|| DynamoWireError::validation("Invalid ShardIterator"))?;
    if ctx.now_ms.saturating_sub(issued) > ITERATOR_TTL_MS {
        return Err(DynamoWireError::new(
            "ExpiredIteratorException",
            "Iterator expired. The iterator was created over 15 minutes ago.",
        ));
    }
    let s = ctx.store.stream(&arn)?;
    let Some(sh) = s.shard(&shard) else {
        return Err(DynamoWireError::new(
            "ResourceNotFoundException",
            format!("Requested resource not found: Shard does not exist: {shard}"),
        ));
    };
    // Records trimmed since the iterator was issued are gone.
    if counter <= s.trimmed_through && counter >= sh.first_seq {
        return Err(super::get_shard_iterator::trimmed());
    }
    let limit = usize::try_from(input.limit.unwrap_or(1000)).unwrap_or(1000);
    let mut records = ctx.store.read_records(&arn, counter, limit)?;
    // A closed shard's records end at its last counter; later ones are its child's.
    let read_all = records.len() < limit;
    let before = records.len();
    records.retain(|(c, _)| sh.holds(*c));
    let next = records.last().map_or(counter, |(c, _)| c + 1);
    // A closed shard gets no more records: a read that reached its end exhausts it.
    let exhausted = !sh.is_open() && (read_all || records.len() < before);
    let list: Vec<Value> = records.into_iter().map(|(_, r)| r.record).collect();
    let mut out = json!({"Records": list});
    if !exhausted && let Value::Object(map) = &mut out {
        map.insert(
            "NextShardIterator".into(),
            json!(encode(&arn, &shard, next, ctx.now_ms)),
        );
    }
    Ok(out)
}
