//! The log against a model (a `Vec` of acknowledged records): random appends, reads,
//! retention, reopens, and damage between close and reopen.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use super::tests::{append_bytes, flip, frames_of, index_files, segment_bases};
use super::*;

/// The clock starts here; appends move it by `step` (sometimes backwards).
const T0: u64 = 1_000_000;

#[derive(Debug, Clone)]
enum Op {
    /// One `append` call: (key length, data length) per record.
    Append {
        sizes: Vec<(u8, u16)>,
        step: i16,
    },
    Read {
        from: u16,
        max_records: u8,
        max_bytes: u16,
    },
    IndexAtTime(u16),
    ArrivalOf(u16),
    /// `trim_before(T0 + x)`.
    Trim(u16),
    Reopen,
    /// A prefix (strictly shorter than the whole) of an append that never finished.
    TornPartial {
        records: u8,
        cut: u16,
    },
    /// Garbage after the last frame.
    TornGarbage(Vec<u8>),
    /// Cuts 1..=len bytes off the last (acknowledged) frame.
    TruncateLast(u16),
    /// Flips a bit in an acknowledged frame of the newest segment.
    FlipLast {
        frame: u16,
        byte: u16,
        bit: u8,
    },
    /// Flips a bit in a frame of an older segment.
    FlipSealed {
        seg: u8,
        frame: u16,
        byte: u16,
        bit: u8,
    },
    /// Deletes or damages an index file.
    DamageIndex {
        seg: u8,
        delete: bool,
        byte: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (prop::collection::vec((0u8..12, 0u16..300), 1..6), -40i16..120)
            .prop_map(|(sizes, step)| Op::Append { sizes, step }),
        3 => (any::<u16>(), 1u8..20, 0u16..2_000).prop_map(|(from, max_records, max_bytes)| {
            Op::Read { from, max_records, max_bytes }
        }),
        1 => any::<u16>().prop_map(Op::IndexAtTime),
        1 => any::<u16>().prop_map(Op::ArrivalOf),
        1 => (0u16..3_000).prop_map(Op::Trim),
        1 => Just(Op::Reopen),
        1 => (1u8..5, any::<u16>()).prop_map(|(records, cut)| Op::TornPartial { records, cut }),
        1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Op::TornGarbage),
        1 => any::<u16>().prop_map(Op::TruncateLast),
        1 => (any::<u16>(), any::<u16>(), any::<u8>())
            .prop_map(|(frame, byte, bit)| Op::FlipLast { frame, byte, bit }),
        1 => (any::<u8>(), any::<u16>(), any::<u16>(), any::<u8>())
            .prop_map(|(seg, frame, byte, bit)| Op::FlipSealed { seg, frame, byte, bit }),
        1 => (any::<u8>(), any::<bool>(), any::<u16>())
            .prop_map(|(seg, delete, byte)| Op::DamageIndex { seg, delete, byte }),
    ]
}

#[derive(Default)]
struct Model {
    /// Every acknowledged record still on disk, trimmed ones included (they carry the
    /// arrival floor).
    records: Vec<StoredRecord>,
    /// Index ranges of the acknowledged appends, in order.
    appends: Vec<Range<u64>>,
    /// Highest retention cutoff applied. The clock never goes back past it, as with a
    /// real retention period, so `start()` is the first record at or after it.
    cutoff: u64,
    now: u64,
    counter: u64,
}

impl Model {
    fn end(&self) -> u64 {
        self.records.len() as u64
    }

    fn start(&self) -> u64 {
        self.records
            .iter()
            .position(|r| r.arrival_ms >= self.cutoff)
            .map_or(self.end(), |i| i as u64)
    }

    fn last_arrival(&self) -> u64 {
        self.records.last().map_or(0, |r| r.arrival_ms)
    }

    fn read(&self, from: u64, max_records: usize, max_bytes: usize) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        let mut bytes = 0;
        for r in self.records.iter().skip(from.max(self.start()) as usize) {
            let size = r.partition_key.len() + r.data.len();
            if out.len() >= max_records || (!out.is_empty() && bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            out.push(r.clone());
        }
        out
    }

    fn index_at_time(&self, ms: u64) -> u64 {
        (self.start()..self.end())
            .find(|&i| self.records[i as usize].arrival_ms >= ms)
            .unwrap_or(self.end())
    }

