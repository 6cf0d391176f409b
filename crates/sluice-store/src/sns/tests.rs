//! The SNS store end to end on a temporary data dir, delivering into the embedded SQS.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;

struct Env {
    _tmp: tempfile::TempDir,
    dir: DataDir,
    sqs: SqsStore,
    sns: SnsStore,
}

const ENDPOINT: &str = "http://127.0.0.1:9";

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(&tmp.path().join("data")).unwrap();
        let sqs = SqsStore::open(&dir, "us-east-1", "000000000000").unwrap();
        let sns = SnsStore::open(&dir, "us-east-1", "000000000000", sqs.clone(), ENDPOINT).unwrap();
        Self {
            _tmp: tmp,
            dir,
            sqs,
            sns,
        }
    }

    /// Drops the SNS store (closing its file) and opens the data dir's SNS again.
    fn reopen_sns(self) -> Self {
        let Env {
            _tmp,
            dir,
            sqs,
            sns,
        } = self;
        drop(sns);
        let sns = SnsStore::open(&dir, "us-east-1", "000000000000", sqs.clone(), ENDPOINT).unwrap();
        Env {
            _tmp,
            dir,
            sqs,
            sns,
        }
    }

    fn queue(&self, name: &str) -> String {
        self.sqs
            .create_queue(name, &BTreeMap::new(), BTreeMap::new())
            .unwrap();
        self.sqs.queue_arn(name)
    }

    async fn bodies(&self, queue: &str) -> Vec<String> {
        self.sqs
            .receive(queue, 10, None)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect()
    }
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn invalid_text(e: SnsError) -> String {
    match e {
        SnsError::InvalidParameter(t) => t,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[tokio::test]
async fn create_topic_is_idempotent_and_checks_names() {
    let env = Env::new();
    let t = env
        .sns
        .create_topic("orders", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    assert_eq!(t.arn, "arn:aws:sns:us-east-1:000000000000:orders");
    let again = env
        .sns
        .create_topic("orders", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    assert_eq!(again, t);
    assert_eq!(
        invalid_text(
            env.sns
                .create_topic("bad name", &BTreeMap::new(), &BTreeMap::new())
                .unwrap_err()
        ),
        "Invalid parameter: Topic Name"
    );
    assert_eq!(
        invalid_text(
            env.sns
                .create_topic("x.fifo", &BTreeMap::new(), &BTreeMap::new())
                .unwrap_err()
        ),
        "Invalid parameter: Topic Name"
    );
    let fifo = attrs(&[("FifoTopic", "true")]);
    assert!(env.sns.create_topic("x", &fifo, &BTreeMap::new()).is_err());
    assert!(
        env.sns
            .create_topic("x.fifo", &fifo, &BTreeMap::new())
            .unwrap()
            .fifo
    );
    env.sns
        .set_topic_attribute(&t.arn, "DisplayName", "Orders")
        .unwrap();
    let e = env
        .sns
        .create_topic(
            "orders",
            &attrs(&[("DisplayName", "Other")]),
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert_eq!(
        invalid_text(e),
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    );
    assert_eq!(env.sns.list_topics().len(), 2);
    // Features Sluice does not implement are refused, not accepted and ignored.
    let e = env
        .sns
        .create_topic(
            "archive",
            &attrs(&[("ArchivePolicy", "{}")]),
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert!(invalid_text(e).contains("ArchivePolicy is not supported"));
}

#[tokio::test]
async fn publish_to_a_missing_topic_is_not_found() {
    let env = Env::new();
    let e = env
        .sns
        .publish(&env.sns.topic_arn("nope"), PublishInput::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, SnsError::NotFound(t) if t == "Topic does not exist"));
}

#[tokio::test]
async fn sqs_subscribers_get_the_json_notification_or_the_raw_message() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let q1 = env.queue("wrapped");
    let q2 = env.queue("raw");
    let s1 = env
        .sns
        .subscribe(&topic.arn, "sqs", Some(&q1), &BTreeMap::new())
        .unwrap();
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&q2),
            &attrs(&[("RawMessageDelivery", "true")]),
        )
        .unwrap();
    let mut input = PublishInput::new("hello");
    input.subject = Some("greeting".into());
    input
        .attributes
        .insert("color".into(), MessageAttribute::string("String", "red"));
    let published = env.sns.publish(&topic.arn, input).await.unwrap();

    let wrapped = env.bodies("wrapped").await;
    assert_eq!(wrapped.len(), 1);
    let doc: Value = serde_json::from_str(&wrapped[0]).unwrap();
    assert_eq!(doc["Type"], "Notification");
    assert_eq!(doc["MessageId"], published.message_id.as_str());
    assert_eq!(doc["TopicArn"], topic.arn.as_str());
    assert_eq!(doc["Subject"], "greeting");
    assert_eq!(doc["Message"], "hello");
    assert_eq!(doc["SignatureVersion"], "1");
    assert_eq!(doc["MessageAttributes"]["color"]["Type"], "String");
    assert_eq!(doc["MessageAttributes"]["color"]["Value"], "red");
    assert!(
        doc["UnsubscribeURL"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:9/?Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns")
    );
    assert!(
        wrapped[0].contains("\"Type\" : \"Notification\""),
        "AWS's layout"
    );
    assert!(s1.arn.starts_with(&format!("{}:", topic.arn)));

    let raw = env.sqs.receive("raw", 10, None).await.unwrap();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].body, "hello");
    assert_eq!(
        raw[0].message_attributes["color"],
        MessageAttributeValue::string("String", "red")
    );
}

#[tokio::test]
async fn filter_policies_pick_subscribers_by_attributes_or_body() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let red = env.queue("red");
    let big = env.queue("big");
    let body = env.queue("body");
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&red),
            &attrs(&[
                ("FilterPolicy", r#"{"color":["red"]}"#),
                ("RawMessageDelivery", "true"),
            ]),
        )
        .unwrap();
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&big),
            &attrs(&[
                ("FilterPolicy", r#"{"size":[{"numeric":[">",10]}]}"#),
                ("RawMessageDelivery", "true"),
            ]),
        )
        .unwrap();
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&body),
            &attrs(&[
                ("FilterPolicy", r#"{"kind":["order"]}"#),
                ("FilterPolicyScope", "MessageBody"),
                ("RawMessageDelivery", "true"),
            ]),
        )
        .unwrap();
    for (msg, color, size) in [
        (r#"{"kind":"order","n":1}"#, "red", "5"),
        (r#"{"kind":"refund","n":2}"#, "blue", "50"),
        ("not json", "red", "11"),
    ] {
        let mut input = PublishInput::new(msg);
        input
            .attributes
            .insert("color".into(), MessageAttribute::string("String", color));
        input
            .attributes
            .insert("size".into(), MessageAttribute::string("Number", size));
        env.sns.publish(&topic.arn, input).await.unwrap();
    }
    let mut reds = env.bodies("red").await;
    reds.sort();
    assert_eq!(
        reds,
        vec![
            "not json".to_owned(),
            r#"{"kind":"order","n":1}"#.to_owned()
        ]
    );
    let mut bigs = env.bodies("big").await;
    bigs.sort();
    assert_eq!(
        bigs,
        vec![
            "not json".to_owned(),
            r#"{"kind":"refund","n":2}"#.to_owned()
        ]
    );
    assert_eq!(
        env.bodies("body").await,
        vec![r#"{"kind":"order","n":1}"#.to_owned()]
    );
}

#[tokio::test]
async fn bad_filter_policies_and_attributes_are_refused() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let q = env.queue("q");
    let e = env
        .sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&q),
            &attrs(&[("FilterPolicy", "{")]),
        )
        .unwrap_err();
    assert!(invalid_text(e).starts_with("Invalid parameter: FilterPolicy: failed to parse JSON."));
    let e = env
        .sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&q),
            &attrs(&[(
                "FilterPolicy",
                r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#,
            )]),
        )
        .unwrap_err();
    assert_eq!(
        invalid_text(e),
        "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"
    );
    let e = env
        .sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some("https://example.com/q"),
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert_eq!(invalid_text(e), "Invalid parameter: SQS endpoint ARN");
    let e = env
        .sns
        .subscribe(&topic.arn, "carrier-pigeon", Some("x"), &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        invalid_text(e),
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
    );
    assert!(
        env.sns
            .subscribe(&topic.arn, "email", Some("a@b.c"), &BTreeMap::new())
            .is_err()
    );
    assert!(
        env.sns.list_subscriptions(None).unwrap().is_empty(),
        "nothing changed"
    );

    let mut input = PublishInput::new("x");
    input
        .attributes
        .insert("n".into(), MessageAttribute::string("Number", "abc"));
    let e = env.sns.publish(&topic.arn, input).await.unwrap_err();
    assert!(invalid_text(e).contains("Could not cast message attribute 'n' value to number."));
    let e = env
        .sns
        .publish(&topic.arn, PublishInput::new(""))
        .await
        .unwrap_err();
    assert_eq!(invalid_text(e), "Invalid parameter: Empty message");
    let e = env
        .sns
        .publish(&topic.arn, PublishInput::new("x".repeat(262_145)))
        .await
        .unwrap_err();
    assert_eq!(invalid_text(e), "Invalid parameter: Message too long");
}

