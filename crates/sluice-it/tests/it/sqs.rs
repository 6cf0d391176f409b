//! The embedded SQS through aws-sdk-sqs (JSON 1.0 protocol).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};

use crate::harness::*;

/// Error code (the query-compatible one SDKs report) and message of a failed call.
fn code_message<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

async fn create(
    c: &aws_sdk_sqs::Client,
    name: &str,
    attrs: &[(QueueAttributeName, &str)],
) -> String {
    let mut req = c.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    req.send().await.unwrap().queue_url().unwrap().to_owned()
}

fn string_attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_lifecycle_matches_aws() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();

    let q = create(
        &c,
        "orders-1",
        &[(QueueAttributeName::VisibilityTimeout, "45")],
    )
    .await;
    assert_eq!(q, format!("{}/{ACCOUNT}/orders-1", s.endpoint()));
    // Same attributes: the same queue; another value: QueueNameExists.
    assert_eq!(
        create(
            &c,
            "orders-1",
            &[(QueueAttributeName::VisibilityTimeout, "45")]
        )
        .await,
        q
    );
    let e = c
        .create_queue()
        .queue_name("orders-1")
        .attributes(QueueAttributeName::VisibilityTimeout, "46")
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_queue_name_exists());
    assert_eq!(
        code_message(&e),
        (
            "QueueAlreadyExists".into(),
            "A queue already exists with the same name and a different value for attribute VisibilityTimeout".into()
        )
    );
    create(&c, "orders-2", &[]).await;
    let got = c
        .get_queue_url()
        .queue_name("orders-2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.queue_url().unwrap(),
        format!("{}/{ACCOUNT}/orders-2", s.endpoint())
    );

    // The config file's queues exist too; a prefix and paging narrow the list.
    let all = c.list_queues().send().await.unwrap();
    assert!(all.queue_urls().iter().any(|u| u.ends_with("/jobs.fifo")));
    let page = c
        .list_queues()
        .queue_name_prefix("orders-")
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.queue_urls().len(), 1);
    assert!(page.queue_urls()[0].ends_with("/orders-1"));
    let next = c
        .list_queues()
        .queue_name_prefix("orders-")
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert!(next.queue_urls()[0].ends_with("/orders-2"));
    assert!(next.next_token().is_none());

    let attrs = c
        .get_queue_attributes()
        .queue_url(&q)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let a = attrs.attributes().unwrap();
    assert_eq!(a[&QueueAttributeName::VisibilityTimeout], "45");
    assert_eq!(
        a[&QueueAttributeName::QueueArn],
        "arn:aws:sqs:us-east-1:000000000000:orders-1"
    );
    assert_eq!(a[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(a[&QueueAttributeName::MessageRetentionPeriod], "345600");
    assert!(a.contains_key(&QueueAttributeName::CreatedTimestamp));

    c.set_queue_attributes()
        .queue_url(&q)
        .attributes(QueueAttributeName::DelaySeconds, "5")
        .send()
        .await
        .unwrap();
    let bad = c
        .set_queue_attributes()
        .queue_url(&q)
        .attributes(QueueAttributeName::MessageRetentionPeriod, "10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&bad),
        (
            "InvalidAttributeValue".into(),
            "Invalid value for the parameter MessageRetentionPeriod.".into()
        )
    );

    c.tag_queue()
        .queue_url(&q)
        .tags("team", "a")
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    c.untag_queue()
        .queue_url(&q)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = c.list_queue_tags().queue_url(&q).send().await.unwrap();
    assert_eq!(
        tags.tags().unwrap(),
        &HashMap::from([("team".to_owned(), "a".to_owned())])
    );

    c.delete_queue().queue_url(&q).send().await.unwrap();
    let gone = c
        .get_queue_url()
        .queue_name("orders-1")
        .send()
        .await
        .unwrap_err();
    assert!(gone.as_service_error().unwrap().is_queue_does_not_exist());
    assert_eq!(
        code_message(&gone),
        (
            "AWS.SimpleQueueService.NonExistentQueue".into(),
            "The specified queue does not exist.".into()
        )
    );
    // Any host in a QueueUrl names the same queue.
    let other_host = format!("http://sqs.example.com/{ACCOUNT}/orders-2");
    c.get_queue_attributes()
        .queue_url(other_host)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_round_trip_with_aws_digests() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();
    let q = create(&c, "digests", &[]).await;

    let sent = c
        .send_message()
        .queue_url(&q)
        .message_body("test")
        .message_attributes(
            "timestamp",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("1493147359900")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.md5_of_message_body(),
        Some("098f6bcd4621d373cade4e832627b4f6")
    );
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );

    let got = c
        .receive_message()
        .queue_url(&q)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.body(), Some("test"));
    assert_eq!(m.md5_of_body(), Some("098f6bcd4621d373cade4e832627b4f6"));
    assert_eq!(
        m.md5_of_message_attributes(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );
    let sys = m.attributes().unwrap();
    assert_eq!(
        sys[&MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    assert!(sys.contains_key(&MessageSystemAttributeName::SentTimestamp));
    assert!(sys.contains_key(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp));
    c.delete_message()
        .queue_url(&q)
        .receipt_handle(m.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();

    // Two attributes, one binary; only those asked for come back, digested alone.
    c.send_message()
        .queue_url(&q)
        .message_body("two")
        .message_attributes(
            "ordinal",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("1")
                .build()
                .unwrap(),
        )
        .message_attributes("category", string_attr("test"))
        .message_attributes(
            "blob",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 2]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = c
        .receive_message()
        .queue_url(&q)
        .message_attribute_names("ordinal")
        .message_attribute_names("cat.*")
        .send()
        .await
        .unwrap();
    let m = &got.messages()[0];
    assert_eq!(m.message_attributes().unwrap().len(), 2);
    assert_eq!(
        m.md5_of_message_attributes(),
        Some("d21ae90c49061e927f57df5f5d72be1f")
    );
    assert!(m.attributes().is_none(), "no system attributes asked for");

    let bad = c
        .send_message()
        .queue_url(&q)
        .message_body("x".repeat(1_048_577))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&bad),
        (
            "InvalidParameterValue".into(),
            "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.".into()
        )
    );
    let bad = c
        .receive_message()
        .queue_url(&q)
        .max_number_of_messages(11)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&bad),
        (
            "InvalidParameterValue".into(),
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_report_per_entry_and_refuse_bad_lists() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();
    let q = create(&c, "batches", &[]).await;

    let entry = |id: &str, body: &str| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .unwrap()
    };
    let out = c
        .send_message_batch()
        .queue_url(&q)
        .entries(entry("a", "one"))
        .entries(entry("b", "bad\u{1}"))
        .entries(entry("c", "three"))
        .send()
        .await
        .unwrap();
    let ok: Vec<&str> = out.successful().iter().map(|e| e.id()).collect();
    assert_eq!(ok, vec!["a", "c"]);
    assert_eq!(out.failed().len(), 1);
    assert_eq!(out.failed()[0].id(), "b");
    assert_eq!(out.failed()[0].code(), "InvalidMessageContents");
    assert!(out.failed()[0].sender_fault());

    let empty = c
        .send_message_batch()
        .queue_url(&q)
        .set_entries(Some(vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&empty).0,
        "AWS.SimpleQueueService.EmptyBatchRequest"
    );
    let mut many = c.send_message_batch().queue_url(&q);
    for i in 0..11 {
        many = many.entries(entry(&format!("e{i}"), "x"));
    }
    let many = many.send().await.unwrap_err();
    assert_eq!(
        code_message(&many),
        (
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest".into(),
            "Maximum number of entries per request are 10. You have sent 11.".into()
        )
    );
    let dup = c
        .send_message_batch()
        .queue_url(&q)
        .entries(entry("x", "1"))
        .entries(entry("x", "2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&dup),
        (
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct".into(),
            "Id x repeated.".into()
        )
    );
    let bad_id = c
        .send_message_batch()
        .queue_url(&q)
        .entries(entry("no:colons", "1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&bad_id).0,
        "AWS.SimpleQueueService.InvalidBatchEntryId"
    );

    let got = c
        .receive_message()
        .queue_url(&q)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 2);
    let mut del = c.delete_message_batch().queue_url(&q);
    for (i, m) in got.messages().iter().enumerate() {
        del = del.entries(
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap())
                .build()
                .unwrap(),
        );
    }
    del = del.entries(
        DeleteMessageBatchRequestEntry::builder()
            .id("junk")
            .receipt_handle("not-a-handle")
            .build()
            .unwrap(),
    );
    let out = del.send().await.unwrap();
    assert_eq!(out.successful().len(), 2);
    assert_eq!(out.failed()[0].id(), "junk");
    assert_eq!(out.failed()[0].code(), "ReceiptHandleIsInvalid");
    assert_eq!(
        out.failed()[0].message(),
        Some("The input receipt handle \"not-a-handle\" is not a valid receipt handle.")
    );
    let attrs = c
        .get_queue_attributes()
        .queue_url(&q)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_answers_when_a_message_arrives() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();
    let q = create(&c, "waiting", &[]).await;
    let (c2, q2) = (c.clone(), q.clone());
    let started = Instant::now();
    let poll = tokio::spawn(async move {
        c2.receive_message()
            .queue_url(&q2)
            .wait_time_seconds(20)
            .send()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.send_message()
        .queue_url(&q)
        .message_body("now")
        .send()
        .await
        .unwrap();
    let got = poll.await.unwrap();
    assert_eq!(got.messages()[0].body(), Some("now"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_timeout_and_redrive_to_the_dead_letter_queue() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();
    let dlq = create(&c, "dead", &[]).await;
    let policy =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dead","maxReceiveCount":2}"#;
    let q = create(
        &c,
        "flaky",
        &[
            (QueueAttributeName::RedrivePolicy, policy),
            (QueueAttributeName::VisibilityTimeout, "1"),
        ],
    )
    .await;
    let sent = c
        .send_message()
        .queue_url(&q)
        .message_body("poison")
        .send()
        .await
        .unwrap();
    let receive = |wait: i32| {
        let (c, q) = (c.clone(), q.clone());
        async move {
            c.receive_message()
                .queue_url(&q)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .wait_time_seconds(wait)
                .send()
                .await
                .unwrap()
        }
    };
    let first = receive(0).await;
    assert_eq!(first.messages().len(), 1);
    // The long poll answers once the visibility timeout runs out.
    let second = receive(5).await;
    let m = &second.messages()[0];
    assert_eq!(
        m.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    assert_ne!(m.receipt_handle(), first.messages()[0].receipt_handle());
    // ChangeMessageVisibility to 0 releases it at once; the next receive would be the third.
    c.change_message_visibility()
        .queue_url(&q)
        .receipt_handle(m.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    assert!(
        receive(0).await.messages().is_empty(),
        "moved, not received"
    );
    let dead = c
        .receive_message()
        .queue_url(&dlq)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let d = &dead.messages()[0];
    assert_eq!(d.message_id(), sent.message_id());
    assert_eq!(d.body(), Some("poison"));
    assert_eq!(
        d.attributes().unwrap()[&MessageSystemAttributeName::DeadLetterQueueSourceArn],
        "arn:aws:sqs:us-east-1:000000000000:flaky"
    );
    let sources = c
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();
    assert_eq!(sources.queue_urls(), std::slice::from_ref(&q));

    // A handle of another queue is not valid here.
    let stale = c
        .change_message_visibility()
        .queue_url(&dlq)
        .receipt_handle(first.messages()[0].receipt_handle().unwrap())
        .visibility_timeout(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_message(&stale).0, "ReceiptHandleIsInvalid");
    let batch = c
        .change_message_visibility_batch()
        .queue_url(&dlq)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("ok")
                .receipt_handle(d.receipt_handle().unwrap())
                .visibility_timeout(60)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.successful().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_orders_per_group_and_deduplicates() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();
    let q = create(
        &c,
        "ordered.fifo",
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "true"),
        ],
    )
    .await;
    let send = |body: &str, group: &str| {
        let (c, q) = (c.clone(), q.clone());
        let (body, group) = (body.to_owned(), group.to_owned());
        async move {
            c.send_message()
                .queue_url(&q)
                .message_body(body)
                .message_group_id(group)
                .send()
                .await
                .unwrap()
        }
    };
    let a1 = send("a1", "a").await;
    send("b1", "b").await;
    send("a2", "a").await;
    let again = send("a1", "a").await;
    assert_eq!(
        again.message_id(),
        a1.message_id(),
        "content-based deduplication"
    );
    assert_eq!(again.sequence_number(), a1.sequence_number());
    let got = c
        .receive_message()
        .queue_url(&q)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, vec!["a1", "a2", "b1"]);
    let attrs = got.messages()[0].attributes().unwrap();
    assert_eq!(attrs[&MessageSystemAttributeName::MessageGroupId], "a");
    assert_eq!(
        attrs[&MessageSystemAttributeName::SequenceNumber],
        a1.sequence_number().unwrap()
    );
    assert_eq!(
        attrs[&MessageSystemAttributeName::MessageDeduplicationId].len(),
        64
    );
    let missing_group = c
        .send_message()
        .queue_url(&q)
        .message_body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_message(&missing_group),
        (
            "MissingParameter".into(),
            "The request must contain the parameter MessageGroupId.".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_in_flight_state_survive_a_restart() {
    let (_f, url) = FakeFunction::start().await;
    let mut s = Sluice::start(&url).await;
    let c = s.sqs();
    let q = create(
        &c,
        "durable",
        &[(QueueAttributeName::VisibilityTimeout, "2")],
    )
    .await;
    for body in ["keep", "in-flight", "deleted"] {
        c.send_message()
            .queue_url(&q)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let got = c
        .receive_message()
        .queue_url(&q)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 3);
    for m in got.messages() {
        match m.body() {
            Some("deleted") => {
                c.delete_message()
                    .queue_url(&q)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            Some("keep") => {
                c.change_message_visibility()
                    .queue_url(&q)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .visibility_timeout(0)
                    .send()
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
    s.restart().await;
    let c = s.sqs();
    let q = c
        .get_queue_url()
        .queue_name("durable")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let first = c
        .receive_message()
        .queue_url(&q)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let bodies: Vec<&str> = first.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(
        bodies,
        vec!["keep"],
        "the in-flight message is still invisible"
    );
    let later = c
        .receive_message()
        .queue_url(&q)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .wait_time_seconds(10)
        .send()
        .await
        .unwrap();
    let m = &later.messages()[0];
    assert_eq!(m.body(), Some("in-flight"));
    assert_eq!(
        m.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mappings_see_queues_created_through_the_api() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.sqs();
    create(&c, "fresh", &[]).await;
    let lambda = s.lambda();
    let created = lambda
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn("arn:aws:sqs:us-east-1:000000000000:fresh")
        .send()
        .await
        .unwrap();
    assert_eq!(created.state(), Some("Creating"));
    let missing = lambda
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn("arn:aws:sqs:us-east-1:000000000000:never-made")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing.into_service_error().meta().code(),
        Some("InvalidParameterValueException")
    );
}
