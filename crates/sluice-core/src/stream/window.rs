//! Tumbling windows (`TumblingWindowInSeconds`, 1..900): fixed, non-overlapping windows
//! aligned on the epoch and keyed by record arrival time. The function carries a state
//! object from one invocation of a window to the next; it may not exceed 1 MB (exceeding it
//! ends the window early).
//!
//! The window's event and response are built and read in [`super::event::window_event`] and
//! [`super::response::parse_window_response`].

use std::time::Duration;

use serde_json::Value;

use super::record::json_size;

pub use super::timestamp::rfc3339_seconds;

/// The largest state a window may carry, serialized (1 MB).
pub const MAX_STATE_SIZE: usize = 1_048_576;

/// `(start, end)` in epoch ms of the window holding `arrival_ms`: `start` is `arrival_ms`
/// rounded down to a multiple of `width`, `end` is `start + width` (exclusive, and the `end`
/// the event shows). A zero width yields the empty window `(arrival_ms, arrival_ms)`.
pub fn window_of(arrival_ms: u64, width: Duration) -> (u64, u64) {
    let width_ms = u64::try_from(width.as_millis()).unwrap_or(u64::MAX);
    if width_ms == 0 {
        return (arrival_ms, arrival_ms);
    }
    let start = arrival_ms - arrival_ms % width_ms;
    (start, start.saturating_add(width_ms))
}

/// How many leading records (given by arrival, in order) fall in the first one's window: a
/// batch never spans two windows.
pub fn same_window_prefix(arrivals: impl IntoIterator<Item = u64>, width: Duration) -> usize {
    let mut arrivals = arrivals.into_iter();
    let Some(first) = arrivals.next() else {
        return 0;
    };
    let window = window_of(first, width);
    1 + arrivals
        .take_while(|&a| window_of(a, width) == window)
        .count()
}

/// True when the state is too big to carry on: the window ends early
/// (`isWindowTerminatedEarly`).
pub fn state_too_large(state: &Value) -> bool {
    json_size(state) > MAX_STATE_SIZE
}
