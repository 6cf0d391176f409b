#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::format::{FileKind, FrameMeta, Parsed, SEGMENT_HEADER_LEN};
use super::*;

pub(super) fn rec(key: &str, data: &[u8]) -> NewRecord {
    NewRecord {
        partition_key: key.to_string(),
        data: data.to_vec(),
    }
}

fn opts(segment_bytes: u64, index_interval_bytes: u64) -> LogOptions {
    LogOptions {
        segment_bytes,
        index_interval_bytes,
        fsync: false,
    }
}

/// `n` records of `size` data bytes, each tagged with its would-be index.
fn batch(first: u64, n: usize, size: usize) -> Vec<NewRecord> {
    (0..n as u64)
        .map(|i| {
            let tag = first + i;
            let mut data = tag.to_le_bytes().to_vec();
            data.resize(size.max(8), (tag % 251) as u8);
            rec(&format!("pk-{tag}"), &data)
        })
        .collect()
}

fn check_tagged(records: &[StoredRecord]) {
    for r in records {
        assert_eq!(r.partition_key, format!("pk-{}", r.index));
        assert_eq!(&r.data[..8], &r.index.to_le_bytes());
    }
}

fn read_all(log: &ShardLog) -> Result<Vec<StoredRecord>, StoreError> {
    log.read(0, usize::MAX, usize::MAX)
}

/// Segment bases present in `dir`, in order.
pub(super) fn segment_bases(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(
            |e| match format::classify(e.unwrap().file_name().to_str()?) {
                Some(FileKind::Segment(b)) => Some(b),
                _ => None,
            },
        )
        .collect();
    v.sort();
    v
}

pub(super) fn index_files(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(
            |e| match format::classify(e.unwrap().file_name().to_str()?) {
                Some(FileKind::Index(b)) => Some(b),
                _ => None,
            },
        )
        .collect();
    v.sort();
    v
}

/// The intact frames of a segment file, with their offsets.
pub(super) fn frames_of(path: &Path) -> Vec<(u64, FrameMeta)> {
    let bytes = fs::read(path).unwrap();
    let mut at = SEGMENT_HEADER_LEN as usize;
    let mut out = Vec::new();
    while let Parsed::Frame(m) = format::parse_frame(&bytes[at..]) {
        out.push((at as u64, m));
        at += m.len;
    }
    out
}

pub(super) fn flip(path: &Path, offset: u64, bit: u8) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 1 << (bit % 8);
    fs::write(path, bytes).unwrap();
}

pub(super) fn append_bytes(path: &Path, extra: &[u8]) {
    let mut bytes = fs::read(path).unwrap();
    bytes.extend_from_slice(extra);
    fs::write(path, bytes).unwrap();
}

fn seg_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format::segment_file_name(base))
}

fn last_segment(dir: &Path) -> PathBuf {
    seg_path(dir, *segment_bases(dir).last().unwrap())
}

#[tokio::test]
async fn append_and_read_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), LogOptions::default()).unwrap();
    assert_eq!((log.start(), log.end()), (0, 0));
    assert!(read_all(&log).unwrap().is_empty());

    assert_eq!(log.append(batch(0, 3, 100), 1_000).await.unwrap(), 0..3);
    assert_eq!(log.append(batch(3, 1, 0), 1_005).await.unwrap(), 3..4);
    assert_eq!(log.end(), 4);
    let all = read_all(&log).unwrap();
    assert_eq!(all.len(), 4);
    check_tagged(&all);
    assert_eq!(
        all.iter().map(|r| r.arrival_ms).collect::<Vec<_>>(),
        [1_000, 1_000, 1_000, 1_005]
    );
    assert_eq!(all[0].data.len(), 100);
    assert_eq!(log.read(2, 10, usize::MAX).unwrap()[0].index, 2);
    assert!(log.read(4, 10, usize::MAX).unwrap().is_empty());
    assert!(log.read(99, 10, usize::MAX).unwrap().is_empty());
    assert!(log.read(0, 0, usize::MAX).unwrap().is_empty());
    assert_eq!(log.stats().fsyncs, 2);
}

#[tokio::test]
async fn empty_append_assigns_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 4096)).unwrap();
    assert_eq!(log.append(Vec::new(), 5).await.unwrap(), 0..0);
    log.append(batch(0, 2, 10), 5).await.unwrap();
    assert_eq!(log.append(Vec::new(), 5).await.unwrap(), 2..2);
    assert_eq!(log.stats().commits, 1);
}

