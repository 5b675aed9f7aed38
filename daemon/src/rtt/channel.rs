//! Reading an up channel and writing a down channel, following SEGGER's ring-buffer rules.
//!
//! A buffer of `size` bytes is empty when read == write and full when (write + 1) % size == read,
//! so it holds at most `size - 1` bytes. Data is copied in at most two chunks (wrap-around), and the
//! offset is stored only after the data.

use super::{ChannelDescriptor, RttError};
use crate::memory::TargetMemory;

/// The host's end of an up channel (target to host).
#[derive(Debug)]
pub struct UpChannel {
    desc: ChannelDescriptor,
    /// The read offset the host last stored; if the target's copy differs, it re-initialised.
    last_read: u64,
}

impl UpChannel {
    /// Attaches to `desc`, starting at the current read offset.
    pub fn attach(mem: &mut dyn TargetMemory, desc: &ChannelDescriptor) -> Result<Self, RttError> {
        let last_read = desc.width.read(mem, desc.read_offset_addr())?;
        check_offset(desc, "read", last_read)?;
        // A channel is attached only when it can be read: a bad write offset now would be found
        // by the first read, and the link would seem to open and break at once.
        check_offset(desc, "write", desc.width.read(mem, desc.write_offset_addr())?)?;
        Ok(UpChannel { desc: desc.clone(), last_read })
    }

    /// The channel's descriptor.
    pub fn descriptor(&self) -> &ChannelDescriptor {
        &self.desc
    }

    /// Appends everything the target has written to `out`; returns the number of bytes read.
    pub fn read(&mut self, mem: &mut dyn TargetMemory, out: &mut Vec<u8>) -> Result<usize, RttError> {
        let d = &self.desc;
        // The read offset follows the write offset: both in one access.
        let (write, read) = d.width.read_pair(mem, d.write_offset_addr())?;
        check_offset(d, "write", write)?;
        check_offset(d, "read", read)?;
        if read != self.last_read {
            return Err(RttError::Reinitialised);
        }
        if read == write {
            return Ok(0);
        }
        let start = out.len();
        let mut copy = |from: u64, to: u64| -> Result<(), RttError> {
            let len = (to - from) as usize;
            let at = out.len();
            out.resize(at + len, 0);
            let addr = d.buffer + from;
            mem.read(addr, &mut out[at..]).map_err(|source| RttError::Memory { addr, source })
        };
        if write > read {
            copy(read, write)?;
        } else {
            copy(read, d.size)?;
            copy(0, write)?;
        }
        d.width.write(mem, d.read_offset_addr(), write)?;
        self.last_read = write;
        Ok(out.len() - start)
    }
}

/// The host's end of a down channel (host to target).
#[derive(Debug)]
pub struct DownChannel {
    desc: ChannelDescriptor,
}

impl DownChannel {
    /// Attaches to `desc`.
    pub fn attach(desc: &ChannelDescriptor) -> Self {
        DownChannel { desc: desc.clone() }
    }

    /// Writes as much of `data` as fits; returns how many bytes were written (0 when full).
    pub fn write(&mut self, mem: &mut dyn TargetMemory, data: &[u8]) -> Result<usize, RttError> {
        let d = &self.desc;
        let (write, read) = d.width.read_pair(mem, d.write_offset_addr())?;
        check_offset(d, "write", write)?;
        check_offset(d, "read", read)?;
        let free = (read + d.size - write - 1) % d.size;
        let n = (data.len() as u64).min(free);
        let first = n.min(d.size - write);
        let put = |mem: &mut dyn TargetMemory, at: u64, bytes: &[u8]| {
            let addr = d.buffer + at;
            mem.write(addr, bytes).map_err(|source| RttError::Memory { addr, source })
        };
        put(mem, write, &data[..first as usize])?;
        put(mem, 0, &data[first as usize..n as usize])?;
        d.width.write(mem, d.write_offset_addr(), (write + n) % d.size)?;
        Ok(n as usize)
    }
}

