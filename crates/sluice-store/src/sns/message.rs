//! What Publish takes, its checks with AWS's texts, and the documents subscribers receive:
//! the JSON notification (SQS and HTTP subscribers, unless raw), the Lambda event, and the
//! HTTP subscription confirmation.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::SnsError;

/// Largest message, attributes included (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// Most message attributes a message may carry.
pub const MAX_ATTRIBUTES: usize = 10;

/// A message attribute's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    String(String),
    Binary(Vec<u8>),
}

/// A message attribute as published (`DataType` is `String`, `Number`, `Binary` or
/// `String.Array`, optionally with a custom `.suffix` for the first three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttribute {
    pub data_type: String,
    pub value: AttrValue,
}

impl MessageAttribute {
    pub fn string(data_type: &str, value: &str) -> Self {
        Self {
            data_type: data_type.to_owned(),
            value: AttrValue::String(value.to_owned()),
        }
    }

    fn len(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + match &self.value {
                AttrValue::String(s) => s.len(),
                AttrValue::Binary(b) => b.len(),
            }
    }

    /// The value as the notification's `MessageAttributes` shows it (binary in base64).
    fn shown(&self) -> String {
        match &self.value {
            AttrValue::String(s) => s.clone(),
            AttrValue::Binary(b) => base64::engine::general_purpose::STANDARD.encode(b),
        }
    }

    /// The attribute's base type: `String`, `Number`, `Binary` or `String.Array`.
    pub fn base_type(&self) -> &str {
        if self.data_type == "String.Array" {
            return "String.Array";
        }
        self.data_type
            .split_once('.')
            .map_or(self.data_type.as_str(), |(base, _)| base)
    }

    /// The value a filter policy (MessageAttributes scope) sees: strings, numbers, or the
    /// array of a `String.Array`; binary attributes are not matched.
    pub fn filter_value(&self) -> Option<Value> {
        let AttrValue::String(s) = &self.value else {
            return None;
        };
        match self.base_type() {
            "Number" => s
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            "String.Array" => serde_json::from_str(s).ok(),
            "String" => Some(Value::String(s.clone())),
            _ => None,
        }
    }
}

/// A Publish request (one entry of PublishBatch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishInput {
    pub message: String,
    pub subject: Option<String>,
    /// `MessageStructure=json`: the message is a JSON object of per-protocol messages.
    pub structure_json: bool,
    pub attributes: BTreeMap<String, MessageAttribute>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

impl PublishInput {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }
}

fn invalid(text: impl std::fmt::Display) -> SnsError {
    SnsError::InvalidParameter(format!("Invalid parameter: {text}"))
}

fn valid_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !name.to_ascii_lowercase().starts_with("aws.")
        && !name.to_ascii_lowercase().starts_with("amazon.")
}

fn valid_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_graphic())
}

