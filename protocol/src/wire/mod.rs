//! Device-link messages in postcard's layout, written field by field straight into a frame: no
//! serde code, no staging buffer.
//!
//! The agent's flash is mostly its link, and serde's generic encoder for every message was most of
//! the link (a message enum's `Serialize` with an error path at every field). Here a message writes
//! itself through a [`Writer`], which puts the payload in the frame's buffer a few bytes in and
//! remembers whether everything fitted, so a field costs one call. [`Writer::finish`] appends the
//! CRC and COBS-encodes in place, towards the buffer's start (the `cobs` crate encodes from one
//! buffer into another, or byte by byte through a state machine that cost five times as many
//! instructions a frame on the Cortex-M4F). The layout is postcard's own (varints for
//! `u16`/`u32`/`u64`, a byte for `u8` and `bool`, a tag byte for `Option`, a varint length before
//! strings and sequences, a varint variant index before an enum's fields):
//! `protocol/tests/golden.rs` checks these bytes against serde's for every message, and the property
//! tests do so for random ones. The serde derives stay: the host decodes with them.

mod command;
mod device;

use crate::crc32;
use crate::frame::MAX_PAYLOAD;

/// A value with a fixed postcard layout that writes itself.
pub trait Encode {
    /// Writes the value's postcard bytes.
    fn encode(&self, w: &mut Writer<'_>);
}

/// Where the payload starts in the frame's buffer: COBS adds a code byte at the start and one
/// after every 254 bytes without a zero, so encoding in place, towards the start, never overtakes
/// the bytes still to be read.
const HEAD: usize = 1 + (MAX_PAYLOAD + 4) / 254;

/// Where a message is written: a frame being made (see [`crate::frame::encode`]).
pub struct Writer<'o> {
    buf: &'o mut [u8],
    /// Payload bytes written so far.
    len: usize,
    /// The most payload the buffer takes (room left for the CRC, COBS and the terminator).
    room: usize,
    /// Everything so far fitted.
    fits: bool,
}

impl<'o> Writer<'o> {
    /// A frame started in `out`.
    pub(crate) fn new(out: &'o mut [u8]) -> Self {
        let room = MAX_PAYLOAD.min(out.len().saturating_sub(HEAD + 4 + 1));
        Writer { buf: out, len: 0, room, fits: true }
    }

    /// Appends one payload byte.
    #[inline(never)]
    pub fn byte(&mut self, byte: u8) {
        if self.len < self.room {
            self.buf[HEAD + self.len] = byte;
            self.len += 1;
        } else {
            self.fits = false;
        }
    }

    /// Appends raw payload bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        if bytes.len() <= self.room - self.len {
            self.buf[HEAD + self.len..][..bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            self.fits = false;
        }
    }

    /// A varint (`u16`, `u32`, `usize` lengths and enum variant indices).
    pub fn varint(&mut self, mut value: u32) {
        while value >= 0x80 {
            self.byte(value as u8 | 0x80);
            value >>= 7;
        }
        self.byte(value as u8);
    }

    /// A 64-bit varint.
    pub fn varint64(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.byte(value as u8 | 0x80);
            value >>= 7;
        }
        self.byte(value as u8);
    }

    /// Seals the payload with its CRC and COBS-encodes it to the buffer's start; returns the
    /// encoded length (terminator not included), or `None` when something did not fit.
    pub(crate) fn finish(self) -> Option<usize> {
        if !self.fits {
            return None;
        }
        let payload = HEAD..HEAD + self.len;
        let crc = crc32::checksum(&self.buf[payload.clone()]);
        self.buf[payload.end..][..4].copy_from_slice(&crc.to_le_bytes());
        Some(cobs_in_place(self.buf, self.len + 4))
    }
}

/// COBS-encodes the `n` bytes at `buf[HEAD..]` into `buf[0..]`; returns the encoded length. Each
/// output byte lands at or before the input byte just read (see [`HEAD`]).
fn cobs_in_place(buf: &mut [u8], n: usize) -> usize {
    let mut code_at = 0;
    let mut code = 1u8;
    let mut out = 1;
    for i in HEAD..HEAD + n {
        let byte = buf[i];
        if byte != 0 {
            buf[out] = byte;
            out += 1;
            code += 1;
            if code != 0xFF {
                continue;
            }
        }
        // A zero, or a block of 254 bytes without one: close the block.
        buf[code_at] = code;
        code_at = out;
        out += 1;
        code = 1;
    }
    buf[code_at] = code;
    out
}

impl Encode for u8 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.byte(*self);
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut Writer<'_>) {
        w.byte(u8::from(*self));
    }
}

impl Encode for u16 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(u32::from(*self));
    }
}

impl Encode for u32 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(*self);
    }
}

impl Encode for u64 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint64(*self);
    }
}

impl Encode for str {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(self.len() as u32);
        w.bytes(self.as_bytes());
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            None => w.byte(0),
            Some(value) => {
                w.byte(1);
                value.encode(w);
            }
        }
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(self.len() as u32);
        for item in self {
            item.encode(w);
        }
    }
}

impl<T: Encode, const N: usize> Encode for heapless::Vec<T, N> {
    fn encode(&self, w: &mut Writer<'_>) {
        self.as_slice().encode(w);
    }
}

/// Writes the fields of a struct (or of an enum variant after its index), in order.
macro_rules! fields {
    ($w:expr; $($field:expr),* $(,)?) => {{
        $( $crate::wire::Encode::encode($field, $w); )*
    }};
}
use fields;

#[cfg(test)]
mod tests {
    use super::*;

    /// `payload` as the link frames it, COBS-decoded back by the `cobs` crate (the host's decoder).
    fn round_trip(payload: &[u8]) -> Option<std::vec::Vec<u8>> {
        let mut buf = [0u8; HEAD + MAX_PAYLOAD + 8];
        buf[HEAD..HEAD + payload.len()].copy_from_slice(payload);
        let n = cobs_in_place(&mut buf, payload.len());
        assert!(!buf[..n].contains(&0), "no zero inside a frame");
        let mut decoded = buf[..n].to_vec();
        let len = cobs::decode_in_place(&mut decoded).ok()?;
        decoded.truncate(len);
        Some(decoded)
    }

    #[test]
    fn cobs_in_place_decodes_back_whatever_the_runs() {
        let mut payloads: std::vec::Vec<std::vec::Vec<u8>> =
            std::vec![std::vec![], std::vec![0], std::vec![0, 0, 0], std::vec![1, 2, 0, 3],];
        for len in [253, 254, 255, 300, 484] {
            payloads.push((0..len).map(|i| (i % 251 + 1) as u8).collect());
            payloads.push((0..len).map(|i| if i % 97 == 0 { 0 } else { i as u8 | 1 }).collect());
        }
        for payload in payloads {
            assert_eq!(round_trip(&payload).as_deref(), Some(&payload[..]), "{} bytes", payload.len());
        }
    }
}
