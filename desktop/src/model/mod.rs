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
