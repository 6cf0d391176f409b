//! Event source mappings: their stored form, the rules that admit a Create or an Update, and
//! the lifecycle.
//!
//! # Invariants
//!
//! - A stored [`EventSourceMapping`] has passed [`validate::plan_create`] or
//!   [`validate::plan_update`]: every setting is in range and fits the source type, so the
//!   engine never re-checks them.
//! - Stream-only settings are `Some` exactly for stream sources, so the response shape (the full
//!   default set for streams, the short one for SQS) follows from the stored value alone.
//! - Filter patterns are kept as the client sent them, and echoed byte for byte.

mod request;
mod state;
pub mod validate;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::arn::{SourceArn, SourceKind};

pub use request::{
    CreateRequest, DestinationConfig, Filter, FilterCriteria, MetricsConfig, OnDestination,
    ScalingConfig, UnsupportedMembers, UpdateRequest,
};
pub use state::{MappingState, Settled};
pub use validate::{Catalog, MappingError};

/// Where a stream mapping starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
    AtTimestamp,
}

impl StartingPosition {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TRIM_HORIZON" => Some(Self::TrimHorizon),
            "LATEST" => Some(Self::Latest),
            "AT_TIMESTAMP" => Some(Self::AtTimestamp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrimHorizon => "TRIM_HORIZON",
            Self::Latest => "LATEST",
            Self::AtTimestamp => "AT_TIMESTAMP",
        }
    }
}

/// Settings that only stream sources (Kinesis, DynamoDB Streams) have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamSettings {
    pub starting_position: StartingPosition,
    /// Epoch seconds, given with `AT_TIMESTAMP` only.
    pub starting_position_timestamp: Option<f64>,
    pub parallelization_factor: u32,
    /// `None` is AWS's `-1`: records never expire for the mapping.
    pub maximum_record_age: Option<Duration>,
    /// `None` is AWS's `-1`: retry until the record expires.
    pub maximum_retry_attempts: Option<u32>,
    pub bisect_batch_on_function_error: bool,
    /// `None` or zero: no tumbling window.
    pub tumbling_window: Duration,
    /// The OnFailure destination ARN (an SQS queue or SNS topic).
    pub on_failure_destination: Option<String>,
}

/// Settings every source has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingSettings {
    pub batch_size: u32,
    pub maximum_batching_window: Duration,
    /// `ReportBatchItemFailures` when set.
    pub report_batch_item_failures: bool,
    /// Filter patterns as sent (JSON strings).
    pub filter_patterns: Vec<String>,
    /// SQS only: `ScalingConfig.MaximumConcurrency`.
    pub maximum_concurrency: Option<u32>,
    pub kms_key_arn: Option<String>,
    /// `MetricsConfig.Metrics`, when the client set it.
    pub metrics: Option<Vec<String>>,
    /// Present for stream sources, absent for SQS.
    pub stream: Option<StreamSettings>,
}

/// An event source mapping as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSourceMapping {
    pub uuid: String,
    pub source: SourceArn,
    /// The function's ARN, with the qualifier given at Create or Update.
    pub function_arn: String,
    /// The `FunctionName` as the client gave it (AWS quotes it in conflict messages).
    pub function_name: String,
    pub state: MappingState,
    /// What the user asked for; the state settles towards it.
    pub enabled: bool,
    pub state_transition_reason: String,
    /// Milliseconds since the epoch of the last update or state change.
    pub last_modified_ms: u64,
    /// Streams only: `No records processed`, `OK`, or `PROBLEM: ...`.
    pub last_processing_result: Option<String>,
    pub settings: MappingSettings,
}

impl EventSourceMapping {
    pub fn kind(&self) -> SourceKind {
        self.source.kind()
    }

    /// The ResourceConflictException text AWS gives when `self` already maps `source` to
    /// the same function; `given_name` is the FunctionName of the refused request.
    pub fn conflict_message(&self, given_name: &str) -> String {
        match self.kind() {
            SourceKind::Sqs => format!(
                "An event source mapping with SQS arn (\" {} \") and function (\" {} \") already exists. Please update or delete the existing mapping with UUID {}",
                self.source, given_name, self.uuid
            ),
            SourceKind::Kinesis | SourceKind::DynamoDbStreams => format!(
                "The event source arn (\" {} \") and function (\" {} \") provided mapping already exists. Please update or delete the existing mapping with UUID {}",
                self.source, given_name, self.uuid
            ),
        }
    }

    /// `StateTransitionReason` for a change the user made.
    pub fn user_reason(kind: SourceKind) -> &'static str {
        match kind {
            SourceKind::Sqs => "USER_INITIATED",
            SourceKind::Kinesis | SourceKind::DynamoDbStreams => "User action",
        }
    }
}

#[cfg(test)]
mod tests;
