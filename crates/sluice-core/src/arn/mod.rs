//! Identifiers parsed once at the edge: event source ARNs, destination ARNs and the
//! `FunctionName` forms Lambda accepts.
//!
//! Parsing here is structural only (which service, which resource). Whether the resource
//! exists is the caller's question. Every parser accepts any partition (`aws`, `aws-cn`, ...)
//! and keeps the original text so responses echo exactly what the client sent.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Region and account that Sluice answers for. Resources in another region or account do
/// not exist, exactly as they would not exist for a caller of one AWS account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Scope {
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account: account.into(),
        }
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account
        )
    }

    /// `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`.
    pub fn mapping_arn(&self, uuid: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:event-source-mapping:{uuid}",
            self.region, self.account
        )
    }

    pub fn kinesis_stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.region, self.account
        )
    }

    pub fn sqs_queue_arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account)
    }

    pub fn sns_topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }

    pub fn dynamodb_stream_arn(&self, table: &str, label: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{table}/stream/{label}",
            self.region, self.account
        )
    }
}

/// The general ARN shape of the Lambda model (`Arn`), used for `EventSourceArn`.
pub const EVENT_SOURCE_ARN_PATTERN: &str = r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)";

/// The Lambda model's `DestinationArn` pattern.
pub const DESTINATION_ARN_PATTERN: &str = r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)";

/// The Lambda model's `NamespacedFunctionName` pattern.
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";

fn anchored(pattern: &str) -> Regex {
    // The model patterns are whole-string matches.
    #[allow(clippy::expect_used)]
    Regex::new(&format!("^(?:{pattern})$")).expect("model patterns are valid regexes")
}

static EVENT_SOURCE_ARN_RE: LazyLock<Regex> = LazyLock::new(|| anchored(EVENT_SOURCE_ARN_PATTERN));
static DESTINATION_ARN_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DESTINATION_ARN_PATTERN));
static FUNCTION_NAME_RE: LazyLock<Regex> = LazyLock::new(|| anchored(FUNCTION_NAME_PATTERN));
static FUNCTION_PARTS_RE: LazyLock<Regex> = LazyLock::new(|| {
    anchored(
        r"(?:arn:aws[a-zA-Z-]*:lambda:(?P<r1>[a-z0-9-]+):(?P<a1>\d{12}):|(?:(?P<r2>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(?P<a2>\d{12}):)?)(?:function:)?(?P<name>[a-zA-Z0-9\-_\.]+)(?::(?P<qual>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?",
    )
});

/// True when `s` matches the model's `Arn` pattern (the `EventSourceArn` constraint).
pub fn is_valid_event_source_arn(s: &str) -> bool {
    EVENT_SOURCE_ARN_RE.is_match(s)
}

/// True when `s` matches the model's `DestinationArn` pattern.
pub fn is_valid_destination_arn(s: &str) -> bool {
    DESTINATION_ARN_RE.is_match(s)
}

/// True when `s` matches the model's `NamespacedFunctionName` pattern.
pub fn is_valid_function_name(s: &str) -> bool {
    FUNCTION_NAME_RE.is_match(s)
}

/// A parsed generic ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Self {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

/// What kind of event source an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceKind {
    /// A Kinesis data stream, or an enhanced fan-out consumer of one.
    Kinesis,
    /// A DynamoDB table's stream.
    DynamoDbStreams,
    /// An SQS queue, standard or FIFO.
    Sqs,
}

impl SourceKind {
    /// Stream sources share one engine and one set of settings.
    pub fn is_stream(self) -> bool {
        matches!(self, SourceKind::Kinesis | SourceKind::DynamoDbStreams)
    }
}

/// An event source, identified by its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceArn {
    KinesisStream {
        arn: String,
        region: String,
        account: String,
        stream: String,
    },
    KinesisConsumer {
        arn: String,
        region: String,
        account: String,
        stream: String,
        consumer: String,
    },
    DynamoDbStream {
        arn: String,
        region: String,
        account: String,
        table: String,
        label: String,
    },
    SqsQueue {
        arn: String,
        region: String,
        account: String,
        queue: String,
    },
}

