//! Firmware that misbehaves on purpose, one way each, so the tests can check that the daemon says
//! what went wrong in words and keeps serving.

use asyncmon_agent::link;
use asyncmon_protocol::device::{DeviceMessage, Hello, Text, PROTOCOL_VERSION};
use asyncmon_protocol::frame::{self, MAX_FRAME};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The faults [`run`] knows.
pub const FAULTS: &[&str] =
    &["no-rtt", "exit-mid-frame", "wrong-version", "garbage", "panic", "flood", "non-utf8", "lost-ends"];

/// The `flood` firmware's failure.
#[derive(Debug)]
pub struct Flooded;

impl core::fmt::Display for Flooded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("one of many")
    }
}

impl asyncmon_agent::Exception for Flooded {
    // The flood's tasks are never cancelled but at a stop, where any ending will do.
    fn is_cancellation(&self) -> bool {
        false
    }
}

impl From<asyncmon_agent::Cancelled> for Flooded {
    fn from(_: asyncmon_agent::Cancelled) -> Self {
        Flooded
    }
}

/// How many failing tasks the `flood` firmware raises in a burst.
pub const FLOOD_TASKS: u32 = 300;

/// How many tasks of the `lost-ends` firmware end while the up buffer is full.
pub const LOST_ENDS_TASKS: usize = 8;

/// The protocol version the `wrong-version` firmware claims.
pub const WRONG_VERSION: u16 = PROTOCOL_VERSION + 98;

/// The exit code of the `exit-mid-frame` firmware.
pub const EXIT_MID_FRAME_CODE: i32 = 3;

fn frame_of(msg: &DeviceMessage<'_>) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    frame::encode(msg, &mut out).expect("fits").to_vec()
}

/// Runs the fault firmware `name`; `None` if there is none by that name.
pub fn run(name: &str) -> Option<i32> {
    let wait = |ms| std::thread::sleep(Duration::from_millis(ms));
    match name {
        // Never creates an RTT control block.
        "no-rtt" => {
            wait(30_000);
            Some(0)
        }
        // Says hello, writes half a frame, and dies.
        "exit-mid-frame" => {
            link::init("exit-mid-frame", "1");
            let half = frame_of(&DeviceMessage::FramesLost { count: 12345 });
            link::write_raw(&half[..half.len() / 2]);
            link::drain(embassy_time::Duration::from_millis(500));
            Some(EXIT_MID_FRAME_CODE)
        }
        // Speaks a protocol version from the future, then keeps talking.
        "wrong-version" => {
            link::init_without_hello();
            let hello = DeviceMessage::Hello(Hello {
                version: WRONG_VERSION,
                firmware: Text::Inline("from-the-future"),
                build_id: Text::Inline("99"),
            });
            link::write_raw(&frame_of(&hello));
            for count in 0..50 {
                link::write_raw(&frame_of(&DeviceMessage::FramesLost { count }));
                wait(100);
            }
            Some(0)
        }
        // Writes bytes that are not UTF-8 on its standard output, then runs the demo: the output
        // is shown lossily and the firmware is not killed by a closed pipe.
        "non-utf8" => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"raw \xff\xfe bytes\n");
            let _ = out.flush();
            drop(out);
            link::init("non-utf8", "1");
            for i in 0..50 {
                println!("still printing {i}");
            }
            Some(crate::demo::run_initialised())
        }
        // Says hello, sends garbage, then runs the demo, whose failures must still arrive.
        "garbage" => {
            link::init("garbage", "1");
            link::write_raw(&[0x17, 0x2a, 0xff, 0x33, 0x05, 0x00, 0x42, 0x42, 0x42, 0x00]);
            Some(crate::demo::run_initialised())
        }
        // Floods the up channel far faster than the host reads, then says how many frames it
        // produced and dropped, on its standard output.
        "flood" => {
            link::init("flood", "1");
            static EXECUTOR: asyncmon_agent::Executor<8, 256> = asyncmon_agent::Executor::new();
            let _ = EXECUTOR.run(|spawner| async move {
                for _ in 0..FLOOD_TASKS {
                    loop {
                        match spawner.spawn("flood", async { Err::<(), Flooded>(Flooded) }) {
                            Ok(handle) => {
                                drop(handle);
                                break;
                            }
                            // All slots busy: let the executor settle them.
                            Err(_) => asyncmon_agent::sleep(embassy_time::Duration::from_micros(50)).await?,
                        }
                    }
                }
                asyncmon_agent::sleep(embassy_time::Duration::from_millis(50)).await
            });
            link::drain(embassy_time::Duration::from_millis(2000));
            let stats = link::stats();
            println!("flood: produced {} frames, dropped {}", stats.produced, stats.dropped);
            link::drain(embassy_time::Duration::from_millis(500));
            Some(0)
        }
        // A task panics: the panic hook sends the last frame, then the process dies.
        "panic" => {
            link::init("panic", "1");
            asyncmon_agent::install_panic_hook();
            static EXECUTOR: asyncmon_agent::Executor<2, 1024> = asyncmon_agent::Executor::new();
            let _ = EXECUTOR.run(|spawner| async move {
                let task = spawner.spawn("divider", async {
                    asyncmon_agent::sleep(embassy_time::Duration::from_millis(50)).await?;
                    let divisor = std::hint::black_box(0u32);
                    Ok::<u32, asyncmon_agent::Cancelled>(100 / divisor)
                });
                task.map_err(|_| asyncmon_agent::Cancelled)?.await
            });
            Some(0)
        }
        // Tasks whose end frames are lost: `LOST_ENDS_TASKS` sleepers wait until the file named by
        // the second argument exists, then each fills the up buffer (as a burst of traffic the host
        // cannot keep up with would) and ends, so their `TaskFinished` frames are dropped and only
        // counted. A failure nobody awaited was raised before, and must stay shown.
        "lost-ends" => {
            link::init("lost-ends", "1");
            let trigger = std::env::args().nth(2).map(std::path::PathBuf::from);
            static GO: AtomicBool = AtomicBool::new(false);
            static EXECUTOR: asyncmon_agent::Executor<{ LOST_ENDS_TASKS + 2 }, 512> =
                asyncmon_agent::Executor::new();
            let tick = || asyncmon_agent::sleep(embassy_time::Duration::from_millis(20));
            let _: Result<Result<(), asyncmon_agent::Cancelled>, _> = EXECUTOR.run(|spawner| async move {
                drop(spawner.spawn("doomed", async { Err::<(), Flooded>(Flooded) }));
                for _ in 0..LOST_ENDS_TASKS {
                    let sleeper = spawner.spawn("sleeper", async move {
                        while !GO.load(Ordering::Relaxed) {
                            tick().await?;
                        }
                        let filler = frame_of(&DeviceMessage::FramesLost { count: 0 });
                        while link::write_raw(&filler) {}
                        Ok::<(), Flooded>(())
                    });
                    drop(sleeper);
                }
                while trigger.as_ref().is_some_and(|t| !t.exists()) {
                    tick().await?;
                }
                GO.store(true, Ordering::Relaxed);
                loop {
                    tick().await?;
                }
            });
            link::drain(embassy_time::Duration::from_millis(500));
            Some(0)
        }
        _ => None,
    }
}
