//! The embedded SNS: topics (standard and FIFO), subscriptions (`sqs`, `lambda`, `http`,
//! `https`) with filter policies, and Publish.
//!
//! Topics and subscriptions live in memory and in `DIR/sns/sns.redb` (every change an
//! fsync'd transaction). Publish decides the receivers under one lock (filter policies,
//! FIFO deduplication), then:
//! - sends to `sqs` subscribers' queues on the embedded SQS before it answers (each send is
//!   durable when it returns);
//! - writes one [`PendingDelivery`] per `lambda` / `http(s)` subscriber in one transaction
//!   before it answers, for the worker's deliverer to make (with retries) and then
//!   [`SnsStore::finish`]. Deliveries left at a crash are made after the restart.
//!
//! `http(s)` subscriptions start unconfirmed: a `SubscriptionConfirmation` delivery is queued
//! and the subscription receives nothing until ConfirmSubscription (or a GET of the
//! SubscribeURL) presents its token.

mod db;
pub mod message;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sluice_core::filter::FilterPattern;
use tokio::sync::Notify;

use crate::sqs::{MessageAttributeValue, NewMessage, SqsError, SqsStore};
use crate::{DataDir, StoreError};
use db::{Change, SnsDb};
pub use message::{AttrValue, MessageAttribute, Notification, PublishInput};

/// How long a FIFO topic remembers a deduplication id.
const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;
/// Most keys a filter policy may have, as on AWS.
const MAX_FILTER_KEYS: usize = 5;
/// Most tags a topic may carry.
const MAX_TAGS: usize = 50;

/// An SNS error; the API turns each into AWS's code and status.
#[derive(Debug, thiserror::Error)]
pub enum SnsError {
    /// `NotFound` (404): a topic or subscription that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `InvalidParameter` (400), with AWS's full text ("Invalid parameter: ...").
    #[error("{0}")]
    InvalidParameter(String),
    /// `ResourceNotFound` (404): tagging a topic that does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `TagLimitExceeded` (400).
    #[error("{0}")]
    TagLimitExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(text: impl std::fmt::Display) -> SnsError {
    SnsError::InvalidParameter(format!("Invalid parameter: {text}"))
}

fn topic_not_found() -> SnsError {
    SnsError::NotFound("Topic does not exist".into())
}

/// Percent-encodes a query-string value.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A topic as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRecord {
    pub name: String,
    pub arn: String,
    pub fifo: bool,
    /// Settable attributes (DisplayName, Policy, DeliveryPolicy, ContentBasedDeduplication, ...).
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl TopicRecord {
    pub fn content_based_dedup(&self) -> bool {
        self.attributes
            .get("ContentBasedDeduplication")
            .is_some_and(|v| v == "true")
    }
}

/// The endpoint kinds Sluice delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    Sqs,
    Lambda,
    Http,
    Https,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }

    fn parse(s: &str) -> Result<Self, SnsError> {
        match s {
            "sqs" => Ok(Self::Sqs),
            "lambda" => Ok(Self::Lambda),
            "http" => Ok(Self::Http),
            "https" => Ok(Self::Https),
            "email" | "email-json" | "sms" | "application" | "firehose" => Err(invalid(format!(
                "Protocol Reason: Sluice does not deliver to {s} endpoints (supported: sqs, lambda, http, https)"
            ))),
            other => Err(invalid(format!(
                "Amazon SNS does not support this protocol string: {other}"
            ))),
        }
    }
}

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub arn: String,
    pub topic_arn: String,
    pub protocol: Protocol,
    pub endpoint: String,
    pub owner: String,
    /// RawMessageDelivery, FilterPolicy, FilterPolicyScope, RedrivePolicy, DeliveryPolicy.
    pub attributes: BTreeMap<String, String>,
    pub confirmed: bool,
    /// The confirmation token of an `http(s)` subscription.
    pub token: String,
}

impl SubscriptionRecord {
    pub fn raw(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v == "true")
    }

    /// The dead-letter queue ARN of the subscription's RedrivePolicy.
    pub fn dead_letter_arn(&self) -> Option<String> {
        let policy: Value = serde_json::from_str(self.attributes.get("RedrivePolicy")?).ok()?;
        policy
            .get("deadLetterTargetArn")?
            .as_str()
            .map(str::to_owned)
    }

    /// `pending confirmation` until an `http(s)` subscription is confirmed.
    pub fn shown_arn(&self) -> &str {
        if self.confirmed {
            &self.arn
        } else {
            "PendingConfirmation"
        }
    }
}

/// What a pending delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryKind {
    Notification,
    SubscriptionConfirmation,
}

