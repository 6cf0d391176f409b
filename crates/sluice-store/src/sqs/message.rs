//! Messages as the store takes and gives them, and the checks AWS makes on a message before
//! it accepts it (texts as AWS's).

use std::collections::BTreeMap;
use std::time::Duration;

use super::SqsError;
use super::attributes::QueueSettings;

/// Most message attributes one message may carry.
pub const MAX_ATTRIBUTES: usize = 10;
/// Longest DelaySeconds, in seconds.
pub const MAX_DELAY_SECONDS: u64 = 900;

/// A message attribute: its data type (`String`, `Number`, `Binary`, optionally with a
/// custom suffix such as `Number.float`) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttributeValue {
    pub data_type: String,
    pub value: AttributeValue,
}

/// The value of a message attribute. The list forms exist in the model but AWS refuses
/// them ("not supported"); they are kept so the refusal can be made with AWS's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    String(String),
    Binary(Vec<u8>),
    StringList(Vec<String>),
    BinaryList(Vec<Vec<u8>>),
}

impl MessageAttributeValue {
    pub fn string(data_type: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            data_type: data_type.into(),
            value: AttributeValue::String(value.into()),
        }
    }

    pub fn binary(data_type: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            data_type: data_type.into(),
            value: AttributeValue::Binary(value.into()),
        }
    }

    /// Bytes this attribute counts towards the message size (type and value).
    fn size(&self) -> usize {
        self.data_type.len()
            + match &self.value {
                AttributeValue::String(s) => s.len(),
                AttributeValue::Binary(b) => b.len(),
                AttributeValue::StringList(l) => l.iter().map(String::len).sum(),
                AttributeValue::BinaryList(l) => l.iter().map(Vec::len).sum(),
            }
    }
}

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    pub body: String,
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// The `AWSTraceHeader` system attribute, the only one a sender may set.
    pub trace_header: Option<String>,
    /// Per-message delay; `None` takes the queue's DelaySeconds. Standard queues only.
    pub delay: Option<Duration>,
    /// Required on FIFO queues (order is kept per group); allowed on standard queues.
    pub group_id: Option<String>,
    /// FIFO queues only. When absent on a queue with ContentBasedDeduplication the API
    /// passes the SHA-256 of the body, as AWS does; an in-process sender that passes none
    /// gets the MD5 of the body instead (the store has no SHA-256).
    pub dedup_id: Option<String>,
}

impl NewMessage {
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            ..Self::default()
        }
    }

    /// `MessageSystemAttributes` as sent (for `MD5OfMessageSystemAttributes`).
    pub fn system_attributes(&self) -> BTreeMap<String, MessageAttributeValue> {
        let mut out = BTreeMap::new();
        if let Some(t) = &self.trace_header {
            out.insert(
                "AWSTraceHeader".to_owned(),
                MessageAttributeValue::string("String", t.clone()),
            );
        }
        out
    }
}

/// What SendMessage answers for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    pub md5_of_body: String,
    pub md5_of_message_attributes: Option<String>,
    pub md5_of_system_attributes: Option<String>,
    /// FIFO queues only.
    pub sequence_number: Option<String>,
}

/// A received message, with everything ReceiveMessage and the Lambda event need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// New on every receive; deletes and visibility changes name the message by it.
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// Every system attribute the message has, as AWS's strings: `SenderId`,
    /// `SentTimestamp`, `ApproximateReceiveCount`, `ApproximateFirstReceiveTimestamp`, and
    /// when they apply `SequenceNumber`, `MessageGroupId`, `MessageDeduplicationId`,
    /// `AWSTraceHeader`, `DeadLetterQueueSourceArn`.
    pub attributes: BTreeMap<String, String>,
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// Over all of `message_attributes`; `None` when there are none.
    pub md5_of_message_attributes: Option<String>,
}

/// Characters a message body (and a string attribute) may hold:
/// `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF`.
pub fn valid_characters(s: &str) -> bool {
    // Plain ASCII (most bodies) is checked a byte at a time.
    if s.is_ascii() {
        return s
            .bytes()
            .all(|b| b >= 0x20 || b == b'\t' || b == b'\n' || b == b'\r');
    }
    s.chars().all(|c| {
        matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    })
}

pub const INVALID_CHARACTERS: &str = "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF";

fn invalid(message: impl Into<String>) -> SqsError {
    SqsError::InvalidParameterValue(message.into())
}

/// MessageGroupId / MessageDeduplicationId: 1 to 128 alphanumeric or punctuation characters.
pub fn check_fifo_id(value: &str, parameter: &str) -> Result<(), SqsError> {
    let ok = (1..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )))
    }
}

