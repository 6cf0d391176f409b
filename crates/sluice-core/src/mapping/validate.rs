//! The rules that admit a Create or an Update, in AWS's order of checks, with AWS's texts.
//!
//! Order (as recorded from AWS, `esm-ground-truth.md` §1.2):
//! 1. model constraints (types, ranges, enums, patterns) → `ValidationException`, all
//!    violations in one message;
//! 2. `DestinationConfig.OnSuccess` → refused for every source Sluice serves;
//! 3. members of sources Sluice does not serve (Kafka, MQ, DocumentDB);
//! 4. no `EventSourceArn` → `Unrecognized event source.`;
//! 5. per source type: starting position, batch size limits, settings that do not apply;
//! 6. filter patterns;
//! 7. the function exists;
//! 8. the source exists; the on-failure destination exists.
//!
//! The duplicate check (same source, same function ARN) runs last, in the store, atomically
//! with the insert.

use std::time::Duration;

use crate::arn::{self, DestinationArn, FunctionRef, Scope, SourceArn, SourceKind};
use crate::constraint::Violations;
use crate::filter::FilterSet;

use super::{
    CreateRequest, DestinationConfig, EventSourceMapping, FilterCriteria, MappingSettings,
    MappingState, MetricsConfig, ScalingConfig, StartingPosition, StreamSettings, UpdateRequest,
};

/// The facts validation needs from outside: what exists.
pub trait Catalog {
    /// True when the function exists, with the qualifier if one is given.
    fn function_exists(&self, function: &FunctionRef) -> bool;
    /// True when the stream or queue exists.
    fn source_exists(&self, source: &SourceArn) -> bool;
    /// True when the destination queue or topic exists.
    fn destination_exists(&self, destination: &DestinationArn) -> bool;
}

/// Why a request was refused. Each variant is one Lambda exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// `ValidationException`: model constraint violations, one text each.
    #[error("{}", validation_message(.0))]
    Validation(Vec<String>),
    /// `InvalidParameterValueException`.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// `ResourceInUseException`.
    #[error("{0}")]
    InUse(String),
}

/// AWS's framing of constraint violations: `N validation error(s) detected: a; b`.
pub fn validation_message(violations: &[String]) -> String {
    Violations::message(violations)
}

/// Text for an unknown mapping UUID.
pub const NOT_FOUND: &str = "The resource you requested does not exist.";
/// Text for a request that meets a transition in flight.
pub const IN_USE_UPDATE: &str = "Cannot update the event source mapping because it is in use.";
/// Text for a Delete that meets a transition in flight.
pub const IN_USE_DELETE: &str = "Cannot delete the event source mapping because it is in use.";

fn ipv(msg: impl Into<String>) -> MappingError {
    MappingError::InvalidParameter(msg.into())
}

/// The pattern AWS quotes when a mapping's FunctionName fails it (recorded verbatim).
const FUNCTION_NAME_PATTERN_TEXT: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
const STARTING_POSITION_ENUM: &str = "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]";
const RESPONSE_TYPES_ENUM: &str = "[ReportBatchItemFailures]";
const METRICS_ENUM: &str = "[EventCount, ErrorCount, KafkaMetrics]";
const KMS_KEY_ARN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()";

