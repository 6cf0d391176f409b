//! Shard layouts: hash-key ranges, the initial layout of a stream, SplitShard, MergeShards
//! and UpdateShardCount (UNIFORM_SCALING).

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// The hash key of a record: the MD5 of its partition key as a 128-bit big-endian number,
/// unless an `ExplicitHashKey` is given.
pub fn hash_key_of(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// An inclusive range of hash keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashRange {
    pub start: u128,
    pub end: u128,
}

impl HashRange {
    pub const ALL: HashRange = HashRange {
        start: 0,
        end: u128::MAX,
    };

    pub fn contains(&self, key: u128) -> bool {
        self.start <= key && key <= self.end
    }

    /// `n` ranges of (nearly) equal width covering `self`, in order; the last takes the
    /// remainder. `n` must be at least 1 and at most the range's width.
    pub fn divide(&self, n: u32) -> Vec<HashRange> {
        if n <= 1 {
            return vec![*self];
        }
        let n = u128::from(n);
        let span = self.end - self.start; // width - 1, never overflows
        let width = span / n + u128::from(span % n == n - 1);
        let mut out = Vec::new();
        let mut start = self.start;
        for i in 0..n {
            let end = if i == n - 1 {
                self.end
            } else {
                start + width - 1
            };
            out.push(HashRange { start, end });
            start = end.wrapping_add(1);
        }
        out
    }
}

/// One shard, as DescribeStream shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    /// Position in the stream's shard list; the `N` of `shardId-00000000000N`.
    pub ordinal: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    /// Further parents after an UpdateShardCount whose new range spans more than two old
    /// shards. DescribeStream shows two parents, as AWS does; the stream engine waits for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_parents: Vec<u32>,
    pub range: HashRange,
    /// True once split, merged or resharded away: no more records are accepted.
    pub closed: bool,
    /// When the shard opened and closed (epoch ms), for ListShards' time filters.
    #[serde(default)]
    pub opened_ms: u64,
    #[serde(default)]
    pub closed_ms: Option<u64>,
}

impl ShardSpec {
    pub fn id(&self) -> String {
        shard_id(self.ordinal)
    }

    /// True when the shard was open at `ms`.
    pub fn open_at(&self, ms: u64) -> bool {
        self.opened_ms <= ms && self.closed_ms.is_none_or(|c| c > ms)
    }

    /// Every shard whose records come before this one's.
    pub fn parents(&self) -> impl Iterator<Item = u32> + '_ {
        self.parent
            .into_iter()
            .chain(self.adjacent_parent)
            .chain(self.other_parents.iter().copied())
    }
}

/// `shardId-000000000007`.
pub fn shard_id(ordinal: u32) -> String {
    format!("shardId-{ordinal:012}")
}

/// Parses `shardId-000000000007` (any number of digits).
pub fn parse_shard_id(s: &str) -> Option<u32> {
    let digits = s.strip_prefix("shardId-")?;
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Why a resharding request is refused (ResourceNotFound for `NoShard`, InvalidArgument for
/// the rest), with AWS's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reshard {
    #[error("{0}")]
    NoShard(String),
    #[error("{0}")]
    Closed(String),
    #[error("{0}")]
    BadSplitKey(String),
    #[error("{0}")]
    NotAdjacent(String),
}

/// All shards of a stream, open and closed, in ordinal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLayout {
    pub shards: Vec<ShardSpec>,
}

impl ShardLayout {
    /// `n` open shards splitting the hash space evenly, as CreateStream makes them.
    pub fn initial(n: u32, now_ms: u64) -> Self {
        Self {
            shards: HashRange::ALL
                .divide(n)
                .into_iter()
                .enumerate()
                .map(|(i, range)| ShardSpec {
                    ordinal: u32::try_from(i).unwrap_or(u32::MAX),
                    parent: None,
                    adjacent_parent: None,
                    other_parents: Vec::new(),
                    range,
                    closed: false,
                    opened_ms: now_ms,
                    closed_ms: None,
                })
                .collect(),
        }
    }

    pub fn get(&self, ordinal: u32) -> Option<&ShardSpec> {
        self.shards.iter().find(|s| s.ordinal == ordinal)
    }

    pub fn open(&self) -> impl Iterator<Item = &ShardSpec> {
        self.shards.iter().filter(|s| !s.closed)
    }

    pub fn open_count(&self) -> u32 {
        u32::try_from(self.open().count()).unwrap_or(u32::MAX)
    }

    /// The open shard whose range holds `key`.
    pub fn route(&self, key: u128) -> Option<&ShardSpec> {
        self.open().find(|s| s.range.contains(key))
    }

    /// Children of a shard (closed shards have one after a merge, two after a split).
    pub fn children(&self, ordinal: u32) -> Vec<&ShardSpec> {
        self.shards
            .iter()
            .filter(|s| s.parents().any(|p| p == ordinal))
            .collect()
    }

    fn next_ordinal(&self) -> u32 {
        self.shards.iter().map(|s| s.ordinal + 1).max().unwrap_or(0)
    }

