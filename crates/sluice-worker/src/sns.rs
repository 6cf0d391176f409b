//! Makes the embedded SNS's pending deliveries to `lambda` and `http(s)` subscribers.
//!
//! Each delivery stays in the SNS store until it is made or given up, so a crash or a stop
//! only delays it (at least once). Retries follow AWS:
//! - `http(s)`: the subscription's DeliveryPolicy `healthyRetryPolicy` (else the topic's
//!   `http.defaultHealthyRetryPolicy`; `numRetries`, `minDelayTarget`, `maxDelayTarget`,
//!   linear), by default 3 retries 20 s apart; a 2xx
//!   answer is success. What is still undelivered goes to the subscription's dead-letter
//!   queue (RedrivePolicy) or is dropped with a warning.
//! - `lambda`: SNS invokes asynchronously; a function error is retried twice (1 and 2
//!   minutes later) as Lambda does for asynchronous invocations; a function that cannot be
//!   reached is retried with backoff (1 s doubling to 20 s) until it can; a function that
//!   does not exist is a failed delivery (dead-letter queue).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sluice_core::function::{Invocation, InvokeRequest, Invoker};
use sluice_store::MetaStore;
use sluice_store::sns::{DeliveryKind, PendingDelivery, Protocol, SnsStore};
use tokio::task::JoinSet;

use crate::Shutdown;

#[cfg(test)]
mod tests;

/// Delays of the retry policies (AWS's by default; tests shorten them).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// HTTP retries when the DeliveryPolicy sets none.
    pub http_retries: u32,
    /// HTTP delay between attempts when the DeliveryPolicy sets none.
    pub http_delay: Duration,
    /// How long one HTTP attempt may take.
    pub http_timeout: Duration,
    /// Delays before the retries of an asynchronous invocation that failed.
    pub function_error_delays: Vec<Duration>,
    /// Backoff while the function cannot be reached: starts here, doubles, capped at
    /// [`RetryPolicy::unreachable_max`].
    pub unreachable_first: Duration,
    pub unreachable_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            http_retries: 3,
            http_delay: Duration::from_secs(20),
            http_timeout: Duration::from_secs(15),
            function_error_delays: vec![Duration::from_secs(60), Duration::from_secs(120)],
            unreachable_first: Duration::from_secs(1),
            unreachable_max: Duration::from_secs(20),
        }
    }
}

/// Most deliveries made at once.
const MAX_PARALLEL: usize = 64;

#[derive(Clone)]
pub struct SnsDeliverer {
    sns: SnsStore,
    store: MetaStore,
    invoker: Arc<dyn Invoker>,
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl std::fmt::Debug for SnsDeliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsDeliverer").finish_non_exhaustive()
    }
}

enum Outcome {
    Delivered,
    /// Given up: to the dead-letter queue when there is one.
    Failed(String),
}

impl SnsDeliverer {
    pub fn new(sns: SnsStore, store: MetaStore, invoker: Arc<dyn Invoker>) -> Self {
        Self {
            sns,
            store,
            invoker,
            http: reqwest::Client::new(),
            policy: RetryPolicy::default(),
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Runs until shutdown; deliveries cut short by it are made after the next start.
    pub async fn run(self, mut shutdown: Shutdown) {
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_PARALLEL));
        let mut running = JoinSet::new();
        loop {
            for delivery in self.sns.take_ready() {
                let this = self.clone();
                let slots = slots.clone();
                running.spawn(async move {
                    let Ok(_slot) = slots.acquire_owned().await else {
                        return;
                    };
                    this.deliver(delivery).await;
                });
            }
            tokio::select! {
                () = self.sns.ready() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = shutdown.recv() => break,
            }
        }
        running.abort_all();
        while running.join_next().await.is_some() {}
    }

    async fn deliver(&self, d: PendingDelivery) {
        if !self.sns.is_subscribed(&d.subscription_arn) {
            self.finish(&d);
            return;
        }
        let outcome = match d.protocol {
            Protocol::Lambda => self.invoke(&d).await,
            Protocol::Http | Protocol::Https => self.post(&d).await,
            // SQS subscribers are delivered to by Publish itself.
            Protocol::Sqs => Outcome::Delivered,
        };
        if let Outcome::Failed(why) = outcome {
            match self.sns.dead_letter(&d).await {
                Ok(true) => {
                    tracing::info!(subscription = %d.subscription_arn, reason = %why, "SNS delivery failed; the message went to the subscription's dead-letter queue.")
                }
                Ok(false) => {
                    tracing::warn!(subscription = %d.subscription_arn, reason = %why, "SNS delivery failed; the message is dropped (the subscription has no RedrivePolicy).")
                }
                Err(e) => {
                    tracing::warn!(subscription = %d.subscription_arn, reason = %why, error = %e, "SNS delivery failed and its dead-letter queue refused the message; dropped.")
                }
            }
        }
        self.finish(&d);
    }

