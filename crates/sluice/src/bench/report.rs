//! Figures of one benchmark run: an ordered list of `(metric, value, unit)`, printed as a
//! table and as one JSON line, plus the pure helpers the phases share (nearest-rank
//! percentiles, host readings, UTC timestamps).
//!
//! Metric names follow `peers/bench_boto3.py` (`kinesis.put.rate`, `kinesis.latency.p99`,
//! `host.loadavg_1m_before`, …) so runs of both tools compare metric by metric.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// One figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// Decimal places in the table and the JSON; 0 makes the JSON value an integer.
    pub digits: u8,
}

/// What a run was: everything in the JSON line besides the figures.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Benchmark name, e.g. `kinesis`.
    pub bench: &'static str,
    pub label: Option<String>,
    pub endpoint: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub started_utc: String,
    /// The command-line parameters, as a JSON object.
    pub params: Value,
    /// The resource the run created (stream name), if any.
    pub resource: Option<String>,
}

/// The figures and the errors of one run, in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct Report {
    metrics: Vec<Metric>,
    errors: Vec<(String, String)>,
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a figure.
    pub fn add(&mut self, name: impl Into<String>, value: f64, unit: &'static str, digits: u8) {
        let name = name.into();
        let metric = Metric {
            name,
            value,
            unit,
            digits,
        };
        match self.metrics.iter_mut().find(|m| m.name == metric.name) {
            Some(existing) => *existing = metric,
            None => self.metrics.push(metric),
        }
    }

    /// Records that `phase` failed with `message`.
    /// The run was cut short by Ctrl-C.
    pub fn interrupted(&mut self) {
        self.error("interrupted", "SIGINT (Ctrl-C) during the run");
    }

    pub fn error(&mut self, phase: impl Into<String>, message: impl Into<String>) {
        self.errors.push((phase.into(), message.into()));
    }

    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    pub fn errors(&self) -> &[(String, String)] {
        &self.errors
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// Adds `host.loadavg_1m_<when>` (if `/proc/loadavg` is readable) .
    pub fn add_loadavg(&mut self, when: &str) {
        if let Some(load) = loadavg_1m() {
            self.add(format!("host.loadavg_1m_{when}"), load, "load", 2);
        }
    }

    /// The figures as a text table: `metric  value  unit`, values right-aligned.
    pub fn table(&self) -> String {
        let rows: Vec<(&str, String, &str)> = self
            .metrics
            .iter()
            .map(|m| (m.name.as_str(), format_value(m.value, m.digits), m.unit))
            .collect();
        let w_name = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(6);
        let w_value = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(5);
        let mut out = format!("{:<w_name$}  {:>w_value$}  unit\n", "metric", "value");
        for (name, value, unit) in rows {
            out.push_str(&format!("{name:<w_name$}  {value:>w_value$}  {unit}\n"));
        }
        out
    }

    /// The whole run as one JSON object: `bench`, `label`, `endpoint`, `resource`,
    /// `started_utc`, `sluice_version`, `params`, `metrics` (`name → {value, unit}`) and
    /// `errors` (`phase → message`).
    /// Prints the report (a table on stdout, or the JSON line on stdout and the table on
    /// stderr with `json`), then each failed part; `Err` when any part failed.
    pub fn emit(&self, info: &RunInfo, heading: &str, json: bool) -> anyhow::Result<()> {
        let table = format!("{heading}{}", self.table());
        if json {
            eprint!("{table}");
            println!("{}", self.to_json(info));
        } else {
            print!("{table}");
        }
        for (phase, message) in self.errors() {
            eprintln!("sluice bench {}: {phase}: {message}", info.bench);
        }
        match self.errors().len() {
            0 => Ok(()),
            n => Err(anyhow::anyhow!("{n} part(s) of the benchmark failed")),
        }
    }

    pub fn to_json(&self, info: &RunInfo) -> Value {
        let metrics: Map<String, Value> = self
            .metrics
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    json!({ "value": json_number(m.value, m.digits), "unit": m.unit }),
                )
            })
            .collect();
        let errors: Map<String, Value> = self
            .errors
            .iter()
            .map(|(phase, message)| (phase.clone(), Value::from(message.as_str())))
            .collect();
        json!({
            "bench": info.bench,
            "label": info.label,
            "endpoint": info.endpoint,
            "resource": info.resource,
            "started_utc": info.started_utc,
            "sluice_version": env!("CARGO_PKG_VERSION"),
            "params": info.params,
            "metrics": metrics,
            "errors": errors,
        })
    }
}

fn format_value(value: f64, digits: u8) -> String {
    if value.is_finite() {
        format!("{value:.prec$}", prec = usize::from(digits))
    } else {
        "-".to_owned()
    }
}

