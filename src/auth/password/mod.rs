//! The password file (`[auth] password_file`): one `user:hash` per line,
//! blank lines and `#` comments allowed, as Mosquitto's. Never clear text:
//! a line whose hash is not one we can verify refuses the whole file,
//! naming the line and the reason, at start-up and on SIGHUP alike.

mod hash;

pub use hash::{PasswordHash, ARGON2_M_KIB, ARGON2_P, ARGON2_T};

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The users of a password file, each with its hash.
#[derive(Debug, Default)]
pub struct PasswordFile {
    users: HashMap<String, Arc<PasswordHash>>,
}

impl PasswordFile {
    /// Read and parse `path`. Errors read `PATH:LINE: reason`.
    pub fn load(path: &Path) -> Result<PasswordFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read password file {}: {e}", path.display()))?;
        PasswordFile::parse(&text)
            .map_err(|(line, why)| format!("{}:{line}: {why}", path.display()))
    }

    /// Parse a file's text; the error is (line number, reason).
    pub fn parse(text: &str) -> Result<PasswordFile, (usize, String)> {
        let mut users = HashMap::new();
        let mut seen_on: HashMap<&str, usize> = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let Some((user, hash)) = split_line(line).map_err(|e| (n, e.to_string()))? else {
                continue;
            };
            if let Some(first) = seen_on.insert(user, n) {
                return Err((n, format!("user {user:?} is already on line {first}")));
            }
            let hash = PasswordHash::parse(hash).map_err(|e| (n, format!("user {user:?}: {e}")))?;
            users.insert(user.to_string(), Arc::new(hash));
        }
        Ok(PasswordFile { users })
    }

    pub fn get(&self, user: &str) -> Option<&Arc<PasswordHash>> {
        self.users.get(user)
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// A line's (user, hash), or `None` for a blank line or a comment.
pub fn split_line(line: &str) -> Result<Option<(&str, &str)>, &'static str> {
    let line = line.trim_end_matches(['\r', ' ', '\t']);
    if line.trim_start().is_empty() || line.trim_start().starts_with('#') {
        return Ok(None);
    }
    let (user, hash) = line.split_once(':').ok_or("expected user:hash")?;
    if user.is_empty() {
        return Err("the user name is empty");
    }
    if hash.is_empty() {
        return Err("the hash is empty");
    }
    if hash.contains(':') {
        return Err("more than one ':' (a user name cannot contain ':')");
    }
    Ok(Some((user, hash)))
}

/// Why `user` cannot be written to a password file, if it cannot.
pub fn check_user_name(user: &str) -> Result<(), String> {
    if user.is_empty() {
        return Err("the user name is empty".into());
    }
    if user.contains(':') {
        return Err(format!("user name {user:?} contains ':'"));
    }
    if user.chars().any(char::is_control) {
        return Err(format!("user name {user:?} contains a control character"));
    }
    if user.starts_with('#') || user.trim() != user {
        return Err(format!(
            "user name {user:?} starts with '#' or has spaces at either end"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
