//! A function instance's output: every line of its stdout and stderr goes to Sluice's log,
//! prefixed with the function name and the request id of the invocation it belongs to, and
//! the last [`TAIL_BYTES`] of each invocation's lines are kept for `LogType: Tail`.
//!
//! Both streams of the process are one end of a Unix socket pair (one stream, so stdout and
//! stderr stay in the order they were written, as in a Lambda log stream); one reader task
//! owns the other end. An invocation ends with [`LogPipe::sync`]: the reader reads everything
//! the socket holds at that moment with plain non-blocking reads (not through the reactor,
//! whose readiness may lag) and acknowledges. A runtime writes its output before it posts its
//! answer, so every line of the invocation is in the socket by then, and is read and
//! attributed before the tail is taken. No timer and no guess is involved.
//!
//! Lines longer than [`MAX_LINE`] are cut into pieces; a last line without a newline is
//! logged when the invocation ends or the process closes its output.

use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot};

/// How much of an invocation's log `LogType: Tail` returns (Lambda's 4 KB).
pub const TAIL_BYTES: usize = 4096;

/// Longest line logged as one line.
const MAX_LINE: usize = 64 * 1024;

/// Who the lines belong to, and the current invocation's tail.
#[derive(Debug)]
pub struct LogCapture {
    function: String,
    state: Mutex<CaptureState>,
}

#[derive(Debug, Default)]
struct CaptureState {
    /// The invocation in progress; lines outside one (init, between invocations) are logged
    /// without a request id and kept in no tail.
    request_id: Option<String>,
    /// The invocation's lines so far, trimmed to about [`TAIL_BYTES`] as it grows.
    tail: Vec<u8>,
}

impl LogCapture {
    pub fn new(function: &str) -> Self {
        Self {
            function: function.to_owned(),
            state: Mutex::new(CaptureState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CaptureState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lines from now on belong to `request_id`.
    pub fn begin(&self, request_id: &str) {
        let mut s = self.lock();
        s.request_id = Some(request_id.to_owned());
        s.tail.clear();
    }

    /// Ends the invocation; returns the last [`TAIL_BYTES`] of its lines.
    pub fn finish(&self) -> Vec<u8> {
        let mut s = self.lock();
        s.request_id = None;
        let tail = std::mem::take(&mut s.tail);
        let cut = tail.len().saturating_sub(TAIL_BYTES);
        tail[cut..].to_vec()
    }

    /// Adds a line Sluice itself writes for the invocation (a timeout, a crash), as Lambda
    /// writes its own lines into the function's log.
    pub fn note(&self, text: &str) {
        self.line(text.as_bytes());
    }

    /// One line of output (without its newline).
    fn line(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let mut s = self.lock();
        match &s.request_id {
            Some(id) => {
                tracing::info!(target: "sluice::function", "[{}] [{id}] {text}", self.function);
            }
            None => tracing::info!(target: "sluice::function", "[{}] {text}", self.function),
        }
        if s.request_id.is_some() {
            s.tail.extend_from_slice(line);
            s.tail.push(b'\n');
            if s.tail.len() > 2 * TAIL_BYTES {
                let cut = s.tail.len() - TAIL_BYTES;
                s.tail.drain(..cut);
            }
        }
    }
}

/// Asks the reader to catch up; see the module doc.
#[derive(Debug, Clone)]
pub struct LogPipe {
    sync: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl LogPipe {
    /// Makes the socket pair: the returned stream is for the child's stdout and stderr; the
    /// reader task reads the other end into `capture` until the child's side is closed.
    pub fn start(capture: Arc<LogCapture>) -> std::io::Result<(Self, StdUnixStream)> {
        let (ours, theirs) = StdUnixStream::pair()?;
        // Non-blocking applies to our end's open file only; the child's end stays blocking.
        ours.set_nonblocking(true)?;
        let raw = ours.try_clone()?;
        let stream = tokio::net::UnixStream::from_std(ours)?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(read_lines(stream, raw, capture, rx));
        Ok((Self { sync: tx }, theirs))
    }

    /// Returns once every byte written to the socket before the call has been logged.
    pub async fn sync(&self) {
        let (tx, rx) = oneshot::channel();
        if self.sync.send(tx).is_ok() {
            // An error means the reader is gone: it read to the end of the output.
            let _ = rx.await;
        }
    }
}

/// Splits bytes into lines.
struct Lines {
    capture: Arc<LogCapture>,
    partial: Vec<u8>,
}

impl Lines {
    fn feed(&mut self, mut bytes: &[u8]) {
        while let Some(nl) = bytes.iter().position(|b| *b == b'\n') {
            if self.partial.is_empty() {
                self.capture.line(&bytes[..nl]);
            } else {
                self.partial.extend_from_slice(&bytes[..nl]);
                self.capture.line(&self.partial);
                self.partial.clear();
            }
            bytes = &bytes[nl + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE {
            let rest = self.partial.split_off(MAX_LINE);
            self.capture.line(&self.partial);
            self.partial = rest;
        }
    }

    fn flush(&mut self) {
        if !self.partial.is_empty() {
            self.capture.line(&self.partial);
            self.partial.clear();
        }
    }
}

/// Reads the child's output until it is closed. `raw` is the same socket as `stream`, read
/// directly (non-blocking) when an invocation ends.
async fn read_lines(
    stream: tokio::net::UnixStream,
    mut raw: StdUnixStream,
    capture: Arc<LogCapture>,
    mut sync: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    let mut lines = Lines {
        capture,
        partial: Vec::new(),
    };
    let mut buf = vec![0u8; 16 * 1024];
    let mut sync_open = true;
    loop {
        tokio::select! {
            biased;
            req = sync.recv(), if sync_open => match req {
                Some(ack) => {
                    let ended = drain(&mut raw, &mut buf, &mut lines);
                    lines.flush();
                    let _ = ack.send(());
                    if ended {
                        return;
                    }
                }
                // The instance is gone; read what is left until the child's side closes.
                None => sync_open = false,
            },
            ready = stream.readable() => {
                if ready.is_err() {
                    lines.flush();
                    return;
                }
                // `try_read` through the reactor, so a WouldBlock clears its readiness.
                loop {
                    match stream.try_read(&mut buf) {
                        Ok(0) => {
                            lines.flush();
                            return;
                        }
                        Ok(n) => lines.feed(&buf[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => {
                            lines.flush();
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Reads what the socket holds now. True when the output has ended.
fn drain(raw: &mut StdUnixStream, buf: &mut [u8], lines: &mut Lines) -> bool {
    loop {
        match raw.read(buf) {
            Ok(0) => return true,
            Ok(n) => lines.feed(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
}