#[tokio::test]
async fn arrival_times_never_decrease() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 4096)).unwrap();
    log.append(batch(0, 1, 10), 500).await.unwrap();
    log.append(batch(1, 1, 10), 400).await.unwrap();
    log.append(batch(2, 1, 10), 700).await.unwrap();
    let arrivals: Vec<u64> = read_all(&log)
        .unwrap()
        .iter()
        .map(|r| r.arrival_ms)
        .collect();
    assert_eq!(arrivals, [500, 500, 700]);
}

#[tokio::test]
async fn read_stops_at_max_records_and_max_bytes_but_returns_one() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 4096)).unwrap();
    log.append(batch(0, 10, 100), 1).await.unwrap();
    // Each record is 100 data bytes + a 4-byte key.
    assert_eq!(log.read(0, 3, usize::MAX).unwrap().len(), 3);
    assert_eq!(log.read(0, 100, 312).unwrap().len(), 3);
    assert_eq!(log.read(0, 100, 311).unwrap().len(), 2);
    assert_eq!(log.read(5, 100, 1).unwrap().len(), 1);
    assert_eq!(log.read(5, 100, 0).unwrap()[0].index, 5);
}

#[tokio::test]
async fn oversized_records_are_refused_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 4096)).unwrap();
    let big_key = "k".repeat(70_000);
    let err = log
        .append(vec![rec("ok", b"x"), rec(&big_key, b"x")], 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RecordTooLarge(_)), "{err}");
    let err = log
        .append(vec![rec("k", &vec![0; 17 << 20])], 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RecordTooLarge(_)), "{err}");
    assert_eq!(log.end(), 0);
    assert_eq!(log.append(batch(0, 1, 8), 1).await.unwrap(), 0..1);
}

#[tokio::test]
async fn segments_roll_and_seal_with_index_files() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(2_000, 256)).unwrap();
    let mut next = 0;
    for i in 0..60 {
        let n = 1 + i % 4;
        let r = log
            .append(batch(next, n, 100), 10 * i as u64)
            .await
            .unwrap();
        assert_eq!(r, next..next + n as u64);
        next = r.end;
    }
    let bases = segment_bases(tmp.path());
    assert!(bases.len() > 5, "{bases:?}");
    assert_eq!(bases[0], 0);
    // Every sealed segment has its index file; the active one does not.
    assert_eq!(index_files(tmp.path()), bases[..bases.len() - 1]);
    // Each segment starts right after the previous one and on an append boundary.
    for w in bases.windows(2) {
        let frames = frames_of(&seg_path(tmp.path(), w[0]));
        let (_, last) = frames.last().unwrap();
        assert_eq!(last.index + 1, w[1]);
        assert_ne!(last.flags & format::FLAG_APPEND_END, 0);
    }
    let all = read_all(&log).unwrap();
    assert_eq!(all.len() as u64, next);
    check_tagged(&all);
    for from in [0, 1, 17, 50, next - 1] {
        let got = log.read(from, 7, usize::MAX).unwrap();
        assert_eq!(got, all[from as usize..(from as usize + 7).min(all.len())]);
    }
}

#[tokio::test]
async fn read_from_the_middle_uses_the_sparse_index() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(2 << 20, 4096)).unwrap();
    // ~3 MiB: one sealed segment of 2 MiB and an active one of ~1 MiB.
    let mut next = 0;
    for _ in 0..30 {
        next = log.append(batch(next, 100, 1_000), 1).await.unwrap().end;
    }
    assert_eq!(segment_bases(tmp.path()).len(), 2);
    let active_base = *segment_bases(tmp.path()).last().unwrap();
    for target in [1_000, active_base + 450] {
        let before = log.stats().bytes_read;
        let got = log.read(target, 1, usize::MAX).unwrap();
        assert_eq!(got[0].index, target);
        let read = log.stats().bytes_read - before;
        // The first chunk (8 KiB) from the nearest entry (at most 4 KiB plus a record
        // before the target) plus a binary search of 24-byte index entries.
        assert!(
            read < 32 << 10,
            "read {read} bytes for one record at {target}"
        );
        assert_eq!(log.arrival_of(target).unwrap(), Some(1));
    }
}

