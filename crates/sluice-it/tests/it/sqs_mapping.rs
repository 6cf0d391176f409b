//! SQS event source mappings end to end: messages sent with aws-sdk-sqs reach an HTTP
//! function; success deletes them, failure brings them back after the visibility timeout and
//! the queue's RedrivePolicy moves them to the dead-letter queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_lambda::types::FunctionResponseType;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::harness::*;

async fn queue_url(s: &Sluice, name: &str) -> String {
    s.sqs()
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_delivered_in_aws_shape_and_deleted() {
    let mut f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let s = Sluice::start(&f.url).await;
    let url = queue_url(&s, "jobs").await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(SQS)
        .send()
        .await
        .unwrap();
    s.sqs()
        .send_message()
        .queue_url(&url)
        .message_body(r#"{"order": 1}"#)
        .send()
        .await
        .unwrap();
    let r = f.records(1).await;
    let rec = &r[0];
    assert_eq!(rec["body"], r#"{"order": 1}"#);
    assert_eq!(rec["eventSource"], "aws:sqs");
    assert_eq!(rec["eventSourceARN"], SQS);
    assert_eq!(rec["awsRegion"], "us-east-1");
    assert_eq!(rec["attributes"]["ApproximateReceiveCount"], "1");
    assert!(rec["attributes"]["SentTimestamp"].is_string());
    assert_eq!(rec["md5OfBody"].as_str().unwrap().len(), 32);
    assert!(rec["receiptHandle"].is_string());
    // Deleted after success: the queue ends empty (nothing visible, nothing in flight).
    let mut empty = false;
    for _ in 0..2000 {
        let a = s
            .sqs()
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap();
        let attrs = a.attributes().unwrap();
        let n = |k: QueueAttributeName| attrs.get(&k).map(String::as_str) == Some("0");
        if n(QueueAttributeName::ApproximateNumberOfMessages)
            && n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        {
            empty = true;
            break;
        }
    }
    assert!(empty, "the delivered message was not deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_return_after_the_visibility_timeout_then_go_to_the_dlq() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let mut f = ScriptedFunction::start(Arc::new(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        (500, "boom".into())
    }))
    .await;
    let s = Sluice::start(&f.url).await;
    let sqs = s.sqs();
    let work = sqs
        .create_queue()
        .queue_name("work")
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{DLQ}","maxReceiveCount":"2"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn("arn:aws:sqs:us-east-1:000000000000:work")
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&work)
        .message_body("poison")
        .send()
        .await
        .unwrap();
    let first = f.records(1).await;
    assert_eq!(first[0]["attributes"]["ApproximateReceiveCount"], "1");
    let second = f.records(1).await;
    assert_eq!(second[0]["attributes"]["ApproximateReceiveCount"], "2");
    // After maxReceiveCount the queue's redrive moves it to the dead-letter queue.
    let dlq = queue_url(&s, "dlq").await;
    let moved = sqs
        .receive_message()
        .queue_url(&dlq)
        .wait_time_seconds(10)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.messages().len(), 1);
    assert_eq!(moved.messages()[0].body(), Some("poison"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_item_failures_keep_only_the_listed_messages() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let mut f = ScriptedFunction::start(Arc::new(move |event| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        let failed: Vec<_> = event["Records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| n == 0 && r["body"] == "retry-me")
            .map(|r| serde_json::json!({"itemIdentifier": r["messageId"]}))
            .collect();
        (
            200,
            serde_json::json!({"batchItemFailures": failed}).to_string(),
        )
    }))
    .await;
    let s = Sluice::start(&f.url).await;
    let sqs = s.sqs();
    let q = sqs
        .create_queue()
        .queue_name("partial")
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    for body in ["a", "retry-me", "c"] {
        sqs.send_message()
            .queue_url(&q)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn("arn:aws:sqs:us-east-1:000000000000:partial")
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|(b, n): &(String, String)| b == "retry-me" && n == "2")
    {
        for r in f.records(1).await {
            seen.push((
                r["body"].as_str().unwrap().to_owned(),
                r["attributes"]["ApproximateReceiveCount"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
        }
    }
    // Only the listed message came back; the others were deleted after the first call.
    assert_eq!(seen.iter().filter(|(b, _)| b == "a").count(), 1, "{seen:?}");
    assert_eq!(seen.iter().filter(|(b, _)| b == "c").count(), 1, "{seen:?}");
}
