//! Test certificates, made at test time (never committed keys): a CA, a
//! server certificate for 127.0.0.1/localhost, client certificates (good,
//! expired, from another CA, without a CN), as PEM files in a scratch
//! directory, and rustls client configurations that use them.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::broker::TempDir;

/// PEM files of one test PKI.
pub struct Certs {
    pub dir: TempDir,
}

type Ca = CertifiedIssuer<'static, KeyPair>;

fn ca(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// Write `<name>.pem` and `<name>.key`, signed by `ca`.
fn leaf(dir: &Path, name: &str, ca: &Ca, edit: impl FnOnce(&mut CertificateParams)) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    // rcgen's default subject has a CN of its own.
    p.distinguished_name = DistinguishedName::new();
    edit(&mut p);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, ca).unwrap();
    fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

fn cn(p: &mut CertificateParams, name: &str) {
    p.distinguished_name.push(DnType::CommonName, name);
}

impl Certs {
    pub fn new() -> Certs {
        let dir = TempDir::new("certs");
        let d = dir.path();
        let ca1 = ca("shardmq test CA");
        fs::write(d.join("ca.pem"), ca1.pem()).unwrap();
        leaf(d, "server", &ca1, |p| {
            cn(p, "localhost");
            p.subject_alt_names = vec![
                SanType::DnsName("localhost".try_into().unwrap()),
                SanType::IpAddress([127, 0, 0, 1].into()),
            ];
        });
        leaf(d, "alice", &ca1, |p| cn(p, "alice"));
        leaf(d, "bob", &ca1, |p| cn(p, "bob"));
        leaf(d, "no-cn", &ca1, |p| {
            p.distinguished_name
                .push(DnType::OrganizationName, "nobody");
        });
        leaf(d, "expired", &ca1, |p| {
            cn(p, "alice");
            p.not_before = date_time_ymd(2001, 1, 1);
            p.not_after = date_time_ymd(2002, 1, 1);
        });
        let ca2 = ca("some other CA");
        fs::write(d.join("other-ca.pem"), ca2.pem()).unwrap();
        leaf(d, "untrusted", &ca2, |p| cn(p, "alice"));
        Certs { dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// `path` as a TOML string value.
    pub fn toml(&self, file: &str) -> String {
        format!("{:?}", self.path(file).display().to_string())
    }

    /// A rustls client that trusts our CA and, given a name, presents the
    /// certificate `<name>.pem`.
    pub fn client(&self, cert: Option<&str>) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(self.path("ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let b = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let cfg = match cert {
            None => b.with_no_client_auth(),
            Some(name) => {
                let chain = CertificateDer::pem_file_iter(self.path(&format!("{name}.pem")))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let key = PrivateKeyDer::from_pem_file(self.path(&format!("{name}.key"))).unwrap();
                b.with_client_auth_cert(chain, key).unwrap()
            }
        };
        Arc::new(cfg)
    }
}
