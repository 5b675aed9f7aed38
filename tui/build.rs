//! The `asyncmon` binary embeds the demo firmware (`asyncmon demo` runs it as a child process), and
//! that firmware logs with defmt: link it as the demo crate's build script explains.

fn main() {
    let script = std::env::var("DEP_ASYNCMON_DEMO_DEFMT_LINK_SCRIPT")
        .expect("asyncmon-demo's build script names its defmt link script");
    println!("cargo:rustc-link-arg=-T{script}");
    println!("cargo:rustc-link-arg=-no-pie");
}
