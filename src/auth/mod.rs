//! Authentication: the interface every credential source plugs into, and
//! the built-in one (anonymous switch + a static user table from the config).

pub mod acl;

use crate::config::AuthConfig;
use std::collections::BTreeMap;

/// What the authenticator sees of a CONNECT.
pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a [u8]>,
}

/// Outcome; the refusals map to CONNACK codes 4 and 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDecision {
    Allow,
    /// CONNACK 4: bad user name or password.
    BadCredentials,
    /// CONNACK 5: not authorized.
    NotAuthorized,
}

/// Decides whether a client may connect. Called on the owner shard for every
/// CONNECT, so implementations must not block (no disk, no network).
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, req: &AuthRequest<'_>) -> AuthDecision;
}

/// The default: anonymous allowed unless switched off, plus an optional
/// user table.
pub struct StaticAuthenticator {
    allow_anonymous: bool,
    users: BTreeMap<String, String>,
}

impl StaticAuthenticator {
    pub fn new(cfg: &AuthConfig) -> Self {
        StaticAuthenticator {
            allow_anonymous: cfg.allow_anonymous,
            users: cfg.users.clone(),
        }
    }
}

impl Authenticator for StaticAuthenticator {
    fn authenticate(&self, req: &AuthRequest<'_>) -> AuthDecision {
        let Some(user) = req.username else {
            return if self.allow_anonymous {
                AuthDecision::Allow
            } else {
                AuthDecision::NotAuthorized
            };
        };
        match self.users.get(user) {
            Some(pw) if constant_time_eq(pw.as_bytes(), req.password.unwrap_or(b"")) => {
                AuthDecision::Allow
            }
            Some(_) => AuthDecision::BadCredentials,
            // An unknown name is only fine when there is no table to be unknown to.
            None if self.users.is_empty() && self.allow_anonymous => AuthDecision::Allow,
            None => AuthDecision::BadCredentials,
        }
    }
}

/// Compare without an early exit so timing does not leak the matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(anon: bool, users: &[(&str, &str)]) -> StaticAuthenticator {
        StaticAuthenticator::new(&AuthConfig {
            allow_anonymous: anon,
            users: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            ..Default::default()
        })
    }

    fn ask(a: &StaticAuthenticator, user: Option<&str>, pw: Option<&[u8]>) -> AuthDecision {
        a.authenticate(&AuthRequest {
            client_id: "c",
            username: user,
            password: pw,
        })
    }

    #[test]
    fn anonymous_switch() {
        assert_eq!(ask(&auth(true, &[]), None, None), AuthDecision::Allow);
        assert_eq!(
            ask(&auth(false, &[]), None, None),
            AuthDecision::NotAuthorized
        );
    }

    #[test]
    fn user_table() {
        let a = auth(true, &[("alice", "secret")]);
        assert_eq!(ask(&a, Some("alice"), Some(b"secret")), AuthDecision::Allow);
        assert_eq!(
            ask(&a, Some("alice"), Some(b"nope")),
            AuthDecision::BadCredentials
        );
        assert_eq!(ask(&a, Some("alice"), None), AuthDecision::BadCredentials);
        assert_eq!(
            ask(&a, Some("bob"), Some(b"secret")),
            AuthDecision::BadCredentials
        );
        assert_eq!(
            ask(&auth(true, &[]), Some("bob"), None),
            AuthDecision::Allow
        );
        assert_eq!(
            ask(&auth(false, &[]), Some("bob"), None),
            AuthDecision::BadCredentials
        );
    }
}
