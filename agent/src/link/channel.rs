//! The link's state: the RTT channels, the count of dropped frames, the encode buffers and the
//! table of interned strings.

use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::{DeviceMessage, Text};
use asyncmon_protocol::frame::{self, EncodeScratch, MAX_FRAME, MAX_PAYLOAD};
use rtt_target::{DownChannel, UpChannel};

/// The largest control frame the agent accepts.
const MAX_CONTROL_FRAME: usize = 32;
/// How many static strings get short ids; later ones travel as plain references.
pub(crate) const MAX_INTERNED: usize = 64;

pub(crate) struct Link {
    up: UpChannel,
    down: DownChannel,
    /// Frames dropped since the last `FramesLost` that reached the host.
    lost: u32,
    /// Messages offered to the link, and how many of them were dropped, since `init`.
    pub produced: u64,
    pub dropped: u64,
    control: FrameDecoder<MAX_CONTROL_FRAME>,
    scratch: EncodeScratch,
    out: [u8; MAX_FRAME],
    /// Interned strings by (address, length); the index is the id.
    interned: heapless::Vec<(usize, usize), MAX_INTERNED>,
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
            scratch: [0; MAX_PAYLOAD + 4],
            out: [0; MAX_FRAME],
            interned: heapless::Vec::new(),
            hello: None,
        }
    }

    /// Forgets the interned strings (the host that knew them is gone).
    pub fn forget_interned(&mut self) {
        self.interned.clear();
    }

    /// Writes `msg` as one frame, preceded by the count of frames lost before it; returns whether
    /// `msg` was written (a frame that does not fit is dropped and counted).
    pub fn send(&mut self, msg: &DeviceMessage<'_>) -> bool {
        self.report_losses();
        self.produced += 1;
        let written = self.write(msg);
        if !written {
            self.lost = self.lost.saturating_add(1);
            self.dropped += 1;
        }
        written
    }

    /// Sends the count of frames lost since the last report, if any and if it fits now.
    pub fn report_losses(&mut self) {
        if self.lost > 0 && self.write(&DeviceMessage::FramesLost { count: self.lost }) {
            self.lost = 0;
        }
    }

    fn write(&mut self, msg: &DeviceMessage<'_>) -> bool {
        match frame::encode(msg, &mut self.scratch, &mut self.out) {
            Ok(bytes) => self.up.write(bytes) == bytes.len(),
            Err(_) => false,
        }
    }

    /// A short reference to `s`: its id, defining it first when it is new. Falls back to the plain
    /// static reference when the table is full or the definition could not be written, so the host
    /// can always resolve what it gets.
    pub fn intern(&mut self, s: &'static str) -> Text<'static> {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(id) = self.interned.iter().position(|k| *k == key) {
            return Text::Interned(id as u16);
        }
        if self.interned.is_full() {
            return Text::from_static(s);
        }
        let id = self.interned.len() as u16;
        if self.send(&DeviceMessage::DefineText { id, text: Text::from_static(s) }) {
            let _ = self.interned.push(key);
            Text::Interned(id)
        } else {
            Text::from_static(s)
        }
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
