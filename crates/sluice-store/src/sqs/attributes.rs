//! Queue attributes: the typed settings of a queue, parsed from CreateQueue's and
//! SetQueueAttributes' name/value strings with AWS's checks and texts, and rendered back as
//! GetQueueAttributes' strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SqsError;

/// Where a queue name stands: FIFO names end in `.fifo`, which counts towards the 80.
pub fn check_queue_name(name: &str, fifo: bool) -> Result<(), SqsError> {
    let ok_chars = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if fifo {
        let ok = name.len() <= 80 && name.strip_suffix(".fifo").is_some_and(ok_chars);
        if !ok {
            return Err(SqsError::InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into(),
            ));
        }
    } else if name.len() > 80 || !ok_chars(name) {
        return Err(SqsError::InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                .into(),
        ));
    }
    Ok(())
}

/// `RedrivePolicy`: where messages go after `max_receive_count` receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// The policy as GetQueueAttributes shows it.
    pub fn render(&self) -> String {
        serde_json::json!({
            "deadLetterTargetArn": self.dead_letter_target_arn,
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }
}

/// A queue's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSettings {
    pub fifo: bool,
    /// Seconds a received message stays invisible (0..=43200, default 30).
    pub visibility_timeout: u32,
    /// Seconds a message is kept (60..=1209600, default 345600).
    pub message_retention_period: u32,
    /// Seconds a new message waits before it can be received (0..=900, default 0).
    pub delay_seconds: u32,
    /// Default long-poll wait of ReceiveMessage (0..=20, default 0).
    pub receive_message_wait_time_seconds: u32,
    /// Bytes of body plus attributes (1024..=1048576, default 1048576).
    pub maximum_message_size: u32,
    pub content_based_deduplication: bool,
    /// `queue` or `messageGroup` (FIFO only).
    pub deduplication_scope: String,
    /// `perQueue` or `perMessageGroupId` (FIFO only; stored, not enforced).
    pub fifo_throughput_limit: String,
    pub redrive_policy: Option<RedrivePolicy>,
    /// Kept as given (validated); not enforced.
    pub redrive_allow_policy: Option<String>,
    /// Kept as given; Sluice does not authorize.
    pub policy: Option<String>,
    pub kms_master_key_id: Option<String>,
    pub kms_data_key_reuse_period_seconds: Option<u32>,
    pub sqs_managed_sse_enabled: bool,
}

pub const DEFAULT_MAXIMUM_MESSAGE_SIZE: u32 = 1_048_576;

impl QueueSettings {
    pub fn defaults(fifo: bool) -> Self {
        Self {
            fifo,
            visibility_timeout: 30,
            message_retention_period: 345_600,
            delay_seconds: 0,
            receive_message_wait_time_seconds: 0,
            maximum_message_size: DEFAULT_MAXIMUM_MESSAGE_SIZE,
            content_based_deduplication: false,
            deduplication_scope: "queue".into(),
            fifo_throughput_limit: "perQueue".into(),
            redrive_policy: None,
            redrive_allow_policy: None,
            policy: None,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: None,
            sqs_managed_sse_enabled: true,
        }
    }

