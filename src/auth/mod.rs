//! Authentication: the anonymous switch and the password file
//! (`[auth] password_file`, hashed passwords only; see docs/security.md).
//!
//! A CONNECT is checked on the shard that accepted it, after it is read and
//! before it is handed to its owner, within the connect timeout
//! ([`ShardAuth::check`]); the owner shard gets the decision with the
//! connection. The hash itself never runs on a shard thread (`verify.rs`).
//! Semantics follow Mosquitto: with a password file a client that sends a
//! user name must be in it with that password; without a user name it
//! needs `allow_anonymous`.

mod cache;
pub mod passwd;
pub mod password;
mod verify;

pub use verify::{lower_priority, CACHE_CAPACITY, SLOTS};

pub mod acl;

use crate::config::AuthConfig;
use crate::metrics::ShardMetrics;
use crate::reload::{Hooks, Local, Reloadable};
use password::PasswordFile;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use verify::{Verified, Verifier};

/// What the authenticator sees of a CONNECT.
pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a [u8]>,
}

/// Outcome, carried from the accepting shard to the owner with the
/// connection; each refusal has its CONNACK code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDecision {
    Allow,
    /// CONNACK 4 / 0x86: bad user name or password.
    BadCredentials,
    /// CONNACK 5 / 0x87: not authorized.
    NotAuthorized,
    /// CONNACK 3 / 0x89: no password-check slot came free in time.
    Busy,
}

/// The authentication every shard starts from, built once on the main
/// thread: the password file is read here, so a bad one stops start-up.
#[derive(Clone)]
pub struct AuthSetup {
    allow_anonymous: bool,
    cache_ttl: Duration,
    passwords: Option<(PathBuf, Arc<Reloadable<PasswordFile>>)>,
}

impl AuthSetup {
    pub fn load(cfg: &AuthConfig) -> Result<AuthSetup, String> {
        let passwords = match &cfg.password_file {
            Some(path) => {
                let file = PasswordFile::load(path)?;
                tracing::info!(file = %path.display(), users = file.len(), "password file loaded");
                Some((path.clone(), Arc::new(Reloadable::new(file))))
            }
            None => None,
        };
        Ok(AuthSetup {
            allow_anonymous: cfg.allow_anonymous,
            cache_ttl: Duration::from_secs_f64(cfg.cache_ttl),
            passwords,
        })
    }

    /// SIGHUP re-reads the password file; a file that does not parse is
    /// refused (the hook's error names file and line) and the old one stays.
    pub fn add_reload_hook(&self, hooks: &mut Hooks) {
        let Some((path, shared)) = self.passwords.clone() else {
            return;
        };
        hooks.add("password file", move || {
            let file = PasswordFile::load(&path)?;
            tracing::info!(file = %path.display(), users = file.len(), "password file reloaded");
            shared.replace(file);
            Ok(())
        });
    }
}

/// One shard's authenticator.
pub struct ShardAuth {
    allow_anonymous: bool,
    passwords: Option<Local<PasswordFile>>,
    verifier: Verifier,
}

impl ShardAuth {
    /// Built on the shard's thread.
    pub fn new(setup: &AuthSetup) -> ShardAuth {
        ShardAuth {
            allow_anonymous: setup.allow_anonymous,
            passwords: setup.passwords.as_ref().map(|(_, s)| Local::new(s.clone())),
            verifier: Verifier::new(setup.cache_ttl),
        }
    }

    /// Pick up a reloaded password file (the shard's tick); a new file
    /// empties the cache of recent successes.
    pub fn refresh(&self) {
        if self.passwords.as_ref().is_some_and(|p| p.refresh()) {
            self.verifier.forget();
        }
    }

    /// Decide a CONNECT. Answers at once unless a hash must be checked;
    /// waiting for a check slot ends at `deadline`.
    pub async fn check(
        &self,
        m: &ShardMetrics,
        req: &AuthRequest<'_>,
        deadline: Instant,
    ) -> AuthDecision {
        let Some(user) = req.username else {
            return match self.allow_anonymous {
                true => AuthDecision::Allow,
                false => AuthDecision::NotAuthorized,
            };
        };
        let Some(passwords) = &self.passwords else {
            // No password file: a user name proves nothing, as anonymous.
            return match self.allow_anonymous {
                true => AuthDecision::Allow,
                false => AuthDecision::BadCredentials,
            };
        };
        let (Some(hash), Some(password)) = (passwords.with(|f| f.get(user).cloned()), req.password)
        else {
            return AuthDecision::BadCredentials;
        };
        match self
            .verifier
            .check(m, user, password, &hash, deadline)
            .await
        {
            Verified::Match => AuthDecision::Allow,
            Verified::Mismatch => AuthDecision::BadCredentials,
            Verified::Busy => AuthDecision::Busy,
        }
    }
}

#[cfg(test)]
mod tests;
