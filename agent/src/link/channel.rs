//! The link's state: the RTT channels, the count of dropped frames and the frame buffer.
//!
//! Once a frame did not fit, nothing more is encoded until the host has read: a board with no host
//! attached (its up buffer full for good) pays a load and a compare a frame, not an encoding.

use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::{DeviceMessage, Text};
use asyncmon_protocol::frame::{self, MAX_FRAME};
use asyncmon_protocol::wire::Encode;
use rtt_target::{DownChannel, UpChannel};

use super::control_block;

/// [`Link::stalled_at`] when the last frame fitted (no read offset is this large).
const NOT_STALLED: usize = usize::MAX;

/// The largest control frame the agent accepts.
const MAX_CONTROL_FRAME: usize = 32;

pub(crate) struct Link {
    up: UpChannel,
    down: DownChannel,
    /// Frames dropped since the last `FramesLost` that reached the host.
    lost: u32,
    /// Messages offered to the link, and how many of them were dropped, since `init`.
    pub produced: u64,
    pub dropped: u64,
    control: FrameDecoder<MAX_CONTROL_FRAME>,
    out: [u8; MAX_FRAME],
    /// The host's read offset in the up channel when a frame last did not fit; [`NOT_STALLED`]
    /// once the host has read since. (A plain word, not an `Option`: a tag would give `Option<Link>`
    /// a niche, and the link's `None` would no longer be zeros in `.bss` but 592 bytes of `.data`.)
    stalled_at: usize,
    /// The hello, to say again on a resync.
    pub hello: Option<(&'static str, &'static str)>,
}

impl Link {
    pub fn new(up: UpChannel, down: DownChannel) -> Self {
        Link {
            up,
            down,
            lost: 0,
            produced: 0,
            dropped: 0,
            control: FrameDecoder::new(),
            out: [0; MAX_FRAME],
            stalled_at: NOT_STALLED,
            hello: None,
        }
    }

    /// Writes `msg` (a [`DeviceMessage`], or a form that writes the same bytes) as one frame,
    /// preceded by the count of frames lost before it; returns whether `msg` was written (a frame
    /// that does not fit is dropped and counted).
    pub fn send(&mut self, msg: &(impl Encode + ?Sized)) -> bool {
        self.report_losses();
        self.produced += 1;
        let written = !self.stalled() && self.write(msg);
        if !written {
            self.lost = self.lost.saturating_add(1);
            self.dropped += 1;
        }
        written
    }

    /// Sends the count of frames lost since the last report, if any and if it fits now.
    pub fn report_losses(&mut self) {
        if self.lost > 0 && !self.stalled() && self.write(&DeviceMessage::FramesLost { count: self.lost }) {
            self.lost = 0;
        }
    }

    /// A frame did not fit, and the host has not read since: the next would not fit either.
    fn stalled(&mut self) -> bool {
        if self.stalled_at != NOT_STALLED && self.stalled_at != control_block::up_read_offset() {
            self.stalled_at = NOT_STALLED;
        }
        self.stalled_at != NOT_STALLED
    }

    fn write(&mut self, msg: &(impl Encode + ?Sized)) -> bool {
        match frame::encode(msg, &mut self.out) {
            Ok(bytes) => {
                let written = self.up.write(bytes) == bytes.len();
                if !written {
                    self.stalled_at = control_block::up_read_offset();
                }
                written
            }
            Err(_) => false,
        }
    }

    /// A short reference to `s` (see [`super::interned`]).
    pub fn intern(&mut self, s: &'static str) -> Text<'static> {
        super::interned::intern(self, s)
    }

    pub fn write_raw(&mut self, bytes: &[u8]) -> bool {
        self.up.write(bytes) == bytes.len()
    }

    /// Reads what the host wrote to the down channel and feeds it to the control decoder.
    pub fn read_control(&mut self, on: impl FnMut(Decoded<'_>)) {
        let mut bytes = [0u8; super::DOWN_BUFFER_BYTES];
        let n = self.down.read(&mut bytes);
        self.control.feed(&bytes[..n], on);
    }

    pub fn nothing_lost(&self) -> bool {
        self.lost == 0
    }

    pub fn is_drained(&self) -> bool {
        self.up.is_empty()
    }
}
