use super::*;
use std::process::Command;

/// A `user:hash` line written by Debian's `mosquitto_passwd` (package
/// `mosquitto`; scripts/test.sh installs it) with hash type `kind`.
fn mosquitto_line(kind: &str, user: &str, password: &str) -> String {
    let dir = std::env::temp_dir().join(format!("shardmq-mpw-{}-{kind}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("passwd");
    let st = Command::new("mosquitto_passwd")
        .args(["-H", kind, "-c", "-b"])
        .arg(&file)
        .args([user, password])
        .status()
        .expect("mosquitto_passwd missing: apt-get install mosquitto (scripts/test.sh does)");
    assert!(st.success(), "mosquitto_passwd failed");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    text.trim_end().to_string()
}

fn hash_of(line: &str) -> PasswordHash {
    let (_, h) = split_line(line).unwrap().unwrap();
    PasswordHash::parse(h).unwrap()
}

#[test]
fn mosquitto_sha512_pbkdf2_line_verifies() {
    let line = mosquitto_line("sha512-pbkdf2", "alice", "s3cret pass");
    assert!(line.starts_with("alice:$7$101$"), "{line}");
    let h = hash_of(&line);
    assert!(matches!(h, PasswordHash::Pbkdf2Sha512 { .. }));
    assert!(h.verify(b"s3cret pass"));
    assert!(!h.verify(b"s3cret pasS"));
    assert!(!h.verify(b""));
}

#[test]
fn mosquitto_sha512_line_verifies() {
    let line = mosquitto_line("sha512", "bob", "hunter2");
    assert!(line.starts_with("bob:$6$"), "{line}");
    let h = hash_of(&line);
    assert!(matches!(h, PasswordHash::Sha512 { .. }));
    assert!(h.verify(b"hunter2"));
    assert!(!h.verify(b"hunter3"));
}

#[test]
fn argon2id_round_trip() {
    let phc = PasswordHash::new_argon2id(b"correct horse").unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    let h = PasswordHash::parse(&phc).unwrap();
    assert!(h.verify(b"correct horse"));
    assert!(!h.verify(b"correct horsE"));
    // A fresh salt every time.
    assert_ne!(phc, PasswordHash::new_argon2id(b"correct horse").unwrap());
}

/// Fixed vectors, independent of any tool: `$6$` is SHA-512(password ||
/// salt) and `$7$` PBKDF2-HMAC-SHA512 (values computed with Python's
/// hashlib), salt "0123456789ab" (12 bytes).
#[test]
fn known_vectors() {
    let sha = "$6$MDEyMzQ1Njc4OWFi$\
        QQ3PWSJ3IyGPP66YMDh3aUdVyS29efC2oPtFLnz5O/EXQO4dovrApaaZv32acQ3b0Lt02H8GBYcsYpkBYYcERg==";
    assert!(PasswordHash::parse(sha).unwrap().verify(b"password"));
    let pbkdf2 = "$7$101$MDEyMzQ1Njc4OWFi$\
        uAhjSMFrFKPND0iWyTXsxET36hDBAvu7LqiX1au82iDOT9W7IG9XGjasDAepCB3nZMPp79k+PyCilDXRAZuIVA==";
    assert!(PasswordHash::parse(pbkdf2).unwrap().verify(b"password"));
}

#[test]
fn a_file_with_comments_blank_lines_and_every_format() {
    let argon = PasswordHash::new_argon2id(b"a").unwrap();
    let text = format!(
        "# users\n\n  \nalice:{argon}\r\n   # indented comment\n\
         bob:$6$MDEyMzQ1Njc4OWFi$QQ3PWSJ3IyGPP66YMDh3aUdVyS29efC2oPtFLnz5O/EXQO4dovrApaaZv32acQ3b0Lt02H8GBYcsYpkBYYcERg==\n"
    );
    let f = PasswordFile::parse(&text).unwrap();
    assert_eq!(f.len(), 2);
    assert!(f.get("alice").unwrap().verify(b"a"));
    assert!(f.get("bob").unwrap().verify(b"password"));
    assert!(f.get("carol").is_none());
    assert!(PasswordFile::parse("").unwrap().is_empty());
}

/// Each malformed line is refused with its line number and a reason.
#[test]
fn malformed_lines_name_the_line_and_the_reason() {
    let good = "alice:$6$MDEyMzQ1Njc4OWFi$QQ3PWSJ3IyGPP66YMDh3aUdVyS29efC2oPtFLnz5O/EXQO4dovrApaaZv32acQ3b0Lt02H8GBYcsYpkBYYcERg==";
    let cases = [
        ("bob", "expected user:hash"),
        ("bob:secret", "clear text is not accepted"),
        (":$6$x$y", "user name is empty"),
        ("bob:", "hash is empty"),
        ("bob:$5$abc$def", "only $argon2id$, $6$ and $7$"),
        (
            "bob:$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            "only $argon2id$",
        ),
        ("bob:$argon2id$v=19$m=oops", "argon2id"),
        ("bob:$6$MDEyMzQ1Njc4OWFi", "expected $6$<salt>$<hash>"),
        ("bob:$6$!!!$AAAA", "salt is not base64"),
        ("bob:$6$YWJj$AAAA", "salt is 3 bytes"),
        ("bob:$6$MDEyMzQ1Njc4OWFi$AAAA", "hash is 3 bytes"),
        ("bob:$7$0$MDEyMzQ1Njc4OWFi$AAAA", "iteration count"),
        ("bob:$7$many$MDEyMzQ1Njc4OWFi$AAAA", "iteration count"),
        ("bob:$6$a:b$c", "more than one ':'"),
        (good, "already on line 2"),
    ];
    for (bad, why) in cases {
        let text = format!("# header\n{good}\n\n{bad}\n");
        let (line, msg) = PasswordFile::parse(&text)
            .err()
            .unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert_eq!(line, 4, "{bad:?}: {msg}");
        assert!(msg.contains(why), "{bad:?}: {msg:?} does not say {why:?}");
    }
}

#[test]
fn load_names_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("shardmq-pwload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("passwd");
    std::fs::write(&path, "# x\nalice:plain\n").unwrap();
    let e = PasswordFile::load(&path).unwrap_err();
    assert!(e.starts_with(&format!("{}:2: ", path.display())), "{e}");
    let e = PasswordFile::load(&dir.join("missing")).unwrap_err();
    assert!(e.contains("cannot read password file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn user_names_that_cannot_be_written() {
    assert!(check_user_name("alice").is_ok());
    assert!(check_user_name("a:b").unwrap_err().contains("':'"));
    for bad in ["", "#x", " x", "x ", "a\nb"] {
        assert!(check_user_name(bad).is_err(), "{bad:?}");
    }
}

/// A hash never shows in a log line or a panic message.
#[test]
fn debug_hides_the_hash() {
    let h = PasswordHash::parse(&PasswordHash::new_argon2id(b"x").unwrap()).unwrap();
    assert_eq!(format!("{h:?}"), "PasswordHash::Argon2id");
}
