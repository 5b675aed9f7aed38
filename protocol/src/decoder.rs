//! A streaming frame decoder: bytes in, verified payloads out, garbage counted.
//!
//! It splits the byte stream at `0x00`, COBS-decodes each frame and checks its CRC. Anything that
//! fails is reported as rejected with its size and reason, and decoding resumes at the next frame
//! boundary, so garbage or a lost fragment costs at most the frame it touched.

use crate::crc32;

/// Why bytes were thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The frame was longer than the decoder's buffer.
    TooLong,
    /// The bytes are not valid COBS.
    Cobs,
    /// The frame is too short to hold a CRC.
    TooShort,
    /// The CRC does not match: a corrupted, truncated or spliced frame.
    Crc,
}

impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Rejection::TooLong => "frame longer than the largest message",
            Rejection::Cobs => "invalid COBS encoding",
            Rejection::TooShort => "frame too short to hold a checksum",
            Rejection::Crc => "checksum mismatch",
        })
    }
}

/// What [`FrameDecoder::feed`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A verified payload, ready for [`crate::frame::decode`].
    Frame(&'a [u8]),
    /// `bytes` bytes (terminator included) were thrown away.
    Rejected {
        /// How many bytes were lost.
        bytes: usize,
        /// Why.
        reason: Rejection,
    },
}

/// Decodes frames of up to `N` encoded bytes from a byte stream.
pub struct FrameDecoder<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflow: usize,
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        FrameDecoder { buf: [0; N], len: 0, overflow: 0 }
    }

    /// Bytes of an unfinished frame held since the last boundary.
    pub fn pending(&self) -> usize {
        self.len + self.overflow
    }

    /// Forgets an unfinished frame (for example after the target reset) and returns its size.
    pub fn reset(&mut self) -> usize {
        let lost = self.pending();
        self.len = 0;
        self.overflow = 0;
        lost
    }

    /// Feeds bytes; calls `on` for every frame boundary crossed, in order.
    pub fn feed(&mut self, bytes: &[u8], mut on: impl FnMut(Decoded<'_>)) {
        for &byte in bytes {
            if byte != 0 {
                if self.len < N {
                    self.buf[self.len] = byte;
                    self.len += 1;
                } else {
                    self.overflow += 1;
                }
                continue;
            }
            let total = self.len + self.overflow + 1;
            if self.overflow > 0 {
                on(Decoded::Rejected { bytes: total, reason: Rejection::TooLong });
            } else if self.len > 0 {
                match cobs::decode_in_place(&mut self.buf[..self.len]) {
                    Err(_) => on(Decoded::Rejected { bytes: total, reason: Rejection::Cobs }),
                    Ok(n) if n < 5 => on(Decoded::Rejected { bytes: total, reason: Rejection::TooShort }),
                    Ok(n) => {
                        let (payload, crc) = self.buf[..n].split_at(n - 4);
                        let sent = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
                        if crc32::checksum(payload) == sent {
                            on(Decoded::Frame(payload));
                        } else {
                            on(Decoded::Rejected { bytes: total, reason: Rejection::Crc });
                        }
                    }
                }
            }
            // A lone 0x00 (len 0) is an empty frame: a harmless boundary, nothing to report.
            self.len = 0;
            self.overflow = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{encode, MAX_FRAME};
    use crate::DeviceMessage;

    fn frame(count: u32) -> ([u8; MAX_FRAME], usize) {
        let mut out = [0; MAX_FRAME];
        let len = encode(&DeviceMessage::FramesLost { count }, &mut out).unwrap().len();
        (out, len)
    }

    fn counts(decoder: &mut FrameDecoder<MAX_FRAME>, bytes: &[u8]) -> ([u32; 4], usize, usize) {
        let (mut seen, mut n, mut rejected) = ([0u32; 4], 0, 0);
        decoder.feed(bytes, |d| match d {
            Decoded::Frame(p) => {
                if let Ok(DeviceMessage::FramesLost { count }) = crate::frame::decode(p) {
                    seen[n] = count;
                    n += 1;
                }
            }
            Decoded::Rejected { bytes, .. } => rejected += bytes,
        });
        (seen, n, rejected)
    }

    #[test]
    fn a_frame_split_across_feeds_is_decoded_once() {
        let (f, len) = frame(7);
        let mut d = FrameDecoder::<MAX_FRAME>::new();
        assert_eq!(counts(&mut d, &f[..2]).1, 0);
        let (seen, n, _) = counts(&mut d, &f[2..len]);
        assert_eq!((seen[0], n), (7, 1));
    }

    #[test]
    fn garbage_before_a_boundary_is_counted_and_the_next_frame_survives() {
        let (f, len) = frame(3);
        let mut bytes = [0u8; 64];
        bytes[..5].copy_from_slice(&[9, 9, 9, 9, 0]);
        bytes[5..5 + len].copy_from_slice(&f[..len]);
        let mut d = FrameDecoder::<MAX_FRAME>::new();
        let (seen, n, rejected) = counts(&mut d, &bytes[..5 + len]);
        assert_eq!((seen[0], n, rejected), (3, 1, 5));
    }

    #[test]
    fn an_oversized_frame_is_rejected_whole() {
        let mut d = FrameDecoder::<8>::new();
        let mut rejected = None;
        d.feed(&[1; 20], |_| panic!("no boundary yet"));
        d.feed(&[0], |r| {
            if let Decoded::Rejected { bytes, reason } = r {
                rejected = Some((bytes, reason));
            }
        });
        assert_eq!(rejected, Some((21, Rejection::TooLong)));
    }
}
