//! The host's commands ([`HostCommand`]) written and read by hand: the device reads them, and
//! serde's decoder would be most of the code that does.

use super::{Encode, Writer};
use crate::device::HostCommand;

impl Encode for HostCommand {
    fn encode(&self, w: &mut Writer<'_>) {
        match *self {
            HostCommand::Stop { request_id } => {
                w.varint(0);
                w.varint(request_id);
            }
            HostCommand::HardStop { request_id } => {
                w.varint(1);
                w.varint(request_id);
            }
            HostCommand::Resync => w.varint(2),
            HostCommand::RollCall => w.varint(3),
        }
    }
}

impl HostCommand {
    /// Reads a command from a frame's payload as postcard would (bytes after it are ignored);
    /// `None` when the payload is no command this crate knows.
    pub fn from_payload(payload: &[u8]) -> Option<Self> {
        let mut bytes = payload.iter().copied();
        Some(match varint(&mut bytes)? {
            0 => HostCommand::Stop { request_id: varint(&mut bytes)? },
            1 => HostCommand::HardStop { request_id: varint(&mut bytes)? },
            2 => HostCommand::Resync,
            3 => HostCommand::RollCall,
            _ => return None,
        })
    }
}

/// A `u32` varint as postcard reads one: at most five bytes, the fifth holding at most four bits.
fn varint(bytes: &mut impl Iterator<Item = u8>) -> Option<u32> {
    let mut value = 0u32;
    for i in 0..5 {
        let byte = bytes.next()?;
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return (i < 4 || byte <= 0x0F).then_some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postcard(payload: &[u8]) -> Option<HostCommand> {
        postcard::from_bytes(payload).ok()
    }

    #[test]
    fn reads_what_postcard_reads() {
        let cases: [&[u8]; 12] = [
            &[0, 7],
            &[1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            &[1, 0xFF, 0xFF, 0xFF, 0xFF, 0x10],
            &[1, 0xFF, 0xFF, 0xFF, 0xFF, 0x8F, 0],
            &[2],
            &[3, 9, 9],
            &[4],
            &[0x80, 0],
            &[0],
            &[],
            &[0, 0x80],
            &[0x83, 0x80, 0x80, 0x80, 0x00],
        ];
        for case in cases {
            assert_eq!(HostCommand::from_payload(case), postcard(case), "{case:02x?}");
        }
    }

    #[test]
    fn every_two_byte_payload_reads_as_postcard_reads_it() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(HostCommand::from_payload(&[a, b]), postcard(&[a, b]), "{a:02x} {b:02x}");
            }
        }
    }
}
