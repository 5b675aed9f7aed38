//! `asyncmon_agent::println!` puts a line on the firmware's text channel (`log`), inline format
//! arguments and all — which `rtt_target::rprintln!` cannot do.

mod support;

use asyncmon_daemon::backend::locate_in_process;
use asyncmon_daemon::memory::ProcessMemory;
use asyncmon_daemon::rtt::{ControlBlock, UpChannel};

#[test]
fn println_with_inline_arguments_reaches_the_log_channel() {
    let _turn = support::turn();
    let _host = support::Host::attach(); // initialises the link
    let pid = std::process::id();
    let (addr, width) = locate_in_process(pid).unwrap();
    let mut mem = ProcessMemory::open(pid).unwrap();
    let block = ControlBlock::read(&mut mem, addr, width).unwrap();
    let mut log = UpChannel::attach(&mut mem, block.up_channel("log").unwrap()).unwrap();
    log.read(&mut mem, &mut Vec::new()).unwrap();
    let (reading, unit) = (21, "C");
    asyncmon_agent::println!("sensor: {reading} {unit}, poll {}", 7);
    let mut bytes = Vec::new();
    log.read(&mut mem, &mut bytes).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), "sensor: 21 C, poll 7\n");
}