/// Members Create and Update share, checked against the model.
#[allow(clippy::too_many_arguments)]
fn common_constraints(
    c: &mut Violations,
    function_name: Option<&str>,
    batch_size: Option<i64>,
    window: Option<i64>,
    parallelization: Option<i64>,
    record_age: Option<i64>,
    retries: Option<i64>,
    tumbling: Option<i64>,
    destination: Option<&DestinationConfig>,
    response_types: Option<&Vec<String>>,
    scaling: Option<&ScalingConfig>,
    kms: Option<&str>,
    metrics: Option<&MetricsConfig>,
) {
    if let Some(name) = function_name
        && c.length("functionName", name, 1, 140)
    {
        c.pattern(
            "functionName",
            name,
            arn::is_valid_function_name(name),
            FUNCTION_NAME_PATTERN_TEXT,
        );
    }
    c.range("batchSize", batch_size, 1, 10_000);
    c.range("maximumBatchingWindowInSeconds", window, 0, 300);
    c.range("parallelizationFactor", parallelization, 1, 10);
    c.range("maximumRecordAgeInSeconds", record_age, -1, 604_800);
    c.range("maximumRetryAttempts", retries, -1, 10_000);
    c.range("tumblingWindowInSeconds", tumbling, 0, 900);
    if let Some(dc) = destination {
        for (member, d) in [
            ("destinationConfig.onSuccess.destination", &dc.on_success),
            ("destinationConfig.onFailure.destination", &dc.on_failure),
        ] {
            if let Some(dest) = d.as_ref().and_then(|d| d.destination.as_deref())
                && c.length(member, dest, 0, 350)
            {
                c.pattern(
                    member,
                    dest,
                    arn::is_valid_destination_arn(dest),
                    arn::DESTINATION_ARN_PATTERN,
                );
            }
        }
    }
    if let Some(types) = response_types {
        c.enum_list(
            "functionResponseTypes",
            types,
            &["ReportBatchItemFailures"],
            RESPONSE_TYPES_ENUM,
            1,
        );
    }
    if let Some(s) = scaling {
        c.range(
            "scalingConfig.maximumConcurrency",
            s.maximum_concurrency,
            2,
            1000,
        );
    }
    if let Some(kms) = kms
        && c.length("kMSKeyArn", kms, 0, 10_000)
    {
        let ok = kms.is_empty() || (kms.starts_with("arn:") && arn::Arn::parse(kms).is_some());
        c.pattern("kMSKeyArn", kms, ok, KMS_KEY_ARN_PATTERN);
    }
    if let Some(m) = metrics.and_then(|m| m.metrics.as_ref()) {
        c.enum_list(
            "metricsConfig.metrics",
            m,
            &["EventCount", "ErrorCount", "KafkaMetrics"],
            METRICS_ENUM,
            3,
        );
    }
}

/// The settings of a mapping as raw request values, before the per-source rules. Create
/// builds it from the request; Update from the stored mapping overlaid with the request.
#[derive(Debug, Clone, Default)]
struct Draft {
    batch_size: Option<i64>,
    window: Option<i64>,
    parallelization: Option<i64>,
    starting_position: Option<StartingPosition>,
    starting_position_timestamp: Option<f64>,
    record_age: Option<i64>,
    retries: Option<i64>,
    bisect: Option<bool>,
    tumbling: Option<i64>,
    on_failure: Option<String>,
    response_types: Vec<String>,
    filter_patterns: Vec<String>,
    maximum_concurrency: Option<i64>,
    kms_key_arn: Option<String>,
    metrics: Option<Vec<String>>,
}

impl Draft {
    fn from_mapping(m: &EventSourceMapping) -> Self {
        let s = &m.settings;
        let stream = s.stream.as_ref();
        Self {
            batch_size: Some(i64::from(s.batch_size)),
            window: Some(s.maximum_batching_window.as_secs() as i64),
            parallelization: stream.map(|t| i64::from(t.parallelization_factor)),
            starting_position: stream.map(|t| t.starting_position),
            starting_position_timestamp: stream.and_then(|t| t.starting_position_timestamp),
            record_age: stream.map(|t| t.maximum_record_age.map_or(-1, |d| d.as_secs() as i64)),
            retries: stream.map(|t| t.maximum_retry_attempts.map_or(-1, i64::from)),
            bisect: stream.map(|t| t.bisect_batch_on_function_error),
            tumbling: stream.map(|t| t.tumbling_window.as_secs() as i64),
            on_failure: stream.and_then(|t| t.on_failure_destination.clone()),
            response_types: if s.report_batch_item_failures {
                vec!["ReportBatchItemFailures".to_owned()]
            } else {
                Vec::new()
            },
            filter_patterns: s.filter_patterns.clone(),
            maximum_concurrency: s.maximum_concurrency.map(i64::from),
            kms_key_arn: s.kms_key_arn.clone(),
            metrics: s.metrics.clone(),
        }
    }
}

