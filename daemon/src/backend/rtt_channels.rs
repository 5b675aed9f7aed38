//! The RTT channels of a firmware, over any [`TargetMemory`]: asyncmon's up and down channels (in
//! asyncmon's control block) and every log channel (there, and in the firmware's own
//! `_SEGGER_RTT` beside it: defmt-rtt's). Every target opens the same way through this.

use super::error::TargetError;
use crate::defmt_logs::TableLoad;
use crate::memory::TargetMemory;
use crate::rtt::{ControlBlock, DownChannel, PointerWidth, UpChannel};
use crate::text_channels::TextChannels;
use asyncmon_protocol::host::SessionEvent;
use std::time::Instant;

pub use asyncmon_protocol::rtt::{DOWN_CHANNEL, UP_CHANNEL};

/// Where a firmware's control blocks are (run-time addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocks {
    /// The block the link opens: asyncmon's, or on a firmware that only logs, its own.
    pub main: u64,
    /// The firmware's own block beside asyncmon's, if it has one.
    pub app: Option<u64>,
    /// The target's pointer width.
    pub width: PointerWidth,
}

impl Blocks {
    /// The blocks of an ELF's symbols, moved by `bias` (a position-independent process's).
    pub fn of(symbol: &super::elf::RttSymbol, bias: u64) -> Blocks {
        Blocks {
            main: symbol.address.wrapping_add(bias),
            app: symbol.app_block.map(|at| at.wrapping_add(bias)),
            width: symbol.width,
        }
    }
}

/// An open link: the channels found in a sane control block.
pub struct RttChannels {
    /// asyncmon's channels; `None` on a firmware that only logs (defmt-only).
    up: Option<UpChannel>,
    down: Option<DownChannel>,
    text: TextChannels,
}

impl RttChannels {
    /// Opens the link: `Ok(None)` while asyncmon's control block is not there yet.
    pub fn open(
        mem: &mut dyn TargetMemory,
        blocks: Blocks,
        defmt: &TableLoad,
        started: Instant,
    ) -> Result<Option<Self>, TargetError> {
        Self::open_channels(mem, blocks, defmt, started, true)
    }

    /// Opens the log channels only, for a firmware without asyncmon's (defmt-only).
    pub fn open_logs(
        mem: &mut dyn TargetMemory,
        blocks: Blocks,
        defmt: &TableLoad,
        started: Instant,
    ) -> Result<Option<Self>, TargetError> {
        Self::open_channels(mem, blocks, defmt, started, false)
    }

    fn open_channels(
        mem: &mut dyn TargetMemory,
        blocks: Blocks,
        defmt: &TableLoad,
        started: Instant,
        asyncmon: bool,
    ) -> Result<Option<Self>, TargetError> {
        let Blocks { main, app, width } = blocks;
        if !ControlBlock::is_initialised(mem, main)? {
            return Ok(None);
        }
        let block = ControlBlock::read(mem, main, width)?;
        // The firmware's own block is read when it is there (defmt-rtt's is, from reset on); one
        // that makes no sense costs its logs, never asyncmon's link.
        let app_block = match app {
            Some(at) if ControlBlock::is_initialised(mem, at).unwrap_or(false) => {
                ControlBlock::read(mem, at, width)
                    .inspect_err(|e| tracing::warn!("the firmware's own RTT control block is not read: {e}"))
                    .ok()
            }
            _ => None,
        };
        let (up, down) = if asyncmon {
            let up = UpChannel::attach(mem, block.up_channel(UP_CHANNEL)?)?;
            (Some(up), Some(DownChannel::attach(block.down_channel(DOWN_CHANNEL)?)))
        } else {
            (None, None)
        };
        let blocks: Vec<&ControlBlock> = std::iter::once(&block).chain(app_block.as_ref()).collect();
        let text = TextChannels::attach(mem, &blocks, UP_CHANNEL, started, defmt);
        Ok(Some(RttChannels { up, down, text }))
    }

    /// Reads the asyncmon channel into `bytes` and the log channels into `events`.
    pub fn read(
        &mut self,
        mem: &mut dyn TargetMemory,
        bytes: &mut Vec<u8>,
        events: &mut Vec<SessionEvent>,
    ) -> Result<(), TargetError> {
        if let Some(up) = &mut self.up {
            up.read(mem, bytes)?;
        }
        self.text.read(mem, events);
        Ok(())
    }

    /// Writes what fits of `data` into the control channel.
    pub fn write(&mut self, mem: &mut dyn TargetMemory, data: &[u8]) -> Result<usize, TargetError> {
        match &mut self.down {
            Some(down) => Ok(down.write(mem, data)?),
            None => Ok(0),
        }
    }

    /// The log channels, for what is left to decode when the target is gone.
    pub fn into_text(self) -> TextChannels {
        self.text
    }
}
