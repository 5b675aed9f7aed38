//! `#[asyncmon_agent::main]` in a host process (the agent's `std` feature): main spawns a helper,
//! awaits it, and returns `Ok` (exit code 0), or fails when run with `fail` (exit code 1, the
//! failure printed on the agent's text channel). `agent/tests/entry_macro.rs` runs it.

use asyncmon_agent::{sleep, Exception, SpawnError, Spawner};
use embassy_time::Duration;

#[derive(Debug, Exception)]
enum AppError {
    #[cancelled]
    Cancelled,
    Asked,
    Spawn(#[from] SpawnError),
}

impl core::fmt::Display for AppError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AppError::Cancelled => f.write_str("cancelled"),
            AppError::Asked => f.write_str("asked to fail"),
            AppError::Spawn(e) => write!(f, "{e}"),
        }
    }
}

#[asyncmon_agent::main(tasks = 2, slot_bytes = 256)]
async fn main(spawner: Spawner) -> Result<(), AppError> {
    let helper = spawner.spawn("helper", async {
        sleep(Duration::from_millis(1)).await?;
        Ok::<_, AppError>(7)
    })?;
    assert_eq!(helper.await?, 7);
    if std::env::args().any(|arg| arg == "fail") {
        return Err(AppError::Asked);
    }
    Ok(())
}
