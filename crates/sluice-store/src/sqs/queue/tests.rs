#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use super::*;
use crate::sqs::attributes::QueueSettings;

const T0: u64 = 1_000_000;

fn queue(fifo: bool) -> QueueState {
    QueueState::new(QueueRecord {
        id: 1,
        name: if fifo { "q.fifo".into() } else { "q".into() },
        created_s: 0,
        modified_s: 0,
        settings: QueueSettings::defaults(fifo),
        tags: BTreeMap::new(),
    })
}

fn send(q: &mut QueueState, seq: u64, now: u64, delay_ms: u64, group: Option<&str>) {
    let enqueued_ms = q.enqueue_time(now);
    q.insert(
        seq,
        seq,
        100,
        State {
            enqueued_ms,
            visible_at: enqueued_ms + delay_ms,
            first_receive_ms: 0,
            receive_count: 0,
        },
        group,
        now,
    );
}

fn seqs(p: &Picked) -> Vec<u64> {
    p.received.iter().map(|r| r.seq).collect()
}

#[test]
fn visibility_timeout_hides_then_returns_with_a_higher_count() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    send(&mut q, 2, T0, 0, None);
    let got = q.pick(T0, 10, 30_000, None);
    assert_eq!(seqs(&got), vec![1, 2]);
    assert_eq!(got.received[0].receive_count, 1);
    assert_eq!(got.received[0].first_receive_ms, T0);
    assert_eq!(q.counts(), (0, 2, 0));
    assert!(q.pick(T0 + 29_999, 10, 30_000, None).received.is_empty());
    assert_eq!(q.next_due(), Some(T0 + 30_000));
    q.advance(T0 + 30_000);
    assert_eq!(q.counts(), (2, 0, 0));
    let again = q.pick(T0 + 30_000, 1, 30_000, None);
    assert_eq!(seqs(&again), vec![1]);
    assert_eq!(again.received[0].receive_count, 2);
    assert_eq!(
        again.received[0].first_receive_ms, T0,
        "first receive is kept"
    );
}

#[test]
fn zero_visibility_leaves_messages_visible_but_not_twice_in_one_receive() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    assert_eq!(seqs(&q.pick(T0, 10, 0, None)), vec![1]);
    assert_eq!(q.counts(), (1, 0, 0));
    let again = q.pick(T0, 10, 0, None);
    assert_eq!(again.received[0].receive_count, 2);
}

#[test]
fn delayed_messages_count_as_delayed_until_due() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 5_000, None);
    assert_eq!(q.counts(), (0, 0, 1));
    assert!(q.pick(T0 + 4_999, 10, 30_000, None).received.is_empty());
    q.advance(T0 + 5_000);
    assert_eq!(q.counts(), (1, 0, 0));
    assert_eq!(seqs(&q.pick(T0 + 5_000, 10, 30_000, None)), vec![1]);
}

#[test]
fn retention_drops_old_messages_in_any_state() {
    let mut q = queue(false);
    q.record.settings.message_retention_period = 60;
    send(&mut q, 1, T0, 0, None);
    send(&mut q, 2, T0 + 10_000, 0, None);
    q.pick(T0 + 10_000, 1, 600_000, None);
    assert_eq!(q.advance(T0 + 59_999), Vec::<u64>::new());
    assert_eq!(q.advance(T0 + 60_000), vec![1]);
    assert_eq!(q.counts(), (1, 0, 0));
    assert_eq!(q.advance(T0 + 70_000), vec![2]);
    assert_eq!(q.len(), 0);
    assert_eq!(q.live_bytes, 0);
}

#[test]
fn redrive_moves_on_the_receive_past_max_receive_count() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    for i in 0..2u64 {
        let now = T0 + i * 1_000;
        q.advance(now);
        let got = q.pick(now, 10, 1_000, Some(2));
        assert_eq!(seqs(&got), vec![1], "receive {}", i + 1);
        assert!(got.moving.is_empty());
    }
    q.advance(T0 + 2_000);
    let got = q.pick(T0 + 2_000, 10, 1_000, Some(2));
    assert!(got.received.is_empty());
    assert_eq!(got.moving, vec![(1, 1)]);
    assert_eq!(q.counts(), (0, 1, 0), "moving counts as not visible");
    // Moving messages neither expire nor return by timer.
    q.advance(T0 + 100_000);
    assert_eq!(q.counts(), (0, 1, 0));
    assert!(q.remove(1).is_some());
    assert_eq!(q.counts(), (0, 0, 0));
}

#[test]
fn restore_returns_a_moving_message() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    q.pick(T0, 1, 0, None);
    let got = q.pick(T0, 1, 0, Some(1));
    assert_eq!(got.moving.len(), 1);
    q.restore(1, T0);
    assert_eq!(q.counts(), (1, 0, 0));
}

