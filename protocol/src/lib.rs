//! The wire between the asyncmon agent (on the device), the daemon and its clients.
//!
//! Two links, one crate, so that a change to either is always a deliberate change here:
//!
//! * **Device link** ([`device`], [`frame`], [`decoder`]): `no_std`, no heap. The agent writes one
//!   frame per RTT write: `postcard(message) ++ crc32(le)`, COBS-encoded, terminated by `0x00`.
//!   The CRC means that garbage, a lost fragment or two spliced frames are rejected instead of being
//!   decoded into a message that was never sent. Only append fields and variants; the [`PROTOCOL_VERSION`]
//!   in [`device::Hello`] tells a daemon when it cannot read a firmware.
//! * **Host link** (`host`, feature `host`): owned, serde-tagged messages between the daemon and its
//!   clients, MessagePack (rmp-serde, named fields) in length-delimited frames.
//!
//! # Strings on the device link
//! A device has little bandwidth, so strings travel in one of two forms ([`device::Text`]):
//!
//! * **`&'static str` travels as a reference** (`Text::Static { addr, len }`): task names, file paths
//!   of spawn and raise locations, exception type names. They live in the firmware's read-only data,
//!   so the host resolves a reference once (by reading target memory, or the ELF when it has no
//!   memory access) and caches it for the rest of the session epoch.
//! * **Text made at run time travels inline** (`Text::Inline`), bounded by [`device::MAX_INLINE_TEXT`]
//!   bytes. Longer text is cut at a character boundary and ends with [`device::TRUNCATION_MARKER`],
//!   so a reader always knows the message was shortened.
//!
//! This crate does no I/O and knows no transport.
#![no_std]

#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod crc32;
pub mod decoder;
pub mod device;
pub mod doorbell;
pub mod frame;
#[cfg(feature = "host")]
pub mod host;
pub mod rtt;
pub mod wire;

pub use device::{DeviceMessage, HostCommand, PROTOCOL_VERSION};