/// Filter patterns from a FilterCriteria; `Err` if a filter has no pattern.
fn filter_patterns(fc: &FilterCriteria) -> Result<Vec<String>, MappingError> {
    fc.filters
        .iter()
        .flatten()
        .map(|f| f.pattern.clone().ok_or_else(|| ipv(INVALID_FILTER)))
        .collect()
}

const INVALID_FILTER: &str = "Invalid filter pattern definition.";
/// Filters one mapping may have (AWS's default quota).
pub const MAX_FILTERS: usize = 5;
const UNSUPPORTED_DESTINATION: &str =
    "Unsupported DestinationConfig parameter for given event source mapping type.";

/// Which stream-only members a draft carries, by wire name (for SQS, where they are refused).
struct StreamOnly<'a> {
    parallelization: Option<i64>,
    record_age: Option<i64>,
    retries: Option<i64>,
    bisect: Option<bool>,
    tumbling: Option<i64>,
    starting_position: Option<&'a str>,
    starting_position_timestamp: Option<f64>,
}

impl StreamOnly<'_> {
    fn first(&self) -> Option<&'static str> {
        [
            ("StartingPosition", self.starting_position.is_some()),
            (
                "StartingPositionTimestamp",
                self.starting_position_timestamp.is_some(),
            ),
            ("ParallelizationFactor", self.parallelization.is_some()),
            ("MaximumRecordAgeInSeconds", self.record_age.is_some()),
            ("MaximumRetryAttempts", self.retries.is_some()),
            ("BisectBatchOnFunctionError", self.bisect.is_some()),
            ("TumblingWindowInSeconds", self.tumbling.is_some()),
        ]
        .into_iter()
        .find(|(_, present)| *present)
        .map(|(name, _)| name)
    }
}

/// The per-source rules (steps 5 and 6) that turn a draft into settings.
fn settle_settings(
    source: &SourceArn,
    draft: &Draft,
    stream_only: &StreamOnly<'_>,
    now_secs: f64,
) -> Result<MappingSettings, MappingError> {
    let kind = source.kind();
    let batch_size = match kind {
        SourceKind::Sqs => {
            if stream_only.starting_position.is_some()
                || stream_only.starting_position_timestamp.is_some()
            {
                return Err(ipv("StartingPosition is not valid for SQS event sources."));
            }
            if let Some(name) = stream_only.first() {
                return Err(ipv(format!(
                    "Unsupported {name} parameter for given event source mapping type."
                )));
            }
            if draft.on_failure.as_deref().is_some_and(|d| !d.is_empty()) {
                return Err(ipv(UNSUPPORTED_DESTINATION));
            }
            let batch = draft.batch_size.unwrap_or(10);
            let window = draft.window.unwrap_or(0);
            // A FIFO queue takes no window, and so (by the next rule) at most 10 records.
            if source.is_fifo_queue() && window > 0 {
                return Err(ipv("Batching window is not supported for FIFO queues"));
            }
            if batch > 10 && window == 0 {
                return Err(ipv(
                    "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
                ));
            }
            batch
        }
        SourceKind::Kinesis | SourceKind::DynamoDbStreams => {
            let Some(position) = draft.starting_position else {
                return Err(ipv(
                    "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
                ));
            };
            if kind == SourceKind::DynamoDbStreams && position == StartingPosition::AtTimestamp {
                return Err(ipv(format!(
                    "Unsupported starting position for arn type: {source}"
                )));
            }
            match (position, draft.starting_position_timestamp) {
                (StartingPosition::AtTimestamp, None) => {
                    return Err(ipv("Need to specify a timestamp"));
                }
                (StartingPosition::AtTimestamp, Some(ts)) if ts > now_secs => {
                    return Err(ipv("StartingPositionTimestamp cannot be in the future."));
                }
                (StartingPosition::TrimHorizon | StartingPosition::Latest, Some(_)) => {
                    return Err(ipv(
                        "Timestamp only valid with StartingPosition AT_TIMESTAMP",
                    ));
                }
                _ => {}
            }
            if draft.maximum_concurrency.is_some() {
                return Err(ipv(
                    "Unsupported ScalingConfig parameter for given event source mapping type.",
                ));
            }
            if let Some(age) = draft.record_age
                && (0..60).contains(&age)
            {
                return Err(ipv(
                    "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)",
                ));
            }
            draft.batch_size.unwrap_or(100)
        }
    };

    let stream = if kind.is_stream() {
        let on_failure = match draft.on_failure.as_deref() {
            None | Some("") => None,
            Some(d) => Some(d.to_owned()),
        };
        Some(StreamSettings {
            // Present: checked above.
            starting_position: draft.starting_position.unwrap_or(StartingPosition::Latest),
            starting_position_timestamp: draft.starting_position_timestamp,
            parallelization_factor: to_u32(draft.parallelization.unwrap_or(1)),
            maximum_record_age: match draft.record_age.unwrap_or(-1) {
                -1 => None,
                s => Some(Duration::from_secs(s.unsigned_abs())),
            },
            maximum_retry_attempts: match draft.retries.unwrap_or(-1) {
                -1 => None,
                n => Some(to_u32(n)),
            },
            bisect_batch_on_function_error: draft.bisect.unwrap_or(false),
            tumbling_window: Duration::from_secs(draft.tumbling.unwrap_or(0).unsigned_abs()),
            on_failure_destination: on_failure,
        })
    } else {
        None
    };

    // Step 6: filters (at most five per mapping: AWS's default quota).
    if draft.filter_patterns.len() > MAX_FILTERS {
        return Err(ipv(format!(
            "The number of filters ({}) exceeds the limit of {MAX_FILTERS} filters per event source mapping.",
            draft.filter_patterns.len()
        )));
    }
    if FilterSet::parse(draft.filter_patterns.iter().map(String::as_str)).is_err() {
        return Err(ipv(INVALID_FILTER));
    }

    Ok(MappingSettings {
        batch_size: to_u32(batch_size),
        maximum_batching_window: Duration::from_secs(draft.window.unwrap_or(0).unsigned_abs()),
        report_batch_item_failures: !draft.response_types.is_empty(),
        filter_patterns: draft.filter_patterns.clone(),
        maximum_concurrency: draft.maximum_concurrency.map(to_u32),
        kms_key_arn: draft.kms_key_arn.clone().filter(|k| !k.is_empty()),
        metrics: draft.metrics.clone(),
        stream,
    })
}

