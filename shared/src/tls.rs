//! TLS helpers: self-signed certificate generation (rcgen), PEM loading, SHA-256 fingerprints,
//! and the rustls configurations both sides use.
//!
//! One crypto provider (ring) for the whole workspace, TLS 1.2 and 1.3 only, rustls' safe
//! default cipher suites.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// Why TLS material could not be made, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("no certificate found in the PEM data")]
    NoCertificate,
    #[error("no private key found in the PEM data")]
    NoKey,
    #[error("invalid PEM data: {0}")]
    Pem(String),
    #[error("certificate and key do not form a usable TLS identity: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A freshly generated certificate and its private key, both PEM-encoded.
pub struct GeneratedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Lifetime of a generated certificate: what browsers accept for a leaf (398 days at most).
pub const SELF_SIGNED_DAYS: i64 = 397;

/// Generates a self-signed certificate valid for `names` (host names or IP addresses, which
/// become IP subject alternative names) for [`SELF_SIGNED_DAYS`] from now.
pub fn generate_self_signed(names: &[String]) -> Result<GeneratedCert, TlsError> {
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    let cn = names.first().map(String::as_str).unwrap_or("vigiad");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("vigiad {cn}"));
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Vigía");
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Reads every certificate of a PEM chain, leaf first.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn parse_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey,
        e => TlsError::Pem(e.to_string()),
    })
}

/// SHA-256 of a DER certificate as colon-separated uppercase hex, the form
/// `openssl x509 -noout -fingerprint -sha256` prints.
pub fn fingerprint(cert_der: &[u8]) -> String {
    let digest = Sha256::digest(cert_der);
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&hex::encode_upper([*b]));
    }
    out
}

/// Normalises a fingerprint for comparison: hex digits only, lowercase.
pub fn normalize_fingerprint(fp: &str) -> String {
    fp.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The crypto provider used everywhere.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A server configuration for a certificate chain and its key.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    // The server's order of cipher suites (strongest first) wins over the client's.
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// How a client decides whether to trust a server's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Accept certificates that chain to a root of the operating system's store.
    pub system_roots: bool,
    /// Accept the certificate with this SHA-256 fingerprint (any case, colons optional).
    pub pinned: Option<String>,
}

impl Trust {
    /// Only the certificate with this fingerprint.
    pub fn pinned(fingerprint: impl Into<String>) -> Self {
        Self {
            system_roots: false,
            pinned: Some(fingerprint.into()),
        }
    }

    /// Certificates from the system's roots, or the pinned one when given.
    pub fn system_or_pinned(fingerprint: Option<String>) -> Self {
        Self {
            system_roots: true,
            pinned: fingerprint,
        }
    }
}

/// What the verifier saw of the server's certificate during the last handshake.
#[derive(Debug, Clone, Default)]
pub struct SeenCert {
    pub fingerprint: Option<String>,
}

/// A client configuration for `trust`, and a handle that tells which certificate the server
/// presented (so that a refused one can be shown to a person with its fingerprint).
pub fn client_config(trust: &Trust) -> Result<(Arc<ClientConfig>, Arc<Mutex<SeenCert>>), TlsError> {
    let provider = provider();
    let roots = if trust.system_roots {
        let mut store = RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A malformed system root is skipped, as browsers do.
            let _ = store.add(cert);
        }
        (!store.is_empty()).then_some(store)
    } else {
        None
    };
    let webpki = match roots {
        Some(store) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
                .map_err(|e| TlsError::Pem(e.to_string()))?,
        ),
        None => None,
    };
    let seen = Arc::new(Mutex::new(SeenCert::default()));
    let verifier = Arc::new(PinningVerifier {
        webpki,
        pinned: trust.pinned.as_deref().map(normalize_fingerprint),
        algorithms: provider.signature_verification_algorithms,
        seen: seen.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Arc::new(config), seen))
}

/// Trusts a chain that verifies against the system roots, or a leaf whose fingerprint is pinned.
/// Handshake signatures are always verified.
#[derive(Debug)]
struct PinningVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pinned: Option<String>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Arc<Mutex<SeenCert>>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = fingerprint(end_entity);
        if let Ok(mut seen) = self.seen.lock() {
            seen.fingerprint = Some(fp.clone());
        }
        if let Some(pin) = &self.pinned
            && *pin == normalize_fingerprint(&fp)
        {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_pair_loads_and_has_a_stable_fingerprint() {
        let g = generate_self_signed(&["localhost".into(), "127.0.0.1".into()]).unwrap();
        let certs = parse_certs(g.cert_pem.as_bytes()).unwrap();
        let key = parse_key(g.key_pem.as_bytes()).unwrap();
        let fp = fingerprint(&certs[0]);
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert_eq!(fp, fingerprint(&certs[0]));
        server_config(certs, key).unwrap();
    }

    #[test]
    fn fingerprints_compare_without_colons_or_case() {
        assert_eq!(normalize_fingerprint("AB:cd:01"), "abcd01");
    }

    #[test]
    fn pem_without_items_is_a_clear_error() {
        assert!(matches!(
            parse_certs(b"nothing"),
            Err(TlsError::NoCertificate)
        ));
        assert!(matches!(parse_key(b"nothing"), Err(TlsError::NoKey)));
    }
}
