//! The store end to end on a temporary data dir, with a manual clock: time moves only when
//! a test moves it, so visibility, delay, retention and long polls are deterministic.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::log::LogOptions;

const T0: u64 = 1_700_000_000_000;

struct Env {
    _tmp: tempfile::TempDir,
    dir: DataDir,
    clock: Clock,
    hand: Arc<ManualClock>,
    store: Option<SqsStore>,
}

fn options(clock: &Clock, segment_bytes: u64) -> SqsOptions {
    SqsOptions {
        log: LogOptions {
            segment_bytes,
            index_interval_bytes: 1024,
            fsync: false,
        },
        compact_every_bytes: u64::MAX,
        clock: clock.clone(),
    }
}

impl Env {
    fn new() -> Self {
        Self::with_segments(1 << 20)
    }

    fn with_segments(segment_bytes: u64) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(&tmp.path().join("data")).unwrap();
        let (clock, hand) = Clock::manual(T0);
        let store = SqsStore::open_with(
            &dir,
            "us-east-1",
            "000000000000",
            options(&clock, segment_bytes),
        )
        .unwrap();
        Self {
            _tmp: tmp,
            dir,
            clock,
            hand,
            store: Some(store),
        }
    }

    /// Closes the store (everything pushed is written) and opens the data dir again.
    fn store(&self) -> &SqsStore {
        self.store.as_ref().unwrap()
    }

    async fn reopen(&mut self) {
        let old = self.store.take().unwrap();
        old.close().await;
        drop(old);
        self.store = Some(
            SqsStore::open_with(
                &self.dir,
                "us-east-1",
                "000000000000",
                options(&self.clock, 1 << 20),
            )
            .unwrap(),
        );
    }

    fn advance(&self, secs: u64) {
        self.hand.advance(Duration::from_secs(secs));
    }

    fn create(&self, name: &str, attrs: &[(&str, &str)]) {
        let attrs: BTreeMap<String, String> = attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.store()
            .create_queue(name, &attrs, BTreeMap::new())
            .unwrap();
    }

    async fn send(&self, queue: &str, body: &str) -> SentMessage {
        self.store()
            .send(queue, body, BTreeMap::new())
            .await
            .unwrap()
    }

    async fn send_fifo(&self, queue: &str, body: &str, group: &str, dedup: &str) -> SentMessage {
        let msg = NewMessage {
            group_id: Some(group.into()),
            dedup_id: Some(dedup.into()),
            ..NewMessage::new(body)
        };
        self.store().send_message(queue, msg).await.unwrap()
    }

    async fn receive(&self, queue: &str, max: usize, vis: u64) -> Vec<ReceivedMessage> {
        self.store()
            .receive(queue, max, Some(Duration::from_secs(vis)))
            .await
            .unwrap()
    }

    fn counts(&self, queue: &str) -> (usize, usize, usize) {
        let v = self.store().queue(queue).unwrap();
        (v.visible, v.not_visible, v.delayed)
    }
}

fn bodies(msgs: &[ReceivedMessage]) -> Vec<&str> {
    msgs.iter().map(|m| m.body.as_str()).collect()
}

#[test]
fn md5_matches_rfc_1321() {
    let cases = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
        ("test", "098f6bcd4621d373cade4e832627b4f6"),
    ];
    for (input, want) in cases {
        assert_eq!(md5_hex(input.as_bytes()), want, "{input:?}");
    }
}