    /// The settings of a new queue named `name` with CreateQueue's `attributes`.
    pub fn for_create(name: &str, attributes: &BTreeMap<String, String>) -> Result<Self, SqsError> {
        let fifo = match attributes.get("FifoQueue") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(invalid_value("FifoQueue")),
        };
        check_queue_name(name, fifo)?;
        let mut s = Self::defaults(fifo);
        s.apply(attributes)?;
        Ok(s)
    }

    /// Applies name/value attributes (CreateQueue's or SetQueueAttributes'). Checks
    /// everything before changing anything.
    pub fn apply(&mut self, attributes: &BTreeMap<String, String>) -> Result<(), SqsError> {
        let mut next = self.clone();
        for (k, v) in attributes {
            next.apply_one(k, v)?;
        }
        if next.kms_master_key_id.is_some()
            && attributes
                .get("SqsManagedSseEnabled")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return Err(SqsError::InvalidAttributeName(
                "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.".into(),
            ));
        }
        if next.fifo_throughput_limit == "perMessageGroupId"
            && next.deduplication_scope != "messageGroup"
        {
            return Err(SqsError::InvalidAttributeValue(
                "Invalid value for the parameter FifoThroughputLimit. Reason: The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup.".into(),
            ));
        }
        *self = next;
        Ok(())
    }

    fn apply_one(&mut self, k: &str, v: &str) -> Result<(), SqsError> {
        match k {
            "VisibilityTimeout" => self.visibility_timeout = number(k, v, 0, 43_200)?,
            "MessageRetentionPeriod" => {
                self.message_retention_period = number(k, v, 60, 1_209_600)?;
            }
            "DelaySeconds" => self.delay_seconds = number(k, v, 0, 900)?,
            "ReceiveMessageWaitTimeSeconds" => {
                self.receive_message_wait_time_seconds = number(k, v, 0, 20)?;
            }
            "MaximumMessageSize" => {
                self.maximum_message_size = number(k, v, 1024, DEFAULT_MAXIMUM_MESSAGE_SIZE)?;
            }
            "RedrivePolicy" => self.redrive_policy = parse_redrive_policy(v)?,
            "RedriveAllowPolicy" => self.redrive_allow_policy = parse_redrive_allow_policy(v)?,
            "Policy" => {
                if v.is_empty() {
                    self.policy = None;
                } else if serde_json::from_str::<serde_json::Value>(v).is_ok_and(|p| p.is_object())
                {
                    self.policy = Some(v.to_owned());
                } else {
                    return Err(invalid_value("Policy"));
                }
            }
            "KmsMasterKeyId" => {
                if v.is_empty() {
                    self.kms_master_key_id = None;
                } else {
                    self.kms_master_key_id = Some(v.to_owned());
                    self.sqs_managed_sse_enabled = false;
                }
            }
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds = Some(number(k, v, 60, 86_400)?);
            }
            "SqsManagedSseEnabled" => self.sqs_managed_sse_enabled = boolean(k, v)?,
            "FifoQueue" if self.fifo => {
                if !v.eq_ignore_ascii_case("true") {
                    return Err(SqsError::InvalidAttributeValue(
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.".into(),
                    ));
                }
            }
            "ContentBasedDeduplication" if self.fifo => {
                self.content_based_deduplication = boolean(k, v)?;
            }
            "DeduplicationScope" | "FifoThroughputLimit" if !self.fifo => {
                return Err(SqsError::InvalidAttributeName(format!(
                    "You can specify the {k} only when FifoQueue is set to true."
                )));
            }
            "DeduplicationScope" => {
                if v != "queue" && v != "messageGroup" {
                    return Err(invalid_value(k));
                }
                self.deduplication_scope = v.to_owned();
            }
            "FifoThroughputLimit" => {
                if v != "perQueue" && v != "perMessageGroupId" {
                    return Err(invalid_value(k));
                }
                self.fifo_throughput_limit = v.to_owned();
            }
            _ => {
                return Err(SqsError::InvalidAttributeName(format!(
                    "Unknown Attribute {k}."
                )));
            }
        }
        Ok(())
    }

    /// The settable attributes as GetQueueAttributes shows them.
    pub fn render(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            out.insert(k.to_owned(), v);
        };
        put("VisibilityTimeout", self.visibility_timeout.to_string());
        put("MaximumMessageSize", self.maximum_message_size.to_string());
        put(
            "MessageRetentionPeriod",
            self.message_retention_period.to_string(),
        );
        put("DelaySeconds", self.delay_seconds.to_string());
        put(
            "ReceiveMessageWaitTimeSeconds",
            self.receive_message_wait_time_seconds.to_string(),
        );
        put(
            "SqsManagedSseEnabled",
            self.sqs_managed_sse_enabled.to_string(),
        );
        if let Some(p) = &self.policy {
            put("Policy", p.clone());
        }
        if let Some(r) = &self.redrive_policy {
            put("RedrivePolicy", r.render());
        }
        if let Some(r) = &self.redrive_allow_policy {
            put("RedriveAllowPolicy", r.clone());
        }
        if let Some(k) = &self.kms_master_key_id {
            put("KmsMasterKeyId", k.clone());
            put(
                "KmsDataKeyReusePeriodSeconds",
                self.kms_data_key_reuse_period_seconds
                    .unwrap_or(300)
                    .to_string(),
            );
        }
        if self.fifo {
            put("FifoQueue", "true".into());
            put(
                "ContentBasedDeduplication",
                self.content_based_deduplication.to_string(),
            );
            put("DeduplicationScope", self.deduplication_scope.clone());
            put("FifoThroughputLimit", self.fifo_throughput_limit.clone());
        }
        out
    }

    /// The first of `attributes` whose value differs from this queue's (CreateQueue on an
    /// existing name). `Err` when the attributes themselves are invalid.
    pub fn first_difference(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Option<String>, SqsError> {
        let asked = Self::for_create(name, attributes)?;
        let (mine, theirs) = (self.render(), asked.render());
        for k in attributes.keys() {
            if k == "FifoQueue" {
                if asked.fifo != self.fifo {
                    return Ok(Some(k.clone()));
                }
                continue;
            }
            if mine.get(k) != theirs.get(k) {
                return Ok(Some(k.clone()));
            }
        }
        Ok(None)
    }
}

