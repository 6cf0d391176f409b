//! Opening a log directory: validating every segment's tail, rebuilding index files that
//! are missing or stale, and cutting the torn tail of the newest segment.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::format::{
    self, FLAG_APPEND_END, FileKind, FrameMeta, IndexEntry, Parsed, SEGMENT_HEADER_LEN, Summary,
};
use super::scan::{Cursor, ScanError};
use crate::StoreError;

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub(super) fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> StoreError {
    StoreError::CorruptLog {
        path: path.display().to_string(),
        offset,
        reason: reason.into(),
    }
}

/// The newest segment as recovered: where appends go next.
pub(super) struct ActiveRecovered {
    pub base: u64,
    pub file: File,
    pub len: u64,
    pub end: u64,
    pub first_arrival: Option<u64>,
    /// Arrival of the last record, or the segment's arrival floor when it has none.
    pub last_arrival: u64,
    pub entries: Vec<IndexEntry>,
}

pub(super) struct Recovered {
    pub sealed: Vec<Summary>,
    pub active: ActiveRecovered,
}

/// Opens (or creates) the log in `dir`. See the module header of `log` for the rules.
/// `sync: false` (tests and benchmarks) skips the fsyncs of new segments.
pub(super) fn recover(dir: &Path, interval: u64, sync: bool) -> Result<Recovered, StoreError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut segments = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        match format::classify(name) {
            Some(FileKind::Segment(base)) => {
                segments.insert(base);
            }
            Some(FileKind::Index(base)) => {
                indexes.insert(base);
            }
            Some(FileKind::Temp) => {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
            None => {}
        }
    }
    // Index files of segments already deleted by retention.
    for base in indexes.difference(&segments) {
        let path = dir.join(format::index_file_name(*base));
        fs::remove_file(&path).map_err(io_err(&path))?;
    }
    let bases: Vec<u64> = segments.into_iter().collect();
    let Some((&last, older)) = bases.split_last() else {
        let file = create_segment(dir, 0, 0, sync)?;
        return Ok(Recovered {
            sealed: Vec::new(),
            active: ActiveRecovered {
                base: 0,
                file,
                len: SEGMENT_HEADER_LEN,
                end: 0,
                first_arrival: None,
                last_arrival: 0,
                entries: Vec::new(),
            },
        });
    };
    let mut sealed: Vec<Summary> = Vec::with_capacity(older.len());
    for &base in older {
        let s = recover_sealed(dir, base, interval)?;
        if let Some(prev) = sealed.last() {
            check_follows(dir, prev, s.base, s.first_arrival)?;
        }
        sealed.push(s);
    }
    let active = recover_active(dir, last, sealed.last(), interval)?;
    Ok(Recovered { sealed, active })
}

fn check_follows(
    dir: &Path,
    prev: &Summary,
    base: u64,
    first_arrival: u64,
) -> Result<(), StoreError> {
    let path = dir.join(format::segment_file_name(base));
    if prev.end != base {
        return Err(corrupt(
            &path,
            0,
            format!(
                "segment starts at index {base} but the one before it ends at {}",
                prev.end
            ),
        ));
    }
    if first_arrival < prev.last_arrival {
        return Err(corrupt(
            &path,
            0,
            "arrival times go backwards across segments",
        ));
    }
    Ok(())
}

/// Creates an empty segment, durable (file and directory entry) before any record goes in.
pub(super) fn create_segment(
    dir: &Path,
    base: u64,
    arrival_floor: u64,
    sync: bool,
) -> Result<File, StoreError> {
    let path = dir.join(format::segment_file_name(base));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_err(&path))?;
    file.write_all_at(&format::encode_segment_header(base, arrival_floor), 0)
        .map_err(io_err(&path))?;
    if sync {
        file.sync_all().map_err(io_err(&path))?;
        sync_dir(dir)?;
    }
    Ok(file)
}

pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Writes a sealed segment's index file through a temporary name, so a reader never sees
/// half of one. Not fsync'd: it is a cache, checked (CRC, summary, tail) at every open.
pub(super) fn write_index_file(
    dir: &Path,
    s: &Summary,
    entries: &[IndexEntry],
) -> Result<(), StoreError> {
    let path = dir.join(format::index_file_name(s.base));
    let tmp = dir.join(format!("{}.tmp", format::index_file_name(s.base)));
    fs::write(&tmp, format::encode_index(s, entries)).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))
}

fn read_header(file: &File, path: &Path, base: u64, len: u64) -> Result<u64, StoreError> {
    if len < SEGMENT_HEADER_LEN {
        return Err(corrupt(path, 0, "segment shorter than its header"));
    }
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    file.read_exact_at(&mut h, 0).map_err(io_err(path))?;
    format::decode_segment_header(&h, base).map_err(|r| corrupt(path, 0, r))
}

