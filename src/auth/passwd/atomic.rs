//! Replace a file atomically: a temporary file in the same directory,
//! written and fsynced, then renamed over the old one, then the directory
//! fsynced. A crash leaves the old file or the new one, never half of it.
//! A new file is created 0600; an existing one keeps its mode and, where
//! the OS lets us, its owner.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    // Through a symlink to the file it names, so the link stays a link.
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let old = fs::metadata(&path).ok();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let result = write_tmp(&tmp, contents, old.as_ref()).and_then(|()| fs::rename(&tmp, &path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // The rename is durable once the directory is.
    File::open(&dir)?.sync_all()
}

fn write_tmp(tmp: &Path, contents: &[u8], old: Option<&fs::Metadata>) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    if let Some(m) = old {
        // Best effort: only root may give a file to another user.
        let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        f.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
    }
    f.write_all(contents)?;
    f.sync_all()
}