/// Values are range-checked before conversion; out-of-range values cannot reach here.
fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Steps 7 and 8: the function, the source and the destination exist.
fn check_existence(
    function: &FunctionRef,
    source: &SourceArn,
    settings: &MappingSettings,
    scope: &Scope,
    catalog: &dyn Catalog,
    check_source: bool,
) -> Result<(), MappingError> {
    if function.is_foreign(scope) || !catalog.function_exists(function) {
        return Err(ipv("Function does not exist"));
    }
    if check_source {
        let foreign = match source {
            SourceArn::KinesisStream {
                region, account, ..
            }
            | SourceArn::KinesisConsumer {
                region, account, ..
            }
            | SourceArn::DynamoDbStream {
                region, account, ..
            }
            | SourceArn::SqsQueue {
                region, account, ..
            } => *region != scope.region || *account != scope.account,
        };
        if foreign || !catalog.source_exists(source) {
            return Err(ipv(match source.kind() {
                SourceKind::Sqs => "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.".to_owned(),
                SourceKind::Kinesis | SourceKind::DynamoDbStreams => format!("Stream not found: {source}"),
            }));
        }
    }
    if let Some(dest) = settings
        .stream
        .as_ref()
        .and_then(|s| s.on_failure_destination.as_deref())
    {
        // AWS cannot tell a missing queue or topic from one it may not use; it answers with
        // the permission text either way.
        let Some(parsed) = DestinationArn::parse(dest) else {
            return Err(ipv(format!("The destination ARN {dest} is invalid.")));
        };
        if !catalog.destination_exists(&parsed) {
            return Err(ipv(match parsed {
                DestinationArn::SqsQueue { .. } => {
                    "The provided execution role does not have permissions to call SendMessage on SQS"
                }
                DestinationArn::SnsTopic { .. } => {
                    "The provided execution role does not have permissions to call Publish on SNS"
                }
            }));
        }
    }
    Ok(())
}

