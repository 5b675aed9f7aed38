//! A host-link client: connect to a daemon's socket, say hello, subscribe, stop.
//!
//! Used by the monitor and by tests; it speaks only the host link and never touches a target.

use crate::socket_path::{self, UnsafeSocket};
use asyncmon_protocol::host::{self, ClientRequest, ServerMessage, TargetDescription, HOST_PROTOCOL_VERSION};
use futures::{SinkExt, StreamExt};
use std::path::Path;
use std::time::Duration;
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

/// How long a client waits for a daemon to answer its hello before saying it does not.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

impl Client {
    /// Connects to the daemon at `socket` and exchanges hellos as `name`, giving up after
    /// [`ANSWER_TIMEOUT`].
    pub async fn connect(socket: &Path, name: &str) -> anyhow::Result<Self> {
        Self::connect_within(socket, name, ANSWER_TIMEOUT).await
    }

    /// Like [`Client::connect`], waiting at most `timeout` for the daemon's answer. Before
    /// connecting, the socket and its directory are checked (see [`crate::socket_path`]); once
    /// connected, the daemon must run as this user.
    pub async fn connect_within(socket: &Path, name: &str, timeout: Duration) -> anyhow::Result<Self> {
        match socket_path::check_for_client(socket) {
            Ok(()) => {}
            Err(UnsafeSocket::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                anyhow::bail!(
                    "cannot connect to asyncmond at {}: {source} (is the daemon running?)",
                    socket.display()
                )
            }
            Err(e) => anyhow::bail!("refusing to connect to asyncmond at {}: {e}", socket.display()),
        }
        let stream = UnixStream::connect(socket).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to asyncmond at {}: {e} (is the daemon running?)",
                socket.display()
            )
        })?;
        let peer = stream
            .peer_cred()
            .map_err(|e| anyhow::anyhow!("cannot tell who serves {}: {e}", socket.display()))?;
        socket_path::check_peer(socket, peer.uid())?;
        let greet = async {
            let mut conn = Framed::new(stream, crate::host_codec::codec());
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
        };
        tokio::time::timeout(timeout, greet).await.map_err(|_| {
            anyhow::anyhow!(
                "asyncmond at {} did not answer within {timeout:.1?}: is it stopped (SIGSTOP) or hung? Restart it, or choose another --socket",
                socket.display()
            )
        })?
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

/// Why [`Client::relay`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// The daemon closed the connection (`None`) or it broke (the error, in words).
    Daemon(Option<String>),
    /// The follower let go: its request sender was dropped, or it took no more messages.
    Follower,
}

impl Client {
    /// Follows the daemon for an editor's server (the language server, the debug adapter): passes
    /// each message to `on_message` and sends what comes in on `requests`, until one side ends.
    /// `on_message` returns whether it takes more; awaiting it is how a follower that cannot keep up
    /// (its editor stopped reading) holds the daemon back, which then drops and resynchronises for
    /// this client alone, as for any slow client: nothing piles up in the follower.
    pub async fn relay<F, Fut>(
        mut self,
        mut requests: tokio::sync::mpsc::UnboundedReceiver<ClientRequest>,
        mut on_message: F,
    ) -> RelayEnd
    where
        F: FnMut(ServerMessage) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        loop {
            tokio::select! {
                message = self.recv() => match message {
                    Ok(Some(message)) => {
                        if !on_message(message).await {
                            return RelayEnd::Follower;
                        }
                    }
                    Ok(None) => return RelayEnd::Daemon(None),
                    Err(e) => return RelayEnd::Daemon(Some(e.to_string())),
                },
                request = requests.recv() => match request {
                    Some(request) => {
                        if let Err(e) = self.request(&request).await {
                            return RelayEnd::Daemon(Some(e.to_string()));
                        }
                    }
                    None => return RelayEnd::Follower,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_daemon_that_never_answers_is_given_up_on_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        // Listening, never accepting: the connection is made, no answer ever comes.
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        socket_path::restrict(&path).unwrap();
        let err = Client::connect_within(&path, "test", Duration::from_millis(200)).await.err().unwrap();
        assert!(err.to_string().contains("did not answer within"), "{err}");
    }

    #[tokio::test]
    async fn no_socket_says_the_daemon_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let err = Client::connect(&dir.path().join("none.sock"), "test").await.err().unwrap();
        assert!(err.to_string().contains("is the daemon running?"), "{err}");
    }
}
