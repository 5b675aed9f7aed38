//! The agent's control-channel parser, as `link::poll_commands` runs it on the RTT down channel:
//! the agent's 64-byte frame decoder and `HostCommand::from_payload`, on random bytes, in random
//! pieces. No panic; a stop request sent intact between the random bytes is always recognised (a
//! garbage-ending-in-0x00 boundary resynchronises the decoder); the decoder's state never grows.

#![no_main]

use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::HostCommand;
use asyncmon_protocol::frame;
use libfuzzer_sys::fuzz_target;

/// The agent's down-channel frame buffer size.
const AGENT_CONTROL_FRAME: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Some((&split, noise)) = data.split_first() else { return };
    let mut decoder = FrameDecoder::<AGENT_CONTROL_FRAME>::new();
    let mut commands = Vec::new();
    let mut feed = |bytes: &[u8], commands: &mut Vec<HostCommand>| {
        decoder.feed(bytes, |d| {
            if let Decoded::Frame(payload) = d {
                if let Some(cmd) = HostCommand::from_payload(payload) {
                    commands.push(cmd);
                }
            }
        });
    };
    // Random bytes, in two pieces, then a boundary and a real stop request.
    let at = usize::from(split).min(noise.len());
    feed(&noise[..at], &mut commands);
    feed(&noise[at..], &mut commands);
    feed(&[0], &mut commands);
    let before = commands.len();
    let mut out = [0u8; frame::MAX_FRAME];
    let stop = HostCommand::Stop { request_id: 0x5eed };
    feed(frame::encode(&stop, &mut out).unwrap(), &mut commands);
    assert_eq!(commands[before..], [stop], "the stop request after the noise is recognised, once");
    assert!(decoder.pending() == 0, "nothing is left pending after a frame end");
});