/// A delivery to a `lambda` or `http(s)` subscriber, durable until [`SnsStore::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    pub id: u64,
    pub kind: DeliveryKind,
    pub subscription_arn: String,
    pub topic_arn: String,
    pub protocol: Protocol,
    pub endpoint: String,
    pub message_id: String,
    /// What is sent: the HTTP body, or the Lambda event.
    pub body: String,
    /// The JSON notification, for the subscription's dead-letter queue.
    pub notification: String,
    /// The subscription's dead-letter queue when this delivery was queued.
    pub dead_letter_arn: Option<String>,
    pub raw: bool,
}

/// Publish's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub message_id: String,
    pub sequence_number: Option<String>,
}

/// A topic with its subscription counts (GetTopicAttributes).
#[derive(Debug, Clone)]
pub struct TopicView {
    pub record: TopicRecord,
    pub confirmed: usize,
    pub pending: usize,
}

struct Sub {
    record: SubscriptionRecord,
    filter: Option<FilterPattern>,
}

struct Dedup {
    expires_ms: u64,
    published: Published,
}

#[derive(Default)]
struct State {
    topics: BTreeMap<String, TopicRecord>,
    subs: BTreeMap<String, Sub>,
    dedup: HashMap<(String, String), Dedup>,
    next_delivery: u64,
    ready: VecDeque<PendingDelivery>,
    /// Deliveries written and not finished (ready or being made).
    outstanding: std::collections::HashSet<u64>,
    last_sequence: u128,
}

struct Inner {
    region: String,
    account: String,
    endpoint: String,
    db: SnsDb,
    sqs: SqsStore,
    state: Mutex<State>,
    ready: Notify,
}

/// The embedded SNS. Cheap to clone.
#[derive(Clone)]
pub struct SnsStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SnsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsStore")
            .field("region", &self.inner.region)
            .finish_non_exhaustive()
    }
}

const TOPIC_ATTRIBUTES: [&str; 11] = [
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "FifoTopic",
    "ContentBasedDeduplication",
    "SignatureVersion",
    "TracingConfig",
    "ArchivePolicy",
    "FifoThroughputScope",
    "DataProtectionPolicy",
];

const SUBSCRIPTION_ATTRIBUTES: [&str; 5] = [
    "RawMessageDelivery",
    "FilterPolicy",
    "FilterPolicyScope",
    "RedrivePolicy",
    "DeliveryPolicy",
];

fn valid_topic_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    !stem.is_empty()
        && name.len() <= 256
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses a filter policy with AWS's limits.
fn parse_filter(policy: &str) -> Result<FilterPattern, SnsError> {
    let value: Value = serde_json::from_str(policy)
        .map_err(|e| invalid(format!("FilterPolicy: failed to parse JSON. {e}")))?;
    if let Value::Object(map) = &value
        && map.keys().filter(|k| *k != "$or").count() > MAX_FILTER_KEYS
    {
        return Err(invalid(format!(
            "FilterPolicy: Filter policy can not have more than {MAX_FILTER_KEYS} keys"
        )));
    }
    FilterPattern::parse(policy).map_err(|e| invalid(format!("FilterPolicy: {}", e.reason)))
}

