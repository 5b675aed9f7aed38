//! The executor's task storage is zero-initialised (`.bss`), as embassy's task pools are: it costs
//! no flash and no copy at boot. A single non-zero initial value anywhere in `Executor::new()` would
//! put the whole executor — every task slot — into `.data`, flash and a copy at boot.
//! Checked in the demo firmware's ELF as built for the simulated board, and as built for each QEMU
//! board (thumbv6m, thumbv7em, RISC-V).

mod support;

use asyncmon_demo::demo::{SLOT_BYTES, TASKS};
use object::{Object, ObjectSection, ObjectSymbol};
use std::path::Path;

fn the_executor_is_in_bss(elf: &Path) {
    let bytes = std::fs::read(elf).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let symbol = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("asyncmon_demo4demo8EXECUTOR")))
        .expect("the demo's EXECUTOR static is in the symbol table");
    let section = file.section_by_index(symbol.section_index().unwrap()).unwrap();
    assert!(
        symbol.size() >= (TASKS * SLOT_BYTES) as u64,
        "the symbol is the whole executor: {} bytes",
        symbol.size()
    );
    assert_eq!(
        section.name().unwrap(),
        ".bss",
        "{}: {} bytes of executor in {}",
        elf.display(),
        symbol.size(),
        section.name().unwrap()
    );
}

#[test]
fn on_the_simulated_board() {
    the_executor_is_in_bss(Path::new(env!("CARGO_BIN_EXE_asyncmon-demo-firmware")));
}

#[test]
fn on_every_qemu_board() {
    for board in support::boards::BOARDS {
        the_executor_is_in_bss(&support::boards::demo_firmware(board));
    }
}
