//! The TLS accept loop: bounded connections, the handshake under a timeout inside each
//! connection's own task, and nothing a connection does can end the loop.

use crate::services::Services;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
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
    let slots = Arc::new(Semaphore::new(svc.config.max_connections));
    let per_ip = PerIp::new(svc.config.max_connections_per_ip);
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
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached, turning a client away");
            drop(tcp);
            continue;
        };
        let Some(ip_slot) = per_ip.acquire(peer.ip()) else {
            tracing::warn!(%peer, "per-address connection limit reached, turning a client away");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, svc, shutdown) = (acceptor.clone(), svc.clone(), shutdown.clone());
        tracker.spawn(async move {
            let _slots = (slot, ip_slot);
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

/// Open connections per client address, bounded (each port keeps its own counts).
#[derive(Clone)]
pub(crate) struct PerIp {
    max: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection's share of its address's count; released on drop.
pub(crate) struct IpSlot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerIp {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// A slot for one more connection from `ip`, or `None` when it has its share.
    pub(crate) fn acquire(&self, ip: IpAddr) -> Option<IpSlot> {
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
