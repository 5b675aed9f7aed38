//! Numbers and paths in the few characters a column has: durations, sizes, shortened paths.

/// A duration in microseconds, in the unit that reads best, in at most six characters.
pub(crate) fn duration_us(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..10_000 => format!("{:.1}ms", us as f64 / 1e3),
        10_000..1_000_000 => format!("{}ms", us / 1_000),
        1_000_000..10_000_000 => format!("{:.2}s", us as f64 / 1e6),
        10_000_000..3_600_000_000 => format!("{}s", us / 1_000_000),
        _ => format!("{}h", us / 3_600_000_000),
    }
}

pub(super) fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

pub(super) fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

/// A path shortened to its last two components, so it fits a column.
pub(super) fn short_path(path: &str) -> String {
    let parts: Vec<&str> = path.rsplit('/').take(2).collect();
    if parts.len() < 2 || path.matches('/').count() < 2 {
        path.to_string()
    } else {
        format!("…/{}/{}", parts[1], parts[0])
    }
}
