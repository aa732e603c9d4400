//! TLS for every scenario (`--tls`): one rustls client configuration built
//! from the options before any connection, shared by every executor.
//!
//! Every handshake is a full one: session resumption is off, so a
//! connect-rate run measures what a fleet of fresh clients costs the broker,
//! and two runs never differ by what a cache remembered.

mod insecure;

use crate::cli::TlsArgs;
use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;

/// What a TLS connection needs: the configuration and the name the server
/// certificate is checked against (also sent as SNI when it is a DNS name).
#[derive(Debug, Clone)]
pub struct TlsClient {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
}

/// `None` without `--tls`. `host` is `--host`, the default server name.
/// Errors are usage errors that name the option and the file.
pub fn from_args(a: &TlsArgs, host: &str) -> Result<Option<TlsClient>, String> {
    if !a.tls {
        let stray = [
            (a.cafile.is_some(), "--cafile"),
            (a.insecure, "--insecure"),
            (a.cert.is_some(), "--cert"),
            (a.key.is_some(), "--key"),
            (a.server_name.is_some(), "--server-name"),
        ];
        return match stray.iter().find(|(given, _)| *given) {
            Some((_, name)) => Err(format!("{name} needs --tls")),
            None => Ok(None),
        };
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?;
    // Trusting nothing by accident is a worse failure than a usage error:
    // skipping verification has to be asked for.
    let builder = match (&a.cafile, a.insecure) {
        (Some(_), true) => return Err("--cafile and --insecure contradict each other".into()),
        (None, false) => {
            return Err("--tls needs --cafile FILE (the CA to trust) or --insecure".into())
        }
        (Some(cafile), false) => builder.with_root_certificates(roots(cafile)?),
        (None, true) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(insecure::AnyServer::new(provider))),
    };
    let mut config = match (&a.cert, &a.key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = certs(cert, "--cert")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("--key {}: no usable private key: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("--cert/--key: {e}"))?
        }
        (Some(_), None) => return Err("--cert needs --key".into()),
        (None, Some(_)) => return Err("--key needs --cert".into()),
    };
    config.resumption = Resumption::disabled();
    let name = a.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|_| format!("--server-name {name:?}: not a DNS name or IP address"))?;
    Ok(Some(TlsClient {
        config: Arc::new(config),
        server_name,
    }))
}

fn roots(cafile: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for c in certs(cafile, "--cafile")? {
        roots
            .add(c)
            .map_err(|e| format!("--cafile {}: {e}", cafile.display()))?;
    }
    Ok(roots)
}

fn certs(path: &Path, option: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{option} {shown}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{option} {shown}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{option} {shown}: no PEM certificate in it"));
    }
    Ok(certs)
}
