//! `asyncmond lsp`: a language server (LSP over stdio, built on `tower-lsp-server`) that shows the
//! target's failures in the editor. It is a thin client of the daemon: it connects to the daemon's
//! socket like the monitor does, holds no target of its own, and starts a daemon only when asked to
//! attach and none runs. The monitor and the editor watch the same session at the same time.
//!
//! A daemon the server started belongs to the editor: it ends (and its simulated firmware with it)
//! when the editor shuts the server down, closes the server's stdin or sends it SIGTERM. A daemon
//! started by hand is never ended by the server.
//!
//! # What it does
//!
//! * Each failure becomes a diagnostic on the line that raised it (the spawn location when no raise
//!   site is known), with the exception type and message, the task, and the spawn chain as related
//!   information; a failure whose file is not in a workspace folder goes on the first folder. See
//!   [`diagnostics`] and [`paths`] (no file outside the workspace folders is ever looked at).
//! * Failures are grouped by raise site, exception type and path: one diagnostic per group shows
//!   the latest failure and how many there were, so repeats never flood the Problems panel
//!   ([`diagnostics`]).
//! * Diagnostics are published at most every [`PUBLISH_INTERVAL`] per burst, one notification per
//!   changed file; a new session (or a reset) clears them, a stop keeps them.
//! * A hover on a line with failures shows the latest failure's whole context and how many more
//!   there were like it.
//! * At each `.await` where running tasks are suspended, an inlay hint names them and how long the
//!   longest has waited; the hover there shows their whole await traces ([`await_hints`]). When
//!   the traces change, the server asks the editor to refresh its hints
//!   (`workspace/inlayHint/refresh`, where the editor supports it).
//!
//! # Commands (`workspace/executeCommand`)
//!
//! * `asyncmon.stop`: stop the firmware; it sees `KeyboardInterrupt`, its tasks clean up.
//! * `asyncmon.hardStop`: stop it now; every task is dropped.
//! * `asyncmon.attach`, arguments: the target words `asyncmond` takes, as strings (`["sim",
//!   "target/debug/app"]`, `["probe", "--chip", "nRF52840_xxAA", "app.elf"]`, `["tcp", "--elf",
//!   "app.elf", "localhost:9090"]`), or `["demo"]` for the demo firmware. Starts a daemon with them
//!   on the server's socket unless one already runs there, then follows its session. When the
//!   session there has ended, it starts again: the same target (or a daemon started by hand) is
//!   reset, a daemon this server started for other words is replaced.
//! * `asyncmon.clearFailures`: removes every failure diagnostic until new failures arrive.
//!
//! # Custom notification
//!
//! * `asyncmon/session` (server to client), sent when the session changes (at most every
//!   [`PUBLISH_INTERVAL`]): [`SessionSummary`] — whether a daemon is connected, the target, its
//!   state in words, the epoch, the firmware, the failure count, the tasks (id, name, state,
//!   failures) and the answer to a stop request in words (`KeyboardInterrupt: cancelled main,
//!   blinky; completed telemetry (5 tasks)`).
//! * `asyncmon/logs` (server to client), at most every [`PUBLISH_INTERVAL`]: [`LogLines`] — the
//!   firmware's log lines since the last one (text and decoded defmt, with level and source line),
//!   and how many were dropped because the editor fell behind.

pub mod await_hints;
pub mod diagnostics;
pub mod framing;
pub mod paths;
mod publish;
mod server;
mod state;
pub mod summary;

pub use publish::PUBLISH_INTERVAL;
pub use server::{run_stdio, Backend};
pub use summary::{LogLines, SessionSummary, TaskSummary};