    fn open_shard(&self, id: &str, stream: &str, account: &str) -> Result<u32, Reshard> {
        let ordinal = parse_shard_id(id)
            .filter(|o| self.get(*o).is_some())
            .ok_or_else(|| {
                Reshard::NoShard(format!(
                    "Could not find shard {id} in stream {stream} under account {account}."
                ))
            })?;
        if self.get(ordinal).is_some_and(|s| s.closed) {
            return Err(Reshard::Closed(format!(
                "Shard {id} in stream {stream} under account {account} has already been merged or split, and thus is not eligible for merging or splitting."
            )));
        }
        Ok(ordinal)
    }

    /// SplitShard: closes `shard` and opens two children split at `new_start`.
    pub fn split(
        &mut self,
        shard: &str,
        new_start: u128,
        stream: &str,
        account: &str,
        now_ms: u64,
    ) -> Result<[u32; 2], Reshard> {
        let ordinal = self.open_shard(shard, stream, account)?;
        let range = self.get(ordinal).map(|s| s.range).unwrap_or(HashRange::ALL);
        // AWS: start + 1 <= NewStartingHashKey < end.
        if new_start < range.start.saturating_add(1) || new_start >= range.end {
            return Err(Reshard::BadSplitKey(format!(
                "NewStartingHashKey {new_start} used in SplitShard() on shard {shard} in stream {stream} under account {account} is not both greater than one plus the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
                range.start, range.end
            )));
        }
        let first = self.next_ordinal();
        for s in &mut self.shards {
            if s.ordinal == ordinal {
                s.closed = true;
                s.closed_ms = Some(now_ms);
            }
        }
        self.shards.push(ShardSpec {
            ordinal: first,
            parent: Some(ordinal),
            adjacent_parent: None,
            other_parents: Vec::new(),
            range: HashRange {
                start: range.start,
                end: new_start - 1,
            },
            closed: false,
            opened_ms: now_ms,
            closed_ms: None,
        });
        self.shards.push(ShardSpec {
            ordinal: first + 1,
            parent: Some(ordinal),
            adjacent_parent: None,
            other_parents: Vec::new(),
            range: HashRange {
                start: new_start,
                end: range.end,
            },
            closed: false,
            opened_ms: now_ms,
            closed_ms: None,
        });
        Ok([first, first + 1])
    }

    /// MergeShards: closes two adjacent open shards and opens their child.
    pub fn merge(
        &mut self,
        shard: &str,
        adjacent: &str,
        stream: &str,
        account: &str,
        now_ms: u64,
    ) -> Result<u32, Reshard> {
        let a = self.open_shard(shard, stream, account)?;
        let b = self.open_shard(adjacent, stream, account)?;
        let (ra, rb) = match (self.get(a), self.get(b)) {
            (Some(x), Some(y)) => (x.range, y.range),
            _ => {
                return Err(Reshard::NoShard(format!(
                    "Could not find shard {shard} in stream {stream} under account {account}."
                )));
            }
        };
        let adjacent_ok =
            ra.end.checked_add(1) == Some(rb.start) || rb.end.checked_add(1) == Some(ra.start);
        if !adjacent_ok {
            return Err(Reshard::NotAdjacent(format!(
                "Shards {shard} and {adjacent} in stream {stream} under account {account} are not an adjacent pair of shards eligible for merging"
            )));
        }
        let child = self.next_ordinal();
        for s in &mut self.shards {
            if s.ordinal == a || s.ordinal == b {
                s.closed = true;
                s.closed_ms = Some(now_ms);
            }
        }
        self.shards.push(ShardSpec {
            ordinal: child,
            parent: Some(a),
            adjacent_parent: Some(b),
            other_parents: Vec::new(),
            range: HashRange {
                start: ra.start.min(rb.start),
                end: ra.end.max(rb.end),
            },
            closed: false,
            opened_ms: now_ms,
            closed_ms: None,
        });
        Ok(child)
    }

    /// UpdateShardCount with UNIFORM_SCALING: closes every open shard and opens `target`
    /// evenly sized children, each the child of the old shard that held its start (and, when
    /// its range spans two old shards, the adjacent parent of the other).
    pub fn rescale(&mut self, target: u32, now_ms: u64) -> Vec<u32> {
        let old: Vec<ShardSpec> = self.open().cloned().collect();
        let mut next = self.next_ordinal();
        for s in self.shards.iter_mut().filter(|s| !s.closed) {
            s.closed = true;
            s.closed_ms = Some(now_ms);
        }
        let mut created = Vec::new();
        for range in HashRange::ALL.divide(target) {
            let holders: Vec<u32> = old
                .iter()
                .filter(|o| o.range.start <= range.end && range.start <= o.range.end)
                .map(|o| o.ordinal)
                .collect();
            self.shards.push(ShardSpec {
                ordinal: next,
                parent: holders.first().copied(),
                adjacent_parent: holders.get(1).copied(),
                other_parents: holders.iter().skip(2).copied().collect(),
                range,
                closed: false,
                opened_ms: now_ms,
                closed_ms: None,
            });
            created.push(next);
            next += 1;
        }
        created
    }
}