impl SnsStore {
    /// Opens the SNS data of `dir`. `endpoint` (`http://host:port`) is where this server
    /// answers: the notifications' SigningCertURL, UnsubscribeURL and SubscribeURL point
    /// there. Blocking.
    pub fn open(
        dir: &DataDir,
        region: &str,
        account: &str,
        sqs: SqsStore,
        endpoint: &str,
    ) -> Result<Self, StoreError> {
        let root = dir.root().join("sns");
        std::fs::create_dir_all(&root).map_err(|source| StoreError::Io {
            path: root.display().to_string(),
            source,
        })?;
        let db = SnsDb::open(&root.join("sns.redb"))?;
        let loaded = db.load()?;
        let mut state = State {
            last_sequence: u128::from(now_ms()) * 1_000_000,
            ..State::default()
        };
        for t in loaded.topics {
            state.topics.insert(t.arn.clone(), t);
        }
        for s in loaded.subscriptions {
            let filter = s
                .attributes
                .get("FilterPolicy")
                .and_then(|p| parse_filter(p).ok());
            state.subs.insert(s.arn.clone(), Sub { record: s, filter });
        }
        state.next_delivery = loaded
            .deliveries
            .iter()
            .map(|d| d.id + 1)
            .max()
            .unwrap_or(0);
        state.outstanding = loaded.deliveries.iter().map(|d| d.id).collect();
        state.ready.extend(loaded.deliveries);
        Ok(Self {
            inner: Arc::new(Inner {
                region: region.to_owned(),
                account: account.to_owned(),
                endpoint: endpoint.trim_end_matches('/').to_owned(),
                db,
                sqs,
                state: Mutex::new(state),
                ready: Notify::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    pub fn account(&self) -> &str {
        &self.inner.account
    }

    pub fn topic_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sns:{}:{}:{name}",
            self.inner.region, self.inner.account
        )
    }

    pub fn contains_arn(&self, arn: &str) -> bool {
        self.lock().topics.contains_key(arn)
    }

    /// CreateTopic: idempotent for the same name, attributes and tags.
    pub fn create_topic(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<TopicRecord, SnsError> {
        let fifo_wanted = attributes.get("FifoTopic").is_some_and(|v| v == "true");
        if !valid_topic_name(name) || (name.ends_with(".fifo") && !fifo_wanted) {
            return Err(invalid("Topic Name"));
        }
        if fifo_wanted && !name.ends_with(".fifo") {
            return Err(invalid(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
            ));
        }
        for (k, v) in attributes {
            check_topic_attribute(k, v, fifo_wanted, true)?;
        }
        if tags.len() > MAX_TAGS {
            return Err(SnsError::TagLimitExceeded(
                "Could not complete request: tag quota of per resource exceeded".into(),
            ));
        }
        let arn = self.topic_arn(name);
        let mut attributes = attributes.clone();
        attributes.remove("FifoTopic");
        let record = TopicRecord {
            name: name.to_owned(),
            arn: arn.clone(),
            fifo: fifo_wanted,
            attributes,
            tags: tags.clone(),
        };
        let mut st = self.lock();
        if let Some(existing) = st.topics.get(&arn) {
            if record
                .attributes
                .iter()
                .any(|(k, v)| existing.attributes.get(k) != Some(v))
            {
                return Err(invalid(
                    "Attributes Reason: Topic already exists with different attributes",
                ));
            }
            if !tags.is_empty() && existing.tags != *tags {
                return Err(invalid(
                    "Tags Reason: Topic already exists with different tags",
                ));
            }
            return Ok(existing.clone());
        }
        self.inner.db.apply(&Change {
            put_topics: std::slice::from_ref(&record),
            ..Change::default()
        })?;
        st.topics.insert(arn, record.clone());
        Ok(record)
    }

    /// DeleteTopic, with its subscriptions. Deleting a topic that does not exist is not an
    /// error, as on AWS.
    pub fn delete_topic(&self, arn: &str) -> Result<(), SnsError> {
        let mut st = self.lock();
        if !st.topics.contains_key(arn) {
            return Ok(());
        }
        let subs: Vec<String> = st
            .subs
            .values()
            .filter(|s| s.record.topic_arn == arn)
            .map(|s| s.record.arn.clone())
            .collect();
        self.inner.db.apply(&Change {
            delete_topics: &[arn.to_owned()],
            delete_subscriptions: &subs,
            ..Change::default()
        })?;
        st.topics.remove(arn);
        for s in subs {
            st.subs.remove(&s);
        }
        Ok(())
    }

    /// Topic ARNs, in order.
    pub fn list_topics(&self) -> Vec<String> {
        self.lock().topics.keys().cloned().collect()
    }

    pub fn topic(&self, arn: &str) -> Result<TopicView, SnsError> {
        let st = self.lock();
        let record = st.topics.get(arn).cloned().ok_or_else(topic_not_found)?;
        let (confirmed, pending) =
            st.subs
                .values()
                .filter(|s| s.record.topic_arn == arn)
                .fold((0, 0), |(c, p), s| {
                    if s.record.confirmed {
                        (c + 1, p)
                    } else {
                        (c, p + 1)
                    }
                });
        Ok(TopicView {
            record,
            confirmed,
            pending,
        })
    }

    pub fn set_topic_attribute(&self, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        let mut st = self.lock();
        let topic = st.topics.get(arn).ok_or_else(topic_not_found)?;
        if name == "FifoTopic" {
            return Err(invalid("AttributeName"));
        }
        check_topic_attribute(name, value, topic.fifo, false)?;
        let mut record = topic.clone();
        record.attributes.insert(name.to_owned(), value.to_owned());
        self.inner.db.apply(&Change {
            put_topics: std::slice::from_ref(&record),
            ..Change::default()
        })?;
        st.topics.insert(arn.to_owned(), record);
        Ok(())
    }

    /// Tags of a topic (TagResource / UntagResource / ListTagsForResource).
    pub fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        self.lock()
            .topics
            .get(arn)
            .map(|t| t.tags.clone())
            .ok_or_else(|| SnsError::ResourceNotFound("Resource does not exist".into()))
    }

    pub fn tag(
        &self,
        arn: &str,
        add: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), SnsError> {
        let mut st = self.lock();
        let mut record = st
            .topics
            .get(arn)
            .cloned()
            .ok_or_else(|| SnsError::ResourceNotFound("Resource does not exist".into()))?;
        for k in remove {
            record.tags.remove(k);
        }
        record.tags.extend(add.clone());
        if record.tags.len() > MAX_TAGS {
            return Err(SnsError::TagLimitExceeded(
                "Could not complete request: tag quota of per resource exceeded".into(),
            ));
        }
        self.inner.db.apply(&Change {
            put_topics: std::slice::from_ref(&record),
            ..Change::default()
        })?;
        st.topics.insert(arn.to_owned(), record);
        Ok(())
    }

    /// Subscribe. `sqs` and `lambda` subscriptions are confirmed at once; `http(s)` ones
    /// get a SubscriptionConfirmation delivery and wait for their token.
    pub fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: Option<&str>,
        attributes: &BTreeMap<String, String>,
    ) -> Result<SubscriptionRecord, SnsError> {
        let protocol = Protocol::parse(protocol)?;
        let endpoint = endpoint.unwrap_or_default();
        match protocol {
            Protocol::Sqs if !is_arn_of(endpoint, "sqs") => {
                return Err(invalid("SQS endpoint ARN"));
            }
            Protocol::Lambda if !is_arn_of(endpoint, "lambda") => {
                return Err(invalid("Lambda endpoint ARN"));
            }
            Protocol::Http if !endpoint.starts_with("http://") => {
                return Err(invalid("Endpoint must match the specified protocol"));
            }
            Protocol::Https if !endpoint.starts_with("https://") => {
                return Err(invalid("Endpoint must match the specified protocol"));
            }
            _ => {}
        }
        let mut filter = None;
        for (k, v) in attributes {
            if let Some(f) = check_subscription_attribute(k, v)? {
                filter = Some(f);
            }
        }
        let mut st = self.lock();
        let topic = st.topics.get(topic_arn).ok_or_else(topic_not_found)?;
        if topic.fifo && protocol != Protocol::Sqs {
            return Err(invalid(format!(
                "Endpoint Reason: FIFO topics support only SQS endpoints, not {}",
                protocol.as_str()
            )));
        }
        if protocol == Protocol::Sqs && endpoint.ends_with(".fifo") && !topic.fifo {
            return Err(invalid(
                "Endpoint Reason: Please use FIFO SNS Topic to subscribe FIFO SQS Queue",
            ));
        }
        if let Some(existing) = st.subs.values().find(|s| {
            s.record.topic_arn == topic_arn
                && s.record.protocol == protocol
                && s.record.endpoint == endpoint
        }) {
            if existing.record.attributes != *attributes && !attributes.is_empty() {
                return Err(invalid(
                    "Attributes Reason: Subscription already exists with different attributes",
                ));
            }
            return Ok(existing.record.clone());
        }
        let confirmed = matches!(protocol, Protocol::Sqs | Protocol::Lambda);
        let record = SubscriptionRecord {
            arn: format!("{topic_arn}:{}", uuid::Uuid::new_v4()),
            topic_arn: topic_arn.to_owned(),
            protocol,
            endpoint: endpoint.to_owned(),
            owner: self.inner.account.clone(),
            attributes: attributes.clone(),
            confirmed,
            token: if confirmed { String::new() } else { token() },
        };
        let mut deliveries = Vec::new();
        if !confirmed {
            let message_id = uuid::Uuid::new_v4().to_string();
            let body = message::confirmation_json(
                &message_id,
                &record.token,
                topic_arn,
                &sluice_core::stream::timestamp::rfc3339_millis(now_ms()),
                &self.inner.endpoint,
            );
            deliveries.push(PendingDelivery {
                id: st.next_delivery,
                kind: DeliveryKind::SubscriptionConfirmation,
                subscription_arn: record.arn.clone(),
                topic_arn: topic_arn.to_owned(),
                protocol,
                endpoint: endpoint.to_owned(),
                message_id,
                notification: body.clone(),
                body,
                dead_letter_arn: None,
                raw: false,
            });
        }
        self.inner.db.apply(&Change {
            put_subscriptions: std::slice::from_ref(&record),
            put_deliveries: &deliveries,
            ..Change::default()
        })?;
        st.next_delivery += deliveries.len() as u64;
        st.subs.insert(
            record.arn.clone(),
            Sub {
                record: record.clone(),
                filter,
            },
        );
        let queued = !deliveries.is_empty();
        st.outstanding.extend(deliveries.iter().map(|d| d.id));
        st.ready.extend(deliveries);
        drop(st);
        if queued {
            self.inner.ready.notify_one();
        }
        Ok(record)
    }

    /// ConfirmSubscription: the token an `http(s)` endpoint was sent.
    pub fn confirm(&self, topic_arn: &str, token: &str) -> Result<SubscriptionRecord, SnsError> {
        let mut st = self.lock();
        if !st.topics.contains_key(topic_arn) {
            return Err(topic_not_found());
        }
        let Some(sub) = st.subs.values().find(|s| {
            s.record.topic_arn == topic_arn && !token.is_empty() && s.record.token == token
        }) else {
            return Err(invalid("Token"));
        };
        let mut record = sub.record.clone();
        if record.confirmed {
            return Ok(record);
        }
        record.confirmed = true;
        self.inner.db.apply(&Change {
            put_subscriptions: std::slice::from_ref(&record),
            ..Change::default()
        })?;
        if let Some(s) = st.subs.get_mut(&record.arn) {
            s.record = record.clone();
        }
        Ok(record)
    }

    pub fn unsubscribe(&self, arn: &str) -> Result<(), SnsError> {
        check_subscription_arn(arn)?;
        let mut st = self.lock();
        if !st.subs.contains_key(arn) {
            return Err(SnsError::NotFound("Subscription does not exist".into()));
        }
        self.inner.db.apply(&Change {
            delete_subscriptions: &[arn.to_owned()],
            ..Change::default()
        })?;
        st.subs.remove(arn);
        Ok(())
    }

    /// Subscriptions, of one topic or all, in ARN order.
    pub fn list_subscriptions(
        &self,
        topic_arn: Option<&str>,
    ) -> Result<Vec<SubscriptionRecord>, SnsError> {
        let st = self.lock();
        if let Some(t) = topic_arn
            && !st.topics.contains_key(t)
        {
            return Err(topic_not_found());
        }
        Ok(st
            .subs
            .values()
            .filter(|s| topic_arn.is_none_or(|t| s.record.topic_arn == t))
            .map(|s| s.record.clone())
            .collect())
    }

    pub fn subscription(&self, arn: &str) -> Result<SubscriptionRecord, SnsError> {
        check_subscription_arn(arn)?;
        self.lock()
            .subs
            .get(arn)
            .map(|s| s.record.clone())
            .ok_or_else(|| SnsError::NotFound("Subscription does not exist".into()))
    }

    pub fn set_subscription_attribute(
        &self,
        arn: &str,
        name: &str,
        value: &str,
    ) -> Result<(), SnsError> {
        check_subscription_arn(arn)?;
        let filter = check_subscription_attribute(name, value)?;
        let mut st = self.lock();
        let sub = st
            .subs
            .get(arn)
            .ok_or_else(|| SnsError::NotFound("Subscription does not exist".into()))?;
        let mut record = sub.record.clone();
        let mut new_filter = sub.filter.clone();
        if name == "RawMessageDelivery" && record.protocol == Protocol::Lambda {
            return Err(invalid(
                "Delivery protocol [lambda] does not support raw message delivery.",
            ));
        }
        if name == "FilterPolicy" {
            if value.is_empty() {
                record.attributes.remove("FilterPolicy");
                new_filter = None;
            } else {
                new_filter = filter;
            }
        }
        if !(name == "FilterPolicy" && value.is_empty()) {
            record.attributes.insert(name.to_owned(), value.to_owned());
        }
        self.inner.db.apply(&Change {
            put_subscriptions: std::slice::from_ref(&record),
            ..Change::default()
        })?;
        st.subs.insert(
            arn.to_owned(),
            Sub {
                record,
                filter: new_filter,
            },
        );
        Ok(())
    }

    /// Publish: checks the message, picks the subscribers whose filter policy matches,
    /// delivers to `sqs` subscribers and queues the rest durably; acknowledged only once
    /// every delivery is on disk (queue messages or pending deliveries).
    pub async fn publish(
        &self,
        topic_arn: &str,
        input: PublishInput,
    ) -> Result<Published, SnsError> {
        let now = now_ms();
        let (topic, messages, published, targets, dedup_key) = {
            let mut st = self.lock();
            let topic = st
                .topics
                .get(topic_arn)
                .cloned()
                .ok_or_else(topic_not_found)?;
            let messages = message::check(&input, topic.fifo, topic.content_based_dedup())?;
            let mut dedup_key = None;
            if topic.fifo {
                st.dedup.retain(|_, d| d.expires_ms > now);
                let key = input.dedup_id.clone().unwrap_or_else(|| {
                    let digest = Sha256::digest(input.message.as_bytes());
                    digest.iter().map(|b| format!("{b:02x}")).collect()
                });
                let scope = if topic
                    .attributes
                    .get("FifoThroughputScope")
                    .is_some_and(|s| s == "MessageGroup")
                {
                    format!(
                        "{topic_arn}\n{}",
                        input.group_id.clone().unwrap_or_default()
                    )
                } else {
                    topic_arn.to_owned()
                };
                if let Some(d) = st.dedup.get(&(scope.clone(), key.clone())) {
                    // Accepted, not delivered again.
                    return Ok(d.published.clone());
                }
                dedup_key = Some((scope, key));
            }
            let sequence_number = topic.fifo.then(|| {
                let next = (st.last_sequence + 1).max(u128::from(now) * 1_000_000);
                st.last_sequence = next;
                format!("{next:020}")
            });
            let published = Published {
                message_id: uuid::Uuid::new_v4().to_string(),
                sequence_number,
            };
            if let Some(k) = &dedup_key {
                st.dedup.insert(
                    k.clone(),
                    Dedup {
                        expires_ms: now + DEDUP_WINDOW_MS,
                        published: published.clone(),
                    },
                );
            }
            let attributes_doc: serde_json::Map<String, Value> = input
                .attributes
                .iter()
                .filter_map(|(k, a)| a.filter_value().map(|v| (k.clone(), v)))
                .collect();
            let attributes_doc = Value::Object(attributes_doc);
            let body_doc: Option<Value> = serde_json::from_str(&input.message).ok();
            let targets: Vec<SubscriptionRecord> = st
                .subs
                .values()
                .filter(|s| s.record.topic_arn == topic_arn && s.record.confirmed)
                .filter(|s| match &s.filter {
                    None => true,
                    Some(f) => {
                        let by_body = s
                            .record
                            .attributes
                            .get("FilterPolicyScope")
                            .is_some_and(|v| v == "MessageBody");
                        if by_body {
                            body_doc.as_ref().is_some_and(|b| f.matches(b))
                        } else {
                            f.matches(&attributes_doc)
                        }
                    }
                })
                .map(|s| s.record.clone())
                .collect();
            (topic, messages, published, targets, dedup_key)
        };
        let result = self
            .deliver(
                &topic,
                &input,
                &messages,
                &published,
                &targets,
                dedup_key.as_ref().map(|k| k.1.as_str()),
                now,
            )
            .await;
        if result.is_err()
            && let Some(k) = dedup_key
        {
            self.lock().dedup.remove(&k);
        }
        result.map(|()| published)
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        topic: &TopicRecord,
        input: &PublishInput,
        messages: &BTreeMap<String, String>,
        published: &Published,
        targets: &[SubscriptionRecord],
        dedup_id: Option<&str>,
        now: u64,
    ) -> Result<(), SnsError> {
        let timestamp = sluice_core::stream::timestamp::rfc3339_millis(now);
        let mut sends = tokio::task::JoinSet::new();
        let mut pending = Vec::new();
        for sub in targets {
            let message = messages
                .get(sub.protocol.as_str())
                .or_else(|| messages.get("default"))
                .cloned()
                .unwrap_or_default();
            let n = Notification {
                message_id: &published.message_id,
                topic_arn: &topic.arn,
                subject: input.subject.as_deref(),
                message: &message,
                timestamp: &timestamp,
                sequence_number: published.sequence_number.as_deref(),
                attributes: &input.attributes,
                endpoint: &self.inner.endpoint,
            };
            let notification = n.json(&sub.arn);
            match sub.protocol {
                Protocol::Sqs => {
                    let msg = NewMessage {
                        body: if sub.raw() {
                            message.clone()
                        } else {
                            notification.clone()
                        },
                        message_attributes: if sub.raw() {
                            sqs_attributes(&input.attributes)
                        } else {
                            BTreeMap::new()
                        },
                        group_id: input.group_id.clone(),
                        dedup_id: dedup_id.map(str::to_owned),
                        ..NewMessage::default()
                    };
                    let sqs = self.inner.sqs.clone();
                    let queue = sub.endpoint.clone();
                    let dlq = sub.dead_letter_arn();
                    let sub_arn = sub.arn.clone();
                    sends.spawn(async move {
                        let outcome = send_to_queue(&sqs, &queue, msg.clone()).await;
                        match outcome {
                            Ok(()) => Ok(()),
                            Err(e) if e.is_retryable() => Err(e),
                            Err(e) => {
                                tracing::warn!(subscription = %sub_arn, queue = %queue, error = %e, "SNS could not deliver to the subscribed queue.");
                                if let Some(dlq) = dlq {
                                    let copy = NewMessage { body: notification, ..NewMessage::default() };
                                    if let Err(e) = send_to_queue(&sqs, &dlq, copy).await {
                                        tracing::warn!(subscription = %sub_arn, dead_letter_queue = %dlq, error = %e, "SNS could not move an undeliverable message to the dead-letter queue.");
                                    }
                                }
                                Ok(())
                            }
                        }
                    });
                }
                Protocol::Lambda | Protocol::Http | Protocol::Https => {
                    let body = match sub.protocol {
                        Protocol::Lambda => n.lambda_event(&sub.arn).to_string(),
                        _ if sub.raw() => message.clone(),
                        _ => notification.clone(),
                    };
                    pending.push(PendingDelivery {
                        id: 0,
                        kind: DeliveryKind::Notification,
                        subscription_arn: sub.arn.clone(),
                        topic_arn: topic.arn.clone(),
                        protocol: sub.protocol,
                        endpoint: sub.endpoint.clone(),
                        message_id: published.message_id.clone(),
                        body,
                        notification,
                        dead_letter_arn: sub.dead_letter_arn(),
                        raw: sub.raw(),
                    });
                }
            }
        }
        if !pending.is_empty() {
            self.queue_deliveries(pending).await?;
        }
        while let Some(joined) = sends.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(SnsError::Store(StoreError::Io {
                        path: "sqs".into(),
                        source: std::io::Error::other(e.to_string()),
                    }));
                }
                Err(e) => {
                    return Err(SnsError::Store(StoreError::Io {
                        path: "sqs".into(),
                        source: std::io::Error::other(e.to_string()),
                    }));
                }
            }
        }
        Ok(())
    }

    async fn queue_deliveries(&self, mut pending: Vec<PendingDelivery>) -> Result<(), SnsError> {
        {
            let mut st = self.lock();
            for d in &mut pending {
                d.id = st.next_delivery;
                st.next_delivery += 1;
            }
        }
        let this = self.clone();
        let pending = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            this.inner.db.apply(&Change {
                put_deliveries: &pending,
                ..Change::default()
            })?;
            Ok(pending)
        })
        .await
        .map_err(|e| {
            SnsError::Store(StoreError::Io {
                path: "sns".into(),
                source: std::io::Error::other(e.to_string()),
            })
        })??;
        {
            let mut st = self.lock();
            st.outstanding.extend(pending.iter().map(|d| d.id));
            st.ready.extend(pending);
        }
        self.inner.ready.notify_one();
        Ok(())
    }

    /// Deliveries ready to be made (each is handed out once per process life).
    pub fn take_ready(&self) -> Vec<PendingDelivery> {
        self.lock().ready.drain(..).collect()
    }

    /// Resolves when [`SnsStore::take_ready`] may have something.
    pub async fn ready(&self) {
        self.inner.ready.notified().await;
    }

    /// A delivery is done (made, or given up): it is forgotten.
    pub fn finish(&self, id: u64) -> Result<(), StoreError> {
        self.inner.db.apply(&Change {
            delete_deliveries: &[id],
            ..Change::default()
        })?;
        self.lock().outstanding.remove(&id);
        Ok(())
    }

    /// Deliveries to `lambda` / `http(s)` subscribers not made yet (ready or in progress).
    pub fn pending_deliveries(&self) -> usize {
        self.lock().outstanding.len()
    }

    /// Sends a delivery that could not be made to its subscription's dead-letter queue
    /// (the JSON notification as the body, as AWS does). False when it has none.
    pub async fn dead_letter(&self, delivery: &PendingDelivery) -> Result<bool, SqsError> {
        let Some(dlq) = &delivery.dead_letter_arn else {
            return Ok(false);
        };
        send_to_queue(
            &self.inner.sqs,
            dlq,
            NewMessage::new(delivery.notification.clone()),
        )
        .await
        .map(|()| true)
    }

    /// Whether a subscription still exists and is confirmed (deliveries to an unsubscribed
    /// endpoint are dropped).
    pub fn is_subscribed(&self, arn: &str) -> bool {
        self.lock().subs.contains_key(arn)
    }
}

