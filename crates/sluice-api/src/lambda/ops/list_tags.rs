//! ListTags: `GET /2017-03-31/tags/{ARN}` → `{"Tags": {...}}`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::tag_resource::require_taggable;
use crate::AppState;
use crate::lambda::blocking;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(arn): Path<String>,
) -> Result<Response, LambdaError> {
    let tags = blocking(move || -> Result<_, LambdaError> {
        require_taggable(&app.store, &app.scope, &arn)?;
        Ok(app.store.get_tags(&arn)?)
    })
    .await??;
    Ok(axum::Json(serde_json::json!({ "Tags": tags })).into_response())
}
