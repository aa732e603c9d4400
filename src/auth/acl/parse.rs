//! The `acl_file` syntax, read as Mosquitto reads it (mosquitto.conf(5),
//! `aclfile__parse` in its `security_default.c`):
//!
//! ```text
//! # comment
//! topic [read|write|readwrite|deny] FILTER     (no access word: readwrite)
//! user NAME                                    (later `topic` lines are NAME's)
//! pattern [read|write|readwrite|deny] FILTER   (%c: client id, %u: user name)
//! ```
//!
//! `topic` lines before the first `user` line are the anonymous clients'
//! (no user name). `pattern` lines apply to every client wherever they
//! stand. A user named twice gets both sections' rules. The filter is the
//! rest of the line, so it may hold spaces; `topic read` alone is
//! `readwrite` on the topic `read`, as in Mosquitto.
//!
//! Where Mosquitto is stricter, we accept a little more: tabs as well as
//! spaces between words, and `#` comments after leading blanks (Mosquitto
//! refuses both files, so no file means something else here).

use crate::protocol::validate_topic_filter;
use std::fmt;

/// What a rule grants, or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAccess {
    Read,
    Write,
    ReadWrite,
    Deny,
}

/// One `topic` or `pattern` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub access: RuleAccess,
    pub filter: String,
    /// 1-based line in the file, for messages.
    pub line: usize,
}

/// A whole file, grouped as the checks use it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rules {
    /// `topic` lines before the first `user` line.
    pub anonymous: Vec<Rule>,
    /// Per user name, in the order names first appear.
    pub users: Vec<(String, Vec<Rule>)>,
    /// `pattern` lines.
    pub patterns: Vec<Rule>,
}

/// Why a file was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Parse a file's bytes (each line must be UTF-8).
pub fn parse(text: &[u8]) -> Result<Rules, ParseError> {
    let mut rules = Rules::default();
    // Index into `rules.users` of the current `user` section.
    let mut user: Option<usize> = None;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let err = |reason: String| ParseError { line, reason };
        let text = std::str::from_utf8(raw).map_err(|_| err("not valid UTF-8".into()))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (keyword, rest) = word(text);
        match keyword {
            "topic" | "pattern" => {
                let rule = rule(rest, line).map_err(err)?;
                if keyword == "pattern" {
                    rules.patterns.push(rule);
                } else if let Some(u) = user {
                    rules.users[u].1.push(rule);
                } else {
                    rules.anonymous.push(rule);
                }
            }
            "user" => {
                if rest.is_empty() {
                    return Err(err("`user` needs a user name".into()));
                }
                let at = rules.users.iter().position(|(n, _)| n == rest);
                user = Some(at.unwrap_or_else(|| {
                    rules.users.push((rest.to_string(), Vec::new()));
                    rules.users.len() - 1
                }));
            }
            other => {
                return Err(err(format!(
                    "unknown keyword {other:?} (expected topic, user or pattern)"
                )))
            }
        }
    }
    Ok(rules)
}

/// The words after `topic`/`pattern`: an optional access word, then the
/// filter (the rest of the line).
fn rule(rest: &str, line: usize) -> Result<Rule, String> {
    let (first, filter) = word(rest);
    if first.is_empty() {
        return Err("a topic filter is missing".into());
    }
    let (access, filter) = if filter.is_empty() {
        (RuleAccess::ReadWrite, first)
    } else {
        let access = match first {
            "read" => RuleAccess::Read,
            "write" => RuleAccess::Write,
            "readwrite" => RuleAccess::ReadWrite,
            "deny" => RuleAccess::Deny,
            other => {
                return Err(format!(
                    "unknown access {other:?} (expected read, write, readwrite or deny)"
                ))
            }
        };
        (access, filter)
    };
    validate_topic_filter(filter).map_err(|e| format!("invalid topic filter {filter:?}: {e}"))?;
    Ok(Rule {
        access,
        filter: filter.to_string(),
        line,
    })
}