#[test]
fn attribute_digest_matches_aws_vectors() {
    let mut a = BTreeMap::new();
    a.insert(
        "timestamp".to_owned(),
        MessageAttributeValue::string("Number", "1493147359900"),
    );
    assert_eq!(
        attributes_md5(&a).as_deref(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );
    let mut b = BTreeMap::new();
    b.insert(
        "ordinal".to_owned(),
        MessageAttributeValue::string("Number", "1"),
    );
    b.insert(
        "category".to_owned(),
        MessageAttributeValue::string("String", "test"),
    );
    assert_eq!(
        attributes_md5(&b).as_deref(),
        Some("d21ae90c49061e927f57df5f5d72be1f")
    );
    assert_eq!(attributes_md5(&BTreeMap::new()), None);
}

#[tokio::test]
async fn send_receive_delete_round_trip() {
    let env = Env::new();
    env.create("q", &[]);
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "timestamp".to_owned(),
        MessageAttributeValue::string("Number", "1493147359900"),
    );
    let sent = env.store().send("q", "test", attrs).await.unwrap();
    assert_eq!(sent.md5_of_body, "098f6bcd4621d373cade4e832627b4f6");
    assert_eq!(
        sent.md5_of_message_attributes.as_deref(),
        Some("235c5c510d26fb653d073faed50ae77c")
    );
    assert_eq!(sent.sequence_number, None);
    let got = env.receive("q", 10, 30).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.message_id, sent.message_id);
    assert_eq!(m.body, "test");
    assert_eq!(m.md5_of_body, sent.md5_of_body);
    assert_eq!(m.md5_of_message_attributes, sent.md5_of_message_attributes);
    assert_eq!(m.attributes["ApproximateReceiveCount"], "1");
    assert_eq!(m.attributes["SentTimestamp"], T0.to_string());
    assert_eq!(
        m.attributes["ApproximateFirstReceiveTimestamp"],
        T0.to_string()
    );
    assert_eq!(m.attributes["SenderId"], "000000000000");
    assert!(!m.attributes.contains_key("SequenceNumber"));
    assert_eq!(env.counts("q"), (0, 1, 0));
    env.store()
        .delete_message("q", &m.receipt_handle)
        .await
        .unwrap();
    assert_eq!(env.counts("q"), (0, 0, 0));
    // Deleting again is fine.
    env.store()
        .delete_message("q", &m.receipt_handle)
        .await
        .unwrap();
}

#[tokio::test]
async fn visibility_timeout_returns_the_message_with_a_new_handle() {
    let env = Env::new();
    env.create("q", &[("VisibilityTimeout", "30")]);
    env.send("q", "a").await;
    let first = env.store().receive("q", 1, None).await.unwrap();
    assert_eq!(first.len(), 1);
    env.advance(29);
    assert!(env.receive("q", 1, 30).await.is_empty());
    env.advance(1);
    let second = env.receive("q", 1, 30).await;
    assert_eq!(bodies(&second), vec!["a"]);
    assert_eq!(second[0].attributes["ApproximateReceiveCount"], "2");
    assert_eq!(
        second[0].attributes["ApproximateFirstReceiveTimestamp"],
        T0.to_string()
    );
    assert_ne!(first[0].receipt_handle, second[0].receipt_handle);
    // A standard queue deletes with the older handle too.
    env.store()
        .delete_message("q", &first[0].receipt_handle)
        .await
        .unwrap();
    assert_eq!(env.counts("q"), (0, 0, 0));
}