async fn send_to_queue(sqs: &SqsStore, queue_arn: &str, msg: NewMessage) -> Result<(), SqsError> {
    let Some(name) = sqs.name_of_arn(queue_arn) else {
        return Err(SqsError::QueueDoesNotExist);
    };
    let name = name.to_owned();
    sqs.send_message(&name, msg).await.map(|_| ())
}

fn sqs_attributes(
    attributes: &BTreeMap<String, MessageAttribute>,
) -> BTreeMap<String, MessageAttributeValue> {
    attributes
        .iter()
        .map(|(k, a)| {
            let v = match &a.value {
                AttrValue::String(s) => {
                    MessageAttributeValue::string(a.data_type.clone(), s.clone())
                }
                AttrValue::Binary(b) => {
                    MessageAttributeValue::binary(a.data_type.clone(), b.clone())
                }
            };
            (k.clone(), v)
        })
        .collect()
}

fn is_arn_of(arn: &str, service: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == service && !parts[5].is_empty()
}

fn check_subscription_arn(arn: &str) -> Result<(), SnsError> {
    let n = arn.split(':').count();
    if n < 6 {
        return Err(invalid(format!(
            "SubscriptionArn Reason: An ARN must have at least 6 elements, not {n}"
        )));
    }
    Ok(())
}

