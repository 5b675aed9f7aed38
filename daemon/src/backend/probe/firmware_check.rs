//! What is checked in a firmware's ELF before a board is flashed with it: that asyncmon can talk to
//! it (the agent's RTT up channel, or at least a defmt channel whose logs can be shown) and that
//! every byte it loads lands in the chip's memory map. Both are said in words that name the fix.

use crate::elf_memory::{with_elf, ElfError};
use object::read::elf::ProgramHeader;
use object::{Object, ObjectSection, ObjectSymbol};
use probe_rs::config::{MemoryRegion, Target};
use std::path::Path;

/// What the firmware can say over RTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    /// The agent's channel: tasks, failures, stops, and logs.
    Asyncmon,
    /// defmt logs only (defmt-rtt, `rtt_init_defmt!`): shown, but no task or failure.
    DefmtOnly,
}

/// Why a firmware is refused before flashing.
#[derive(Debug, thiserror::Error)]
pub enum FirmwareCheckError {
    /// The ELF cannot be read.
    #[error(transparent)]
    Elf(#[from] ElfError),
    /// Neither asyncmon's channel nor defmt's.
    #[error("{path} has an RTT control block but neither asyncmon's channel nor defmt's: nothing would be shown. Add asyncmon-agent (or asyncmon-embassy for an embassy firmware) and call its link::init (asyncmon_embassy::init) where the firmware set up RTT", path = path.display())]
    NothingToShow {
        /// The ELF.
        path: std::path::PathBuf,
    },
    /// A loadable segment outside the chip's memory.
    #[error("{path} loads {start:#x}..{end:#x}, outside the {chip}'s memory ({regions}): is it built for this chip (its memory.x)?", path = path.display())]
    OutsideMemory {
        /// The ELF.
        path: std::path::PathBuf,
        /// The chip.
        chip: String,
        /// The segment's first address.
        start: u64,
        /// Its end.
        end: u64,
        /// The chip's regions, in words.
        regions: String,
    },
}

/// The name defmt-rtt and `rtt_init_defmt!` give theirs.
const DEFMT_CHANNEL: &[u8] = b"defmt\0";

/// What the firmware at `path` speaks; refuses one that says nothing asyncmon can show.
pub fn channels(path: &Path) -> Result<Speaks, FirmwareCheckError> {
    let (asyncmon, defmt) = with_elf(path, |file| {
        // asyncmon's channels are in asyncmon's own control block.
        let mut found = (file.symbols().any(|s| s.name() == Ok(asyncmon_protocol::rtt::SYMBOL)), false);
        for section in file.sections() {
            if let Ok(data) = section.data() {
                found.1 |= data.windows(DEFMT_CHANNEL.len()).any(|w| w == DEFMT_CHANNEL);
            }
        }
        // A defmt channel without defmt's table would show nothing either.
        found.1 &= file.section_by_name(".defmt").is_some();
        Ok(found)
    })?;
    match (asyncmon, defmt) {
        (true, _) => Ok(Speaks::Asyncmon),
        (false, true) => Ok(Speaks::DefmtOnly),
        (false, false) => Err(FirmwareCheckError::NothingToShow { path: path.into() }),
    }
}

/// Refuses a firmware that loads anything outside `target`'s memory map.
pub fn loads_within(path: &Path, target: &Target) -> Result<(), FirmwareCheckError> {
    let segments = with_elf(path, |file| Ok(load_ranges(file)))?;
    let inside = |start: u64, end: u64| {
        target.memory_map.iter().any(|region| {
            let range = match region {
                MemoryRegion::Ram(r) => &r.range,
                MemoryRegion::Nvm(r) => &r.range,
                MemoryRegion::Generic(r) => &r.range,
            };
            range.start <= start && end <= range.end
        })
    };
    for (start, end) in segments {
        if !inside(start, end) {
            let regions = target
                .memory_map
                .iter()
                .map(|region| match region {
                    MemoryRegion::Ram(r) => format!("RAM {:#x}..{:#x}", r.range.start, r.range.end),
                    MemoryRegion::Nvm(r) => format!("flash {:#x}..{:#x}", r.range.start, r.range.end),
                    MemoryRegion::Generic(r) => format!("{:#x}..{:#x}", r.range.start, r.range.end),
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(FirmwareCheckError::OutsideMemory {
                path: path.into(),
                chip: target.name.clone(),
                start,
                end,
                regions,
            });
        }
    }
    Ok(())
}

/// The physical ranges the ELF's loadable segments fill (what a loader writes).
fn load_ranges(file: &object::File<'_>) -> Vec<(u64, u64)> {
    use object::elf::PT_LOAD;
    let ranges = |headers: Option<Vec<(u32, u64, u64)>>| {
        headers
            .unwrap_or_default()
            .into_iter()
            .filter(|(kind, _, size)| *kind == PT_LOAD && *size > 0)
            .map(|(_, start, size)| (start, start + size))
            .collect()
    };
    match file {
        object::File::Elf32(elf) => {
            let endian = elf.endian();
            ranges(
                elf.elf_program_headers()
                    .iter()
                    .map(|h| {
                        Some((h.p_type(endian), u64::from(h.p_paddr(endian)), u64::from(h.p_filesz(endian))))
                    })
                    .collect(),
            )
        }
        object::File::Elf64(elf) => {
            let endian = elf.endian();
            ranges(
                elf.elf_program_headers()
                    .iter()
                    .map(|h| Some((h.p_type(endian), h.p_paddr(endian), h.p_filesz(endian))))
                    .collect(),
            )
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_elf_without_either_channel_is_refused_with_what_to_add() {
        // This test binary has neither channel's name... as a C string in a data section? It has
        // the constants above, which are exactly those: check the refusal's words instead.
        let err = FirmwareCheckError::NothingToShow { path: "app.elf".into() }.to_string();
        assert!(err.contains("Add asyncmon-agent"), "{err}");
    }

    #[test]
    fn a_firmware_for_another_memory_map_is_refused_before_flashing() {
        let target = super::super::chip::registry().get_target_by_name("nRF51822_xxAA").unwrap();
        // This test binary loads at host addresses, nowhere in an nRF51's memory.
        let me = std::env::current_exe().unwrap();
        let err = loads_within(&me, &target).unwrap_err().to_string();
        assert!(
            err.contains(
                "outside the nRF51822_xxAA's memory (flash 0x0..0x40000, RAM 0x20000000..0x20004000"
            ),
            "{err}"
        );
    }
}
