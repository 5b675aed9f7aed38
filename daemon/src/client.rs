//! A host-link client: connect to a daemon's socket, say hello, subscribe, stop.
//!
//! Used by the monitor and by tests; it speaks only the host link and never touches a target.

use asyncmon_protocol::host::{self, ClientRequest, ServerMessage, TargetDescription, HOST_PROTOCOL_VERSION};
use futures::{SinkExt, StreamExt};
use std::path::Path;
use tokio::net::UnixStream;
use tokio_util::codec::Framed;

/// A connection to a daemon.
pub struct Client {
    conn: Framed<UnixStream, tokio_util::codec::LengthDelimitedCodec>,
    /// The daemon's first target, from its `Welcome`.
    pub target: TargetDescription,
    /// Every target the daemon owns, by number.
    pub targets: Vec<TargetDescription>,
}

impl Client {
    /// Connects to the daemon at `socket` and exchanges hellos as `name`.
    pub async fn connect(socket: &Path, name: &str) -> anyhow::Result<Self> {
        let stream = UnixStream::connect(socket).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to asyncmond at {}: {e} (is the daemon running?)",
                socket.display()
            )
        })?;
        let mut conn = Framed::new(stream, crate::server::codec());
        let hello = ClientRequest::Hello { version: HOST_PROTOCOL_VERSION, client: name.to_string() };
        conn.send(bytes::Bytes::from(host::encode(&hello)?)).await?;
        let mut client = Client {
            conn,
            target: TargetDescription { backend: String::new(), name: String::new() },
            targets: Vec::new(),
        };
        match client.recv().await? {
            Some(ServerMessage::Welcome { target, targets, .. }) => {
                client.targets = if targets.is_empty() { vec![target.clone()] } else { targets };
                client.target = target;
            }
            Some(ServerMessage::Refused { reason }) => {
                anyhow::bail!("asyncmond refused the connection: {reason}")
            }
            Some(other) => anyhow::bail!("asyncmond answered hello with {other:?}"),
            None => anyhow::bail!("asyncmond closed the connection"),
        }
        Ok(client)
    }

    /// Sends a request.
    pub async fn request(&mut self, request: &ClientRequest) -> anyhow::Result<()> {
        self.conn.send(bytes::Bytes::from(host::encode(request)?)).await?;
        Ok(())
    }

    /// The next message, or `None` when the daemon closed the connection.
    pub async fn recv(&mut self) -> anyhow::Result<Option<ServerMessage>> {
        match self.conn.next().await {
            None => Ok(None),
            Some(frame) => Ok(Some(host::decode(&frame?)?)),
        }
    }
}
