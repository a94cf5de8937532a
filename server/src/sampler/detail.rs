//! One process in depth (`process` command, the web panel's process page), read fresh through
//! sysinfo for that one pid.

use super::Snapshot;
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind};
use vigia_shared::proto::{Pid, ProcessDetail};

/// Full details of one process, read fresh (blocking: call from a blocking thread). CPU comes
/// from the latest snapshot, since a percentage needs two readings.
pub fn process_detail(pid: Pid, snapshot: &Snapshot) -> Option<ProcessDetail> {
    let mut system = System::new_with_specifics(sysinfo::RefreshKind::nothing()).ok()?;
    let spid = sysinfo::Pid::from_u32(pid.0);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        ProcessRefreshKind::nothing()
            .with_memory()
            .with_user(UpdateKind::Always)
            .with_cmd(UpdateKind::Always)
            .with_exe(UpdateKind::Always)
            .with_cwd(UpdateKind::Always)
            .with_tasks(),
    );
    let p = system.process(spid)?;
    if p.thread_kind() == Some(ThreadKind::Userland) {
        return None;
    }
    let row = snapshot
        .processes
        .binary_search_by_key(&pid, |r| r.pid)
        .ok()
        .map(|i| &snapshot.processes[i]);
    let user = match row {
        Some(r) => r.user.clone(),
        None => p.user_id().map(|u| (**u).to_string()).unwrap_or_default(),
    };
    Some(ProcessDetail {
        pid,
        parent: p.parent().map(|pp| Pid(pp.as_u32())),
        user,
        name: p.name().to_string_lossy().into_owned(),
        cmd: p
            .cmd()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        exe: p.exe().map(|e| e.display().to_string()),
        cwd: p.cwd().map(|c| c.display().to_string()),
        start_time: p.start_time(),
        cpu: row.map(|r| r.cpu).unwrap_or(0.0),
        mem: p.memory(),
        virtual_mem: p.virtual_memory(),
        threads: p.tasks().map(|t| t.len().try_into().unwrap_or(u32::MAX)),
        state: p.status().to_string(),
        started_by_vigia: false,
    })
}
