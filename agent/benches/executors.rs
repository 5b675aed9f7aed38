//! Criterion benchmarks of the agent's executor against embassy-executor (spin platform) and
//! tokio (current thread, LocalSet), the same work in one run: (1) spawn, run to completion and
//! reclaim a task with one slot; (2) ping-pong between two tasks through signals; (3) that
//! ping-pong while K other tasks sit idle (agent and embassy). Per iteration.
//!
//! `cargo bench -p asyncmon-agent --bench executors`

#![allow(missing_docs)] // criterion_group! generates undocumented functions.

#[path = "common/workloads.rs"]
mod workloads;

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Instant;

/// A named workload: runs its work `n` times.
type Case = (&'static str, fn(u64));
/// A named workload with `k` idle tasks: runs its work `n` times.
type IdleCase = (&'static str, fn(usize, u64));

fn per_iteration(c: &mut Criterion, group: &str, cases: [Case; 3]) {
    let mut group = c.benchmark_group(group);
    for (name, work) in cases {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                work(iters);
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn spawn_join(c: &mut Criterion) {
    per_iteration(
        c,
        "spawn_run_reclaim",
        [
            ("asyncmon-agent", workloads::agent_spawn_join),
            ("embassy-executor (spin)", workloads::embassy_spawn_join),
            ("tokio (current thread, LocalSet)", workloads::tokio_spawn_join),
        ],
    );
}

fn ping_pong(c: &mut Criterion) {
    per_iteration(
        c,
        "wake_poll_ping_pong",
        [
            ("asyncmon-agent", workloads::agent_ping_pong),
            ("embassy-executor (spin)", workloads::embassy_ping_pong),
            ("tokio (current thread, LocalSet)", workloads::tokio_ping_pong),
        ],
    );
}

fn ping_pong_idle(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong_with_idle_tasks");
    for k in workloads::IDLE_TASKS {
        let cases: [IdleCase; 2] = [
            ("asyncmon-agent", workloads::agent_ping_pong_idle),
            ("embassy-executor (spin)", workloads::embassy_ping_pong_idle),
        ];
        for (name, work) in cases {
            group.bench_function(format!("{name}/{k} idle"), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    work(k, iters);
                    start.elapsed()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, spawn_join, ping_pong, ping_pong_idle);
criterion_main!(benches);
