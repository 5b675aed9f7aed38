//! A panic seen in the firmware's logs rather than in a frame of asyncmon's: the line a panic
//! handler that is not asyncmon's prints before it halts the core — panic-probe's
//! `defmt::error!("{}", Display2Format(info))` (`panicked at src/main.rs:12:5:\nmessage`), or
//! defmt's own `panic!`/`unwrap!`/`assert!` (`panicked at 'message'`, logged at the app's line).
//! Pure: the pump feeds it log lines and turns what it finds into the session's panic.

use asyncmon_protocol::host::{Location, LogLevel, LogLine, LogSource};

/// A panic, as its line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenPanic {
    /// What the panic said.
    pub message: String,
    /// Where it was raised: from the message (`panicked at FILE:LINE:COL:`), else where defmt's
    /// macro logged it (the app's line, from the ELF's debug info).
    pub raised_at: Option<Location>,
}

const PREFIX: &str = "panicked at ";

/// The panic `line` reports, if it is a panic's line: an error-level defmt line, or a plain text
/// line (panic-probe's `print-rtt`), that starts with `panicked at `.
pub fn panic_in(line: &LogLine) -> Option<SeenPanic> {
    let from_firmware = match line.source {
        LogSource::Defmt => line.level.is_none_or(|level| level == LogLevel::Error),
        LogSource::RttText => true,
        _ => false,
    };
    let rest = line.text.strip_prefix(PREFIX).filter(|_| from_firmware)?;
    // defmt's macros: `panicked at 'message'`, maybe followed by more lines (`unwrap!`'s error).
    if let Some(quoted) = rest.strip_prefix('\'') {
        let (message, more) = match quoted.split_once("'\n") {
            Some((message, more)) => (message.to_string(), Some(more)),
            None => (quoted.strip_suffix('\'').unwrap_or(quoted).to_string(), None),
        };
        let message = match more {
            Some(more) => format!("{message}\n{more}"),
            None => message,
        };
        return Some(SeenPanic { message, raised_at: line.location.clone() });
    }
    // core's `PanicInfo`: `FILE:LINE:COL:` then the message on the next line.
    let (place, message) = rest.split_once('\n').unwrap_or((rest, ""));
    let raised_at = place.strip_suffix(':').and_then(parse_location);
    raised_at.as_ref()?;
    Some(SeenPanic { message: message.to_string(), raised_at })
}

/// `FILE:LINE:COL` (the file may hold colons itself).
fn parse_location(place: &str) -> Option<Location> {
    let (rest, column) = place.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    Some(Location { file: file.to_string(), line: line.parse().ok()?, column: column.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defmt(text: &str, at: Option<(&str, u32)>) -> LogLine {
        LogLine {
            level: Some(LogLevel::Error),
            location: at.map(|(file, line)| Location { file: file.into(), line, column: 0 }),
            ..LogLine::plain(5, LogSource::Defmt, text.into())
        }
    }

    #[test]
    fn panic_probes_line_gives_the_message_and_the_place_it_names() {
        let line = defmt(
            "panicked at embassy-example/src/tasks.rs:54:5:\nsensor fault: no answer",
            Some(("/cargo/panic-probe-1.0.0/src/lib.rs", 104)),
        );
        let panic = panic_in(&line).unwrap();
        assert_eq!(panic.message, "sensor fault: no answer");
        let at = panic.raised_at.unwrap();
        assert_eq!((at.file.as_str(), at.line, at.column), ("embassy-example/src/tasks.rs", 54, 5));
    }

    #[test]
    fn defmts_own_panic_is_raised_where_the_macro_logged_it() {
        let line = defmt(
            "panicked at 'unwrap failed: READINGS.try_receive()'\nerror: `Empty`",
            Some(("/work/app/src/main.rs", 31)),
        );
        let panic = panic_in(&line).unwrap();
        assert_eq!(panic.message, "unwrap failed: READINGS.try_receive()\nerror: `Empty`");
        assert_eq!(panic.raised_at.unwrap().line, 31);
        let plain = panic_in(&defmt("panicked at 'explicit panic'", Some(("/app/src/main.rs", 9)))).unwrap();
        assert_eq!(plain.message, "explicit panic");
    }

    #[test]
    fn other_lines_are_not_panics() {
        assert_eq!(panic_in(&defmt("sensor panicked at 3 V", None)), None);
        // An info line that happens to start so is not the panic handler's.
        let info = LogLine { level: Some(LogLevel::Info), ..defmt("panicked at 'x'", None) };
        assert_eq!(panic_in(&info), None);
        // The daemon's own lines never are.
        assert_eq!(panic_in(&LogLine::plain(0, LogSource::Daemon, "panicked at 'x'".into())), None);
        // "panicked at" without a place or a quote.
        assert_eq!(panic_in(&defmt("panicked at the disco", None)), None);
    }

    #[test]
    fn print_rtts_text_line_is_a_panic_too() {
        let line = LogLine::plain(1, LogSource::RttText, "panicked at src/main.rs:7:9:\nboom".into());
        assert_eq!(panic_in(&line).unwrap().raised_at.unwrap().line, 7);
    }
}
