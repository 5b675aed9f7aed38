//! Finding the RTT control blocks in a firmware ELF, and where they sit in a running process:
//! asyncmon's (`_ASYNCMON_RTT`), and the firmware's own (`_SEGGER_RTT`: defmt-rtt's, say), whose
//! log channels are shown beside asyncmon's. A firmware with only the latter (defmt-only) is read
//! for its logs.

use crate::elf_memory::{with_elf, ElfError};
use crate::rtt::PointerWidth;
use object::{Object, ObjectSegment, ObjectSymbol};
use std::path::Path;

/// The symbol of asyncmon's control block.
pub const RTT_SYMBOL: &str = asyncmon_protocol::rtt::SYMBOL;
/// The symbol of the firmware's own control block.
pub const SEGGER_SYMBOL: &str = asyncmon_protocol::rtt::SEGGER_SYMBOL;

/// Where the control block is in the ELF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttSymbol {
    /// The control block the link opens (a link-time address): asyncmon's, or the firmware's own
    /// when it has no asyncmon's.
    pub address: u64,
    /// The id the block at `address` starts with once it is made (asyncmon's, or SEGGER's).
    pub id: &'static [u8; 16],
    /// The firmware's own control block beside asyncmon's, when it has one: its log channels are
    /// read too.
    pub app_block: Option<u64>,
    /// The target's pointer width, from the ELF class.
    pub width: PointerWidth,
    /// Whether the ELF is position independent (its addresses move by the load base).
    pub relocatable: bool,
    /// The lowest address of a loadable segment, page-aligned (the load base maps here).
    pub first_segment: u64,
}

/// Reads `elf_path` and finds its control blocks.
pub fn find_rtt_symbol(elf_path: &Path) -> Result<RttSymbol, ElfError> {
    with_elf(elf_path, |file| {
        let find = |name: &str| file.symbols().find(|s| s.name() == Ok(name)).map(|s| s.address());
        let (address, id, app_block) = match (find(RTT_SYMBOL), find(SEGGER_SYMBOL)) {
            (Some(ours), app) => (ours, asyncmon_protocol::rtt::ID, app),
            (None, Some(app)) => (app, asyncmon_protocol::rtt::SEGGER_ID, None),
            (None, None) => return Err(ElfError::NoRttSymbol { path: elf_path.into() }),
        };
        let width = if file.is_64() { PointerWidth::Eight } else { PointerWidth::Four };
        let first_segment = file.segments().map(|s| s.address()).min().unwrap_or(0) & !0xfff;
        Ok(RttSymbol {
            address,
            id,
            app_block,
            width,
            relocatable: file.kind() == object::ObjectKind::Dynamic,
            first_segment,
        })
    })
}

/// The link-time address of symbol `name` in `elf_path`, if it has one.
pub fn symbol_address(elf_path: &Path, name: &str) -> Result<Option<u64>, ElfError> {
    with_elf(elf_path, |file| Ok(file.symbols().find(|s| s.name() == Ok(name)).map(|s| s.address())))
}

/// Why the control block could not be placed in a running process.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// The executable is not in the process's memory map: right after `spawn` it may not be yet
    /// (the kernel lets the parent go before the new program is mapped), so this is worth a retry.
    #[error("process {0} has no mapping of its executable")]
    NotMapped(u32),
    /// The executable is not a firmware asyncmon can serve.
    #[error(transparent)]
    Elf(#[from] ElfError),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

/// The run-time address of `symbol` in process `pid`, whose executable has inode `exe_inode`:
/// for a position-independent executable, shifted by where its first mapping was loaded.
pub fn runtime_address(symbol: &RttSymbol, pid: u32, exe_inode: u64) -> Result<u64, LocateError> {
    if !symbol.relocatable {
        return Ok(symbol.address);
    }
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| LocateError::Other(format!("cannot read the memory map of process {pid}: {e}")))?;
    load_base(&maps, exe_inode)
        .map(|base| base - symbol.first_segment + symbol.address)
        .ok_or(LocateError::NotMapped(pid))
}

/// Where asyncmon's control block is in the running process `pid`, and the target's pointer width: from the
/// executable's ELF symbol and its load address.
pub fn locate_in_process(pid: u32) -> Result<(u64, PointerWidth), LocateError> {
    locate_executable(pid).map(|found| (found.address, found.width))
}

/// A firmware process's control block, and where its executable is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The run-time address of the control block the link opens (see [`RttSymbol::address`]).
    pub address: u64,
    /// The run-time address of the firmware's own control block beside it, if any.
    pub app_block: Option<u64>,
    /// The target's pointer width.
    pub width: PointerWidth,
    /// The executable's path (resolved while the process runs).
    pub executable: std::path::PathBuf,
    /// Run-time address minus link-time address (0 unless position independent).
    pub bias: u64,
    /// The run-time address of the firmware's doorbell (`asyncmon_protocol::doorbell::SYMBOL`), if
    /// it has one.
    pub doorbell: Option<u64>,
}

/// Like [`locate_in_process`], with the executable's path and load bias.
pub fn locate_executable(pid: u32) -> Result<Located, LocateError> {
    let exe = std::path::PathBuf::from(format!("/proc/{pid}/exe"));
    let inode = std::os::unix::fs::MetadataExt::ino(
        &std::fs::metadata(&exe)
            .map_err(|e| LocateError::Other(format!("cannot inspect process {pid}: {e}")))?,
    );
    let symbol = find_rtt_symbol(&exe)?;
    let address = runtime_address(&symbol, pid, inode)?;
    let bias = address.wrapping_sub(symbol.address);
    let doorbell = symbol_address(&exe, asyncmon_protocol::doorbell::SYMBOL)?.map(|at| at.wrapping_add(bias));
    Ok(Located {
        address,
        app_block: symbol.app_block.map(|at| at.wrapping_add(bias)),
        width: symbol.width,
        executable: std::fs::read_link(&exe).unwrap_or(exe),
        bias,
        doorbell,
    })
}

/// The start of the first mapping (file offset 0) of the file with inode `inode`.
fn load_base(maps: &str, inode: u64) -> Option<u64> {
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let range = fields.next()?;
        let _perms = fields.next()?;
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let _dev = fields.next()?;
        let ino: u64 = fields.next()?.parse().ok()?;
        (ino == inode && offset == 0).then(|| u64::from_str_radix(range.split('-').next()?, 16).ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_load_base_is_the_first_mapping_of_the_executable() {
        let maps = "\
55d0c0a00000-55d0c0a2a000 r--p 00000000 fd:01 777 /work/fw
55d0c0a2a000-55d0c0b00000 r-xp 0002a000 fd:01 777 /work/fw
7f0000000000-7f0000001000 r--p 00000000 fd:01 12 /usr/lib/libc.so.6
";
        assert_eq!(load_base(maps, 777), Some(0x55d0c0a00000));
        assert_eq!(load_base(maps, 999), None);
    }

    #[test]
    fn our_own_test_binary_has_no_rtt_symbol_and_says_why() {
        let exe = std::env::current_exe().unwrap();
        let err = find_rtt_symbol(&exe).unwrap_err().to_string();
        assert!(err.contains("has no _ASYNCMON_RTT symbol"), "{err}");
    }
}
