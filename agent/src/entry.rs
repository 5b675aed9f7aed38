//! The end of a firmware's run, as `#[asyncmon_agent::main]` writes it (and a hand-written `main`
//! may call): how main ended, said on the text channel, the last frames left for the host, then a
//! halt that costs no power.

use crate::exception::{Exception, KeyboardInterrupt};
use crate::KEYBOARD_INTERRUPT_EXIT_CODE;

/// How long the host gets to take the last frames (the stop's acknowledgement, the last lines).
const LAST_FRAMES: embassy_time::Duration = embassy_time::Duration::from_millis(500);

/// Ends a run: prints main's failure or the host's stop on the text channel, lets the host take
/// the last frames (at most 500 ms, all of it when no host reads them), and returns the exit code: 0 when
/// main returned `Ok`, 1 when it failed, [`KEYBOARD_INTERRUPT_EXIT_CODE`] after a stop.
pub fn end_of_run<T, E: Exception>(result: Result<Result<T, E>, KeyboardInterrupt>) -> i32 {
    let code = match result {
        Ok(Ok(_)) => 0,
        Ok(Err(e)) => {
            crate::println!("main failed: {e}");
            1
        }
        Err(interrupt) => {
            crate::println!("{interrupt}");
            KEYBOARD_INTERRUPT_EXIT_CODE
        }
    };
    crate::poll_trace::flush();
    crate::link::drain(LAST_FRAMES);
    code
}

/// What a firmware does once main has ended, when nothing else is asked for: on a core, sleeps
/// for good (interrupts still wake it, and it sleeps again: no power spent spinning); in a host
/// process, exits with `code`.
pub fn halt(code: i32) -> ! {
    #[cfg(feature = "std")]
    std::process::exit(code);
    #[cfg(not(feature = "std"))]
    {
        let _ = code;
        loop {
            #[cfg(feature = "cortex-m")]
            cortex_m::asm::wfi();
            #[cfg(all(feature = "riscv", not(feature = "cortex-m")))]
            riscv::asm::wfi();
            #[cfg(not(any(feature = "cortex-m", feature = "riscv")))]
            core::hint::spin_loop();
        }
    }
}
