//! `shardmq passwd`: add, change or delete a user in a password file, with
//! `mosquitto_passwd`'s flags. New passwords are hashed with argon2id
//! (PHC string, [`ARGON2_M_KIB`] KiB, [`ARGON2_T`] passes, [`ARGON2_P`]
//! lane: OWASP's recommendation). The file is rewritten atomically and
//! keeps its other lines (comments, other users, Mosquitto hashes) as they
//! were, in order.

mod atomic;
mod prompt;

use super::password::{check_user_name, split_line, PasswordHash};
#[cfg(doc)]
use super::password::{ARGON2_M_KIB, ARGON2_P, ARGON2_T};
use std::path::PathBuf;

/// What to do with the user.
pub enum Action {
    /// Set the password: this one (`-b`), or ask for it twice on the terminal.
    Set(Option<String>),
    /// `-D`: remove the user.
    Delete,
}

pub struct Request {
    pub file: PathBuf,
    pub user: String,
    /// `-c`: start from an empty file (created, or overwritten).
    pub create: bool,
    pub action: Action,
}

/// Carry out a request; the error is the message for the operator.
pub fn run(r: Request) -> Result<(), String> {
    check_user_name(&r.user)?;
    let file = r.file.display();
    let old = if r.create {
        String::new()
    } else {
        std::fs::read_to_string(&r.file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{file}: no such file (-c creates it)"),
            _ => format!("cannot read {file}: {e}"),
        })?
    };
    let new = match r.action {
        Action::Delete => {
            delete_user(&old, &r.user).ok_or(format!("user {:?} is not in {file}", r.user))?
        }
        Action::Set(given) => {
            let password = match given {
                Some(p) => p,
                None => prompt::new_password()?,
            };
            if password.is_empty() {
                return Err("the password is empty".into());
            }
            set_user(
                &old,
                &r.user,
                &PasswordHash::new_argon2id(password.as_bytes())?,
            )
        }
    };
    atomic::write(&r.file, new.as_bytes()).map_err(|e| format!("cannot write {file}: {e}"))
}

/// `text` with `user`'s line replaced by `user:hash`, or the line added at
/// the end. Every other line stays as it was.
pub fn set_user(text: &str, user: &str, hash: &str) -> String {
    let entry = format!("{user}:{hash}");
    let mut found = false;
    let mut lines: Vec<&str> = text
        .lines()
        .map(|l| {
            if !found && user_of(l) == Some(user) {
                found = true;
                entry.as_str()
            } else {
                l
            }
        })
        .collect();
    if !found {
        lines.push(&entry);
    }
    join(&lines)
}

/// `text` without `user`'s line; `None` if the user is not in it.
pub fn delete_user(text: &str, user: &str) -> Option<String> {
    let before = text.lines().count();
    let lines: Vec<&str> = text.lines().filter(|l| user_of(l) != Some(user)).collect();
    (lines.len() < before).then(|| join(&lines))
}

fn user_of(line: &str) -> Option<&str> {
    split_line(line).ok().flatten().map(|(u, _)| u)
}

fn join(lines: &[&str]) -> String {
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
