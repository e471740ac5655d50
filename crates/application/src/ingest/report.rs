//! What one write request reports back: the reasons points were dropped (each once, in
//! the order first met) and how many, turned into InfluxDB's answer at the end.

use super::{WriteError, WriteOutcome};

/// Dropped points and their reasons, accumulated across the checks of one request.
#[derive(Debug, Default)]
pub(super) struct Report {
    errors: Vec<String>,
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
        if !self.errors.contains(&reason) {
            self.errors.push(reason);
        }
    }

    /// InfluxDB's answer: success, or a partial write naming every reason. Storage-side
    /// rejections are reported alone; parse errors only when there are none.
    pub(super) fn outcome(
        mut self,
        parse_error: Option<String>,
        sequence: Option<u64>,
        written: usize,
    ) -> Result<WriteOutcome, WriteError> {
        if self.errors.is_empty() {
            if let Some(pe) = parse_error {
                self.errors.push(pe);
            }
        }
        if self.errors.is_empty() {
            Ok(WriteOutcome {
                sequence,
                points: written,
            })
        } else {
            Err(WriteError::Partial {
                message: self.errors.join("\n"),
                dropped: self.dropped,
            })
        }
    }
}
