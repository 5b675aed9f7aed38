//! The host's RTT code (control block, up channel reader, down channel writer) against a target
//! memory the fuzzer fills: absurd channel counts and sizes, offsets outside the buffer, pointers
//! outside memory, and a block that changes while it is read (every read may flip a byte).
//!
//! Checked: no panic, every call returns; after the block is parsed, every read is inside the
//! control block or inside the channel's buffer as its descriptor gives it, every write is the up
//! channel's read offset or the down channel's buffer and write offset; an up read never returns
//! more than the buffer holds. A corrupted block is an error, not a crash.

#![no_main]

use asyncmon_daemon::memory::TargetMemory;
use asyncmon_daemon::rtt::{ChannelDescriptor, ControlBlock, DownChannel, PointerWidth, UpChannel};
use libfuzzer_sys::fuzz_target;
use std::io;

const BASE: u64 = 0x2000_0000;

/// Target memory: the fuzzer's bytes at `BASE`, a byte flipped now and then (the target writing
/// while the host reads), every access recorded.
struct Target<'a> {
    bytes: Vec<u8>,
    flips: &'a [u8],
    reads: Vec<(u64, usize)>,
    writes: Vec<(u64, usize)>,
}

impl Target<'_> {
    fn range(&self, addr: u64, len: usize) -> io::Result<std::ops::Range<usize>> {
        let start = addr.checked_sub(BASE).and_then(|o| usize::try_from(o).ok());
        match start {
            Some(s) if s.checked_add(len).is_some_and(|e| e <= self.bytes.len()) => Ok(s..s + len),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "outside target memory")),
        }
    }
}

impl TargetMemory for Target<'_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> io::Result<()> {
        self.reads.push((addr, buf.len()));
        let range = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes[range]);
        if let Some((&flip, rest)) = self.flips.split_first() {
            self.flips = rest;
            let at = usize::from(flip) % self.bytes.len().max(1);
            if let Some(b) = self.bytes.get_mut(at) {
                *b ^= flip | 1;
            }
        }
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        self.writes.push((addr, data.len()));
        let range = self.range(addr, data.len())?;
        self.bytes[range].copy_from_slice(data);
        Ok(())
    }
}

fn inside(addr: u64, len: usize, start: u64, size: u64) -> bool {
    addr >= start && addr.saturating_add(len as u64) <= start.saturating_add(size)
}

fn check_channel_access(target: &Target<'_>, block_end: u64, desc: &ChannelDescriptor, up: bool) {
    let w = desc.width.bytes() as usize;
    for &(addr, len) in &target.reads {
        assert!(
            inside(addr, len, BASE, block_end - BASE) || inside(addr, len, desc.buffer, desc.size),
            "read {len} bytes at {addr:#x}: outside the block and the buffer {desc:?}"
        );
    }
    for &(addr, len) in &target.writes {
        let ok = if up {
            addr == desc.read_offset_addr() && len == w
        } else {
            (addr == desc.write_offset_addr() && len == w) || inside(addr, len, desc.buffer, desc.size)
        };
        assert!(ok, "wrote {len} bytes at {addr:#x} for {desc:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let width = if data[0] & 1 == 0 { PointerWidth::Four } else { PointerWidth::Eight };
    let split = usize::from(data[1]).min(data.len() - 2);
    let (flips, memory) = data[2..].split_at(split);
    let mut bytes = memory.to_vec();
    // Most inputs should reach the parser: give them the id.
    if data[0] & 2 == 0 && bytes.len() >= 16 {
        bytes[..16].copy_from_slice(asyncmon_daemon::rtt::RTT_ID);
    }
    let mut target = Target { bytes, flips, reads: Vec::new(), writes: Vec::new() };
    let Ok(block) = ControlBlock::read(&mut target, BASE, width) else { return };
    // The descriptors were read from here on; everything after must stay in bounds.
    let w = width.bytes();
    let block_end = BASE + 16 + 2 * w + 6 * w * (block.up.len() + block.down.len()) as u64;
    for desc in &block.up {
        target.reads.clear();
        target.writes.clear();
        let Ok(mut up) = UpChannel::attach(&mut target, desc) else { continue };
        let mut out = Vec::new();
        for _ in 0..4 {
            let before = out.len();
            if up.read(&mut target, &mut out).is_err() {
                break;
            }
            assert!((out.len() - before) as u64 <= desc.size, "read more than the buffer holds");
        }
        check_channel_access(&target, block_end, desc, true);
    }
    for desc in &block.down {
        target.reads.clear();
        target.writes.clear();
        let mut down = DownChannel::attach(desc);
        let _ = down.write(&mut target, b"\x02\x01\x00");
        check_channel_access(&target, block_end, desc, false);
    }
});
