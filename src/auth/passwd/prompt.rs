//! Asking for a password twice, without echo when standard input is a
//! terminal (termios). From a pipe the lines are read as they come, so
//! scripts and tests can feed them.

use std::io::{self, BufRead, Write};

/// Ask twice; the two must match.
pub fn new_password() -> Result<String, String> {
    let first = ask("Password: ")?;
    let second = ask("Reenter password: ")?;
    if first != second {
        return Err("the passwords do not match".into());
    }
    Ok(first)
}

fn ask(prompt: &str) -> Result<String, String> {
    eprint!("{prompt}");
    let _ = io::stderr().flush();
    let quiet = EchoOff::on_stdin();
    let mut line = String::new();
    let n = io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    drop(quiet);
    if n == 0 {
        return Err("no password given (end of input)".into());
    }
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}

/// Echo off on a terminal while it lives; nothing on a pipe.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn on_stdin() -> Option<EchoOff> {
        // SAFETY: all-zero is a valid termios (plain integers and arrays).
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 is ours to query; `t` is a valid, writable termios.
        if unsafe { libc::isatty(0) } != 1 || unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        // The Enter key still shows as a new line.
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        // SAFETY: `t` is the terminal's own settings with two flags changed.
        if unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, &t) } != 0 {
            return None;
        }
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from the same fd.
        unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, &self.saved) };
    }
}
