//! DynamoDB attribute values (`{"S": "x"}`, `{"N": "1"}`, …), parsed once from the wire.
//!
//! Numbers are kept normalized (`"01.50"` is stored as `"1.5"`), and sets sorted, so two
//! equal values compare equal with `==` and a key has one storage encoding. Number
//! arithmetic is exact for up to 38 significant digits within i128 (AWS's precision);
//! beyond that it is refused with a ValidationException rather than rounded.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Av {
    S(String),
    /// Normalized decimal text.
    N(String),
    /// Base64 text as sent.
    B(String),
    Ss(Vec<String>),
    Ns(Vec<String>),
    Bs(Vec<String>),
    M(BTreeMap<String, Av>),
    L(Vec<Av>),
    Null,
    Bool(bool),
}

/// An item: attribute name to value.
pub type Item = BTreeMap<String, Av>;

impl Av {
    /// Parses DynamoDB JSON; the error is AWS's ValidationException text.
    pub fn from_json(v: &Value) -> Result<Av, String> {
        let Value::Object(map) = v else {
            return Err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into());
        };
        let mut entries = map.iter().filter(|(_, v)| !v.is_null());
        let (Some((ty, inner)), None) = (entries.next(), entries.next()) else {
            return Err(if map.is_empty() {
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into()
            } else {
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes".into()
            });
        };
        let string = |v: &Value| -> Result<String, String> {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("Invalid attribute value type for {ty}"))
        };
        let strings = |v: &Value| -> Result<Vec<String>, String> {
            let Value::Array(a) = v else {
                return Err(format!("Invalid attribute value type for {ty}"));
            };
            a.iter().map(string).collect()
        };
        Ok(match ty.as_str() {
            "S" => Av::S(string(inner)?),
            "N" => Av::N(normalize_number(&string(inner)?)?),
            "B" => Av::B(string(inner)?),
            "BOOL" => Av::Bool(
                inner
                    .as_bool()
                    .ok_or_else(|| "Invalid attribute value type for BOOL".to_owned())?,
            ),
            "NULL" => {
                if inner.as_bool() != Some(true) {
                    return Err("One or more parameter values were invalid: Null attribute value types must have the value of true".into());
                }
                Av::Null
            }
            "SS" | "BS" => {
                let mut v = strings(inner)?;
                if v.is_empty() {
                    return Err("One or more parameter values were invalid: An string set  may not be empty".into());
                }
                set_of(&mut v, |a, b| a.cmp(b))?;
                if ty == "SS" { Av::Ss(v) } else { Av::Bs(v) }
            }
            "NS" => {
                let mut v = strings(inner)?
                    .iter()
                    .map(|n| normalize_number(n))
                    .collect::<Result<Vec<_>, _>>()?;
                if v.is_empty() {
                    return Err("One or more parameter values were invalid: An number set  may not be empty".into());
                }
                set_of(&mut v, |a, b| cmp_numbers(a, b))?;
                Av::Ns(v)
            }
            "M" => {
                let Value::Object(m) = inner else {
                    return Err("Invalid attribute value type for M".into());
                };
                Av::M(
                    m.iter()
                        .map(|(k, v)| Ok((k.clone(), Av::from_json(v)?)))
                        .collect::<Result<_, String>>()?,
                )
            }
            "L" => {
                let Value::Array(a) = inner else {
                    return Err("Invalid attribute value type for L".into());
                };
                Av::L(a.iter().map(Av::from_json).collect::<Result<_, _>>()?)
            }
            other => return Err(format!("Unknown attribute value type {other}")),
        })
    }

    pub fn to_json(&self) -> Value {
        let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let (k, v) = match self {
            Av::S(s) => ("S", Value::String(s.clone())),
            Av::N(n) => ("N", Value::String(n.clone())),
            Av::B(b) => ("B", Value::String(b.clone())),
            Av::Ss(v) => ("SS", strings(v)),
            Av::Ns(v) => ("NS", strings(v)),
            Av::Bs(v) => ("BS", strings(v)),
            Av::M(m) => ("M", item_to_json(m)),
            Av::L(l) => ("L", Value::Array(l.iter().map(Av::to_json).collect())),
            Av::Null => ("NULL", Value::Bool(true)),
            Av::Bool(b) => ("BOOL", Value::Bool(*b)),
        };
        let mut map = Map::new();
        map.insert(k.into(), v);
        Value::Object(map)
    }

    /// The type descriptor (`S`, `N`, …), as attribute_type and error texts name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Av::S(_) => "S",
            Av::N(_) => "N",
            Av::B(_) => "B",
            Av::Ss(_) => "SS",
            Av::Ns(_) => "NS",
            Av::Bs(_) => "BS",
            Av::M(_) => "M",
            Av::L(_) => "L",
            Av::Null => "NULL",
            Av::Bool(_) => "BOOL",
        }
    }

    /// Approximate stored size in bytes (AWS's item-size rules, simplified).
    pub fn size(&self) -> usize {
        match self {
            Av::S(s) | Av::B(s) => s.len(),
            Av::N(n) => n.len().div_ceil(2) + 1,
            Av::Ss(v) | Av::Bs(v) | Av::Ns(v) => v.iter().map(String::len).sum(),
            Av::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            Av::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            Av::Null | Av::Bool(_) => 1,
        }
    }

    /// Ordering for `<`, `<=`, `>`, `>=`, BETWEEN and sort keys: only between two values of
    /// the same scalar type (S, N, B); `None` otherwise.
    pub fn compare(&self, other: &Av) -> Option<Ordering> {
        match (self, other) {
            (Av::S(a), Av::S(b)) | (Av::B(a), Av::B(b)) => Some(a.cmp(b)),
            (Av::N(a), Av::N(b)) => Some(cmp_numbers(a, b)),
            _ => None,
        }
    }
}

