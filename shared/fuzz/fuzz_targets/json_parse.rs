//! Arbitrary bytes into the JSON-mode request parser: no panic, no deep recursion, and what it
//! accepts renders back to a request that parses to the same command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigia_shared::proto::json;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data)
        && let Ok(req) = json::parse_request(line)
    {
        let again = json::parse_request(&json::render_request(&req));
        assert_eq!(again.map(|r| r.command).ok(), Some(req.command));
    }
});