#[tokio::test]
async fn index_at_time_finds_the_first_arrival_at_or_after() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(3_000, 300)).unwrap();
    // Times 100, 110, ..., each append of 3 records.
    let mut next = 0;
    for i in 0..40u64 {
        next = log
            .append(batch(next, 3, 90), 100 + 10 * i)
            .await
            .unwrap()
            .end;
    }
    assert!(segment_bases(tmp.path()).len() > 3);
    assert_eq!(log.index_at_time(0).unwrap(), 0);
    assert_eq!(log.index_at_time(100).unwrap(), 0);
    assert_eq!(log.index_at_time(101).unwrap(), 3);
    assert_eq!(log.index_at_time(110).unwrap(), 3);
    for i in 0..40u64 {
        assert_eq!(log.index_at_time(100 + 10 * i).unwrap(), 3 * i);
        assert_eq!(log.index_at_time(95 + 10 * i).unwrap(), 3 * i);
    }
    assert_eq!(log.index_at_time(490).unwrap(), 117);
    assert_eq!(log.index_at_time(491).unwrap(), 120);
    assert_eq!(log.index_at_time(u64::MAX).unwrap(), log.end());
}

#[tokio::test]
async fn arrival_of_answers_for_retained_records_only() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(1_000, 200)).unwrap();
    for i in 0..20u64 {
        log.append(batch(i, 1, 100), 1_000 + i).await.unwrap();
    }
    for i in 0..20u64 {
        assert_eq!(log.arrival_of(i).unwrap(), Some(1_000 + i));
    }
    assert_eq!(log.arrival_of(20).unwrap(), None);
    log.trim_before(1_005).unwrap();
    assert_eq!(log.arrival_of(4).unwrap(), None);
    assert_eq!(log.arrival_of(5).unwrap(), Some(1_005));
}

#[tokio::test]
async fn trim_before_moves_start_and_deletes_whole_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(2_000, 256)).unwrap();
    let mut next = 0;
    for i in 0..50u64 {
        next = log
            .append(batch(next, 2, 100), 1_000 + i)
            .await
            .unwrap()
            .end;
    }
    let before = segment_bases(tmp.path());
    assert!(before.len() > 4);
    // Cut in the middle of the third segment.
    let cut_index = (before[2] + before[3]) / 2;
    let cutoff = log.arrival_of(cut_index).unwrap().unwrap();
    log.trim_before(cutoff).unwrap();
    let start = log.start();
    assert_eq!(start, log.index_at_time(cutoff).unwrap());
    assert!(start <= cut_index && log.arrival_of(start).unwrap() == Some(cutoff));
    let after = segment_bases(tmp.path());
    assert_eq!(
        after,
        before[2..],
        "only segments wholly before the cutoff go"
    );
    assert_eq!(index_files(tmp.path()), after[..after.len() - 1]);
    let all = read_all(&log).unwrap();
    assert_eq!(all[0].index, start);
    assert_eq!(all.len() as u64, next - start);
    check_tagged(&all);
    assert_eq!(log.read(0, 1, usize::MAX).unwrap()[0].index, start);
    // Trimming never moves start back.
    log.trim_before(0).unwrap();
    assert_eq!(log.start(), start);
    // Everything expired: start reaches end, the active segment stays.
    log.trim_before(u64::MAX).unwrap();
    assert_eq!(log.start(), log.end());
    assert!(read_all(&log).unwrap().is_empty());
    assert_eq!(log.index_at_time(0).unwrap(), log.end());
    assert_eq!(segment_bases(tmp.path()).len(), 1);
    // Appends go on after full expiry.
    let r = log.append(batch(next, 1, 10), 2_000).await.unwrap();
    assert_eq!(r, next..next + 1);
    assert_eq!(read_all(&log).unwrap().len(), 1);
}

#[tokio::test]
async fn reopen_keeps_everything_and_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let mut next = 0;
    {
        let log = ShardLog::open(tmp.path(), opts(1_500, 256)).unwrap();
        for i in 0..30u64 {
            next = log.append(batch(next, 3, 80), 1_000 + i).await.unwrap().end;
        }
    }
    let log = ShardLog::open(tmp.path(), opts(1_500, 256)).unwrap();
    assert_eq!((log.start(), log.end()), (0, next));
    let all = read_all(&log).unwrap();
    assert_eq!(all.len() as u64, next);
    check_tagged(&all);
    // Arrival stays monotonic across the restart even with an earlier clock.
    let r = log.append(batch(next, 2, 80), 5).await.unwrap();
    assert_eq!(r, next..next + 2);
    assert_eq!(log.arrival_of(next).unwrap(), Some(1_029));
    assert_eq!(log.index_at_time(1_029).unwrap(), next - 3);
}