/// Checks a Publish request against the topic it goes to; returns the per-protocol
/// messages (`default` and any protocol keys when `MessageStructure=json`).
pub fn check(
    input: &PublishInput,
    fifo: bool,
    content_dedup: bool,
) -> Result<BTreeMap<String, String>, SnsError> {
    if input.message.is_empty() {
        return Err(invalid("Empty message"));
    }
    if let Some(subject) = &input.subject
        && (subject.is_empty()
            || subject.chars().count() > 100
            || !subject
                .chars()
                .all(|c| c.is_ascii() && !c.is_ascii_control()))
    {
        return Err(invalid("Subject"));
    }
    if input.attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "MessageAttributes Reason: Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            input.attributes.len()
        )));
    }
    for (name, attr) in &input.attributes {
        check_attribute(name, attr)?;
    }
    let size = input.message.len()
        + input
            .attributes
            .iter()
            .map(|(n, a)| a.len(n))
            .sum::<usize>();
    if size > MAX_MESSAGE_BYTES {
        return Err(invalid("Message too long"));
    }
    if fifo {
        match &input.group_id {
            None => {
                return Err(invalid(
                    "The MessageGroupId parameter is required for FIFO topics",
                ));
            }
            Some(g) if !valid_token(g) => {
                return Err(invalid(
                    "MessageGroupId Reason: MessageGroupId must be 1-128 characters long and contain only alphanumeric characters and punctuation",
                ));
            }
            Some(_) => {}
        }
        match &input.dedup_id {
            None if !content_dedup => {
                return Err(invalid(
                    "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
            Some(d) if !valid_token(d) => {
                return Err(invalid(
                    "MessageDeduplicationId Reason: MessageDeduplicationId must be 1-128 characters long and contain only alphanumeric characters and punctuation",
                ));
            }
            _ => {}
        }
    } else {
        if input.dedup_id.is_some() {
            return Err(invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ));
        }
        if let Some(g) = &input.group_id
            && !valid_token(g)
        {
            return Err(invalid(
                "MessageGroupId Reason: MessageGroupId must be 1-128 characters long and contain only alphanumeric characters and punctuation",
            ));
        }
    }
    let mut messages = BTreeMap::new();
    if input.structure_json {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&input.message) else {
            return Err(invalid(
                "Message Structure - JSON message body failed to parse",
            ));
        };
        let Some(Value::String(_)) = map.get("default") else {
            return Err(invalid(
                "Message Structure - No default entry in JSON message body",
            ));
        };
        for (k, v) in map {
            if let Value::String(s) = v {
                messages.insert(k, s);
            }
        }
    } else {
        messages.insert("default".to_owned(), input.message.clone());
    }
    Ok(messages)
}

fn check_attribute(name: &str, attr: &MessageAttribute) -> Result<(), SnsError> {
    let reason = |why: String| invalid(format!("MessageAttributes Reason: {why}"));
    if !valid_attribute_name(name) {
        return Err(reason(format!(
            "The message attribute name '{name}' is invalid. Attribute names can contain only alphanumeric characters, hyphens, underscores and periods, must not start or end with a period, must not contain two periods in a row, and must not start with 'AWS.' or 'Amazon.'"
        )));
    }
    let base = attr.base_type();
    let custom_ok = attr.data_type.len() <= 256
        && matches!(base, "String" | "Number" | "Binary" | "String.Array");
    if !custom_ok {
        return Err(reason(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )));
    }
    match (&attr.value, base) {
        (AttrValue::Binary(b), "Binary") if !b.is_empty() => Ok(()),
        (AttrValue::String(s), "String" | "Number" | "String.Array") if !s.is_empty() => {
            if base == "Number" && s.parse::<f64>().is_err() {
                return Err(reason(format!(
                    "Could not cast message attribute '{name}' value to number."
                )));
            }
            if base == "String.Array" && !matches!(serde_json::from_str(s), Ok(Value::Array(_))) {
                return Err(reason(format!(
                    "Invalid value for message attribute '{name}' of type 'String.Array': the value must be a JSON array."
                )));
            }
            Ok(())
        }
        _ => Err(reason(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{base}'."
        ))),
    }
}

/// One published message as subscribers see it.
#[derive(Debug, Clone)]
pub struct Notification<'a> {
    pub message_id: &'a str,
    pub topic_arn: &'a str,
    pub subject: Option<&'a str>,
    pub message: &'a str,
    pub timestamp: &'a str,
    pub sequence_number: Option<&'a str>,
    pub attributes: &'a BTreeMap<String, MessageAttribute>,
    /// Where this Sluice serves the signing certificate and Unsubscribe.
    pub endpoint: &'a str,
}

