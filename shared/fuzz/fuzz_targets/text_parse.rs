//! Arbitrary bytes into the text-mode parser (as the session gives it lines: UTF-8 only) and
//! its renderer of errors: no panic, and every error renders as one `ERR` line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigia_shared::proto::{WireError, text};

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        match text::parse(line) {
            Ok(_) => {}
            Err(e) => {
                let rendered = text::render_error(&WireError::from(&e));
                assert!(rendered.starts_with("ERR ") && rendered.matches('\n').count() == 1);
            }
        }
    }
});
