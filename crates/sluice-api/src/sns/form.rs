//! A query-protocol form with SNS's flattening: `Prefix.N.member` groups in index order.

use std::collections::BTreeMap;

use super::Fail;

/// One structure's members, by name.
pub type Fields = BTreeMap<String, String>;

#[derive(Debug)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

/// Groups `prefix.N.rest = value` pairs by N (in numeric order): one map of rest → value
/// per index. `prefix.N = value` is kept under the empty rest.
fn group<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    prefix: &str,
) -> Vec<BTreeMap<String, String>> {
    let mut by_index: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    let head = format!("{prefix}.");
    for (k, v) in pairs {
        let Some(tail) = k.strip_prefix(&head) else {
            continue;
        };
        let (index, rest) = tail.split_once('.').unwrap_or((tail, ""));
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        by_index
            .entry(index)
            .or_default()
            .insert(rest.to_owned(), v.to_owned());
    }
    by_index.into_values().collect()
}

impl Form {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, key: &str) -> Result<&str, Fail> {
        self.get(key).ok_or_else(|| Fail::missing(key))
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A map flattened as `prefix.N.key` / `prefix.N.value`.
    pub fn entries(&self, prefix: &str, key: &str, value: &str) -> BTreeMap<String, String> {
        group(self.iter(), prefix)
            .into_iter()
            .filter_map(|m| {
                Some((
                    m.get(key)?.clone(),
                    m.get(value).cloned().unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// A list of strings flattened as `prefix.N`.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        group(self.iter(), prefix)
            .into_iter()
            .filter_map(|m| m.get("").cloned())
            .collect()
    }

    /// A list of structures flattened as `prefix.N.Member`.
    pub fn members(&self, prefix: &str) -> Vec<BTreeMap<String, String>> {
        group(self.iter(), prefix)
    }

    /// The top-level members (keys without a dot).
    pub fn scalars(&self, _prefix: &str) -> BTreeMap<String, String> {
        self.iter()
            .filter(|(k, _)| !k.contains('.'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// PublishBatch entries: each entry's scalar members and its message attributes.
    pub fn members_nested(&self, prefix: &str) -> Vec<(Fields, Vec<Fields>)> {
        group(self.iter(), prefix)
            .into_iter()
            .map(|m| {
                let scalars = m
                    .iter()
                    .filter(|(k, _)| !k.contains('.'))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let attrs = group(
                    m.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    "MessageAttributes.entry",
                );
                (scalars, attrs)
            })
            .collect()
    }
}