#[tokio::test]
async fn message_structure_json_picks_the_protocol_message() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let q = env.queue("q");
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&q),
            &attrs(&[("RawMessageDelivery", "true")]),
        )
        .unwrap();
    let mut input = PublishInput::new(r#"{"default":"d","sqs":"for sqs"}"#);
    input.structure_json = true;
    env.sns.publish(&topic.arn, input).await.unwrap();
    assert_eq!(env.bodies("q").await, vec!["for sqs".to_owned()]);
    let mut input = PublishInput::new(r#"{"sqs":"x"}"#);
    input.structure_json = true;
    let e = env.sns.publish(&topic.arn, input).await.unwrap_err();
    assert_eq!(
        invalid_text(e),
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    );
}

#[tokio::test]
async fn fifo_topics_need_a_group_and_deduplicate() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic(
            "t.fifo",
            &attrs(&[("FifoTopic", "true"), ("ContentBasedDeduplication", "true")]),
            &BTreeMap::new(),
        )
        .unwrap();
    env.sqs
        .create_queue(
            "q.fifo",
            &attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]),
            BTreeMap::new(),
        )
        .unwrap();
    let q = env.sqs.queue_arn("q.fifo");
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&q),
            &attrs(&[("RawMessageDelivery", "true")]),
        )
        .unwrap();
    let e = env
        .sns
        .publish(&topic.arn, PublishInput::new("a"))
        .await
        .unwrap_err();
    assert_eq!(
        invalid_text(e),
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    );
    let mut seqs = Vec::new();
    for body in ["a", "b", "a"] {
        let mut input = PublishInput::new(body);
        input.group_id = Some("g".into());
        seqs.push(env.sns.publish(&topic.arn, input).await.unwrap());
    }
    assert_eq!(seqs[0], seqs[2], "the duplicate gets the first answer");
    let (s0, s1) = (
        seqs[0].sequence_number.clone().unwrap(),
        seqs[1].sequence_number.clone().unwrap(),
    );
    assert_eq!(s0.len(), 20);
    assert!(s1 > s0);
    let received = env.sqs.receive("q.fifo", 10, None).await.unwrap();
    let bodies: Vec<&str> = received.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec!["a", "b"]);
    assert_eq!(received[0].attributes["MessageGroupId"], "g");
    // Lambda and HTTP endpoints cannot subscribe to a FIFO topic; a standard topic cannot
    // feed a FIFO queue.
    assert!(
        env.sns
            .subscribe(
                &topic.arn,
                "lambda",
                Some("arn:aws:lambda:us-east-1:000000000000:function:f"),
                &BTreeMap::new()
            )
            .is_err()
    );
    let std_topic = env
        .sns
        .create_topic("s", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    assert!(
        env.sns
            .subscribe(&std_topic.arn, "sqs", Some(&q), &BTreeMap::new())
            .is_err()
    );
}