#[tokio::test]
async fn reopen_after_trim_rederives_start_from_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cutoff;
    {
        let log = ShardLog::open(tmp.path(), opts(1_000, 256)).unwrap();
        for i in 0..40u64 {
            log.append(batch(i, 1, 100), 1_000 + i).await.unwrap();
        }
        cutoff = 1_017;
        log.trim_before(cutoff).unwrap();
        assert_eq!(log.start(), 17);
    }
    let log = ShardLog::open(tmp.path(), opts(1_000, 256)).unwrap();
    let first = segment_bases(tmp.path())[0];
    assert_eq!(log.start(), first);
    assert!(first <= 17 && first > 0);
    log.trim_before(cutoff).unwrap();
    assert_eq!(log.start(), 17);
    assert_eq!(log.end(), 40);
}

#[tokio::test]
async fn arrival_floor_survives_when_every_record_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(100, 64)).unwrap();
        log.append(batch(0, 1, 200), 5_000).await.unwrap();
        // Rolls: record 0's segment is sealed, record 1 starts the next one.
        log.append(batch(1, 1, 200), 6_000).await.unwrap();
    }
    // Record 1's append never completed: its segment holds only the header.
    let f = OpenOptions::new()
        .write(true)
        .open(seg_path(tmp.path(), 1))
        .unwrap();
    f.set_len(SEGMENT_HEADER_LEN).unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(100, 64)).unwrap();
        assert_eq!(log.end(), 1);
        log.trim_before(u64::MAX).unwrap();
        assert_eq!(segment_bases(tmp.path()), [1]);
    }
    // Nothing but an empty segment is left; its header remembers the last arrival.
    let log = ShardLog::open(tmp.path(), opts(100, 64)).unwrap();
    assert_eq!((log.start(), log.end()), (1, 1));
    let r = log.append(batch(1, 1, 10), 10).await.unwrap();
    assert_eq!(r, 1..2);
    assert_eq!(log.arrival_of(1).unwrap(), Some(5_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_get_distinct_contiguous_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(
        tmp.path(),
        LogOptions {
            segment_bytes: 64 << 10,
            index_interval_bytes: 1024,
            fsync: true,
        },
    )
    .unwrap();
    let tasks: Vec<_> = (0..16u64)
        .map(|t| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                for j in 0..25u64 {
                    let n = 1 + ((t + j) % 4) as usize;
                    let records = (0..n)
                        .map(|k| rec(&format!("{t}/{j}/{k}"), &[t as u8; 50]))
                        .collect();
                    let range = log.append(records, j).await.unwrap();
                    assert_eq!(range.end - range.start, n as u64);
                    got.push((range, t, j));
                }
                got
            })
        })
        .collect();
    let mut ranges = Vec::new();
    for t in tasks {
        ranges.extend(t.await.unwrap());
    }
    ranges.sort_by_key(|(r, _, _)| r.start);
    let mut expect = 0;
    for (r, _, _) in &ranges {
        assert_eq!(r.start, expect);
        expect = r.end;
    }
    assert_eq!(log.end(), expect);
    let all = read_all(&log).unwrap();
    assert_eq!(all.len() as u64, expect);
    for (r, t, j) in &ranges {
        for (k, i) in r.clone().enumerate() {
            assert_eq!(all[i as usize].partition_key, format!("{t}/{j}/{k}"));
        }
    }
    let s = log.stats();
    assert_eq!(s.appends, 400);
    assert!(s.fsyncs >= s.commits && s.commits <= 400, "{s:?}");
}

/// Polls a future once, without a runtime's waker.
fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn one_fsync_serves_many_waiting_appends() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let _guard = rt.enter();
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(
        tmp.path(),
        LogOptions {
            fsync: true,
            ..LogOptions::default()
        },
    )
    .unwrap();
    type Append<'a> = Pin<Box<dyn Future<Output = Result<Range<u64>, StoreError>> + 'a>>;
    let mut appends: Vec<Append<'_>>;
    {
        // Hold the writer: the first flush stalls, every append queues behind it.
        let writer = log.shared.writer.lock().unwrap();
        appends = (0..50u64)
            .map(|i| Box::pin(log.append(batch(0, 2, 100), i)) as Append<'_>)
            .collect();
        for a in &mut appends {
            assert!(poll_once(a.as_mut()).is_pending());
        }
        // Nothing is readable before it is durable.
        assert_eq!(log.end(), 0);
        assert!(read_all(&log).unwrap().is_empty());
        drop(writer);
    }
    let mut ranges: Vec<Range<u64>> = rt.block_on(async {
        let mut out = Vec::new();
        for a in appends {
            out.push(a.await.unwrap());
        }
        out
    });
    ranges.sort_by_key(|r| r.start);
    assert_eq!(ranges.first().unwrap().start, 0);
    assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
    let s = log.stats();
    assert_eq!(s.appends, 50);
    // The stalled flush took what was queued when it started (at least the first append);
    // the next one took all the rest.
    assert!(s.commits <= 2 && s.fsyncs == s.commits, "{s:?}");
    assert_eq!(log.end(), 100);
}

