//! `asyncmon stop`: asks the firmware to stop (it sees KeyboardInterrupt) and prints what it
//! cancelled; an embassy firmware's stop hook runs instead, and the answer says so.

use asyncmon_daemon::client::Client;
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent, TargetState};
use std::path::Path;
use std::time::Duration;

/// Sends a stop request through the daemon at `socket` and waits up to `timeout` for the firmware's
/// acknowledgement; returns the report as text.
pub async fn run(socket: &Path, timeout: Duration) -> anyhow::Result<String> {
    let mut client = Client::connect(socket, "asyncmon stop").await?;
    client.request(&ClientRequest::Subscribe).await?;
    let wait = async {
        // The session as it is before the stop goes out (the snapshot is taken when the server
        // gets to it, so it is read first: an end that follows the stop is not "already ended").
        loop {
            match client.recv().await? {
                Some(ServerMessage::Snapshot(session)) => {
                    if let TargetState::Exited { description, .. } = &session.target_state {
                        return Ok(format!(
                            "the firmware has already ended ({description}): nothing to stop"
                        ));
                    }
                    break;
                }
                Some(ServerMessage::Refused { reason }) => anyhow::bail!("asyncmond refused: {reason}"),
                Some(_) => {}
                None => anyhow::bail!("asyncmond closed the connection before it showed the session"),
            }
        }
        client.request(&ClientRequest::Stop).await?;
        let mut request = None;
        loop {
            match client.recv().await? {
                Some(ServerMessage::StopSent { request_id }) => request = Some(request_id),
                Some(ServerMessage::Refused { reason }) => {
                    anyhow::bail!("asyncmond refused: {reason}")
                }
                Some(ServerMessage::Event(SessionEvent::Interrupted(report)))
                    if request.is_none_or(|id| id == report.request_id) =>
                {
                    return Ok(asyncmon_protocol::host::wording::interrupt_summary(&report));
                }
                // An embassy firmware: its stop hook ran, or nothing could be stopped.
                Some(ServerMessage::Event(SessionEvent::StopHandled { request_id, hook_ran, hard }))
                    if request.is_none_or(|id| id == request_id) =>
                {
                    let words = asyncmon_protocol::host::wording::stop_handled_words(hook_ran, hard);
                    return if hook_ran { Ok(words) } else { Err(anyhow::anyhow!(words)) };
                }
                // The firmware ended before it acknowledged: nothing more will come. (This may
                // arrive before `StopSent` does: a firmware that exits at once on a stop.)
                Some(ServerMessage::Event(SessionEvent::TargetState(TargetState::Exited {
                    description,
                    ..
                }))) => {
                    return Ok(format!("the firmware ended ({description}) before it acknowledged the stop"));
                }
                Some(_) => {}
                None => {
                    anyhow::bail!("asyncmond closed the connection before the firmware answered")
                }
            }
        }
    };
    tokio::time::timeout(timeout, wait).await.map_err(|_| {
        // The request stays in the firmware's down channel: it is not withdrawn.
        anyhow::anyhow!(
            "the firmware did not acknowledge the stop within {timeout:?}; the request is still pending: a firmware that is held up (halted in a debugger, stuck in a long poll) stops as soon as it reads its commands again, or `asyncmon reset` restarts it now"
        )
    })?
}
