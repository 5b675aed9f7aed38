//! The host-link decoders a daemon and its clients run on bytes from the other side, and the
//! recording reader `asyncmon replay` runs on a file from anywhere: no panic, no unbounded
//! allocation (libFuzzer's `-rss_limit_mb` and `-malloc_limit_mb` catch one), and a recording is
//! either read or refused with an error.

#![no_main]

use asyncmon_protocol::host::recording::RecordingReader;
use asyncmon_protocol::host::{decode, ClientRequest, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<ClientRequest>(data);
    let _ = decode::<ServerMessage>(data);
    if let Ok(mut reader) = RecordingReader::new(data) {
        // Each event consumes input, so this ends; bound it anyway.
        for _ in 0..10_000 {
            match reader.next_event() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
});
