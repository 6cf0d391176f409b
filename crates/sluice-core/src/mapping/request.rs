//! Wire shapes of the Create and Update requests, as the Lambda model names their members.
//!
//! Every member is optional here: presence rules differ by source type and are checked in
//! [`super::validate`], so a missing member yields AWS's own message, not a serde error.
//! Unknown members are ignored, as AWS ignores them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterCriteria {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<OnDestination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnDestination>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OnDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_concurrency: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<String>>,
}

/// `CreateEventSourceMapping` body.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    pub event_source_arn: Option<String>,
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub filter_criteria: Option<FilterCriteria>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub parallelization_factor: Option<i64>,
    pub starting_position: Option<String>,
    pub starting_position_timestamp: Option<f64>,
    pub destination_config: Option<DestinationConfig>,
    pub maximum_record_age_in_seconds: Option<i64>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub maximum_retry_attempts: Option<i64>,
    pub tags: Option<BTreeMap<String, String>>,
    pub tumbling_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    pub scaling_config: Option<ScalingConfig>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    pub metrics_config: Option<MetricsConfig>,
    /// Members for Kafka, MQ and DocumentDB sources, which Sluice does not serve. Kept
    /// only to refuse them with a clear error.
    #[serde(flatten)]
    pub unsupported: UnsupportedMembers,
}

/// `UpdateEventSourceMapping` body. `EventSourceArn`, `StartingPosition` and `Tags` are not
/// updatable and are ignored if sent, as AWS ignores unknown members.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRequest {
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub filter_criteria: Option<FilterCriteria>,
    pub maximum_batching_window_in_seconds: Option<i64>,
    pub parallelization_factor: Option<i64>,
    pub destination_config: Option<DestinationConfig>,
    pub maximum_record_age_in_seconds: Option<i64>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub maximum_retry_attempts: Option<i64>,
    pub tumbling_window_in_seconds: Option<i64>,
    pub function_response_types: Option<Vec<String>>,
    pub scaling_config: Option<ScalingConfig>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    pub metrics_config: Option<MetricsConfig>,
    #[serde(flatten)]
    pub unsupported: UnsupportedMembers,
}

/// Members that only apply to sources Sluice does not serve.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnsupportedMembers {
    pub topics: Option<Value>,
    pub queues: Option<Value>,
    pub source_access_configurations: Option<Value>,
    pub self_managed_event_source: Option<Value>,
    pub amazon_managed_kafka_event_source_config: Option<Value>,
    pub self_managed_kafka_event_source_config: Option<Value>,
    #[serde(rename = "DocumentDBEventSourceConfig")]
    pub document_db_event_source_config: Option<Value>,
    pub provisioned_poller_config: Option<Value>,
    pub logging_config: Option<Value>,
}

impl UnsupportedMembers {
    /// The first member present, by its wire name.
    pub fn first_present(&self) -> Option<&'static str> {
        [
            ("Topics", &self.topics),
            ("Queues", &self.queues),
            (
                "SourceAccessConfigurations",
                &self.source_access_configurations,
            ),
            ("SelfManagedEventSource", &self.self_managed_event_source),
            (
                "AmazonManagedKafkaEventSourceConfig",
                &self.amazon_managed_kafka_event_source_config,
            ),
            (
                "SelfManagedKafkaEventSourceConfig",
                &self.self_managed_kafka_event_source_config,
            ),
            (
                "DocumentDBEventSourceConfig",
                &self.document_db_event_source_config,
            ),
            ("ProvisionedPollerConfig", &self.provisioned_poller_config),
            ("LoggingConfig", &self.logging_config),
        ]
        .into_iter()
        .find(|(_, v)| v.as_ref().is_some_and(|v| !v.is_null()))
        .map(|(name, _)| name)
    }
}
