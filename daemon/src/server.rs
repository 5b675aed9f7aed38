//! The client server: a Unix socket speaking length-delimited MessagePack.
//!
//! A client says `Hello`, gets `Welcome`, may `Subscribe` (a snapshot, then every event) and may
//! `Stop`. Each client has its own task and its own place in the bounded event backlog: one that
//! disconnects, stalls or sends garbage affects nobody else, least of all the target reader.

use crate::hub::Hub;
use asyncmon_protocol::host::{
    self, ClientRequest, ServerMessage, SessionEvent, HOST_PROTOCOL_VERSION, MAX_HOST_FRAME,
};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// The framing of the host link (4-byte big-endian length, at most [`MAX_HOST_FRAME`] bytes).
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().max_frame_length(MAX_HOST_FRAME).new_codec()
}

/// Accepts clients until the listener fails; each client is served on its own task.
pub async fn serve(listener: UnixListener, hub: Arc<Hub>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let hub = hub.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_client(stream, hub).await {
                        tracing::info!("client left: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::error!("accepting a client failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

type Conn = Framed<UnixStream, LengthDelimitedCodec>;

async fn send(conn: &mut Conn, msg: &ServerMessage) -> anyhow::Result<()> {
    conn.send(bytes::Bytes::from(host::encode(msg)?)).await?;
    Ok(())
}

async fn serve_client(stream: UnixStream, hub: Arc<Hub>) -> anyhow::Result<()> {
    let mut conn = Framed::new(stream, codec());
    let mut events: Option<tokio::sync::broadcast::Receiver<SessionEvent>> = None;
    let mut greeted = false;
    loop {
        tokio::select! {
            frame = conn.next() => {
                let Some(frame) = frame else { return Ok(()) };
                let request: ClientRequest = match host::decode(&frame?) {
                    Ok(request) => request,
                    Err(e) => {
                        let reason = format!("unreadable request ({e}); closing the connection");
                        send(&mut conn, &ServerMessage::Refused { reason: reason.clone() }).await?;
                        anyhow::bail!(reason);
                    }
                };
                match request {
                    ClientRequest::Hello { version, client } => {
                        if version != HOST_PROTOCOL_VERSION {
                            let reason = format!(
                                "{client} speaks host-link v{version}, this asyncmond speaks v{HOST_PROTOCOL_VERSION}: use matching asyncmon versions"
                            );
                            send(&mut conn, &ServerMessage::Refused { reason: reason.clone() }).await?;
                            anyhow::bail!(reason);
                        }
                        tracing::info!(%client, "client connected");
                        greeted = true;
                        send(&mut conn, &ServerMessage::Welcome { version: HOST_PROTOCOL_VERSION, target: hub.target() }).await?;
                    }
                    _ if !greeted => {
                        let reason = "say Hello first".to_string();
                        send(&mut conn, &ServerMessage::Refused { reason: reason.clone() }).await?;
                        anyhow::bail!(reason);
                    }
                    ClientRequest::Subscribe => {
                        let (snapshot, rx) = hub.subscribe();
                        events = Some(rx);
                        send(&mut conn, &ServerMessage::Snapshot(Box::new(snapshot))).await?;
                    }
                    ClientRequest::Reset => {
                        if let Err(reason) = hub.send(crate::target::TargetCommand::Reset) {
                            send(&mut conn, &ServerMessage::Refused { reason }).await?;
                        }
                    }
                    ClientRequest::Stop | ClientRequest::HardStop => match hub.request_stop(request == ClientRequest::HardStop) {
                        Ok(request_id) => send(&mut conn, &ServerMessage::StopSent { request_id }).await?,
                        Err(reason) => send(&mut conn, &ServerMessage::Refused { reason }).await?,
                    },
                }
            }
            event = next_event(&mut events) => match event {
                Ok(event) => send(&mut conn, &ServerMessage::Event(event)).await?,
                Err(RecvError::Lagged(missed)) => {
                    // Too slow: say how much was lost, then start again from a fresh snapshot.
                    let (snapshot, rx) = hub.subscribe();
                    events = Some(rx);
                    send(&mut conn, &ServerMessage::Missed { events: missed }).await?;
                    send(&mut conn, &ServerMessage::Snapshot(Box::new(snapshot))).await?;
                }
                Err(RecvError::Closed) => events = None,
            },
        }
    }
}

async fn next_event(
    events: &mut Option<tokio::sync::broadcast::Receiver<SessionEvent>>,
) -> Result<SessionEvent, RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
