//! Lambda event filtering (`FilterCriteria`): EventBridge event-pattern semantics.
//!
//! This module owns parsing, validating and evaluating the `Pattern` strings of
//! `FilterCriteria.Filters[]`. It is pure: no I/O, no clocks, no global state.
//!
//! Invariants:
//! - A [`FilterPattern`] only exists if its source text was valid; [`FilterPattern::parse`]
//!   compiles the JSON once into a tree of matchers, so [`FilterPattern::matches`]
//!   never looks at pattern JSON again and cannot fail.
//! - Neither parsing nor matching panics on any input. Pattern recursion depth is
//!   bounded by `serde_json`'s nesting limit; arrays inside events are walked
//!   iteratively, so deeply nested event arrays cannot overflow the stack.
//!
//! Semantics (following EventBridge / `aws/event-ruler`):
//! - Keys are ANDed; the values in a matcher array are ORed; `$or` (an array of at
//!   least two sub-patterns, none of which uses an operator name as a key) ORs
//!   whole sub-patterns at any object level. A `$or` value of any other shape is an
//!   ordinary field name, as in event-ruler.
//! - Only *leaves* count: an event field holding a scalar (string, number, boolean
//!   or `null`) has that one leaf; an array field has the scalars found in it (nested
//!   arrays are flattened, objects inside are skipped); an object field or an empty
//!   array has no leaves. A matcher matches a field when it matches any of its leaves.
//! - `{"exists": true}` matches when the field has at least one leaf, **including a
//!   `null` leaf** (`null` is a present value in EventBridge); `{"exists": false}`
//!   matches when it has none (missing, an object, or an empty array).
//! - `null` in a matcher array matches a JSON `null` leaf only, never a missing field.
//! - Numbers compare numerically as `f64` (`5` matches `5.0`); `numeric` matches JSON
//!   numbers only. The EventBridge ±1e9 magnitude limit is not enforced.
//! - `anything-but` matches any present leaf (of any type, including `null`) that is
//!   not excluded; a missing field never matches it.
//! - A nested pattern whose event counterpart is an array matches if any element
//!   matches it as a whole; a missing or non-object counterpart is treated as an
//!   object with every field missing (so only `exists: false` leaves can match).
//! - Validation: the top level must be an object (`{}` is valid and matches
//!   everything); every other value must be a non-empty object (descend) or a
//!   non-empty array of matchers; operator objects have exactly one key; numeric
//!   ranges are `[">"|">=", low, "<"|"<=", high]` with `low < high`; CIDRs need an
//!   explicit `/prefix` (host bits are cleared); wildcards reject `**` and escapes
//!   other than `\*` and `\\`. At most 4096 characters.
//! - If a key appears twice in a pattern object, the last one wins.

use std::net::IpAddr;

use serde_json::{Map, Value};

/// Longest accepted pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 4096;

/// The key that introduces an OR of sub-patterns.
const OR_KEY: &str = "$or";

/// Operator names; an object using one of these as a key is a matcher, not a pattern.
const OPERATORS: [&str; 8] = [
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "wildcard",
];

/// A compiled filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPattern {
    root: ObjectPattern,
}

/// The pattern text was not a valid filter pattern.
///
/// The message is deliberately fixed (it is what callers show to API users);
/// `reason` says what was wrong and is meant for logs only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern definition.")]
pub struct InvalidPattern {
    pub reason: String,
}

fn invalid(reason: impl Into<String>) -> InvalidPattern {
    InvalidPattern {
        reason: reason.into(),
    }
}

impl FilterPattern {
    /// Parses and validates one `Pattern` string as given in `FilterCriteria.Filters[].Pattern`.
    pub fn parse(pattern: &str) -> Result<FilterPattern, InvalidPattern> {
        let chars = pattern.chars().count();
        if chars > MAX_PATTERN_CHARS {
            return Err(invalid(format!(
                "pattern is {chars} characters long; the limit is {MAX_PATTERN_CHARS}"
            )));
        }
        let value: Value = serde_json::from_str(pattern)
            .map_err(|e| invalid(format!("pattern is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(invalid("pattern must be a JSON object"));
        };
        Ok(FilterPattern {
            root: compile_object(&map)?,
        })
    }

    /// True when `event` (a JSON value, the record as the pattern sees it) matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.matches_value(Some(event))
    }
}

/// A set of filters, ORed together. An empty set matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterSet {
    patterns: Vec<FilterPattern>,
}

