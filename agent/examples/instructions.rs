//! Runs one benchmark workload `N` times, for `valgrind --tool=callgrind`, whose instruction
//! counts do not depend on machine noise:
//!
//! ```sh
//! cargo build --profile bench -p asyncmon-agent --example instructions
//! for rt in agent embassy tokio; do for case in spawn pingpong; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/instructions $rt $case 100000 2>&1 | grep refs
//! done; done
//! for rt in agent embassy; do for k in 0 16 64 256; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/instructions $rt idle-$k 100000 2>&1 | grep refs
//! done; done
//! ```
//! (`--profile bench` builds with LTO, as firmware is built, into `target/release`.)
//! Run it with `N` and with `N = 0` and divide the difference by `N`: setup cancels out.

#[path = "../benches/common/workloads.rs"]
mod workloads;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: instructions agent|embassy|tokio spawn|pingpong|idle-K N  (K: 0, 16, 64, 256; agent and embassy)";
    let (runtime, case, n) = match &args[..] {
        [_, runtime, case, n] => (runtime.as_str(), case.as_str(), n.parse::<u64>().expect(usage)),
        _ => panic!("{usage}"),
    };
    if let Some(k) = case.strip_prefix("idle-") {
        let k: usize = k.parse().expect(usage);
        match runtime {
            "agent" => workloads::agent_ping_pong_idle(k, n),
            "embassy" => workloads::embassy_ping_pong_idle(k, n),
            _ => panic!("{usage}"),
        }
        return;
    }
    let work: fn(u64) = match (runtime, case) {
        ("agent", "spawn") => workloads::agent_spawn_join,
        ("agent", "pingpong") => workloads::agent_ping_pong,
        ("embassy", "spawn") => workloads::embassy_spawn_join,
        ("embassy", "pingpong") => workloads::embassy_ping_pong,
        ("tokio", "spawn") => workloads::tokio_spawn_join,
        ("tokio", "pingpong") => workloads::tokio_ping_pong,
        _ => panic!("{usage}"),
    };
    work(n);
}
