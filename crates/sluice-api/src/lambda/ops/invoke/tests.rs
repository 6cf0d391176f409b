//! `Event` retries on virtual time.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use sluice_core::function::{FunctionCode, FunctionOrigin, FunctionRecord, InvokeFuture};
use tokio::time::Instant;

use super::*;

/// Fails its first `failures` calls (a function error), then succeeds; notes when each came.
struct Flaky {
    failures: usize,
    calls: Mutex<Vec<Instant>>,
}

impl Invoker for Flaky {
    fn invoke(&self, _request: InvokeRequest) -> InvokeFuture<'_> {
        let mut calls = self.calls.lock().unwrap();
        calls.push(Instant::now());
        let n = calls.len();
        Box::pin(async move {
            if n <= self.failures {
                Ok(Invocation::function_error("Boom", "failed"))
            } else {
                Ok(Invocation::Ok(b"{}".to_vec()))
            }
        })
    }
}

fn request() -> InvokeRequest {
    InvokeRequest {
        function: FunctionRecord {
            name: "f".into(),
            code: FunctionCode::Url {
                url: "http://127.0.0.1:1/".into(),
            },
            origin: FunctionOrigin::Api,
            runtime: None,
            handler: None,
            role: String::new(),
            description: String::new(),
            timeout: Duration::from_secs(3),
            memory_size: 128,
            environment: BTreeMap::new(),
            last_modified: String::new(),
            revision_id: String::new(),
            version: None,
        },
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        payload: b"{}".to_vec(),
        timeout: Duration::from_secs(3),
    }
}

/// Seconds after the first call at which each call came.
fn offsets(f: &Flaky) -> Vec<u64> {
    let calls = f.calls.lock().unwrap();
    calls.iter().map(|t| (*t - calls[0]).as_secs()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_failing_event_is_tried_twice_more_one_then_two_minutes_later() {
    let f = Flaky {
        failures: usize::MAX,
        calls: Mutex::new(Vec::new()),
    };
    let (_tx, closing) = watch::channel(false);
    let (attempts, outcome) = run_event(&f, request(), &EVENT_RETRY_DELAYS, closing).await;
    assert_eq!(attempts, 3);
    assert!(matches!(outcome, Ok(Invocation::FunctionError { .. })));
    assert_eq!(offsets(&f), [0, 60, 180]);
}

#[tokio::test(start_paused = true)]
async fn a_retry_that_succeeds_ends_the_retries() {
    let f = Flaky {
        failures: 1,
        calls: Mutex::new(Vec::new()),
    };
    let (_tx, closing) = watch::channel(false);
    let (attempts, outcome) = run_event(&f, request(), &EVENT_RETRY_DELAYS, closing).await;
    assert_eq!(attempts, 2);
    assert_eq!(outcome, Ok(Invocation::Ok(b"{}".to_vec())));
    assert_eq!(offsets(&f), [0, 60]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_drops_the_waiting_retries() {
    let f = Flaky {
        failures: usize::MAX,
        calls: Mutex::new(Vec::new()),
    };
    let (tx, closing) = watch::channel(false);
    let started = Instant::now();
    let run = run_event(&f, request(), &EVENT_RETRY_DELAYS, closing);
    let close = async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        tx.send_replace(true);
    };
    let ((attempts, _), ()) = tokio::join!(run, close);
    assert_eq!(attempts, 1);
    assert_eq!(started.elapsed(), Duration::from_secs(10));
}
