//! model: plain data the UI renders, one [`HostState`] per saved server, updated only by
//! applying network events on the UI thread.

pub mod history;
pub mod host;

pub use history::Ring;
pub use host::{ActionNote, ConnState, HostState};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Identifies a saved server for the lifetime of the configuration file; never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostId(pub u64);

impl std::fmt::Display for HostId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Everything the UI knows about the hosts.
#[derive(Debug, Default)]
pub struct Model {
    pub hosts: BTreeMap<HostId, HostState>,
}

impl Model {
    pub fn host(&self, id: HostId) -> Option<&HostState> {
        self.hosts.get(&id)
    }

    pub fn host_mut(&mut self, id: HostId) -> Option<&mut HostState> {
        self.hosts.get_mut(&id)
    }

    /// Hosts whose session is logged in.
    pub fn connected(&self) -> impl Iterator<Item = (HostId, &HostState)> {
        self.hosts
            .iter()
            .filter(|(_, h)| h.conn.is_connected())
            .map(|(id, h)| (*id, h))
    }

    /// Among `candidates`, the connected host with the lowest load (CPU percent plus memory
    /// percent of the latest sample), with that load.
    pub fn least_loaded(&self, candidates: &[HostId]) -> Option<(HostId, f64)> {
        candidates
            .iter()
            .filter_map(|id| {
                let h = self.hosts.get(id)?;
                if !h.conn.is_connected() {
                    return None;
                }
                Some((*id, h.load()?))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigia_shared::proto::StatusSample;

    fn host(conn: ConnState, cpu: f32, mem_used: u64) -> HostState {
        let mut h = HostState {
            conn,
            ..HostState::default()
        };
        h.history.push(StatusSample {
            time_ms: 1,
            cpu,
            cores: vec![],
            mem_used,
            mem_total: 100,
            swap_used: 0,
            swap_total: 0,
            load1: 0.0,
            load5: 0.0,
            load15: 0.0,
            procs: 1,
        });
        h
    }

    #[test]
    fn least_loaded_weighs_cpu_and_memory_among_connected_candidates() {
        let mut m = Model::default();
        m.hosts
            .insert(HostId(1), host(ConnState::Connected, 50.0, 10));
        m.hosts
            .insert(HostId(2), host(ConnState::Connected, 10.0, 80));
        m.hosts
            .insert(HostId(3), host(ConnState::Connected, 20.0, 20));
        m.hosts.insert(HostId(4), host(ConnState::Offline, 0.0, 0));
        let all = [HostId(1), HostId(2), HostId(3), HostId(4)];
        assert_eq!(m.least_loaded(&all), Some((HostId(3), 40.0)));
        assert_eq!(
            m.least_loaded(&[HostId(1), HostId(2)]),
            Some((HostId(1), 60.0))
        );
        assert_eq!(m.least_loaded(&[HostId(4)]), None);
    }
}
