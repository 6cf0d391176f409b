//! DynamoDB expressions: condition (also key condition and filter) and update expressions,
//! parsed once per request with the request's ExpressionAttributeNames / Values substituted,
//! then evaluated against items.
//!
//! Supported: comparisons (`= <> < <= > >=`), `BETWEEN`, `IN`, `AND` / `OR` / `NOT`,
//! parentheses, `attribute_exists`, `attribute_not_exists`, `attribute_type`,
//! `begins_with`, `contains`, `size`; document paths with `.` and `[n]`. Updates: `SET`
//! (with `+`, `-`, `if_not_exists`, `list_append`), `REMOVE`, `ADD` (numbers and sets),
//! `DELETE` (sets). All operands of an update read the item as it was before the update.

use std::collections::{BTreeMap, HashSet};

use super::value::{Av, Item, add_numbers};

/// A document path: `a.b[2].c`.
pub type Path = Vec<PathElem>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElem {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(Av),
    Size(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp(Operand, CmpOp, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    Exists(Path),
    NotExists(Path),
    Type(Path, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetOperand {
    Path(Path),
    Value(Av),
    IfNotExists(Path, Box<SetOperand>),
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    One(SetOperand),
    Plus(SetOperand, SetOperand),
    Minus(SetOperand, SetOperand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    Set(Path, SetValue),
    Remove(Path),
    Add(Path, Av),
    Delete(Path, Av),
}

/// The substitutions of one request, and which of them its expressions used (AWS refuses
/// unused ones).
#[derive(Debug, Default)]
pub struct Substitutions {
    names: BTreeMap<String, String>,
    values: BTreeMap<String, Av>,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
}

impl Substitutions {
    pub fn new(names: BTreeMap<String, String>, values: BTreeMap<String, Av>) -> Self {
        Self {
            names,
            values,
            ..Self::default()
        }
    }

    /// AWS's refusal of names or values no expression used.
    pub fn check_unused(&self) -> Result<(), String> {
        let unused = |all: Vec<&String>, used: &HashSet<String>| -> Vec<String> {
            all.into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            ));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            ));
        }
        Ok(())
    }

    fn name(&mut self, n: &str) -> Result<String, String> {
        let v = self.names.get(n).cloned().ok_or_else(|| {
            format!("An expression attribute name used in the document path is not defined; attribute name: {n}")
        })?;
        self.used_names.insert(n.to_owned());
        Ok(v)
    }

    fn value(&mut self, n: &str) -> Result<Av, String> {
        let v = self.values.get(n).cloned().ok_or_else(|| {
            format!("An expression attribute value used in expression is not defined; attribute value: {n}")
        })?;
        self.used_values.insert(n.to_owned());
        Ok(v)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Name(String),
    Value(String),
    Int(usize),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Op(CmpOp),
    Plus,
    Minus,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |i: usize| {
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' | b')' | b'[' | b']' | b',' | b'.' | b'+' | b'-' => {
                out.push(match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b',' => Tok::Comma,
                    b'.' => Tok::Dot,
                    b'+' => Tok::Plus,
                    _ => Tok::Minus,
                });
                i += 1;
            }
            b'=' => {
                out.push(Tok::Op(CmpOp::Eq));
                i += 1;
            }
            b'<' | b'>' => {
                let next = b.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (b'<', Some(b'>')) => (CmpOp::Ne, 2),
                    (b'<', Some(b'=')) => (CmpOp::Le, 2),
                    (b'>', Some(b'=')) => (CmpOp::Ge, 2),
                    (b'<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                out.push(Tok::Op(op));
                i += len;
            }
            b'#' | b':' => {
                let j = word(i + 1);
                if j == i + 1 {
                    return Err(syntax(s, &(c as char).to_string()));
                }
                let t = s[i..j].to_owned();
                out.push(if c == b'#' {
                    Tok::Name(t)
                } else {
                    Tok::Value(t)
                });
                i = j;
            }
            c if c.is_ascii_digit() => {
                let j = word(i);
                let n = s[i..j].parse().map_err(|_| syntax(s, &s[i..j]))?;
                out.push(Tok::Int(n));
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let j = word(i);
                out.push(Tok::Ident(s[i..j].to_owned()));
                i = j;
            }
            _ => {
                let ch = s[i..].chars().next().unwrap_or(' ');
                return Err(format!(
                    "Invalid {{}}Expression: Syntax error; token: \"{ch}\", near: \"{}\"",
                    &s[i..]
                ));
            }
        }
    }
    Ok(out)
}