    fn finish(&self, d: &PendingDelivery) {
        if let Err(e) = self.sns.finish(d.id) {
            tracing::error!(error = %e, delivery = d.id, "Could not forget a made SNS delivery; it will be made again after a restart.");
        }
    }

    /// The retry delays of an HTTP subscription: its DeliveryPolicy, or the default.
    fn http_delays(&self, subscription_arn: &str) -> Vec<Duration> {
        let default = vec![self.policy.http_delay; self.policy.http_retries as usize];
        let Ok(sub) = self.sns.subscription(subscription_arn) else {
            return default;
        };
        let parse = |p: Option<&String>| p.and_then(|p| serde_json::from_str::<Value>(p).ok());
        // The subscription's own policy, else the topic's default for HTTP endpoints.
        let topic_policy = self
            .sns
            .topic(&sub.topic_arn)
            .ok()
            .and_then(|t| parse(t.record.attributes.get("DeliveryPolicy")))
            .map(|p| p["http"]["defaultHealthyRetryPolicy"].clone())
            .filter(|r| r.is_object());
        let retry = match parse(sub.attributes.get("DeliveryPolicy"))
            .map(|p| p["healthyRetryPolicy"].clone())
            .filter(|r| r.is_object())
            .or(topic_policy)
        {
            Some(r) => r,
            None => return default,
        };
        let n = retry["numRetries"].as_u64().unwrap_or(3).min(100);
        let min = retry["minDelayTarget"].as_u64().unwrap_or(20);
        let max = retry["maxDelayTarget"].as_u64().unwrap_or(min).max(min);
        (0..n)
            .map(|i| {
                let step = if n > 1 { (max - min) * i / (n - 1) } else { 0 };
                Duration::from_secs(min + step)
            })
            .collect()
    }

    async fn post(&self, d: &PendingDelivery) -> Outcome {
        let kind = match d.kind {
            DeliveryKind::Notification => "Notification",
            DeliveryKind::SubscriptionConfirmation => "SubscriptionConfirmation",
        };
        let mut delays = self.http_delays(&d.subscription_arn).into_iter();
        loop {
            let mut req = self
                .http
                .post(&d.endpoint)
                .timeout(self.policy.http_timeout)
                .header("content-type", "text/plain; charset=UTF-8")
                .header("user-agent", "Amazon Simple Notification Service Agent")
                .header("x-amz-sns-message-type", kind)
                .header("x-amz-sns-message-id", &d.message_id)
                .header("x-amz-sns-topic-arn", &d.topic_arn)
                .body(d.body.clone());
            if d.kind == DeliveryKind::Notification {
                req = req.header("x-amz-sns-subscription-arn", &d.subscription_arn);
                if d.raw {
                    req = req.header("x-amz-sns-rawdelivery", "true");
                }
            }
            let why = match req.send().await {
                Ok(resp) if resp.status().is_success() => return Outcome::Delivered,
                Ok(resp) => format!("the endpoint answered {}", resp.status()),
                Err(e) => format!("the endpoint could not be reached: {e}"),
            };
            if !self.sns.is_subscribed(&d.subscription_arn) {
                return Outcome::Delivered;
            }
            match delays.next() {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Outcome::Failed(why),
            }
        }
    }

    async fn invoke(&self, d: &PendingDelivery) -> Outcome {
        let name = sluice_core::arn::function_name_of(&d.endpoint).to_owned();
        let mut error_delays = self.policy.function_error_delays.clone().into_iter();
        let mut backoff = self.policy.unreachable_first;
        loop {
            let store = self.store.clone();
            let arn = d.endpoint.clone();
            // A qualified ARN (`:alias`, `:3`) runs that version, as on Lambda.
            let function = tokio::task::spawn_blocking(move || store.function_for_arn(&arn))
                .await
                .ok()
                .and_then(Result::ok);
            let Some(Some(function)) = function else {
                return Outcome::Failed(format!("function {name} does not exist"));
            };
            let request = InvokeRequest {
                timeout: function.timeout,
                function,
                function_arn: d.endpoint.clone(),
                payload: d.body.clone().into_bytes(),
            };
            match self.invoker.invoke(request).await {
                Ok(Invocation::Ok(_)) => return Outcome::Delivered,
                Ok(Invocation::FunctionError { error_type, .. }) => match error_delays.next() {
                    Some(delay) => {
                        tracing::info!(function = %name, %error_type, "Function failed an SNS event; retrying as Lambda retries asynchronous invocations.");
                        tokio::time::sleep(delay).await;
                    }
                    None => {
                        tracing::warn!(function = %name, %error_type, "Function failed an SNS event three times; the event is dropped as Lambda drops failed asynchronous invocations.");
                        return Outcome::Delivered;
                    }
                },
                Err(e) if e.is_retryable() => {
                    tracing::debug!(function = %name, error = %e, "Function unreachable for an SNS event; retrying.");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.policy.unreachable_max);
                }
                Err(e) => return Outcome::Failed(e.to_string()),
            }
            if !self.sns.is_subscribed(&d.subscription_arn) {
                return Outcome::Delivered;
            }
        }
    }
}