/// First word and the trimmed rest.
fn word(s: &str) -> (&str, &str) {
    match s.split_once([' ', '\t']) {
        Some((w, rest)) => (w, rest.trim()),
        None => (s, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RuleAccess::*;

    fn r(access: RuleAccess, filter: &str, line: usize) -> Rule {
        Rule {
            access,
            filter: filter.into(),
            line,
        }
    }

    fn fails(text: &str) -> ParseError {
        parse(text.as_bytes()).expect_err(text)
    }

    #[test]
    fn every_keyword_and_access_word() {
        let text = "# anonymous first\n\
                    topic read public/#\n\
                    \n\
                    topic anything\n\
                    user alice\n\
                    topic write alice/out\n\
                    topic readwrite alice/+/x\n\
                    topic deny alice/secret\n\
                    pattern read devices/%c/#\n\
                    user bob\n\
                    topic read\n\
                    user alice\n\
                    topic readwrite a b c\n\
                    \t# indented comment\r\n\
                    pattern deny %u/private";
        let rules = parse(text.as_bytes()).unwrap();
        assert_eq!(
            rules.anonymous,
            vec![r(Read, "public/#", 2), r(ReadWrite, "anything", 4)]
        );
        assert_eq!(rules.users.len(), 2, "a user named twice is one section");
        assert_eq!(rules.users[0].0, "alice");
        assert_eq!(
            rules.users[0].1,
            vec![
                r(Write, "alice/out", 6),
                r(ReadWrite, "alice/+/x", 7),
                r(Deny, "alice/secret", 8),
                // The rest of the line is the filter.
                r(ReadWrite, "a b c", 13),
            ]
        );
        // `topic read` alone is readwrite on the topic "read" (Mosquitto).
        assert_eq!(
            rules.users[1],
            ("bob".into(), vec![r(ReadWrite, "read", 11)])
        );
        assert_eq!(
            rules.patterns,
            vec![r(Read, "devices/%c/#", 9), r(Deny, "%u/private", 15)]
        );
    }

    #[test]
    fn a_user_name_may_hold_spaces_and_tabs_separate_words() {
        let rules = parse(b"user  john smith \ntopic\tread\tx/y").unwrap();
        assert_eq!(rules.users[0].0, "john smith");
        assert_eq!(rules.users[0].1, vec![r(Read, "x/y", 2)]);
    }

    #[test]
    fn errors_name_the_line_and_the_reason() {
        let e = fails("topic read a\n\nfoo bar\n");
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("unknown keyword \"foo\""), "{e}");
        assert_eq!(e.to_string(), format!("line 3: {}", e.reason));

        let e = fails("topic\n");
        assert_eq!(
            (e.line, e.reason.as_str()),
            (1, "a topic filter is missing")
        );
        let e = fails("user alice\nuser \n");
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("user name"), "{e}");
        let e = fails("topic reed a/b\n");
        assert!(e.reason.contains("unknown access \"reed\""), "{e}");
        for bad in ["a/#/b", "a+", "a/b#", "pattern read %c/x#"] {
            let text = if bad.starts_with("pattern") {
                bad.to_string()
            } else {
                format!("topic read {bad}")
            };
            let e = fails(&format!("# c\n{text}"));
            assert_eq!(e.line, 2, "{bad}");
            assert!(e.reason.contains("invalid topic filter"), "{bad}: {e}");
        }
        let e = parse(b"topic read a\n\xff\n").unwrap_err();
        assert_eq!((e.line, e.reason.as_str()), (2, "not valid UTF-8"));
        // Keywords are case-sensitive, as in Mosquitto.
        assert_eq!(fails("Topic read a").line, 1);
    }

    #[test]
    fn empty_and_comment_only_files_have_no_rules() {
        assert_eq!(parse(b"").unwrap(), Rules::default());
        assert_eq!(parse(b"# nothing\n\n   \n").unwrap(), Rules::default());
        // `topic #` is a rule on the filter `#`, not a comment.
        assert_eq!(
            parse(b"topic #").unwrap().anonymous,
            vec![r(ReadWrite, "#", 1)]
        );
    }
}
