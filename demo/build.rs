//! Links everything built from this crate (the simulated firmware, its tests and benchmarks) the
//! way defmt needs on a Linux host: `link/defmt-host.x` places the `.defmt` table, and `-no-pie`
//! keeps each log statement's address equal to its table index. Crates that embed the demo
//! firmware in their own executables (the `asyncmon` binary) do the same from the path this build
//! script hands them (`DEP_ASYNCMON_DEMO_DEFMT_LINK_SCRIPT`, through `links`).

use std::path::Path;

fn main() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("link").join("defmt-host.x");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg=-T{}", script.display());
    println!("cargo:rustc-link-arg=-no-pie");
    println!("cargo:link_script={}", script.display());
}
