//! Targets written as one word each, for a daemon that serves several:
//!
//! * `sim:PROGRAM` — a host-built firmware (the simulator);
//! * `qemu:MACHINE=APP.elf` — a firmware on a QEMU machine the daemon starts;
//! * `tcp:HOST:PORT=APP.elf` — an RTT TCP server and the firmware's ELF;
//! * `probe:CHIP=APP.elf[=VID:PID[:SERIAL]]` — a board through a debug probe, flashed;
//! * `replay:FILE` — a recording.

use super::probe::args::BoardArgs;
use super::qemu::{machine, QemuConfig};
use super::replay::ReplayConfig;
use super::sim::SimConfig;
use super::tcp::TcpConfig;
use super::TargetConfig;
use std::time::Duration;

/// Parses one target word.
pub fn parse(spec: &str) -> Result<TargetConfig, String> {
    let usage = "a target is sim:PROGRAM, qemu:MACHINE=APP.elf, tcp:HOST:PORT=APP.elf, probe:CHIP=APP.elf[=VID:PID[:SERIAL]] or replay:FILE";
    let (kind, rest) = spec.split_once(':').ok_or_else(|| format!("{spec:?}: {usage}"))?;
    if rest.is_empty() {
        return Err(format!("{spec:?}: {usage}"));
    }
    Ok(match kind {
        "sim" => TargetConfig::Sim(SimConfig::new(rest, Vec::new())),
        "replay" => TargetConfig::Replay(ReplayConfig { file: rest.into(), fast: false }),
        "tcp" => {
            let (addr, elf) =
                rest.split_once('=').ok_or_else(|| format!("{spec:?}: tcp needs =APP.elf ({usage})"))?;
            TargetConfig::Tcp(TcpConfig {
                addr: addr.into(),
                elf: elf.into(),
                initial_backoff: Duration::from_millis(200),
            })
        }
        "qemu" => {
            let (name, elf) =
                rest.split_once('=').ok_or_else(|| format!("{spec:?}: qemu needs =APP.elf ({usage})"))?;
            TargetConfig::Qemu(QemuConfig::new(elf, machine::find(name)?))
        }
        "probe" => {
            let mut parts = rest.splitn(3, '=');
            let chip = parts.next().unwrap_or_default();
            let elf = parts.next().ok_or_else(|| format!("{spec:?}: probe needs =APP.elf ({usage})"))?;
            let board = BoardArgs {
                elf: elf.into(),
                chip: Some(chip.into()),
                probe: parts.next().map(Into::into),
                no_flash: false,
                connect_under_reset: false,
            };
            TargetConfig::Probe(board.config())
        }
        other => return Err(format!("{spec:?}: unknown kind {other:?}; {usage}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_target_word() {
        assert!(
            matches!(parse("sim:/bin/fw").unwrap(), TargetConfig::Sim(c) if c.program.to_str() == Some("/bin/fw"))
        );
        assert!(
            matches!(parse("tcp:127.0.0.1:9090=app.elf").unwrap(), TargetConfig::Tcp(c) if c.addr == "127.0.0.1:9090")
        );
        let TargetConfig::Probe(board) = parse("probe:nRF52840_xxAA=radio.elf=1366:0105:683").unwrap() else {
            panic!()
        };
        assert_eq!((board.chip.as_str(), board.probe.as_deref()), ("nRF52840_xxAA", Some("1366:0105:683")));
        assert!(matches!(parse("replay:s.asyncmon").unwrap(), TargetConfig::Replay(_)));
        let TargetConfig::Qemu(qemu) = parse("qemu:mps2-an386=demo.elf").unwrap() else { panic!() };
        assert_eq!((qemu.machine.name, qemu.elf.to_str()), ("mps2-an386", Some("demo.elf")));
        assert!(parse("qemu:pdp11=demo.elf").unwrap_err().contains("no QEMU machine \"pdp11\""));
    }

    #[test]
    fn a_malformed_word_says_what_a_target_looks_like() {
        for bad in ["fw", "sim:", "tcp:127.0.0.1:9090", "qemu:mps2-an386", "usb:1"] {
            let err = parse(bad).err().unwrap();
            assert!(
                err.contains("a target is sim:PROGRAM") || err.contains("needs =APP.elf"),
                "{bad}: {err}"
            );
        }
    }
}
