//! The `vigiad` binary itself.
