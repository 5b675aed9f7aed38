//! asyncmon's own RTT control block, [`asyncmon_protocol::rtt::SYMBOL`]: SEGGER's layout, its own
//! symbol and id, so that the firmware's `_SEGGER_RTT` (defmt-rtt's, say) stays the firmware's.
//!
//! Channels: up `asyncmon` (frames), with the `log-channel` feature `log` (text), with the `defmt`
//! feature `defmt`; down `asyncmon-control`. Every up channel is non-blocking (a full buffer drops what does not fit).
//! The channels are written through `rtt-target`'s channel code; only the block is ours.

#[cfg(feature = "defmt")]
use asyncmon_protocol::rtt::DEFMT_CHANNEL;
#[cfg(feature = "log-channel")]
use asyncmon_protocol::rtt::LOG_CHANNEL;
use asyncmon_protocol::rtt::{DOWN_CHANNEL, ID, UP_CHANNEL};
use core::mem::MaybeUninit;
use core::ptr::{addr_of, addr_of_mut, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};
use rtt_target::rtt::RttChannel;
use rtt_target::{ChannelMode, DownChannel, UpChannel};

/// The up buffer size: a failure frame (at most ~330 bytes) always fits an empty buffer.
pub const UP_BUFFER_BYTES: usize = 1024;
/// The text log and defmt buffers' size.
#[cfg(any(feature = "log-channel", feature = "defmt"))]
pub const LOG_BUFFER_BYTES: usize = 1024;
/// The down buffer size: several stop frames (about 12 bytes each).
pub const DOWN_BUFFER_BYTES: usize = 64;

/// asyncmon's, then the optional ones in order: `log`, `defmt`.
const UP_CHANNELS: usize = 1 + cfg!(feature = "log-channel") as usize + cfg!(feature = "defmt") as usize;

/// SEGGER's header: the id, then how many channels follow in each direction.
#[repr(C)]
struct Header {
    id: [u8; 16],
    max_up_channels: usize,
    max_down_channels: usize,
}

#[repr(C)]
struct ControlBlock {
    header: Header,
    up: [RttChannel; UP_CHANNELS],
    down: [RttChannel; 1],
}

/// The block the host finds by its symbol. All zeros until [`init`] (a host sees no id).
#[used]
#[export_name = "_ASYNCMON_RTT"]
static mut CONTROL_BLOCK: MaybeUninit<ControlBlock> = MaybeUninit::uninit();
static mut UP_BUFFER: MaybeUninit<[u8; UP_BUFFER_BYTES]> = MaybeUninit::uninit();
#[cfg(feature = "log-channel")]
static mut LOG_BUFFER: MaybeUninit<[u8; LOG_BUFFER_BYTES]> = MaybeUninit::uninit();
#[cfg(feature = "defmt")]
static mut DEFMT_BUFFER: MaybeUninit<[u8; LOG_BUFFER_BYTES]> = MaybeUninit::uninit();
static mut DOWN_BUFFER: MaybeUninit<[u8; DOWN_BUFFER_BYTES]> = MaybeUninit::uninit();

/// SEGGER's layout of a channel, which `rtt-target`'s `RttChannel` keeps to itself: the host moves
/// `read` (of an up channel), the firmware `write`.
#[repr(C)]
struct ChannelWords {
    name: *const u8,
    buffer: *mut u8,
    size: usize,
    write: AtomicUsize,
    read: AtomicUsize,
    flags: AtomicUsize,
}

const _: () = assert!(core::mem::size_of::<ChannelWords>() == core::mem::size_of::<RttChannel>());

/// asyncmon's up channel, in SEGGER's layout.
fn up_words() -> *const ChannelWords {
    // SAFETY: only the address is taken; the channel is the block's first up channel.
    unsafe { addr_of!((*addr_of!(CONTROL_BLOCK).cast::<ControlBlock>()).up).cast::<ChannelWords>() }
}

/// The host's read offset in asyncmon's up channel: it moves only when the host reads. Called
/// once the block is made (by the link, which exists only after [`init`]).
pub(crate) fn up_read_offset() -> usize {
    // SAFETY: the block was made (see above); `read` is a word the host writes and we only load.
    unsafe { (*up_words()).read.load(Ordering::Acquire) }
}

