//! The executor's task storage is zero-initialised (`.bss`), as embassy's task pools are: it costs
//! no flash and no copy at boot. A single non-zero initial value anywhere in `Executor::new()` would
//! put the whole executor — every task slot — into `.data` (the demo's `Executor<16, 2048>` is 33 KiB).
//! Checked in the demo firmware's ELF as built for the simulated board; the board builds check the
//! same for thumb and RISC-V.

use object::{Object, ObjectSection, ObjectSymbol};

#[test]
fn the_demo_executor_and_its_task_slots_are_in_bss() {
    let elf = std::fs::read(env!("CARGO_BIN_EXE_asyncmon-demo-firmware")).unwrap();
    let file = object::File::parse(&*elf).unwrap();
    let symbol = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("asyncmon_demo4demo8EXECUTOR")))
        .expect("the demo's EXECUTOR static is in the symbol table");
    let section = file.section_by_index(symbol.section_index().unwrap()).unwrap();
    assert!(symbol.size() >= 16 * 2048, "the symbol is the whole executor: {} bytes", symbol.size());
    assert_eq!(
        section.name().unwrap(),
        ".bss",
        "{} bytes of executor in {}",
        symbol.size(),
        section.name().unwrap()
    );
}
