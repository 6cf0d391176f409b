//! UntagResource: `DELETE /2017-03-31/tags/{ARN}?tagKeys=a&tagKeys=b` → 204.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::tag_resource::require_taggable;
use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::form_pairs;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(arn): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let keys: Vec<String> = form_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v)
        .collect();
    blocking(move || -> Result<(), LambdaError> {
        require_taggable(&app.store, &app.scope, &arn)?;
        app.store.update_tags(&arn, |t| {
            for k in &keys {
                t.remove(k);
            }
        })?;
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