/// `value` rounded to `digits` places; an integer when `digits` is 0; `null` if not finite.
fn json_number(value: f64, digits: u8) -> Value {
    if !value.is_finite() {
        return Value::Null;
    }
    if digits == 0 {
        // Saturating cast: figures are counts far below i64::MAX.
        return Value::from(value.round() as i64);
    }
    let scale = 10f64.powi(i32::from(digits));
    Value::from((value * scale).round() / scale)
}

/// Runs a benchmark's phases until they end or Ctrl-C; true when interrupted (the caller
/// still cleans up and reports).
pub async fn interruptible(phases: impl std::future::Future<Output = ()>) -> bool {
    tokio::select! {
        () = phases => false,
        _ = tokio::signal::ctrl_c() => true,
    }
}

/// ` label=NAME` for a report heading, empty without a label.
pub fn label_suffix(label: Option<&str>) -> String {
    label.map(|l| format!(" label={l}")).unwrap_or_default()
}

/// Nearest-rank percentile of `sorted` (ascending): the smallest sample such that at least
/// `p` % of the samples are ≤ it, i.e. `sorted[ceil(p/100 · n) - 1]` (rank clamped to
/// `1..=n`). `None` for no samples. With 100 samples p99 is the second largest.
pub fn percentile_nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (p / 100.0 * n as f64).ceil();
    // Clamp in float space first: `as usize` saturates, NaN becomes 0.
    let rank = (rank.clamp(1.0, n as f64) as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

/// Sorts `samples` ascending (NaN last) for [`percentile_nearest_rank`].
pub fn sort_samples(samples: &mut [f64]) {
    samples.sort_by(f64::total_cmp);
}

/// Milliseconds in `d`, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The mean of `xs`, `None` if empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The 1-minute load average from `/proc/loadavg`, `None` where there is none.
pub fn loadavg_1m() -> Option<f64> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat`, in
/// seconds. Assumes `USER_HZ` = 100 (every mainstream Linux); resolution 10 ms. `None`
/// off Linux.
pub fn process_cpu_seconds() -> Option<f64> {
    parse_proc_stat_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

fn parse_proc_stat_cpu(stat: &str) -> Option<f64> {
    // `pid (comm) state ppid …`: comm may contain spaces and parentheses, so split after the
    // last ')'. Fields 14 and 15 (1-based) are utime and stime; `state` is field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Civil UTC date and time of `secs` since the Unix epoch:
/// `(year, month, day, hour, minute, second)`.
pub fn utc_parts(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3_600) as u32,
        (rem % 3_600 / 60) as u32,
        (rem % 60) as u32,
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `secs` since the epoch.
pub fn iso8601_utc(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_iso8601_utc() -> String {
    iso8601_utc(unix_now())
}

/// `YYYYMMDDTHHMMSSZ` (the SigV4 `X-Amz-Date` format) for `secs` since the epoch.
pub fn amz_date(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// The current time in the SigV4 `X-Amz-Date` format.
pub fn now_amz_date() -> String {
    amz_date(unix_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        assert_eq!(percentile_nearest_rank(&[], 50.0), None);
        assert_eq!(percentile_nearest_rank(&[7.0], 0.0), Some(7.0));
        assert_eq!(percentile_nearest_rank(&[7.0], 99.0), Some(7.0));
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile_nearest_rank(&xs, 50.0), Some(50.0));
        assert_eq!(percentile_nearest_rank(&xs, 99.0), Some(99.0));
        assert_eq!(percentile_nearest_rank(&xs, 100.0), Some(100.0));
        assert_eq!(percentile_nearest_rank(&xs, 0.0), Some(1.0));
        assert_eq!(percentile_nearest_rank(&xs, 0.5), Some(1.0));
        assert_eq!(percentile_nearest_rank(&xs, 1.0), Some(1.0));
        assert_eq!(percentile_nearest_rank(&xs, 1.01), Some(2.0));
        // Wikipedia's example: 15 20 35 40 50.
        let w = [15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(percentile_nearest_rank(&w, 5.0), Some(15.0));
        assert_eq!(percentile_nearest_rank(&w, 30.0), Some(20.0));
        assert_eq!(percentile_nearest_rank(&w, 40.0), Some(20.0));
        assert_eq!(percentile_nearest_rank(&w, 50.0), Some(35.0));
        assert_eq!(percentile_nearest_rank(&w, 100.0), Some(50.0));
        // Ten samples: p99 is the maximum, p50 the fifth.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile_nearest_rank(&ten, 99.0), Some(10.0));
        assert_eq!(percentile_nearest_rank(&ten, 50.0), Some(5.0));
        // Out-of-range p is clamped, never panics.
        assert_eq!(percentile_nearest_rank(&ten, 250.0), Some(10.0));
        assert_eq!(percentile_nearest_rank(&ten, -3.0), Some(1.0));
        assert_eq!(percentile_nearest_rank(&ten, f64::NAN), Some(1.0));
    }

    #[test]
    fn sort_then_percentile() {
        let mut xs = vec![3.5, 1.0, 9.25, 2.0];
        sort_samples(&mut xs);
        assert_eq!(xs, [1.0, 2.0, 3.5, 9.25]);
        assert_eq!(percentile_nearest_rank(&xs, 50.0), Some(2.0));
        assert_eq!(percentile_nearest_rank(&xs, 99.0), Some(9.25));
        assert_eq!(mean(&xs), Some(3.9375));
        assert_eq!(mean(&[]), None);
    }

    fn sample_report() -> (Report, RunInfo) {
        let mut r = Report::new();
        r.add("host.loadavg_1m_before", 0.456, "load", 2);
        r.add("kinesis.put.rate", 12_345.678, "rec/s", 1);
        r.add("kinesis.put.failed_records", 3.0, "records", 0);
        r.add("kinesis.latency.p99", 1.23456, "ms", 3);
        r.add("kinesis.get.rate", f64::NAN, "rec/s", 1);
        r.error("readback", "read back only 1 of 2 records");
        let info = RunInfo {
            bench: "kinesis",
            label: Some("kinesalite-r1".into()),
            endpoint: "http://127.0.0.1:4567/".into(),
            started_utc: "2026-01-01T00:00:00Z".into(),
            params: json!({ "records": 2, "size": 1024 }),
            resource: Some("sluice-bench-0123abcd".into()),
        };
        (r, info)
    }

    #[test]
    fn json_report_shape() {
        let (r, info) = sample_report();
        let v = r.to_json(&info);
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "bench",
                "label",
                "endpoint",
                "resource",
                "started_utc",
                "sluice_version",
                "params",
                "metrics",
                "errors"
            ]
        );
        assert_eq!(v["bench"], "kinesis");
        assert_eq!(v["label"], "kinesalite-r1");
        assert_eq!(v["endpoint"], "http://127.0.0.1:4567/");
        assert_eq!(v["resource"], "sluice-bench-0123abcd");
        assert_eq!(v["params"]["records"], 2);
        let m = &v["metrics"];
        assert_eq!(
            m["host.loadavg_1m_before"],
            json!({"value": 0.46, "unit": "load"})
        );
        assert_eq!(
            m["kinesis.put.rate"],
            json!({"value": 12345.7, "unit": "rec/s"})
        );
        assert!(m["kinesis.put.failed_records"]["value"].is_i64());
        assert_eq!(m["kinesis.put.failed_records"]["value"], 3);
        assert_eq!(m["kinesis.latency.p99"]["value"], 1.235);
        assert_eq!(m["kinesis.get.rate"]["value"], Value::Null);
        assert_eq!(
            v["errors"],
            json!({"readback": "read back only 1 of 2 records"})
        );
        // One line, and it round-trips.
        let line = v.to_string();
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Value>(&line).expect("valid JSON"), v);
        // No label: null, not absent.
        let unlabelled = RunInfo {
            label: None,
            ..info
        };
        assert_eq!(r.to_json(&unlabelled)["label"], Value::Null);
    }

    #[test]
    fn table_aligns_and_replaces() {
        let (mut r, _) = sample_report();
        r.add("kinesis.put.rate", 1.0, "rec/s", 1);
        assert_eq!(r.get("kinesis.put.rate"), Some(1.0));
        assert_eq!(r.metrics().len(), 5);
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("metric "));
        assert!(lines[0].ends_with("value  unit"));
        assert!(lines[2].starts_with("kinesis.put.rate "));
        assert!(lines[2].ends_with(" 1.0  rec/s"));
        assert!(lines[3].ends_with(" 3  records"));
        assert!(lines[5].ends_with(" -  rec/s"));
        // Values are right-aligned: the unit column starts at the same offset.
        let unit_col: Vec<usize> = lines.iter().map(|l| l.rfind("  ").unwrap_or(0)).collect();
        assert!(unit_col.windows(2).all(|w| w[0] == w[1]), "{t}");
    }

    #[test]
    fn host_readings_parse() {
        assert_eq!(parse_loadavg("2.13 1.34 0.75 2/92 1935\n"), Some(2.13));
        assert_eq!(parse_loadavg(""), None);
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 37 0 0 20 0 3 0";
        assert_eq!(parse_proc_stat_cpu(stat), Some(2.87));
        assert_eq!(parse_proc_stat_cpu("garbage"), None);
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(amz_date(1_767_225_600), "20260101T000000Z");
        assert_eq!(iso8601_utc(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(now_amz_date().len(), 16);
    }
}
