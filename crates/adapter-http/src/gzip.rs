//! Request bodies sent with `Content-Encoding: gzip`, read as InfluxDB reads them (Go's
//! `gzip.Reader`): every member of the stream, one after the other (a body made by
//! concatenating compressed pieces holds all their lines), with Go's error texts so that
//! a client sees InfluxDB's answer: `EOF` for an empty body, `unexpected EOF` for a cut
//! header or stream (trailing bytes too few for another header included), `gzip: invalid
//! header`, `gzip: invalid checksum` (a CRC or length that does not match), `flate:
//! corrupt input`.

use std::io::Read;

/// Why a compressed body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GzipError {
    /// The decompressed body is larger than the limit.
    #[error("http: request body too large")]
    TooLarge,
    /// The body is not a valid gzip stream (Go's error text).
    #[error("{0}")]
    Invalid(&'static str),
}

/// Length of a gzip member header without optional fields (RFC 1952).
const HEADER_LEN: usize = 10;

/// Decompresses every member of `body`, at most `limit` bytes in all. One decoder is
/// reset for each member (as Go resets its reader): a body of a million tiny members
/// costs no fresh inflate state each.
pub(crate) fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, GzipError> {
    if body.is_empty() {
        return Err(GzipError::Invalid("EOF"));
    }
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    check_header(body)?;
    let mut member = flate2::bufread::GzDecoder::new(body);
    loop {
        read_member(&mut member, &mut out, limit)?;
        let rest: &[u8] = member.get_ref();
        if rest.is_empty() {
            return Ok(out);
        }
        check_header(rest)?;
        member.reset(rest);
    }
}

/// Go reads a whole header before it looks at it: fewer bytes than a header are a cut
/// stream, a header that is not gzip's is invalid.
fn check_header(rest: &[u8]) -> Result<(), GzipError> {
    if rest.len() < HEADER_LEN {
        return Err(GzipError::Invalid("unexpected EOF"));
    }
    if rest[..3] != [0x1f, 0x8b, 0x08] {
        return Err(GzipError::Invalid("gzip: invalid header"));
    }
    Ok(())
}

/// Appends the member `member` is at to `out`, which may hold `limit` bytes in all.
fn read_member(
    member: &mut flate2::bufread::GzDecoder<&[u8]>,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), GzipError> {
    let room = limit.saturating_sub(out.len());
    let cap = u64::try_from(room).unwrap_or(u64::MAX).saturating_add(1);
    match member.take(cap).read_to_end(out) {
        Ok(n) if n > room => Err(GzipError::TooLarge),
        Ok(_) => Ok(()),
        Err(e) => Err(GzipError::Invalid(go_text(&e))),
    }
}

/// Go's text for a stream `flate2` refused.
fn go_text(e: &std::io::Error) -> &'static str {
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::UnexpectedEof || text.contains("incomplete") {
        "unexpected EOF"
    } else if text.contains("checksum") || text.contains("length") {
        "gzip: invalid checksum"
    } else if text.contains("header") {
        "gzip: invalid header"
    } else {
        "flate: corrupt input"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("in memory");
        e.finish().expect("in memory")
    }

    #[test]
    fn every_member_is_read() {
        let mut body = gz(b"m v=1 1\n");
        body.extend(gz(b"m v=2 2\n"));
        assert_eq!(
            decompress(&body, 1 << 20).as_deref(),
            Ok(&b"m v=1 1\nm v=2 2\n"[..])
        );
    }

    #[test]
    fn broken_streams_get_gos_texts() {
        let good = gz(b"m v=1 1\n");
        let text = |body: &[u8]| match decompress(body, 1 << 20) {
            Err(GzipError::Invalid(t)) => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(text(b""), "EOF");
        assert_eq!(text(&good[..3]), "unexpected EOF");
        assert_eq!(text(&good[..HEADER_LEN]), "unexpected EOF");
        assert_eq!(text(&good[..good.len() - 3]), "unexpected EOF");
        assert_eq!(text(b"not gzip at all"), "gzip: invalid header");
        let mut crc = good.clone();
        let at = crc.len() - 8;
        crc[at] ^= 0xff;
        assert_eq!(text(&crc), "gzip: invalid checksum");
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"garbage!!");
        assert_eq!(text(&trailing), "unexpected EOF");
        trailing.extend_from_slice(b" and more");
        assert_eq!(text(&trailing), "gzip: invalid header");
    }

    #[test]
    fn many_tiny_members_are_read() {
        let piece = gz(b"");
        let body: Vec<u8> = std::iter::repeat_n(piece.as_slice(), 10_000)
            .flatten()
            .copied()
            .collect();
        assert_eq!(decompress(&body, 1 << 20), Ok(Vec::new()));
        let mut body = body;
        body.extend(gz(b"m v=1 1\n"));
        assert_eq!(decompress(&body, 1 << 20).as_deref(), Ok(&b"m v=1 1\n"[..]));
    }

    #[test]
    fn the_limit_counts_every_member() {
        let mut body = gz(&[b'x'; 600]);
        body.extend(gz(&[b'y'; 600]));
        assert_eq!(decompress(&body, 1000), Err(GzipError::TooLarge));
        assert_eq!(decompress(&body, 1200).map(|b| b.len()), Ok(1200));
    }
}