fn parse_function(name: &str) -> Result<FunctionRef, MappingError> {
    // The pattern was checked as a model constraint; a failure here means a form the model
    // accepts but no function can have.
    FunctionRef::parse(name).ok_or_else(|| ipv("Function does not exist"))
}

/// Admits a Create: the stored mapping, in its first state, or AWS's refusal.
pub fn plan_create(
    req: &CreateRequest,
    scope: &Scope,
    catalog: &dyn Catalog,
    uuid: String,
    now_ms: u64,
) -> Result<EventSourceMapping, MappingError> {
    // 1. Model constraints.
    let mut c = Violations::default();
    if req.function_name.is_none() {
        c.not_null("functionName");
    }
    common_constraints(
        &mut c,
        req.function_name.as_deref(),
        req.batch_size,
        req.maximum_batching_window_in_seconds,
        req.parallelization_factor,
        req.maximum_record_age_in_seconds,
        req.maximum_retry_attempts,
        req.tumbling_window_in_seconds,
        req.destination_config.as_ref(),
        req.function_response_types.as_ref(),
        req.scaling_config.as_ref(),
        req.kms_key_arn.as_deref(),
        req.metrics_config.as_ref(),
    );
    let starting_position = match req.starting_position.as_deref() {
        None => None,
        Some(s) => match StartingPosition::parse(s) {
            Some(p) => Some(p),
            None => {
                c.0.push(format!(
                    "Value '{s}' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: {STARTING_POSITION_ENUM}"
                ));
                None
            }
        },
    };
    if let Some(arn) = req.event_source_arn.as_deref()
        && c.length("eventSourceArn", arn, 0, 10_000)
    {
        c.pattern(
            "eventSourceArn",
            arn,
            arn::is_valid_event_source_arn(arn),
            arn::EVENT_SOURCE_ARN_PATTERN,
        );
    }
    if let Some(tags) = &req.tags {
        tag_constraints(&mut c, tags.iter());
    }
    c.finish().map_err(MappingError::Validation)?;

    // 2. OnSuccess.
    if req
        .destination_config
        .as_ref()
        .and_then(|d| d.on_success.as_ref())
        .is_some_and(|d| d.destination.as_deref().is_some_and(|d| !d.is_empty()))
    {
        return Err(ipv(UNSUPPORTED_DESTINATION));
    }
    // 3. Sources Sluice does not serve.
    if let Some(member) = req.unsupported.first_present() {
        return Err(ipv(format!(
            "Unsupported {member} parameter for given event source mapping type."
        )));
    }
    // 4. The source.
    let Some(arn) = req.event_source_arn.as_deref().filter(|a| !a.is_empty()) else {
        return Err(ipv("Unrecognized event source."));
    };
    let Some(source) = SourceArn::parse(arn) else {
        return Err(ipv(format!(
            "Unrecognized event source. Unsupported source arn : {arn}"
        )));
    };
    if req
        .destination_config
        .as_ref()
        .and_then(|d| d.on_failure.as_ref())
        .is_some_and(|d| d.destination.is_none())
    {
        return Err(ipv(
            "The Destination field is required for an OnFailure configuration.",
        ));
    }
    // 5, 6. Per-source rules and filters.
    let draft = Draft {
        batch_size: req.batch_size,
        window: req.maximum_batching_window_in_seconds,
        parallelization: req.parallelization_factor,
        starting_position,
        starting_position_timestamp: req.starting_position_timestamp,
        record_age: req.maximum_record_age_in_seconds,
        retries: req.maximum_retry_attempts,
        bisect: req.bisect_batch_on_function_error,
        tumbling: req.tumbling_window_in_seconds,
        on_failure: req
            .destination_config
            .as_ref()
            .and_then(|d| d.on_failure.as_ref())
            .and_then(|d| d.destination.clone()),
        response_types: req.function_response_types.clone().unwrap_or_default(),
        filter_patterns: match &req.filter_criteria {
            Some(fc) => filter_patterns(fc)?,
            None => Vec::new(),
        },
        maximum_concurrency: req
            .scaling_config
            .as_ref()
            .and_then(|s| s.maximum_concurrency),
        kms_key_arn: req.kms_key_arn.clone(),
        metrics: req.metrics_config.as_ref().and_then(|m| m.metrics.clone()),
    };
    let stream_only = StreamOnly {
        parallelization: req.parallelization_factor,
        record_age: req.maximum_record_age_in_seconds,
        retries: req.maximum_retry_attempts,
        bisect: req.bisect_batch_on_function_error,
        tumbling: req.tumbling_window_in_seconds,
        starting_position: req.starting_position.as_deref(),
        starting_position_timestamp: req.starting_position_timestamp,
    };
    let settings = settle_settings(&source, &draft, &stream_only, now_ms as f64 / 1000.0)?;

    // 7, 8. Existence.
    let function_name = req.function_name.clone().unwrap_or_default();
    let function = parse_function(&function_name)?;
    check_existence(&function, &source, &settings, scope, catalog, true)?;

    let enabled = req.enabled.unwrap_or(true);
    let kind = source.kind();
    Ok(EventSourceMapping {
        uuid,
        function_arn: function.qualified_arn(scope),
        function_name,
        state: MappingState::on_create(enabled),
        enabled,
        state_transition_reason: EventSourceMapping::user_reason(kind).to_owned(),
        last_modified_ms: now_ms,
        last_processing_result: kind.is_stream().then(|| "No records processed".to_owned()),
        settings,
        source,
    })
}

