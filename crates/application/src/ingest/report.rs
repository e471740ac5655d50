//! What one write request reports back: the first reason points were dropped for and
//! how many were, turned into InfluxDB's answer at the end.

use super::{WriteError, WriteOutcome};

/// Dropped points and their reasons, accumulated across the checks of one request.
#[derive(Debug, Default)]
pub(super) struct Report {
    /// The first reason met (the one the answer names).
    first: Option<String>,
    dropped: usize,
}

impl Report {
    /// One point dropped for `reason`.
    pub(super) fn drop_point(&mut self, reason: String) {
        self.drop_points(1, reason);
    }

    /// `n` points dropped for `reason` (the reason is reported even when `n` is zero: a
    /// lost registration race names its conflict).
    pub(super) fn drop_points(&mut self, n: usize, reason: String) {
        self.dropped += n;
        self.first.get_or_insert(reason);
    }

    /// InfluxDB's answer: success, or a partial write naming the first reason (its shards
    /// keep the first one they meet) with every dropped point counted. Storage-side
    /// rejections are reported alone; parse errors (every line's, one per line) only when
    /// there are none.
    pub(super) fn outcome(
        self,
        parse_error: Option<String>,
        sequence: Option<u64>,
        written: usize,
    ) -> Result<WriteOutcome, WriteError> {
        let message = match self.first {
            Some(first) => first,
            None => match parse_error {
                Some(pe) => pe,
                None => {
                    return Ok(WriteOutcome {
                        sequence,
                        points: written,
                    })
                }
            },
        };
        Err(WriteError::Partial {
            message,
            dropped: self.dropped,
        })
    }
}