#[tokio::test]
async fn lambda_and_http_deliveries_are_durable_until_finished() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let f = "arn:aws:lambda:us-east-1:000000000000:function:f";
    let sub = env
        .sns
        .subscribe(&topic.arn, "lambda", Some(f), &BTreeMap::new())
        .unwrap();
    assert!(sub.confirmed);
    let http = env
        .sns
        .subscribe(
            &topic.arn,
            "http",
            Some("http://127.0.0.1:1/hook"),
            &BTreeMap::new(),
        )
        .unwrap();
    assert!(!http.confirmed);
    let confirmation = env.sns.take_ready();
    assert_eq!(confirmation.len(), 1);
    assert_eq!(confirmation[0].kind, DeliveryKind::SubscriptionConfirmation);
    let doc: Value = serde_json::from_str(&confirmation[0].body).unwrap();
    assert_eq!(doc["Type"], "SubscriptionConfirmation");
    assert_eq!(doc["Token"], http.token.as_str());
    assert!(
        doc["SubscribeURL"]
            .as_str()
            .unwrap()
            .contains("Action=ConfirmSubscription")
    );
    env.sns.finish(confirmation[0].id).unwrap();

    env.sns
        .publish(&topic.arn, PublishInput::new("one"))
        .await
        .unwrap();
    let ready = env.sns.take_ready();
    assert_eq!(ready.len(), 1, "the unconfirmed http endpoint gets nothing");
    let event: Value = serde_json::from_str(&ready[0].body).unwrap();
    let record = &event["Records"][0];
    assert_eq!(record["EventSource"], "aws:sns");
    assert_eq!(record["EventVersion"], "1.0");
    assert_eq!(record["EventSubscriptionArn"], sub.arn.as_str());
    assert_eq!(record["Sns"]["Message"], "one");
    assert_eq!(record["Sns"]["Subject"], Value::Null);
    assert!(record["Sns"]["SigningCertUrl"].is_string());

    assert_eq!(
        invalid_text(env.sns.confirm(&topic.arn, "wrong").unwrap_err()),
        "Invalid parameter: Token"
    );
    env.sns.confirm(&topic.arn, &http.token).unwrap();
    env.sns
        .publish(&topic.arn, PublishInput::new("two"))
        .await
        .unwrap();
    let two = env.sns.take_ready();
    assert_eq!(two.len(), 2);
    let to_http = two.iter().find(|d| d.protocol == Protocol::Http).unwrap();
    let doc: Value = serde_json::from_str(&to_http.body).unwrap();
    assert_eq!(doc["Message"], "two");

    // Unfinished deliveries come back after a restart; finished ones do not.
    env.sns.finish(ready[0].id).unwrap();
    let env = env.reopen_sns();
    let mut again: Vec<u64> = env.sns.take_ready().iter().map(|d| d.id).collect();
    again.sort_unstable();
    let mut expect: Vec<u64> = two.iter().map(|d| d.id).collect();
    expect.sort_unstable();
    assert_eq!(again, expect);
    assert_eq!(
        env.sns.list_subscriptions(Some(&topic.arn)).unwrap().len(),
        2
    );
    assert!(env.sns.subscription(&http.arn).unwrap().confirmed);
}

