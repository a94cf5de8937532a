//! How the app's allocator keeps the memory of a frame.
//!
//! Every frame allocates and frees the same large buffers (vertex and index buffers, the
//! software renderer's scratch memory where there is no GPU). glibc returned them to the system
//! at each free and took them back at the next frame, page by page: 860 page faults a frame with
//! 20 hosts and a 6,000-row table. Keeping blocks up to 4 MiB in the heap, and the heap's top
//! up to 16 MiB, brings that to about 65, for a few MiB more resident memory.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 4 * 1024 * 1024;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: i32 = 16 * 1024 * 1024;

/// Keeps a frame's buffers between frames. Call it once, first thing in `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn keep_frame_buffers() {
    // SAFETY: mallopt only sets parameters of glibc's allocator; it is called before any other
    // thread exists, with values in the ranges glibc documents.
    let ok = unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            + libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    };
    if ok != 2 {
        eprintln!("vigia: could not tune the allocator; frames may take longer");
    }
}

/// Other allocators are left as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_frame_buffers() {}
