//! Prints the static RAM one task costs on the agent and on embassy-executor, for the same futures:
//!
//! ```sh
//! cargo run --release -p asyncmon-agent --example task_ram
//! ```
//!
//! The agent's cost is its slot header plus the slot bytes the task needs (the larger of the
//! future and its output); embassy's is `size_of::<TaskStorage<F>>()`. Sizes are for this host
//! (64-bit pointers); on a 32-bit Cortex-M both are smaller.

use asyncmon_agent::{sleep, task_memory_bytes, Cancelled};
use core::future::Future;
use embassy_time::Duration;

fn embassy_bytes<F: Future + 'static>(_: &F) -> usize {
    core::mem::size_of::<embassy_executor::raw::TaskStorage<F>>()
}

fn row<A: Future, B: Future + 'static>(what: &str, agent: A, embassy: B) {
    let (header, slot) = task_memory_bytes(&agent);
    println!("| {what} | {} + {} = {} | {} |", header, slot, header + slot, embassy_bytes(&embassy));
}

fn main() {
    println!("| future | agent: header + slot bytes = total | embassy TaskStorage |");
    println!("| --- | --- | --- |");
    row("empty (returns at once)", async { Ok::<(), Cancelled>(()) }, async {});
    row(
        "sleeps in a loop",
        async {
            loop {
                sleep(Duration::from_millis(10)).await?;
            }
            #[allow(unreachable_code)]
            Ok::<(), Cancelled>(())
        },
        async {
            loop {
                embassy_time::Timer::after_millis(10).await;
            }
        },
    );
    row(
        "holds a 256-byte buffer across an await",
        async {
            let buffer = [7u8; 256];
            sleep(Duration::from_millis(10)).await?;
            Ok::<u8, Cancelled>(buffer[3])
        },
        async {
            let buffer = [7u8; 256];
            embassy_time::Timer::after_millis(10).await;
            core::hint::black_box(buffer[3]);
        },
    );
}