#[tokio::test]
async fn unsubscribe_and_delete_topic() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let q = env.queue("q");
    let sub = env
        .sns
        .subscribe(&topic.arn, "sqs", Some(&q), &BTreeMap::new())
        .unwrap();
    assert_eq!(
        env.sns
            .subscribe(&topic.arn, "sqs", Some(&q), &BTreeMap::new())
            .unwrap()
            .arn,
        sub.arn,
        "subscribing twice answers the same subscription"
    );
    env.sns.unsubscribe(&sub.arn).unwrap();
    assert!(matches!(
        env.sns.unsubscribe(&sub.arn),
        Err(SnsError::NotFound(_))
    ));
    env.sns
        .publish(&topic.arn, PublishInput::new("x"))
        .await
        .unwrap();
    assert!(env.bodies("q").await.is_empty());
    env.sns
        .subscribe(&topic.arn, "sqs", Some(&q), &BTreeMap::new())
        .unwrap();
    env.sns.delete_topic(&topic.arn).unwrap();
    env.sns.delete_topic(&topic.arn).unwrap();
    assert!(env.sns.list_subscriptions(None).unwrap().is_empty());
    assert!(env.sns.list_topics().is_empty());
}

#[tokio::test]
async fn a_missing_queue_sends_to_the_subscription_dead_letter_queue() {
    let env = Env::new();
    let topic = env
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let dlq = env.queue("dlq");
    let gone = env.sqs.queue_arn("gone");
    env.sns
        .subscribe(
            &topic.arn,
            "sqs",
            Some(&gone),
            &attrs(&[(
                "RedrivePolicy",
                &format!(r#"{{"deadLetterTargetArn":"{dlq}"}}"#),
            )]),
        )
        .unwrap();
    env.sns
        .publish(&topic.arn, PublishInput::new("lost?"))
        .await
        .unwrap();
    let bodies = env.bodies("dlq").await;
    assert_eq!(bodies.len(), 1);
    let doc: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(doc["Message"], "lost?");
}
