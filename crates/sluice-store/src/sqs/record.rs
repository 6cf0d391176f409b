//! The journal's records: one per change, each the data of one log record. All integers are
//! big-endian; strings are a u32 length and UTF-8 bytes (length `u32::MAX` = absent).
//!
//! ```text
//! Send      1 | queue u64 | state | group str | dedup str | payload
//! Snapshot  2 | queue u64 | seq u64 | state | group str | dedup str | payload
//! Receive   3 | queue u64 | seq u64 | receive_count u32 | first_receive_ms u64 | visible_at u64
//! Visibility 4 | queue u64 | seq u64 | visible_at u64
//! Delete    5 | queue u64 | seq u64
//! Purge     6 | queue u64
//!
//! state    = enqueued_ms u64 | visible_at u64 | first_receive_ms u64 | receive_count u32
//! payload  = message_id [16] | sent_ms u64 | body_md5 [16] | trace_header str |
//!            dlq_source_arn str | attribute count u16 | attributes | body str
//! attribute = name str | data_type str | kind u8 (1 string, 2 binary, 3 string list,
//!             4 binary list) | value (str / bytes, or u32 count and items)
//! ```
//!
//! A Send's message sequence number is its own log index, so it is not written; a Snapshot
//! (a live message copied forward by compaction) carries the sequence number it keeps.
//! The payload is everything that never changes after the send; a Snapshot copies it
//! byte for byte.

use std::collections::BTreeMap;

use super::message::{AttributeValue, MessageAttributeValue};

pub const SEND: u8 = 1;
pub const SNAPSHOT: u8 = 2;
pub const RECEIVE: u8 = 3;
pub const VISIBILITY: u8 = 4;
pub const DELETE: u8 = 5;
pub const PURGE: u8 = 6;

const ABSENT: u32 = u32::MAX;

/// The parts of a message's state that change after the send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    /// When the message entered this queue; retention counts from here.
    pub enqueued_ms: u64,
    /// Not receivable before this (delay, or the visibility timeout of the last receive).
    pub visible_at: u64,
    /// 0 until the first receive.
    pub first_receive_ms: u64,
    pub receive_count: u32,
}

/// A Send or Snapshot record, decoded up to its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord<'a> {
    pub queue_id: u64,
    /// `Some` for a Snapshot; a Send's is its own log index.
    pub seq: Option<u64>,
    pub state: State,
    pub group: Option<&'a str>,
    pub dedup: Option<&'a str>,
    pub payload: &'a [u8],
}

/// The unchanging part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub message_id: [u8; 16],
    pub sent_ms: u64,
    pub body_md5: [u8; 16],
    pub trace_header: Option<String>,
    /// Set on a message the redrive moved into a dead-letter queue.
    pub dlq_source_arn: Option<String>,
    pub attributes: BTreeMap<String, MessageAttributeValue>,
    pub body: String,
}

/// One decoded journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Message(MessageRecord<'a>),
    Receive {
        queue_id: u64,
        seq: u64,
        receive_count: u32,
        first_receive_ms: u64,
        visible_at: u64,
    },
    Visibility {
        queue_id: u64,
        seq: u64,
        visible_at: u64,
    },
    Delete {
        queue_id: u64,
        seq: u64,
    },
    Purge {
        queue_id: u64,
    },
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put_bytes(b: &mut Vec<u8>, v: &[u8]) {
    // Records are bounded far below 4 GiB by the message size limit.
    put_u32(b, u32::try_from(v.len()).unwrap_or(ABSENT - 1));
    b.extend_from_slice(v);
}

fn put_opt(b: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => put_bytes(b, s.as_bytes()),
        None => put_u32(b, ABSENT),
    }
}

fn put_state(b: &mut Vec<u8>, s: &State) {
    put_u64(b, s.enqueued_ms);
    put_u64(b, s.visible_at);
    put_u64(b, s.first_receive_ms);
    put_u32(b, s.receive_count);
}

/// A Send (`seq: None`) or Snapshot record around an encoded payload.
pub fn message(
    queue_id: u64,
    seq: Option<u64>,
    state: &State,
    group: Option<&str>,
    dedup: Option<&str>,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + payload.len());
    b.push(if seq.is_some() { SNAPSHOT } else { SEND });
    put_u64(&mut b, queue_id);
    if let Some(s) = seq {
        put_u64(&mut b, s);
    }
    put_state(&mut b, state);
    put_opt(&mut b, group);
    put_opt(&mut b, dedup);
    b.extend_from_slice(payload);
    b
}

