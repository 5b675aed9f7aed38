//! Puts the selected board's `memory.x` where cortex-m-rt's (or riscv-rt's) `link.x` includes it.

use std::path::PathBuf;

fn main() {
    let boards = [
        ("mps2-an386", "memory/mps2.x"),
        ("microbit", "memory/microbit.x"),
        ("riscv-virt", "memory/riscv-virt.x"),
    ];
    let selected: Vec<_> = boards
        .iter()
        .filter(|(feature, _)| {
            std::env::var_os(format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"))).is_some()
        })
        .collect();
    let [(_, memory)] = selected[..] else {
        let names: Vec<_> = boards.iter().map(|(feature, _)| *feature).collect();
        panic!("select exactly one board feature of asyncmon-qemu-boards: {}", names.join(", "));
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy(memory, out.join("memory.x")).expect("the board's memory map is in boards/memory/");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={memory}");
    println!("cargo:rerun-if-changed=build.rs");
}
