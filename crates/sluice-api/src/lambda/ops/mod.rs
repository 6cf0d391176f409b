//! One file per Lambda operation: its input, its checks, its handler.

pub mod create_alias;
pub mod create_event_source_mapping;
pub mod create_function;
pub mod delete_alias;
pub mod delete_event_source_mapping;
pub mod delete_function;
pub mod get_alias;
pub mod get_event_source_mapping;
pub mod get_function;
pub mod get_function_configuration;
pub mod invoke;
pub mod list_aliases;
pub mod list_event_source_mappings;
pub mod list_functions;
pub mod list_tags;
pub mod list_versions_by_function;
pub mod publish_version;
pub mod tag_resource;
pub mod untag_resource;
pub mod update_alias;
pub mod update_event_source_mapping;
pub mod update_function_code;
pub mod update_function_configuration;

use sluice_core::arn::{FunctionRef, Scope};
use sluice_core::function::FunctionRecord;
use sluice_store::MetaStore;

use super::function_not_found;
use crate::protocol::rest_json::LambdaError;

/// Resolves a `{FunctionName}` path parameter (name, partial or full ARN, with an optional
/// qualifier, or a separate `Qualifier`) to the stored function.
pub(crate) fn resolve_function(
    store: &MetaStore,
    scope: &Scope,
    given: &str,
    qualifier: Option<&str>,
) -> Result<(FunctionRecord, String), LambdaError> {
    let Some(mut f) = FunctionRef::parse(given) else {
        return Err(function_not_found(&scope.function_arn(given)));
    };
    if f.qualifier.is_none() {
        f.qualifier = qualifier.filter(|q| !q.is_empty()).map(str::to_owned);
    }
    let arn = f.qualified_arn(scope);
    if f.is_foreign(scope) || f.qualifier.as_deref().is_some_and(|q| q != "$LATEST") {
        return Err(function_not_found(&arn));
    }
    match store.get_function(&f.name)? {
        Some(record) => Ok((record, arn)),
        None => Err(function_not_found(&arn)),
    }
}

/// Resolves a `{FunctionName}` with its qualifier (in the name or `Qualifier`): `$LATEST`,
/// a published version, or an alias (followed to its version). Returns the record that
/// runs (a version's has `version` set) and the invoked ARN, qualifier included.
pub(crate) fn resolve_qualified(
    store: &MetaStore,
    scope: &Scope,
    given: &str,
    qualifier: Option<&str>,
) -> Result<(FunctionRecord, String), LambdaError> {
    let Some(mut f) = FunctionRef::parse(given) else {
        return Err(function_not_found(&scope.function_arn(given)));
    };
    if f.qualifier.is_none() {
        f.qualifier = qualifier.filter(|q| !q.is_empty()).map(str::to_owned);
    }
    let arn = f.qualified_arn(scope);
    if f.is_foreign(scope) {
        return Err(function_not_found(&arn));
    }
    match store.resolve_function(&f.name, f.qualifier.as_deref())? {
        Some(record) => Ok((record, arn)),
        None => match f.qualifier.as_deref() {
            Some(q)
                if q != "$LATEST"
                    && !q.bytes().all(|b| b.is_ascii_digit())
                    && store.get_function(&f.name)?.is_some() =>
            {
                Err(alias_not_found(&arn))
            }
            _ => Err(function_not_found(&arn)),
        },
    }
}

/// `Cannot find alias arn: <arn>`.
pub(crate) fn alias_not_found(arn: &str) -> LambdaError {
    LambdaError::not_found(format!("Cannot find alias arn: {arn}"))
}

/// The `Qualifier` query parameter, if any.
pub(crate) fn qualifier_param(query: Option<&str>) -> Option<String> {
    crate::protocol::form_pairs(query.unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "Qualifier")
        .map(|(_, v)| v)
}
