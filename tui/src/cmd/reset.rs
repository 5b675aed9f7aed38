//! `asyncmon reset`: resets the target (the simulator restarts its firmware process); the session
//! goes on in a new epoch.

use asyncmon_daemon::client::Client;
use asyncmon_protocol::host::{ClientRequest, ServerMessage, SessionEvent};
use std::path::Path;
use std::time::Duration;

/// Asks the daemon at `socket` to reset its target and waits up to `timeout` for the firmware's
/// hello; returns the new epoch.
pub async fn run(socket: &Path, timeout: Duration) -> anyhow::Result<u32> {
    let mut client = Client::connect(socket, "asyncmon reset").await?;
    client.request(&ClientRequest::Subscribe).await?;
    client.request(&ClientRequest::Reset).await?;
    let wait = async {
        loop {
            match client.recv().await? {
                Some(ServerMessage::Refused { reason }) => anyhow::bail!("asyncmond refused: {reason}"),
                Some(ServerMessage::Event(SessionEvent::SessionStarted { epoch, .. })) => return Ok(epoch),
                Some(_) => {}
                None => anyhow::bail!("asyncmond closed the connection before the firmware came back"),
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| anyhow::anyhow!("the firmware did not say hello within {timeout:?} after the reset"))?
}