fn syntax(_expr: &str, token: &str) -> String {
    format!("Invalid {{}}Expression: Syntax error; token: \"{token}\"")
}

const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "between",
    "in",
    "set",
    "remove",
    "add",
    "delete",
    "size",
    "values",
    "key",
    "name",
    "value",
    "data",
    "status",
    "count",
    "date",
    "time",
    "timestamp",
    "year",
    "user",
    "comment",
    "group",
    "order",
    "range",
    "hash",
    "type",
    "table",
    "index",
    "select",
];

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    subs: &'a mut Substitutions,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            Some(x) => Err(format!("Syntax error; token: \"{}\"", show(&x))),
            None => Err("Syntax error; token: <EOF>".into()),
        }
    }

    fn path(&mut self) -> Result<Path, String> {
        let mut path = vec![PathElem::Key(self.path_name()?)];
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    path.push(PathElem::Key(self.path_name()?));
                }
                Some(Tok::LBracket) => {
                    self.pos += 1;
                    let Some(Tok::Int(n)) = self.next() else {
                        return Err("Syntax error; a list index must be a number".into());
                    };
                    self.expect(Tok::RBracket)?;
                    path.push(PathElem::Index(n));
                }
                _ => return Ok(path),
            }
        }
    }

    fn path_name(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Name(n)) => self.subs.name(&n),
            Some(Tok::Ident(w)) => {
                if RESERVED.contains(&w.to_ascii_lowercase().as_str()) {
                    return Err(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {w}"
                    ));
                }
                Ok(w)
            }
            Some(t) => Err(format!("Syntax error; token: \"{}\"", show(&t))),
            None => Err("Syntax error; token: <EOF>".into()),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.peek() {
            Some(Tok::Value(v)) => {
                let v = v.clone();
                self.pos += 1;
                Ok(Operand::Value(self.subs.value(&v)?))
            }
            Some(Tok::Ident(w))
                if w.eq_ignore_ascii_case("size")
                    && self.toks.get(self.pos + 1) == Some(&Tok::LParen) =>
            {
                self.pos += 2;
                let p = self.path()?;
                self.expect(Tok::RParen)?;
                Ok(Operand::Size(p))
            }
            _ => Ok(Operand::Path(self.path()?)),
        }
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.pos += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            self.pos += 1;
            left = Cond::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.keyword("NOT") {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let c = self.or()?;
            self.expect(Tok::RParen)?;
            return Ok(c);
        }
        if let Some(Tok::Ident(f)) = self.peek()
            && self.toks.get(self.pos + 1) == Some(&Tok::LParen)
        {
            let f = f.to_ascii_lowercase();
            let known = [
                "attribute_exists",
                "attribute_not_exists",
                "attribute_type",
                "begins_with",
                "contains",
            ];
            if known.contains(&f.as_str()) {
                self.pos += 2;
                let c = match f.as_str() {
                    "attribute_exists" => Cond::Exists(self.path()?),
                    "attribute_not_exists" => Cond::NotExists(self.path()?),
                    "attribute_type" => {
                        let p = self.path()?;
                        self.expect(Tok::Comma)?;
                        Cond::Type(p, self.operand()?)
                    }
                    "begins_with" => {
                        let a = self.operand()?;
                        self.expect(Tok::Comma)?;
                        Cond::BeginsWith(a, self.operand()?)
                    }
                    _ => {
                        let a = self.operand()?;
                        self.expect(Tok::Comma)?;
                        Cond::Contains(a, self.operand()?)
                    }
                };
                self.expect(Tok::RParen)?;
                return Ok(c);
            }
            if f != "size" {
                return Err(format!("Invalid function name; function: {f}"));
            }
        }
        let left = self.operand()?;
        match self.next() {
            Some(Tok::Op(op)) => Ok(Cond::Cmp(left, op, self.operand()?)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("BETWEEN") => {
                let lo = self.operand()?;
                if !self.keyword("AND") {
                    return Err("Syntax error; BETWEEN needs AND".into());
                }
                self.pos += 1;
                Ok(Cond::Between(left, lo, self.operand()?))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("IN") => {
                self.expect(Tok::LParen)?;
                let mut list = vec![self.operand()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    list.push(self.operand()?);
                }
                self.expect(Tok::RParen)?;
                Ok(Cond::In(left, list))
            }
            Some(t) => Err(format!("Syntax error; token: \"{}\"", show(&t))),
            None => Err("Syntax error; token: <EOF>".into()),
        }
    }

    fn set_operand(&mut self) -> Result<SetOperand, String> {
        if let Some(Tok::Ident(f)) = self.peek()
            && self.toks.get(self.pos + 1) == Some(&Tok::LParen)
        {
            let f = f.to_ascii_lowercase();
            self.pos += 2;
            let r = match f.as_str() {
                "if_not_exists" => {
                    let p = self.path()?;
                    self.expect(Tok::Comma)?;
                    SetOperand::IfNotExists(p, Box::new(self.set_operand()?))
                }
                "list_append" => {
                    let a = self.set_operand()?;
                    self.expect(Tok::Comma)?;
                    SetOperand::ListAppend(Box::new(a), Box::new(self.set_operand()?))
                }
                other => return Err(format!("Invalid function name; function: {other}")),
            };
            self.expect(Tok::RParen)?;
            return Ok(r);
        }
        if let Some(Tok::Value(v)) = self.peek() {
            let v = v.clone();
            self.pos += 1;
            return Ok(SetOperand::Value(self.subs.value(&v)?));
        }
        Ok(SetOperand::Path(self.path()?))
    }

    fn update(&mut self) -> Result<Vec<UpdateAction>, String> {
        let mut actions = Vec::new();
        let mut seen = HashSet::new();
        while let Some(t) = self.next() {
            let Tok::Ident(clause) = &t else {
                return Err(format!("Syntax error; token: \"{}\"", show(&t)));
            };
            let clause = clause.to_ascii_uppercase();
            if !["SET", "REMOVE", "ADD", "DELETE"].contains(&clause.as_str()) {
                return Err(format!("Syntax error; token: \"{clause}\""));
            }
            if !seen.insert(clause.clone()) {
                return Err(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                ));
            }
            loop {
                let path = self.path()?;
                match clause.as_str() {
                    "SET" => {
                        self.expect(Tok::Op(CmpOp::Eq))?;
                        let a = self.set_operand()?;
                        let v = match self.peek() {
                            Some(Tok::Plus) => {
                                self.pos += 1;
                                SetValue::Plus(a, self.set_operand()?)
                            }
                            Some(Tok::Minus) => {
                                self.pos += 1;
                                SetValue::Minus(a, self.set_operand()?)
                            }
                            _ => SetValue::One(a),
                        };
                        actions.push(UpdateAction::Set(path, v));
                    }
                    "REMOVE" => actions.push(UpdateAction::Remove(path)),
                    _ => {
                        let Some(Tok::Value(v)) = self.next() else {
                            return Err(format!("Syntax error; {clause} needs a value"));
                        };
                        let v = self.subs.value(&v)?;
                        actions.push(if clause == "ADD" {
                            UpdateAction::Add(path, v)
                        } else {
                            UpdateAction::Delete(path, v)
                        });
                    }
                }
                if self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        if actions.is_empty() {
            return Err("Syntax error; token: <EOF>".into());
        }
        Ok(actions)
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Name(s) | Tok::Value(s) => s.clone(),
        Tok::Int(n) => n.to_string(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::LBracket => "[".into(),
        Tok::RBracket => "]".into(),
        Tok::Comma => ",".into(),
        Tok::Dot => ".".into(),
        Tok::Plus => "+".into(),
        Tok::Minus => "-".into(),
        Tok::Op(op) => match op {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
        .into(),
    }
}

/// `Invalid <Kind>Expression: <reason>`, AWS's prefix for expression errors.
fn wrap(kind: &str, e: String) -> String {
    if let Some(rest) = e.strip_prefix("Invalid {}Expression: ") {
        format!("Invalid {kind}Expression: {rest}")
    } else {
        format!("Invalid {kind}Expression: {e}")
    }
}

/// Parses a condition, key condition or filter expression (`kind` names it in errors:
/// `Condition`, `KeyCondition`, `Filter`).
pub fn parse_condition(text: &str, kind: &str, subs: &mut Substitutions) -> Result<Cond, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "Invalid {kind}Expression: The expression can not be empty;"
        ));
    }
    let toks = tokenize(text).map_err(|e| wrap(kind, e))?;
    let mut p = Parser { toks, pos: 0, subs };
    let c = p.or().map_err(|e| wrap(kind, e))?;
    if let Some(t) = p.peek() {
        return Err(wrap(kind, format!("Syntax error; token: \"{}\"", show(t))));
    }
    Ok(c)
}

