//! `%` templates for client IDs and topics.
//!
//! `%i` client index, `%t` thread, `%r` run tag (random per run, so client
//! IDs never collide with a previous run's persistent sessions), `%R` role
//! (`p` publisher, `s` subscriber, `c` idle connection), `%%` a literal `%`.

/// Values a template is expanded with.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    pub index: u64,
    pub thread: usize,
    pub run: &'a str,
    pub role: char,
}

/// Reject unknown or dangling `%` escapes; `allowed` lists the letters this
/// template may use.
pub fn validate(tpl: &str, allowed: &[char]) -> Result<(), String> {
    let mut chars = tpl.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%') => {}
            Some(x) if allowed.contains(&x) => {}
            Some(x) => return Err(format!("unknown placeholder %{x} in {tpl:?}")),
            None => return Err(format!("template {tpl:?} ends with a lone %")),
        }
    }
    Ok(())
}

/// Whether the template uses the placeholder `%<c>`.
pub fn uses(tpl: &str, c: char) -> bool {
    let mut chars = tpl.chars();
    while let Some(x) = chars.next() {
        if x == '%' {
            match chars.next() {
                Some(y) if y == c => return true,
                _ => {}
            }
        }
    }
    false
}

pub fn expand(tpl: &str, v: &Vars) -> String {
    let mut out = String::with_capacity(tpl.len() + 16);
    let mut chars = tpl.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('i') => out.push_str(&v.index.to_string()),
            Some('t') => out.push_str(&v.thread.to_string()),
            Some('r') => out.push_str(v.run),
            Some('R') => out.push(v.role),
            Some('%') => out.push('%'),
            Some(x) => {
                // Only reachable for templates `validate` did not see.
                out.push('%');
                out.push(x);
            }
            None => out.push('%'),
        }
    }
    out
}

/// The wildcard filter that catches every topic of a publisher template:
/// each level that is exactly `%i` becomes `+`. `None` when `%i` is part of
/// a level (`bench/t%i`): no filter catches exactly those, the user must say.
pub fn filter_for(topic_tpl: &str) -> Option<String> {
    let levels: Vec<&str> = topic_tpl.split('/').collect();
    if levels.iter().any(|l| *l != "%i" && uses(l, 'i')) {
        return None;
    }
    let out: Vec<&str> = levels
        .iter()
        .map(|l| if *l == "%i" { "+" } else { l })
        .collect();
    Some(out.join("/"))
}

/// The payload's 8-bit run id: the low bits of the `%r` tag.
pub fn run_id(tag: &str) -> u8 {
    u32::from_str_radix(tag, 16).map_or(0, |v| v as u8)
}

/// A short random tag for `%r`: the std hasher is seeded from the OS.
pub fn run_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::clock::now_ns());
    h.write_u32(std::process::id());
    format!("{:06x}", h.finish() & 0xFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars<'static> {
        Vars {
            index: 42,
            thread: 3,
            run: "abc123",
            role: 'p',
        }
    }

    #[test]
    fn expands_every_placeholder() {
        assert_eq!(expand("bench-%r-%R%i@%t", &vars()), "bench-abc123-p42@3");
        assert_eq!(expand("100%%-%i", &vars()), "100%-42");
        assert_eq!(expand("plain", &vars()), "plain");
    }

    #[test]
    fn validate_rejects_unknown_and_dangling() {
        assert!(validate("a/%i/%r", &['i', 'r']).is_ok());
        assert!(validate("a%%b", &[]).is_ok());
        assert!(validate("a/%t", &['i']).unwrap_err().contains("%t"));
        assert!(validate("a/%", &['i']).unwrap_err().contains("lone"));
    }

    #[test]
    fn uses_ignores_escaped_percent() {
        assert!(uses("x-%i", 'i'));
        assert!(!uses("x-%%i", 'i'));
        assert!(!uses("x", 'i'));
    }

    #[test]
    fn filter_from_topic_template() {
        assert_eq!(filter_for("bench/%i/t").as_deref(), Some("bench/+/t"));
        assert_eq!(filter_for("%i").as_deref(), Some("+"));
        assert_eq!(filter_for("bench/all").as_deref(), Some("bench/all"));
        assert_eq!(filter_for("bench/t%i"), None);
    }

    #[test]
    fn run_tags_are_six_hex_digits() {
        let t = run_tag();
        assert_eq!(t.len(), 6);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(run_id("abc123"), 0x23);
    }
}
