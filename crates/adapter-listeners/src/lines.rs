//! Bounded line reading for the TCP listeners: a line longer than [`MAX_LINE`] is skipped
//! to its end (and counted by the caller), never buffered whole.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Longest line kept, in bytes.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// What one read gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The connection ended with no partial line.
    Eof,
    /// A line is in the buffer (without its `\n`; a `\r` before it is kept).
    Full,
    /// A line past the limit was skipped.
    TooLong,
}

/// Reads one line into `buf` (cleared first), at most `max` bytes of it.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Eof,
                (false, false) => Line::Full,
            });
        }
        let (take, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (i, i + 1),
            None => (avail.len(), avail.len()),
        };
        if !too_long && buf.len() + take <= max {
            buf.extend_from_slice(&avail[..take]);
        } else {
            too_long = true;
            buf.clear();
        }
        let ended = done > take;
        r.consume(done);
        if ended {
            return Ok(if too_long { Line::TooLong } else { Line::Full });
        }
    }
}

/// The line without a trailing `\r`.
pub(crate) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn long_lines_are_skipped_to_their_end() {
        let data = b"short\r\nxxxxxxxxxxxx\nok\nlast".to_vec();
        let mut r = tokio::io::BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::Full);
        assert_eq!(trim_cr(&buf), b"short");
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::TooLong);
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::Full);
        assert_eq!(buf, b"ok");
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::Full);
        assert_eq!(buf, b"last");
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::Eof);
    }
}
