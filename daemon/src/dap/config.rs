//! A debug configuration (`launch.json`'s `asyncmon` entries) as the daemon's target words.
//!
//! ```json
//! { "type": "asyncmon", "request": "launch", "name": "Demo", "target": "demo" }
//! { "type": "asyncmon", "request": "launch", "name": "Board", "program": "target/thumbv7em-none-eabihf/debug/app", "chip": "nRF52840_xxAA" }
//! { "type": "asyncmon", "request": "launch", "name": "QEMU", "program": "app.elf", "machine": "mps2-an386" }
//! { "type": "asyncmon", "request": "launch", "name": "Host build", "program": "target/debug/app", "args": ["--fast"] }
//! { "type": "asyncmon", "request": "attach", "name": "Attach" }
//! ```

use serde::Deserialize;
use std::path::PathBuf;

/// The attributes asyncmon reads from a launch or attach configuration; the others (`type`,
/// `name`, `request`, ...) belong to the editor.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DebugConfig {
    /// `demo`, `sim`, `probe` or `qemu`; when absent, `chip` means a probe, `machine` QEMU, and a
    /// `program` alone a firmware built for the host (the simulated board).
    pub target: Option<String>,
    /// The firmware: an ELF for a board or QEMU, an executable for the simulated board.
    pub program: Option<String>,
    /// Arguments for a simulated board's firmware.
    #[serde(default)]
    pub args: Vec<String>,
    /// The chip, for a board on a probe (`nRF52840_xxAA`).
    pub chip: Option<String>,
    /// Which probe (`VID:PID[:SERIAL]`), when several are attached.
    pub probe: Option<String>,
    /// The QEMU machine (`mps2-an386`, `microbit`, `virt`).
    pub machine: Option<String>,
    /// The workspace folder: firmware paths are looked for in it.
    pub workspace_folder: Option<PathBuf>,
    /// The daemon's socket, when not the default one.
    pub socket: Option<PathBuf>,
}

/// What was wrong with a configuration.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// The configuration is not an object of the attributes above.
    #[error("the debug configuration is not valid: {0}")]
    Invalid(String),
    /// A target that needs a program was given none.
    #[error("target \"{0}\" needs \"program\": the firmware to run (an ELF for a board or QEMU, an executable for the simulated board)")]
    NoProgram(String),
    /// An unknown target.
    #[error("unknown target \"{0}\": use \"demo\", \"sim\", \"probe\" (with \"chip\") or \"qemu\" (with \"machine\")")]
    UnknownTarget(String),
    /// A probe target without a chip.
    #[error("target \"probe\" needs \"chip\" (the chip's name as probe-rs knows it: `probe-rs chip list`), or \"probe\": \"qemu:mps2-an386\" for a virtual probe")]
    NoChip,
}

impl DebugConfig {
    /// Reads the attributes out of a request's arguments.
    pub fn from_arguments(arguments: Option<&serde_json::Value>) -> Result<DebugConfig, ConfigError> {
        match arguments {
            None => Ok(DebugConfig::default()),
            Some(value) => {
                serde_json::from_value(value.clone()).map_err(|e| ConfigError::Invalid(e.to_string()))
            }
        }
    }