fn quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// A stand-in signature: the Base64 SHA-256 of the notification's string to sign. Sluice
/// has no AWS signing key, so it cannot be verified against AWS's certificate.
fn signature(parts: &[(&str, &str)]) -> String {
    let mut h = Sha256::new();
    for (k, v) in parts {
        h.update(k.as_bytes());
        h.update(b"\n");
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

impl Notification<'_> {
    pub fn signing_cert_url(&self) -> String {
        format!(
            "{}/_sluice/sns/SimpleNotificationService.pem",
            self.endpoint
        )
    }

    pub fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={}",
            self.endpoint,
            crate::sns::url_encode(subscription_arn)
        )
    }

    fn signature(&self) -> String {
        let mut parts = vec![("Message", self.message), ("MessageId", self.message_id)];
        if let Some(s) = self.subject {
            parts.push(("Subject", s));
        }
        parts.extend([
            ("Timestamp", self.timestamp),
            ("TopicArn", self.topic_arn),
            ("Type", "Notification"),
        ]);
        signature(&parts)
    }

    /// The JSON document SQS and HTTP subscribers get (AWS's layout: `"Key" : value`, one
    /// member a line).
    pub fn json(&self, subscription_arn: &str) -> String {
        let mut members: Vec<(&str, String)> = vec![
            ("Type", quoted("Notification")),
            ("MessageId", quoted(self.message_id)),
        ];
        if let Some(seq) = self.sequence_number {
            members.push(("SequenceNumber", quoted(seq)));
        }
        members.push(("TopicArn", quoted(self.topic_arn)));
        if let Some(s) = self.subject {
            members.push(("Subject", quoted(s)));
        }
        members.extend([
            ("Message", quoted(self.message)),
            ("Timestamp", quoted(self.timestamp)),
            ("SignatureVersion", quoted("1")),
            ("Signature", quoted(&self.signature())),
            ("SigningCertURL", quoted(&self.signing_cert_url())),
            (
                "UnsubscribeURL",
                quoted(&self.unsubscribe_url(subscription_arn)),
            ),
        ]);
        if !self.attributes.is_empty() {
            let attrs: Vec<String> = self
                .attributes
                .iter()
                .map(|(k, a)| {
                    format!(
                        "    {} : {}",
                        quoted(k),
                        json!({"Type": a.data_type, "Value": a.shown()})
                    )
                })
                .collect();
            members.push((
                "MessageAttributes",
                format!("{{\n{}\n  }}", attrs.join(",\n")),
            ));
        }
        let body: Vec<String> = members
            .into_iter()
            .map(|(k, v)| format!("  {} : {v}", quoted(k)))
            .collect();
        format!("{{\n{}\n}}", body.join(",\n"))
    }

    /// The event a `lambda` subscriber's function is invoked with.
    pub fn lambda_event(&self, subscription_arn: &str) -> Value {
        let attrs: serde_json::Map<String, Value> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), json!({"Type": a.data_type, "Value": a.shown()})))
            .collect();
        let mut sns = json!({
            "Type": "Notification",
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
            "Subject": self.subject,
            "Message": self.message,
            "Timestamp": self.timestamp,
            "SignatureVersion": "1",
            "Signature": self.signature(),
            "SigningCertUrl": self.signing_cert_url(),
            "UnsubscribeUrl": self.unsubscribe_url(subscription_arn),
            "MessageAttributes": attrs,
        });
        if let (Some(seq), Some(obj)) = (self.sequence_number, sns.as_object_mut()) {
            obj.insert("SequenceNumber".into(), json!(seq));
        }
        json!({"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": sns,
        }]})
    }
}

/// The document an `http`/`https` endpoint gets when subscribed.
pub fn confirmation_json(
    message_id: &str,
    token: &str,
    topic_arn: &str,
    timestamp: &str,
    endpoint: &str,
) -> String {
    let message = format!(
        "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
    );
    let subscribe_url = format!(
        "{endpoint}/?Action=ConfirmSubscription&TopicArn={}&Token={token}",
        crate::sns::url_encode(topic_arn)
    );
    let sig = signature(&[
        ("Message", &message),
        ("MessageId", message_id),
        ("SubscribeURL", &subscribe_url),
        ("Timestamp", timestamp),
        ("Token", token),
        ("TopicArn", topic_arn),
        ("Type", "SubscriptionConfirmation"),
    ]);
    let doc = json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": message,
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
        "SignatureVersion": "1",
        "Signature": sig,
        "SigningCertURL": format!("{endpoint}/_sluice/sns/SimpleNotificationService.pem"),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
