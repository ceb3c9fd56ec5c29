//! A child's stderr, surfaced line by line through `tracing`, its last lines kept for errors.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStderr;

/// The longest stderr line kept or logged; the rest of a longer line is dropped, so a child
/// that writes megabytes without a newline cannot grow our memory.
const MAX_LINE_BYTES: usize = 8 * 1024;

/// The last lines a child wrote to stderr.
#[derive(Debug)]
pub(crate) struct StderrTail {
    keep: usize,
    lines: Mutex<VecDeque<String>>,
}

impl StderrTail {
    pub(crate) fn new(keep: usize) -> Arc<Self> {
        Arc::new(Self { keep, lines: Mutex::new(VecDeque::with_capacity(keep.min(64))) })
    }

    fn push(&self, line: String) {
        if self.keep == 0 {
            return;
        }
        let mut lines = self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lines.len() == self.keep {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub(crate) fn snapshot(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter().cloned().collect()
    }
}

/// Reads `stderr` to its end, logging each line and keeping the last ones in `tail`.
pub(crate) async fn relay(stderr: ChildStderr, tail: Arc<StderrTail>, program: Arc<str>, pid: Option<u32>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let emit = |line: &mut Vec<u8>| {
        let text = String::from_utf8_lossy(line).trim_end_matches('\r').to_owned();
        line.clear();
        tracing::info!(target: "mcp_transport_stdio::child_stderr", program = %program, pid, "{text}");
        tail.push(text);
    };
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) => {
                tracing::debug!(program = %program, pid, error = %e, "reading the child's stderr failed");
                break;
            }
        };
        let (chunk, consumed, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(newline) => (&buf[..newline], newline + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(consumed);
        if complete {
            emit(&mut line);
        }
    }
    if !line.is_empty() {
        emit(&mut line);
    }
}