#[test]
fn fifo_hands_out_one_batch_per_group_in_order() {
    let mut q = queue(true);
    send(&mut q, 1, T0, 0, Some("a"));
    send(&mut q, 2, T0, 0, Some("b"));
    send(&mut q, 3, T0, 0, Some("a"));
    send(&mut q, 4, T0, 0, Some("a"));
    let first = q.pick(T0, 2, 30_000, None);
    assert_eq!(
        seqs(&first),
        vec![1, 3],
        "as many of one group as possible, in order"
    );
    let second = q.pick(T0, 10, 30_000, None);
    assert_eq!(seqs(&second), vec![2], "group a is locked while in flight");
    assert!(q.pick(T0, 10, 30_000, None).received.is_empty());
    q.delete(1, 1).unwrap();
    assert!(
        q.pick(T0, 10, 30_000, None).received.is_empty(),
        "a is locked until its whole batch is gone"
    );
    q.delete(3, 1).unwrap();
    assert_eq!(seqs(&q.pick(T0, 10, 30_000, None)), vec![4]);
}

#[test]
fn fifo_redelivers_an_expired_batch_before_later_messages() {
    let mut q = queue(true);
    for s in 1..=3 {
        send(&mut q, s, T0, 0, Some("g"));
    }
    assert_eq!(seqs(&q.pick(T0, 2, 1_000, None)), vec![1, 2]);
    q.delete(1, 1).unwrap();
    q.advance(T0 + 1_000);
    let again = q.pick(T0 + 1_000, 10, 1_000, None);
    assert_eq!(seqs(&again), vec![2, 3]);
    assert_eq!(again.received[0].receive_count, 2);
}

#[test]
fn fifo_delete_refuses_stale_or_visible_handles() {
    let mut q = queue(true);
    send(&mut q, 1, T0, 0, Some("g"));
    q.pick(T0, 1, 1_000, None);
    q.advance(T0 + 1_000);
    assert_eq!(q.delete(1, 1), Err(Expired), "visible again");
    q.pick(T0 + 1_000, 1, 1_000, None);
    assert_eq!(q.delete(1, 1), Err(Expired), "an older receive's handle");
    assert!(q.delete(1, 2).unwrap().is_some());
    assert_eq!(q.delete(1, 2), Ok(None), "deleting twice succeeds");
}

#[test]
fn standard_delete_accepts_an_older_handle() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    q.pick(T0, 1, 1_000, None);
    q.advance(T0 + 1_000);
    q.pick(T0 + 1_000, 1, 1_000, None);
    assert!(q.delete(1, 1).unwrap().is_some());
}

#[test]
fn change_visibility_checks_the_handle_and_the_state() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    assert_eq!(
        q.change_visibility(1, 0, T0, T0),
        Err(VisibilityError::NotInFlight),
        "never received"
    );
    q.pick(T0, 1, 30_000, None);
    assert_eq!(
        q.change_visibility(2, 1, T0, T0),
        Err(VisibilityError::Gone)
    );
    q.change_visibility(1, 1, T0, T0 + 60_000).unwrap();
    q.advance(T0 + 30_000);
    assert_eq!(q.counts(), (0, 1, 0), "the new timeout replaced the old");
    q.change_visibility(1, 1, T0 + 30_000, T0 + 30_000).unwrap();
    assert_eq!(q.counts(), (1, 0, 0), "0 makes it visible at once");
    assert_eq!(
        q.change_visibility(1, 1, T0 + 30_000, T0 + 40_000),
        Err(VisibilityError::NotInFlight)
    );
}

#[test]
fn fifo_visibility_change_to_zero_frees_the_group() {
    let mut q = queue(true);
    send(&mut q, 1, T0, 0, Some("g"));
    send(&mut q, 2, T0, 0, Some("g"));
    q.pick(T0, 1, 30_000, None);
    assert!(q.pick(T0, 1, 30_000, None).received.is_empty());
    q.change_visibility(1, 1, T0, T0).unwrap();
    assert_eq!(seqs(&q.pick(T0, 1, 30_000, None)), vec![1]);
}

#[test]
fn dedup_remembers_five_minutes() {
    let mut q = queue(true);
    let key = q.dedup_key("g", "d");
    q.dedup_put(
        key.clone(),
        Dedup {
            message_id: "m".into(),
            seq: 7,
            at_ms: T0,
        },
    );
    assert_eq!(q.dedup_get(&key, T0 + DEDUP_WINDOW_MS - 1).unwrap().seq, 7);
    assert!(q.dedup_get(&key, T0 + DEDUP_WINDOW_MS).is_none());
    q.record.settings.deduplication_scope = "messageGroup".into();
    assert_ne!(q.dedup_key("g", "d"), q.dedup_key("h", "d"));
}

#[test]
fn replayed_state_lands_in_the_right_slot() {
    let mut q = queue(false);
    send(&mut q, 1, T0, 0, None);
    q.replay_state(1, Some((3, T0)), T0 + 10_000, T0);
    assert_eq!(q.counts(), (0, 1, 0));
    assert_eq!(q.entry(1).unwrap().receive_count, 3);
    q.replay_state(1, None, T0, T0);
    assert_eq!(q.counts(), (1, 0, 0));
}

#[test]
fn purge_empties_everything() {
    let mut q = queue(true);
    send(&mut q, 1, T0, 0, Some("g"));
    send(&mut q, 2, T0, 5_000, Some("h"));
    q.pick(T0, 1, 30_000, None);
    assert_eq!(q.purge(), 2);
    assert_eq!(q.counts(), (0, 0, 0));
    assert_eq!(q.next_due(), None);
    send(&mut q, 3, T0, 0, Some("g"));
    assert_eq!(seqs(&q.pick(T0, 10, 30_000, None)), vec![3]);
}
