//! The SNS API (query protocol: form-encoded `Action=<Op>`, XML answers in the
//! `http://sns.amazonaws.com/doc/2010-03-31/` namespace) on the embedded
//! [`sluice_store::sns::SnsStore`].
//!
//! Requests flatten maps as `Attributes.entry.N.key` / `.value` (message attributes as
//! `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` /
//! `.Value.BinaryValue`) and lists as `Tags.member.N.Key`, `TagKeys.member.N`,
//! `PublishBatchRequestEntries.member.N.<Member>`.

mod form;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sluice_store::sns::{PublishInput, SnsError, SnsStore, SubscriptionRecord};

use crate::AppState;
use crate::protocol::aws_query::{QueryError, xml_escape};
use form::Form;

pub const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// Page size of ListTopics and ListSubscriptions(ByTopic).
const PAGE: usize = 100;
/// Most entries in a PublishBatch.
const MAX_BATCH: usize = 10;

const ACTIONS: [&str; 17] = [
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "PublishBatch",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Whether `action` is an SNS action (routes unsigned query requests).
pub fn is_action(action: &str) -> bool {
    ACTIONS.contains(&action)
}

/// An SNS error on the wire.
#[derive(Debug)]
pub struct Fail {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Fail {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid(text: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            format!("Invalid parameter: {text}"),
        )
    }

    /// A required member is missing.
    fn missing(member: &str) -> Self {
        let mut m = member.chars();
        let lower: String = m
            .next()
            .map(|c| c.to_lowercase().chain(m).collect())
            .unwrap_or_default();
        Self::new(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            format!(
                "1 validation error detected: Value null at '{lower}' failed to satisfy constraint: Member must not be null"
            ),
        )
    }
}

impl From<SnsError> for Fail {
    fn from(e: SnsError) -> Self {
        match e {
            SnsError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, "NotFound", m),
            SnsError::InvalidParameter(m) => {
                Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", m)
            }
            SnsError::ResourceNotFound(m) => {
                Self::new(StatusCode::NOT_FOUND, "ResourceNotFound", m)
            }
            SnsError::TagLimitExceeded(m) => {
                Self::new(StatusCode::BAD_REQUEST, "TagLimitExceeded", m)
            }
            SnsError::Store(e) => {
                tracing::error!(error = %e, "SNS store failure.");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "Request could not be completed.",
                )
            }
        }
    }
}

type Outcome = Result<Option<String>, Fail>;

/// Answers a query-protocol SNS request.
pub async fn handle_query(app: AppState, pairs: Vec<(String, String)>) -> Response {
    let request_id = crate::protocol::request_id();
    let form = Form::new(pairs);
    let action = form.get("Action").unwrap_or_default().to_owned();
    let sns = &app.sns;
    let outcome = dispatch(sns, &action, &form).await;
    match outcome {
        Ok(result) => {
            let result = result
                .map(|r| format!("<{action}Result>{r}</{action}Result>"))
                .unwrap_or_default();
            let body = format!(
                "<?xml version=\"1.0\"?><{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
            );
            let mut resp = (StatusCode::OK, body).into_response();
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static("text/xml"));
            resp
        }
        Err(f) => QueryError {
            status: f.status,
            code: f.code.into(),
            message: f.message,
            request_id,
        }
        .into_response(),
    }
}