    /// The daemon's target words for a launch. Values go with their option (`--chip=X`) and the
    /// program after `--`, so that no value is taken for an option of the daemon's.
    pub fn target_words(&self) -> Result<Vec<String>, ConfigError> {
        let target = match (&self.target, &self.chip, &self.machine, &self.program) {
            (Some(target), ..) => target.as_str(),
            (None, Some(_), _, _) => "probe",
            // A virtual probe (`qemu:mps2-an386`) knows its chip.
            (None, None, _, _) if self.probe.as_deref().is_some_and(|p| p.starts_with("qemu:")) => "probe",
            (None, None, Some(_), _) => "qemu",
            (None, None, None, Some(_)) => "sim",
            (None, None, None, None) => "demo",
        };
        let program = || self.program.clone().ok_or_else(|| ConfigError::NoProgram(target.to_string()));
        let mut words: Vec<String> = match target {
            "demo" => return Ok(vec!["demo".into()]),
            "sim" => {
                let mut words = vec!["sim".into(), "--".into(), program()?];
                words.extend(self.args.iter().cloned());
                return Ok(words);
            }
            "probe" => {
                let virtual_probe = self.probe.as_deref().is_some_and(|p| p.starts_with("qemu:"));
                let mut words = vec!["probe".to_string()];
                match (&self.chip, virtual_probe) {
                    (Some(chip), _) => words.push(format!("--chip={chip}")),
                    (None, true) => {}
                    (None, false) => return Err(ConfigError::NoChip),
                }
                if let Some(probe) = &self.probe {
                    words.push(format!("--probe={probe}"));
                }
                words
            }
            "qemu" => {
                let mut words = vec!["qemu".into()];
                if let Some(machine) = &self.machine {
                    words.push(format!("--machine={machine}"));
                }
                words
            }
            other => return Err(ConfigError::UnknownTarget(other.to_string())),
        };
        // What the user wrote is a value, never an option: `"program": "--pid"` is a file name.
        words.extend(["--".into(), program()?]);
        Ok(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(config: serde_json::Value) -> Result<Vec<String>, ConfigError> {
        DebugConfig::from_arguments(Some(&config))?.target_words()
    }

    #[test]
    fn a_virtual_probe_needs_no_chip() {
        let config =
            DebugConfig::from_arguments(Some(&json!({ "probe": "qemu:mps2-an386", "program": "app.elf" })))
                .unwrap();
        assert_eq!(config.target_words().unwrap(), ["probe", "--probe=qemu:mps2-an386", "--", "app.elf"]);
        let config =
            DebugConfig::from_arguments(Some(&json!({ "target": "probe", "program": "app.elf" }))).unwrap();
        assert_eq!(config.target_words(), Err(ConfigError::NoChip));
    }

    #[test]
    fn each_kind_of_launch_becomes_the_daemons_words() {
        assert_eq!(words(json!({ "type": "asyncmon", "name": "Demo" })).unwrap(), ["demo"]);
        assert_eq!(
            words(json!({ "program": "app.elf", "chip": "nRF52840_xxAA", "probe": "1366:1015" })).unwrap(),
            ["probe", "--chip=nRF52840_xxAA", "--probe=1366:1015", "--", "app.elf"]
        );
        assert_eq!(
            words(json!({ "program": "app.elf", "machine": "microbit" })).unwrap(),
            ["qemu", "--machine=microbit", "--", "app.elf"]
        );
        assert_eq!(
            words(json!({ "program": "target/debug/app", "args": ["--fast"] })).unwrap(),
            ["sim", "--", "target/debug/app", "--fast"]
        );
    }

    #[test]
    fn a_value_that_looks_like_an_option_stays_a_value() {
        assert_eq!(words(json!({ "program": "--pid", "args": ["1"] })).unwrap(), ["sim", "--", "--pid", "1"]);
        assert_eq!(
            words(json!({ "program": "--help", "chip": "--list" })).unwrap(),
            ["probe", "--chip=--list", "--", "--help"]
        );
    }

    #[test]
    fn a_wrong_configuration_says_what_is_missing() {
        assert_eq!(words(json!({ "target": "probe", "program": "a.elf" })), Err(ConfigError::NoChip));
        assert_eq!(words(json!({ "target": "qemu" })), Err(ConfigError::NoProgram("qemu".into())));
        assert!(
            matches!(words(json!({ "target": "jtag" })), Err(ConfigError::UnknownTarget(t)) if t == "jtag")
        );
        assert!(matches!(words(json!({ "args": "not a list" })), Err(ConfigError::Invalid(_))));
    }
}
