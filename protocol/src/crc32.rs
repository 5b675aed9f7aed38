//! The CRC that seals every device-link frame: CRC-32/ISO-HDLC (the common "CRC-32": reflected,
//! polynomial `0x04C11DB7`, initial and final XOR `0xFFFFFFFF`), four bits at a time.
//!
//! A nibble table is 64 bytes where the byte-wise table is 1 KiB: on a microcontroller the table is
//! flash the firmware pays for, and a device frame is a few dozen bytes, so two lookups a byte cost
//! little. The daemon checks frames with the same code, so there is one CRC on both ends.

/// The reflected polynomial.
const POLY: u32 = 0xEDB8_8320;

/// The CRC of each nibble value, shifted through four rounds of the polynomial.
const NIBBLES: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 4 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// A CRC being computed over bytes given in pieces.
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// Nothing fed yet.
    pub const fn new() -> Self {
        Crc32(!0)
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.0;
        for &byte in bytes {
            crc ^= u32::from(byte);
            crc = (crc >> 4) ^ NIBBLES[(crc & 0xF) as usize];
            crc = (crc >> 4) ^ NIBBLES[(crc & 0xF) as usize];
        }
        self.0 = crc;
    }

    /// The CRC of everything fed.
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

/// The CRC of `bytes`.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_catalogue_check_value() {
        // Every CRC in the catalogue is checked on "123456789".
        assert_eq!(checksum(b"123456789"), crc::CRC_32_ISO_HDLC.check);
    }

    #[test]
    fn pieces_give_the_checksum_of_the_whole() {
        let bytes: [u8; 300] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let whole = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes);
        let mut crc = Crc32::new();
        for piece in bytes.chunks(13) {
            crc.update(piece);
        }
        assert_eq!(crc.finish(), whole);
        assert_eq!(checksum(&[]), 0);
    }
}
