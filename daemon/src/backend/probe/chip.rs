//! Chip names, checked against probe-rs's built-in target registry before anything touches a
//! probe. A wrong name gets the closest real names as suggestions.

use probe_rs::config::Registry;

/// A chip name probe-rs does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChip {
    /// The name given.
    pub name: String,
    /// The closest names the registry knows, best first.
    pub suggestions: Vec<String>,
}

impl std::fmt::Display for UnknownChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "probe-rs knows no chip called {:?}", self.name)?;
        if self.suggestions.is_empty() {
            write!(f, " (`probe-rs chip list` lists them)")
        } else {
            write!(f, "; did you mean {}?", self.suggestions.join(", "))
        }
    }
}

impl std::error::Error for UnknownChip {}

/// probe-rs's built-in targets, and the QEMU machines that virtual probes attach to.
pub fn registry() -> Registry {
    let mut registry = Registry::from_builtin_families();
    registry
        .add_target_family_from_yaml(super::qemu_probe::TARGETS_YAML)
        .expect("the QEMU machines' target description is valid (tested)");
    registry
}

/// How many suggestions a wrong name gets.
const SUGGESTIONS: usize = 5;

/// Checks `name` against the built-in targets (case-insensitive, as probe-rs matches); returns the
/// target's canonical name.
pub fn validate_chip(name: &str) -> Result<String, UnknownChip> {
    let registry = registry();
    if let Ok(target) = registry.get_target_by_name(name) {
        return Ok(target.name);
    }
    let wanted = name.to_ascii_lowercase();
    let mut scored: Vec<(f64, String)> = registry
        .families()
        .iter()
        .flat_map(|family| family.variants.iter().map(|chip| chip.name.clone()))
        .map(|chip| (strsim::jaro_winkler(&wanted, &chip.to_ascii_lowercase()), chip))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let suggestions = scored
        .into_iter()
        .filter(|(score, _)| *score > 0.7)
        .take(SUGGESTIONS)
        .map(|(_, chip)| chip)
        .collect();
    Err(UnknownChip { name: name.to_string(), suggestions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qemu_machines_of_virtual_probes_are_chips_probe_rs_attaches_to() {
        assert_eq!(validate_chip("qemu-mps2-an386").unwrap(), "qemu-mps2-an386");
        let target = registry().get_target_by_name("qemu-mps2-an386").unwrap();
        // Code memory is RAM there: probe-rs's loader writes it without a flash algorithm.
        assert!(target.memory_map.iter().all(|region| region.is_ram()));
    }

    #[test]
    fn a_known_chip_is_accepted_in_any_case() {
        assert_eq!(validate_chip("nrf52840_xxaa").unwrap(), "nRF52840_xxAA");
        assert_eq!(validate_chip("STM32F411RETx").unwrap(), "STM32F411RETx");
    }

    #[test]
    fn a_wrong_name_gets_the_closest_names() {
        let err = validate_chip("nrf52480_xxAA").unwrap_err();
        assert!(err.suggestions.contains(&"nRF52840_xxAA".to_string()), "{err}");
        assert!(
            err.to_string().starts_with("probe-rs knows no chip called \"nrf52480_xxAA\"; did you mean "),
            "{err}"
        );
    }

    #[test]
    fn nonsense_gets_no_suggestions_but_says_where_to_look() {
        let err = validate_chip("toaster").unwrap_err();
        assert!(err.suggestions.is_empty() || err.to_string().contains("did you mean"), "{err}");
        let err = validate_chip("").unwrap_err();
        assert!(err.to_string().contains("probe-rs knows no chip called \"\""), "{err}");
    }
}
