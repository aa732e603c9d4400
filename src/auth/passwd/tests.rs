use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const FILE: &str = "# shardmq users\nalice:$6$old\n\n# bob is ops\nbob:$7$101$x$y\n";

#[test]
fn set_replaces_the_line_in_place_and_keeps_the_rest() {
    let out = set_user(FILE, "alice", "NEW");
    assert_eq!(
        out,
        "# shardmq users\nalice:NEW\n\n# bob is ops\nbob:$7$101$x$y\n"
    );
}

#[test]
fn set_appends_a_new_user() {
    let out = set_user(FILE, "carol", "H");
    assert_eq!(out, format!("{FILE}carol:H\n"));
    // A file without a final newline gets one; an empty file gets one line.
    assert_eq!(set_user("a:1", "b", "2"), "a:1\nb:2\n");
    assert_eq!(set_user("", "a", "1"), "a:1\n");
}

#[test]
fn a_user_named_in_a_comment_is_not_that_user() {
    let out = set_user("#alice:x\n", "alice", "H");
    assert_eq!(out, "#alice:x\nalice:H\n");
}

#[test]
fn delete_removes_only_that_user() {
    let out = delete_user(FILE, "bob").unwrap();
    assert_eq!(out, "# shardmq users\nalice:$6$old\n\n# bob is ops\n");
    assert_eq!(delete_user(FILE, "carol"), None);
    assert_eq!(delete_user("#bob:x\n", "bob"), None);
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shardmq-passwd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn req(file: &Path, user: &str, create: bool, action: Action) -> Request {
    Request {
        file: file.to_path_buf(),
        user: user.into(),
        create,
        action,
    }
}

fn set(pw: &str) -> Action {
    Action::Set(Some(pw.into()))
}

#[test]
fn run_creates_0600_keeps_mode_and_leaves_no_temp_file() {
    let dir = scratch("run");
    let f = dir.join("passwd");
    let e = run(req(&f, "alice", false, set("pw"))).unwrap_err();
    assert!(e.contains("no such file") && e.contains("-c"), "{e}");
    run(req(&f, "alice", true, set("pw"))).unwrap();
    assert_eq!(mode(&f), 0o600);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    run(req(&f, "bob", false, set("pw2"))).unwrap();
    assert_eq!(mode(&f), 0o640, "an existing file keeps its mode");
    let users = crate::auth::password::PasswordFile::load(&f).unwrap();
    assert!(users.get("alice").unwrap().verify(b"pw"));
    assert!(users.get("bob").unwrap().verify(b"pw2"));
    run(req(&f, "alice", false, Action::Delete)).unwrap();
    let e = run(req(&f, "alice", false, Action::Delete)).unwrap_err();
    assert!(e.contains("is not in"), "{e}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "a temp file was left"
    );
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.starts_with("bob:$argon2id$") && text.lines().count() == 1,
        "{text}"
    );
    // -c overwrites.
    run(req(&f, "carol", true, set("x"))).unwrap();
    assert!(std::fs::read_to_string(&f).unwrap().starts_with("carol:"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_refuses_bad_names_and_empty_passwords() {
    let dir = scratch("bad");
    let f = dir.join("passwd");
    let e = run(req(&f, "a:b", true, set("pw"))).unwrap_err();
    assert!(e.contains("':'"), "{e}");
    let e = run(req(&f, "a", true, set(""))).unwrap_err();
    assert!(e.contains("empty"), "{e}");
    assert!(!f.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_symlinked_file_is_written_through_the_link() {
    let dir = scratch("link");
    let real = dir.join("real");
    let link = dir.join("link");
    std::fs::write(&real, "").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    run(req(&link, "alice", false, set("pw"))).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .starts_with("alice:"));
    std::fs::remove_dir_all(&dir).unwrap();
}
