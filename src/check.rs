//! `shardmq check-config FILE`: everything start-up would refuse, found
//! without starting (no socket is bound): the file parses, every value is
//! valid, and every file it names loads (TLS certificates, keys and CA
//! bundles, the password file, the ACL file). Every problem is named, not
//! only the first.

use crate::auth::acl::Acl;
use crate::auth::password::PasswordFile;
use crate::config::Config;
use crate::transport::tls;
use std::path::Path;

/// The problems of the config at `path`; empty when the broker would start
/// with it (as far as files go: ports are only known by binding them).
pub fn config_file(path: &Path) -> Vec<String> {
    let cfg = match Config::from_file(path) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let mut out = cfg.problems();
    out.extend(files(&cfg));
    out
}

/// The files the config names, loaded as start-up loads them.
fn files(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for l in cfg.all_listeners() {
        let complete = l.certfile.is_some() && l.keyfile.is_some();
        if l.transport.uses_tls() && complete {
            if let Err(e) = tls::server_config(&l) {
                out.push(format!("listener {}: {e}", l.bind));
            }
        }
    }
    if let Some(p) = &cfg.auth.password_file {
        if let Err(e) = PasswordFile::load(p) {
            out.push(format!("auth.password_file: {e}"));
        }
    }
    if let Some(p) = &cfg.auth.acl_file {
        if let Err(e) = Acl::load(p) {
            out.push(e);
        }
    }
    out
}