async fn dispatch(sns: &SnsStore, action: &str, form: &Form) -> Outcome {
    match action {
        "CreateTopic" => create_topic(sns, form),
        "DeleteTopic" => {
            let arn = topic_arn(form, "TopicArn")?;
            sns.delete_topic(&arn)?;
            Ok(None)
        }
        "ListTopics" => list_topics(sns, form),
        "GetTopicAttributes" => get_topic_attributes(sns, form),
        "SetTopicAttributes" => {
            let arn = topic_arn(form, "TopicArn")?;
            let name = form.required("AttributeName")?;
            let value = form.get("AttributeValue").unwrap_or_default();
            sns.set_topic_attribute(&arn, name, value)?;
            Ok(None)
        }
        "Subscribe" => subscribe(sns, form),
        "ConfirmSubscription" => {
            let arn = topic_arn(form, "TopicArn")?;
            let token = form.required("Token")?;
            let sub = sns.confirm(&arn, token)?;
            Ok(Some(format!(
                "<SubscriptionArn>{}</SubscriptionArn>",
                xml_escape(&sub.arn)
            )))
        }
        "Unsubscribe" => {
            sns.unsubscribe(form.required("SubscriptionArn")?)?;
            Ok(None)
        }
        "ListSubscriptions" => list_subscriptions(sns, form, None),
        "ListSubscriptionsByTopic" => {
            let arn = topic_arn(form, "TopicArn")?;
            list_subscriptions(sns, form, Some(&arn))
        }
        "GetSubscriptionAttributes" => get_subscription_attributes(sns, form),
        "SetSubscriptionAttributes" => {
            let arn = form.required("SubscriptionArn")?;
            let name = form.required("AttributeName")?;
            let value = form.get("AttributeValue").unwrap_or_default();
            sns.set_subscription_attribute(arn, name, value)?;
            Ok(None)
        }
        "Publish" => publish(sns, form).await,
        "PublishBatch" => publish_batch(sns, form).await,
        "TagResource" => {
            let arn = form.required("ResourceArn")?;
            let tags = tags(form)?;
            if tags.is_empty() {
                return Err(Fail::missing("Tags"));
            }
            sns.tag(arn, &tags, &[])?;
            Ok(Some(String::new()))
        }
        "UntagResource" => {
            let arn = form.required("ResourceArn")?;
            let keys = form.list("TagKeys.member");
            sns.tag(arn, &BTreeMap::new(), &keys)?;
            Ok(Some(String::new()))
        }
        "ListTagsForResource" => {
            let arn = form.required("ResourceArn")?;
            let tags = sns.tags(arn)?;
            let members: String = tags
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<member><Key>{}</Key><Value>{}</Value></member>",
                        xml_escape(k),
                        xml_escape(v)
                    )
                })
                .collect();
            Ok(Some(format!("<Tags>{members}</Tags>")))
        }
        other => Err(Fail::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("The action {other} is not valid for this endpoint."),
        )),
    }
}

/// A topic ARN member: present and shaped like an SNS ARN.
fn topic_arn(form: &Form, member: &str) -> Result<String, Fail> {
    let arn = form.required(member)?;
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
        return Err(Fail::invalid(member));
    }
    Ok(arn.to_owned())
}

fn tags(form: &Form) -> Result<BTreeMap<String, String>, Fail> {
    let mut out = BTreeMap::new();
    for entry in form.members("Tags.member") {
        let key = entry.get("Key").cloned().unwrap_or_default();
        if key.is_empty() || key.len() > 128 {
            return Err(Fail::invalid(
                "Tags Reason: Tag keys must be between 1 and 128 characters",
            ));
        }
        let value = entry.get("Value").cloned().unwrap_or_default();
        if value.len() > 256 {
            return Err(Fail::invalid(
                "Tags Reason: Tag values must be at most 256 characters",
            ));
        }
        out.insert(key, value);
    }
    Ok(out)
}

fn attributes_xml(attrs: &BTreeMap<String, String>) -> String {
    let entries: String = attrs
        .iter()
        .map(|(k, v)| {
            format!(
                "<entry><key>{}</key><value>{}</value></entry>",
                xml_escape(k),
                xml_escape(v)
            )
        })
        .collect();
    format!("<Attributes>{entries}</Attributes>")
}

fn create_topic(sns: &SnsStore, form: &Form) -> Outcome {
    let name = form.required("Name")?;
    let attributes = form.entries("Attributes.entry", "key", "value");
    let tags = tags(form)?;
    let topic = sns.create_topic(name, &attributes, &tags)?;
    Ok(Some(format!(
        "<TopicArn>{}</TopicArn>",
        xml_escape(&topic.arn)
    )))
}

/// Pages of `items` after the `NextToken` (the last item of the previous page).
fn page<'a>(items: &'a [String], form: &Form) -> Result<(&'a [String], Option<String>), Fail> {
    let start = match form.get("NextToken") {
        None | Some("") => 0,
        Some(token) => items
            .iter()
            .position(|a| a.as_str() == token)
            .map(|i| i + 1)
            .ok_or_else(|| Fail::invalid("NextToken"))?,
    };
    let end = (start + PAGE).min(items.len());
    let next = (end < items.len()).then(|| items[end - 1].clone());
    Ok((&items[start..end], next))
}

fn next_token_xml(next: Option<String>) -> String {
    next.map(|t| format!("<NextToken>{}</NextToken>", xml_escape(&t)))
        .unwrap_or_default()
}

fn list_topics(sns: &SnsStore, form: &Form) -> Outcome {
    let topics = sns.list_topics();
    let (page, next) = page(&topics, form)?;
    let members: String = page
        .iter()
        .map(|a| format!("<member><TopicArn>{}</TopicArn></member>", xml_escape(a)))
        .collect();
    Ok(Some(format!(
        "<Topics>{members}</Topics>{}",
        next_token_xml(next)
    )))
}

