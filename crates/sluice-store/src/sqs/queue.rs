//! One queue's messages in memory: a small index entry per message (where its record is in
//! the journal, when it becomes visible, how often it was received), never the body.
//!
//! ```text
//!            send (delay)            delay over
//!   ──────▶ Delayed ─────────────────────────────▶ Ready ◀───────────────────┐
//!   ──────▶ Ready  (no delay)                        │ receive                │ visibility
//!                                                    ▼                        │ timeout over
//!                                                 InFlight ───────────────────┘  (or changed
//!                          receive past maxReceiveCount                           to 0)
//!                 Ready ───────────────────────────▶ Moving ──▶ (gone: now in the DLQ)
//!   any state ── delete / retention / purge ──▶ (gone)
//! ```
//!
//! Everything here is pure: time is passed in, and the caller writes the journal record of
//! each change while it holds the queue's lock. Timers are a sorted set of
//! `(visible_at, seq)`; `advance(now)` moves what is due to Ready and drops messages past
//! retention. Standard queues hand out Ready messages in send order. FIFO queues keep each
//! message group's messages in order and hand out a group only while none of its messages
//! is in flight (or moving); groups whose head is free are kept in `avail`, ordered by
//! their head's sequence number.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use super::meta::QueueRecord;
use super::record::State;

/// FIFO deduplication interval.
pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Never received; waiting out its delay.
    Delayed,
    /// Receivable.
    Ready,
    /// Received; invisible until `visible_at`.
    InFlight,
    /// Being copied to the dead-letter queue.
    Moving,
}

/// A message's index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Journal index of the record holding the body (the Send, or a later Snapshot).
    pub loc: u64,
    /// Bytes of that record, for compaction's accounting.
    pub size: u32,
    pub enqueued_ms: u64,
    pub visible_at: u64,
    pub first_receive_ms: u64,
    pub receive_count: u32,
    pub slot: Slot,
    /// FIFO queues only.
    pub group: Option<Arc<str>>,
}

impl Entry {
    pub fn state(&self) -> State {
        State {
            enqueued_ms: self.enqueued_ms,
            visible_at: self.visible_at,
            first_receive_ms: self.first_receive_ms,
            receive_count: self.receive_count,
        }
    }
}

#[derive(Debug, Default)]
struct Group {
    seqs: BTreeSet<u64>,
    /// Messages of the group in flight or moving; the group is handed out only at 0.
    inflight: u32,
    /// Its key in `avail`, when it is there.
    key: Option<u64>,
}

/// A FIFO deduplication record: a later send with the same id gets this answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    pub message_id: String,
    pub seq: u64,
    pub at_ms: u64,
}

/// One message handed out by `pick`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub seq: u64,
    pub loc: u64,
    pub receive_count: u32,
    pub first_receive_ms: u64,
    pub visible_at: u64,
}

/// What one `pick` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Picked {
    pub received: Vec<Pick>,
    /// Messages past maxReceiveCount, now `Moving`: (seq, loc).
    pub moving: Vec<(u64, u64)>,
}

/// Why a visibility change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibilityError {
    /// No such message, or the handle is not its latest receive.
    Gone,
    NotInFlight,
}

/// Why a FIFO delete was refused: the handle is not of the current, in-flight receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired;

#[derive(Debug)]
pub struct QueueState {
    pub record: QueueRecord,
    msgs: BTreeMap<u64, Entry>,
    ready: BTreeSet<u64>,
    timers: BTreeSet<(u64, u64)>,
    groups: HashMap<Arc<str>, Group>,
    avail: BTreeSet<(u64, Arc<str>)>,
    dedup: HashMap<String, Dedup>,
    dedup_order: VecDeque<(u64, String)>,
    inflight: usize,
    delayed: usize,
    last_enqueued_ms: u64,
    /// Sum of `size` over all messages.
    pub live_bytes: u64,
    /// When PurgeQueue last ran (one per 60 seconds).
    pub last_purge_ms: Option<u64>,
    /// Set when the queue is deleted; holders of the handle then see it gone.
    pub deleted: bool,
}

impl QueueState {
    pub fn new(record: QueueRecord) -> Self {
        Self {
            record,
            msgs: BTreeMap::new(),
            ready: BTreeSet::new(),
            timers: BTreeSet::new(),
            groups: HashMap::new(),
            avail: BTreeSet::new(),
            dedup: HashMap::new(),
            dedup_order: VecDeque::new(),
            inflight: 0,
            delayed: 0,
            last_enqueued_ms: 0,
            live_bytes: 0,
            last_purge_ms: None,
            deleted: false,
        }
    }

