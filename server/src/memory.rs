//! How the daemon's allocator gives memory back.
//!
//! Each password check allocates argon2's 19 MiB work area and frees it. glibc serves blocks that
//! large with mmap at first, but raises its threshold after the first free, so later work areas
//! come from the heap and stay there: a daemon that had seen a few hundred logins held over a
//! GiB. A fixed threshold keeps every large block on mmap, returned to the system when freed.

/// Blocks at least this large are mapped on their own and unmapped when freed, bytes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 1024 * 1024;

/// Makes large freed blocks go back to the system. Call it once, first thing in `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn return_large_blocks() {
    // SAFETY: mallopt only sets a parameter of glibc's allocator; it is called before any
    // other thread exists, and the value is within the range glibc documents for it.
    let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
    if ok != 1 {
        eprintln!(
            "vigiad: could not set the allocator's mmap threshold; memory may grow with logins"
        );
    }
}

/// Other allocators return large blocks already.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_blocks() {}
