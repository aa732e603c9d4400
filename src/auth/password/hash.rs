//! One password hash from a password file: argon2id (a PHC string, what
//! `shardmq passwd` writes) or Mosquitto's own formats, read as they are so
//! its users move without resetting passwords:
//!
//! - `$6$<salt>$<hash>`: SHA-512 of the password followed by the salt;
//! - `$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512 (what
//!   `mosquitto_passwd` writes by default, 101 iterations);
//!
//! salt and hash in standard base64 with padding, the salt 12 or 64 bytes,
//! the hash 64. Verifying is slow on purpose (argon2, PBKDF2): callers run
//! [`PasswordHash::verify`] off the shard threads (`auth/verify.rs`).

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::{general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha512};

/// OWASP's argon2id recommendation (2023): 19 MiB, 2 passes, 1 lane. About
/// 20–40 ms per verification on one core.
pub const ARGON2_M_KIB: u32 = 19 * 1024;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

const SHA512_LEN: usize = 64;

/// A parsed hash, ready to verify.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordHash {
    /// The PHC string, checked to parse at load.
    Argon2id(String),
    /// Mosquitto `$6$`.
    Sha512 {
        salt: Vec<u8>,
        hash: [u8; SHA512_LEN],
    },
    /// Mosquitto `$7$`.
    Pbkdf2Sha512 {
        iterations: u32,
        salt: Vec<u8>,
        hash: [u8; SHA512_LEN],
    },
}

/// Never print a hash: logs and panics show only its kind.
impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PasswordHash::Argon2id(_) => "PasswordHash::Argon2id",
            PasswordHash::Sha512 { .. } => "PasswordHash::Sha512",
            PasswordHash::Pbkdf2Sha512 { .. } => "PasswordHash::Pbkdf2Sha512",
        })
    }
}

impl PasswordHash {
    /// Parse the hash part of a `user:hash` line; the error says why not.
    pub fn parse(s: &str) -> Result<PasswordHash, String> {
        if let Some(rest) = s.strip_prefix("$6$") {
            let [salt, hash] = fields(rest, "$6$<salt>$<hash>")?;
            return Ok(PasswordHash::Sha512 {
                salt: salt_bytes(salt)?,
                hash: hash_bytes(hash)?,
            });
        }
        if let Some(rest) = s.strip_prefix("$7$") {
            let [iterations, salt, hash] = fields(rest, "$7$<iterations>$<salt>$<hash>")?;
            let iterations = iterations
                .parse::<u32>()
                .ok()
                .filter(|&i| i > 0)
                .ok_or("$7$: the iteration count must be a positive integer")?;
            return Ok(PasswordHash::Pbkdf2Sha512 {
                iterations,
                salt: salt_bytes(salt)?,
                hash: hash_bytes(hash)?,
            });
        }
        if s.starts_with("$argon2id$") {
            let phc = argon2::PasswordHash::new(s).map_err(|e| format!("argon2id: {e}"))?;
            Params::try_from(&phc).map_err(|e| format!("argon2id parameters: {e}"))?;
            if phc.hash.is_none() {
                return Err("argon2id: the hash is missing".into());
            }
            return Ok(PasswordHash::Argon2id(s.to_string()));
        }
        if s.starts_with('$') {
            return Err(
                "unsupported hash: only $argon2id$, $6$ and $7$ (Mosquitto) are read".into(),
            );
        }
        Err("not a password hash (clear text is not accepted): \
             write the user with `shardmq passwd FILE USER`"
            .into())
    }

    /// True if `password` matches. Slow on purpose for argon2id and `$7$`.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            PasswordHash::Argon2id(phc) => argon2::PasswordHash::new(phc)
                .is_ok_and(|h| Argon2::default().verify_password(password, &h).is_ok()),
            PasswordHash::Sha512 { salt, hash } => {
                let mut d = Sha512::new();
                d.update(password);
                d.update(salt);
                constant_time_eq(&d.finalize(), hash)
            }
            PasswordHash::Pbkdf2Sha512 {
                iterations,
                salt,
                hash,
            } => {
                let mut out = [0u8; SHA512_LEN];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut out);
                constant_time_eq(&out, hash)
            }
        }
    }

    /// A new argon2id PHC string for `password`, with a random salt and the
    /// [`ARGON2_M_KIB`], [`ARGON2_T`], [`ARGON2_P`] parameters.
    pub fn new_argon2id(password: &[u8]) -> Result<String, String> {
        let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
            .map_err(|e| format!("argon2 parameters: {e}"))?;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(password, &salt)
            .map(|h| h.to_string())
            .map_err(|e| format!("argon2: {e}"))
    }
}

/// Split `$`-separated fields, exactly `N` of them.
fn fields<'a, const N: usize>(s: &'a str, shape: &str) -> Result<[&'a str; N], String> {
    let parts: Vec<&str> = s.split('$').collect();
    parts
        .try_into()
        .map_err(|_| format!("expected {shape}"))
        .and_then(|p: [&str; N]| {
            if p.iter().any(|f| f.is_empty()) {
                Err(format!("expected {shape}: a field is empty"))
            } else {
                Ok(p)
            }
        })
}

fn salt_bytes(b64: &str) -> Result<Vec<u8>, String> {
    let salt = STANDARD
        .decode(b64)
        .map_err(|e| format!("salt is not base64: {e}"))?;
    // What Mosquitto writes and accepts.
    if salt.len() != 12 && salt.len() != SHA512_LEN {
        return Err(format!("salt is {} bytes, expected 12 or 64", salt.len()));
    }
    Ok(salt)
}

fn hash_bytes(b64: &str) -> Result<[u8; SHA512_LEN], String> {
    let hash = STANDARD
        .decode(b64)
        .map_err(|e| format!("hash is not base64: {e}"))?;
    let n = hash.len();
    hash.try_into()
        .map_err(|_| format!("hash is {n} bytes, expected 64"))
}

/// Compare without an early exit so timing does not leak the matching prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
