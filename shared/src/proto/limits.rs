//! Bounds on every field a client controls; the daemon refuses what lies outside them.

/// Longest line accepted in either mode, bytes (the line ending excluded).
pub const MAX_LINE: usize = 64 * 1024;
/// Longest command line for `START`, bytes.
pub const MAX_COMMAND: usize = 16 * 1024;
/// Most arguments for `START`, program included.
pub const MAX_ARGS: usize = 256;
/// Longest user name, bytes.
pub const MAX_USER: usize = 64;
/// Longest password, bytes.
pub const MAX_PASSWORD: usize = 1024;
/// Deepest JSON nesting accepted.
pub const MAX_JSON_DEPTH: usize = 16;
/// Fastest status stream, milliseconds between samples.
pub const MIN_SUBSCRIBE_INTERVAL_MS: u64 = 250;
/// Slowest status stream, milliseconds between samples.
pub const MAX_SUBSCRIBE_INTERVAL_MS: u64 = 3_600_000;
/// Longest grace period before KILL, milliseconds.
pub const MAX_GRACE_MS: u64 = 60_000;
/// Largest output tail, bytes.
pub const MAX_OUTPUT_BYTES: u64 = 1024 * 1024;
/// Longest filter text, bytes.
pub const MAX_FILTER: usize = 256;
