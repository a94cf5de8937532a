//! The handle every session and every web request holds: cheap to clone, all shared.

use crate::audit::{AuditLog, Record};
use crate::auth::lockout::Lockout;
use crate::auth::{AuthError, Authenticator, Principal};
use crate::config::Config;
use crate::dispatch::Mode;
use crate::metrics::Metrics;
use crate::procs::ProcessManager;
use crate::sampler::SamplerHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use vigia_shared::proto::{ErrorCode, WireError};

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
    pub procs: Arc<ProcessManager>,
    pub sampler: SamplerHandle,
    pub lockout: Arc<Lockout>,
    pub audit: AuditLog,
    pub metrics: Arc<Metrics>,
    /// The bearer token of `/metrics`; none: the endpoint is off.
    pub metrics_token: Option<Arc<str>>,
}

impl Services {
    /// The one way in, for every wire mode and the web panel: checks the password and logs the
    /// outcome. A failure says the same whatever went wrong.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        peer: SocketAddr,
        mode: Mode,
    ) -> Result<Principal, WireError> {
        let ip = peer.ip();
        // The password is checked even when locked out, so that a locked-out attempt costs and
        // answers exactly what a wrong password does.
        let locked = self.lockout.locked(ip, user);
        let result = match self.auth.verify(user, password).await {
            Ok(_) if locked.is_some() => Err(AuthError::Failed),
            other => other,
        };
        let record = |ok: bool, result: &str| Record {
            user: user.to_owned(),
            peer: peer.to_string(),
            mode: mode.as_str(),
            action: "login",
            target: user.to_owned(),
            ok,
            result: result.to_owned(),
        };
        self.metrics
            .logins
            .with_label_values(&[mode.as_str(), Metrics::result(result.is_ok())])
            .inc();
        match result {
            Ok(p) => {
                self.audit.record(record(true, "ok")).await;
                self.lockout.succeeded(ip, user);
                tracing::info!(user = %p.user, role = %p.role, %peer, mode = mode.as_str(), "login succeeded");
                Ok(p)
            }
            Err(AuthError::Failed) => {
                let why = if locked.is_some() {
                    "refused: locked out"
                } else {
                    "authentication failed"
                };
                self.audit.record(record(false, why)).await;
                self.lockout.failed(ip, user);
                match locked {
                    Some(wait) => tracing::warn!(
                        user = %user.escape_debug(), %peer, mode = mode.as_str(),
                        locked_for_secs = wait.as_secs(), "login refused: locked out"
                    ),
                    None => tracing::warn!(
                        user = %user.escape_debug(), %peer, mode = mode.as_str(), "login failed"
                    ),
                }
                Err(WireError::new(
                    ErrorCode::AuthFailed,
                    "authentication failed",
                ))
            }
            Err(e @ AuthError::Unavailable(_)) => {
                tracing::error!(error = %e, "login could not be checked");
                Err(WireError::new(
                    ErrorCode::Internal,
                    "authentication is unavailable",
                ))
            }
        }
    }
}
