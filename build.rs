//! Build-time facts for `shardmq --version`: the git commit (the short
//! hash, "unknown" outside a git checkout) and the glommio version from
//! Cargo.lock.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let commit = git(&dir, &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SHARDMQ_GIT_COMMIT={commit}");
    let lock = dir.join("Cargo.lock");
    let glommio = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|t| locked_version(&t, "glommio"))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SHARDMQ_GLOMMIO_VERSION={glommio}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.lock");
    // A commit moves the branch's ref, a checkout moves HEAD. Only paths
    // that exist: cargo reruns the script every build for a missing one.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watch.extend(git(&dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in watch {
        if let Some(p) = git(&dir, &["rev-parse", "--git-path", &name]) {
            let p = dir.join(p); // relative to `dir` unless already absolute
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}

/// `git ARGS` in `dir`, its trimmed output if it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// The `version` of the `[[package]]` named `name` in a Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let want = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    lines.find(|l| l.trim() == want)?;
    let v = lines.next()?.trim().strip_prefix("version = \"")?;
    Some(v.trim_end_matches('"').to_string())
}
