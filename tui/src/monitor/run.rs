//! The monitor's loop: wait for one thing (a key, a message from the daemon, the once-a-second
//! tick), fold it into the state, draw once. Messages that are already waiting are folded in before
//! the draw, so a burst costs one frame; the tick draws only when a clock-driven column is shown.

use super::input::{self, Action};
use super::state::{MonitorState, StopRequest};
use super::view;
use asyncmon_daemon::client::Client;
use asyncmon_protocol::host::{ClientRequest, SessionState};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{FutureExt, StreamExt};
use ratatui::DefaultTerminal;
use std::time::Instant;

/// Subscribes with `client` to target number `target` and runs the monitor in the terminal until
/// the user quits.
pub async fn run_monitor(mut client: Client, socket: String, target: u32) -> anyhow::Result<SessionState> {
    let Some(description) = client.targets.get(target as usize).cloned() else {
        anyhow::bail!("asyncmond has {} target(s); there is no target {target}", client.targets.len());
    };
    client.target = description;
    client.request(&ClientRequest::SubscribeTarget { target }).await?;
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, client, socket, target).await;
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut client: Client,
    socket: String,
    target: u32,
) -> anyhow::Result<SessionState> {
    let mut state = MonitorState::new(client.target.clone(), socket);
    let mut keys = EventStream::new();
    let started = Instant::now();
    let mut connected = true;
    terminal.draw(|f| view::render(f, &state))?;
    // Idle times and the ageing of finished tasks follow the clock: one tick a second, drawn only
    // when something on screen depends on it.
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now_ms = || started.elapsed().as_millis() as u64;
        tokio::select! {
            _ = tick.tick() => {
                if !state.on_tick(now_ms()) {
                    continue;
                }
            }
            msg = client.recv(), if connected => {
                let mut next = Some(msg);
                while let Some(msg) = next.take() {
                    match msg {
                        Ok(Some(msg)) => state.on_message(msg, now_ms()),
                        Ok(None) => {
                            state.on_disconnect("asyncmond closed the connection".into());
                            connected = false;
                        }
                        Err(e) => {
                            state.on_disconnect(e.to_string());
                            connected = false;
                        }
                    }
                    if connected {
                        next = client.recv().now_or_never();
                    }
                }
            }
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    let Some(action) = input::action(key, state.filtering()) else { continue };
                    if action == Action::Quit {
                        return Ok(state.session);
                    }
                    if let (Some(stop), true) = (state.on_action(action), connected) {
                        let hard = stop == StopRequest::Hard;
                        client.request(&ClientRequest::StopTarget { target, hard }).await?;
                    }
                }
                Some(Ok(Event::Resize(..))) => {}
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(state.session),
            },
        }
        terminal.draw(|f| view::render(f, &state))?;
    }
}
