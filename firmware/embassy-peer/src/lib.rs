//! What the peer firmwares share: RTT set up as the agent sets it up (a text channel and a defmt
//! channel of 1 KiB, a 64-byte down channel), and a panic that ends QEMU.

#![no_std]

/// Sets up RTT: text lines on up channel 0, defmt on up channel 1.
pub fn init_logging() {
    let channels = rtt_target::rtt_init! {
        up: {
            0: { size: 1024, name: "Terminal" }
            1: { size: 1024, name: "defmt" }
        }
        down: {
            0: { size: 64, name: "Terminal" }
        }
    };
    rtt_target::set_print_channel(channels.up.0);
    rtt_target::set_defmt_channel(channels.up.1);
}

defmt::timestamp!("{=u64:us}", embassy_time::Instant::now().as_micros());

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    rtt_target::rprintln!("panic: {}", info);
    asyncmon_qemu_boards::exit(101)
}