#[tokio::test]
async fn subscribers_see_each_durable_end() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 4096)).unwrap();
    let mut rx = log.subscribe();
    assert_eq!(*rx.borrow_and_update(), 0);
    let waiter = tokio::spawn(async move {
        rx.changed().await.unwrap();
        *rx.borrow_and_update()
    });
    log.append(batch(0, 3, 10), 1).await.unwrap();
    assert_eq!(waiter.await.unwrap(), 3);
}

#[tokio::test]
async fn torn_garbage_after_the_last_append_is_cut() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
        log.append(batch(0, 5, 100), 1).await.unwrap();
    }
    let path = last_segment(tmp.path());
    let len = fs::metadata(&path).unwrap().len();
    append_bytes(&path, &[0xAB; 37]);
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
    assert_eq!(log.end(), 5);
    assert_eq!(fs::metadata(&path).unwrap().len(), len);
    check_tagged(&read_all(&log).unwrap());
    assert_eq!(log.append(batch(5, 1, 10), 1).await.unwrap(), 5..6);
}

#[tokio::test]
async fn an_unacknowledged_partial_append_is_dropped_whole() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
        log.append(batch(0, 2, 100), 1).await.unwrap();
    }
    // Three complete frames of a four-record append that never finished.
    let mut torn = Vec::new();
    for (i, r) in batch(2, 4, 100).iter().enumerate() {
        let flags = if i == 3 { format::FLAG_APPEND_END } else { 0 };
        format::encode_frame(
            &mut torn,
            2 + i as u64,
            1,
            2,
            flags,
            r.partition_key.as_bytes(),
            &r.data,
        );
    }
    let last_frame = torn.len() - frames_len_of_last(&torn);
    append_bytes(&last_segment(tmp.path()), &torn[..last_frame]);
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
    assert_eq!(log.end(), 2);
    assert_eq!(read_all(&log).unwrap().len(), 2);
}

fn frames_len_of_last(buf: &[u8]) -> usize {
    let mut at = 0;
    let mut last = 0;
    while let Parsed::Frame(m) = format::parse_frame(&buf[at..]) {
        last = m.len;
        at += m.len;
    }
    last
}

#[tokio::test]
async fn damage_to_the_last_append_cuts_that_append() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
        log.append(batch(0, 3, 100), 1).await.unwrap();
        log.append(batch(3, 3, 100), 2).await.unwrap();
    }
    let path = last_segment(tmp.path());
    let frames = frames_of(&path);
    // The middle record of the last append: its length field.
    let (off, _) = frames[4];
    flip(&path, off + 1, 3);
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
    assert_eq!(log.end(), 3);
    assert_eq!(fs::metadata(&path).unwrap().len(), frames[3].0);
}

#[tokio::test]
async fn damage_followed_by_a_later_commit_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
        for i in 0..4 {
            log.append(batch(3 * i, 3, 100), 1).await.unwrap();
        }
    }
    let path = last_segment(tmp.path());
    let frames = frames_of(&path);
    for (victim, at) in [(4, 40), (5, 2), (1, 0)] {
        let (off, _) = frames[victim];
        flip(&path, off + at, 0);
        let err = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap_err();
        assert!(matches!(err, StoreError::CorruptLog { .. }), "{err}");
        flip(&path, off + at, 0);
    }
    assert_eq!(
        ShardLog::open(tmp.path(), opts(1 << 20, 256))
            .unwrap()
            .end(),
        12
    );
}

#[tokio::test]
async fn damage_inside_a_sealed_segment_fails_the_read() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(4_000, 256)).unwrap();
        for i in 0..20 {
            log.append(batch(2 * i, 2, 200), 1).await.unwrap();
        }
    }
    let first = seg_path(tmp.path(), 0);
    let frames = frames_of(&first);
    assert!(frames.len() > 8);
    // A record in the middle, away from the tail that open checks.
    flip(&first, frames[3].0 + 50, 1);
    let log = ShardLog::open(tmp.path(), opts(4_000, 256)).unwrap();
    let err = read_all(&log).unwrap_err();
    assert!(matches!(err, StoreError::CorruptLog { .. }), "{err}");
    // Reads that do not touch it still work.
    assert!(log.read(frames.len() as u64, 5, usize::MAX).is_ok());
}

