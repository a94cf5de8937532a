//! trust: turns a failed connection into what the user is shown. A certificate nobody pinned
//! asks the user; a certificate that differs from the pinned one blocks the host. Both wait for
//! an explicit decision, never accept on their own.

use crate::model::ConnState;
use vigia_shared::client::ClientError;
use vigia_shared::proto::ErrorCode;

/// The state to show for a failed connection attempt, when the user must decide; `None` for
/// failures that are retried with backoff.
pub fn needs_decision(e: &ClientError) -> Option<ConnState> {
    match e {
        ClientError::Untrusted {
            fingerprint,
            pinned: None,
        } => Some(ConnState::Untrusted {
            fingerprint: fingerprint.clone(),
        }),
        ClientError::Untrusted {
            fingerprint,
            pinned: Some(pinned),
        } => Some(ConnState::CertChanged {
            pinned: pinned.clone(),
            seen: fingerprint.clone(),
        }),
        _ => None,
    }
}

/// A failed request in words a person understands; the daemon's own message is kept.
pub fn explain(e: &ClientError) -> String {
    match e {
        ClientError::Server(w) => {
            let what = match w.code {
                ErrorCode::PermissionDenied => "Permission denied",
                ErrorCode::NoSuchProcess => "No such process",
                ErrorCode::Refused => "Refused by the daemon",
                ErrorCode::SpawnFailed => "The command could not be started",
                ErrorCode::AuthFailed => "Wrong user name or password",
                ErrorCode::NotAuthenticated => "Not logged in",
                ErrorCode::LimitExceeded => "Over a limit of the daemon",
                ErrorCode::BadRequest | ErrorCode::TooLong | ErrorCode::NotUtf8 => {
                    "The daemon could not read the request"
                }
                ErrorCode::Timeout => "The daemon timed out",
                _ => "The daemon reported an error",
            };
            format!("{what}: {}", w.message)
        }
        ClientError::Timeout(phase) => format!("No answer from the daemon (timed out {phase})"),
        ClientError::Closed => "The connection to the daemon was lost".into(),
        ClientError::Connect(io) => format!("Cannot reach the daemon: {io}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigia_shared::WireError;

    #[test]
    fn a_changed_certificate_blocks_and_shows_both_fingerprints() {
        let e = ClientError::Untrusted {
            fingerprint: "BB".into(),
            pinned: Some("AA".into()),
        };
        assert_eq!(
            needs_decision(&e),
            Some(ConnState::CertChanged {
                pinned: "AA".into(),
                seen: "BB".into()
            })
        );
        assert_eq!(needs_decision(&ClientError::Closed), None);
    }

    #[test]
    fn daemon_errors_read_as_sentences() {
        let e = ClientError::Server(WireError::new(
            ErrorCode::PermissionDenied,
            "viewers may not stop",
        ));
        assert_eq!(explain(&e), "Permission denied: viewers may not stop");
    }
}
