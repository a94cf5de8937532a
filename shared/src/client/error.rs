//! What can go wrong between a client and a daemon.

use crate::proto::{ErrorCode, WireError};

/// A failed client operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TCP connection could not be made.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The TLS handshake failed for a reason other than trust.
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    /// The server's certificate is neither pinned nor signed by a trusted root.
    #[error("{}", untrusted_message(.fingerprint, .pinned.as_deref()))]
    Untrusted {
        /// SHA-256 fingerprint of the certificate the server presented.
        fingerprint: String,
        /// The fingerprint that was expected, if one was pinned.
        pinned: Option<String>,
    },
    #[error("invalid server name '{0}'")]
    BadServerName(String),
    #[error(transparent)]
    TlsSetup(#[from] crate::tls::TlsError),
    #[error("timed out {0}")]
    Timeout(&'static str),
    #[error("connection error: {0}")]
    Io(std::io::Error),
    #[error("connection closed")]
    Closed,
    /// The daemon refused the request.
    #[error("{0}")]
    Server(WireError),
    /// The daemon said something this client does not understand.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The daemon's error code, when the daemon refused the request.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Server(e) => Some(e.code),
            _ => None,
        }
    }
}

fn untrusted_message(seen: &str, pinned: Option<&str>) -> String {
    match pinned {
        Some(p) => format!(
            "the server's certificate changed: expected fingerprint {p}, got {seen}; \
             if the server's certificate was replaced on purpose, accept the new one"
        ),
        None => format!("the server's certificate is not trusted (fingerprint {seen})"),
    }
}