/// Marks everything written to asyncmon's up channel as read, as a host that keeps up does (on a
/// board a probe reads it at no cost to the core). For the device-cost benchmark only, which has
/// no host: its frames then cost what they cost with one. Does nothing before the link exists.
#[doc(hidden)]
pub fn read_everything_as_a_host_would() {
    if !super::enabled() {
        return;
    }
    // SAFETY: the block was made (the link exists); both offsets are words. Racing a real host
    // would lose nothing it has not read yet: the benchmark has none.
    unsafe {
        let words = &*up_words();
        words.read.store(words.write.load(Ordering::Acquire), Ordering::Release);
    }
}

/// The channels of the block, once made.
pub(crate) struct Channels {
    pub up: UpChannel,
    #[cfg(feature = "log-channel")]
    pub log: UpChannel,
    #[cfg(feature = "defmt")]
    pub defmt: UpChannel,
    pub down: DownChannel,
}

/// A channel name as C wants it, NUL-terminated, from the protocol's name.
macro_rules! c_name {
    ($name:expr) => {{
        const NAME: &str = $name;
        const LEN: usize = NAME.len() + 1;
        // A static, not a const: the channel keeps the pointer, so the name needs an address of its
        // own for the firmware's life.
        static BYTES: [u8; LEN] = {
            let mut out = [0u8; LEN];
            let mut i = 0;
            while i < NAME.len() {
                out[i] = NAME.as_bytes()[i];
                i += 1;
            }
            out
        };
        BYTES.as_ptr()
    }};
}

/// Makes the control block and returns its channels; the id is written last, so a host never
/// reads a half-made block.
///
/// # Safety
/// Called once (the caller's `Once` guarantees it): the block and its buffers are handed out as
/// channels that own them from then on.
pub(crate) unsafe fn init() -> Channels {
    // SAFETY: called once, before any channel exists: nothing else refers to these statics.
    unsafe {
        let cb = addr_of_mut!(CONTROL_BLOCK).cast::<ControlBlock>();
        core::ptr::write_bytes(cb, 0, 1);
        let up = addr_of_mut!((*cb).up).cast::<RttChannel>();
        let down = addr_of_mut!((*cb).down).cast::<RttChannel>();
        (*up).init(c_name!(UP_CHANNEL), ChannelMode::NoBlockSkip, buffer(addr_of_mut!(UP_BUFFER)));
        #[cfg(feature = "log-channel")]
        let log = up.add(1);
        #[cfg(feature = "log-channel")]
        (*log).init(c_name!(LOG_CHANNEL), ChannelMode::NoBlockSkip, buffer(addr_of_mut!(LOG_BUFFER)));
        // The last, when there.
        #[cfg(feature = "defmt")]
        let defmt = up.add(UP_CHANNELS - 1);
        #[cfg(feature = "defmt")]
        (*defmt).init(c_name!(DEFMT_CHANNEL), ChannelMode::NoBlockSkip, buffer(addr_of_mut!(DEFMT_BUFFER)));
        (*down).init(c_name!(DOWN_CHANNEL), ChannelMode::NoBlockSkip, buffer(addr_of_mut!(DOWN_BUFFER)));
        let header = addr_of_mut!((*cb).header);
        write_volatile(addr_of_mut!((*header).max_up_channels), UP_CHANNELS);
        write_volatile(addr_of_mut!((*header).max_down_channels), 1);
        // Backwards, as rtt-target writes SEGGER's: the id is whole only when the last byte lands.
        let id = addr_of_mut!((*header).id).cast::<u8>();
        for i in (0..ID.len()).rev() {
            write_volatile(id.add(i), ID[i]);
        }
        Channels {
            up: UpChannel::new(up),
            #[cfg(feature = "log-channel")]
            log: UpChannel::new(log),
            #[cfg(feature = "defmt")]
            defmt: UpChannel::new(defmt),
            down: DownChannel::new(down),
        }
    }
}

fn buffer<const N: usize>(buffer: *mut MaybeUninit<[u8; N]>) -> *mut [u8] {
    core::ptr::slice_from_raw_parts_mut(buffer.cast::<u8>(), N)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_names_are_nul_terminated_copies() {
        let name = c_name!(asyncmon_protocol::rtt::DOWN_CHANNEL);
        // SAFETY: `c_name!` points at a static array of the name's length plus one.
        let bytes = unsafe { core::slice::from_raw_parts(name, "asyncmon-control".len() + 1) };
        assert_eq!(bytes, b"asyncmon-control\0");
    }
}
