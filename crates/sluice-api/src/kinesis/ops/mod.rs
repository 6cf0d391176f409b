//! One file per Kinesis operation.

mod add_tags_to_stream;
mod create_stream;
mod decrease_stream_retention_period;
mod delete_stream;
mod deregister_stream_consumer;
mod describe_stream;
mod describe_stream_consumer;
mod describe_stream_summary;
mod get_records;
mod get_shard_iterator;
mod increase_stream_retention_period;
mod list_shards;
mod list_stream_consumers;
mod list_streams;
mod list_tags_for_stream;
mod merge_shards;
mod put_record;
mod put_records;
mod register_stream_consumer;
mod remove_tags_from_stream;
mod split_shard;
mod update_shard_count;

use serde_json::{Value, json};
use sluice_core::kinesis::{SequenceNumber, ShardSpec};
use sluice_store::kinesis::{KinesisStore, StreamRecord};

use super::{Body, Ctx, KinesisWireError, Reply};
use crate::AppState;

/// Runs operation `op` on `input`.
pub async fn dispatch(app: &AppState, op: &str, input: Body) -> Result<Reply, KinesisWireError> {
    let ctx = Ctx {
        app,
        kinesis: &app.kinesis,
        now_ms: crate::lambda::now_ms(),
    };
    match op {
        "CreateStream" => create_stream::handle(&ctx, input).await.map(Reply::Value),
        "DeleteStream" => delete_stream::handle(&ctx, input).await.map(Reply::Value),
        "DescribeStream" => describe_stream::handle(&ctx, input).await.map(Reply::Value),
        "DescribeStreamSummary" => describe_stream_summary::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "ListStreams" => list_streams::handle(&ctx, input).await.map(Reply::Value),
        "ListShards" => list_shards::handle(&ctx, input).await.map(Reply::Value),
        "PutRecord" => put_record::handle(&ctx, input).await.map(Reply::Value),
        "PutRecords" => put_records::handle(&ctx, input).await.map(Reply::Value),
        "GetShardIterator" => get_shard_iterator::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "GetRecords" => get_records::handle(&ctx, input).await,
        "SplitShard" => split_shard::handle(&ctx, input).await.map(Reply::Value),
        "MergeShards" => merge_shards::handle(&ctx, input).await.map(Reply::Value),
        "UpdateShardCount" => update_shard_count::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "IncreaseStreamRetentionPeriod" => increase_stream_retention_period::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "DecreaseStreamRetentionPeriod" => decrease_stream_retention_period::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "AddTagsToStream" => add_tags_to_stream::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "RemoveTagsFromStream" => remove_tags_from_stream::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "ListTagsForStream" => list_tags_for_stream::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "RegisterStreamConsumer" => register_stream_consumer::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "DescribeStreamConsumer" => describe_stream_consumer::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "ListStreamConsumers" => list_stream_consumers::handle(&ctx, input)
            .await
            .map(Reply::Value),
        "DeregisterStreamConsumer" => deregister_stream_consumer::handle(&ctx, input)
            .await
            .map(Reply::Value),
        other => Err(KinesisWireError::new(
            "UnknownOperationException",
            format!("Operation {other} is not supported by this Sluice."),
        )),
    }
}

/// Store work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KinesisWireError> + Send + 'static,
) -> Result<T, KinesisWireError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "Kinesis task failed.");
        KinesisWireError {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            code: "InternalFailure",
            message: "An internal error occurred.".into(),
        }
    })?
}

/// A shard as DescribeStream and ListShards show it.
pub fn shard_json(
    kinesis: &KinesisStore,
    stream: &StreamRecord,
    shard: &ShardSpec,
) -> Result<Value, KinesisWireError> {
    let start = SequenceNumber::new(stream.epoch_ms, shard.ordinal, 0);
    let mut range = json!({"StartingSequenceNumber": start.to_string()});
    if shard.closed {
        let end = kinesis.shard_log(stream, shard.ordinal)?.end();
        let last = SequenceNumber::new(stream.epoch_ms, shard.ordinal, end.saturating_sub(1));
        range["EndingSequenceNumber"] = json!(last.to_string());
    }
    let mut v = json!({
        "ShardId": shard.id(),
        "HashKeyRange": {
            "StartingHashKey": shard.range.start.to_string(),
            "EndingHashKey": shard.range.end.to_string(),
        },
        "SequenceNumberRange": range,
    });
    if let Some(p) = shard.parent {
        v["ParentShardId"] = json!(sluice_core::kinesis::shards::shard_id(p));
    }
    if let Some(p) = shard.adjacent_parent {
        v["AdjacentParentShardId"] = json!(sluice_core::kinesis::shards::shard_id(p));
    }
    Ok(v)
}

pub fn stream_mode(stream: &StreamRecord) -> Value {
    json!({"StreamMode": if stream.on_demand { "ON_DEMAND" } else { "PROVISIONED" }})
}

/// Looks up a shard by id for GetShardIterator and friends.
pub fn find_shard<'a>(
    kinesis: &KinesisStore,
    stream: &'a StreamRecord,
    id: &str,
) -> Result<&'a ShardSpec, KinesisWireError> {
    sluice_core::kinesis::shards::parse_shard_id(id)
        .and_then(|o| stream.layout.get(o))
        .ok_or_else(|| {
            KinesisWireError::new(
                "ResourceNotFoundException",
                format!(
                    "Shard {id} in stream {} under account {} does not exist",
                    stream.name,
                    kinesis.account()
                ),
            )
        })
}