    pub fn fifo(&self) -> bool {
        self.record.settings.fifo
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    pub fn entry(&self, seq: u64) -> Option<&Entry> {
        self.msgs.get(&seq)
    }

    /// Every message, by sequence number.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &Entry)> {
        self.msgs.iter().map(|(s, e)| (*s, e))
    }

    /// (visible, in flight or moving, delayed).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.ready.len(), self.inflight, self.delayed)
    }

    /// The earliest moment a delayed or in-flight message becomes visible.
    pub fn next_due(&self) -> Option<u64> {
        self.timers.first().map(|t| t.0)
    }

    /// The enqueue time of a message sent now: never before an earlier one's, so retention
    /// can expire from the front.
    pub fn enqueue_time(&mut self, now: u64) -> u64 {
        self.last_enqueued_ms = self.last_enqueued_ms.max(now);
        self.last_enqueued_ms
    }

    fn slot_for(state: &State, now: u64) -> Slot {
        if state.visible_at > now {
            if state.receive_count > 0 {
                Slot::InFlight
            } else {
                Slot::Delayed
            }
        } else {
            Slot::Ready
        }
    }

    /// Adds a message (a send, a DLQ arrival, or a replayed record). A message of that
    /// sequence number already here is replaced (a replayed Snapshot).
    pub fn insert(
        &mut self,
        seq: u64,
        loc: u64,
        size: u32,
        state: State,
        group: Option<&str>,
        now: u64,
    ) {
        if self.msgs.contains_key(&seq) {
            self.remove(seq);
        }
        self.last_enqueued_ms = self.last_enqueued_ms.max(state.enqueued_ms);
        let group: Option<Arc<str>> = match group {
            Some(g) if self.fifo() => Some(
                self.groups
                    .get_key_value(g)
                    .map_or_else(|| Arc::from(g), |(k, _)| k.clone()),
            ),
            _ => None,
        };
        if let Some(g) = &group {
            self.groups.entry(g.clone()).or_default().seqs.insert(seq);
        }
        self.msgs.insert(
            seq,
            Entry {
                loc,
                size,
                enqueued_ms: state.enqueued_ms,
                visible_at: state.visible_at,
                first_receive_ms: state.first_receive_ms,
                receive_count: state.receive_count,
                slot: Self::slot_for(&state, now),
                group: group.clone(),
            },
        );
        self.live_bytes += u64::from(size);
        self.enter(seq);
        if let Some(g) = group {
            self.refresh_group(&g);
        }
    }

    /// Takes `seq` out of the set its slot keeps it in.
    fn leave(&mut self, seq: u64) {
        let Some(e) = self.msgs.get(&seq) else {
            return;
        };
        let (slot, at, group) = (e.slot, e.visible_at, e.group.clone());
        match slot {
            Slot::Ready => {
                self.ready.remove(&seq);
            }
            Slot::Delayed => {
                self.timers.remove(&(at, seq));
                self.delayed -= 1;
            }
            Slot::InFlight | Slot::Moving => {
                if slot == Slot::InFlight {
                    self.timers.remove(&(at, seq));
                }
                self.inflight -= 1;
                if let Some(g) = group.and_then(|g| self.groups.get_mut(&g)) {
                    g.inflight -= 1;
                }
            }
        }
    }

    /// Puts `seq` into the set its slot calls for.
    fn enter(&mut self, seq: u64) {
        let Some(e) = self.msgs.get(&seq) else {
            return;
        };
        let (slot, at, group) = (e.slot, e.visible_at, e.group.clone());
        match slot {
            Slot::Ready => {
                self.ready.insert(seq);
            }
            Slot::Delayed => {
                self.timers.insert((at, seq));
                self.delayed += 1;
            }
            Slot::InFlight | Slot::Moving => {
                if slot == Slot::InFlight {
                    self.timers.insert((at, seq));
                }
                self.inflight += 1;
                if let Some(g) = group.and_then(|g| self.groups.get_mut(&g)) {
                    g.inflight += 1;
                }
            }
        }
    }

    /// Moves `seq` to `slot` with `visible_at`.
    fn restate(&mut self, seq: u64, slot: Slot, visible_at: u64) {
        self.leave(seq);
        let group = match self.msgs.get_mut(&seq) {
            Some(e) => {
                e.slot = slot;
                e.visible_at = visible_at;
                e.group.clone()
            }
            None => return,
        };
        self.enter(seq);
        if let Some(g) = group {
            self.refresh_group(&g);
        }
    }

    /// Keeps a FIFO group's place in `avail` (and drops an empty, idle group).
    fn refresh_group(&mut self, g: &Arc<str>) {
        let Some(group) = self.groups.get_mut(g) else {
            return;
        };
        let want = if group.inflight == 0 {
            group.seqs.first().copied()
        } else {
            None
        };
        if want != group.key {
            if let Some(k) = group.key {
                self.avail.remove(&(k, g.clone()));
            }
            if let Some(k) = want {
                self.avail.insert((k, g.clone()));
            }
            group.key = want;
        }
        if group.seqs.is_empty() && group.inflight == 0 {
            self.groups.remove(g);
        }
    }

    /// Removes a message; `None` when there was none.
    pub fn remove(&mut self, seq: u64) -> Option<Entry> {
        self.leave(seq);
        let e = self.msgs.remove(&seq)?;
        self.live_bytes -= u64::from(e.size);
        if let Some(g) = &e.group {
            if let Some(group) = self.groups.get_mut(g) {
                group.seqs.remove(&seq);
            }
            self.refresh_group(g);
        }
        Some(e)
    }

    /// Makes what is due visible and drops messages past retention; returns the dropped
    /// sequence numbers (the caller journals their deletion).
    pub fn advance(&mut self, now: u64) -> Vec<u64> {
        while let Some(&(at, seq)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            self.restate(seq, Slot::Ready, at);
        }
        let retention = u64::from(self.record.settings.message_retention_period) * 1000;
        let mut expired = Vec::new();
        for (&seq, e) in &self.msgs {
            if e.enqueued_ms.saturating_add(retention) > now {
                break;
            }
            if e.slot != Slot::Moving {
                expired.push(seq);
            }
        }
        for seq in &expired {
            self.remove(*seq);
        }
        expired
    }

    /// Hands out up to `max` Ready messages, each invisible for `visibility_ms` (0 leaves
    /// it visible). With `redrive` (maxReceiveCount of a redrive whose DLQ exists), a
    /// message already received that often becomes `Moving` instead.
    pub fn pick(
        &mut self,
        now: u64,
        max: usize,
        visibility_ms: u64,
        redrive: Option<u32>,
    ) -> Picked {
        if self.fifo() {
            self.pick_fifo(now, max, visibility_ms, redrive)
        } else {
            self.pick_standard(now, max, visibility_ms, redrive)
        }
    }

    fn receive_one(&mut self, seq: u64, now: u64, visibility_ms: u64) -> Option<Pick> {
        let e = self.msgs.get_mut(&seq)?;
        e.receive_count += 1;
        if e.first_receive_ms == 0 {
            e.first_receive_ms = now;
        }
        let (slot, at) = if visibility_ms > 0 {
            (Slot::InFlight, now + visibility_ms)
        } else {
            (Slot::Ready, now)
        };
        let pick = Pick {
            seq,
            loc: e.loc,
            receive_count: e.receive_count,
            first_receive_ms: e.first_receive_ms,
            visible_at: at,
        };
        self.restate(seq, slot, at);
        Some(pick)
    }

    fn pick_standard(
        &mut self,
        now: u64,
        max: usize,
        visibility_ms: u64,
        redrive: Option<u32>,
    ) -> Picked {
        let mut out = Picked::default();
        let mut cursor = 0u64;
        while out.received.len() < max {
            let Some(&seq) = self.ready.range(cursor..).next() else {
                break;
            };
            cursor = seq + 1;
            let Some(e) = self.msgs.get(&seq) else {
                self.ready.remove(&seq);
                continue;
            };
            if redrive.is_some_and(|m| e.receive_count >= m) {
                out.moving.push((seq, e.loc));
                let at = e.visible_at;
                self.restate(seq, Slot::Moving, at);
                continue;
            }
            if let Some(p) = self.receive_one(seq, now, visibility_ms) {
                out.received.push(p);
            }
        }
        out
    }

    fn pick_fifo(
        &mut self,
        now: u64,
        max: usize,
        visibility_ms: u64,
        redrive: Option<u32>,
    ) -> Picked {
        let mut out = Picked::default();
        let mut cursor: Option<(u64, Arc<str>)> = None;
        while out.received.len() < max {
            let next = match &cursor {
                None => self.avail.first().cloned(),
                Some(c) => self
                    .avail
                    .range((Bound::Excluded(c.clone()), Bound::Unbounded))
                    .next()
                    .cloned(),
            };
            let Some((head, g)) = next else {
                break;
            };
            cursor = Some((head, g.clone()));
            let mut from = head;
            while out.received.len() < max {
                let Some(seq) = self
                    .groups
                    .get(&g)
                    .and_then(|grp| grp.seqs.range(from..).next().copied())
                else {
                    break;
                };
                from = seq + 1;
                let Some(e) = self.msgs.get(&seq) else {
                    break;
                };
                if e.slot != Slot::Ready {
                    break;
                }
                if redrive.is_some_and(|m| e.receive_count >= m) {
                    out.moving.push((seq, e.loc));
                    let at = e.visible_at;
                    self.restate(seq, Slot::Moving, at);
                    continue;
                }
                if let Some(p) = self.receive_one(seq, now, visibility_ms) {
                    out.received.push(p);
                }
            }
        }
        out
    }

    /// ChangeMessageVisibility for the receive `receive_count` of `seq`.
    pub fn change_visibility(
        &mut self,
        seq: u64,
        receive_count: u32,
        now: u64,
        visible_at: u64,
    ) -> Result<(), VisibilityError> {
        let e = self.msgs.get(&seq).ok_or(VisibilityError::Gone)?;
        if e.receive_count != receive_count {
            return Err(VisibilityError::Gone);
        }
        if e.slot != Slot::InFlight {
            return Err(VisibilityError::NotInFlight);
        }
        let slot = if visible_at > now {
            Slot::InFlight
        } else {
            Slot::Ready
        };
        self.restate(seq, slot, visible_at);
        Ok(())
    }

    /// DeleteMessage with the handle of receive `receive_count`. Standard queues delete
    /// with any handle of the message (as AWS does in practice: "the request succeeds, but
    /// the message might not be deleted" — here it is); FIFO queues refuse a handle that is
    /// not of the current, in-flight receive. `Ok(None)`: nothing to delete (already gone,
    /// or being moved to the DLQ).
    pub fn delete(&mut self, seq: u64, receive_count: u32) -> Result<Option<Entry>, Expired> {
        let Some(e) = self.msgs.get(&seq) else {
            return Ok(None);
        };
        if self.fifo() && (e.receive_count != receive_count || e.slot != Slot::InFlight) {
            return Err(Expired);
        }
        if e.slot == Slot::Moving {
            return Ok(None);
        }
        Ok(self.remove(seq))
    }

    /// A Moving message whose DLQ vanished returns to Ready.
    pub fn restore(&mut self, seq: u64, now: u64) {
        if self.msgs.get(&seq).is_some_and(|e| e.slot == Slot::Moving) {
            self.restate(seq, Slot::Ready, now);
        }
    }

    /// Replays a Receive or Visibility record.
    pub fn replay_state(
        &mut self,
        seq: u64,
        receive_count: Option<(u32, u64)>,
        visible_at: u64,
        now: u64,
    ) {
        let Some(e) = self.msgs.get_mut(&seq) else {
            return;
        };
        if let Some((count, first)) = receive_count {
            e.receive_count = count;
            e.first_receive_ms = first;
        }
        let state = State {
            visible_at,
            ..e.state()
        };
        let slot = Self::slot_for(&state, now);
        self.restate(seq, slot, visible_at);
    }

    /// Removes every message; returns how many.
    pub fn purge(&mut self) -> usize {
        let n = self.msgs.len();
        self.msgs.clear();
        self.ready.clear();
        self.timers.clear();
        self.groups.clear();
        self.avail.clear();
        self.inflight = 0;
        self.delayed = 0;
        self.live_bytes = 0;
        n
    }

    /// Points a message at a new copy of its record (compaction). `false` when the message
    /// is gone or moved meanwhile.
    pub fn relocate(&mut self, seq: u64, old_loc: u64, new_loc: u64) -> bool {
        match self.msgs.get_mut(&seq) {
            Some(e) if e.loc == old_loc => {
                e.loc = new_loc;
                true
            }
            _ => false,
        }
    }

    /// The deduplication key of a FIFO message under the queue's DeduplicationScope.
    pub fn dedup_key(&self, group: &str, dedup_id: &str) -> String {
        if self.record.settings.deduplication_scope == "messageGroup" {
            format!("{group}\u{0}{dedup_id}")
        } else {
            dedup_id.to_owned()
        }
    }

    /// The send a new message with `key` duplicates, if one was accepted in the last five
    /// minutes.
    pub fn dedup_get(&mut self, key: &str, now: u64) -> Option<Dedup> {
        while let Some((at, k)) = self.dedup_order.front() {
            if at + DEDUP_WINDOW_MS > now {
                break;
            }
            if self.dedup.get(k).is_some_and(|d| d.at_ms == *at) {
                self.dedup.remove(k);
            }
            self.dedup_order.pop_front();
        }
        self.dedup.get(key).cloned()
    }

    pub fn dedup_put(&mut self, key: String, dedup: Dedup) {
        self.dedup_order.push_back((dedup.at_ms, key.clone()));
        self.dedup.insert(key, dedup);
    }
}

#[cfg(test)]
mod tests;