impl FilterSet {
    /// Parses every pattern; fails on the first invalid one.
    pub fn parse<'a>(
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<FilterSet, InvalidPattern> {
        let patterns = patterns
            .into_iter()
            .map(FilterPattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FilterSet { patterns })
    }

    /// True when the set is empty or any of its patterns matches `event`.
    pub fn matches(&self, event: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(event))
    }

    /// True when the set holds no patterns (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

// ---------------------------------------------------------------------------
// Compiled tree
// ---------------------------------------------------------------------------

/// The conditions of one pattern object, all of which must hold.
#[derive(Debug, Clone, PartialEq)]
struct ObjectPattern {
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// The event field `key` must satisfy `pattern`.
    Field { key: String, pattern: FieldPattern },
    /// At least one of the sub-patterns must hold (`$or`).
    AnyOf(Vec<ObjectPattern>),
}

#[derive(Debug, Clone, PartialEq)]
enum FieldPattern {
    /// Descend into the event field.
    Nested(ObjectPattern),
    /// Any one of these matchers must match the field.
    Leaf(Vec<Matcher>),
}

/// One element of a matcher array.
#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Equals(Literal),
    Prefix(Affix),
    Suffix(Affix),
    /// Holds the case-folded text.
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(NumericRange),
    Cidr(Cidr),
    Exists(bool),
    AnythingBut(Exclusion),
}

/// A scalar given literally in a pattern.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

/// Prefix or suffix text; folded to lower case when `ignore_case`.
#[derive(Debug, Clone, PartialEq)]
struct Affix {
    text: String,
    ignore_case: bool,
}

/// What an `anything-but` matcher excludes.
#[derive(Debug, Clone, PartialEq)]
enum Exclusion {
    Literals(Vec<Literal>),
    Prefix(String),
    Suffix(String),
    /// Case-folded texts.
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<Wildcard>),
}

