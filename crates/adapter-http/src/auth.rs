//! Credentials out of a request, and auth refusals in InfluxDB's shape. The rules live in
//! the application's [`AuthService`](hyperbyte_application::auth::AuthService); this only
//! reads what the request carries, in InfluxDB's order (`parseCredentials`):
//! `u` and `p` URL parameters (both non-empty), then `Authorization: Bearer <jwt>`,
//! `Authorization: Token user:password` (InfluxDB 1.8), HTTP Basic.

use hyperbyte_application::auth::{AuthError, Credentials};

/// The credentials of a request: `u`/`p` from the URL, then the `Authorization` header.
pub(crate) fn credentials(
    u: Option<&str>,
    p: Option<&str>,
    authorization: Option<&str>,
) -> Credentials {
    if let (Some(u), Some(p)) = (u, p) {
        if !u.is_empty() && !p.is_empty() {
            return Credentials::Password {
                username: u.to_string(),
                password: p.to_string(),
            };
        }
    }
    let Some(h) = authorization.filter(|h| !h.is_empty()) else {
        return Credentials::None;
    };
    let parts: Vec<&str> = h.split(' ').collect();
    if let [scheme, value] = parts.as_slice() {
        match *scheme {
            "Bearer" => return Credentials::Bearer(value.to_string()),
            "Token" => {
                if let Some((u, p)) = value.split_once(':') {
                    return Credentials::Password {
                        username: u.to_string(),
                        password: p.to_string(),
                    };
                }
            }
            _ => {}
        }
    }
    basic(h).unwrap_or(Credentials::None)
}

/// HTTP Basic (`Basic base64(user:password)`, scheme case-insensitive as in Go).
fn basic(h: &str) -> Option<Credentials> {
    let (scheme, rest) = h.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(rest.trim())?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some(Credentials::Password {
        username: u.to_string(),
        password: p.to_string(),
    })
}

/// Standard base64 with padding (what Basic uses); `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (i, chunk) in b.chunks(4).enumerate() {
        let last = i + 1 == b.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// The status of an auth refusal: 401 for credentials, 403 for privileges.
pub(crate) fn status(e: &AuthError) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match e {
        AuthError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AuthError::Forbidden(_) => StatusCode::FORBIDDEN,
        AuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(u: &str, p: &str) -> Credentials {
        Credentials::Password {
            username: u.into(),
            password: p.into(),
        }
    }

    #[test]
    fn credentials_in_influxdb_order() {
        assert_eq!(
            credentials(Some("a"), Some("b"), Some("Bearer t")),
            pw("a", "b")
        );
        assert_eq!(credentials(Some("a"), Some(""), None), Credentials::None);
        assert_eq!(
            credentials(None, None, Some("Bearer x.y.z")),
            Credentials::Bearer("x.y.z".into())
        );
        assert_eq!(credentials(None, None, Some("Token u:p:q")), pw("u", "p:q"));
        // "user:pa ss" in base64.
        assert_eq!(
            credentials(None, None, Some("Basic dXNlcjpwYSBzcw==")),
            pw("user", "pa ss")
        );
        assert_eq!(credentials(None, None, Some("Basic !!")), Credentials::None);
        assert_eq!(credentials(None, None, Some("Digest x")), Credentials::None);
        assert_eq!(credentials(None, None, None), Credentials::None);
    }

    #[test]
    fn base64() {
        for (enc, dec) in [("", ""), ("YQ==", "a"), ("YWI=", "ab"), ("YWJj", "abc")] {
            assert_eq!(base64_decode(enc).unwrap(), dec.as_bytes());
        }
        assert!(base64_decode("YQ=").is_none());
        assert!(base64_decode("YQ==YWJj").is_none());
    }
}