/// A sealed segment: trusted through its index file when that file agrees with the
/// segment's tail, otherwise scanned once (any damage is an error) and re-indexed.
fn recover_sealed(dir: &Path, base: u64, interval: u64) -> Result<Summary, StoreError> {
    let path = dir.join(format::segment_file_name(base));
    let file = File::open(&path).map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    let floor = read_header(&file, &path, base, len)?;
    let idx_path = dir.join(format::index_file_name(base));
    let why = match fs::read(&idx_path) {
        Ok(bytes) => match format::decode_index(&bytes, base, len) {
            Ok((summary, last)) => match tail_agrees(&file, &summary, &last) {
                Ok(()) => return Ok(summary),
                Err(reason) => reason,
            },
            Err(reason) => reason.to_string(),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => "missing".to_string(),
        Err(e) => e.to_string(),
    };
    tracing::info!(segment = %path.display(), reason = %why, "Rebuilding a log index file.");
    let scan = scan_strict(&file, &path, base, len, floor, interval)?;
    let summary = Summary {
        base,
        end: scan.end,
        first_arrival: scan.first_arrival,
        last_arrival: scan.last_arrival,
        len,
        entries: scan.entries.len() as u64,
    };
    write_index_file(dir, &summary, &scan.entries)?;
    Ok(summary)
}

/// Scans from the last index entry to the end of the file: the frames there must be intact,
/// end exactly at the file's end, close an append, and match the summary.
fn tail_agrees(file: &File, s: &Summary, last: &IndexEntry) -> Result<(), String> {
    let mut cur = Cursor::new(file, last.offset, s.len, last.index);
    let mut prev: Option<FrameMeta> = None;
    while let Some(m) = cur.next_frame().map_err(|e| format!("{e:?}"))? {
        let floor = prev.map_or(last.arrival_ms, |p| p.arrival_ms);
        if m.arrival_ms < floor || (prev.is_none() && m.arrival_ms != last.arrival_ms) {
            return Err("arrival times disagree with the index".into());
        }
        prev = Some(m);
    }
    match prev {
        Some(m)
            if m.index + 1 == s.end
                && m.arrival_ms == s.last_arrival
                && m.flags & FLAG_APPEND_END != 0 =>
        {
            Ok(())
        }
        _ => Err("tail disagrees with the index summary".into()),
    }
}

struct StrictScan {
    end: u64,
    first_arrival: u64,
    last_arrival: u64,
    entries: Vec<IndexEntry>,
}

/// Whole-segment scan of a sealed segment: nothing may be wrong.
fn scan_strict(
    file: &File,
    path: &Path,
    base: u64,
    len: u64,
    floor: u64,
    interval: u64,
) -> Result<StrictScan, StoreError> {
    let mut cur = Cursor::new(file, SEGMENT_HEADER_LEN, len, base);
    let mut entries = Vec::new();
    let mut last_entry: Option<u64> = None;
    let mut first_arrival = None;
    let mut last: Option<FrameMeta> = None;
    let mut last_arrival = floor;
    loop {
        let offset = cur.offset();
        let Some(m) = cur.next_frame().map_err(|e| e.into_store(path))? else {
            break;
        };
        if m.arrival_ms < last_arrival {
            return Err(corrupt(path, offset, "arrival time goes backwards"));
        }
        if last_entry.is_none_or(|l| offset - l >= interval) {
            entries.push(IndexEntry {
                index: m.index,
                arrival_ms: m.arrival_ms,
                offset,
            });
            last_entry = Some(offset);
        }
        first_arrival.get_or_insert(m.arrival_ms);
        last_arrival = m.arrival_ms;
        last = Some(m);
    }
    match (last, first_arrival) {
        (Some(m), Some(first_arrival)) if m.flags & FLAG_APPEND_END != 0 => Ok(StrictScan {
            end: m.index + 1,
            first_arrival,
            last_arrival,
            entries,
        }),
        (Some(_), _) => Err(corrupt(path, len, "sealed segment ends inside an append")),
        _ => Err(corrupt(path, len, "sealed segment holds no records")),
    }
}

/// The newest segment: scanned whole (its sparse index lives in memory), cut back to the
/// end of its last complete append if its tail is torn. Damage followed by a record of a
/// later group commit cannot be a torn write (each commit is fsync'd before the next is
/// written), so that is an error instead.
fn recover_active(
    dir: &Path,
    base: u64,
    prev: Option<&Summary>,
    interval: u64,
) -> Result<ActiveRecovered, StoreError> {
    let path: PathBuf = dir.join(format::segment_file_name(base));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    let mut len = file.metadata().map_err(io_err(&path))?.len();
    let prev_arrival = prev.map_or(0, |p| p.last_arrival);
    if let Some(p) = prev
        && p.end != base
    {
        return Err(corrupt(
            &path,
            0,
            format!(
                "segment starts at index {base} but the one before it ends at {}",
                p.end
            ),
        ));
    }
    let floor = match read_header(&file, &path, base, len) {
        Ok(floor) => floor.max(prev_arrival),
        Err(StoreError::CorruptLog { .. }) if len <= SEGMENT_HEADER_LEN => {
            // Created but never written past its header (a crash during a roll): it holds
            // no records, so writing the header again loses nothing.
            file.write_all_at(&format::encode_segment_header(base, prev_arrival), 0)
                .map_err(io_err(&path))?;
            file.set_len(SEGMENT_HEADER_LEN).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            len = SEGMENT_HEADER_LEN;
            prev_arrival
        }
        Err(e) => return Err(e),
    };

    /// Everything up to the end of the last complete append.
    #[derive(Clone, Copy)]
    struct Kept {
        offset: u64,
        end: u64,
        entries: usize,
        first_arrival: Option<u64>,
        last_arrival: u64,
    }
    let mut kept = Kept {
        offset: SEGMENT_HEADER_LEN,
        end: base,
        entries: 0,
        first_arrival: None,
        last_arrival: floor,
    };
    let mut entries: Vec<IndexEntry> = Vec::new();
    let mut last_entry: Option<u64> = None;
    let mut first_arrival = None;
    let mut last_arrival = floor;
    let mut torn: Option<String> = None;
    let mut cur = Cursor::new(&file, SEGMENT_HEADER_LEN, len, base);
    loop {
        let offset = cur.offset();
        match cur.next_frame() {
            Ok(Some(m)) => {
                if m.arrival_ms < last_arrival {
                    return Err(corrupt(&path, offset, "arrival time goes backwards"));
                }
                if last_entry.is_none_or(|l| offset - l >= interval) {
                    entries.push(IndexEntry {
                        index: m.index,
                        arrival_ms: m.arrival_ms,
                        offset,
                    });
                    last_entry = Some(offset);
                }
                first_arrival.get_or_insert(m.arrival_ms);
                last_arrival = m.arrival_ms;
                if m.flags & FLAG_APPEND_END != 0 {
                    kept = Kept {
                        offset: cur.offset(),
                        end: m.index + 1,
                        entries: entries.len(),
                        first_arrival,
                        last_arrival,
                    };
                }
            }
            Ok(None) => break,
            Err(ScanError::Io(e)) => return Err(io_err(&path)(e)),
            Err(ScanError::Bad { offset, reason }) => {
                if let Some(later) = later_commit(&file, &path, offset, len, cur.expect())? {
                    return Err(corrupt(
                        &path,
                        offset,
                        format!(
                            "{reason}, followed by intact record {later} of a later commit: \
                             damage inside durable data, not a torn write"
                        ),
                    ));
                }
                torn = Some(reason);
                break;
            }
        }
    }
    if kept.offset < len {
        tracing::warn!(
            segment = %path.display(),
            kept_bytes = kept.offset,
            dropped_bytes = len - kept.offset,
            reason = torn.as_deref().unwrap_or("incomplete append"),
            "Truncated the torn tail of a log segment."
        );
        file.set_len(kept.offset).map_err(io_err(&path))?;
        file.sync_all().map_err(io_err(&path))?;
        len = kept.offset;
    }
    entries.truncate(kept.entries);
    Ok(ActiveRecovered {
        base,
        file,
        len,
        end: kept.end,
        first_arrival: kept.first_arrival,
        last_arrival: kept.last_arrival,
        entries,
    })
}

/// After damage at `offset` where index `expect` should be, looks for any intact frame
/// written by a later group commit (its commit started after `expect`). Reads the rest of
/// the segment once and tries every byte position, so a damaged length field does not hide
/// what follows; a cheap range check on the index field comes before each CRC.
fn later_commit(
    file: &File,
    path: &Path,
    offset: u64,
    len: u64,
    expect: u64,
) -> Result<Option<u64>, StoreError> {
    let size =
        usize::try_from(len - offset).map_err(|_| corrupt(path, offset, "segment too large"))?;
    let mut rest = vec![0u8; size];
    file.read_exact_at(&mut rest, offset)
        .map_err(io_err(path))?;
    let min_frame = format::FRAME_PREFIX + format::BODY_HEADER;
    let most = expect.saturating_add((size / min_frame) as u64 + 1);
    let mut p = 1;
    while p + min_frame <= size {
        let index = format::le_u64(&rest, p + 8);
        if (expect..=most).contains(&index)
            && let Parsed::Frame(m) = format::parse_frame(&rest[p..])
        {
            if m.commit_start > expect {
                return Ok(Some(m.index));
            }
            p += m.len;
            continue;
        }
        p += 1;
    }
    Ok(None)
}