/// A wildcard pattern split at its unescaped `*`s; always at least one segment.
#[derive(Debug, Clone, PartialEq)]
struct Wildcard {
    segments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct NumericRange {
    lower: Option<Bound>,
    upper: Option<Bound>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bound {
    value: f64,
    inclusive: bool,
}

/// A network: the address with host bits cleared, and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cidr {
    V4 { network: u32, prefix: u32 },
    V6 { network: u128, prefix: u32 },
}

// ---------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------

fn compile_object(map: &Map<String, Value>) -> Result<ObjectPattern, InvalidPattern> {
    let mut conditions = Vec::with_capacity(map.len());
    for (key, value) in map {
        if key == OR_KEY
            && let Some(branches) = or_branches(value)
        {
            let branches = branches
                .into_iter()
                .map(compile_object)
                .collect::<Result<Vec<_>, _>>()?;
            conditions.push(Condition::AnyOf(branches));
            continue;
        }
        let pattern = match value {
            Value::Object(inner) if inner.is_empty() => {
                return Err(invalid(format!("\"{key}\" must not be an empty object")));
            }
            Value::Object(inner) => FieldPattern::Nested(compile_object(inner)?),
            Value::Array(items) if items.is_empty() => {
                return Err(invalid(format!("\"{key}\": empty arrays are not allowed")));
            }
            Value::Array(items) => FieldPattern::Leaf(
                items
                    .iter()
                    .map(compile_matcher)
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => {
                return Err(invalid(format!("\"{key}\" must be an object or an array")));
            }
        };
        conditions.push(Condition::Field {
            key: key.clone(),
            pattern,
        });
    }
    Ok(ObjectPattern { conditions })
}

/// The sub-patterns of a `$or`, if `value` has the shape event-ruler treats as an OR:
/// an array of at least two non-empty objects, none keyed by an operator name.
fn or_branches(value: &Value) -> Option<Vec<&Map<String, Value>>> {
    let Value::Array(items) = value else {
        return None;
    };
    if items.len() < 2 {
        return None;
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(m) if !m.is_empty() && !m.keys().any(|k| is_operator(k)) => Some(m),
            _ => None,
        })
        .collect()
}

fn is_operator(key: &str) -> bool {
    OPERATORS.contains(&key)
}

fn compile_matcher(value: &Value) -> Result<Matcher, InvalidPattern> {
    match value {
        Value::Object(map) => compile_operator(map),
        Value::Array(_) => Err(invalid(
            "match value must be a string, number, true, false, null or an operator object",
        )),
        scalar => Ok(Matcher::Equals(literal(scalar)?)),
    }
}

/// A pattern scalar as a [`Literal`]; arrays and objects are rejected.
fn literal(value: &Value) -> Result<Literal, InvalidPattern> {
    match value {
        Value::Null => Ok(Literal::Null),
        Value::Bool(b) => Ok(Literal::Bool(*b)),
        Value::Number(n) => n
            .as_f64()
            .map(Literal::Number)
            .ok_or_else(|| invalid(format!("number {n} is not representable"))),
        Value::String(s) => Ok(Literal::String(s.clone())),
        Value::Array(_) | Value::Object(_) => Err(invalid("expected a scalar")),
    }
}

fn compile_operator(map: &Map<String, Value>) -> Result<Matcher, InvalidPattern> {
    let mut entries = map.iter();
    let (Some((name, operand)), None) = (entries.next(), entries.next()) else {
        return Err(invalid(
            "a match expression must have exactly one key, the operator",
        ));
    };
    match name.as_str() {
        "prefix" => Ok(Matcher::Prefix(compile_affix(name, operand)?)),
        "suffix" => Ok(Matcher::Suffix(compile_affix(name, operand)?)),
        "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(fold(expect_str(name, operand)?))),
        "wildcard" => Ok(Matcher::Wildcard(Wildcard::parse(expect_str(
            name, operand,
        )?)?)),
        "anything-but" => Ok(Matcher::AnythingBut(compile_exclusion(operand)?)),
        "numeric" => Ok(Matcher::Numeric(NumericRange::parse(operand)?)),
        "exists" => match operand {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err(invalid("exists takes true or false")),
        },
        "cidr" => Ok(Matcher::Cidr(Cidr::parse(expect_str(name, operand)?)?)),
        other => Err(invalid(format!("unrecognized match type \"{other}\""))),
    }
}

fn expect_str<'v>(operator: &str, operand: &'v Value) -> Result<&'v str, InvalidPattern> {
    operand
        .as_str()
        .ok_or_else(|| invalid(format!("{operator} takes a string")))
}

/// `"text"` or `{"equals-ignore-case": "text"}`.
fn compile_affix(operator: &str, operand: &Value) -> Result<Affix, InvalidPattern> {
    match operand {
        Value::String(s) => Ok(Affix {
            text: s.clone(),
            ignore_case: false,
        }),
        Value::Object(inner) => {
            let mut entries = inner.iter();
            match (entries.next(), entries.next()) {
                (Some((k, Value::String(s))), None) if k == "equals-ignore-case" => Ok(Affix {
                    text: fold(s),
                    ignore_case: true,
                }),
                _ => Err(invalid(format!(
                    "{operator} takes a string or {{\"equals-ignore-case\": string}}"
                ))),
            }
        }
        _ => Err(invalid(format!("{operator} takes a string"))),
    }
}

