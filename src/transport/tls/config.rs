//! A listener's rustls configuration from its PEM files, built at start
//! and again on SIGHUP (connections already open keep the one they began
//! with).

use crate::config::{ListenerConfig, TransportKind};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// What a TLS listener needs per handshake.
pub struct TlsServer {
    pub config: Arc<ServerConfig>,
}

/// Read the listener's certificate, key and CA bundle. Errors name the file
/// and what is wrong with it.
pub fn server_config(l: &ListenerConfig) -> Result<TlsServer, String> {
    let (Some(certfile), Some(keyfile)) = (&l.certfile, &l.keyfile) else {
        return Err(format!(
            "listener {}: certfile and keyfile are required",
            l.bind
        ));
    };
    let chain = read_certs(certfile)?;
    let key = PrivateKeyDer::from_pem_file(keyfile)
        .map_err(|e| format!("keyfile {}: no usable private key: {e}", keyfile.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &l.cafile {
        None => builder.with_no_client_auth(),
        Some(cafile) => {
            let mut roots = RootCertStore::empty();
            for c in read_certs(cafile)? {
                roots
                    .add(c)
                    .map_err(|e| format!("cafile {}: {e}", cafile.display()))?;
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let v = if l.require_certificate {
                v
            } else {
                v.allow_unauthenticated()
            };
            let v = v
                .build()
                .map_err(|e| format!("cafile {}: {e}", cafile.display()))?;
            builder.with_client_cert_verifier(v)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        format!(
            "certfile {} / keyfile {}: {e}",
            certfile.display(),
            keyfile.display()
        )
    })?;
    // A client that names a protocol must name ours; most name none. Browsers
    // name http/1.1 for a secure WebSocket.
    config.alpn_protocols = match l.transport {
        TransportKind::Wss => vec![b"http/1.1".to_vec()],
        _ => vec![b"mqtt".to_vec()],
    };
    Ok(TlsServer {
        config: Arc::new(config),
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// The subject CN of the client's certificate, if it sent one with a CN.
pub fn peer_common_name(tls: &rustls::CommonState) -> Option<String> {
    let der = tls.peer_certificates()?.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}