/// Admits an Update of `current`: the mapping as it is to be stored, or AWS's refusal.
pub fn plan_update(
    current: &EventSourceMapping,
    req: &UpdateRequest,
    scope: &Scope,
    catalog: &dyn Catalog,
    now_ms: u64,
) -> Result<EventSourceMapping, MappingError> {
    let mut c = Violations::default();
    common_constraints(
        &mut c,
        req.function_name.as_deref(),
        req.batch_size,
        req.maximum_batching_window_in_seconds,
        req.parallelization_factor,
        req.maximum_record_age_in_seconds,
        req.maximum_retry_attempts,
        req.tumbling_window_in_seconds,
        req.destination_config.as_ref(),
        req.function_response_types.as_ref(),
        req.scaling_config.as_ref(),
        req.kms_key_arn.as_deref(),
        req.metrics_config.as_ref(),
    );
    c.finish().map_err(MappingError::Validation)?;

    if req
        .destination_config
        .as_ref()
        .and_then(|d| d.on_success.as_ref())
        .is_some_and(|d| d.destination.as_deref().is_some_and(|d| !d.is_empty()))
    {
        return Err(ipv(UNSUPPORTED_DESTINATION));
    }
    if let Some(member) = req.unsupported.first_present() {
        return Err(ipv(format!(
            "Unsupported {member} parameter for given event source mapping type."
        )));
    }

    let Ok(state) = current.state.on_update(req.enabled) else {
        return Err(MappingError::InUse(IN_USE_UPDATE.to_owned()));
    };

    let mut draft = Draft::from_mapping(current);
    let overlay = |slot: &mut Option<i64>, v: Option<i64>| {
        if v.is_some() {
            *slot = v;
        }
    };
    overlay(&mut draft.batch_size, req.batch_size);
    overlay(&mut draft.window, req.maximum_batching_window_in_seconds);
    overlay(&mut draft.parallelization, req.parallelization_factor);
    overlay(&mut draft.record_age, req.maximum_record_age_in_seconds);
    overlay(&mut draft.retries, req.maximum_retry_attempts);
    overlay(&mut draft.tumbling, req.tumbling_window_in_seconds);
    if req.bisect_batch_on_function_error.is_some() {
        draft.bisect = req.bisect_batch_on_function_error;
    }
    if let Some(dc) = &req.destination_config {
        // `{}` or an empty Destination removes the destination.
        draft.on_failure = dc.on_failure.as_ref().and_then(|d| d.destination.clone());
    }
    if let Some(types) = &req.function_response_types {
        draft.response_types = types.clone();
    }
    if let Some(fc) = &req.filter_criteria {
        draft.filter_patterns = filter_patterns(fc)?;
    }
    if let Some(sc) = &req.scaling_config {
        draft.maximum_concurrency = sc.maximum_concurrency;
    }
    if let Some(kms) = &req.kms_key_arn {
        draft.kms_key_arn = Some(kms.clone());
    }
    if let Some(m) = &req.metrics_config {
        draft.metrics = m.metrics.clone();
    }
    let stream_only = StreamOnly {
        parallelization: req.parallelization_factor,
        record_age: req.maximum_record_age_in_seconds,
        retries: req.maximum_retry_attempts,
        bisect: req.bisect_batch_on_function_error,
        tumbling: req.tumbling_window_in_seconds,
        starting_position: None,
        starting_position_timestamp: None,
    };
    // The starting position was admitted at Create; it cannot change.
    let now_secs = f64::INFINITY;
    let settings = settle_settings(&current.source, &draft, &stream_only, now_secs)?;

    let (function_name, function_arn) = match req.function_name.as_deref() {
        Some(name) => {
            let f = parse_function(name)?;
            (name.to_owned(), f)
        }
        None => (
            current.function_name.clone(),
            parse_function(&current.function_name)?,
        ),
    };
    if req.function_name.is_some() || req.destination_config.is_some() {
        check_existence(
            &function_arn,
            &current.source,
            &settings,
            scope,
            catalog,
            false,
        )?;
    }

    let enabled = req.enabled.unwrap_or(current.enabled);
    Ok(EventSourceMapping {
        uuid: current.uuid.clone(),
        source: current.source.clone(),
        function_arn: function_arn.qualified_arn(scope),
        function_name,
        state,
        enabled,
        state_transition_reason: EventSourceMapping::user_reason(current.kind()).to_owned(),
        last_modified_ms: now_ms,
        last_processing_result: current.last_processing_result.clone(),
        settings,
    })
}

