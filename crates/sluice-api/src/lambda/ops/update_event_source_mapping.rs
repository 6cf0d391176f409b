//! UpdateEventSourceMapping: `PUT /2015-03-31/event-source-mappings/{UUID}` → 202.
//!
//! The stored settings are overlaid with the request and re-validated as a whole (an SQS
//! `BatchSize` of 11 needs a window even when only the batch size changes).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sluice_core::mapping::validate::{self, NOT_FOUND};
use sluice_core::mapping::{MappingError, UpdateRequest};

use crate::AppState;
use crate::lambda::model::mapping_json;
use crate::lambda::{StoreCatalog, blocking, now_ms, parse_json};
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let req: UpdateRequest = parse_json(&body)?;
    let out = blocking(move || -> Result<_, LambdaError> {
        let catalog = StoreCatalog::load(&app.store, &app.kinesis, &app.sqs, &app.sns)?;
        let others = app.store.list_mappings()?;
        let changed = app.store.modify_mapping(&uuid, |current| {
            let next = validate::plan_update(current, &req, &app.scope, &catalog, now_ms())?;
            // Pointing a mapping at another function must not make it a duplicate.
            if next.function_arn != current.function_arn
                && let Some(existing) = others.iter().find(|o| {
                    o.uuid != current.uuid
                        && o.source.as_str() == next.source.as_str()
                        && o.function_arn == next.function_arn
                })
            {
                return Err(MappingError::Conflict(existing.conflict_message(&next.function_name)));
            }
            Ok(Some(next))
        })?;
        match changed {
            None => Err(LambdaError::not_found(NOT_FOUND)),
            Some(Err(e)) => Err(LambdaError::from(e)),
            Some(Ok(Some(m))) => {
                tracing::info!(mapping_id = %m.uuid, state = m.state.as_str(), "Event source mapping updated.");
                Ok(mapping_json(&m, &app.scope, false))
            }
            Some(Ok(None)) => Err(MappingError::NotFound(NOT_FOUND.into()).into()),
        }
    })
    .await??;
    Ok((StatusCode::ACCEPTED, axum::Json(out)).into_response())
}