pub fn parse_update(text: &str, subs: &mut Substitutions) -> Result<Vec<UpdateAction>, String> {
    if text.trim().is_empty() {
        return Err("Invalid UpdateExpression: The expression can not be empty;".into());
    }
    let toks = tokenize(text).map_err(|e| wrap("Update", e))?;
    let mut p = Parser { toks, pos: 0, subs };
    p.update().map_err(|e| wrap("Update", e))
}

/// A comma-separated list of paths (ProjectionExpression).
pub fn parse_projection(text: &str, subs: &mut Substitutions) -> Result<Vec<Path>, String> {
    let toks = tokenize(text).map_err(|e| wrap("Projection", e))?;
    let mut p = Parser { toks, pos: 0, subs };
    let mut out = vec![p.path().map_err(|e| wrap("Projection", e))?];
    while p.peek() == Some(&Tok::Comma) {
        p.pos += 1;
        out.push(p.path().map_err(|e| wrap("Projection", e))?);
    }
    if let Some(t) = p.peek() {
        return Err(wrap(
            "Projection",
            format!("Syntax error; token: \"{}\"", show(t)),
        ));
    }
    Ok(out)
}

/// The value at `path` in `item`.
pub fn resolve<'a>(item: &'a Item, path: &[PathElem]) -> Option<&'a Av> {
    let (PathElem::Key(first), rest) = path.split_first()? else {
        return None;
    };
    let mut cur = item.get(first)?;
    for e in rest {
        cur = match (e, cur) {
            (PathElem::Key(k), Av::M(m)) => m.get(k)?,
            (PathElem::Index(i), Av::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn operand_value(item: &Item, o: &Operand) -> Option<Av> {
    match o {
        Operand::Value(v) => Some(v.clone()),
        Operand::Path(p) => resolve(item, p).cloned(),
        Operand::Size(p) => {
            let n = match resolve(item, p)? {
                Av::S(s) => s.chars().count(),
                Av::B(b) => b.len() * 3 / 4,
                Av::Ss(v) | Av::Ns(v) | Av::Bs(v) => v.len(),
                Av::M(m) => m.len(),
                Av::L(l) => l.len(),
                _ => return None,
            };
            Some(Av::N(n.to_string()))
        }
    }
}

/// Whether `item` (absent: an empty item) satisfies `cond`.
pub fn eval(cond: &Cond, item: &Item) -> bool {
    use std::cmp::Ordering::*;
    match cond {
        Cond::Cmp(a, op, b) => {
            let (x, y) = (operand_value(item, a), operand_value(item, b));
            match op {
                CmpOp::Eq => x.is_some() && x == y,
                CmpOp::Ne => x != y,
                _ => {
                    let (Some(x), Some(y)) = (x, y) else {
                        return false;
                    };
                    match (x.compare(&y), op) {
                        (Some(o), CmpOp::Lt) => o == Less,
                        (Some(o), CmpOp::Le) => o != Greater,
                        (Some(o), CmpOp::Gt) => o == Greater,
                        (Some(o), CmpOp::Ge) => o != Less,
                        _ => false,
                    }
                }
            }
        }
        Cond::Between(a, lo, hi) => {
            let (Some(x), Some(l), Some(h)) = (
                operand_value(item, a),
                operand_value(item, lo),
                operand_value(item, hi),
            ) else {
                return false;
            };
            matches!(x.compare(&l), Some(Greater | Equal))
                && matches!(x.compare(&h), Some(Less | Equal))
        }
        Cond::In(a, list) => {
            let Some(x) = operand_value(item, a) else {
                return false;
            };
            list.iter()
                .any(|o| operand_value(item, o).as_ref() == Some(&x))
        }
        Cond::Exists(p) => resolve(item, p).is_some(),
        Cond::NotExists(p) => resolve(item, p).is_none(),
        Cond::Type(p, t) => match (resolve(item, p), operand_value(item, t)) {
            (Some(v), Some(Av::S(t))) => v.type_name() == t,
            _ => false,
        },
        Cond::BeginsWith(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(Av::S(x)), Some(Av::S(y))) | (Some(Av::B(x)), Some(Av::B(y))) => {
                x.starts_with(&y)
            }
            _ => false,
        },
        Cond::Contains(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(Av::S(x)), Some(Av::S(y))) => x.contains(&y),
            (Some(Av::Ss(x)), Some(Av::S(y))) | (Some(Av::Bs(x)), Some(Av::B(y))) => x.contains(&y),
            (Some(Av::Ns(x)), Some(Av::N(y))) => x.contains(&y),
            (Some(Av::L(x)), Some(y)) => x.contains(&y),
            _ => false,
        },
        Cond::And(a, b) => eval(a, item) && eval(b, item),
        Cond::Or(a, b) => eval(a, item) || eval(b, item),
        Cond::Not(a) => !eval(a, item),
    }
}

fn set_operand_value(item: &Item, o: &SetOperand) -> Result<Av, String> {
    match o {
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::Path(p) => resolve(item, p).cloned().ok_or_else(|| {
            "The provided expression refers to an attribute that does not exist in the item"
                .to_owned()
        }),
        SetOperand::IfNotExists(p, d) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => set_operand_value(item, d),
        },
        SetOperand::ListAppend(a, b) => {
            match (set_operand_value(item, a)?, set_operand_value(item, b)?) {
                (Av::L(mut x), Av::L(y)) => {
                    x.extend(y);
                    Ok(Av::L(x))
                }
                _ => Err("An operand in the update expression has an incorrect data type".into()),
            }
        }
    }
}

