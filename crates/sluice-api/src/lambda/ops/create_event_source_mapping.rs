//! CreateEventSourceMapping: `POST /2015-03-31/event-source-mappings/` → 202.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sluice_core::arn::SourceArn;
use sluice_core::kinesis::SequenceNumber;
use sluice_core::mapping::{
    CreateRequest, EventSourceMapping, MappingError, StartingPosition, validate,
};
use sluice_core::source::{Checkpoint, StartAt};

use crate::AppState;
use crate::lambda::model::mapping_json;
use crate::lambda::{StoreCatalog, blocking, now_ms, parse_json};
use crate::protocol::rest_json::LambdaError;

pub async fn handle(State(app): State<AppState>, body: Bytes) -> Result<Response, LambdaError> {
    let req: CreateRequest = parse_json(&body)?;
    let mapping = blocking(move || create(&app, &req)).await??;
    Ok((StatusCode::ACCEPTED, axum::Json(mapping)).into_response())
}

/// Validates, checks for a duplicate and stores atomically; returns the response body.
pub fn create(app: &AppState, req: &CreateRequest) -> Result<serde_json::Value, LambdaError> {
    let m = plan(app, req)?;
    Ok(mapping_json(&m, &app.scope, false))
}

/// The mapping as stored, for callers (the config file) that want the record.
pub fn plan(app: &AppState, req: &CreateRequest) -> Result<EventSourceMapping, LambdaError> {
    let catalog = StoreCatalog::load(&app.store, &app.kinesis, &app.sqs, &app.sns)?;
    let uuid = uuid::Uuid::new_v4().to_string();
    let m = validate::plan_create(req, &app.scope, &catalog, uuid, now_ms())?;
    let mapping_arn = app.scope.mapping_arn(&m.uuid);
    let tags = req.tags.as_ref().map(|t| (mapping_arn.as_str(), t));
    // DynamoDB streams are pinned before the mapping exists: a consumer started at once
    // would otherwise read rolled-over shards from their start.
    let dynamodb = matches!(m.source, SourceArn::DynamoDbStream { .. });
    if dynamodb {
        pin_latest(app, &m)?;
    }
    let inserted = app.store.insert_mapping(&m, tags, |existing| {
        existing.source.as_str() == m.source.as_str() && existing.function_arn == m.function_arn
    })?;
    if let Err(existing) = inserted {
        if dynamodb {
            app.store.delete_checkpoints(&m.uuid)?;
        }
        return Err(MappingError::Conflict(existing.conflict_message(&m.function_name)).into());
    }
    if !dynamodb {
        pin_latest(app, &m)?;
    }
    tracing::info!(mapping_id = %m.uuid, source = %m.source, function = %m.function_arn, "Event source mapping created.");
    Ok(m)
}

/// LATEST means "records put after Create returned": resolve it now, per shard, to each
/// shard's tip, so nothing put after this answer is missed while consumers start (AWS may
/// miss such records; users complain about it).
fn pin_latest(app: &AppState, m: &EventSourceMapping) -> Result<(), LambdaError> {
    let stream = match &m.source {
        SourceArn::KinesisStream { stream, .. } | SourceArn::KinesisConsumer { stream, .. } => {
            stream
        }
        SourceArn::DynamoDbStream { .. } => return pin_latest_dynamodb(app, m),
        _ => return Ok(()),
    };
    let latest = m
        .settings
        .stream
        .as_ref()
        .is_some_and(|s| s.starting_position == StartingPosition::Latest);
    if !latest {
        return Ok(());
    }
    let Ok(meta) = app.kinesis.stream(stream) else {
        return Ok(());
    };
    let mut checkpoints = Vec::new();
    for shard in &meta.layout.shards {
        let c = if shard.closed {
            Checkpoint::ShardEnd
        } else {
            let end = app.kinesis.shard_log(&meta, shard.ordinal)?.end();
            match end.checked_sub(1) {
                Some(last) => Checkpoint::After(
                    SequenceNumber::new(meta.epoch_ms, shard.ordinal, last).to_string(),
                ),
                None => Checkpoint::At(StartAt::TrimHorizon),
            }
        };
        checkpoints.push((shard.id(), c));
    }
    let refs: Vec<(&str, Checkpoint)> = checkpoints
        .iter()
        .map(|(id, c)| (id.as_str(), c.clone()))
        .collect();
    app.store.put_checkpoints(&m.uuid, &refs)?;
    Ok(())
}

/// [`pin_latest`] for a DynamoDB stream: shards closed by rollover are done, the open one
/// starts after the last record written so far.
fn pin_latest_dynamodb(app: &AppState, m: &EventSourceMapping) -> Result<(), LambdaError> {
    let latest = m
        .settings
        .stream
        .as_ref()
        .is_some_and(|s| s.starting_position == StartingPosition::Latest);
    if !latest {
        return Ok(());
    }
    let (Ok(stream), Ok(next)) = (
        app.dynamodb.stream(m.source.as_str()),
        app.dynamodb.next_counter(),
    ) else {
        return Ok(());
    };
    let tip = sluice_store::dynamodb::stream::sequence_number(next.saturating_sub(1));
    let checkpoints: Vec<(String, Checkpoint)> = stream
        .shards()
        .into_iter()
        .map(|s| {
            let c = if s.is_open() {
                Checkpoint::After(tip.clone())
            } else {
                Checkpoint::ShardEnd
            };
            (s.shard_id, c)
        })
        .collect();
    let refs: Vec<(&str, Checkpoint)> = checkpoints
        .iter()
        .map(|(id, c)| (id.as_str(), c.clone()))
        .collect();
    app.store.put_checkpoints(&m.uuid, &refs)?;
    Ok(())
}
