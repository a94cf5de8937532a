//! A bounded line codec whose bad lines are items, not errors.
//!
//! With tokio-util's `LinesCodec` an over-long or non-UTF-8 line is a decoder error, after which
//! `FramedRead` ends the stream; a session must instead answer such a line and go on. So this
//! codec yields [`Frame::TooLong`] (after discarding the rest of the line) and
//! [`Frame::NotUtf8`] as ordinary items.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::proto::limits::MAX_LINE;

/// One decoded line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line without its `\n` or `\r\n`.
    Line(String),
    /// A line longer than the limit; its bytes were discarded.
    TooLong,
    /// A line that is not valid UTF-8.
    NotUtf8,
}

/// Newline-delimited frames of at most `max` bytes.
#[derive(Debug, Clone)]
pub struct LineCodec {
    max: usize,
    /// Bytes already searched for `\n`, so each byte is scanned once.
    scanned: usize,
    /// Inside an over-long line, dropping bytes up to its end.
    discarding: bool,
}

impl Default for LineCodec {
    fn default() -> Self {
        Self::new(MAX_LINE)
    }
}

impl LineCodec {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            scanned: 0,
            discarding: false,
        }
    }
}

/// I/O failure of the underlying stream.
pub type CodecError = std::io::Error;

impl Decoder for LineCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        loop {
            let newline = buf[self.scanned..].iter().position(|b| *b == b'\n');
            match (self.discarding, newline) {
                (true, Some(i)) => {
                    buf.advance(self.scanned + i + 1);
                    self.scanned = 0;
                    self.discarding = false;
                    return Ok(Some(Frame::TooLong));
                }
                (true, None) => {
                    buf.clear();
                    self.scanned = 0;
                    return Ok(None);
                }
                (false, Some(i)) => {
                    let end = self.scanned + i;
                    self.scanned = 0;
                    let mut line = buf.split_to(end + 1);
                    line.truncate(end);
                    if line.last() == Some(&b'\r') {
                        line.truncate(end - 1);
                    }
                    if line.len() > self.max {
                        return Ok(Some(Frame::TooLong));
                    }
                    return Ok(Some(match String::from_utf8(line.to_vec()) {
                        Ok(s) => Frame::Line(s),
                        Err(_) => Frame::NotUtf8,
                    }));
                }
                (false, None) => {
                    // One byte of slack for a `\r` that belongs to the line ending.
                    if buf.len() > self.max + 1 {
                        self.discarding = true;
                        continue;
                    }
                    self.scanned = buf.len();
                    return Ok(None);
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(buf)? {
            Some(f) => Ok(Some(f)),
            None if self.discarding => {
                self.discarding = false;
                Ok(Some(Frame::TooLong))
            }
            None if buf.is_empty() => Ok(None),
            None => {
                // A last line without its newline.
                buf.put_u8(b'\n');
                self.decode(buf)
            }
        }
    }
}

impl<T: AsRef<str>> Encoder<T> for LineCodec {
    type Error = CodecError;

    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.extend_from_slice(item.as_ref().as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut LineCodec, input: &[u8]) -> Vec<Frame> {
        let mut buf = BytesMut::from(input);
        let mut out = vec![];
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn crlf_and_lf_both_end_lines() {
        let mut c = LineCodec::default();
        assert_eq!(
            decode_all(&mut c, b"LIST\r\nSTATUS\n"),
            vec![Frame::Line("LIST".into()), Frame::Line("STATUS".into())]
        );
    }

    #[test]
    fn over_long_line_is_dropped_and_the_next_line_survives() {
        let mut c = LineCodec::new(8);
        let mut buf = BytesMut::from(&b"0123456789abcdef"[..]);
        assert_eq!(c.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"more more more\nLIST\n");
        assert_eq!(c.decode(&mut buf).unwrap(), Some(Frame::TooLong));
        assert_eq!(
            c.decode(&mut buf).unwrap(),
            Some(Frame::Line("LIST".into()))
        );
    }

    #[test]
    fn limit_is_exact() {
        let mut c = LineCodec::new(MAX_LINE);
        let mut ok = vec![b'a'; MAX_LINE];
        ok.push(b'\n');
        assert!(matches!(decode_all(&mut c, &ok)[..], [Frame::Line(_)]));
        let mut long = vec![b'a'; MAX_LINE + 1];
        long.push(b'\n');
        assert_eq!(decode_all(&mut c, &long), vec![Frame::TooLong]);
    }

    #[test]
    fn invalid_utf8_is_an_item() {
        let mut c = LineCodec::default();
        assert_eq!(
            decode_all(&mut c, b"\xff\xfe\nLIST\n"),
            vec![Frame::NotUtf8, Frame::Line("LIST".into())]
        );
    }
}