pub fn payload(p: &Payload) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + p.body.len());
    b.extend_from_slice(&p.message_id);
    put_u64(&mut b, p.sent_ms);
    b.extend_from_slice(&p.body_md5);
    put_opt(&mut b, p.trace_header.as_deref());
    put_opt(&mut b, p.dlq_source_arn.as_deref());
    b.extend_from_slice(
        &u16::try_from(p.attributes.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    for (name, v) in &p.attributes {
        put_bytes(&mut b, name.as_bytes());
        put_bytes(&mut b, v.data_type.as_bytes());
        match &v.value {
            AttributeValue::String(s) => {
                b.push(1);
                put_bytes(&mut b, s.as_bytes());
            }
            AttributeValue::Binary(x) => {
                b.push(2);
                put_bytes(&mut b, x);
            }
            AttributeValue::StringList(items) => {
                b.push(3);
                put_u32(&mut b, u32::try_from(items.len()).unwrap_or(0));
                for s in items {
                    put_bytes(&mut b, s.as_bytes());
                }
            }
            AttributeValue::BinaryList(items) => {
                b.push(4);
                put_u32(&mut b, u32::try_from(items.len()).unwrap_or(0));
                for x in items {
                    put_bytes(&mut b, x);
                }
            }
        }
    }
    put_bytes(&mut b, p.body.as_bytes());
    b
}

pub fn receive(
    queue_id: u64,
    seq: u64,
    receive_count: u32,
    first_receive_ms: u64,
    visible_at: u64,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(37);
    b.push(RECEIVE);
    put_u64(&mut b, queue_id);
    put_u64(&mut b, seq);
    put_u32(&mut b, receive_count);
    put_u64(&mut b, first_receive_ms);
    put_u64(&mut b, visible_at);
    b
}

pub fn visibility(queue_id: u64, seq: u64, visible_at: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(25);
    b.push(VISIBILITY);
    put_u64(&mut b, queue_id);
    put_u64(&mut b, seq);
    put_u64(&mut b, visible_at);
    b
}

pub fn delete(queue_id: u64, seq: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(17);
    b.push(DELETE);
    put_u64(&mut b, queue_id);
    put_u64(&mut b, seq);
    b
}

pub fn purge(queue_id: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(9);
    b.push(PURGE);
    put_u64(&mut b, queue_id);
    b
}

/// Reads big-endian fields off a record; every read is bounds-checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| format!("record ends at byte {} (wanted {n} more)", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn array16(&mut self) -> Result<[u8; 16], String> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.take(16)?);
        Ok(a)
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()?;
        if n == ABSENT {
            return Err("absent value where one is required".into());
        }
        self.take(n as usize)
    }

    fn str(&mut self) -> Result<&'a str, String> {
        std::str::from_utf8(self.bytes()?).map_err(|_| "string is not UTF-8".to_owned())
    }

    fn opt_str(&mut self) -> Result<Option<&'a str>, String> {
        let n = self.u32()?;
        if n == ABSENT {
            return Ok(None);
        }
        let b = self.take(n as usize)?;
        std::str::from_utf8(b)
            .map(Some)
            .map_err(|_| "string is not UTF-8".to_owned())
    }

    fn state(&mut self) -> Result<State, String> {
        Ok(State {
            enqueued_ms: self.u64()?,
            visible_at: self.u64()?,
            first_receive_ms: self.u64()?,
            receive_count: self.u32()?,
        })
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    fn done(&self) -> Result<(), String> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(format!(
                "{} bytes after the record",
                self.buf.len() - self.pos
            ))
        }
    }
}

/// Decodes one journal record (a message's payload is left encoded).
pub fn decode(data: &[u8]) -> Result<Event<'_>, String> {
    let mut r = Reader { buf: data, pos: 0 };
    let kind = r.u8()?;
    let queue_id = r.u64()?;
    let event = match kind {
        SEND | SNAPSHOT => {
            let seq = if kind == SNAPSHOT {
                Some(r.u64()?)
            } else {
                None
            };
            let state = r.state()?;
            let group = r.opt_str()?;
            let dedup = r.opt_str()?;
            let payload = r.rest();
            return Ok(Event::Message(MessageRecord {
                queue_id,
                seq,
                state,
                group,
                dedup,
                payload,
            }));
        }
        RECEIVE => Event::Receive {
            queue_id,
            seq: r.u64()?,
            receive_count: r.u32()?,
            first_receive_ms: r.u64()?,
            visible_at: r.u64()?,
        },
        VISIBILITY => Event::Visibility {
            queue_id,
            seq: r.u64()?,
            visible_at: r.u64()?,
        },
        DELETE => Event::Delete {
            queue_id,
            seq: r.u64()?,
        },
        PURGE => Event::Purge { queue_id },
        other => return Err(format!("unknown record kind {other}")),
    };
    r.done()?;
    Ok(event)
}

/// Decodes a message's payload.
pub fn decode_payload(data: &[u8]) -> Result<Payload, String> {
    let mut r = Reader { buf: data, pos: 0 };
    let message_id = r.array16()?;
    let sent_ms = r.u64()?;
    let body_md5 = r.array16()?;
    let trace_header = r.opt_str()?.map(str::to_owned);
    let dlq_source_arn = r.opt_str()?.map(str::to_owned);
    let n = r.u16()?;
    let mut attributes = BTreeMap::new();
    for _ in 0..n {
        let name = r.str()?.to_owned();
        let data_type = r.str()?.to_owned();
        let value = match r.u8()? {
            1 => AttributeValue::String(r.str()?.to_owned()),
            2 => AttributeValue::Binary(r.bytes()?.to_vec()),
            3 => {
                let k = r.u32()?;
                let mut items = Vec::new();
                for _ in 0..k {
                    items.push(r.str()?.to_owned());
                }
                AttributeValue::StringList(items)
            }
            4 => {
                let k = r.u32()?;
                let mut items = Vec::new();
                for _ in 0..k {
                    items.push(r.bytes()?.to_vec());
                }
                AttributeValue::BinaryList(items)
            }
            other => return Err(format!("unknown attribute kind {other}")),
        };
        attributes.insert(name, MessageAttributeValue { data_type, value });
    }
    let body = r.str()?.to_owned();
    r.done()?;
    Ok(Payload {
        message_id,
        sent_ms,
        body_md5,
        trace_header,
        dlq_source_arn,
        attributes,
        body,
    })
}