fn compile_exclusion(operand: &Value) -> Result<Exclusion, InvalidPattern> {
    match operand {
        Value::String(_) | Value::Number(_) => Ok(Exclusion::Literals(vec![literal(operand)?])),
        Value::Array(items) => {
            let all_strings = items.iter().all(Value::is_string);
            let all_numbers = items.iter().all(Value::is_number);
            if items.is_empty() || !(all_strings || all_numbers) {
                return Err(invalid(
                    "anything-but list must be non-empty and all strings or all numbers",
                ));
            }
            Ok(Exclusion::Literals(
                items.iter().map(literal).collect::<Result<Vec<_>, _>>()?,
            ))
        }
        Value::Object(inner) => {
            let mut entries = inner.iter();
            let (Some((name, value)), None) = (entries.next(), entries.next()) else {
                return Err(invalid("anything-but object must have exactly one key"));
            };
            match name.as_str() {
                "prefix" => Ok(Exclusion::Prefix(non_empty_str(name, value)?.to_owned())),
                "suffix" => Ok(Exclusion::Suffix(non_empty_str(name, value)?.to_owned())),
                "equals-ignore-case" => Ok(Exclusion::EqualsIgnoreCase(
                    str_or_strs(name, value)?.into_iter().map(fold).collect(),
                )),
                "wildcard" => Ok(Exclusion::Wildcard(
                    str_or_strs(name, value)?
                        .into_iter()
                        .map(Wildcard::parse)
                        .collect::<Result<Vec<_>, _>>()?,
                )),
                other => Err(invalid(format!(
                    "unsupported anything-but pattern \"{other}\""
                ))),
            }
        }
        Value::Null | Value::Bool(_) => Err(invalid(
            "anything-but takes a string, a number, a list of them, or an object",
        )),
    }
}

fn non_empty_str<'v>(operator: &str, value: &'v Value) -> Result<&'v str, InvalidPattern> {
    match value.as_str() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(invalid(format!(
            "anything-but/{operator} takes a non-empty string"
        ))),
    }
}

fn str_or_strs<'v>(operator: &str, value: &'v Value) -> Result<Vec<&'v str>, InvalidPattern> {
    let err = || {
        invalid(format!(
            "anything-but/{operator} takes a string or a non-empty list of strings"
        ))
    };
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|v| v.as_str().ok_or_else(err)).collect()
        }
        _ => Err(err()),
    }
}

/// Case folding used on both sides of every case-insensitive comparison.
fn fold(s: &str) -> String {
    s.to_lowercase()
}

impl Wildcard {
    /// `*` matches any run of characters (including none); `\*` is a literal star and
    /// `\\` a literal backslash. Any other escape, a trailing backslash or two
    /// consecutive unescaped stars are rejected, as in event-ruler.
    fn parse(text: &str) -> Result<Wildcard, InvalidPattern> {
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut previous_was_star = false;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    if previous_was_star {
                        return Err(invalid("wildcard: consecutive '*' are not allowed"));
                    }
                    segments.push(std::mem::take(&mut current));
                    previous_was_star = true;
                    continue;
                }
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '\\')) => current.push(escaped),
                    _ => {
                        return Err(invalid("wildcard: a backslash may only escape '*' or '\\'"));
                    }
                },
                other => current.push(other),
            }
            previous_was_star = false;
        }
        segments.push(current);
        Ok(Wildcard { segments })
    }

    fn matches(&self, s: &str) -> bool {
        let Some((first, rest)) = self.segments.split_first() else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return s == first;
        };
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) {
            return false;
        }
        if !s.ends_with(last.as_str()) {
            return false;
        }
        // Both cut points are char boundaries: `first` is a prefix and `last` a suffix.
        let Some(mut window) = s.get(first.len()..s.len() - last.len()) else {
            return false;
        };
        // Leftmost-first placement of each middle segment is optimal for `*`-only globs.
        for segment in middle {
            let Some(at) = window.find(segment.as_str()) else {
                return false;
            };
            let Some(remaining) = window.get(at + segment.len()..) else {
                return false;
            };
            window = remaining;
        }
        true
    }
}