impl SourceArn {
    /// Parses an `EventSourceArn`. `None` when the ARN is not one of the sources Sluice
    /// serves (Kinesis stream or consumer, DynamoDB stream, SQS queue).
    pub fn parse(s: &str) -> Option<Self> {
        let arn = Arn::parse(s)?;
        let (region, account) = (arn.region.to_owned(), arn.account.to_owned());
        match arn.service {
            "kinesis" => {
                let rest = arn.resource.strip_prefix("stream/")?;
                match rest.split_once("/consumer/") {
                    None if valid_stream_name(rest) => Some(Self::KinesisStream {
                        arn: s.to_owned(),
                        region,
                        account,
                        stream: rest.to_owned(),
                    }),
                    Some((stream, consumer)) if valid_stream_name(stream) => {
                        let (name, created) = consumer.rsplit_once(':')?;
                        if !valid_stream_name(name)
                            || created.is_empty()
                            || !created.bytes().all(|b| b.is_ascii_digit())
                        {
                            return None;
                        }
                        Some(Self::KinesisConsumer {
                            arn: s.to_owned(),
                            region,
                            account,
                            stream: stream.to_owned(),
                            consumer: name.to_owned(),
                        })
                    }
                    _ => None,
                }
            }
            "dynamodb" => {
                let rest = arn.resource.strip_prefix("table/")?;
                let (table, label) = rest.split_once("/stream/")?;
                if table.len() < 3 || !valid_stream_name(table) || label.is_empty() {
                    return None;
                }
                Some(Self::DynamoDbStream {
                    arn: s.to_owned(),
                    region,
                    account,
                    table: table.to_owned(),
                    label: label.to_owned(),
                })
            }
            "sqs" => {
                let queue = arn.resource;
                if !valid_queue_name(queue) {
                    return None;
                }
                Some(Self::SqsQueue {
                    arn: s.to_owned(),
                    region,
                    account,
                    queue: queue.to_owned(),
                })
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::KinesisStream { arn, .. }
            | Self::KinesisConsumer { arn, .. }
            | Self::DynamoDbStream { arn, .. }
            | Self::SqsQueue { arn, .. } => arn,
        }
    }

    pub fn kind(&self) -> SourceKind {
        match self {
            Self::KinesisStream { .. } | Self::KinesisConsumer { .. } => SourceKind::Kinesis,
            Self::DynamoDbStream { .. } => SourceKind::DynamoDbStreams,
            Self::SqsQueue { .. } => SourceKind::Sqs,
        }
    }

    /// True for a FIFO queue (its name ends in `.fifo`).
    pub fn is_fifo_queue(&self) -> bool {
        matches!(self, Self::SqsQueue { queue, .. } if queue.ends_with(".fifo"))
    }
}

impl fmt::Display for SourceArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn valid_stream_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn valid_queue_name(s: &str) -> bool {
    let base = s.strip_suffix(".fifo").unwrap_or(s);
    !base.is_empty()
        && s.len() <= 80
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// Where an on-failure destination sends records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DestinationArn {
    SqsQueue { arn: String, queue: String },
    SnsTopic { arn: String, topic: String },
}

impl DestinationArn {
    /// Parses an on-failure `Destination`. `None` for anything but an SQS queue or an SNS
    /// topic ARN (S3 buckets and Kafka topics are not served by Sluice).
    pub fn parse(s: &str) -> Option<Self> {
        let arn = Arn::parse(s)?;
        match arn.service {
            "sqs" if valid_queue_name(arn.resource) => Some(Self::SqsQueue {
                arn: s.to_owned(),
                queue: arn.resource.to_owned(),
            }),
            "sns" if valid_topic_name(arn.resource) => Some(Self::SnsTopic {
                arn: s.to_owned(),
                topic: arn.resource.to_owned(),
            }),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::SqsQueue { arn, .. } | Self::SnsTopic { arn, .. } => arn,
        }
    }
}

fn valid_topic_name(s: &str) -> bool {
    let base = s.strip_suffix(".fifo").unwrap_or(s);
    !base.is_empty()
        && s.len() <= 256
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// The function name inside a (possibly qualified) function ARN
/// (`arn:aws:lambda:r:a:function:NAME[:QUALIFIER]` → `NAME`); the input itself when it is
/// not a function ARN.
pub fn function_name_of(arn: &str) -> &str {
    arn.split(":function:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or(arn)
}

/// A `FunctionName` as given: a name, a partial ARN or a full ARN, with an optional
/// qualifier (`$LATEST`, a version or an alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub region: Option<String>,
    pub account: Option<String>,
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    /// Parses any form the model's `NamespacedFunctionName` allows. `None` when `s` does not
    /// match it.
    pub fn parse(s: &str) -> Option<Self> {
        if !is_valid_function_name(s) {
            return None;
        }
        let caps = FUNCTION_PARTS_RE.captures(s)?;
        let get = |n: &str| caps.name(n).map(|m| m.as_str().to_owned());
        Some(Self {
            region: get("r1").or_else(|| get("r2")),
            account: get("a1").or_else(|| get("a2")),
            name: get("name")?,
            qualifier: get("qual"),
        })
    }

    /// True when this reference can only name a function of another region or account.
    pub fn is_foreign(&self, scope: &Scope) -> bool {
        self.region.as_deref().is_some_and(|r| r != scope.region)
            || self.account.as_deref().is_some_and(|a| a != scope.account)
    }

    /// The function ARN, keeping the qualifier when one was given.
    pub fn qualified_arn(&self, scope: &Scope) -> String {
        let base = scope.function_arn(&self.name);
        match &self.qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }
}

#[cfg(test)]
mod tests;