/// A decimal number as AWS's Number type takes it (sign, digits, fraction, exponent).
fn is_number(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Checks one message attribute's name, type and value.
pub fn check_attribute(name: &str, v: &MessageAttributeValue) -> Result<(), SqsError> {
    if name.is_empty() {
        return Err(invalid("The message attribute name must not be empty."));
    }
    if name.len() > 256 {
        return Err(invalid(
            "Message (user) attribute names must be shorter than 256 Bytes",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(invalid(
            "Message (user) attributes name can only contain upper and lower score characters, digits, periods, hyphens and underscores. ",
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.")
        || lower.starts_with("amazon.")
        || name.starts_with('.')
        || name.ends_with('.')
    {
        return Err(invalid(
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Additionally, they cannot start or end with '.'.",
        ));
    }
    if name.contains("..") {
        return Err(invalid(format!(
            "Message (user) attribute name '{name}' can not have successive '.' character."
        )));
    }
    let t = v.data_type.as_str();
    if t.is_empty() {
        return Err(invalid(format!(
            "The message attribute '{name}' must contain non-empty message attribute type."
        )));
    }
    if t.len() > 256 {
        return Err(invalid(
            "Message (user) attribute types must be shorter than 256 Bytes",
        ));
    }
    let base = if t.starts_with("String") {
        "String"
    } else if t.starts_with("Number") {
        "Number"
    } else if t.starts_with("Binary") {
        "Binary"
    } else {
        return Err(invalid(format!(
            "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        )));
    };
    // A custom label follows a '.' (`Number.float`).
    if t.len() > base.len() && !t[base.len()..].starts_with('.') {
        return Err(invalid(format!(
            "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        )));
    }
    let empty = || {
        invalid(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{base}'."
        ))
    };
    match (&v.value, base) {
        (AttributeValue::StringList(_) | AttributeValue::BinaryList(_), _) => Err(invalid(
            "Message attribute list values in SendMessage operation are not supported.",
        )),
        (AttributeValue::String(s), "String" | "Number") => {
            if s.is_empty() {
                return Err(empty());
            }
            if !valid_characters(s) {
                return Err(invalid(INVALID_CHARACTERS));
            }
            if base == "Number" && !is_number(s) {
                return Err(invalid(format!(
                    "Can't cast the value of message (user) attribute '{name}' to a number."
                )));
            }
            Ok(())
        }
        (AttributeValue::Binary(b), "Binary") if !b.is_empty() => Ok(()),
        _ => Err(empty()),
    }
}

/// AWS's checks on a message for `settings`' queue, in AWS's order.
pub fn check(msg: &NewMessage, settings: &QueueSettings) -> Result<(), SqsError> {
    if msg.body.is_empty() {
        return Err(SqsError::MissingParameter(
            "The request must contain the parameter MessageBody.".into(),
        ));
    }
    if !valid_characters(&msg.body) {
        return Err(SqsError::InvalidMessageContents(INVALID_CHARACTERS.into()));
    }
    if msg.message_attributes.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            msg.message_attributes.len()
        )));
    }
    for (name, v) in &msg.message_attributes {
        check_attribute(name, v)?;
    }
    let size = msg.body.len()
        + msg
            .message_attributes
            .iter()
            .map(|(k, v)| k.len() + v.size())
            .sum::<usize>();
    let max = settings.maximum_message_size as usize;
    if size > max {
        return Err(invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    if let Some(t) = &msg.trace_header
        && (t.is_empty() || !valid_characters(t))
    {
        return Err(invalid(
            "Value for parameter AWSTraceHeader is invalid. Reason: The trace header must be a non-empty string.",
        ));
    }
    if let Some(d) = msg.delay {
        let secs = d.as_secs();
        if secs > MAX_DELAY_SECONDS {
            return Err(invalid(format!(
                "Value {secs} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= {MAX_DELAY_SECONDS}."
            )));
        }
        if settings.fifo && !d.is_zero() {
            return Err(invalid(format!(
                "Value {secs} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
            )));
        }
    }
    if settings.fifo {
        match &msg.group_id {
            None => {
                return Err(SqsError::MissingParameter(
                    "The request must contain the parameter MessageGroupId.".into(),
                ));
            }
            Some(g) => check_fifo_id(g, "MessageGroupId")?,
        }
        match &msg.dedup_id {
            Some(d) => check_fifo_id(d, "MessageDeduplicationId")?,
            None if settings.content_based_deduplication => {}
            None => {
                return Err(invalid(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        }
    } else {
        if let Some(d) = &msg.dedup_id {
            return Err(invalid(format!(
                "Value {d} for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type."
            )));
        }
        if let Some(g) = &msg.group_id {
            check_fifo_id(g, "MessageGroupId")?;
        }
    }
    Ok(())
}
