//! One device-link frame: `postcard(message) ++ crc32(message bytes, little endian)`, COBS-encoded and
//! terminated by a `0x00` byte.
//!
//! The agent encodes each message into one frame and writes it to RTT in one call, so a full buffer
//! drops a frame whole instead of leaving half of one behind. Messages are written by
//! [`crate::wire`] (postcard's layout by hand, the CRC by [`crate::crc32`]) and read with postcard.

use crate::wire::{Encode, Writer};
use serde::{de::DeserializeOwned, Deserialize};

/// The largest postcard encoding of one message, in bytes (before the CRC and COBS).
pub const MAX_PAYLOAD: usize = 480;

/// The largest frame on the wire: payload, CRC, COBS overhead and the `0x00` terminator.
pub const MAX_FRAME: usize = cobs::max_encoding_length(MAX_PAYLOAD + 4) + 1;

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The message does not fit in [`MAX_PAYLOAD`] bytes (or the buffer given).
    TooLarge,
    /// The payload is not a valid message of the expected type.
    Malformed,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::TooLarge => write!(f, "message does not fit in one frame"),
            FrameError::Malformed => write!(f, "frame does not hold a valid message"),
        }
    }
}

/// Encodes `msg` as one complete frame into `out` and returns the frame (terminator included).
///
/// `out` should be [`MAX_FRAME`] bytes; a smaller buffer returns [`FrameError::TooLarge`] for messages
/// that do not fit it, as does a message longer than [`MAX_PAYLOAD`].
pub fn encode<'o>(msg: &(impl Encode + ?Sized), out: &'o mut [u8]) -> Result<&'o [u8], FrameError> {
    let mut writer = Writer::new(&mut *out);
    msg.encode(&mut writer);
    let encoded = writer.finish().ok_or(FrameError::TooLarge)?;
    if encoded >= out.len() {
        return Err(FrameError::TooLarge);
    }
    out[encoded] = 0;
    Ok(&out[..=encoded])
}

/// Decodes a message from a frame's payload (as [`crate::decoder::FrameDecoder`] yields it).
pub fn decode<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, FrameError> {
    postcard::from_bytes(payload).map_err(|_| FrameError::Malformed)
}

/// Decodes an owned message from a frame's payload.
pub fn decode_owned<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    postcard::from_bytes(payload).map_err(|_| FrameError::Malformed)
}

/// The protocol version of a `Hello` payload, read even when the rest of the message is not in a
/// layout this crate knows. `None` when the payload is not a `Hello`.
pub fn peek_hello_version(payload: &[u8]) -> Option<u16> {
    match payload.split_first() {
        Some((0, rest)) => postcard::take_from_bytes::<u16>(rest).ok().map(|(v, _)| v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{DeviceMessage, Hello, Text};

    #[test]
    fn frame_ends_with_its_only_zero_byte() {
        let msg = DeviceMessage::FramesLost { count: 0 };
        let mut out = [0; MAX_FRAME];
        let frame = encode(&msg, &mut out).unwrap();
        assert_eq!(frame.last(), Some(&0));
        assert!(!frame[..frame.len() - 1].contains(&0));
    }

    #[test]
    fn a_message_longer_than_a_payload_or_the_buffer_is_refused() {
        let long = [b'x'; MAX_PAYLOAD];
        let text = Text::Inline(core::str::from_utf8(&long).unwrap());
        let msg = DeviceMessage::Hello(Hello { version: 1, firmware: text, build_id: text });
        let mut out = [0; MAX_FRAME * 2];
        assert_eq!(encode(&msg, &mut out), Err(FrameError::TooLarge));
        let mut small = [0; 4];
        assert_eq!(encode(&DeviceMessage::FramesLost { count: 1 }, &mut small), Err(FrameError::TooLarge));
        let frame = encode(&DeviceMessage::FramesLost { count: 1 }, &mut out).unwrap();
        assert_eq!(frame.len(), 8, "two payload bytes, four of CRC, a COBS code and the end");
    }

    #[test]
    fn hello_version_is_readable_from_a_future_layout() {
        // A version-9 hello whose remaining fields this crate cannot parse.
        let payload = [0u8, 9, 0xff, 0xff, 0xff];
        assert_eq!(peek_hello_version(&payload), Some(9));
        assert_eq!(peek_hello_version(&[3, 1]), None);
    }

    #[test]
    fn a_current_hello_reports_the_current_version() {
        let msg = DeviceMessage::Hello(Hello {
            version: crate::PROTOCOL_VERSION,
            firmware: Text::Inline("demo"),
            build_id: Text::Inline("1"),
        });
        let mut buf = [0u8; 64];
        let payload = postcard::to_slice(&msg, &mut buf).unwrap();
        assert_eq!(peek_hello_version(payload), Some(crate::PROTOCOL_VERSION));
    }
}
