//! JWT bearer tokens as InfluxDB 1.x checks them: HMAC-signed with the shared secret
//! (refused while it is empty), `exp` required and not passed, the user in `username`.

use super::AuthError;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;

fn refused(msg: impl Into<String>) -> AuthError {
    AuthError::Unauthenticated(msg.into())
}

/// The user a valid token names.
pub(super) fn username(token: &str, secret: &str) -> Result<String, AuthError> {
    if secret.is_empty() {
        return Err(refused("bearer auth disabled"));
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
    // `exp` is checked when present (below: required), with no grace period; `aud` and
    // friends are not InfluxDB's business.
    v.required_spec_claims.clear();
    v.leeway = 0;
    v.validate_aud = false;
    let data =
        decode::<HashMap<String, Value>>(token, &DecodingKey::from_secret(secret.as_bytes()), &v)
            .map_err(|e| {
            refused(match e.kind() {
                ErrorKind::ExpiredSignature => "Token is expired".to_string(),
                ErrorKind::InvalidSignature => "signature is invalid".to_string(),
                ErrorKind::InvalidAlgorithm => "unexpected signing method".to_string(),
                _ => format!("invalid token: {e}"),
            })
        })?;
    let claims = data.claims;
    match claims.get("exp").and_then(Value::as_f64) {
        Some(exp) if exp > 0.0 => {}
        _ => return Err(refused("token expiration required")),
    }
    match claims.get("username") {
        Some(Value::String(u)) if u.is_empty() => Err(refused("token must contain a username")),
        Some(Value::String(u)) => Ok(u.clone()),
        _ => Err(refused("username in token must be a string")),
    }
}
