//! Model constraint checks with AWS's texts (the "Coral" validation framework every AWS
//! JSON service answers with): `Value 'x' at 'member' failed to satisfy constraint: ...`,
//! collected in member order and framed as `N validation error(s) detected: a; b`.

/// Collects model constraint violations in member order.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<String>);

impl Violations {
    pub fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) {
        match value {
            Some(v) if v < min => self.0.push(format!(
                "Value '{v}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
            )),
            Some(v) if v > max => self.0.push(format!(
                "Value '{v}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
            )),
            _ => {}
        }
    }

    pub fn length(&mut self, member: &str, value: &str, min: usize, max: usize) -> bool {
        let len = value.chars().count();
        if len < min {
            self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
            false
        } else if len > max {
            self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
            false
        } else {
            true
        }
    }

    pub fn pattern(&mut self, member: &str, value: &str, ok: bool, pattern: &str) {
        if !ok {
            self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
    }

    pub fn not_null(&mut self, member: &str) {
        self.0.push(format!(
            "Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ));
    }

    pub fn enum_list(
        &mut self,
        member: &str,
        values: &[String],
        allowed: &[&str],
        set: &str,
        max: usize,
    ) {
        if values.iter().any(|v| !allowed.contains(&v.as_str())) {
            self.0.push(format!(
                "Value '[{}]' at '{member}' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: {set}, Member must not be null]",
                values.join(", ")
            ));
        } else if values.len() > max {
            self.0.push(format!(
                "Value '[{}]' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                values.join(", ")
            ));
        }
    }

    /// A free-form violation text.
    pub fn push(&mut self, text: String) {
        self.0.push(text);
    }

    /// A scalar that must be one of `allowed`; `set` is AWS's rendering, e.g. `[A, B]`.
    pub fn one_of(&mut self, member: &str, value: &str, allowed: &[&str], set: &str) {
        if !allowed.contains(&value) {
            self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: {set}"
            ));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err` with every violation, in the order found.
    pub fn finish(self) -> Result<(), Vec<String>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    /// AWS's framing: `N validation error(s) detected: a; b`.
    pub fn message(violations: &[String]) -> String {
        let n = violations.len();
        let noun = if n == 1 { "error" } else { "errors" };
        format!("{n} validation {noun} detected: {}", violations.join("; "))
    }
}