#[tokio::test]
async fn change_visibility_extends_and_releases() {
    let env = Env::new();
    env.create("q", &[]);
    env.send("q", "a").await;
    let m = env.receive("q", 1, 10).await.remove(0);
    env.store()
        .change_visibility("q", &m.receipt_handle, Duration::from_secs(100))
        .await
        .unwrap();
    env.advance(50);
    assert!(env.receive("q", 1, 10).await.is_empty());
    env.store()
        .change_visibility("q", &m.receipt_handle, Duration::ZERO)
        .await
        .unwrap();
    let again = env.receive("q", 1, 10).await;
    assert_eq!(bodies(&again), vec!["a"]);
    let stale = env
        .store()
        .change_visibility("q", &m.receipt_handle, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(
        stale.to_string(),
        format!(
            "Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
            m.receipt_handle
        )
    );
    env.advance(10);
    let not_in_flight = env
        .store()
        .change_visibility("q", &again[0].receipt_handle, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(not_in_flight, SqsError::MessageNotInflight(_)));
}

#[tokio::test]
async fn garbage_and_foreign_receipt_handles_are_invalid() {
    let env = Env::new();
    env.create("q", &[]);
    env.create("other", &[]);
    env.send("other", "a").await;
    let foreign = env.receive("other", 1, 30).await.remove(0).receipt_handle;
    let results = env
        .store()
        .delete("q", &["garbage".to_owned(), foreign.clone()])
        .await
        .unwrap();
    for (r, h) in results.iter().zip(["garbage", foreign.as_str()]) {
        match r {
            Err(SqsError::ReceiptHandleIsInvalid(msg)) => assert_eq!(
                *msg,
                format!("The input receipt handle \"{h}\" is not a valid receipt handle.")
            ),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn delay_hides_new_messages() {
    let env = Env::new();
    env.create("q", &[("DelaySeconds", "10")]);
    env.send("q", "queue-delay").await;
    let per_message = NewMessage {
        delay: Some(Duration::from_secs(3)),
        ..NewMessage::new("message-delay")
    };
    env.store().send_message("q", per_message).await.unwrap();
    assert_eq!(env.counts("q"), (0, 0, 2));
    env.advance(3);
    assert_eq!(
        bodies(&env.receive("q", 10, 30).await),
        vec!["message-delay"]
    );
    env.advance(7);
    assert_eq!(bodies(&env.receive("q", 10, 30).await), vec!["queue-delay"]);
}

#[tokio::test]
async fn long_poll_answers_as_soon_as_a_message_arrives() {
    let env = Env::new();
    env.create("q", &[]);
    let store = env.store().clone();
    let poll = tokio::spawn(async move {
        store
            .receive_wait("q", 10, None, Duration::from_secs(20))
            .await
            .unwrap()
    });
    tokio::task::yield_now().await;
    env.send("q", "hello").await;
    // No time passes on the store's clock: only the send can have woken the poll.
    let got = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bodies(&got), vec!["hello"]);
}

#[tokio::test]
async fn long_poll_ends_empty_at_its_wait_time() {
    let env = Env::new();
    env.create("q", &[]);
    let store = env.store().clone();
    let poll = tokio::spawn(async move {
        store
            .receive_wait("q", 10, None, Duration::from_secs(20))
            .await
            .unwrap()
    });
    tokio::task::yield_now().await;
    env.advance(19);
    tokio::task::yield_now().await;
    assert!(!poll.is_finished());
    env.advance(1);
    let got = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert!(got.is_empty());
}

#[tokio::test]
async fn long_poll_wakes_when_a_delay_or_visibility_timeout_runs_out() {
    let env = Env::new();
    env.create("q", &[]);
    env.send("q", "back").await;
    env.receive("q", 1, 5).await;
    let store = env.store().clone();
    let poll = tokio::spawn(async move {
        store
            .receive_wait("q", 10, None, Duration::from_secs(20))
            .await
            .unwrap()
    });
    tokio::task::yield_now().await;
    env.advance(5);
    let got = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bodies(&got), vec!["back"]);
    assert_eq!(got[0].attributes["ApproximateReceiveCount"], "2");
}

#[tokio::test]
async fn subscribe_wakes_on_send_and_on_timers() {
    let env = Env::new();
    env.create("q", &[]);
    let mut watch = env.store().subscribe("q").unwrap();
    let waiter = tokio::spawn(async move {
        watch.available().await;
        watch
    });
    tokio::task::yield_now().await;
    env.send("q", "x").await;
    let mut watch = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    env.receive("q", 1, 7).await;
    let waiter = tokio::spawn(async move { watch.available().await });
    tokio::task::yield_now().await;
    env.advance(7);
    tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn retention_drops_expired_messages() {
    let env = Env::new();
    env.create("q", &[("MessageRetentionPeriod", "60")]);
    env.send("q", "old").await;
    env.advance(30);
    env.send("q", "young").await;
    env.advance(30);
    assert_eq!(env.counts("q"), (1, 0, 0));
    assert_eq!(bodies(&env.receive("q", 10, 30).await), vec!["young"]);
}

#[tokio::test]
async fn redrive_moves_to_the_dead_letter_queue_after_max_receive_count() {
    let env = Env::new();
    env.create("dlq", &[("MessageRetentionPeriod", "1209600")]);
    let arn = env.store().queue_arn("dlq");
    let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"2"}}"#);
    env.create("src", &[("RedrivePolicy", policy.as_str())]);
    let mut attrs = BTreeMap::new();
    attrs.insert("k".to_owned(), MessageAttributeValue::string("String", "v"));
    let sent = env.store().send("src", "doomed", attrs).await.unwrap();
    for n in 1..=2 {
        let got = env.receive("src", 1, 1).await;
        assert_eq!(got[0].attributes["ApproximateReceiveCount"], n.to_string());
        env.advance(1);
    }
    assert!(
        env.receive("src", 1, 1).await.is_empty(),
        "moved, not received"
    );
    assert_eq!(env.counts("src"), (0, 0, 0));
    assert_eq!(env.counts("dlq"), (1, 0, 0));
    let dead = env.receive("dlq", 1, 30).await.remove(0);
    assert_eq!(dead.message_id, sent.message_id);
    assert_eq!(dead.body, "doomed");
    assert_eq!(
        dead.message_attributes["k"],
        MessageAttributeValue::string("String", "v")
    );
    assert_eq!(dead.attributes["SentTimestamp"], T0.to_string());
    assert_eq!(dead.attributes["ApproximateReceiveCount"], "3");
    assert_eq!(
        dead.attributes["DeadLetterQueueSourceArn"],
        env.store().queue_arn("src")
    );
    assert_eq!(env.store().dead_letter_sources("dlq").unwrap(), vec!["src"]);
}

#[tokio::test]
async fn fifo_keeps_group_order_and_deduplicates() {
    let env = Env::new();
    env.create("f.fifo", &[("FifoQueue", "true")]);
    let a1 = env.send_fifo("f.fifo", "a1", "a", "1").await;
    env.send_fifo("f.fifo", "b1", "b", "2").await;
    env.send_fifo("f.fifo", "a2", "a", "3").await;
    let dup = env.send_fifo("f.fifo", "a1 again", "a", "1").await;
    assert_eq!(dup.message_id, a1.message_id);
    assert_eq!(dup.sequence_number, a1.sequence_number);
    assert_eq!(a1.sequence_number.as_ref().map(String::len), Some(20));
    let got = env.receive("f.fifo", 10, 30).await;
    assert_eq!(bodies(&got), vec!["a1", "a2", "b1"]);
    assert_eq!(got[0].attributes["MessageGroupId"], "a");
    assert_eq!(got[0].attributes["MessageDeduplicationId"], "1");
    assert_eq!(
        got[0].attributes["SequenceNumber"],
        a1.sequence_number.clone().unwrap()
    );
    assert!(env.receive("f.fifo", 10, 30).await.is_empty());
    env.advance(301);
    let after = env.send_fifo("f.fifo", "a1 later", "a", "1").await;
    assert_ne!(after.message_id, a1.message_id, "dedup lasts five minutes");
}

#[tokio::test]
async fn fifo_checks_group_and_dedup_ids() {
    let env = Env::new();
    env.create("f.fifo", &[("FifoQueue", "true")]);
    let e = env
        .store()
        .send_message("f.fifo", NewMessage::new("x"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The request must contain the parameter MessageGroupId."
    );
    let e = env
        .store()
        .send_message(
            "f.fifo",
            NewMessage {
                group_id: Some("g".into()),
                ..NewMessage::new("x")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    );
}

#[tokio::test]
async fn acknowledged_state_survives_reopen() {
    let mut env = Env::new();
    env.create("q", &[("VisibilityTimeout", "60")]);
    env.create(
        "f.fifo",
        &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")],
    );
    for i in 0..5 {
        env.send("q", &format!("m{i}")).await;
    }
    let in_flight = env.receive("q", 2, 60).await;
    env.store()
        .delete_message("q", &in_flight[0].receipt_handle)
        .await
        .unwrap();
    let fifo = env.send_fifo("f.fifo", "f1", "g", "d1").await;
    env.reopen().await;
    assert_eq!(env.counts("q"), (3, 1, 0));
    assert_eq!(env.counts("f.fifo"), (1, 0, 0));
    let dup = env.send_fifo("f.fifo", "f1", "g", "d1").await;
    assert_eq!(dup.message_id, fifo.message_id, "dedup survives reopen");
    // The in-flight message reappears after its visibility timeout, counted.
    env.advance(60);
    let all = env.receive("q", 10, 60).await;
    assert_eq!(all.len(), 4);
    let back = all.iter().find(|m| m.body == in_flight[1].body).unwrap();
    assert_eq!(back.attributes["ApproximateReceiveCount"], "2");
    // Handles from before the restart still work.
    env.store()
        .delete_message("q", &in_flight[1].receipt_handle)
        .await
        .unwrap();
    assert_eq!(env.counts("q"), (0, 3, 0));
}

#[tokio::test]
async fn purge_is_durable_and_limited_to_once_a_minute() {
    let mut env = Env::new();
    env.create("q", &[]);
    env.send("q", "a").await;
    env.store().purge_queue("q").await.unwrap();
    let again = env.store().purge_queue("q").await.unwrap_err();
    assert_eq!(
        again.to_string(),
        "Only one PurgeQueue operation on q is allowed every 60 seconds."
    );
    env.send("q", "b").await;
    env.reopen().await;
    assert_eq!(bodies(&env.receive("q", 10, 30).await), vec!["b"]);
}

#[tokio::test]
async fn deleted_queue_is_gone_with_its_messages() {
    let mut env = Env::new();
    env.create("q", &[]);
    env.send("q", "a").await;
    env.store().delete_queue("q").unwrap();
    assert!(matches!(
        env.store().receive("q", 1, None).await,
        Err(SqsError::QueueDoesNotExist)
    ));
    env.create("q", &[]);
    env.reopen().await;
    assert_eq!(env.counts("q"), (0, 0, 0));
}

#[tokio::test]
async fn concurrent_sends_share_commits() {
    let env = Env::new();
    env.create("q", &[]);
    let before = env.store().journal_stats().commits;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let store = env.store().clone();
        tasks.spawn(async move { store.send("q", format!("m{i}"), BTreeMap::new()).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let commits = env.store().journal_stats().commits - before;
    assert!(commits < 200, "{commits} commits for 200 sends");
    assert_eq!(env.counts("q"), (200, 0, 0));
}

#[tokio::test]
async fn compaction_frees_segments_and_keeps_live_messages() {
    let mut env = Env::with_segments(4096);
    env.create("q", &[]);
    let body = "x".repeat(300);
    for i in 0..100 {
        env.send("q", &format!("{i:03}{body}")).await;
    }
    // Receive everything; keep three, delete the rest.
    let mut kept = Vec::new();
    loop {
        let got = env.receive("q", 10, 3600).await;
        if got.is_empty() {
            break;
        }
        for m in got {
            if m.body.starts_with("000") || m.body.starts_with("050") || m.body.starts_with("099") {
                kept.push(m);
            } else {
                env.store()
                    .delete_message("q", &m.receipt_handle)
                    .await
                    .unwrap();
            }
        }
    }
    assert_eq!(kept.len(), 3);
    let start_before = env.store().journal_start();
    // Records younger than the deduplication window are never trimmed.
    assert_eq!(env.store().compact().await.unwrap(), 0);
    assert_eq!(env.store().journal_start(), start_before);
    env.advance(301);
    // Keep the journal writing so the active segment moves past the old data.
    env.send("q", "fresh").await;
    let copied = env.store().compact().await.unwrap();
    assert!(copied >= 1, "copied {copied}");
    assert!(env.store().journal_start() > start_before);
    env.reopen().await;
    assert_eq!(env.counts("q"), (1, 3, 0));
    env.advance(3600);
    let mut got: Vec<String> = env
        .receive("q", 10, 30)
        .await
        .into_iter()
        .map(|m| m.body[..3].to_owned())
        .collect();
    got.sort();
    assert_eq!(got, vec!["000", "050", "099", "fre"]);
    // The receipt handles of before compaction still delete.
    for m in &kept {
        env.store()
            .delete_message("q", &m.receipt_handle)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn create_queue_is_idempotent_only_with_equal_attributes() {
    let env = Env::new();
    env.create("q", &[("VisibilityTimeout", "20")]);
    let same: BTreeMap<String, String> = [("VisibilityTimeout".to_owned(), "20".to_owned())].into();
    env.store()
        .create_queue("q", &same, BTreeMap::new())
        .unwrap();
    env.store()
        .create_queue("q", &BTreeMap::new(), BTreeMap::new())
        .unwrap();
    let other: BTreeMap<String, String> = [("DelaySeconds".to_owned(), "5".to_owned())].into();
    let e = env
        .store()
        .create_queue("q", &other, BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "A queue already exists with the same name and a different value for attribute DelaySeconds"
    );
}

#[tokio::test]
async fn queue_attributes_are_checked_with_aws_texts() {
    let env = Env::new();
    let create = |name: &str, k: &str, v: &str| {
        let attrs: BTreeMap<String, String> = [(k.to_owned(), v.to_owned())].into();
        env.store()
            .create_queue(name, &attrs, BTreeMap::new())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        create("q", "VisibilityTimeout", "43201"),
        "Invalid value for the parameter VisibilityTimeout."
    );
    assert_eq!(create("q", "Bogus", "1"), "Unknown Attribute Bogus.");
    assert_eq!(
        create("q", "ContentBasedDeduplication", "true"),
        "Unknown Attribute ContentBasedDeduplication."
    );
    assert_eq!(
        create("q", "FifoThroughputLimit", "perQueue"),
        "You can specify the FifoThroughputLimit only when FifoQueue is set to true."
    );
    assert_eq!(
        create("q.fifo", "DelaySeconds", "0"),
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    );
    assert_eq!(
        create("q", "FifoQueue", "true"),
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
    );
    assert_eq!(
        create(
            "q",
            "RedrivePolicy",
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:none","maxReceiveCount":3}"#
        ),
        r#"Value {"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:none","maxReceiveCount":3} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."#
    );
    assert_eq!(
        create(
            "q",
            "RedrivePolicy",
            r#"{"deadLetterTargetArn":"dummy","maxReceiveCount":42}"#
        ),
        r#"Value {"deadLetterTargetArn":"dummy","maxReceiveCount":42} for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn."#
    );
    assert!(env.store().list_queues().is_empty(), "nothing was created");
}

#[tokio::test]
async fn message_checks_use_aws_texts() {
    let env = Env::new();
    env.create("q", &[("MaximumMessageSize", "1024")]);
    let send = |m: NewMessage| {
        let store = env.store().clone();
        async move { store.send_message("q", m).await.unwrap_err().to_string() }
    };
    assert_eq!(
        send(NewMessage::new("x".repeat(1025))).await,
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    );
    assert_eq!(
        send(NewMessage::new("bad\u{1}")).await,
        message::INVALID_CHARACTERS
    );
    assert_eq!(
        send(NewMessage {
            dedup_id: Some("d".into()),
            ..NewMessage::new("x")
        })
        .await,
        "Value d for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type."
    );
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "n".to_owned(),
        MessageAttributeValue::string("Number", "abc"),
    );
    assert_eq!(
        send(NewMessage {
            message_attributes: attrs,
            ..NewMessage::new("x")
        })
        .await,
        "Can't cast the value of message (user) attribute 'n' to a number."
    );
    assert_eq!(env.counts("q"), (0, 0, 0));
}

/// Waits until the newest move task of `source` leaves RUNNING.
async fn finished_move(env: &Env, source: &str) -> move_task::MoveTaskView {
    loop {
        let t = env
            .store()
            .list_move_tasks(source, Some(1))
            .unwrap()
            .remove(0);
        if t.status != move_task::MoveStatus::Running {
            return t;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn move_tasks_return_dead_letters_to_their_source_queues() {
    let env = Env::new();
    env.create("dlq", &[]);
    env.create("other", &[]);
    let dlq = env.store().queue_arn("dlq");
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq}","maxReceiveCount":"1"}}"#);
    env.create("src", &[("RedrivePolicy", policy.as_str())]);
    for body in ["a", "b", "c"] {
        env.send("src", body).await;
    }
    env.receive("src", 10, 1).await;
    env.advance(1);
    assert!(env.receive("src", 10, 1).await.is_empty());
    assert_eq!(env.counts("dlq"), (3, 0, 0));

    // Errors first: nothing starts.
    let missing = env.store().queue_arn("missing");
    assert!(matches!(
        env.store().start_move_task(&missing, None, None),
        Err(move_task::MoveError::NotFound(_))
    ));
    let src = env.store().queue_arn("src");
    assert!(matches!(
        env.store().start_move_task(&src, None, None),
        Err(move_task::MoveError::Invalid(m)) if m == "Source queue must be configured as a Dead Letter Queue."
    ));
    assert!(matches!(
        env.store().start_move_task(&dlq, None, Some(501)),
        Err(move_task::MoveError::Invalid(_))
    ));

    env.store().start_move_task(&dlq, None, None).unwrap();
    let done = finished_move(&env, &dlq).await;
    assert_eq!(done.status, move_task::MoveStatus::Completed);
    assert_eq!((done.moved, done.to_move), (3, 3));
    assert_eq!(env.counts("dlq"), (0, 0, 0));
    let mut back = bodies(&env.receive("src", 10, 30).await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    back.sort();
    assert_eq!(back, vec!["a", "b", "c"]);

    // To an explicit destination.
    env.store()
        .send(
            "dlq",
            "direct",
            BTreeMap::from([("k".to_owned(), MessageAttributeValue::string("String", "v"))]),
        )
        .await
        .unwrap();
    let other = env.store().queue_arn("other");
    let handle = env
        .store()
        .start_move_task(&dlq, Some(&other), Some(10))
        .unwrap();
    let done = finished_move(&env, &dlq).await;
    assert_eq!(done.status, move_task::MoveStatus::Completed);
    assert_eq!(done.destination_arn.as_deref(), Some(other.as_str()));
    let moved = env.receive("other", 10, 30).await;
    assert_eq!(bodies(&moved), vec!["direct"]);
    assert_eq!(
        moved[0].message_attributes["k"],
        MessageAttributeValue::string("String", "v")
    );
    assert!(matches!(
        env.store().cancel_move_task(&handle),
        Err(move_task::MoveError::Unsupported(_))
    ));
    // Without a DestinationArn a message sent straight to the DLQ has nowhere to return.
    env.send("dlq", "orphan").await;
    env.store().start_move_task(&dlq, None, None).unwrap();
    let failed = finished_move(&env, &dlq).await;
    assert_eq!(failed.status, move_task::MoveStatus::Failed);
    assert!(
        failed
            .failure_reason
            .unwrap()
            .contains("DeadLetterQueueSourceArn")
    );
    assert_eq!(
        env.counts("dlq"),
        (1, 0, 0),
        "left in the dead-letter queue"
    );
    assert_eq!(
        env.store().list_move_tasks(&dlq, Some(10)).unwrap().len(),
        3
    );
}