fn token() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{b}")
}

fn check_topic_attribute(
    name: &str,
    value: &str,
    fifo: bool,
    creating: bool,
) -> Result<(), SnsError> {
    if !TOPIC_ATTRIBUTES.contains(&name) {
        return Err(invalid(if creating {
            format!("Attributes Reason: Unknown attribute {name}")
        } else {
            "AttributeName".to_owned()
        }));
    }
    if matches!(name, "ArchivePolicy" | "DataProtectionPolicy") {
        return Err(invalid(format!(
            "Attributes Reason: {name} is not supported by Sluice (message archiving and data protection are not implemented)"
        )));
    }
    let json_valued = matches!(
        name,
        "Policy" | "DeliveryPolicy" | "ArchivePolicy" | "DataProtectionPolicy"
    );
    if json_valued && !value.is_empty() && serde_json::from_str::<Value>(value).is_err() {
        return Err(invalid(format!("{name}: failed to parse JSON.")));
    }
    match name {
        "FifoTopic" if !matches!(value, "true" | "false") => Err(invalid(
            "Attributes Reason: FifoTopic must be true or false",
        )),
        "ContentBasedDeduplication" if !fifo && value == "true" => Err(invalid(
            "Attributes Reason: Content based deduplication can only be set for FIFO topics",
        )),
        "ContentBasedDeduplication" if !matches!(value, "true" | "false") => Err(invalid(
            "Attributes Reason: ContentBasedDeduplication must be true or false",
        )),
        "FifoThroughputScope" if !fifo => Err(invalid(
            "Attributes Reason: FifoThroughputScope can only be set for FIFO topics",
        )),
        "FifoThroughputScope" if !matches!(value, "Topic" | "MessageGroup") => Err(invalid(
            "Attributes Reason: FifoThroughputScope must be Topic or MessageGroup",
        )),
        "SignatureVersion" if !matches!(value, "1" | "2") => Err(invalid(
            "Attributes Reason: SignatureVersion must be 1 or 2",
        )),
        "TracingConfig" if !matches!(value, "Active" | "PassThrough") => Err(invalid(
            "Attributes Reason: TracingConfig must be Active or PassThrough",
        )),
        "DisplayName" if value.chars().count() > 100 => Err(invalid("DisplayName")),
        _ => Ok(()),
    }
}