impl NumericRange {
    /// `[op, n]` with op one of `=`, `<`, `<=`, `>`, `>=`, or
    /// `[">"|">=", low, "<"|"<=", high]` with `low < high`.
    fn parse(operand: &Value) -> Result<NumericRange, InvalidPattern> {
        let Value::Array(items) = operand else {
            return Err(invalid("numeric takes an array"));
        };
        let term = |i: usize| -> Result<(&str, f64), InvalidPattern> {
            let op = items
                .get(i)
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("numeric: expected an operator string"))?;
            let n = items
                .get(i + 1)
                .and_then(Value::as_f64)
                .ok_or_else(|| invalid(format!("numeric: value of {op} must be a number")))?;
            Ok((op, n))
        };
        match items.len() {
            2 => {
                let (op, n) = term(0)?;
                let at = |inclusive| {
                    Some(Bound {
                        value: n,
                        inclusive,
                    })
                };
                let (lower, upper) = match op {
                    "=" => (at(true), at(true)),
                    ">" => (at(false), None),
                    ">=" => (at(true), None),
                    "<" => (None, at(false)),
                    "<=" => (None, at(true)),
                    other => {
                        return Err(invalid(format!(
                            "numeric: unrecognized operator \"{other}\""
                        )));
                    }
                };
                Ok(NumericRange { lower, upper })
            }
            4 => {
                let (low_op, low) = term(0)?;
                let (high_op, high) = term(2)?;
                let lower_inclusive = match low_op {
                    ">" => false,
                    ">=" => true,
                    _ => return Err(invalid("numeric range must start with > or >=")),
                };
                let upper_inclusive = match high_op {
                    "<" => false,
                    "<=" => true,
                    _ => return Err(invalid("numeric range must end with < or <=")),
                };
                if low >= high {
                    return Err(invalid("numeric range: bottom must be less than top"));
                }
                Ok(NumericRange {
                    lower: Some(Bound {
                        value: low,
                        inclusive: lower_inclusive,
                    }),
                    upper: Some(Bound {
                        value: high,
                        inclusive: upper_inclusive,
                    }),
                })
            }
            _ => Err(invalid("numeric takes [op, n] or [op, n, op, n]")),
        }
    }

    fn contains(&self, x: f64) -> bool {
        let above = self.lower.is_none_or(|b| {
            if b.inclusive {
                x >= b.value
            } else {
                x > b.value
            }
        });
        let below = self.upper.is_none_or(|b| {
            if b.inclusive {
                x <= b.value
            } else {
                x < b.value
            }
        });
        above && below
    }
}

impl Cidr {
    /// `address/prefix-length`, IPv4 or IPv6. Host bits set in the address are
    /// cleared (`10.0.0.7/24` means `10.0.0.0/24`).
    fn parse(text: &str) -> Result<Cidr, InvalidPattern> {
        let bad = || invalid(format!("malformed CIDR \"{text}\""));
        let (address, prefix) = text.split_once('/').ok_or_else(bad)?;
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u32 = prefix.parse().map_err(|_| bad())?;
        match address.parse::<IpAddr>().map_err(|_| bad())? {
            IpAddr::V4(v4) if prefix <= 32 => Ok(Cidr::V4 {
                network: u32::from(v4) & mask_u32(prefix),
                prefix,
            }),
            IpAddr::V6(v6) if prefix <= 128 => Ok(Cidr::V6 {
                network: u128::from(v6) & mask_u128(prefix),
                prefix,
            }),
            _ => Err(bad()),
        }
    }

    fn contains(&self, text: &str) -> bool {
        match (self, text.parse::<IpAddr>()) {
            (Cidr::V4 { network, prefix }, Ok(IpAddr::V4(ip))) => {
                u32::from(ip) & mask_u32(*prefix) == *network
            }
            (Cidr::V6 { network, prefix }, Ok(IpAddr::V6(ip))) => {
                u128::from(ip) & mask_u128(*prefix) == *network
            }
            _ => false,
        }
    }
}

fn mask_u32(prefix: u32) -> u32 {
    u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0)
}

