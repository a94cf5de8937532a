//! Arbitrary bytes, in arbitrary chunks, into the bounded line codec: no panic, and no line
//! longer than the bound comes out.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;
use vigia_shared::codec::{Frame, LineCodec};

fuzz_target!(|data: &[u8]| {
    let Some((&max, rest)) = data.split_first() else {
        return;
    };
    let max = usize::from(max).max(1);
    let mut codec = LineCodec::new(max);
    let mut buf = BytesMut::new();
    for chunk in rest.chunks(usize::from(rest.first().copied().unwrap_or(7)).max(1)) {
        buf.extend_from_slice(chunk);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            if let Frame::Line(l) = frame {
                assert!(l.len() <= max && !l.contains('\n'));
            }
        }
    }
});
