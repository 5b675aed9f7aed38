//! Finding and parsing an RTT control block (asyncmon's `_ASYNCMON_RTT`, or a firmware's own
//! `_SEGGER_RTT`) as SEGGER lays it out: a 16-byte id, the up and down channel counts, then one descriptor per channel (name, buffer, size, write
//! offset, read offset, flags), every field pointer-sized for the target.

use super::RttError;
use crate::memory::TargetMemory;

/// The id a live SEGGER control block starts with (a firmware's own, defmt-rtt's).
pub const RTT_ID: &[u8; 16] = asyncmon_protocol::rtt::SEGGER_ID;
/// The id asyncmon's control block starts with: SEGGER's layout under an id of its own.
pub const ASYNCMON_RTT_ID: &[u8; 16] = asyncmon_protocol::rtt::ID;

/// Whether `id` is a live control block's: SEGGER's or asyncmon's.
pub fn is_rtt_id(id: &[u8]) -> bool {
    id == RTT_ID || id == ASYNCMON_RTT_ID
}

/// The most channels in each direction the host accepts (SEGGER's own limit is far below).
const MAX_CHANNELS: u64 = 16;
/// The channel buffer sizes the host accepts (a buffer holds one byte less than its size).
pub(super) const BUFFER_SIZES: std::ops::RangeInclusive<u64> = 2..=16 * 1024 * 1024;
/// The longest channel name read.
const MAX_NAME: usize = 64;

/// The size of the target's pointers: 4 bytes on Cortex-M, 8 on a 64-bit host process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerWidth {
    /// 32-bit target.
    Four,
    /// 64-bit target.
    Eight,
}

impl PointerWidth {
    /// The width in bytes.
    pub fn bytes(self) -> u64 {
        match self {
            PointerWidth::Four => 4,
            PointerWidth::Eight => 8,
        }
    }

    /// Reads one pointer-sized little-endian value.
    pub(crate) fn read(self, mem: &mut dyn TargetMemory, addr: u64) -> Result<u64, RttError> {
        let mut buf = [0u8; 8];
        let n = self.bytes() as usize;
        mem.read(addr, &mut buf[..n]).map_err(|source| RttError::Memory { addr, source })?;
        Ok(u64::from_le_bytes(buf))
    }

    /// Reads two adjacent pointer-sized little-endian values in one access (a channel's write and
    /// read offsets: one probe transaction, not two).
    pub(crate) fn read_pair(self, mem: &mut dyn TargetMemory, addr: u64) -> Result<(u64, u64), RttError> {
        let mut buf = [0u8; 16];
        let n = self.bytes() as usize;
        mem.read(addr, &mut buf[..2 * n]).map_err(|source| RttError::Memory { addr, source })?;
        let value = |bytes: &[u8]| bytes.iter().rev().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        Ok((value(&buf[..n]), value(&buf[n..2 * n])))
    }

    /// Writes one pointer-sized little-endian value.
    pub(crate) fn write(self, mem: &mut dyn TargetMemory, addr: u64, value: u64) -> Result<(), RttError> {
        let n = self.bytes() as usize;
        mem.write(addr, &value.to_le_bytes()[..n]).map_err(|source| RttError::Memory { addr, source })
    }
}

/// One channel's descriptor, as read when attaching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDescriptor {
    /// The address of the descriptor in the target.
    pub addr: u64,
    /// The channel's name (empty if it has none).
    pub name: String,
    /// The buffer's address.
    pub buffer: u64,
    /// The buffer's size; the usable size is one byte less.
    pub size: u64,
    /// The target's pointer width.
    pub width: PointerWidth,
}

impl ChannelDescriptor {
    /// Where the channel's write offset is (the target's, for an up channel).
    pub fn write_offset_addr(&self) -> u64 {
        self.addr + 3 * self.width.bytes()
    }

    /// Where the channel's read offset is (the host's, for an up channel).
    pub fn read_offset_addr(&self) -> u64 {
        self.addr + 4 * self.width.bytes()
    }
}

/// A parsed control block.
#[derive(Debug, Clone)]
pub struct ControlBlock {
    /// Its address.
    pub addr: u64,
    /// Up channels (target to host), in order.
    pub up: Vec<ChannelDescriptor>,
    /// Down channels (host to target), in order.
    pub down: Vec<ChannelDescriptor>,
}

impl ControlBlock {
    /// Whether a live control block (its id written) is at `addr`.
    pub fn is_initialised(mem: &mut dyn TargetMemory, addr: u64) -> Result<bool, RttError> {
        let mut id = [0u8; 16];
        mem.read(addr, &mut id).map_err(|source| RttError::Memory { addr, source })?;
        Ok(is_rtt_id(&id))
    }

    /// Reads and checks the control block at `addr`.
    pub fn read(mem: &mut dyn TargetMemory, addr: u64, width: PointerWidth) -> Result<Self, RttError> {
        if !Self::is_initialised(mem, addr)? {
            return Err(RttError::NotInitialised(addr));
        }
        let w = width.bytes();
        let max_up = width.read(mem, addr + 16)?;
        let max_down = width.read(mem, addr + 16 + w)?;
        if max_up > MAX_CHANNELS || max_down > MAX_CHANNELS {
            return Err(RttError::Corrupted(format!("{max_up} up and {max_down} down channels")));
        }
        let first = addr + 16 + 2 * w;
        let mut read_all = |start: u64, count: u64| -> Result<Vec<ChannelDescriptor>, RttError> {
            (0..count).map(|i| read_descriptor(mem, start + i * 6 * w, width)).collect()
        };
        let up = read_all(first, max_up)?;
        let down = read_all(first + max_up * 6 * w, max_down)?;
        Ok(ControlBlock { addr, up, down })
    }

    /// The up channel called `name`.
    pub fn up_channel(&self, name: &str) -> Result<&ChannelDescriptor, RttError> {
        find(&self.up, name, "up")
    }

    /// The down channel called `name`.
    pub fn down_channel(&self, name: &str) -> Result<&ChannelDescriptor, RttError> {
        find(&self.down, name, "down")
    }
}

fn find<'c>(
    channels: &'c [ChannelDescriptor],
    name: &str,
    direction: &'static str,
) -> Result<&'c ChannelDescriptor, RttError> {
    channels.iter().find(|c| c.name == name).ok_or_else(|| RttError::NoSuchChannel {
        direction,
        name: name.to_string(),
        available: channels.iter().map(|c| c.name.clone()).collect(),
    })
}

fn read_descriptor(
    mem: &mut dyn TargetMemory,
    addr: u64,
    width: PointerWidth,
) -> Result<ChannelDescriptor, RttError> {
    let w = width.bytes();
    let name_ptr = width.read(mem, addr)?;
    let buffer = width.read(mem, addr + w)?;
    // An absurd size is kept, not refused here: it makes that channel unusable (see the channel
    // readers), never the whole block, so a bad log channel cannot take asyncmon's down.
    let size = width.read(mem, addr + 2 * w)?;
    let name = if name_ptr == 0 { String::new() } else { read_c_string(mem, name_ptr) };
    Ok(ChannelDescriptor { addr, name, buffer, size, width })
}

/// Reads a NUL-terminated name of at most [`MAX_NAME`] bytes; an unreadable name is empty.
fn read_c_string(mem: &mut dyn TargetMemory, addr: u64) -> String {
    let mut bytes = Vec::new();
    for offset in 0..MAX_NAME as u64 {
        let mut b = [0u8];
        if mem.read(addr + offset, &mut b).is_err() || b[0] == 0 {
            break;
        }
        bytes.push(b[0]);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