fn set_of(v: &mut Vec<String>, cmp: impl Fn(&String, &String) -> Ordering) -> Result<(), String> {
    v.sort_by(&cmp);
    if v.windows(2).any(|w| cmp(&w[0], &w[1]) == Ordering::Equal) {
        return Err(format!("Input collection {v:?} contains duplicates."));
    }
    Ok(())
}

pub fn item_from_json(v: &Value) -> Result<Item, String> {
    let Value::Object(map) = v else {
        return Err("Item must be a map of attribute names to values".into());
    };
    map.iter()
        .map(|(k, v)| Ok((k.clone(), Av::from_json(v)?)))
        .collect()
}

pub fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// Item size as DynamoDB counts it, roughly: names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// A decimal as sign, significant digits (no leading or trailing zeros) and the exponent of
/// the last digit: value = ±digits × 10^exp. Zero has no digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: String,
    exp: i64,
}

impl Decimal {
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all = format!("{int}{frac}");
        let mut exp = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
        let trimmed = all.trim_start_matches('0');
        let without_trailing = trimmed.trim_end_matches('0');
        exp = exp.checked_add(i64::try_from(trimmed.len() - without_trailing.len()).ok()?)?;
        let digits = without_trailing.to_owned();
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exp: 0,
            });
        }
        Some(Decimal {
            negative,
            digits,
            exp,
        })
    }

    /// Plain decimal text without exponent (`1.5`, `-20`, `0.001`).
    pub fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".into();
        }
        let sign = if self.negative { "-" } else { "" };
        let n = self.digits.len() as i64;
        if self.exp >= 0 {
            let zeros = "0".repeat(usize::try_from(self.exp).unwrap_or(0));
            format!("{sign}{}{zeros}", self.digits)
        } else if -self.exp < n {
            let split = usize::try_from(n + self.exp).unwrap_or(0);
            format!("{sign}{}.{}", &self.digits[..split], &self.digits[split..])
        } else {
            let zeros = "0".repeat(usize::try_from(-self.exp - n).unwrap_or(0));
            format!("{sign}0.{zeros}{}", self.digits)
        }
    }

    /// Magnitude order: the exponent of the most significant digit.
    fn top(&self) -> i64 {
        self.exp + self.digits.len() as i64
    }

    fn cmp_abs(&self, other: &Decimal) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        self.top()
            .cmp(&other.top())
            .then_with(|| self.digits.cmp(&other.digits))
    }

    fn cmp(&self, other: &Decimal) -> Ordering {
        let sign = |d: &Decimal| {
            if d.digits.is_empty() {
                0
            } else if d.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if sign(self) < 0 => other.cmp_abs(self),
            Ordering::Equal => self.cmp_abs(other),
            o => o,
        }
    }

    /// `(mantissa, exp)` when the digits fit an i128.
    fn scaled(&self) -> Option<(i128, i64)> {
        let m: i128 = if self.digits.is_empty() {
            0
        } else {
            self.digits.parse().ok()?
        };
        Some((if self.negative { -m } else { m }, self.exp))
    }

    /// Exact sum; `None` past i128 or 38 significant digits.
    pub fn add(&self, other: &Decimal) -> Option<Decimal> {
        let (a, ea) = self.scaled()?;
        let (b, eb) = other.scaled()?;
        let e = ea.min(eb);
        let shift = |m: i128, from: i64| -> Option<i128> {
            let k = u32::try_from(from - e).ok()?;
            m.checked_mul(10i128.checked_pow(k)?)
        };
        let sum = shift(a, ea)?.checked_add(shift(b, eb)?)?;
        let text = format!("{sum}e{e}");
        let d = Decimal::parse(&text)?;
        (d.digits.len() <= 38).then_some(d)
    }

    pub fn negate(&self) -> Decimal {
        Decimal {
            negative: !self.negative && !self.digits.is_empty(),
            ..self.clone()
        }
    }
}

/// AWS's normalized text of a number, or its ValidationException text.
pub fn normalize_number(text: &str) -> Result<String, String> {
    let d = Decimal::parse(text)
        .ok_or_else(|| "A value provided cannot be converted into a number".to_owned())?;
    if d.digits.len() > 38 {
        return Err("Attempting to store more than 38 significant digits in a Number".into());
    }
    if !d.digits.is_empty() && (d.top() > 126 || d.top() < -129) {
        return Err("Number overflow. Attempting to store a number with magnitude larger than supported range".into());
    }
    Ok(d.to_text())
}

/// Numeric order of two number texts (unparseable text sorts as zero).
pub fn cmp_numbers(a: &str, b: &str) -> Ordering {
    let zero = || Decimal {
        negative: false,
        digits: String::new(),
        exp: 0,
    };
    Decimal::parse(a)
        .unwrap_or_else(zero)
        .cmp(&Decimal::parse(b).unwrap_or_else(zero))
}

/// `a + b` (or `a - b`) of two number texts; the error is AWS's text.
pub fn add_numbers(a: &str, b: &str, subtract: bool) -> Result<String, String> {
    let overflow = || {
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
            .to_owned()
    };
    let x = Decimal::parse(a).ok_or_else(overflow)?;
    let mut y = Decimal::parse(b).ok_or_else(overflow)?;
    if subtract {
        y = y.negate();
    }
    x.add(&y).map(|d| d.to_text()).ok_or_else(overflow)
}
