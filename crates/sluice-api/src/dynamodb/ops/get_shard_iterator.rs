//! GetShardIterator (DynamoDB Streams): TRIM_HORIZON, LATEST, AT_ / AFTER_SEQUENCE_NUMBER.
//!
//! An iterator is base64 of `arn \n shard \n counter \n issued ms`; it expires after 15
//! minutes, as AWS's do.

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::stream::parse_sequence_number;

use crate::dynamodb::{Ctx, DynamoWireError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub stream_arn: String,
    #[serde(default)]
    pub shard_id: String,
    #[serde(default)]
    pub shard_iterator_type: String,
    pub sequence_number: Option<String>,
}

/// How long an iterator stays valid.
pub const ITERATOR_TTL_MS: u64 = 15 * 60 * 1000;

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    v.length("streamArn", &input.stream_arn, 37, 1024);
    v.length("shardId", &input.shard_id, 28, 65);
    v.one_of(
        "shardIteratorType",
        &input.shard_iterator_type,
        &[
            "TRIM_HORIZON",
            "LATEST",
            "AT_SEQUENCE_NUMBER",
            "AFTER_SEQUENCE_NUMBER",
        ],
        "[TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]",
    );
    DynamoWireError::violations(v)?;
    let s = ctx.store.stream(&input.stream_arn)?;
    let Some(shard) = s.shard(&input.shard_id) else {
        return Err(DynamoWireError::new(
            "ResourceNotFoundException",
            format!(
                "Requested resource not found: Shard does not exist: {}",
                input.shard_id
            ),
        ));
    };
    let seq = || -> Result<u64, DynamoWireError> {
        let text = input.sequence_number.as_deref().ok_or_else(|| {
            DynamoWireError::validation(
                "Must provide a sequence number for AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER iterators",
            )
        })?;
        let c = parse_sequence_number(text).ok_or_else(|| {
            DynamoWireError::validation(format!("Invalid SequenceNumber: {text}"))
        })?;
        if c <= s.trimmed_through {
            return Err(trimmed());
        }
        Ok(c)
    };
    let counter = match input.shard_iterator_type.as_str() {
        "TRIM_HORIZON" => shard.first_seq.max(s.trimmed_through.saturating_add(1)),
        "LATEST" => match shard.end {
            Some(end) => end + 1,
            None => ctx.store.next_counter()?,
        },
        "AT_SEQUENCE_NUMBER" => seq()?,
        _ => seq()?.saturating_add(1),
    };
    Ok(json!({"ShardIterator": encode(&s.arn, &shard.shard_id, counter, ctx.now_ms)}))
}

/// Reading records retention has removed.
pub fn trimmed() -> DynamoWireError {
    DynamoWireError::new(
        "TrimmedDataAccessException",
        "The operation attempted to read past the oldest stream record in a shard.",
    )
}

pub fn encode(arn: &str, shard: &str, counter: u64, now_ms: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{arn}\n{shard}\n{counter}\n{now_ms}"))
}

/// `(arn, shard, counter, issued ms)` of an iterator this server issued.
pub fn decode(text: &str) -> Option<(String, String, u64, u64)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    let s = String::from_utf8(bytes).ok()?;
    let mut parts = s.split('\n');
    let arn = parts.next()?.to_owned();
    let shard = parts.next()?.to_owned();
    let counter = parts.next()?.parse().ok()?;
    let issued = parts.next()?.parse().ok()?;
    Some((arn, shard, counter, issued))
}