fn invalid_value(k: &str) -> SqsError {
    SqsError::InvalidAttributeValue(format!("Invalid value for the parameter {k}."))
}

fn number(k: &str, v: &str, min: u32, max: u32) -> Result<u32, SqsError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| invalid_value(k))
}

fn boolean(k: &str, v: &str) -> Result<bool, SqsError> {
    if v.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(invalid_value(k))
    }
}

/// An SQS queue ARN's parts: (region, account, name).
pub fn parse_queue_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (scheme, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = scheme == "arn"
        && partition.starts_with("aws")
        && service == "sqs"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty();
    ok.then_some((region, account, name))
}

fn parse_redrive_policy(raw: &str) -> Result<Option<RedrivePolicy>, SqsError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| {
        SqsError::InvalidParameterValue(format!(
            "Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}"
        ))
    };
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|_| bad("Redrive policy is not a valid JSON map."))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("Redrive policy is not a valid JSON map."))?;
    for k in obj.keys() {
        if k != "deadLetterTargetArn" && k != "maxReceiveCount" {
            return Err(bad(&format!(
                "Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount], found: {k}."
            )));
        }
    }
    let arn = match obj.get("deadLetterTargetArn") {
        None => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            ));
        }
        Some(v) => v
            .as_str()
            .filter(|a| parse_queue_arn(a).is_some())
            .ok_or_else(|| bad("Invalid value for deadLetterTargetArn."))?,
    };
    let count_text = match obj.get("maxReceiveCount") {
        None => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ));
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let count = count_text
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            bad(&format!(
                "Invalid value for maxReceiveCount: {count_text}, valid values are from 1 to 1000 both inclusive."
            ))
        })?;
    Ok(Some(RedrivePolicy {
        dead_letter_target_arn: arn.to_owned(),
        max_receive_count: count,
    }))
}

fn parse_redrive_allow_policy(raw: &str) -> Result<Option<String>, SqsError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| {
        SqsError::InvalidParameterValue(format!(
            "Value {raw} for parameter RedriveAllowPolicy is invalid. Reason: {reason}"
        ))
    };
    let value: serde_json::Value = serde_json::from_str(raw)
        .map_err(|_| bad("Redrive allow policy is not a valid JSON map."))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("Redrive allow policy is not a valid JSON map."))?;
    let permission = obj
        .get("redrivePermission")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            bad("Redrive allow policy does not contain mandatory attribute: redrivePermission.")
        })?;
    let sources = obj.get("sourceQueueArns");
    match permission {
        "allowAll" | "denyAll" if sources.is_some() => Err(bad(
            "sourceQueueArns can be specified only when redrivePermission is byQueue.",
        )),
        "allowAll" | "denyAll" => Ok(Some(raw.to_owned())),
        "byQueue" => {
            let arns = sources.and_then(|s| s.as_array()).ok_or_else(|| {
                bad("sourceQueueArns must be specified when redrivePermission is byQueue.")
            })?;
            if arns.is_empty() || arns.len() > 10 {
                return Err(bad("sourceQueueArns must contain 1 to 10 queue ARNs."));
            }
            if arns
                .iter()
                .any(|a| a.as_str().and_then(parse_queue_arn).is_none())
            {
                return Err(bad("Invalid value for sourceQueueArns."));
            }
            Ok(Some(raw.to_owned()))
        }
        _ => Err(bad("Invalid value for redrivePermission.")),
    }
}
