//! The embedded SNS through `aws-sdk-sns`: topics, subscriptions, Publish to SQS, Lambda and
//! HTTP subscribers, and stream on-failure records published to a topic.

use std::sync::Arc;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::{DestinationConfig, EventSourcePosition, OnFailure};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use serde_json::Value;

use crate::harness::{ScriptedFunction, Sluice};

const ACCOUNT: &str = "000000000000";

async fn queue_arn(s: &Sluice, name: &str) -> String {
    let url = s
        .sqs()
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    format!(
        "arn:aws:sqs:us-east-1:{ACCOUNT}:{}",
        url.rsplit('/').next().unwrap()
    )
}

/// Receives from a queue until `n` messages have arrived (long polls; publish has already
/// delivered them before it answered, so one poll normally suffices).
async fn receive(s: &Sluice, name: &str, n: usize) -> Vec<aws_sdk_sqs::types::Message> {
    let url = format!("{}/{ACCOUNT}/{name}", s.endpoint());
    let mut out = Vec::new();
    for _ in 0..20 {
        let got = s
            .sqs()
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        out.extend(got.messages().iter().cloned());
        if out.len() >= n {
            return out;
        }
    }
    panic!("only {} of {n} messages reached {name}", out.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_subscriptions_through_the_sdk() {
    let s = Sluice::start("http://127.0.0.1:9/").await;
    let sns = s.sns();
    let topic = sns
        .create_topic()
        .name("news")
        .attributes("DisplayName", "News")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("team")
                .value("a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    assert_eq!(topic, format!("arn:aws:sns:us-east-1:{ACCOUNT}:news"));
    let topics = sns.list_topics().send().await.unwrap();
    let arns: Vec<&str> = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .collect();
    assert!(arns.contains(&topic.as_str()));
    assert!(
        arns.contains(&format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts").as_str()),
        "declared in the config file"
    );

    let q = queue_arn(&s, "news-q").await;
    let sub = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&q)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap()
        .subscription_arn()
        .unwrap()
        .to_owned();
    assert!(sub.starts_with(&format!("{topic}:")));
    let attrs = sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs["DisplayName"], "News");
    assert_eq!(attrs["SubscriptionsConfirmed"], "1");
    let sub_attrs = sns
        .get_subscription_attributes()
        .subscription_arn(&sub)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sub_attrs.attributes().unwrap()["RawMessageDelivery"],
        "true"
    );
    assert_eq!(sub_attrs.attributes().unwrap()["Endpoint"], q);
    let listed = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.subscriptions().len(), 1);
    assert_eq!(listed.subscriptions()[0].protocol(), Some("sqs"));

    let tags = sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].key(), "team");

    // Errors with AWS's codes.
    let e = sns
        .publish()
        .topic_arn(format!("arn:aws:sns:us-east-1:{ACCOUNT}:missing"))
        .message("x")
        .send()
        .await
        .unwrap_err();
    let e = e.into_service_error();
    assert!(e.is_not_found_exception(), "{e:?}");
    assert_eq!(e.meta().message(), Some("Topic does not exist"));
    let e = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint("not-an-arn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    assert_eq!(
        e.meta().message(),
        Some("Invalid parameter: SQS endpoint ARN")
    );

    sns.unsubscribe()
        .subscription_arn(&sub)
        .send()
        .await
        .unwrap();
    sns.delete_topic().topic_arn(&topic).send().await.unwrap();
    let topics = sns.list_topics().send().await.unwrap();
    assert!(
        !topics
            .topics()
            .iter()
            .any(|t| t.topic_arn() == Some(topic.as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_reaches_queues_as_notifications_raw_messages_and_by_filter() {
    let s = Sluice::start("http://127.0.0.1:9/").await;
    let sns = s.sns();
    let topic = sns
        .create_topic()
        .name("orders")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let all = queue_arn(&s, "all").await;
    let blue = queue_arn(&s, "blue").await;
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&all)
        .send()
        .await
        .unwrap();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&blue)
        .attributes("RawMessageDelivery", "true")
        .attributes("FilterPolicy", r#"{"color":["blue"]}"#)
        .send()
        .await
        .unwrap();
    let attr = |v: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .unwrap()
    };
    let first = sns
        .publish()
        .topic_arn(&topic)
        .subject("s1")
        .message("red order")
        .message_attributes("color", attr("red"))
        .send()
        .await
        .unwrap();
    sns.publish_batch()
        .topic_arn(&topic)
        .publish_batch_request_entries(
            PublishBatchRequestEntry::builder()
                .id("a")
                .message("blue order")
                .message_attributes("color", attr("blue"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let wrapped = receive(&s, "all", 2).await;
    let docs: Vec<Value> = wrapped
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    let red = docs.iter().find(|d| d["Message"] == "red order").unwrap();
    assert_eq!(red["Type"], "Notification");
    assert_eq!(red["MessageId"], first.message_id().unwrap());
    assert_eq!(red["Subject"], "s1");
    assert_eq!(red["TopicArn"], topic.as_str());
    assert_eq!(red["MessageAttributes"]["color"]["Value"], "red");
    assert!(red["Timestamp"].as_str().unwrap().ends_with('Z'));

    let raw = receive(&s, "blue", 1).await;
    assert_eq!(raw.len(), 1, "only the blue message passes the filter");
    assert_eq!(raw[0].body(), Some("blue order"));
    assert_eq!(
        raw[0].message_attributes().unwrap()["color"].string_value(),
        Some("blue")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_subscribers_are_invoked_with_the_sns_event() {
    let mut f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let s = Sluice::start(&f.url).await;
    let sns = s.sns();
    let topic = format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts");
    let function = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo");
    let sub = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("lambda")
        .endpoint(&function)
        .send()
        .await
        .unwrap()
        .subscription_arn()
        .unwrap()
        .to_owned();
    sns.publish()
        .topic_arn(&topic)
        .message("wake up")
        .send()
        .await
        .unwrap();
    let event = f.next().await;
    let record = &event["Records"][0];
    assert_eq!(record["EventSource"], "aws:sns");
    assert_eq!(record["EventSubscriptionArn"], sub.as_str());
    assert_eq!(record["Sns"]["Message"], "wake up");
    assert_eq!(record["Sns"]["TopicArn"], topic.as_str());
    assert_eq!(record["Sns"]["Type"], "Notification");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_subscribers_confirm_then_receive_notifications() {
    let mut endpoint = ScriptedFunction::start(Arc::new(|_| (200, String::new()))).await;
    let s = Sluice::start("http://127.0.0.1:9/").await;
    let sns = s.sns();
    let topic = format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts");
    let answer = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("http")
        .endpoint(&endpoint.url)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.subscription_arn(), Some("pending confirmation"));
    let confirmation = endpoint.next().await;
    assert_eq!(confirmation["Type"], "SubscriptionConfirmation");
    // Nothing is sent before the endpoint confirms.
    sns.publish()
        .topic_arn(&topic)
        .message("early")
        .send()
        .await
        .unwrap();
    let confirmed = sns
        .confirm_subscription()
        .topic_arn(&topic)
        .token(confirmation["Token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(confirmed.subscription_arn().unwrap().starts_with(&topic));
    sns.publish()
        .topic_arn(&topic)
        .message("hello http")
        .send()
        .await
        .unwrap();
    let n = endpoint.next().await;
    assert_eq!(n["Type"], "Notification");
    assert_eq!(n["Message"], "hello http");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_failure_records_are_published_to_the_topic() {
    let f = ScriptedFunction::start(Arc::new(|_| (500, "boom".into()))).await;
    let s = Sluice::start(&f.url).await;
    s.kinesis()
        .create_stream()
        .stream_name("flow")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let topic = format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts");
    let q = queue_arn(&s, "failures").await;
    s.sns()
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&q)
        .send()
        .await
        .unwrap();
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/flow"))
        .starting_position(EventSourcePosition::TrimHorizon)
        .maximum_retry_attempts(0)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(&topic).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    s.kinesis()
        .put_record()
        .stream_name("flow")
        .partition_key("k")
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let got = receive(&s, "failures", 1).await;
    let notification: Value = serde_json::from_str(got[0].body().unwrap()).unwrap();
    assert_eq!(notification["TopicArn"], topic.as_str());
    let record: Value = serde_json::from_str(notification["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        record["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(record["KinesisBatchInfo"]["batchSize"], 1);
    drop(f);
}
