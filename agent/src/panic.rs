//! The last frame of a firmware that panicked: message, location and the task that was running.
//!
//! On a microcontroller a panic is fatal; with the `panic-handler` feature (and without `std`) the
//! agent is the `#[panic_handler]`: it sends the panic frame and halts. On the `std` platform,
//! [`install_panic_hook`] sends the frame from a panic hook, then runs the previous hook.

/// Sends the panic frame: `message` (cut to fit), where, and the task that was running.
#[cfg(any(feature = "std", feature = "panic-handler"))]
fn send_panic_frame(message: &str, location: Option<&core::panic::Location<'_>>) {
    use asyncmon_protocol::device::{DeviceMessage, SourceLocation, Text, MAX_INLINE_TEXT};
    let mut bounded = heapless::String::<MAX_INLINE_TEXT>::new();
    crate::link::send(&DeviceMessage::Panic {
        message: Text::inline_truncated(message, &mut bounded),
        location: location.map(|l| SourceLocation {
            file: Text::Inline(l.file()),
            line: l.line(),
            column: l.column(),
        }),
        task: crate::raw::hooks::panicking_task(),
    });
}

/// Sends a panic frame to the host whenever this process panics, then runs the previous hook.
#[cfg(feature = "std")]
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(std::boxed::Box::new(move |info| {
        let message = match (
            info.payload().downcast_ref::<&str>(),
            info.payload().downcast_ref::<std::string::String>(),
        ) {
            (Some(s), _) => *s,
            (_, Some(s)) => s.as_str(),
            _ => "panic",
        };
        send_panic_frame(message, info.location());
        crate::link::drain(embassy_time::Duration::from_millis(500));
        previous(info);
    }));
}

#[cfg(all(feature = "panic-handler", not(feature = "std")))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write as _;
    let mut message = heapless::String::<{ asyncmon_protocol::device::MAX_INLINE_TEXT * 2 }>::new();
    // A message longer than the buffer is cut where it stops fitting.
    let _ = write!(message, "{}", info.message());
    send_panic_frame(&message, info.location());
    // Halt, asleep: RAM (and the panic frame in it) stays readable for the host.
    loop {
        crate::platform::sleep_unless(|| false);
    }
}
