//! ListEventSourceMappings: `GET /2015-03-31/event-source-mappings/?EventSourceArn=&FunctionName=&Marker=&MaxItems=`.
//!
//! Mappings are listed in UUID order. `Marker` is the UUID of the last mapping of the
//! previous page; the next page starts after it, so mappings created or deleted between
//! pages never make a page repeat or skip the others. At most 100 per page.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sluice_core::arn::{self, FunctionRef};
use sluice_core::mapping::MappingError;
use sluice_core::mapping::validate::list_filter_matches;

use crate::AppState;
use crate::lambda::blocking;
use crate::lambda::model::mapping_json;
use crate::protocol::form_pairs;
use crate::protocol::rest_json::LambdaError;

/// The most mappings one page holds, whatever MaxItems asks.
pub const PAGE_MAX: usize = 100;

pub async fn handle(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, LambdaError> {
    let mut source = None;
    let mut function = None;
    let mut marker = None;
    let mut max_items = None;
    for (k, v) in form_pairs(query.as_deref().unwrap_or("")) {
        match k.as_str() {
            "EventSourceArn" => source = Some(v),
            "FunctionName" => function = Some(v),
            "Marker" => marker = Some(v),
            "MaxItems" => max_items = Some(v),
            _ => {}
        }
    }
    let mut violations = Vec::new();
    let max_items = match max_items.as_deref().map(str::parse::<i64>) {
        None => PAGE_MAX,
        Some(Ok(n)) if (1..=10_000).contains(&n) => {
            usize::try_from(n).unwrap_or(PAGE_MAX).min(PAGE_MAX)
        }
        Some(Ok(n)) => {
            let bound = if n < 1 {
                "greater than or equal to 1"
            } else {
                "less than or equal to 10000"
            };
            violations.push(format!(
                "Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value {bound}"
            ));
            PAGE_MAX
        }
        Some(Err(_)) => {
            return Err(LambdaError::new(
                crate::protocol::rest_json::LambdaCode::InvalidRequestContent,
                "MaxItems must be an integer.",
            ));
        }
    };
    let function = match function {
        None => None,
        Some(f) => match FunctionRef::parse(&f) {
            Some(r) => Some(r),
            None => {
                violations.push(format!(
                    "Value '{f}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {}",
                    arn::FUNCTION_NAME_PATTERN
                ));
                None
            }
        },
    };
    if let Some(s) = &source
        && !arn::is_valid_event_source_arn(s)
    {
        violations.push(format!(
            "Value '{s}' at 'eventSourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {}",
            arn::EVENT_SOURCE_ARN_PATTERN
        ));
    }
    if !violations.is_empty() {
        return Err(MappingError::Validation(violations).into());
    }

    let store = app.store.clone();
    let all = blocking(move || store.list_mappings()).await??;
    let mut selected = all.iter().filter(|m| {
        source.as_deref().is_none_or(|s| m.source.as_str() == s)
            && function
                .as_ref()
                .is_none_or(|f| list_filter_matches(m, f, &app.scope))
            && marker
                .as_deref()
                .is_none_or(|after| m.uuid.as_str() > after)
    });
    let page: Vec<_> = selected.by_ref().take(max_items).collect();
    let more = selected.next().is_some();
    let mut body = json!({
        "EventSourceMappings": page.iter().map(|m| mapping_json(m, &app.scope, true)).collect::<Vec<_>>(),
    });
    if more && let Some(last) = page.last() {
        body["NextMarker"] = json!(last.uuid);
    }
    Ok(axum::Json(body).into_response())
}
