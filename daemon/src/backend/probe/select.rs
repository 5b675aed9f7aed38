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

/// Why no probe could be chosen; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeChoiceError {
    /// None is plugged in (or may be used).
    #[error("no debug probe found: is it plugged in, and may you use it (udev rules on Linux)?")]
    NoProbe,
    /// Several are plugged in and none was named.
    #[error("{count} debug probes are plugged in; choose one with --probe:\n{list}")]
    Several {
        /// How many.
        count: usize,
        /// Their selectors, one a line.
        list: String,
    },
    /// The selector is not `VID:PID[:SERIAL]`.
    #[error("--probe {selector:?} is not VID:PID[:SERIAL] in hex ({reason})")]
    BadSelector {
        /// What was given.
        selector: String,
        /// Why it does not parse.
        reason: String,
    },
    /// No probe matches the selector.
    #[error("no debug probe matches --probe {selector}{}", if list.is_empty() { ": none is plugged in".to_string() } else { format!("; these are plugged in:\n{list}") })]
    NoMatch {
        /// What was given.
        selector: String,
        /// The probes there are, one a line.
        list: String,
    },
    /// Several probes match the selector.
    #[error("several probes match --probe {selector}; add the serial number:\n{list}")]
    Ambiguous {
        /// What was given.
        selector: String,
        /// The matching probes, one a line.
        list: String,
    },
}

/// Picks the probe: the one `selector` names, or the only one there is.
pub fn choose(probes: &[ProbeEntry], selector: Option<&str>) -> Result<usize, ProbeChoiceError> {
    match selector {
        None => match probes.len() {
            0 => Err(ProbeChoiceError::NoProbe),
            1 => Ok(0),
            count => Err(ProbeChoiceError::Several { count, list: describe(probes) }),
        },
        Some(text) => {
            let wanted = text.parse::<DebugProbeSelector>().map_err(|e| ProbeChoiceError::BadSelector {
                selector: text.into(),
                reason: e.to_string(),
            })?;
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
                [] => Err(ProbeChoiceError::NoMatch { selector: text.into(), list: describe(probes) }),
                _ => Err(ProbeChoiceError::Ambiguous {
                    selector: text.into(),
                    list: describe(&matches.iter().map(|&i| probes[i].clone()).collect::<Vec<_>>()),
                }),
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
        let err = choose(&two(), None).unwrap_err().to_string();
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
        let err = choose(&two(), Some("1366:0105:999")).unwrap_err().to_string();
        assert!(
            err.starts_with("no debug probe matches --probe 1366:0105:999; these are plugged in:"),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_selector_and_no_probes_are_said_in_words() {
        assert!(choose(&two(), Some("jlink"))
            .unwrap_err()
            .to_string()
            .contains("is not VID:PID[:SERIAL] in hex"));
        assert!(choose(&[], None).unwrap_err().to_string().starts_with("no debug probe found"));
    }
}