/// Admits a Delete of `current`: the mapping in `Deleting`, or ResourceInUseException.
pub fn plan_delete(
    current: &EventSourceMapping,
    now_ms: u64,
) -> Result<EventSourceMapping, MappingError> {
    let Ok(state) = current.state.on_delete() else {
        return Err(MappingError::InUse(IN_USE_DELETE.to_owned()));
    };
    let mut next = current.clone();
    next.state = state;
    next.last_modified_ms = now_ms;
    Ok(next)
}

/// Tag constraints of the model (`TagKey` 1..128, `TagValue` 0..256, one character set).
pub fn tag_constraints<'a>(
    c: &mut impl TagConstraintSink,
    tags: impl Iterator<Item = (&'a String, &'a String)>,
) {
    let charset_ok = |s: &str| {
        s.chars()
            .all(|ch| ch.is_alphanumeric() || ch.is_whitespace() || "_.:/=+-@".contains(ch))
    };
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || !charset_ok(k) {
            c.violation(format!(
                "Value '{k}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^(?!aws:)[\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]*$]"
            ));
        } else if v.chars().count() > 256 || !charset_ok(v) {
            c.violation(format!(
                "Value '{v}' at 'tags.{k}' failed to satisfy constraint: Member must have length less than or equal to 256"
            ));
        }
    }
}

/// Where [`tag_constraints`] reports; lets TagResource reuse the check.
pub trait TagConstraintSink {
    fn violation(&mut self, text: String);
}

impl TagConstraintSink for Violations {
    fn violation(&mut self, text: String) {
        self.0.push(text);
    }
}

impl TagConstraintSink for Vec<String> {
    fn violation(&mut self, text: String) {
        self.push(text);
    }
}

/// The `FunctionName` filter of ListEventSourceMappings: an unqualified name matches the
/// function's mappings whatever their qualifier; a qualified one only that qualifier.
pub fn list_filter_matches(
    mapping: &EventSourceMapping,
    filter: &FunctionRef,
    scope: &Scope,
) -> bool {
    if filter.is_foreign(scope) {
        return false;
    }
    let base = scope.function_arn(&filter.name);
    match &filter.qualifier {
        Some(_) => mapping.function_arn == filter.qualified_arn(scope),
        None => {
            mapping.function_arn == base
                || mapping
                    .function_arn
                    .strip_prefix(&base)
                    .is_some_and(|rest| rest.starts_with(':'))
        }
    }
}
