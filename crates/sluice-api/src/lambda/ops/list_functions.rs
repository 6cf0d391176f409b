//! ListFunctions: `GET /2015-03-31/functions/?Marker=&MaxItems=&FunctionVersion=ALL` →
//! `{Functions, NextMarker}`; at most 50 per page, in name order; `Marker` is the last name
//! of the previous page. With `FunctionVersion=ALL` every published version follows its
//! function's `$LATEST`, and the marker is `name:version`.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sluice_core::function::FunctionRecord;
use sluice_core::mapping::MappingError;

use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::function_configuration;
use crate::protocol::form_pairs;
use crate::protocol::rest_json::LambdaError;

pub const PAGE_MAX: usize = 50;

pub async fn handle(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let pairs = form_pairs(query.as_deref().unwrap_or(""));
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let marker = get("Marker");
    let page_size = match get("MaxItems").map(|m| m.parse::<i64>()) {
        None => PAGE_MAX,
        Some(Ok(n)) if (1..=10_000).contains(&n) => {
            usize::try_from(n).unwrap_or(PAGE_MAX).min(PAGE_MAX)
        }
        Some(_) => {
            return Err(MappingError::Validation(vec![format!(
                "Value '{}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000",
                get("MaxItems").unwrap_or_default()
            )])
            .into());
        }
    };
    let every_version = match get("FunctionVersion").as_deref() {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(MappingError::Validation(vec![format!(
                "Value '{other}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
            )])
            .into());
        }
    };
    let store = app.store.clone();
    let all = blocking(move || -> Result<Vec<FunctionRecord>, LambdaError> {
        let mut all = Vec::new();
        for f in store.list_functions()? {
            let versions = if every_version {
                store.list_versions(&f.name)?
            } else {
                Vec::new()
            };
            all.push(f);
            all.extend(versions);
        }
        Ok(all)
    })
    .await??;
    // Position of a function or version in the listing: name, then $LATEST (0), then numbers.
    let position = |f: &FunctionRecord| (f.name.clone(), f.version.unwrap_or(0));
    let after = marker.as_deref().map(|m| match m.split_once(':') {
        Some((name, v)) if every_version => (name.to_owned(), v.parse().unwrap_or(0)),
        _ => (m.to_owned(), u64::MAX),
    });
    let mut rest = all
        .iter()
        .filter(|f| after.as_ref().is_none_or(|a| position(f) > *a));
    let page: Vec<_> = rest.by_ref().take(page_size).collect();
    let mut body = json!({
        "Functions": page.iter().map(|f| function_configuration(f, &app.scope)).collect::<Vec<_>>(),
    });
    if rest.next().is_some()
        && let Some(last) = page.last()
    {
        body["NextMarker"] = if every_version {
            json!(format!("{}:{}", last.name, last.version_name()))
        } else {
            json!(last.name)
        };
    }
    Ok(axum::Json(body).into_response())
}
