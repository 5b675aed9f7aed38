//! Device-link messages in postcard's layout, written field by field straight into a frame: no
//! serde code, no staging buffer.
//!
//! The agent's flash is mostly its link, and serde's generic encoder for every message was most of
//! the link (a message enum's `Serialize` with an error path at every field). Here a message writes
//! itself through a [`Writer`] that extends the CRC and COBS-encodes as each field arrives, and
//! remembers whether everything fitted, so a field costs one call. The layout is postcard's own
//! (varints for `u16`/`u32`/`u64`, a byte for `u8` and `bool`, a tag byte for `Option`, a varint
//! length before strings and sequences, a varint variant index before an enum's fields):
//! `protocol/tests/golden.rs` checks these bytes against serde's for every message, and the property
//! tests do so for random ones. The serde derives stay: the host decodes with them.

mod command;
mod device;

use crate::crc32::Crc32;
use crate::frame::MAX_PAYLOAD;
use cobs::CobsEncoder;

/// A value with a fixed postcard layout that writes itself.
pub trait Encode {
    /// Writes the value's postcard bytes.
    fn encode(&self, w: &mut Writer<'_>);
}

/// Where a message is written: a frame being made (see [`crate::frame::encode`]).
pub struct Writer<'o> {
    cobs: CobsEncoder<'o>,
    crc: Crc32,
    /// Payload bytes written so far.
    payload: usize,
    /// Everything so far fitted the payload limit and the output buffer.
    fits: bool,
}

impl<'o> Writer<'o> {
    /// A frame started in `out`.
    pub(crate) fn new(out: &'o mut [u8]) -> Self {
        Writer { cobs: CobsEncoder::new(out), crc: Crc32::new(), payload: 0, fits: true }
    }

    /// Appends raw payload bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.payload += bytes.len();
        self.fits &= self.payload <= MAX_PAYLOAD;
        if self.fits {
            self.crc.update(bytes);
            self.fits = self.cobs.push(bytes).is_ok();
        }
    }

    /// A varint (`u16`, `u32`, `usize` lengths and enum variant indices).
    pub fn varint(&mut self, mut value: u32) {
        let mut buf = [0u8; 5];
        let mut n = 0;
        while value >= 0x80 {
            buf[n] = value as u8 | 0x80;
            value >>= 7;
            n += 1;
        }
        buf[n] = value as u8;
        self.bytes(&buf[..=n]);
    }

    /// A 64-bit varint.
    pub fn varint64(&mut self, mut value: u64) {
        let mut buf = [0u8; 10];
        let mut n = 0;
        while value >= 0x80 {
            buf[n] = value as u8 | 0x80;
            value >>= 7;
            n += 1;
        }
        buf[n] = value as u8;
        self.bytes(&buf[..=n]);
    }

    /// Seals the payload with its CRC and closes the COBS encoding; returns the encoded length
    /// (terminator not included), or `None` when something did not fit.
    pub(crate) fn finish(mut self) -> Option<usize> {
        let crc = self.crc.finish().to_le_bytes();
        self.fits = self.fits && self.cobs.push(&crc).is_ok();
        self.fits.then(|| self.cobs.finalize())
    }
}

impl Encode for u8 {
    fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(&[*self]);
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(&[u8::from(*self)]);
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
            None => w.bytes(&[0]),
            Some(value) => {
                w.bytes(&[1]);
                value.encode(w);
            }
        }
    }
}

impl<T: Encode, const N: usize> Encode for heapless::Vec<T, N> {
    fn encode(&self, w: &mut Writer<'_>) {
        w.varint(self.len() as u32);
        for item in self {
            item.encode(w);
        }
    }
}

/// Writes the fields of a struct (or of an enum variant after its index), in order.
macro_rules! fields {
    ($w:expr; $($field:expr),* $(,)?) => {{
        $( $crate::wire::Encode::encode($field, $w); )*
    }};
}
use fields;
