//! The guest RAM of a QEMU machine that keeps it private (`microbit` ignores `memory-backend=`):
//! found among the QEMU process's anonymous mappings by the RTT control block the firmware wrote
//! into it, then read and written through `/proc/PID/mem` while the guest runs (the permission
//! `ptrace` needs: the daemon is QEMU's parent). Unlike a shared RAM file, it is gone with QEMU.

use super::machine::RamWindow;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Mappings larger than this are not a microcontroller's RAM (QEMU's translation cache is larger).
const LARGEST_MAPPING: u64 = 64 << 20;

/// Where, in process `pid`, the guest address `window.base` is: the host address of the RAM whose
/// control block (at guest address `control_block`) has been written. `None` until it has.
pub fn find(pid: u32, window: RamWindow, control_block: u64, id: &[u8; 16]) -> io::Result<Option<u64>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mem = File::open(format!("/proc/{pid}/mem"))?;
    let offset = control_block - window.base;
    for (start, end) in candidates(&maps, window.size) {
        let mut bytes = vec![0; (end - start) as usize];
        // A mapping can go away between the listing and the read: it is then not the RAM.
        if mem.read_exact_at(&mut bytes, start).is_err() {
            continue;
        }
        if let Some(base) = find_in(&bytes, start, window, offset, id) {
            return Ok(Some(base));
        }
    }
    Ok(None)
}

/// Where, in process `pid`, the guest address `window.base` is: the host address of the RAM that
/// starts with `marker` (written there by a debugger, through QEMU's gdbstub, a moment before).
pub fn find_marked(pid: u32, window: RamWindow, marker: &[u8]) -> io::Result<Option<u64>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mem = File::open(format!("/proc/{pid}/mem"))?;
    for (start, end) in candidates(&maps, window.size) {
        let mut bytes = vec![0; (end - start) as usize];
        if mem.read_exact_at(&mut bytes, start).is_err() {
            continue;
        }
        let size = window.size as usize;
        let found =
            (0..=bytes.len().saturating_sub(size)).step_by(4).find(|&at| bytes[at..].starts_with(marker));
        if let Some(at) = found {
            return Ok(Some(start + at as u64));
        }
    }
    Ok(None)
}

/// The anonymous, private, read-write mappings in `maps` (a `/proc/PID/maps`) that can hold
/// `size` bytes of RAM.
fn candidates(maps: &str, size: u64) -> Vec<(u64, u64)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (range, perms) = (fields.next()?, fields.next()?);
            // Anonymous: no path (a named mapping is a file or [heap], [stack], ...).
            if fields.nth(3).is_some() || !perms.starts_with("rw") {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let (start, end) = (u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?);
            (end - start >= size && end - start <= LARGEST_MAPPING).then_some((start, end))
        })
        .collect()
}

/// In `bytes` (a mapping at host address `start`), a RAM of `window`'s size holding a 32-bit
/// control block at `offset`: its id, and its first up channel's buffer inside the window. Returns
/// the host address of the RAM's first byte.
fn find_in(bytes: &[u8], start: u64, window: RamWindow, offset: u64, id: &[u8; 16]) -> Option<u64> {
    let offset = usize::try_from(offset).ok()?;
    let size = usize::try_from(window.size).ok()?;
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    (0..=bytes.len().checked_sub(size)?).step_by(4).find_map(|ram| {
        let block = ram + offset;
        if bytes.get(block..block + id.len()) != Some(id) {
            return None;
        }
        let buffer = u64::from(u32_at(block + 28)?);
        (window.base..window.base + window.size).contains(&buffer).then_some(start + ram as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtt::RTT_ID;

    const WINDOW: RamWindow = RamWindow { base: 0x2000_0000, size: 0x100 };

    /// A RAM image with a control block at `offset` whose up buffer is at `buffer`.
    fn ram_with_block(offset: usize, buffer: u32) -> Vec<u8> {
        let mut ram = vec![0; WINDOW.size as usize];
        ram[offset..offset + 16].copy_from_slice(RTT_ID);
        ram[offset + 16..offset + 20].copy_from_slice(&1u32.to_le_bytes());
        ram[offset + 28..offset + 32].copy_from_slice(&buffer.to_le_bytes());
        ram
    }

    #[test]
    fn only_anonymous_read_write_mappings_big_enough_are_searched() {
        let maps = "\
55d0c0a00000-55d0c0a01000 rw-p 00000000 08:01 777 /usr/bin/qemu-system-arm
7f0000000000-7f0000004000 rw-p 00000000 00:00 0
7f0000010000-7f0000010100 rw-p 00000000 00:00 0
7f0000020000-7f0000030000 r--p 00000000 00:00 0
7f0000040000-7f0040040000 rwxp 00000000 00:00 0
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
";
        assert_eq!(candidates(maps, 0x4000), vec![(0x7f00_0000_0000, 0x7f00_0000_4000)]);
    }

    #[test]
    fn the_ram_is_where_its_control_block_sits() {
        let mut mapping = vec![0xaa; 0x40];
        mapping.extend(ram_with_block(0x80, 0x2000_0010));
        mapping.extend([0xbb; 0x20]);
        assert_eq!(find_in(&mapping, 0x7000, WINDOW, 0x80, RTT_ID), Some(0x7040));
    }

    #[test]
    fn an_id_without_a_buffer_in_ram_or_outside_the_room_for_the_ram_is_not_the_ram() {
        // The id alone (a copy in flash, say): its buffer pointer is not in the RAM window.
        assert_eq!(find_in(&ram_with_block(0x80, 0x0000_1000), 0x7000, WINDOW, 0x80, RTT_ID), None);
        // The control block too close to the mapping's start for the RAM to begin before it.
        let mapping = ram_with_block(0x10, 0x2000_0010);
        assert_eq!(find_in(&mapping, 0x7000, WINDOW, 0x80, RTT_ID), None);
        // Nothing written yet.
        assert_eq!(find_in(&vec![0; 0x200], 0x7000, WINDOW, 0x80, RTT_ID), None);
    }

    #[test]
    fn another_kind_of_block_at_the_offset_is_not_the_one_looked_for() {
        // defmt-rtt's block (its id in the flash image's copy of .data, say) where asyncmon's is
        // looked for: that place is not the RAM.
        let mapping = ram_with_block(0x80, 0x2000_0010);
        assert_eq!(find_in(&mapping, 0x7000, WINDOW, 0x80, crate::rtt::ASYNCMON_RTT_ID), None);
    }

    #[test]
    fn a_process_without_the_block_has_no_ram_yet() {
        // A window of its own: the other tests' blocks sit in this process's heap.
        let window = RamWindow { base: 0x3000_0000, size: 0x100 };
        assert_eq!(find(std::process::id(), window, 0x3000_0080, RTT_ID).unwrap(), None);
    }
}
