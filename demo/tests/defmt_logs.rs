//! The firmware's defmt logs on the simulated board: the demo firmware logs with `defmt::info!` and
//! `defmt::warn!` on the agent's "defmt" RTT channel (one control block for both); the daemon decodes
//! the frames with the table in the firmware's ELF and shows them with level, device time and the
//! statement's file and line, next to the failure they led up to.

mod support;

use std::time::Duration;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defmt_logs_arrive_decoded_with_level_time_and_source_line() {
    let mut h = Harness::start(&["demo"], Duration::from_secs(10)).await;
    support::demo_session::defmt_logs(&mut h).await;
}

mod decoder {
    //! The daemon's defmt decoder against the demo firmware's real table, with frames encoded the way
    //! defmt encodes them (index, timestamp, arguments; rzcobs; a zero byte between frames).

    use asyncmon_daemon::defmt_logs::{DefmtLogs, DefmtTable, TableLoad};
    use asyncmon_protocol::host::{LogLevel, LogSource, SessionEvent};
    use object::{Object, ObjectSymbol};

    fn firmware_elf() -> Vec<u8> {
        std::fs::read(super::support::firmware()).unwrap()
    }

    /// The table index of the log statement whose format string is `format`: its symbol's address.
    fn index_of(elf: &[u8], format: &str) -> u16 {
        let file = object::File::parse(elf).unwrap();
        let needle = format!(r#""data":"{format}""#);
        let symbol = file.symbols().find(|s| s.name().is_ok_and(|n| n.contains(&needle))).unwrap();
        symbol.address() as u16
    }

    /// One defmt frame: the reading statement with `celsius` and `poll`, at `micros`.
    fn reading_frame(elf: &[u8], micros: u64, celsius: i32, poll: u32) -> Vec<u8> {
        let mut raw = index_of(elf, "sensor_poll: {=i32} C on poll {=u32}").to_le_bytes().to_vec();
        raw.extend(micros.to_le_bytes());
        raw.extend(celsius.to_le_bytes());
        raw.extend(poll.to_le_bytes());
        let mut frame = rzcobs::encode(&raw);
        frame.push(0);
        frame
    }

    fn texts(events: &[SessionEvent]) -> Vec<(u64, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Log(l) => Some((l.at_ms, l.text.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn frames_split_anywhere_and_a_corrupt_one_in_between_decode_to_the_lines_sent() {
        let elf = firmware_elf();
        let table = TableLoad::ready(DefmtTable::from_elf(&elf));
        let mut logs = DefmtLogs::new(table);
        let mut stream = reading_frame(&elf, 1_000, 22, 1);
        // A frame whose index is in no table, then one whose bytes are cut short.
        let mut bogus = rzcobs::encode(&[0xff, 0xff, 1, 2, 3]);
        bogus.push(0);
        stream.extend(bogus);
        let mut short = rzcobs::encode(&index_of(&elf, "sensor_poll: {=i32} C on poll {=u32}").to_le_bytes());
        short.push(0);
        stream.extend(short);
        stream.extend(reading_frame(&elf, 2_000, -5, 2));
        let mut events = Vec::new();
        for (i, chunk) in stream.chunks(3).enumerate() {
            logs.push(chunk, i as u64, &mut events);
        }
        let lines = texts(&events);
        let texts: Vec<&str> = lines.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "sensor_poll: 22 C on poll 1",
                "defmt: a frame that does not match the ELF's table was skipped",
                "defmt: a frame that does not match the ELF's table was skipped",
                "sensor_poll: -5 C on poll 2",
            ]
        );
        let SessionEvent::Log(first) = &events[0] else { panic!() };
        assert_eq!(first.level, Some(LogLevel::Info));
        assert_eq!(first.source, LogSource::Defmt);
        // `{=u64:us}` is shown in seconds.
        assert_eq!(first.device_time.as_deref(), Some("0.001000"));
        let SessionEvent::Log(skipped) = &events[1] else { panic!() };
        assert_eq!((skipped.source, skipped.level), (LogSource::Daemon, Some(LogLevel::Warn)));
    }

    #[test]
    fn lines_that_arrive_while_the_table_is_read_come_out_after_it_with_their_arrival_time() {
        let elf = firmware_elf();
        let path = std::path::PathBuf::from(super::support::firmware());
        let load = TableLoad::start(path);
        let mut logs = DefmtLogs::new(load.clone());
        let mut events = Vec::new();
        logs.push(&reading_frame(&elf, 10, 21, 7), 5, &mut events);
        while load.get().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(5));
            logs.push(&[], 6, &mut events);
        }
        logs.push(&reading_frame(&elf, 20, 23, 8), 900, &mut events);
        assert_eq!(
            texts(&events),
            [
                (5, "sensor_poll: 21 C on poll 7".to_string()),
                (900, "sensor_poll: 23 C on poll 8".to_string())
            ]
        );
    }

    #[test]
    fn lines_still_waiting_when_the_target_is_gone_are_decoded_once_the_table_is_read() {
        let elf = firmware_elf();
        let load = TableLoad::start(std::path::PathBuf::from(super::support::firmware()));
        let mut logs = DefmtLogs::new(load);
        let mut events = Vec::new();
        logs.push(&reading_frame(&elf, 10, 24, 9), 42, &mut events);
        let events = if events.is_empty() {
            assert!(logs.is_waiting());
            logs.finish(std::time::Duration::from_secs(60), std::time::Instant::now())
        } else {
            events // The table was read before the frame arrived.
        };
        assert_eq!(texts(&events), [(42, "sensor_poll: 24 C on poll 9".to_string())]);
    }

    #[test]
    fn a_defmt_channel_without_a_table_is_said_once_and_shown_nowhere() {
        let mut logs = DefmtLogs::new(TableLoad::ready(Ok(None)));
        let mut events = Vec::new();
        logs.push(b"\x01\x02\x00", 1, &mut events);
        logs.push(b"\x01\x02\x00", 2, &mut events);
        let lines = texts(&events);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].1.contains("no .defmt table"), "{lines:?}");
    }
}
