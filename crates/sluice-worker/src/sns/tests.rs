//! The deliverer against a local HTTP endpoint and a scripted invoker, with retry delays
//! shortened to milliseconds (the policy's shape is what is tested, not AWS's durations).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use sluice_core::function::{InvokeError, InvokeFuture};
use sluice_store::DataDir;
use sluice_store::sns::PublishInput;
use sluice_store::sqs::SqsStore;
use tokio::sync::mpsc;

use super::*;
use crate::ShutdownSignal;

struct Env {
    _tmp: tempfile::TempDir,
    sqs: SqsStore,
    sns: SnsStore,
    store: MetaStore,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::open(&tmp.path().join("data")).unwrap();
    let store = MetaStore::open(&dir).unwrap();
    let sqs = SqsStore::open(&dir, "us-east-1", "000000000000").unwrap();
    let sns = SnsStore::open(&dir, "us-east-1", "000000000000", sqs.clone(), "http://x").unwrap();
    Env {
        _tmp: tmp,
        sqs,
        sns,
        store,
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        http_retries: 2,
        http_delay: Duration::from_millis(5),
        http_timeout: Duration::from_secs(5),
        function_error_delays: vec![Duration::from_millis(5), Duration::from_millis(5)],
        unreachable_first: Duration::from_millis(1),
        unreachable_max: Duration::from_millis(4),
    }
}

