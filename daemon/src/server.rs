//! The client server: a Unix socket speaking length-delimited MessagePack.
//!
//! A client says `Hello`, gets `Welcome` (with the daemon's targets), may subscribe to one target
//! (a snapshot, then every event) or to all of them (tagged snapshots and events), and may stop or
//! reset a target. Each subscription is forwarded by tasks of its own through a bounded queue: a
//! client that disconnects, stalls or sends garbage affects nobody else, least of all the target
//! readers; one that falls behind is told how many events it missed and gets a fresh snapshot.

use crate::backend::TargetCommand;
use crate::host_codec::ServerCodec;
use crate::hub::Hub;
use asyncmon_protocol::host::{
    self, ClientRequest, ServerMessage, SessionState, HOST_PROTOCOL_VERSION, MAX_HOST_FRAME,
};
use futures::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::sync::Notify;
use tokio_util::codec::Framed;

/// The daemon's targets, by number.
pub type Hubs = Arc<Vec<Arc<Hub>>>;

/// How many messages may wait for one client before its forwarders wait (and then lag).
const CLIENT_QUEUE: usize = 256;

/// The most a snapshot may take of one message: the rest of [`MAX_HOST_FRAME`] is room for the
/// message around it.
const MAX_SNAPSHOT: usize = MAX_HOST_FRAME - 64 * 1024;

/// How many clients may be connected at once. With [`CLIENT_QUEUE`] messages each and frames of at
/// most [`MAX_HOST_FRAME`] bytes, this bounds what all connections together may hold.
pub const MAX_CLIENTS: usize = 256;

/// How long a new connection has to say `Hello` before it loses its seat: connections that say
/// nothing cannot hold every seat and keep `asyncmon stop` out.
pub const HELLO_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a new connection waits for a seat when every seat is taken: one that a connection
/// just closed, or one that a connection yet to say Hello gives up for it.
const SEAT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// What the server allows its clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How many clients at once; one more is refused in words.
    pub max_clients: usize,
    /// How long a connection has to say `Hello`.
    pub hello_within: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_clients: MAX_CLIENTS, hello_within: HELLO_WITHIN }
    }
}

/// Accepts clients until the listener fails; each client is served on its own task.
pub async fn serve(listener: UnixListener, hubs: Hubs) {
    serve_limited(listener, hubs, Limits::default()).await
}

