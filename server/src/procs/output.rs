//! Reading the tail of a started process's output log.

use super::{ProcError, ProcessManager};
use std::io::{Read, Seek, SeekFrom};
use vigia_shared::Pid;
use vigia_shared::proto::limits::MAX_OUTPUT_BYTES;

/// Tail length when the request does not say, bytes.
pub const DEFAULT_OUTPUT_BYTES: u64 = 64 * 1024;

impl ProcessManager {
    /// The last `max_bytes` of the log of `pid`'s newest record; and whether older output was
    /// left out. Blocking file I/O: call from a blocking thread.
    pub fn output_tail(
        &self,
        log: &std::path::Path,
        max_bytes: Option<u64>,
    ) -> Result<(String, bool), ProcError> {
        let max = max_bytes
            .unwrap_or(DEFAULT_OUTPUT_BYTES)
            .min(MAX_OUTPUT_BYTES);
        let mut f = std::fs::File::open(log).map_err(|e| {
            ProcError::Internal(format!("cannot open log '{}': {e}", log.display()))
        })?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let start = len.saturating_sub(max);
        f.seek(SeekFrom::Start(start))
            .map_err(|e| ProcError::Internal(format!("cannot read log: {e}")))?;
        let mut buf = Vec::with_capacity(usize::try_from(len - start).unwrap_or(0));
        f.take(max)
            .read_to_end(&mut buf)
            .map_err(|e| ProcError::Internal(format!("cannot read log: {e}")))?;
        let mut text = String::from_utf8_lossy(&buf).into_owned();
        if start > 0 {
            // Begin at a line boundary rather than mid-line or mid-character.
            if let Some(nl) = text.find('\n') {
                text.drain(..=nl);
            }
        }
        Ok((text, start > 0))
    }

    /// The log of the newest process started as `pid`.
    pub fn log_of(&self, pid: Pid) -> Result<super::registry::StartedRecord, ProcError> {
        self.registry.latest(pid).ok_or_else(|| {
            ProcError::BadRequest(format!(
                "process '{pid}' was not started through vigiad: it has no output log"
            ))
        })
    }
}
