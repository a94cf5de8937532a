//! The recent past of the system's status: a ring of samples with a fixed capacity.

use std::collections::VecDeque;
use vigia_shared::proto::StatusSample;

/// The last `cap` samples, oldest first.
#[derive(Debug)]
pub struct History {
    cap: usize,
    samples: VecDeque<StatusSample>,
}

impl History {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            samples: VecDeque::with_capacity(cap.clamp(1, 4096)),
        }
    }

    pub fn push(&mut self, sample: StatusSample) {
        if self.samples.len() == self.cap {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// A copy of every sample, oldest first.
    pub fn to_vec(&self) -> Vec<StatusSample> {
        self.samples.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(t: u64) -> StatusSample {
        StatusSample {
            time_ms: t,
            cpu: 0.0,
            cores: vec![],
            mem_used: 0,
            mem_total: 0,
            swap_used: 0,
            swap_total: 0,
            load1: 0.0,
            load5: 0.0,
            load15: 0.0,
            procs: 0,
        }
    }

    #[test]
    fn keeps_the_newest_samples_in_order() {
        let mut h = History::new(3);
        for t in 0..5 {
            h.push(sample(t));
        }
        let times: Vec<u64> = h.to_vec().iter().map(|s| s.time_ms).collect();
        assert_eq!(times, [2, 3, 4]);
    }
}
