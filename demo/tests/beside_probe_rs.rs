//! asyncmon beside the tools a firmware's developers already use: on the embassy example (defmt-rtt
//! and panic-probe kept, asyncmon-embassy added), probe-rs's own RTT code — what `probe-rs run`
//! reads logs with — finds the firmware's `_SEGGER_RTT` and never asyncmon's block, and its defmt
//! channel decodes with `defmt-decoder` and the firmware's ELF, as `probe-rs run` shows it: the
//! start line and panic-probe's panic. With no asyncmon host attached the firmware runs on to its
//! panic (asyncmon's link never blocks). Through the virtual probe on QEMU's mps2-an386, with
//! probe-rs's loader; what this cannot prove is USB and a real chip's timing.

mod support;

use asyncmon_daemon::backend::probe::{chip, qemu_probe};
use object::{Object, ObjectSymbol};
use probe_rs::probe::list::Lister;
use probe_rs::rtt::{Rtt, ScanRegion};
use probe_rs::Permissions;
use std::time::{Duration, Instant};
use support::boards::demo_firmware;

fn symbol(elf: &[u8], name: &str) -> u64 {
    let file = object::File::parse(elf).unwrap();
    file.symbols().find(|s| s.name() == Ok(name)).unwrap_or_else(|| panic!("{name} in the ELF")).address()
}

#[test]
fn probe_rs_finds_the_firmwares_rtt_block_and_its_defmt_lines_beside_asyncmon() {
    let elf_path = demo_firmware("mps2-an386").with_file_name("asyncmon-embassy-example");
    let elf = std::fs::read(&elf_path).unwrap();
    let (segger, ours) = (symbol(&elf, "_SEGGER_RTT"), symbol(&elf, "_ASYNCMON_RTT"));
    assert_ne!(segger, ours, "two blocks: the firmware's and asyncmon's");

    let machine = qemu_probe::parse("qemu:mps2-an386").unwrap().unwrap();
    let owner = qemu_probe::VirtualOwner::start(machine, None).unwrap();
    let lister = Lister::with_lister(Box::new(owner.lister()));
    let probe = lister.list_all().remove(0).open().unwrap();
    let mut session =
        probe.attach_with_registry("qemu-mps2-an386", Permissions::default(), &chip::registry()).unwrap();
    let loader = probe_rs::flashing::ElfLoader(probe_rs::flashing::ElfOptions::default());
    probe_rs::flashing::download_file(&mut session, &elf_path, loader).unwrap();
    let mut core = session.core(0).unwrap();
    core.reset().unwrap();

    // As `probe-rs run` attaches: at the ELF's `_SEGGER_RTT`, once the firmware has started.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rtt = loop {
        match Rtt::attach_region(&mut core, &ScanRegion::Exact(segger)) {
            Ok(rtt) => break rtt,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("probe-rs found no RTT block at _SEGGER_RTT: {e}"),
        }
    };
    let defmt =
        rtt.up_channels().iter().position(|c| c.name() == Some("defmt")).expect("defmt-rtt's channel");
    // asyncmon's block is not a SEGGER block to probe-rs, and scanning the firmware's RAM finds
    // the firmware's block alone.
    assert!(Rtt::attach_region(&mut core, &ScanRegion::Exact(ours)).is_err());
    let scanned = Rtt::attach_region(&mut core, &ScanRegion::range(0x2100_0000..0x2100_4000)).unwrap();
    assert_eq!(scanned.ptr(), segger, "the scan finds _SEGGER_RTT, not _ASYNCMON_RTT");

    // The firmware's defmt lines, decoded as `probe-rs run` decodes them, up to its panic at 4 s.
    let table = defmt_decoder::Table::parse(&elf).unwrap().expect("a defmt table");
    let mut decoder = table.new_stream_decoder();
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lines.iter().any(|l: &String| l.starts_with("panicked at ")) {
        assert!(Instant::now() < deadline, "no panic line from panic-probe: {lines:?}");
        let mut buf = [0u8; 1024];
        let n = rtt.up_channels()[defmt].read(&mut core, &mut buf).unwrap();
        decoder.received(&buf[..n]);
        while let Ok(frame) = decoder.decode() {
            lines.push(frame.display_message().to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lines[0], "embassy example: started", "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("panicked at 'unwrap failed: gyro_reading(tick)'")),
        "defmt::unwrap!'s line: {lines:?}"
    );
}