/// Applies `actions` to `old`, returning the new item; the error is AWS's
/// ValidationException text. Operands read `old`.
pub fn apply_update(old: &Item, actions: &[UpdateAction]) -> Result<Item, String> {
    let mut new = old.clone();
    let type_error = || "An operand in the update expression has an incorrect data type".to_owned();
    for a in actions {
        match a {
            UpdateAction::Set(path, v) => {
                let value = match v {
                    SetValue::One(o) => set_operand_value(old, o)?,
                    SetValue::Plus(x, y) | SetValue::Minus(x, y) => {
                        match (set_operand_value(old, x)?, set_operand_value(old, y)?) {
                            (Av::N(x), Av::N(y)) => {
                                Av::N(add_numbers(&x, &y, matches!(v, SetValue::Minus(..)))?)
                            }
                            _ => return Err(type_error()),
                        }
                    }
                };
                put_path(&mut new, path, value)?;
            }
            UpdateAction::Remove(path) => remove_path(&mut new, path),
            UpdateAction::Add(path, v) => {
                let current = resolve(old, path).cloned();
                let value = match (current, v) {
                    (None, v @ (Av::N(_) | Av::Ss(_) | Av::Ns(_) | Av::Bs(_))) => v.clone(),
                    (Some(Av::N(x)), Av::N(y)) => Av::N(add_numbers(&x, y, false)?),
                    (Some(Av::Ss(x)), Av::Ss(y)) => Av::Ss(union(x, y)),
                    (Some(Av::Bs(x)), Av::Bs(y)) => Av::Bs(union(x, y)),
                    (Some(Av::Ns(x)), Av::Ns(y)) => {
                        let mut u = union(x, y);
                        u.sort_by(|a, b| super::value::cmp_numbers(a, b));
                        Av::Ns(u)
                    }
                    _ => return Err(type_error()),
                };
                put_path(&mut new, path, value)?;
            }
            UpdateAction::Delete(path, v) => {
                let current = resolve(old, path).cloned();
                let remaining = match (current, v) {
                    (None, _) => continue,
                    (Some(Av::Ss(x)), Av::Ss(y)) => minus(x, y).map(Av::Ss),
                    (Some(Av::Ns(x)), Av::Ns(y)) => minus(x, y).map(Av::Ns),
                    (Some(Av::Bs(x)), Av::Bs(y)) => minus(x, y).map(Av::Bs),
                    _ => return Err(type_error()),
                };
                match remaining {
                    Some(r) => put_path(&mut new, path, r)?,
                    None => remove_path(&mut new, path),
                }
            }
        }
    }
    Ok(new)
}

