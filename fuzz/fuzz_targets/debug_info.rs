//! The await-trace reader on hand-made debug info (a firmware's DWARF is the firmware's to write):
//! every type's layout, and every type walked as a future. No panic, no stack overflow on a type
//! that contains itself, no hang, no unbounded allocation. The seed (`fuzz/seeds/debug_info`) is
//! debug info whose types refer to themselves.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = asyncmon_daemon::await_trace::fuzzing::read_every_type(data);
});
