//! Authentication and authorization with InfluxDB 1.x's rules and texts.
//!
//! Why here and not in the HTTP adapter: the rules (who may run which statement, write to
//! which database, the bootstrap rule, password and token checks) are business logic the
//! architecture keeps out of adapters; the adapter only extracts [`Credentials`] from a
//! request and maps [`AuthError`] to a status (`401` for [`AuthError::Unauthenticated`],
//! `403` for [`AuthError::Forbidden`]).
//!
//! - [`AuthService::authenticate`] is InfluxDB's `authenticate` handler wrapper:
//!   credentials are only checked once an admin user exists; passwords are bcrypt hashes
//!   (`SET PASSWORD`/`CREATE USER` hash with [`hash_password`]); JWT bearer tokens are
//!   HMAC-signed with the shared secret, need `exp` and name the user in `username`.
//! - A verification cache avoids recomputing bcrypt on every request: an entry (user,
//!   SHA-256 of the password) remembers the stored hash it was verified against, so a
//!   password change (new hash) or a dropped user (no hash) invalidates it at once.
//! - [`authorize_query`] is `meta.QueryAuthorizer.AuthorizeQuery` with each statement's
//!   required privileges (`privileges.rs`); [`AuthService::authorize_write`] is
//!   `WriteAuthorizer.AuthorizeWrite`.

mod privileges;
mod token;

pub use privileges::{authorize_query, visible_database};

use hyperbyte_domain::{Privilege, User};
use hyperbyte_ports::MetadataPort;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// bcrypt cost InfluxDB uses (`bcrypt.DefaultCost`).
pub const BCRYPT_COST: u32 = 10;

/// Verified (user, password digest) pairs kept at most; the cache starts over when full.
const CACHE_LIMIT: usize = 10_000;

/// Authentication settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// Require credentials (`auth.enabled`).
    pub enabled: bool,
    /// HMAC secret of JWT bearer tokens; empty refuses every token.
    pub shared_secret: String,
}

/// Credentials as a request carries them (InfluxDB's `parseCredentials`).
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None found.
    None,
    /// `u`/`p` parameters, HTTP Basic or `Authorization: Token user:password`.
    Password {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer <jwt>`.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Password { username, .. } => write!(f, "Password({username})"),
            Credentials::Bearer(_) => f.write_str("Bearer"),
        }
    }
}

/// An authenticated user as of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User name.
    pub name: String,
    /// Admin.
    pub admin: bool,
    /// Privilege per database.
    pub privileges: std::collections::BTreeMap<String, Privilege>,
}

impl Principal {
    fn of(u: &User) -> Self {
        Principal {
            name: u.name.clone(),
            admin: u.admin,
            privileges: u.privileges.clone(),
        }
    }

    /// InfluxDB's `AuthorizeDatabase`.
    pub fn can(&self, needed: Privilege, database: &str) -> bool {
        if self.admin || needed == Privilege::None {
            return true;
        }
        matches!(self.privileges.get(database), Some(p) if *p == needed || *p == Privilege::All)
    }
}

/// What a request may do, decided before it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Access {
    /// Authentication is disabled: everything is allowed.
    #[default]
    Open,
    /// Authentication is enabled: the user, or none while no admin user exists.
    User(Option<Principal>),
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Missing or wrong credentials (HTTP 401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Not allowed (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// The check itself failed (HTTP 500).
    #[error("{0}")]
    Internal(String),
}

/// Hashes a password with bcrypt (InfluxDB's cost).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    bcrypt::hash(password, BCRYPT_COST).map_err(|e| AuthError::Internal(e.to_string()))
}

/// Whether `password` matches a stored bcrypt hash (anything else never matches).
pub fn verify_password(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

fn digest(password: &str) -> [u8; 32] {
    Sha256::digest(password.as_bytes()).into()
}

/// Authenticates requests and authorizes writes (queries: [`authorize_query`]).
pub struct AuthService {
    meta: Arc<dyn MetadataPort>,
    config: AuthConfig,
    /// (user, password digest) → the stored hash the password was verified against.
    verified: Mutex<HashMap<(String, [u8; 32]), String>>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("enabled", &self.config.enabled)
            .field("jwt", &!self.config.shared_secret.is_empty())
            .finish()
    }
}

impl AuthService {
    /// Creates the service.
    pub fn new(meta: Arc<dyn MetadataPort>, config: AuthConfig) -> Self {
        AuthService {
            meta,
            config,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Whether authentication is enabled.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    fn user(&self, name: &str) -> Option<User> {
        self.meta.users().into_iter().find(|u| u.name == name)
    }

    /// InfluxDB's `authenticate`: decides a request's [`Access`] from its credentials.
    pub async fn authenticate(&self, creds: Credentials) -> Result<Access, AuthError> {
        if !self.config.enabled {
            return Ok(Access::Open);
        }
        // As InfluxDB: credentials are looked at only once an admin exists (so the first
        // admin can be created); the statements are then checked by `authorize_query`.
        if !self.meta.users().iter().any(|u| u.admin) {
            return Ok(Access::User(None));
        }
        let user = match creds {
            Credentials::None => {
                return Err(AuthError::Unauthenticated(
                    "unable to parse authentication credentials".into(),
                ))
            }
            Credentials::Password { username, password } => {
                if username.is_empty() {
                    return Err(AuthError::Unauthenticated("username required".into()));
                }
                self.check_password(&username, &password).await?
            }
            Credentials::Bearer(token) => {
                let name = token::username(&token, &self.config.shared_secret)?;
                self.user(&name)
                    .ok_or_else(|| AuthError::Unauthenticated("user not found".into()))?
            }
        };
        Ok(Access::User(Some(Principal::of(&user))))
    }

    /// Verifies a password, through the cache when this pair was verified against the
    /// user's current hash.
    pub async fn check_password(&self, username: &str, password: &str) -> Result<User, AuthError> {
        let failed = || AuthError::Unauthenticated("authorization failed".into());
        let user = self.user(username).ok_or_else(failed)?;
        let key = (username.to_string(), digest(password));
        if self.verified.lock().get(&key) == Some(&user.password_hash) {
            return Ok(user);
        }
        let (pw, hash) = (password.to_string(), user.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| AuthError::Internal(e.to_string()))?;
        if !ok {
            return Err(failed());
        }
        let mut cache = self.verified.lock();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, user.password_hash.clone());
        Ok(user)
    }

    /// Drops cached verifications of `username` (after `SET PASSWORD` or `DROP USER`;
    /// stale entries never match a changed hash anyway, this frees them).
    pub fn forget(&self, username: &str) {
        self.verified.lock().retain(|(u, _), _| u != username);
    }

    /// Cached verifications (for tests and diagnostics).
    pub fn cached(&self) -> usize {
        self.verified.lock().len()
    }

    /// InfluxDB's write check. A database that does not exist passes (the write path
    /// answers its 404 first, as InfluxDB does).
    pub fn authorize_write(&self, access: &Access, database: &str) -> Result<(), AuthError> {
        let Access::User(user) = access else {
            return Ok(());
        };
        if self.meta.database(database).is_none() {
            return Ok(());
        }
        match user {
            None => Err(AuthError::Forbidden(format!(
                "user is required to write to database {database:?}"
            ))),
            Some(p) if p.can(Privilege::Write, database) => Ok(()),
            Some(p) => Err(AuthError::Forbidden(format!(
                "{:?} user is not authorized to write to database {database:?}",
                p.name
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