fn union(mut x: Vec<String>, y: &[String]) -> Vec<String> {
    for v in y {
        if !x.contains(v) {
            x.push(v.clone());
        }
    }
    x.sort();
    x
}

fn minus(x: Vec<String>, y: &[String]) -> Option<Vec<String>> {
    let r: Vec<String> = x.into_iter().filter(|v| !y.contains(v)).collect();
    (!r.is_empty()).then_some(r)
}

fn invalid_path() -> String {
    "The document path provided in the update expression is invalid for update".into()
}

fn put_path(item: &mut Item, path: &[PathElem], value: Av) -> Result<(), String> {
    let Some((PathElem::Key(first), rest)) = path.split_first() else {
        return Err(invalid_path());
    };
    if rest.is_empty() {
        item.insert(first.clone(), value);
        return Ok(());
    }
    let mut cur = item.get_mut(first).ok_or_else(invalid_path)?;
    for (i, e) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        match (e, cur) {
            (PathElem::Key(k), Av::M(m)) => {
                if last {
                    m.insert(k.clone(), value);
                    return Ok(());
                }
                cur = m.get_mut(k).ok_or_else(invalid_path)?;
            }
            (PathElem::Index(n), Av::L(l)) => {
                if last {
                    if *n < l.len() {
                        l[*n] = value;
                    } else {
                        l.push(value);
                    }
                    return Ok(());
                }
                cur = l.get_mut(*n).ok_or_else(invalid_path)?;
            }
            _ => return Err(invalid_path()),
        }
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &[PathElem]) {
    let Some((PathElem::Key(first), rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        item.remove(first);
        return;
    }
    let Some(mut cur) = item.get_mut(first) else {
        return;
    };
    for (i, e) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        match (e, cur) {
            (PathElem::Key(k), Av::M(m)) => {
                if last {
                    m.remove(k);
                    return;
                }
                let Some(next) = m.get_mut(k) else { return };
                cur = next;
            }
            (PathElem::Index(n), Av::L(l)) => {
                if last {
                    if *n < l.len() {
                        l.remove(*n);
                    }
                    return;
                }
                let Some(next) = l.get_mut(*n) else { return };
                cur = next;
            }
            _ => return,
        }
    }
}

/// The top-level attribute an update path writes (key attributes may not be updated).
pub fn top_name(path: &[PathElem]) -> Option<&str> {
    match path.first() {
        Some(PathElem::Key(k)) => Some(k),
        _ => None,
    }
}

/// Keeps only the projected paths of `item` (top-level attribute or nested values).
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for p in paths {
        if let (Some(PathElem::Key(k)), Some(v)) = (p.first(), resolve(item, p)) {
            if p.len() == 1 {
                out.insert(k.clone(), v.clone());
            } else {
                // Nested projections return the enclosing top-level attribute, trimmed only
                // at the top level (a simplification).
                if let Some(top) = item.get(k) {
                    out.insert(k.clone(), top.clone());
                }
            }
        }
    }
    out
}