#[tokio::test]
async fn damage_to_a_sealed_tail_fails_open() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(4_000, 256)).unwrap();
        for i in 0..20 {
            log.append(batch(2 * i, 2, 200), 1).await.unwrap();
        }
    }
    let first = seg_path(tmp.path(), 0);
    let len = fs::metadata(&first).unwrap().len();
    flip(&first, len - 10, 4);
    let err = ShardLog::open(tmp.path(), opts(4_000, 256)).unwrap_err();
    assert!(matches!(err, StoreError::CorruptLog { .. }), "{err}");
    flip(&first, len - 10, 4);
    // A sealed segment cut short is an error too, not a torn tail.
    let f = OpenOptions::new().write(true).open(&first).unwrap();
    f.set_len(len - 3).unwrap();
    let err = ShardLog::open(tmp.path(), opts(4_000, 256)).unwrap_err();
    assert!(matches!(err, StoreError::CorruptLog { .. }), "{err}");
}

#[tokio::test]
async fn missing_or_damaged_index_files_are_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let expected;
    {
        let log = ShardLog::open(tmp.path(), opts(3_000, 256)).unwrap();
        for i in 0..30 {
            log.append(batch(2 * i, 2, 200), 1 + i).await.unwrap();
        }
        expected = read_all(&log).unwrap();
    }
    let idx = index_files(tmp.path());
    assert!(idx.len() >= 3);
    let original = fs::read(tmp.path().join(format::index_file_name(idx[1]))).unwrap();
    fs::remove_file(tmp.path().join(format::index_file_name(idx[0]))).unwrap();
    flip(&tmp.path().join(format::index_file_name(idx[1])), 30, 2);
    fs::write(tmp.path().join(format::index_file_name(idx[2])), b"junk").unwrap();
    fs::write(tmp.path().join("00000000000000000000.idx.tmp"), b"half").unwrap();
    let log = ShardLog::open(tmp.path(), opts(3_000, 256)).unwrap();
    assert_eq!(index_files(tmp.path()), idx);
    assert_eq!(
        fs::read(tmp.path().join(format::index_file_name(idx[1]))).unwrap(),
        original
    );
    assert!(!tmp.path().join("00000000000000000000.idx.tmp").exists());
    assert_eq!(read_all(&log).unwrap(), expected);
    assert_eq!(log.index_at_time(10).unwrap(), 18);
}

#[tokio::test]
async fn a_crash_during_a_roll_leaves_an_empty_segment_that_opens() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
        log.append(batch(0, 4, 100), 7).await.unwrap();
    }
    // The next segment was created but its header never reached the disk.
    fs::write(seg_path(tmp.path(), 4), b"SLC").unwrap();
    let log = ShardLog::open(tmp.path(), opts(1 << 20, 256)).unwrap();
    assert_eq!(log.end(), 4);
    assert_eq!(index_files(tmp.path()), [0]);
    assert_eq!(log.append(batch(4, 1, 10), 1).await.unwrap(), 4..5);
    assert_eq!(log.arrival_of(4).unwrap(), Some(7));
    check_tagged(&read_all(&log).unwrap());
}

#[tokio::test]
async fn a_gap_between_segments_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let log = ShardLog::open(tmp.path(), opts(500, 256)).unwrap();
        for i in 0..10 {
            log.append(batch(i, 1, 200), 1).await.unwrap();
        }
    }
    let bases = segment_bases(tmp.path());
    assert!(bases.len() >= 3);
    fs::remove_file(seg_path(tmp.path(), bases[1])).unwrap();
    let err = ShardLog::open(tmp.path(), opts(500, 256)).unwrap_err();
    assert!(matches!(err, StoreError::CorruptLog { .. }), "{err}");
}

#[tokio::test]
async fn destroy_removes_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shard-0");
    let log = ShardLog::open(&dir, opts(500, 256)).unwrap();
    for i in 0..10 {
        log.append(batch(i, 1, 200), 1).await.unwrap();
    }
    let other = log.clone();
    log.destroy().unwrap();
    assert!(!dir.exists());
    assert!(other.append(batch(10, 1, 10), 1).await.is_err());
    assert!(other.read(0, 1, 1).is_err());
}
