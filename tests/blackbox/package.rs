//! The Debian package: scripts/package.sh builds it (dev profile here, so
//! the suite reuses its debug binaries), dpkg installs it into a scratch
//! root (maintainer scripts chrootless, under DPKG_ROOT: the test machine
//! is not touched), and the installed broker runs. Then a purge.

use crate::common::broker::{serve_once, TempDir, SHARDMQ};
use crate::common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `BIN_DIR=<the binaries under test> scripts/package.sh`: the binaries
/// this suite runs, packaged as they are (nothing is rebuilt: a rebuild
/// would replace the binary other tests are starting). shardmq-bench is
/// built first if this is a narrow run that never built it.
fn build() -> PathBuf {
    let bin_dir = Path::new(SHARDMQ).parent().unwrap();
    if !bin_dir.join("shardmq-bench").exists() {
        run_ok(
            cargo_env(Command::new("cargo").args(["build", "-p", "shardmq-bench"])),
            Duration::from_secs(900),
        );
    }
    let out = run_ok(
        cargo_env(&mut Command::new(format!("{ROOT}/scripts/package.sh"))).env("BIN_DIR", bin_dir),
        Duration::from_secs(600),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let path = text.lines().rev().find(|l| l.ends_with(".deb")).unwrap();
    PathBuf::from(ROOT).join(path.trim())
}

/// Without the variables cargo set for this test process, so the cargo
/// run inside sees what a shell would.
fn cargo_env(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(ROOT)
}

fn text(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run_ok(cmd, Duration::from_secs(60)).stdout).into_owned()
}

/// An empty system for dpkg: its database and a passwd with root only.
fn scratch_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    for d in ["etc", "var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for (file, line) in [
        ("var/lib/dpkg/status", ""),
        ("var/lib/dpkg/available", ""),
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/group", "root:x:0:\n"),
        ("etc/shadow", "root:*:19000:0:99999:7:::\n"),
        ("etc/gshadow", "root:*::\n"),
    ] {
        fs::write(root.join(file), line).unwrap();
    }
    // The maintainer scripts start and stop the unit where systemd runs:
    // deb-systemd-invoke asks the scratch root's policy-rc.d (101: do not),
    // and `systemctl daemon-reload` finds a stand-in first on PATH, so
    // the test machine's systemd is never asked anything.
    for (file, body) in [
        ("usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n"),
        ("shim/systemctl", "#!/bin/sh\nexit 0\n"),
    ] {
        let path = root.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    root
}

/// dpkg on the scratch root, as root or under fakeroot.
fn dpkg(root: &Path, args: &[&str]) -> String {
    let as_root = euid() == 0;
    let mut cmd = match as_root {
        true => Command::new("dpkg"),
        false => {
            require_tool("fakeroot", "-v", "apt-get install fakeroot");
            let mut c = Command::new("fakeroot");
            c.arg("dpkg");
            c
        }
    };
    cmd.arg(format!("--root={}", root.display()))
        .args([
            "--force-script-chrootless",
            "--force-depends",
            "--force-not-root",
        ])
        .args(args)
        // dpkg looks for ldconfig and start-stop-daemon on PATH.
        .env(
            "PATH",
            format!(
                "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                root.join("shim").display()
            ),
        );
    text(&mut cmd)
}

/// The effective uid, from /proc (no libc call needed).
fn euid() -> u32 {
    fs::metadata("/proc/self").unwrap().uid()
}

#[test]
fn the_deb_installs_into_a_scratch_root_and_the_broker_runs() {
    if skip_on_mosquitto("shardmq's package") {
        return;
    }
    require_tool("dpkg-deb", "--version", "apt-get install dpkg");
    let deb = build();
    let deb_s = deb.to_str().unwrap();

    let fields =
        text(Command::new("dpkg-deb").args(["-f", deb_s, "Package", "Version", "Depends"]));
    assert!(fields.contains("Package: shardmq\n"), "{fields}");
    assert!(
        fields.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))),
        "{fields}"
    );
    assert!(
        fields.contains("libc6") && fields.contains("passwd"),
        "{fields}"
    );
    let list = text(Command::new("dpkg-deb").args(["-c", deb_s]));
    for file in [
        "./usr/bin/shardmq\n",
        "./usr/bin/shardmq-bench\n",
        "./etc/shardmq/shardmq.toml\n",
        "/systemd/system/shardmq.service\n",
        "./usr/share/doc/shardmq/deploy.md\n",
        "./usr/share/shardmq/grafana/shardmq.json\n",
    ] {
        assert!(list.contains(file), "{file} not in the package:\n{list}");
    }

    let dir = TempDir::new("deb");
    let control = dir.path().join("control");
    text(Command::new("dpkg-deb").args(["-e", deb_s]).arg(&control));
    let conffiles = fs::read_to_string(control.join("conffiles")).unwrap();
    assert!(
        conffiles.contains("/etc/shardmq/shardmq.toml"),
        "{conffiles}"
    );

    let root = scratch_root(dir.path());
    let host_wants = Path::new("/etc/systemd/system/multi-user.target.wants/shardmq.service");
    let host_had_it = host_wants.exists();
    dpkg(&root, &["-i", deb_s]);

    // The user, its data directory, the config readable by it alone, the
    // unit enabled: all inside the scratch root.
    let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap();
    let user = passwd
        .lines()
        .find(|l| l.starts_with("shardmq:"))
        .expect("no shardmq user");
    let uid: u32 = user.split(':').nth(2).unwrap().parse().unwrap();
    let data = fs::metadata(root.join("var/lib/shardmq")).unwrap();
    assert!(data.is_dir() && data.uid() == uid);
    let conf = root.join("etc/shardmq/shardmq.toml");
    assert_eq!(
        fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let wants = root.join("etc/systemd/system/multi-user.target.wants/shardmq.service");
    assert!(wants.symlink_metadata().is_ok(), "the unit is not enabled");
    assert_eq!(
        host_wants.exists(),
        host_had_it,
        "the test machine's systemd was touched"
    );

    // The installed binary: its version, its default config, and it serves.
    let bin = root.join("usr/bin/shardmq");
    let version = text(Command::new(&bin).arg("--version"));
    assert!(
        version.starts_with(&format!("shardmq {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let own = text(Command::new(SHARDMQ).arg("--version"));
    assert_eq!(version, own, "the package holds the binary under test");
    let ok = text(Command::new(&bin).arg("check-config").arg(&conf));
    assert!(ok.trim_end().ends_with(": ok"), "{ok}");
    let default = fs::read_to_string(&conf).unwrap();
    assert!(
        default.contains("listen = \"127.0.0.1:1883\"")
            && default.contains("allow_anonymous = true")
    );
    // On its installed config, on a free port.
    serve_once(
        Command::new(&bin)
            .arg("--config")
            .arg(&conf)
            .args(["--listen", "127.0.0.1:0", "--shards", "1"])
            .stderr(Stdio::null()),
        "the installed broker",
    );
    let bench = text(Command::new(root.join("usr/bin/shardmq-bench")).arg("--version"));
    assert!(bench.starts_with("shardmq-bench "), "{bench}");

    dpkg(&root, &["--purge", "shardmq"]);
    assert!(
        !bin.exists() && !root.join("var/lib/shardmq").exists(),
        "purge left files"
    );
}
