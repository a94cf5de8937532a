//! The handle every session (and later every web request) holds: cheap to clone, all shared.

use crate::auth::Authenticator;
use crate::config::Config;
use crate::procs::ProcessManager;
use crate::sampler::SamplerHandle;
use std::sync::Arc;

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
    pub procs: Arc<ProcessManager>,
    pub sampler: SamplerHandle,
}
