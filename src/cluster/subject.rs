//! MQTT topics and filters as NATS subjects.
//!
//! A topic `a/b` is the subject `smq.m.a.b`. A level that is not a safe NATS
//! token (empty, or holding `.`, `*`, `>`, `~`, a space or anything outside
//! printable ASCII) is written as `~` followed by its UTF-8 bytes in
//! lower-case base32hex without padding, so the mapping is reversible and
//! an escaped level never looks like a safe one. A filter becomes the
//! subjects that match at least every topic it matches: `+` is `*`, a
//! trailing `#` is both its parent and its parent followed by `>`. NATS
//! matching is only a pre-filter: it lets `$SYS/x` through to `+/x`, which
//! MQTT forbids [MQTT-4.7.2-1], so the receiving node checks every message
//! against its own subscriptions again.

/// Prefix of the subjects that carry published messages.
pub const MESSAGES: &str = "smq.m";

const ESCAPE: char = '~';
const B32: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// The subject of a topic name.
pub fn topic_subject(topic: &str) -> String {
    let mut s = String::with_capacity(MESSAGES.len() + topic.len() + 8);
    s.push_str(MESSAGES);
    for level in topic.split('/') {
        s.push('.');
        push_level(&mut s, level);
    }
    s
}

/// The topic name of a subject [`topic_subject`] made; `None` for anything
/// else.
pub fn subject_topic(subject: &str) -> Option<String> {
    let rest = subject.strip_prefix(MESSAGES)?.strip_prefix('.')?;
    let mut topic = String::with_capacity(rest.len());
    for (i, token) in rest.split('.').enumerate() {
        if i > 0 {
            topic.push('/');
        }
        match token.strip_prefix(ESCAPE) {
            Some(b32) => topic.push_str(&String::from_utf8(decode(b32)?).ok()?),
            None if safe(token) => topic.push_str(token),
            None => return None,
        }
    }
    Some(topic)
}

/// The subjects to subscribe to for a (valid) topic filter.
pub fn filter_subjects(filter: &str) -> Vec<String> {
    let mut s = String::from(MESSAGES);
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level == "#" && levels.peek().is_none() {
            // `a/#` matches `a` itself and everything below it.
            let parent = (s != MESSAGES).then(|| s.clone());
            s.push_str(".>");
            return parent.into_iter().chain([s]).collect();
        }
        s.push('.');
        match level {
            "+" => s.push('*'),
            l => push_level(&mut s, l),
        }
    }
    vec![s]
}

/// A level NATS can carry as it is.
fn safe(level: &str) -> bool {
    !level.is_empty()
        && level
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'.' | b'*' | b'>' | b'~'))
}

fn push_level(s: &mut String, level: &str) {
    if safe(level) {
        s.push_str(level);
    } else {
        s.push(ESCAPE);
        encode(level.as_bytes(), s);
    }
}

/// Base32hex, lower case, no padding.
fn encode(bytes: &[u8], out: &mut String) {
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = acc << 8 | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[(acc >> bits & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[(acc << (5 - bits) & 31) as usize] as char);
    }
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let (mut acc, mut bits) = (0u32, 0);
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    for c in s.bytes() {
        let v = B32.iter().position(|&x| x == c)? as u32;
        acc = (acc << 5 | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits are padding: fewer than 5, and zero.
    (bits < 5 && acc & ((1 << bits) - 1) == 0).then_some(out)
}

#[cfg(test)]
#[path = "subject_tests.rs"]
mod tests;
