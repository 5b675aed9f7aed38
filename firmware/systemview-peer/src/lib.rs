//! SEGGER SystemView wired into an embassy firmware the way systemview-target's README wires it
//! beside defmt: embassy-executor's `rtos-trace` feature, rtt-target's control block (in place of
//! defmt-rtt's, which would clash with SEGGER's) with defmt on up channel 0 and channel 1 left for
//! SystemView, timestamps from the Cortex-M cycle counter (SystemView's default). What the
//! peers of asyncmon-embassy in .ci/device-cost and .ci/firmware-sizes share.

#![no_std]

use systemview_target::SystemView;

static SYSTEMVIEW: SystemView = SystemView::new();
rtos_trace::global_trace! {SystemView}

/// What SystemView asks the application: the system's name and the core's clock.
struct Application;

impl rtos_trace::RtosTraceApplicationCallbacks for Application {
    fn system_description() {
        systemview_target::send_system_desc_app_name!("asyncmon-systemview-peer");
    }

    fn sysclock() -> u32 {
        25_000_000 // mps2-an386's Cortex-M4F
    }
}
rtos_trace::global_application_callbacks! {Application}

/// Sets up RTT (defmt on up channel 0, channel 1 for SystemView) and SystemView, which records
/// once a host starts it (or [`start`]).
pub fn init() {
    let channels = rtt_target::rtt_init! {
        up: {
            0: { size: 1024, name: "defmt" }
            1: { } // SystemView's, allocated by its C sources
        }
        down: {
            0: { size: 16, name: "Terminal" }
            1: { }
        }
    };
    rtt_target::set_defmt_channel(channels.up.0);
    SYSTEMVIEW.init();
}

/// Starts recording, as the SystemView application does when it connects.
pub fn start() {
    <SystemView as rtos_trace::RtosTrace>::start();
}

/// SEGGER's RTT control block (rtt-target's), seen as a host sees it.
pub mod rtt {
    use core::ptr::{addr_of_mut, read_volatile, write_volatile};

    /// One up buffer's descriptor (`SEGGER_RTT_BUFFER_UP`).
    #[repr(C)]
    struct UpBuffer {
        name: *const u8,
        buffer: *mut u8,
        size: u32,
        write: u32,
        read: u32,
        flags: u32,
    }

    /// The control block's head (`SEGGER_RTT_CB`), up to its up buffers.
    #[repr(C)]
    struct ControlBlock {
        id: [u8; 16],
        max_up: i32,
        max_down: i32,
        up: [UpBuffer; UP_BUFFERS],
    }

    /// Up buffers in the control block: [`super::init`]'s two (systemview-target's
    /// `ext-rtt-channels-2`).
    const UP_BUFFERS: usize = 2;

    extern "C" {
        static mut _SEGGER_RTT: ControlBlock;
    }

    /// Marks every up buffer read, as a probe reading the target does (no instructions of the core
    /// on silicon; a few loads and stores here).
    pub fn read_everything_as_a_host_would() {
        // SAFETY: `_SEGGER_RTT` is the control block `rtt_init!` defines in `init`, with
        // `UP_BUFFERS` up buffers. Only the host's own field, `read`, is written, as a debug probe
        // writes it, with volatile accesses.
        unsafe {
            let block = addr_of_mut!(_SEGGER_RTT);
            for i in 0..UP_BUFFERS {
                let up = addr_of_mut!((*block).up[i]);
                write_volatile(addr_of_mut!((*up).read), read_volatile(addr_of_mut!((*up).write)));
            }
        }
    }

    /// Where the up buffers' write offsets stand, summed: it moves when anything is written.
    pub fn written() -> u32 {
        // SAFETY: as above; only read.
        unsafe {
            let block = addr_of_mut!(_SEGGER_RTT);
            (0..UP_BUFFERS)
                .fold(0, |sum: u32, i| sum.wrapping_add(read_volatile(addr_of_mut!((*block).up[i].write))))
        }
    }
}
