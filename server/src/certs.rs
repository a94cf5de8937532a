//! The daemon's TLS identity on disk: the admin's PEM pair, or a self-signed pair made at first
//! start in the data directory (the key written atomically, readable by the daemon's user only).

use crate::auth::users_file::write_atomically;
use crate::config::Paths;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use vigia_shared::tls::{self, TlsError};

/// Why the certificate pair cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read '{path}': {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write '{path}': {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("'{path}': {source}")]
    Tls { path: String, source: TlsError },
    #[error(
        "'{cert}' exists but its key '{key}' does not: restore the key or remove both to make a new pair"
    )]
    KeyMissing { cert: String, key: String },
}

/// A loaded identity.
pub struct Identity {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// SHA-256 of the leaf certificate, colon-separated hex.
    pub fingerprint: String,
    /// The pair was made just now.
    pub created: bool,
}

/// Loads the pair, making a self-signed one first when none exists and none was given.
pub fn load_or_create(paths: &Paths) -> Result<Identity, CertError> {
    let mut created = false;
    if !paths.cert_given && !paths.cert.exists() {
        if paths.key.exists() {
            // A key without a certificate: regenerate both rather than guess.
            tracing::warn!(key = %paths.key.display(), "key without certificate: making a new pair");
        }
        let names = self_signed_names();
        let pair = tls::generate_self_signed(&names).map_err(|source| CertError::Tls {
            path: paths.cert.display().to_string(),
            source,
        })?;
        write(&paths.key, pair.key_pem.as_bytes(), 0o600)?;
        write(&paths.cert, pair.cert_pem.as_bytes(), 0o644)?;
        created = true;
    } else if !paths.key.exists() && paths.cert.exists() && !paths.cert_given {
        return Err(CertError::KeyMissing {
            cert: paths.cert.display().to_string(),
            key: paths.key.display().to_string(),
        });
    }
    let certs = read(&paths.cert).and_then(|pem| {
        tls::parse_certs(&pem).map_err(|source| CertError::Tls {
            path: paths.cert.display().to_string(),
            source,
        })
    })?;
    let key = read(&paths.key).and_then(|pem| {
        tls::parse_key(&pem).map_err(|source| CertError::Tls {
            path: paths.key.display().to_string(),
            source,
        })
    })?;
    let fingerprint = tls::fingerprint(&certs[0]);
    Ok(Identity {
        certs,
        key,
        fingerprint,
        created,
    })
}

/// The fingerprint of the certificate at `paths.cert`, without making one.
pub fn fingerprint_of(paths: &Paths) -> Result<String, CertError> {
    let pem = read(&paths.cert)?;
    let certs = tls::parse_certs(&pem).map_err(|source| CertError::Tls {
        path: paths.cert.display().to_string(),
        source,
    })?;
    Ok(tls::fingerprint(&certs[0]))
}

fn self_signed_names() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(h) = sysinfo::System::host_name()
        && !h.is_empty()
    {
        names.push(h);
    }
    let mut add = |n: String| {
        if !names.contains(&n) {
            names.push(n);
        }
    };
    for n in ["localhost", "127.0.0.1", "::1"] {
        add(n.to_owned());
    }
    // The machine's own addresses, so that clients that connect by address see them in the
    // certificate too.
    let networks = sysinfo::Networks::new_with_refreshed_list();
    for (_, data) in networks.iter().flatten() {
        for net in data.ip_networks() {
            let ip = net.addr;
            let link_local = match ip {
                std::net::IpAddr::V4(v4) => v4.is_link_local(),
                std::net::IpAddr::V6(v6) => v6.is_unicast_link_local(),
            };
            if !link_local && !ip.is_unspecified() && !ip.is_multicast() {
                add(ip.to_string());
            }
        }
    }
    names
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, CertError> {
    std::fs::read(path).map_err(|source| CertError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn write(path: &std::path::Path, data: &[u8], mode: u32) -> Result<(), CertError> {
    write_atomically(path, data, mode).map_err(|source| CertError::Write {
        path: path.display().to_string(),
        source,
    })
}
