//! The awsJson 1.0 / 1.1 protocols: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`.
//!
//! Errors are HTTP 400 (500 for internal failures) with
//! `{"__type": "<namespace>#<Code>", "message": "..."}`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The services that speak awsJson, by their target prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonService {
    Kinesis,
    Sqs,
    DynamoDb,
    DynamoDbStreams,
}

impl JsonService {
    /// Splits `X-Amz-Target` into service and operation.
    pub fn from_target(target: &str) -> Option<(Self, &str)> {
        let (prefix, op) = target.split_once('.')?;
        let service = match prefix {
            "Kinesis_20131202" => Self::Kinesis,
            "AmazonSQS" => Self::Sqs,
            "DynamoDB_20120810" => Self::DynamoDb,
            "DynamoDBStreams_20120810" => Self::DynamoDbStreams,
            _ => return None,
        };
        Some((service, op))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Kinesis => "application/x-amz-json-1.1",
            Self::Sqs | Self::DynamoDb | Self::DynamoDbStreams => "application/x-amz-json-1.0",
        }
    }
}

/// An awsJson error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub content_type: &'static str,
}

impl JsonError {
    pub fn unknown_operation(service: JsonService, op: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException".into(),
            message: format!("Operation {op} is not supported by this Sluice yet."),
            content_type: service.content_type(),
        }
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.code, "message": self.message});
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static(self.content_type));
        resp
    }
}