fn default_policy(arn: &str, account: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

const EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

fn get_topic_attributes(sns: &SnsStore, form: &Form) -> Outcome {
    let arn = topic_arn(form, "TopicArn")?;
    let view = sns.topic(&arn)?;
    let t = &view.record;
    let mut attrs = BTreeMap::from([
        ("TopicArn".to_owned(), t.arn.clone()),
        ("Owner".to_owned(), sns.account().to_owned()),
        ("Policy".to_owned(), default_policy(&t.arn, sns.account())),
        ("DisplayName".to_owned(), String::new()),
        (
            "SubscriptionsConfirmed".to_owned(),
            view.confirmed.to_string(),
        ),
        ("SubscriptionsPending".to_owned(), view.pending.to_string()),
        ("SubscriptionsDeleted".to_owned(), "0".to_owned()),
        (
            "EffectiveDeliveryPolicy".to_owned(),
            EFFECTIVE_DELIVERY_POLICY.to_owned(),
        ),
    ]);
    if t.fifo {
        attrs.insert("FifoTopic".into(), "true".into());
        attrs.insert("ContentBasedDeduplication".into(), "false".into());
    }
    attrs.extend(t.attributes.clone());
    Ok(Some(attributes_xml(&attrs)))
}

fn subscribe(sns: &SnsStore, form: &Form) -> Outcome {
    let arn = topic_arn(form, "TopicArn")?;
    let protocol = form.required("Protocol")?;
    let attributes = form.entries("Attributes.entry", "key", "value");
    let sub = sns.subscribe(&arn, protocol, form.get("Endpoint"), &attributes)?;
    let shown = if sub.confirmed || form.get("ReturnSubscriptionArn") == Some("true") {
        sub.arn.as_str()
    } else {
        "pending confirmation"
    };
    Ok(Some(format!(
        "<SubscriptionArn>{}</SubscriptionArn>",
        xml_escape(shown)
    )))
}

fn subscription_member(s: &SubscriptionRecord) -> String {
    format!(
        "<member><SubscriptionArn>{}</SubscriptionArn><Owner>{}</Owner><Protocol>{}</Protocol><Endpoint>{}</Endpoint><TopicArn>{}</TopicArn></member>",
        xml_escape(s.shown_arn()),
        xml_escape(&s.owner),
        s.protocol.as_str(),
        xml_escape(&s.endpoint),
        xml_escape(&s.topic_arn)
    )
}

fn list_subscriptions(sns: &SnsStore, form: &Form, topic: Option<&str>) -> Outcome {
    let subs = sns.list_subscriptions(topic)?;
    let arns: Vec<String> = subs.iter().map(|s| s.arn.clone()).collect();
    let (page, next) = page(&arns, form)?;
    let members: String = subs
        .iter()
        .filter(|s| page.contains(&s.arn))
        .map(subscription_member)
        .collect();
    Ok(Some(format!(
        "<Subscriptions>{members}</Subscriptions>{}",
        next_token_xml(next)
    )))
}

fn get_subscription_attributes(sns: &SnsStore, form: &Form) -> Outcome {
    let sub = sns.subscription(form.required("SubscriptionArn")?)?;
    let mut attrs = BTreeMap::from([
        ("SubscriptionArn".to_owned(), sub.arn.clone()),
        ("TopicArn".to_owned(), sub.topic_arn.clone()),
        ("Owner".to_owned(), sub.owner.clone()),
        ("Protocol".to_owned(), sub.protocol.as_str().to_owned()),
        ("Endpoint".to_owned(), sub.endpoint.clone()),
        (
            "ConfirmationWasAuthenticated".to_owned(),
            sub.confirmed.to_string(),
        ),
        (
            "PendingConfirmation".to_owned(),
            (!sub.confirmed).to_string(),
        ),
        ("RawMessageDelivery".to_owned(), "false".to_owned()),
        (
            "SubscriptionPrincipal".to_owned(),
            format!("arn:aws:iam::{}:root", sub.owner),
        ),
    ]);
    if matches!(sub.protocol.as_str(), "http" | "https") {
        attrs.insert(
            "EffectiveDeliveryPolicy".into(),
            EFFECTIVE_DELIVERY_POLICY.to_owned(),
        );
    }
    if sub.attributes.contains_key("FilterPolicy") {
        attrs.insert("FilterPolicyScope".into(), "MessageAttributes".into());
    }
    attrs.extend(sub.attributes.clone());
    Ok(Some(attributes_xml(&attrs)))
}

/// One message's members (Publish, or one PublishBatch entry under `prefix`).
fn publish_input(
    fields: &BTreeMap<String, String>,
    form_attrs: Vec<BTreeMap<String, String>>,
) -> Result<PublishInput, Fail> {
    let Some(message) = fields.get("Message") else {
        return Err(Fail::missing("Message"));
    };
    let structure_json = match fields.get("MessageStructure").map(String::as_str) {
        None | Some("") => false,
        Some("json") => true,
        Some(_) => return Err(Fail::invalid("MessageStructure")),
    };
    let mut attributes = BTreeMap::new();
    for entry in form_attrs {
        let name = entry.get("Name").cloned().unwrap_or_default();
        let data_type = entry.get("Value.DataType").cloned().unwrap_or_default();
        let value = if let Some(b) = entry.get("Value.BinaryValue") {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| Fail::invalid(format!("MessageAttributes Reason: The message attribute '{name}' has an invalid binary value.")))?;
            sluice_store::sns::AttrValue::Binary(bytes)
        } else {
            sluice_store::sns::AttrValue::String(
                entry.get("Value.StringValue").cloned().unwrap_or_default(),
            )
        };
        if data_type.is_empty() {
            return Err(Fail::invalid(format!(
                "MessageAttributes Reason: The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        attributes.insert(
            name,
            sluice_store::sns::MessageAttribute { data_type, value },
        );
    }
    Ok(PublishInput {
        message: message.clone(),
        subject: fields.get("Subject").cloned(),
        structure_json,
        attributes,
        group_id: fields.get("MessageGroupId").cloned(),
        dedup_id: fields.get("MessageDeduplicationId").cloned(),
    })
}

fn sequence_xml(seq: Option<&str>) -> String {
    seq.map(|s| format!("<SequenceNumber>{s}</SequenceNumber>"))
        .unwrap_or_default()
}

async fn publish(sns: &SnsStore, form: &Form) -> Outcome {
    if form.get("PhoneNumber").is_some() {
        return Err(Fail::invalid(
            "PhoneNumber Reason: Sluice does not send SMS messages",
        ));
    }
    let arn = match (form.get("TopicArn"), form.get("TargetArn")) {
        (Some(_), _) => topic_arn(form, "TopicArn")?,
        (None, Some(_)) => topic_arn(form, "TargetArn")?,
        (None, None) => {
            return Err(Fail::invalid(
                "TopicArn or TargetArn Reason: no value for required parameter",
            ));
        }
    };
    let fields = form.scalars("");
    let input = publish_input(&fields, form.members("MessageAttributes.entry"))?;
    let published = sns.publish(&arn, input).await?;
    Ok(Some(format!(
        "<MessageId>{}</MessageId>{}",
        published.message_id,
        sequence_xml(published.sequence_number.as_deref())
    )))
}

fn valid_batch_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 80
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

async fn publish_batch(sns: &SnsStore, form: &Form) -> Outcome {
    let arn = topic_arn(form, "TopicArn")?;
    let entries = form.members_nested("PublishBatchRequestEntries.member");
    if entries.is_empty() {
        return Err(Fail::new(
            StatusCode::BAD_REQUEST,
            "EmptyBatchRequest",
            "The batch request doesn't contain any entries",
        ));
    }
    if entries.len() > MAX_BATCH {
        return Err(Fail::new(
            StatusCode::BAD_REQUEST,
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible.",
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for (fields, _) in &entries {
        let id = fields.get("Id").map(String::as_str).unwrap_or_default();
        if !valid_batch_id(id) {
            return Err(Fail::new(
                StatusCode::BAD_REQUEST,
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !ids.insert(id.to_owned()) {
            return Err(Fail::new(
                StatusCode::BAD_REQUEST,
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            ));
        }
    }
    let total: usize = entries
        .iter()
        .map(|(f, _)| f.get("Message").map_or(0, String::len))
        .sum();
    if total > sluice_store::sns::message::MAX_MESSAGE_BYTES {
        return Err(Fail::new(
            StatusCode::BAD_REQUEST,
            "BatchRequestTooLong",
            "The length of all the messages put together is more than the limit.",
        ));
    }
    // The topic must exist for the whole batch.
    sns.topic(&arn)?;
    let mut ok = String::new();
    let mut failed = String::new();
    for (fields, attrs) in entries {
        let id = fields.get("Id").cloned().unwrap_or_default();
        let outcome = match publish_input(&fields, attrs) {
            Ok(input) => sns.publish(&arn, input).await.map_err(Fail::from),
            Err(f) => Err(f),
        };
        match outcome {
            Ok(p) => ok.push_str(&format!(
                "<member><Id>{}</Id><MessageId>{}</MessageId>{}</member>",
                xml_escape(&id),
                p.message_id,
                sequence_xml(p.sequence_number.as_deref())
            )),
            Err(f) if f.status.is_server_error() => return Err(f),
            Err(f) => failed.push_str(&format!(
                "<member><Id>{}</Id><Code>{}</Code><Message>{}</Message><SenderFault>true</SenderFault></member>",
                xml_escape(&id),
                f.code,
                xml_escape(&f.message)
            )),
        }
    }
    Ok(Some(format!(
        "<Successful>{ok}</Successful><Failed>{failed}</Failed>"
    )))
}
