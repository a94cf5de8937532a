//! JSON mode: requests carry ids and may overlap (up to [`MAX_IN_FLIGHT`] at once, answered as
//! they finish); a subscription pushes status events between the answers.

use super::{Session, SessionError, frame_error, not_authenticated};
use crate::dispatch::{self, Caller, Mode};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Interval, MissedTickBehavior};
use vigia_shared::codec::Frame;
use vigia_shared::proto::json::{self, ServerMessage};
use vigia_shared::proto::limits::{MAX_SUBSCRIBE_INTERVAL_MS, MIN_SUBSCRIBE_INTERVAL_MS};
use vigia_shared::proto::{Command, ErrorCode, Event, PROTOCOL_VERSION, Reply, WireError};

/// Requests of one connection being carried out at once, at most; past it the daemon stops
/// reading that connection until one finishes.
pub const MAX_IN_FLIGHT: usize = 32;

type InFlight = FuturesUnordered<BoxFuture<'static, (u64, Result<Reply, WireError>)>>;

/// What the loop does after a frame.
enum Next {
    Continue,
    /// The client said `quit` in request `id`: answer it once the requests in flight are done.
    Quit(u64),
}

impl<S: AsyncRead + AsyncWrite + Send + 'static> Session<S> {
    pub(super) async fn run_json(&mut self, first: Frame) -> Result<(), SessionError> {
        let mut inflight = InFlight::new();
        let mut sub: Option<Interval> = None;
        let mut frame = Some(first);
        let mut reading = true;
        let mut quit = None;
        loop {
            if let Some(f) = frame.take()
                && let Next::Quit(id) = self.json_frame(f, &mut inflight, &mut sub).await?
            {
                reading = false;
                quit = Some(id);
            }
            if !reading && inflight.is_empty() {
                if let Some(id) = quit {
                    self.write(json::render_response(Some(id), Ok(Reply::Bye)))
                        .await?;
                }
                return Ok(());
            }
            let busy = sub.is_some() || !inflight.is_empty();
            tokio::select! {
                Some((id, outcome)) = inflight.next(), if !inflight.is_empty() => {
                    self.write(json::render_response(Some(id), outcome)).await?;
                }
                _ = tick(&mut sub), if sub.is_some() => {
                    let sample = self.svc.sampler.latest().status.sample.clone();
                    let msg = ServerMessage::Event { event: Event::Status(sample) };
                    self.write(json::render(&msg)).await?;
                }
                r = self.next_frame(busy), if reading && inflight.len() < MAX_IN_FLIGHT => {
                    match r? {
                        Some(f) => frame = Some(f),
                        None => reading = false,
                    }
                }
            }
        }
    }

    async fn json_frame(
        &mut self,
        frame: Frame,
        inflight: &mut InFlight,
        sub: &mut Option<Interval>,
    ) -> Result<Next, SessionError> {
        let line = match frame {
            Frame::Line(l) => l,
            other => {
                let e = frame_error(&other).unwrap_or_else(not_authenticated);
                self.write(json::render_response(None, Err(e))).await?;
                return Ok(Next::Continue);
            }
        };
        if line.trim().is_empty() {
            return Ok(Next::Continue);
        }
        let req = match json::parse_request(&line) {
            Ok(r) => r,
            Err((id, e)) => {
                self.write(json::render_response(id, Err(e))).await?;
                return Ok(Next::Continue);
            }
        };
        let id = req.id;
        let outcome = match req.command {
            Command::Hello { version } => hello(version),
            Command::Login { user, password } => self.login(&user, &password, Mode::Json).await,
            Command::Quit => return Ok(Next::Quit(id)),
            cmd => match self.principal.clone() {
                None => Err(not_authenticated()),
                Some(principal) => match cmd {
                    Command::Subscribe { interval_ms } => dispatch::authorize(principal.role, &cmd)
                        .and_then(|()| self.subscribe(interval_ms, sub)),
                    Command::Unsubscribe => {
                        *sub = None;
                        Ok(Reply::Unsubscribed)
                    }
                    cmd => {
                        let (svc, peer) = (self.svc.clone(), self.peer);
                        inflight.push(Box::pin(async move {
                            let caller = Caller {
                                principal: &principal,
                                peer,
                                mode: Mode::Json,
                            };
                            (id, dispatch::handle(cmd, &caller, &svc).await)
                        }));
                        return Ok(Next::Continue);
                    }
                },
            },
        };
        self.write(json::render_response(Some(id), outcome)).await?;
        Ok(Next::Continue)
    }

    fn subscribe(&self, interval_ms: u64, sub: &mut Option<Interval>) -> Result<Reply, WireError> {
        if !(MIN_SUBSCRIBE_INTERVAL_MS..=MAX_SUBSCRIBE_INTERVAL_MS).contains(&interval_ms) {
            return Err(WireError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "subscription interval '{interval_ms}' ms is out of range: \
                     {MIN_SUBSCRIBE_INTERVAL_MS} to {MAX_SUBSCRIBE_INTERVAL_MS}"
                ),
            ));
        }
        let period = Duration::from_millis(interval_ms);
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        *sub = Some(interval);
        Ok(Reply::Subscribed {
            interval_ms,
            history: self.svc.sampler.history(),
        })
    }
}

fn hello(version: u32) -> Result<Reply, WireError> {
    if version != PROTOCOL_VERSION {
        return Err(WireError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "protocol version '{version}' is not supported: this daemon speaks {PROTOCOL_VERSION}"
            ),
        ));
    }
    Ok(Reply::Hello {
        version: PROTOCOL_VERSION,
        server: concat!("vigiad ", env!("CARGO_PKG_VERSION")).into(),
    })
}

async fn tick(sub: &mut Option<Interval>) {
    match sub {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