/// An HTTP endpoint that fails the first `failures` requests with 500; every request's
/// message type header and body reach the test.
async fn endpoint(failures: usize) -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let seen = seen.clone();
            async move {
                let kind = headers
                    .get("x-amz-sns-message-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send((kind, body));
                if seen.fetch_add(1, Ordering::SeqCst) < failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

/// An invoker that answers from a script and records payloads.
struct Scripted {
    answers: Mutex<Vec<Result<Invocation, InvokeError>>>,
    payloads: mpsc::UnboundedSender<Vec<u8>>,
}

impl Invoker for Scripted {
    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_> {
        let _ = self.payloads.send(request.payload);
        let next = {
            let mut a = self.answers.lock().unwrap();
            if a.is_empty() {
                Ok(Invocation::Ok(b"{}".to_vec()))
            } else {
                a.remove(0)
            }
        };
        Box::pin(async move { next })
    }
}

fn no_invoker() -> Arc<dyn Invoker> {
    let (tx, _rx) = mpsc::unbounded_channel();
    Arc::new(Scripted {
        answers: Mutex::new(Vec::new()),
        payloads: tx,
    })
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_deliveries_retry_then_go_to_the_dead_letter_queue() {
    let e = env();
    let (url, mut hits) = endpoint(usize::MAX).await;
    e.sqs
        .create_queue("dlq", &BTreeMap::new(), BTreeMap::new())
        .unwrap();
    let topic = e
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    let sub = e
        .sns
        .subscribe(
            &topic.arn,
            "http",
            Some(&url),
            &attrs(&[(
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}"#,
            )]),
        )
        .unwrap();
    let (signal, shutdown) = ShutdownSignal::new();
    let task = tokio::spawn(
        SnsDeliverer::new(e.sns.clone(), e.store.clone(), no_invoker())
            .with_policy(fast())
            .run(shutdown),
    );
    // The confirmation is tried three times too (one attempt and two retries).
    for _ in 0..3 {
        assert_eq!(hits.recv().await.unwrap().0, "SubscriptionConfirmation");
    }
    e.sns.confirm(&topic.arn, &sub.token).unwrap();
    e.sns
        .publish(&topic.arn, PublishInput::new("payload"))
        .await
        .unwrap();
    for _ in 0..3 {
        let (kind, body) = hits.recv().await.unwrap();
        assert_eq!(kind, "Notification");
        assert!(body.contains("\"Message\" : \"payload\""));
    }
    let mut watch = e.sqs.subscribe("dlq").unwrap();
    let dead = loop {
        let got = e.sqs.receive("dlq", 10, None).await.unwrap();
        if !got.is_empty() {
            break got;
        }
        watch.available().await;
    };
    let doc: Value = serde_json::from_str(&dead[0].body).unwrap();
    assert_eq!(doc["Message"], "payload");
    signal.fire();
    task.await.unwrap();
    assert!(e.sns.take_ready().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_deliveries_retry_function_errors_twice() {
    let e = env();
    e.store
        .put_function(&crate::test_support::url_function("f"))
        .unwrap();
    let topic = e
        .sns
        .create_topic("t", &BTreeMap::new(), &BTreeMap::new())
        .unwrap();
    e.sns
        .subscribe(
            &topic.arn,
            "lambda",
            Some("arn:aws:lambda:us-east-1:000000000000:function:f"),
            &BTreeMap::new(),
        )
        .unwrap();
    let (tx, mut payloads) = mpsc::unbounded_channel();
    let invoker = Arc::new(Scripted {
        answers: Mutex::new(vec![
            Err(InvokeError::Unreachable("f".into(), "down".into())),
            Ok(Invocation::function_error("Boom", "no")),
            Ok(Invocation::function_error("Boom", "no")),
            Ok(Invocation::function_error("Boom", "no")),
            Ok(Invocation::Ok(b"{}".to_vec())),
        ]),
        payloads: tx,
    });
    let (signal, shutdown) = ShutdownSignal::new();
    let task = tokio::spawn(
        SnsDeliverer::new(e.sns.clone(), e.store.clone(), invoker)
            .with_policy(fast())
            .run(shutdown),
    );
    e.sns
        .publish(&topic.arn, PublishInput::new("m1"))
        .await
        .unwrap();
    // Unreachable (retried until it answers), then an error and its two retries.
    for _ in 0..4 {
        let p: Value = serde_json::from_slice(&payloads.recv().await.unwrap()).unwrap();
        assert_eq!(p["Records"][0]["Sns"]["Message"], "m1");
    }
    // The third function error ends the delivery: the next message is the next invocation.
    e.sns
        .publish(&topic.arn, PublishInput::new("m2"))
        .await
        .unwrap();
    let p: Value = serde_json::from_slice(&payloads.recv().await.unwrap()).unwrap();
    assert_eq!(p["Records"][0]["Sns"]["Message"], "m2");
    signal.fire();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_delivery_policy_sets_the_http_retries() {
    let e = env();
    let (url, mut hits) = endpoint(usize::MAX).await;
    e.sqs
        .create_queue("dlq", &BTreeMap::new(), BTreeMap::new())
        .unwrap();
    let policy = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":1,"minDelayTarget":0,"maxDelayTarget":0}}}"#;
    let topic = e
        .sns
        .create_topic("t", &attrs(&[("DeliveryPolicy", policy)]), &BTreeMap::new())
        .unwrap();
    let sub = e
        .sns
        .subscribe(
            &topic.arn,
            "http",
            Some(&url),
            &attrs(&[(
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}"#,
            )]),
        )
        .unwrap();
    e.sns.confirm(&topic.arn, &sub.token).unwrap();
    let (signal, shutdown) = ShutdownSignal::new();
    let task = tokio::spawn(
        SnsDeliverer::new(e.sns.clone(), e.store.clone(), no_invoker())
            .with_policy(fast())
            .run(shutdown),
    );
    e.sns
        .publish(&topic.arn, PublishInput::new("once more"))
        .await
        .unwrap();
    let mut watch = e.sqs.subscribe("dlq").unwrap();
    while e.sqs.visible("dlq") == 0 {
        watch.available().await;
    }
    let mut notifications = 0;
    while let Ok((kind, _)) = hits.try_recv() {
        notifications += usize::from(kind == "Notification");
    }
    assert_eq!(notifications, 2, "one attempt and the policy's one retry");
    signal.fire();
    task.await.unwrap();
}
