//! Choosing a debug probe: by `VID:PID[:SERIAL]`, or the only one plugged in. Every error lists the
//! probes there are, so the user can copy the right selector.

use probe_rs::probe::{DebugProbeInfo, DebugProbeSelector};

/// A probe as the chooser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeEntry {
    /// The probe's name ("J-Link", "CMSIS-DAP").
    pub identifier: String,
    /// USB vendor id.
    pub vendor_id: u16,
    /// USB product id.
    pub product_id: u16,
    /// Serial number, when the probe has one.
    pub serial: Option<String>,
}

impl ProbeEntry {
    /// The selector that picks exactly this probe.
    pub fn selector(&self) -> String {
        match &self.serial {
            Some(serial) => format!("{:04x}:{:04x}:{serial}", self.vendor_id, self.product_id),
            None => format!("{:04x}:{:04x}", self.vendor_id, self.product_id),
        }
    }
}

impl From<&DebugProbeInfo> for ProbeEntry {
    fn from(info: &DebugProbeInfo) -> Self {
        ProbeEntry {
            identifier: info.identifier.clone(),
            vendor_id: info.vendor_id,
            product_id: info.product_id,
            serial: info.serial_number.clone(),
        }
    }
}

/// Lists probes one a line, with the selector for each.
pub fn describe(probes: &[ProbeEntry]) -> String {
    probes
        .iter()
        .map(|p| format!("  --probe {}   ({})", p.selector(), p.identifier))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Picks the probe: the one `selector` names, or the only one there is.
pub fn choose(probes: &[ProbeEntry], selector: Option<&str>) -> Result<usize, String> {
    match selector {
        None => {
            match probes.len() {
                0 => Err("no debug probe found: is it plugged in, and may you use it (udev rules on Linux)?"
                    .into()),
                1 => Ok(0),
                n => Err(format!(
                    "{n} debug probes are plugged in; choose one with --probe:\n{}",
                    describe(probes)
                )),
            }
        }
        Some(text) => {
            let wanted: DebugProbeSelector =
                text.parse().map_err(|e| format!("--probe {text:?} is not VID:PID[:SERIAL] in hex ({e})"))?;
            let matches: Vec<usize> = probes
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.vendor_id == wanted.vendor_id
                        && p.product_id == wanted.product_id
                        && wanted.serial_number.as_ref().is_none_or(|s| p.serial.as_ref() == Some(s))
                })
                .map(|(i, _)| i)
                .collect();
            match matches.as_slice() {
                [one] => Ok(*one),
                [] if probes.is_empty() => {
                    Err(format!("no debug probe matches --probe {text}: none is plugged in"))
                }
                [] => Err(format!(
                    "no debug probe matches --probe {text}; these are plugged in:\n{}",
                    describe(probes)
                )),
                _ => Err(format!(
                    "several probes match --probe {text}; add the serial number:\n{}",
                    describe(&matches.iter().map(|&i| probes[i].clone()).collect::<Vec<_>>())
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(name: &str, vid: u16, pid: u16, serial: Option<&str>) -> ProbeEntry {
        ProbeEntry {
            identifier: name.into(),
            vendor_id: vid,
            product_id: pid,
            serial: serial.map(Into::into),
        }
    }

    fn two() -> Vec<ProbeEntry> {
        vec![probe("J-Link", 0x1366, 0x0105, Some("000683")), probe("CMSIS-DAP", 0x0d28, 0x0204, Some("ABC"))]
    }

    #[test]
    fn the_only_probe_is_chosen_without_a_selector() {
        assert_eq!(choose(&two()[..1], None), Ok(0));
    }

    #[test]
    fn several_probes_and_no_selector_lists_them_with_their_selectors() {
        let err = choose(&two(), None).unwrap_err();
        assert!(err.starts_with("2 debug probes are plugged in; choose one with --probe:"), "{err}");
        assert!(
            err.contains("--probe 1366:0105:000683   (J-Link)") && err.contains("--probe 0d28:0204:ABC"),
            "{err}"
        );
    }

    #[test]
    fn a_selector_picks_by_ids_and_serial() {
        assert_eq!(choose(&two(), Some("0d28:0204")), Ok(1));
        assert_eq!(choose(&two(), Some("1366:0105:000683")), Ok(0));
        let err = choose(&two(), Some("1366:0105:999")).unwrap_err();
        assert!(
            err.starts_with("no debug probe matches --probe 1366:0105:999; these are plugged in:"),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_selector_and_no_probes_are_said_in_words() {
        assert!(choose(&two(), Some("jlink")).unwrap_err().contains("is not VID:PID[:SERIAL] in hex"));
        assert!(choose(&[], None).unwrap_err().starts_with("no debug probe found"));
    }
}
