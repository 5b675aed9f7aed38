//! The RTT channels of one control block, over any [`TargetMemory`]: asyncmon's up and down
//! channels and every log channel. The simulator and the probe open the same way through this.

use super::error::TargetError;
use crate::defmt_logs::TableLoad;
use crate::memory::TargetMemory;
use crate::rtt::{ControlBlock, DownChannel, PointerWidth, UpChannel};
use crate::text_channels::TextChannels;
use asyncmon_protocol::host::SessionEvent;
use std::time::Instant;

/// The RTT channel names the agent creates.
pub const UP_CHANNEL: &str = "asyncmon";
/// See [`UP_CHANNEL`].
pub const DOWN_CHANNEL: &str = "asyncmon-control";

/// An open link: the channels found in a sane control block.
pub struct RttChannels {
    /// asyncmon's channels; `None` on a firmware that only logs (defmt-only).
    up: Option<UpChannel>,
    down: Option<DownChannel>,
    text: TextChannels,
}

impl RttChannels {
    /// Opens the link at `addr`: `Ok(None)` while no control block is there yet.
    pub fn open(
        mem: &mut dyn TargetMemory,
        addr: u64,
        width: PointerWidth,
        defmt: &TableLoad,
        started: Instant,
    ) -> Result<Option<Self>, TargetError> {
        Self::open_channels(mem, addr, width, defmt, started, true)
    }

    /// Opens the log channels only, for a firmware without asyncmon's (defmt-only).
    pub fn open_logs(
        mem: &mut dyn TargetMemory,
        addr: u64,
        width: PointerWidth,
        defmt: &TableLoad,
        started: Instant,
    ) -> Result<Option<Self>, TargetError> {
        Self::open_channels(mem, addr, width, defmt, started, false)
    }

    fn open_channels(
        mem: &mut dyn TargetMemory,
        addr: u64,
        width: PointerWidth,
        defmt: &TableLoad,
        started: Instant,
        asyncmon: bool,
    ) -> Result<Option<Self>, TargetError> {
        if !ControlBlock::is_initialised(mem, addr)? {
            return Ok(None);
        }
        let block = ControlBlock::read(mem, addr, width)?;
        let (up, down) = if asyncmon {
            let up = UpChannel::attach(mem, block.up_channel(UP_CHANNEL)?)?;
            (Some(up), Some(DownChannel::attach(block.down_channel(DOWN_CHANNEL)?)))
        } else {
            (None, None)
        };
        let text = TextChannels::attach(mem, &block, UP_CHANNEL, started, defmt);
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
