//! The TLS accept loop: bounded connections, the handshake under a timeout inside each
//! connection's own task, and nothing a connection does can end the loop.

use crate::services::Services;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Accepts connections until `shutdown`; each session runs on `tracker`.
pub async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    svc: Services,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let admission = Admission::new(
        svc.config.max_connections,
        svc.config.max_connections_per_ip,
    );
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Typically EMFILE: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(admitted) = admission.admit(peer, "protocol") else {
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, svc, shutdown) = (acceptor.clone(), svc.clone(), shutdown.clone());
        tracker.spawn(async move {
            let _admitted = admitted;
            let limit = svc.config.handshake_timeout;
            let tls = match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            crate::session::serve(tls, peer, svc, shutdown).await;
        });
    }
}

/// The connection caps of one port (each port counts its own): in all, and per client address.
/// Checked before the handshake, so that the excess costs no TLS work and open sessions are
/// never touched.
pub(crate) struct Admission {
    slots: Arc<Semaphore>,
    per_ip: PerIp,
}

/// One connection's place under both caps; given back when dropped.
pub(crate) struct Admitted {
    _slot: OwnedSemaphorePermit,
    _ip: IpSlot,
}

impl Admission {
    pub(crate) fn new(max: usize, max_per_ip: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            per_ip: PerIp::new(max_per_ip),
        }
    }

    /// Room for one more connection from `peer` on `door` (for the log), or `None`, logged,
    /// when either cap is reached.
    pub(crate) fn admit(&self, peer: SocketAddr, door: &str) -> Option<Admitted> {
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, door, "connection limit reached, turning a client away");
            return None;
        };
        let Some(ip) = self.per_ip.acquire(peer.ip()) else {
            tracing::warn!(%peer, door, "per-address connection limit reached, turning a client away");
            return None;
        };
        Some(Admitted {
            _slot: slot,
            _ip: ip,
        })
    }
}

/// Open connections per client address, bounded.
#[derive(Clone)]
struct PerIp {
    max: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection's share of its address's count; released on drop.
struct IpSlot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerIp {
    fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// A slot for one more connection from `ip`, or `None` when it has its share.
    fn acquire(&self, ip: IpAddr) -> Option<IpSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            ip,
            open: self.open.clone(),
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_address_slots_are_bounded_and_released() {
        let limit = PerIp::new(2);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let s1 = limit.acquire(a);
        let s2 = limit.acquire(a);
        assert!(s1.is_some() && s2.is_some());
        assert!(limit.acquire(a).is_none());
        assert!(
            limit.acquire(b).is_some(),
            "other addresses are not affected"
        );
        drop(s1);
        assert!(limit.acquire(a).is_some());
    }
}