fn check_offset(desc: &ChannelDescriptor, which: &str, offset: u64) -> Result<(), RttError> {
    if desc.buffer == 0 {
        return Err(RttError::Corrupted(format!("channel {:?} has no buffer", desc.name)));
    }
    if !super::control_block::BUFFER_SIZES.contains(&desc.size) {
        return Err(RttError::Corrupted(format!("channel {:?} has a {}-byte buffer", desc.name, desc.size)));
    }
    if desc.buffer.checked_add(desc.size).is_none() {
        return Err(RttError::Corrupted(format!(
            "channel {:?}'s buffer at {:#x} runs past the end of the address space",
            desc.name, desc.buffer
        )));
    }
    if offset >= desc.size {
        return Err(RttError::Corrupted(format!(
            "channel {:?} {which} offset {offset} outside its {}-byte buffer",
            desc.name, desc.size
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::memory::FakeMemory;
    use crate::rtt::{ControlBlock, PointerWidth, RTT_ID};

    /// Lays out a control block with one up channel "up" (buffer `up_size`) and one down channel
    /// "down" (buffer `down_size`) the way rtt-target does, in a FakeMemory at 0x1000.
    pub fn fake_rtt(width: PointerWidth, up_size: u64, down_size: u64) -> FakeMemory {
        let w = width.bytes();
        let base = 0x1000u64;
        let mut mem = FakeMemory { base, bytes: vec![0; 0x1000] };
        let names = base + 0x400;
        let up_buf = base + 0x500;
        let down_buf = up_buf + up_size;
        let put = |mem: &mut FakeMemory, addr: u64, v: u64| {
            width.write(mem, addr, v).unwrap();
        };
        mem.write(names, b"up\0down\0").unwrap();
        mem.write(base, RTT_ID).unwrap();
        put(&mut mem, base + 16, 1);
        put(&mut mem, base + 16 + w, 1);
        let up = base + 16 + 2 * w;
        let down = up + 6 * w;
        for (desc, name, buf, size) in [(up, names, up_buf, up_size), (down, names + 3, down_buf, down_size)]
        {
            put(&mut mem, desc, name);
            put(&mut mem, desc + w, buf);
            put(&mut mem, desc + 2 * w, size);
        }
        mem
    }

    /// Plays the target: writes `data` into the up channel as rtt-target would.
    pub fn target_writes(mem: &mut FakeMemory, desc: &ChannelDescriptor, data: &[u8]) {
        let mut w = desc.width.read(mem, desc.write_offset_addr()).unwrap();
        for &b in data {
            mem.write(desc.buffer + w, &[b]).unwrap();
            w = (w + 1) % desc.size;
        }
        desc.width.write(mem, desc.write_offset_addr(), w).unwrap();
    }

    /// Plays the target: reads everything from the down channel.
    fn target_reads(mem: &mut FakeMemory, desc: &ChannelDescriptor) -> Vec<u8> {
        let w = desc.width.read(mem, desc.write_offset_addr()).unwrap();
        let mut r = desc.width.read(mem, desc.read_offset_addr()).unwrap();
        let mut out = Vec::new();
        while r != w {
            let mut b = [0];
            mem.read(desc.buffer + r, &mut b).unwrap();
            out.push(b[0]);
            r = (r + 1) % desc.size;
        }
        desc.width.write(mem, desc.read_offset_addr(), r).unwrap();
        out
    }

    #[test]
    fn up_data_is_read_across_the_wrap_for_both_pointer_widths() {
        for width in [PointerWidth::Four, PointerWidth::Eight] {
            let mut mem = fake_rtt(width, 16, 8);
            let cb = ControlBlock::read(&mut mem, 0x1000, width).unwrap();
            let desc = cb.up_channel("up").unwrap().clone();
            let mut up = UpChannel::attach(&mut mem, &desc).unwrap();
            let mut got = Vec::new();
            for chunk in [&b"0123456789"[..], b"abcdefghij", b"XYZ"] {
                target_writes(&mut mem, &desc, chunk);
                up.read(&mut mem, &mut got).unwrap();
            }
            assert_eq!(got, b"0123456789abcdefghijXYZ", "{width:?}");
        }
    }

    #[test]
    fn down_writes_stop_one_byte_short_of_full_and_resume_after_the_target_reads() {
        let mut mem = fake_rtt(PointerWidth::Four, 16, 8);
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four).unwrap();
        let desc = cb.down_channel("down").unwrap().clone();
        let mut down = DownChannel::attach(&desc);
        assert_eq!(down.write(&mut mem, b"0123456789").unwrap(), 7);
        assert_eq!(down.write(&mut mem, b"89").unwrap(), 0, "full");
        assert_eq!(target_reads(&mut mem, &desc), b"0123456");
        assert_eq!(down.write(&mut mem, b"789").unwrap(), 3);
        assert_eq!(target_reads(&mut mem, &desc), b"789");
    }

    #[test]
    fn a_read_offset_moved_by_the_target_means_it_reinitialised() {
        let mut mem = fake_rtt(PointerWidth::Eight, 16, 8);
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Eight).unwrap();
        let desc = cb.up_channel("up").unwrap().clone();
        let mut up = UpChannel::attach(&mut mem, &desc).unwrap();
        target_writes(&mut mem, &desc, b"abc");
        up.read(&mut mem, &mut Vec::new()).unwrap();
        // The target restarts: offsets back to zero.
        desc.width.write(&mut mem, desc.read_offset_addr(), 0).unwrap();
        desc.width.write(&mut mem, desc.write_offset_addr(), 1).unwrap();
        assert!(matches!(up.read(&mut mem, &mut Vec::new()), Err(RttError::Reinitialised)));
    }

    #[test]
    fn offsets_outside_the_buffer_are_corruption_not_a_read() {
        let mut mem = fake_rtt(PointerWidth::Four, 16, 8);
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four).unwrap();
        let desc = cb.up_channel("up").unwrap().clone();
        let mut up = UpChannel::attach(&mut mem, &desc).unwrap();
        desc.width.write(&mut mem, desc.write_offset_addr(), 4096).unwrap();
        let err = up.read(&mut mem, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("write offset 4096 outside its 16-byte buffer"), "{err}");
    }

    #[test]
    fn an_absurd_size_makes_that_channel_unusable_not_the_block() {
        let mut mem = fake_rtt(PointerWidth::Four, 16, 8);
        // The down channel's descriptor says its buffer is 1 byte.
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four).unwrap();
        let down = cb.down_channel("down").unwrap().clone();
        PointerWidth::Four.write(&mut mem, down.addr + 8, 1).unwrap();
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four).expect("the block still reads");
        assert!(UpChannel::attach(&mut mem, cb.up_channel("up").unwrap()).is_ok(), "the other channel works");
        let err = DownChannel::attach(cb.down_channel("down").unwrap()).write(&mut mem, b"x").unwrap_err();
        assert!(err.to_string().contains("has a 1-byte buffer"), "{err}");
    }

    #[test]
    fn a_buffer_at_the_end_of_the_address_space_is_corruption_not_an_overflow() {
        // Found by the rtt_reader fuzz target: a 64-bit descriptor whose buffer pointer is near
        // u64::MAX made `buffer + offset` overflow (a panic in the daemon) on a down write.
        let mut mem = fake_rtt(PointerWidth::Eight, 16, 8);
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Eight).unwrap();
        for desc in [cb.down_channel("down").unwrap(), cb.up_channel("up").unwrap()] {
            PointerWidth::Eight.write(&mut mem, desc.addr + 8, u64::MAX - 4).unwrap();
        }
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Eight).expect("the block still reads");
        let err = DownChannel::attach(cb.down_channel("down").unwrap()).write(&mut mem, b"x").unwrap_err();
        assert!(err.to_string().contains("runs past the end of the address space"), "{err}");
        let err = UpChannel::attach(&mut mem, cb.up_channel("up").unwrap()).unwrap_err();
        assert!(err.to_string().contains("runs past the end of the address space"), "{err}");
    }

    #[test]
    fn channels_are_found_by_name_and_a_missing_one_lists_what_exists() {
        let mut mem = fake_rtt(PointerWidth::Four, 16, 8);
        let cb = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four).unwrap();
        let err = cb.up_channel("asyncmon").unwrap_err();
        assert_eq!(err.to_string(), r#"no RTT up channel named "asyncmon"; the firmware has ["up"]"#);
    }

    #[test]
    fn a_block_without_its_id_is_not_initialised_and_absurd_counts_are_corrupt() {
        let mut mem = fake_rtt(PointerWidth::Four, 16, 8);
        mem.write(0x1000, &[0; 16]).unwrap();
        assert!(matches!(
            ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four),
            Err(RttError::NotInitialised(_))
        ));
        let mut mem = fake_rtt(PointerWidth::Four, 16, 8);
        PointerWidth::Four.write(&mut mem, 0x1010, 0xffff_ffff).unwrap();
        assert!(matches!(
            ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four),
            Err(RttError::Corrupted(_))
        ));
    }
}
