//! The framing of the host link: a 4-byte big-endian length, then one MessagePack message.
//!
//! The two directions have different bounds. The daemon sends snapshots of up to
//! [`MAX_HOST_FRAME`] bytes; its clients send requests of a few dozen bytes, so the daemon takes at
//! most [`MAX_REQUEST`] from a client. The decoder reserves a frame's whole length as soon as it
//! reads its header, so this is also what a client that sends half a frame and stalls costs the
//! daemon: [`MAX_REQUEST`] per seat, never 16 MiB.

use asyncmon_protocol::host::MAX_HOST_FRAME;
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// The largest request the daemon takes from a client, in bytes. Requests are small (the largest,
/// `Hello`, names the client); a larger frame closes the connection.
pub const MAX_REQUEST: usize = 64 * 1024;

/// A client's codec: requests out, the daemon's messages (up to [`MAX_HOST_FRAME`]) in.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().max_frame_length(MAX_HOST_FRAME).new_codec()
}

/// The daemon's codec: requests of at most [`MAX_REQUEST`] in, messages of up to
/// [`MAX_HOST_FRAME`] out.
#[derive(Debug)]
pub struct ServerCodec {
    requests: LengthDelimitedCodec,
    messages: LengthDelimitedCodec,
}

impl Default for ServerCodec {
    fn default() -> Self {
        ServerCodec {
            requests: LengthDelimitedCodec::builder().max_frame_length(MAX_REQUEST).new_codec(),
            messages: codec(),
        }
    }
}

impl Decoder for ServerCodec {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, std::io::Error> {
        self.requests.decode(src)
    }
}

impl Encoder<Bytes> for ServerCodec {
    type Error = std::io::Error;

    fn encode(&mut self, message: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        self.messages.encode(message, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_header_past_the_bound_is_refused_before_its_body_is_held() {
        let mut codec = ServerCodec::default();
        let mut src = BytesMut::from(&(MAX_HOST_FRAME as u32).to_be_bytes()[..]);
        assert!(codec.decode(&mut src).is_err(), "a 16 MiB request is refused at its header");
        assert!(src.capacity() < MAX_REQUEST, "and nothing was reserved for it: {}", src.capacity());
        let mut ok = BytesMut::from(&[0, 0, 0, 2, 0x91, 0x01][..]);
        assert_eq!(ServerCodec::default().decode(&mut ok).unwrap().as_deref(), Some(&[0x91, 0x01][..]));
    }

    #[test]
    fn the_daemons_messages_may_be_as_large_as_a_snapshot() {
        let mut out = BytesMut::new();
        let big = Bytes::from(vec![0; MAX_REQUEST * 4]);
        ServerCodec::default().encode(big, &mut out).unwrap();
        assert_eq!(out.len(), MAX_REQUEST * 4 + 4);
    }
}