    fn arrival_of(&self, index: u64) -> Option<u64> {
        (self.start()..self.end())
            .contains(&index)
            .then(|| self.records[index as usize].arrival_ms)
    }

    fn drop_last_append(&mut self) {
        let last = self.appends.pop().unwrap();
        self.records.truncate(last.start as usize);
    }
}

fn check_all(log: &ShardLog, m: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(log.end(), m.end());
    prop_assert_eq!(log.start(), m.start());
    let all = log.read(0, usize::MAX, usize::MAX).unwrap();
    prop_assert_eq!(all, m.read(0, usize::MAX, usize::MAX));
    Ok(())
}

fn reopen(dir: &Path, opts: &LogOptions, m: &Model) -> Result<ShardLog, TestCaseError> {
    let log = ShardLog::open(dir, opts.clone()).unwrap();
    if m.cutoff > 0 {
        log.trim_before(m.cutoff).unwrap();
    }
    check_all(&log, m)?;
    Ok(log)
}

fn last_segment(dir: &Path) -> PathBuf {
    dir.join(format::segment_file_name(
        *segment_bases(dir).last().unwrap(),
    ))
}

fn run(opts: LogOptions, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = Some(ShardLog::open(dir, opts.clone()).unwrap());
    let mut m = Model {
        now: T0,
        ..Model::default()
    };
    for op in ops {
        match op {
            Op::Append { sizes, step } => {
                let l = log.as_ref().unwrap();
                // Retention cutoffs come from the same clock: it never goes back past one.
                m.now = m.now.saturating_add_signed(i64::from(step)).max(m.cutoff);
                let records: Vec<NewRecord> = sizes
                    .iter()
                    .map(|&(k, d)| {
                        m.counter += 1;
                        let key: String = (0..k)
                            .map(|i| char::from(b'a' + (m.counter as u8 + i) % 26))
                            .collect();
                        let data = (0..d)
                            .map(|i| (m.counter as u16).wrapping_mul(31).wrapping_add(i) as u8)
                            .collect();
                        NewRecord {
                            partition_key: key,
                            data,
                        }
                    })
                    .collect();
                let range = rt.block_on(l.append(records.clone(), m.now)).unwrap();
                let first = m.end();
                prop_assert_eq!(range.clone(), first..first + records.len() as u64);
                let arrival_ms = m.now.max(m.last_arrival());
                for (i, r) in records.into_iter().enumerate() {
                    m.records.push(StoredRecord {
                        index: first + i as u64,
                        arrival_ms,
                        partition_key: r.partition_key,
                        data: r.data,
                    });
                }
                m.appends.push(range);
            }
            Op::Read {
                from,
                max_records,
                max_bytes,
            } => {
                let from = u64::from(from) % (m.end() + 3);
                let got = log
                    .as_ref()
                    .unwrap()
                    .read(from, max_records.into(), max_bytes.into())
                    .unwrap();
                prop_assert_eq!(got, m.read(from, max_records.into(), max_bytes.into()));
            }
            Op::IndexAtTime(x) => {
                let ms = T0 - 100 + u64::from(x % 4_000);
                prop_assert_eq!(
                    log.as_ref().unwrap().index_at_time(ms).unwrap(),
                    m.index_at_time(ms)
                );
            }
            Op::ArrivalOf(x) => {
                let i = u64::from(x) % (m.end() + 2);
                prop_assert_eq!(
                    log.as_ref().unwrap().arrival_of(i).unwrap(),
                    m.arrival_of(i)
                );
            }
            Op::Trim(x) => {
                let cutoff = T0 + u64::from(x);
                log.as_ref().unwrap().trim_before(cutoff).unwrap();
                m.cutoff = m.cutoff.max(cutoff);
                m.now = m.now.max(m.cutoff);
                check_all(log.as_ref().unwrap(), &m)?;
                // Only whole segments before the start are gone.
                let first = segment_bases(dir)[0];
                prop_assert!(first <= m.start());
            }
            Op::Reopen => {
                drop(log.take());
                log = Some(reopen(dir, &opts, &m)?);
            }
            Op::TornPartial { records, cut } => {
                drop(log.take());
                let first = m.end();
                let arrival = m.now.max(m.last_arrival());
                let mut buf = Vec::new();
                for i in 0..u64::from(records) {
                    let flags = if i + 1 == u64::from(records) {
                        format::FLAG_APPEND_END
                    } else {
                        0
                    };
                    format::encode_frame(
                        &mut buf,
                        first + i,
                        arrival,
                        first,
                        flags,
                        b"torn",
                        &[0x5A; 50],
                    );
                }
                let cut = usize::from(cut) % buf.len();
                append_bytes(&last_segment(dir), &buf[..cut]);
                log = Some(reopen(dir, &opts, &m)?);
            }
            Op::TornGarbage(bytes) => {
                drop(log.take());
                append_bytes(&last_segment(dir), &bytes);
                log = Some(reopen(dir, &opts, &m)?);
            }
            Op::TruncateLast(k) => {
                drop(log.take());
                let path = last_segment(dir);
                if let Some((offset, last)) = frames_of(&path).last().copied() {
                    prop_assert_eq!(last.index + 1, m.end());
                    let cut = 1 + u64::from(k) % last.len as u64;
                    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
                    f.set_len(offset + last.len as u64 - cut).unwrap();
                    m.drop_last_append();
                }
                log = Some(reopen(dir, &opts, &m)?);
            }
            Op::FlipLast { frame, byte, bit } => {
                drop(log.take());
                let path = last_segment(dir);
                let frames = frames_of(&path);
                if !frames.is_empty() {
                    let (offset, f) = frames[usize::from(frame) % frames.len()];
                    flip(&path, offset + u64::from(byte) % f.len as u64, bit);
                    let last = m.appends.last().unwrap().clone();
                    if last.contains(&f.index) {
                        // Damage in the newest commit looks like a torn write: that
                        // append (and only it) is cut.
                        m.drop_last_append();
                    } else {
                        let err = ShardLog::open(dir, opts.clone()).unwrap_err();
                        prop_assert!(matches!(err, StoreError::CorruptLog { .. }), "{}", err);
                        return Ok(());
                    }
                }
                log = Some(reopen(dir, &opts, &m)?);
            }
            Op::FlipSealed {
                seg,
                frame,
                byte,
                bit,
            } => {
                drop(log.take());
                let bases = segment_bases(dir);
                if bases.len() < 2 {
                    log = Some(reopen(dir, &opts, &m)?);
                    continue;
                }
                let base = bases[usize::from(seg) % (bases.len() - 1)];
                let path = dir.join(format::segment_file_name(base));
                let frames = frames_of(&path);
                let (offset, f) = frames[usize::from(frame) % frames.len()];
                flip(&path, offset + u64::from(byte) % f.len as u64, bit);
                match ShardLog::open(dir, opts.clone()) {
                    Err(err) => {
                        prop_assert!(matches!(err, StoreError::CorruptLog { .. }), "{}", err);
                    }
                    Ok(l) => {
                        if m.cutoff > 0 {
                            l.trim_before(m.cutoff).ok();
                        }
                        let read = l.read(0, usize::MAX, usize::MAX);
                        if f.index >= m.start() {
                            prop_assert!(
                                matches!(read, Err(StoreError::CorruptLog { .. })),
                                "damage to retained record {} went unnoticed",
                                f.index
                            );
                        }
                    }
                }
                return Ok(());
            }
            Op::DamageIndex { seg, delete, byte } => {
                drop(log.take());
                let idx = index_files(dir);
                if !idx.is_empty() {
                    let path = dir.join(format::index_file_name(idx[usize::from(seg) % idx.len()]));
                    if delete {
                        fs::remove_file(&path).unwrap();
                    } else {
                        let len = fs::metadata(&path).unwrap().len();
                        flip(&path, u64::from(byte) % len, byte as u8);
                    }
                }
                log = Some(reopen(dir, &opts, &m)?);
                // Rebuilt for every sealed segment still there.
                let bases = segment_bases(dir);
                prop_assert_eq!(index_files(dir), &bases[..bases.len() - 1]);
            }
        }
    }
    check_all(log.as_ref().unwrap(), &m)?;
    drop(log);
    reopen(dir, &opts, &m)?;
    Ok(())
}

proptest! {
    #![proptest_config(Config {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "src/log/proptest-regressions/proptests.txt",
        ))),
        ..Config::default()
    })]

    #[test]
    fn log_matches_model(
        segment_bytes in 200u64..3_000,
        index_interval_bytes in 0u64..600,
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let opts = LogOptions { segment_bytes, index_interval_bytes, fsync: false };
        run(opts, ops)?;
    }
}
