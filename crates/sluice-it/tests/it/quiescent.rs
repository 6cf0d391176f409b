//! `GET /_sluice/quiescent`: a test writes, waits there, and finds every record already
//! delivered: no sleeps, no polling of the function.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::EventSourcePosition;
use serde_json::Value;

use crate::harness::{ScriptedFunction, Sluice};

const ACCOUNT: &str = "000000000000";

/// The answer of `GET /_sluice/quiescent?timeout_ms=...` (a minimal HTTP/1.1 GET).
async fn quiescent(s: &Sluice, timeout_ms: u64) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = s.endpoint();
    let host = endpoint.strip_prefix("http://").unwrap();
    let mut sock = tokio::net::TcpStream::connect(host).await.unwrap();
    let req = format!(
        "GET /_sluice/quiescent?timeout_ms={timeout_ms} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    sock.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap()
}

/// Every event the function has received so far, without waiting.
fn received(f: &mut ScriptedFunction) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(e) = f.events.try_recv() {
        out.extend(e["Records"].as_array().cloned().unwrap_or_default());
    }
    out
}

fn ok() -> crate::harness::Script {
    Arc::new(|_| (200, "{}".into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_quiescent_every_stream_and_queue_record_has_been_delivered() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = Sluice::start(&f.url).await;
    assert_eq!(
        quiescent(&s, 1_000).await["Quiescent"],
        true,
        "nothing to do"
    );
    s.kinesis()
        .create_stream()
        .stream_name("flow")
        .shard_count(2)
        .send()
        .await
        .unwrap();
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/flow"))
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(7)
        .send()
        .await
        .unwrap();
    s.lambda()
        .create_event_source_mapping()
        .function_name("other")
        .event_source_arn(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"))
        .batch_size(3)
        .send()
        .await
        .unwrap();
    let queue = format!("{}/{ACCOUNT}/jobs", s.endpoint());
    for round in 0..3 {
        for i in 0..20 {
            s.kinesis()
                .put_record()
                .stream_name("flow")
                .partition_key(format!("k{i}"))
                .data(Blob::new(format!("r{round}-{i}").into_bytes()))
                .send()
                .await
                .unwrap();
            s.sqs()
                .send_message()
                .queue_url(&queue)
                .message_body(format!("m{round}-{i}"))
                .send()
                .await
                .unwrap();
        }
        let q = quiescent(&s, 20_000).await;
        assert_eq!(q["Quiescent"], true, "{q}");
        let got = received(&mut f);
        let kinesis = got
            .iter()
            .filter(|r| r["eventSource"] == "aws:kinesis")
            .count();
        let sqs = got.iter().filter(|r| r["eventSource"] == "aws:sqs").count();
        assert_eq!(
            (kinesis, sqs),
            (20, 20),
            "round {round}: all delivered before the answer"
        );
    }
    let attrs = s
        .sqs()
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()
            [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages],
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_writes_and_sns_lambda_deliveries_are_waited_for() {
    let mut f = ScriptedFunction::start(ok()).await;
    let s = Sluice::start(&f.url).await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(format!(
            "arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/users/stream/2026-01-01T00:00:00.000"
        ))
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    let ddb = crate::dynamodb::ddb(&s.endpoint());
    for i in 0..10 {
        ddb.put_item()
            .table_name("users")
            .item("pk", AttributeValue::S(format!("u{i}")))
            .send()
            .await
            .unwrap();
    }
    s.sns()
        .subscribe()
        .topic_arn(format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts"))
        .protocol("lambda")
        .endpoint(format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:other"))
        .send()
        .await
        .unwrap();
    s.sns()
        .publish()
        .topic_arn(format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts"))
        .message("hello")
        .send()
        .await
        .unwrap();
    let q = quiescent(&s, 20_000).await;
    assert_eq!(q["Quiescent"], true, "{q}");
    let got = received(&mut f);
    assert_eq!(
        got.iter()
            .filter(|r| r["eventSource"] == "aws:dynamodb")
            .count(),
        10
    );
    assert_eq!(
        got.iter().filter(|r| r["EventSource"] == "aws:sns").count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_mapping_is_reported_busy_until_the_timeout() {
    let f = ScriptedFunction::start(Arc::new(|_| (500, "boom".into()))).await;
    let s = Sluice::start(&f.url).await;
    s.lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"))
        .send()
        .await
        .unwrap();
    s.sqs()
        .send_message()
        .queue_url(format!("{}/{ACCOUNT}/jobs", s.endpoint()))
        .message_body("poison")
        .send()
        .await
        .unwrap();
    let q = quiescent(&s, 300).await;
    assert_eq!(q["Quiescent"], false, "{q}");
    let busy: Vec<&str> = q["Busy"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(busy.iter().any(|b| b.contains("poller")), "{busy:?}");
    drop(f);
}