fn mask_u128(prefix: u32) -> u128 {
    u128::MAX.checked_shl(128 - prefix.min(128)).unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

impl ObjectPattern {
    /// Matches against the event value at this pattern's position (`None` = missing).
    fn matches_value(&self, value: Option<&Value>) -> bool {
        let mut candidates = Vec::new();
        let mut stack: Vec<&Value> = value.into_iter().collect();
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => candidates.push(Some(map)),
                Value::Array(items) => stack.extend(items.iter().rev()),
                _ => candidates.push(None),
            }
        }
        if candidates.is_empty() {
            // Missing, or an array with no elements at all: every field is missing.
            return self.matches_map(None);
        }
        candidates.into_iter().any(|map| self.matches_map(map))
    }

    fn matches_map(&self, map: Option<&Map<String, Value>>) -> bool {
        self.conditions.iter().all(|condition| match condition {
            Condition::Field { key, pattern } => {
                let field = map.and_then(|m| m.get(key));
                match pattern {
                    FieldPattern::Nested(nested) => nested.matches_value(field),
                    FieldPattern::Leaf(matchers) => {
                        let leaves = leaves(field);
                        matchers.iter().any(|m| m.matches_leaves(&leaves))
                    }
                }
            }
            Condition::AnyOf(branches) => branches.iter().any(|b| b.matches_map(map)),
        })
    }
}

/// The scalar leaves of an event field (see the module doc).
fn leaves(field: Option<&Value>) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = field.into_iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(_) => {}
            Value::Array(items) => stack.extend(items.iter().rev()),
            scalar => out.push(scalar),
        }
    }
    out
}

impl Matcher {
    fn matches_leaves(&self, leaves: &[&Value]) -> bool {
        match self {
            Matcher::Exists(should_exist) => leaves.is_empty() != *should_exist,
            other => leaves.iter().any(|leaf| other.matches_leaf(leaf)),
        }
    }

    fn matches_leaf(&self, leaf: &Value) -> bool {
        match self {
            Matcher::Equals(literal) => literal.matches(leaf),
            Matcher::Prefix(affix) => leaf.as_str().is_some_and(|s| affix.is_prefix_of(s)),
            Matcher::Suffix(affix) => leaf.as_str().is_some_and(|s| affix.is_suffix_of(s)),
            Matcher::EqualsIgnoreCase(text) => leaf.as_str().is_some_and(|s| fold(s) == *text),
            Matcher::Wildcard(w) => leaf.as_str().is_some_and(|s| w.matches(s)),
            Matcher::Numeric(range) => leaf.as_f64().is_some_and(|x| range.contains(x)),
            Matcher::Cidr(cidr) => leaf.as_str().is_some_and(|s| cidr.contains(s)),
            Matcher::Exists(should_exist) => *should_exist,
            Matcher::AnythingBut(exclusion) => !exclusion.excludes(leaf),
        }
    }
}

impl Literal {
    fn matches(&self, leaf: &Value) -> bool {
        match (self, leaf) {
            (Literal::Null, Value::Null) => true,
            (Literal::Bool(a), Value::Bool(b)) => a == b,
            (Literal::Number(a), Value::Number(b)) => b.as_f64() == Some(*a),
            (Literal::String(a), Value::String(b)) => a == b,
            _ => false,
        }
    }
}

impl Affix {
    fn is_prefix_of(&self, s: &str) -> bool {
        if self.ignore_case {
            fold(s).starts_with(self.text.as_str())
        } else {
            s.starts_with(self.text.as_str())
        }
    }

    fn is_suffix_of(&self, s: &str) -> bool {
        if self.ignore_case {
            fold(s).ends_with(self.text.as_str())
        } else {
            s.ends_with(self.text.as_str())
        }
    }
}

impl Exclusion {
    fn excludes(&self, leaf: &Value) -> bool {
        match self {
            Exclusion::Literals(literals) => literals.iter().any(|l| l.matches(leaf)),
            Exclusion::Prefix(p) => leaf.as_str().is_some_and(|s| s.starts_with(p.as_str())),
            Exclusion::Suffix(p) => leaf.as_str().is_some_and(|s| s.ends_with(p.as_str())),
            Exclusion::EqualsIgnoreCase(texts) => {
                leaf.as_str().is_some_and(|s| texts.contains(&fold(s)))
            }
            Exclusion::Wildcard(patterns) => leaf
                .as_str()
                .is_some_and(|s| patterns.iter().any(|w| w.matches(s))),
        }
    }
}

#[cfg(test)]
mod tests;