/// Checks one subscription attribute; a FilterPolicy is returned parsed.
fn check_subscription_attribute(
    name: &str,
    value: &str,
) -> Result<Option<FilterPattern>, SnsError> {
    if !SUBSCRIPTION_ATTRIBUTES.contains(&name) {
        return Err(invalid("AttributeName"));
    }
    match name {
        "RawMessageDelivery" if !matches!(value, "true" | "false") => Err(invalid(
            "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                .replace("{value}", value),
        )),
        "FilterPolicyScope" if !matches!(value, "MessageAttributes" | "MessageBody") => {
            Err(invalid(format!(
                "Attributes Reason: FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            )))
        }
        "FilterPolicy" if value.is_empty() => Ok(None),
        "FilterPolicy" => parse_filter(value).map(Some),
        "RedrivePolicy" => {
            let arn = serde_json::from_str::<Value>(value)
                .ok()
                .and_then(|v| v.get("deadLetterTargetArn")?.as_str().map(str::to_owned));
            match arn {
                Some(a) if is_arn_of(&a, "sqs") => Ok(None),
                _ => Err(invalid(
                    "RedrivePolicy: Redrive policy is not a valid JSON with a deadLetterTargetArn that is an SQS queue ARN",
                )),
            }
        }
        "DeliveryPolicy" if serde_json::from_str::<Value>(value).is_err() => {
            Err(invalid("DeliveryPolicy: failed to parse JSON."))
        }
        _ => Ok(None),
    }
}
