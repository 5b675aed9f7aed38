//! A small client of QEMU's gdbstub (the GDB remote serial protocol) over a Unix socket: what a
//! virtual probe needs of a core — halt (`^C`), continue, single step, core registers (`p`/`P`,
//! numbered from QEMU's `target.xml`) and memory that is not plain RAM (`m`/`M`: MMIO such as the
//! NVIC, code memory QEMU does not share).
//!
//! QEMU's gdbstub pauses the guest when anything arrives while it runs and drops that byte, so the
//! client keeps track of whether the guest runs: a request while it runs is preceded by an
//! interrupt, and the guest is continued afterwards by whoever asked for it ([`Gdb::paused`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Why a gdbstub request failed.
#[derive(Debug, thiserror::Error)]
pub enum GdbError {
    /// The socket broke or timed out.
    #[error("QEMU's gdbstub: {0}")]
    Io(#[from] io::Error),
    /// QEMU answered an error (`Exx`) or something unexpected.
    #[error("QEMU's gdbstub answered {answer:?} to {request}")]
    Refused {
        /// What was asked, in short.
        request: String,
        /// What came back.
        answer: String,
    },
}

/// A connection to a gdbstub.
pub struct Gdb {
    stream: UnixStream,
    /// Bytes read and not yet taken.
    pending: Vec<u8>,
    /// Whether the guest runs (as far as this connection has said).
    running: bool,
    /// A stop reply that came while the guest ran (a breakpoint): the guest is halted.
    stopped_by_itself: bool,
    /// Register numbers by name, from `target.xml`.
    registers: HashMap<String, Register>,
}

/// One register of QEMU's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    /// Its number in `p`/`P`.
    pub number: u32,
    /// Its size in bits.
    pub bits: u32,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl Gdb {
    /// Connects to the gdbstub at `path`, waiting up to `wait` for QEMU to create it, and reads
    /// the register description. A guest that `runs` is paused for that and left paused.
    pub fn connect(path: &Path, wait: Duration, runs: bool) -> Result<Self, GdbError> {
        let stream = crate::backend::qemu::qmp::connect_waiting(path, wait)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        let mut gdb = Gdb {
            stream,
            pending: Vec::new(),
            running: false,
            stopped_by_itself: false,
            registers: HashMap::new(),
        };
        // The first byte that reaches a running guest pauses it and is lost: make it the interrupt.
        if runs {
            gdb.interrupt()?;
        }
        // Acknowledgements only slow a reliable socket down; QEMU offers to drop them once asked
        // what it supports (and sends none of its own waits for them either way).
        gdb.request("qSupported:xmlRegisters=arm")?;
        gdb.request("QStartNoAckMode")?;
        gdb.registers = gdb.read_register_description()?;
        Ok(gdb)
    }

    /// Whether the guest is halted (by this connection, or by a breakpoint it hit).
    pub fn is_halted(&mut self) -> Result<bool, GdbError> {
        if self.running {
            self.poll_stop_reply()?;
        }
        Ok(!self.running)
    }

    /// Halts the guest (waits for QEMU's stop reply).
    pub fn halt(&mut self) -> Result<(), GdbError> {
        if self.running {
            self.interrupt()?;
        }
        Ok(())
    }

    /// Lets the guest run.
    pub fn resume(&mut self) -> Result<(), GdbError> {
        if !self.running {
            self.send("c")?;
            self.running = true;
            self.stopped_by_itself = false;
        }
        Ok(())
    }

    /// Executes one instruction (the guest must be halted).
    pub fn step(&mut self) -> Result<(), GdbError> {
        self.halt()?;
        self.send("s")?;
        self.stop_reply("s")?;
        Ok(())
    }

    /// Runs `op` with the guest paused, and lets it run again afterwards if it ran before.
    pub fn paused<R>(&mut self, op: impl FnOnce(&mut Self) -> Result<R, GdbError>) -> Result<R, GdbError> {
        let was_running = self.running;
        self.halt()?;
        let result = op(self);
        if was_running {
            self.resume()?;
        }
        result
    }

    /// The register called `name` in QEMU's description.
    pub fn register(&self, name: &str) -> Option<Register> {
        self.registers.get(name).copied()
    }

    /// Reads register `number` (the guest must be halted).
    pub fn read_register(&mut self, register: Register) -> Result<u64, GdbError> {
        let request = format!("p{:x}", register.number);
        let answer = self.request(&request)?;
        let bytes =
            decode_hex(&answer).ok_or_else(|| GdbError::Refused { request, answer: answer.clone() })?;
        // Target byte order: little-endian on every machine asyncmon runs.
        Ok(bytes.iter().take(8).rev().fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
    }

    /// Writes register `number` (the guest must be halted).
    pub fn write_register(&mut self, register: Register, value: u64) -> Result<(), GdbError> {
        let bytes = (register.bits as usize).div_ceil(8);
        let hex: String = value.to_le_bytes().iter().take(bytes.min(8)).map(|b| format!("{b:02x}")).collect();
        let request = format!("P{:x}={hex}", register.number);
        self.expect_ok(&request)
    }

    /// Reads guest memory through QEMU's debug access (MMIO included).
    pub fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), GdbError> {
        for (index, chunk) in buf.chunks_mut(1024).enumerate() {
            let at = address + (index * 1024) as u64;
            let request = format!("m{at:x},{:x}", chunk.len());
            let answer = self.request(&request)?;
            match decode_hex(&answer) {
                Some(bytes) if bytes.len() == chunk.len() => chunk.copy_from_slice(&bytes),
                _ => return Err(GdbError::Refused { request, answer }),
            }
        }
        Ok(())
    }

    /// Writes guest memory through QEMU's debug access (MMIO included).
    pub fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<(), GdbError> {
        for (index, chunk) in data.chunks(1024).enumerate() {
            let at = address + (index * 1024) as u64;
            let hex: String = chunk.iter().map(|b| format!("{b:02x}")).collect();
            self.expect_ok(&format!("M{at:x},{:x}:{hex}", chunk.len()))?;
        }
        Ok(())
    }

    /// Sets (or clears) a hardware breakpoint at `address`.
    pub fn breakpoint(&mut self, address: u64, set: bool) -> Result<(), GdbError> {
        let kind = if set { 'Z' } else { 'z' };
        self.expect_ok(&format!("{kind}1,{address:x},2"))
    }

    fn expect_ok(&mut self, request: &str) -> Result<(), GdbError> {
        let answer = self.request(request)?;
        if answer == "OK" {
            Ok(())
        } else {
            Err(GdbError::Refused { request: short(request), answer })
        }
    }

    /// Sends `^C` and waits for the stop reply.
    fn interrupt(&mut self) -> Result<(), GdbError> {
        self.stream.write_all(&[0x03])?;
        self.stop_reply("interrupt")?;
        Ok(())
    }

    /// Waits for a stop reply (`T..`/`S..`), skipping console output (`O..`).
    fn stop_reply(&mut self, request: &str) -> Result<String, GdbError> {
        loop {
            let packet = self.packet()?;
            match packet.as_bytes().first() {
                Some(b'T' | b'S') => {
                    self.running = false;
                    return Ok(packet);
                }
                Some(b'W' | b'X') => {
                    return Err(GdbError::Refused { request: request.into(), answer: packet });
                }
                _ => continue,
            }
        }
    }

    /// Takes a stop reply that came while the guest ran, without waiting.
    fn poll_stop_reply(&mut self) -> Result<(), GdbError> {
        self.stream.set_nonblocking(true)?;
        let mut buf = [0u8; 256];
        let read = self.stream.read(&mut buf);
        self.stream.set_nonblocking(false)?;
        match read {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        if self.pending.contains(&b'#') {
            self.stop_reply("poll")?;
            self.stopped_by_itself = true;
        }
        Ok(())
    }

    /// Sends a request (the guest must be halted) and returns its answer.
    fn request(&mut self, request: &str) -> Result<String, GdbError> {
        if self.running {
            return Err(GdbError::Refused { request: short(request), answer: "the guest runs".into() });
        }
        self.send(request)?;
        self.packet()
    }

    fn send(&mut self, data: &str) -> Result<(), GdbError> {
        let checksum = data.bytes().fold(0u8, |sum, b| sum.wrapping_add(b));
        let packet = format!("${data}#{checksum:02x}");
        self.stream.write_all(packet.as_bytes())?;
        Ok(())
    }

    /// Reads one packet's data (acknowledgements skipped, run-length encoding expanded).
    fn packet(&mut self) -> Result<String, GdbError> {
        loop {
            if let Some(start) = self.pending.iter().position(|&b| b == b'$') {
                if let Some(end) = self.pending[start..].iter().position(|&b| b == b'#').map(|i| start + i) {
                    if self.pending.len() >= end + 3 {
                        let data = expand(&self.pending[start + 1..end]);
                        self.pending.drain(..end + 3);
                        return Ok(data);
                    }
                }
            } else {
                // Only acknowledgements (`+`) before any packet.
                self.pending.retain(|&b| b == b'$');
            }
            let mut buf = [0u8; 4096];
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads `target.xml` and every file it includes, numbering the registers as GDB does.
    fn read_register_description(&mut self) -> Result<HashMap<String, Register>, GdbError> {
        let mut registers = HashMap::new();
        let mut next = 0;
        let mut files = vec!["target.xml".to_string()];
        let mut index = 0;
        while index < files.len() {
            let xml = self.read_feature(&files[index].clone())?;
            files.extend(includes(&xml));
            for (name, number, bits) in registers_in(&xml) {
                let number = number.unwrap_or(next);
                next = number + 1;
                registers.insert(name, Register { number, bits });
            }
            index += 1;
        }
        Ok(registers)
    }

    fn read_feature(&mut self, file: &str) -> Result<String, GdbError> {
        let mut text = String::new();
        loop {
            let request = format!("qXfer:features:read:{file}:{:x},{:x}", text.len(), 0x800);
            let answer = self.request(&request)?;
            let (more, data) = answer.split_at(answer.len().min(1));
            text.push_str(data);
            match more {
                "l" => return Ok(text),
                "m" => continue,
                _ => return Err(GdbError::Refused { request, answer }),
            }
        }
    }
}

fn short(request: &str) -> String {
    request.chars().take(40).collect()
}

/// Expands the protocol's run-length encoding (`x*N`: `x` repeated `N - 29` more times).
fn expand(data: &[u8]) -> String {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'*' && i + 1 < data.len() {
            if let Some(&last) = out.last() {
                let count = data[i + 1].saturating_sub(29);
                out.extend(std::iter::repeat_n(last, count as usize));
            }
            i += 2;
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The files an XML description includes (`<xi:include href="..."/>`).
fn includes(xml: &str) -> Vec<String> {
    xml.split("<xi:include").skip(1).filter_map(|rest| attribute(rest, "href")).collect()
}

/// The registers an XML description declares: name, number if given, size in bits.
fn registers_in(xml: &str) -> Vec<(String, Option<u32>, u32)> {
    xml.split("<reg ")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            let name = attribute(tag, "name")?;
            let bits = attribute(tag, "bitsize")?.parse().ok()?;
            let number = attribute(tag, "regnum").and_then(|n| n.parse().ok());
            Some((name, number, bits))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_are_numbered_as_gdb_numbers_them() {
        let xml = r#"<feature name="org.gnu.gdb.arm.m-profile">
<reg name="r0" bitsize="32"/><reg name="r1" bitsize="32"/>
<reg name="xpsr" bitsize="32" regnum="25"/></feature>"#;
        let regs = registers_in(xml);
        assert_eq!(regs[0], ("r0".to_string(), None, 32));
        assert_eq!(regs[2], ("xpsr".to_string(), Some(25), 32));
        assert_eq!(
            includes(r#"<target><xi:include href="arm-m-profile.xml"/></target>"#),
            ["arm-m-profile.xml"]
        );
    }

    #[test]
    fn run_length_encoding_is_expanded() {
        assert_eq!(expand(b"0* "), "0000");
        assert_eq!(decode_hex("01ff"), Some(vec![1, 0xff]));
        assert_eq!(decode_hex("E14"), None);
    }
}