/// Like [`serve`], within `limits`.
///
/// When every seat is taken, a new connection takes the seat of the oldest connection that has not
/// said Hello yet (which is told so), and waits [`SEAT_WAIT`] for one a closing connection gives
/// back; only then is it refused. So `asyncmon stop` gets in as long as any seat is held by a
/// connection that has said nothing.
pub async fn serve_limited(listener: UnixListener, hubs: Hubs, limits: Limits) {
    let Limits { max_clients, hello_within } = limits;
    let seats = Arc::new(tokio::sync::Semaphore::new(max_clients));
    let unwelcomed = Arc::new(Unwelcomed::default());
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Seats and places are given out here, in the order connections arrive, so "the
                // oldest connection yet to say Hello" is the one that came first.
                let seat = seats.clone().try_acquire_owned().ok();
                let place = match seat {
                    Some(_) => Some(unwelcomed.enter()),
                    None => {
                        unwelcomed.evict_oldest();
                        None
                    }
                };
                let hubs = hubs.clone();
                let (seats, unwelcomed) = (seats.clone(), unwelcomed.clone());
                tokio::spawn(async move {
                    let seat = match seat {
                        Some(seat) => Some(seat),
                        None => tokio::time::timeout(SEAT_WAIT, seats.acquire_owned())
                            .await
                            .ok()
                            .and_then(Result::ok),
                    };
                    let Some(_seat) = seat else {
                        let mut conn = Framed::new(stream, ServerCodec::default());
                        // Take the hello first, so that the client reads the refusal, not a
                        // broken pipe.
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), conn.next()).await;
                        let reason = format!(
                            "asyncmond serves at most {max_clients} clients at once: close one and connect again"
                        );
                        tracing::warn!("{reason}");
                        let _ = send(&mut conn, &ServerMessage::Refused { reason }).await;
                        return;
                    };
                    let place = place.unwrap_or_else(|| unwelcomed.enter());
                    if let Err(e) = serve_client(stream, hubs, hello_within, place).await {
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

/// The connections that have not said Hello yet, oldest first, each with the bell that tells it to
/// give its seat up.
#[derive(Default)]
struct Unwelcomed {
    waiting: Mutex<VecDeque<(u64, Arc<Notify>)>>,
    next: std::sync::atomic::AtomicU64,
}

impl Unwelcomed {
    fn waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, Arc<Notify>)>> {
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Enters a new connection, the newest; it leaves when the returned place is dropped.
    fn enter(self: &Arc<Self>) -> UnwelcomedGuard {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bell = Arc::new(Notify::new());
        self.waiting().push_back((id, bell.clone()));
        UnwelcomedGuard { list: self.clone(), id, bell }
    }

    /// Tells the oldest connection yet to say Hello to give its seat up.
    fn evict_oldest(&self) {
        if let Some((_, bell)) = self.waiting().pop_front() {
            bell.notify_one();
        }
    }
}

/// A connection's place in [`Unwelcomed`] until it says Hello or ends.
struct UnwelcomedGuard {
    list: Arc<Unwelcomed>,
    id: u64,
    /// Rings when the connection is to give its seat up.
    bell: Arc<Notify>,
}

impl Drop for UnwelcomedGuard {
    fn drop(&mut self) {
        self.list.waiting().retain(|(id, _)| *id != self.id);
    }
}

type Conn = Framed<UnixStream, ServerCodec>;

async fn send(conn: &mut Conn, msg: &ServerMessage) -> anyhow::Result<()> {
    conn.send(bytes::Bytes::from(host::encode(msg)?)).await?;
    Ok(())
}

/// Forwards target `index`'s snapshot and events into `queue`; `tagged` wraps them for
/// `SubscribeAll`. Ends when the client's queue closes.
fn forward(hub: Arc<Hub>, index: u32, tagged: bool, queue: mpsc::Sender<ServerMessage>) {
    tokio::spawn(async move {
        let snapshot_message = |mut state: SessionState| {
            if let Err(e) = state.fit_within(MAX_SNAPSHOT) {
                tracing::error!("a snapshot for a client: {e}");
            }
            if let Some(trimmed) = &state.trimmed {
                tracing::warn!("{trimmed}");
            }
            if tagged {
                ServerMessage::TargetSnapshot { target: index, snapshot: Box::new(state) }
            } else {
                ServerMessage::Snapshot(Box::new(state))
            }
        };
        let (state, mut events) = hub.subscribe();
        if queue.send(snapshot_message(state)).await.is_err() {
            return;
        }
        loop {
            let message = match events.recv().await {
                Ok(event) if tagged => ServerMessage::TargetEvent { target: index, event },
                Ok(event) => ServerMessage::Event(event),
                Err(RecvError::Lagged(missed)) => {
                    // Too slow: say how much was lost, then start again from a fresh snapshot.
                    if queue.send(ServerMessage::Missed { events: missed }).await.is_err() {
                        return;
                    }
                    let (state, rx) = hub.subscribe();
                    events = rx;
                    snapshot_message(state)
                }
                Err(RecvError::Closed) => return,
            };
            if queue.send(message).await.is_err() {
                return;
            }
        }
    });
}

fn target(hubs: &Hubs, index: u32) -> Result<Arc<Hub>, String> {
    hubs.get(index as usize)
        .cloned()
        .ok_or_else(|| format!("this asyncmond has {} target(s); there is no target {index}", hubs.len()))
}

async fn serve_client(
    stream: UnixStream,
    hubs: Hubs,
    hello_within: std::time::Duration,
    place: UnwelcomedGuard,
) -> anyhow::Result<()> {
    let mut conn = Framed::new(stream, ServerCodec::default());
    // Its place among the connections yet to say Hello, and the bell that asks for its seat.
    let evicted = place.bell.clone();
    let mut place = Some(place);
    let (queue, mut outgoing) = mpsc::channel::<ServerMessage>(CLIENT_QUEUE);
    let mut greeted = false;
    let mut subscribed = false;
    let hello_deadline = tokio::time::Instant::now() + hello_within;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(hello_deadline), if !greeted => {
                let reason = format!("no Hello within {hello_within:?}: the connection is closed, its seat given back");
                let _ = send(&mut conn, &ServerMessage::Refused { reason: reason.clone() }).await;
                anyhow::bail!(reason);
            }
            () = evicted.notified(), if !greeted => {
                let reason = "every seat is taken and this connection had not said Hello: its seat went to a newer one".to_string();
                let _ = send(&mut conn, &ServerMessage::Refused { reason: reason.clone() }).await;
                anyhow::bail!(reason);
            }
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
                let refusal = match request {
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
                        drop(place.take());
                        let targets = hubs.iter().map(|h| h.target()).collect::<Vec<_>>();
                        let welcome = ServerMessage::Welcome { version: HOST_PROTOCOL_VERSION, target: targets[0].clone(), targets };
                        send(&mut conn, &welcome).await?;
                        None
                    }
                    _ if !greeted => {
                        let reason = "say Hello first".to_string();
                        send(&mut conn, &ServerMessage::Refused { reason: reason.clone() }).await?;
                        anyhow::bail!(reason);
                    }
                    ClientRequest::Subscribe | ClientRequest::SubscribeTarget { .. } | ClientRequest::SubscribeAll
                        if subscribed =>
                    {
                        Some("already subscribed on this connection".to_string())
                    }
                    ClientRequest::Subscribe => {
                        subscribed = true;
                        forward(hubs[0].clone(), 0, false, queue.clone());
                        None
                    }
                    ClientRequest::SubscribeTarget { target: index } => match target(&hubs, index) {
                        Ok(hub) => {
                            subscribed = true;
                            forward(hub, index, false, queue.clone());
                            None
                        }
                        Err(reason) => Some(reason),
                    },
                    ClientRequest::SubscribeAll => {
                        subscribed = true;
                        for (index, hub) in hubs.iter().enumerate() {
                            forward(hub.clone(), index as u32, true, queue.clone());
                        }
                        None
                    }
                    ClientRequest::Stop => stop(&hubs, 0, false, &mut conn).await?,
                    ClientRequest::HardStop => stop(&hubs, 0, true, &mut conn).await?,
                    ClientRequest::StopTarget { target, hard } => stop(&hubs, target, hard, &mut conn).await?,
                    ClientRequest::Reset => hubs[0].send(TargetCommand::Reset).err(),
                    ClientRequest::ResetTarget { target: index } => {
                        target(&hubs, index).and_then(|hub| hub.send(TargetCommand::Reset)).err()
                    }
                    ClientRequest::RefreshTraces { target: index } => {
                        target(&hubs, index).and_then(|hub| hub.send(TargetCommand::RefreshTraces)).err()
                    }
                };
                if let Some(reason) = refusal {
                    send(&mut conn, &ServerMessage::Refused { reason }).await?;
                }
            }
            Some(message) = outgoing.recv() => send(&mut conn, &message).await?,
        }
    }
}

/// Sends a stop request to target `index`; answers `StopSent`, or returns the refusal.
async fn stop(hubs: &Hubs, index: u32, hard: bool, conn: &mut Conn) -> anyhow::Result<Option<String>> {
    match target(hubs, index).and_then(|hub| hub.request_stop(hard)) {
        Ok(request_id) => {
            send(conn, &ServerMessage::StopSent { request_id }).await?;
            Ok(None)
        }
        Err(reason) => Ok(Some(reason)),
    }
}
