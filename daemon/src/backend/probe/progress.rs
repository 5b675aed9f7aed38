//! Flash progress, as a user reads it: one line per operation (erase, program, verify) with a bar,
//! the percentage and the bytes done, updated from probe-rs's progress events.

use probe_rs::flashing::{ProgressEvent, ProgressOperation};

/// One operation's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Operation {
    name: &'static str,
    done: u64,
    total: Option<u64>,
    state: &'static str,
}

/// The progress of a flash, fed by probe-rs's events.
#[derive(Debug, Default, Clone)]
pub struct FlashProgressView {
    operations: Vec<Operation>,
}

fn name(operation: ProgressOperation) -> &'static str {
    match operation {
        ProgressOperation::Fill => "Reading",
        ProgressOperation::Erase => "Erasing",
        ProgressOperation::Program => "Programming",
        ProgressOperation::Verify => "Verifying",
        // probe-rs adds operations now and then.
        #[allow(unreachable_patterns)]
        _ => "Working",
    }
}

/// The width of the bar in characters.
const BAR: usize = 20;

impl FlashProgressView {
    fn operation(&mut self, operation: ProgressOperation) -> &mut Operation {
        let name = name(operation);
        if let Some(i) = self.operations.iter().position(|o| o.name == name) {
            return &mut self.operations[i];
        }
        self.operations.push(Operation { name, done: 0, total: None, state: "" });
        self.operations.last_mut().expect("just pushed")
    }

    /// Takes one event; returns whether the view changed.
    pub fn on_event(&mut self, event: &ProgressEvent) -> bool {
        match event {
            ProgressEvent::AddProgressBar { operation, total } => self.operation(*operation).total = *total,
            ProgressEvent::Started(operation) => self.operation(*operation).state = "",
            ProgressEvent::Progress { operation, size, .. } => self.operation(*operation).done += size,
            ProgressEvent::Finished(operation) => {
                let op = self.operation(*operation);
                op.state = "done";
                if let Some(total) = op.total {
                    op.done = total;
                }
            }
            ProgressEvent::Failed(operation) => self.operation(*operation).state = "FAILED",
            _ => return false,
        }
        true
    }

    /// One line per operation, e.g. `Programming [########------------]  40%  12.0/30.0 KiB`.
    pub fn lines(&self) -> Vec<String> {
        self.operations
            .iter()
            .map(|op| {
                let kib = |b: u64| b as f64 / 1024.0;
                match op.total.filter(|t| *t > 0) {
                    Some(total) => {
                        let fraction = (op.done.min(total) as f64) / (total as f64);
                        let filled = (fraction * BAR as f64).round() as usize;
                        format!(
                            "{:<11} [{}{}] {:>3}%  {:.1}/{:.1} KiB {}",
                            op.name,
                            "#".repeat(filled),
                            "-".repeat(BAR - filled),
                            (fraction * 100.0).round() as u32,
                            kib(op.done.min(total)),
                            kib(total),
                            op.state
                        )
                        .trim_end()
                        .to_string()
                    }
                    None => {
                        format!("{:<11} {:.1} KiB {}", op.name, kib(op.done), op.state).trim_end().to_string()
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn erase_then_program_render_as_bars_with_bytes() {
        let mut view = FlashProgressView::default();
        let events = [
            ProgressEvent::AddProgressBar { operation: ProgressOperation::Erase, total: Some(8192) },
            ProgressEvent::AddProgressBar { operation: ProgressOperation::Program, total: Some(30720) },
            ProgressEvent::Started(ProgressOperation::Erase),
            ProgressEvent::Progress { operation: ProgressOperation::Erase, size: 8192, time: Duration::ZERO },
            ProgressEvent::Finished(ProgressOperation::Erase),
            ProgressEvent::Started(ProgressOperation::Program),
            ProgressEvent::Progress {
                operation: ProgressOperation::Program,
                size: 12288,
                time: Duration::ZERO,
            },
        ];
        for e in &events {
            view.on_event(e);
        }
        assert_eq!(
            view.lines(),
            [
                "Erasing     [####################] 100%  8.0/8.0 KiB done",
                "Programming [########------------]  40%  12.0/30.0 KiB",
            ]
        );
        view.on_event(&ProgressEvent::Failed(ProgressOperation::Program));
        assert!(view.lines()[1].ends_with("FAILED"));
    }
}
