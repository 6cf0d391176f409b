//! ListVersionsByFunction: `GET /2015-03-31/functions/{FunctionName}/versions` → 200
//! `{Versions: [$LATEST, 1, 2, …], NextMarker}` (`Marker`, `MaxItems` 1..50).

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sluice_core::mapping::MappingError;

use super::resolve_function;
use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::function_configuration;
use crate::protocol::rest_json::LambdaError;

pub async fn handle(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let pairs = crate::protocol::form_pairs(query.as_deref().unwrap_or(""));
    let param = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let max = match param("MaxItems") {
        None => 50,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n.min(50),
            _ => {
                return Err(MappingError::Validation(vec![format!(
                    "Value '{m}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"
                )])
                .into());
            }
        },
    };
    let start = param("Marker")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(0);
    let out = blocking(move || -> Result<_, LambdaError> {
        let (latest, _) = resolve_function(&app.store, &app.scope, &name, None)?;
        let mut all = vec![latest.clone()];
        all.extend(app.store.list_versions(&latest.name)?);
        let page: Vec<_> = all
            .iter()
            .skip(start)
            .take(max)
            .map(|f| function_configuration(f, &app.scope))
            .collect();
        let mut body = json!({ "Versions": page });
        if start + max < all.len() {
            body["NextMarker"] = json!((start + max).to_string());
        }
        Ok(body)
    })
    .await??;
    Ok(axum::Json(out).into_response())
}
