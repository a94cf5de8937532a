//! The async client library: connect over TLS, verify the server, log in, make typed requests
//! (several may be in flight at once) and receive the pushed status stream.
//!
//! One background task per connection reads the daemon's lines and routes each response to the
//! request that awaits it by id; events go to a bounded channel that drops the oldest pressure
//! (a slow consumer misses samples rather than stalling the connection).

mod error;

pub use crate::tls::Trust;
pub use error::ClientError;

use crate::codec::{Frame, LineCodec};
use crate::proto::json::{self, Outcome, Request, ServerMessage};
use crate::proto::{
    AuditEvent, AuditQuery, Command, Event, ListQuery, PROTOCOL_VERSION, Pid, ProcessInfo, Reply,
    Role, Signal, StartRequest, StatusSample, StopRequest, SystemStatus, WireError,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::codec::{FramedRead, FramedWrite};

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Reply, WireError>>>>>;
type Writer = FramedWrite<WriteHalf<TlsStream<TcpStream>>, LineCodec>;

/// Time limits of a connection's phases.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// Waiting for one response.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(90),
        }
    }
}

/// Longest line accepted from a daemon, bytes: a full process list or an hour of history is far
/// longer than a request may be.
const MAX_SERVER_LINE: usize = 64 * 1024 * 1024;

/// Events pushed by the daemon that the consumer has not taken yet, at most.
const EVENT_BUFFER: usize = 256;

/// A JSON-mode session with one daemon.
pub struct Client {
    writer: tokio::sync::Mutex<Writer>,
    pending: Pending,
    events: Mutex<Option<mpsc::Receiver<Event>>>,
    next_id: AtomicU64,
    fingerprint: String,
    server: String,
    timeouts: Timeouts,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Client {
    /// Connects to `addr` (`host:port`), checks its certificate against `trust` for
    /// `server_name`, and performs the version handshake.
    pub async fn connect(
        addr: &str,
        server_name: &str,
        trust: &Trust,
    ) -> Result<Self, ClientError> {
        Self::connect_with(addr, server_name, trust, Timeouts::default()).await
    }

    /// [`Client::connect`] with explicit time limits.
    pub async fn connect_with(
        addr: &str,
        server_name: &str,
        trust: &Trust,
        timeouts: Timeouts,
    ) -> Result<Self, ClientError> {
        let (config, seen) = crate::tls::client_config(trust)?;
        let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())
            .map_err(|_| ClientError::BadServerName(server_name.to_owned()))?;
        let connect = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(ClientError::Connect)?;
            let _ = tcp.set_nodelay(true);
            TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| tls_failure(e, trust, &seen))
        };
        let tls = tokio::time::timeout(timeouts.connect, connect)
            .await
            .map_err(|_| ClientError::Timeout("connecting"))??;
        let fingerprint = seen
            .lock()
            .ok()
            .and_then(|s| s.fingerprint.clone())
            .unwrap_or_default();

        let (read, write) = tokio::io::split(tls);
        let pending: Pending = Arc::default();
        let (event_tx, event_rx) = mpsc::channel(EVENT_BUFFER);
        let reader = tokio::spawn(read_loop(
            FramedRead::new(read, LineCodec::new(MAX_SERVER_LINE)),
            pending.clone(),
            event_tx,
        ));
        let mut client = Self {
            writer: tokio::sync::Mutex::new(FramedWrite::new(write, LineCodec::default())),
            pending,
            events: Mutex::new(Some(event_rx)),
            next_id: AtomicU64::new(0),
            fingerprint,
            server: String::new(),
            timeouts,
            reader,
        };
        match client
            .request(Command::Hello {
                version: PROTOCOL_VERSION,
            })
            .await?
        {
            Reply::Hello { server, .. } => client.server = server,
            other => return Err(unexpected(&other)),
        }
        Ok(client)
    }

    /// SHA-256 fingerprint of the certificate the server presented.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The server's name and version, from the handshake.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.reader.is_finished()
    }

    /// Sends one command and waits for its answer; other requests may be in flight meanwhile.
    pub async fn request(&self, command: Command) -> Result<Reply, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .map_err(|_| ClientError::Closed)?
            .insert(id, tx);
        let line = json::render_request(&Request { id, command });
        let sent = {
            let mut w = self.writer.lock().await;
            w.send(line).await
        };
        if let Err(e) = sent {
            self.forget(id);
            return Err(ClientError::Io(e));
        }
        match tokio::time::timeout(self.timeouts.request, rx).await {
            Err(_) => {
                self.forget(id);
                Err(ClientError::Timeout("waiting for a response"))
            }
            Ok(Err(_)) => Err(ClientError::Closed),
            Ok(Ok(Err(e))) => Err(ClientError::Server(e)),
            Ok(Ok(Ok(reply))) => Ok(reply),
        }
    }

    fn forget(&self, id: u64) {
        if let Ok(mut p) = self.pending.lock() {
            p.remove(&id);
        }
    }

    /// Logs in; returns the role the daemon granted.
    pub async fn login(&self, user: &str, password: &str) -> Result<Role, ClientError> {
        match self
            .request(Command::Login {
                user: user.to_owned(),
                password: password.to_owned(),
            })
            .await?
        {
            Reply::LoggedIn { role, .. } => Ok(role),
            other => Err(unexpected(&other)),
        }
    }

    /// Lists processes; returns the number that matched before the limit, and the rows.
    pub async fn list(&self, query: ListQuery) -> Result<(u32, Vec<ProcessInfo>), ClientError> {
        match self.request(Command::List(query)).await? {
            Reply::Processes { total, processes } => Ok((total, processes)),
            other => Err(unexpected(&other)),
        }
    }

    /// Starts `argv` (no shell) and returns the new pid.
    pub async fn start(&self, argv: Vec<String>, cwd: Option<String>) -> Result<Pid, ClientError> {
        match self
            .request(Command::Start(StartRequest { argv, cwd }))
            .await?
        {
            Reply::Started { pid } => Ok(pid),
            other => Err(unexpected(&other)),
        }
    }

    /// Stops `pid` with `signal`, escalating to KILL after `grace`; returns whether it was killed.
    pub async fn stop(
        &self,
        pid: Pid,
        signal: Signal,
        grace: Option<Duration>,
    ) -> Result<bool, ClientError> {
        let req = StopRequest {
            pid,
            signal,
            grace_ms: grace.map(|g| g.as_millis().try_into().unwrap_or(u64::MAX)),
        };
        match self.request(Command::Stop(req)).await? {
            Reply::Stopped { killed, .. } => Ok(killed),
            other => Err(unexpected(&other)),
        }
    }

    /// Audit events, newest first (admins only).
    pub async fn audit(&self, query: AuditQuery) -> Result<Vec<AuditEvent>, ClientError> {
        match self.request(Command::Audit(query)).await? {
            Reply::Audit { events } => Ok(events),
            other => Err(unexpected(&other)),
        }
    }

    /// The system's current status.
    pub async fn status(&self) -> Result<SystemStatus, ClientError> {
        match self.request(Command::Status).await? {
            Reply::Status(s) => Ok(s),
            other => Err(unexpected(&other)),
        }
    }

    /// Subscribes to the status stream; returns the recent history, oldest first. Samples then
    /// arrive on [`Client::take_events`].
    pub async fn subscribe(&self, interval: Duration) -> Result<Vec<StatusSample>, ClientError> {
        let interval_ms = interval.as_millis().try_into().unwrap_or(u64::MAX);
        match self.request(Command::Subscribe { interval_ms }).await? {
            Reply::Subscribed { history, .. } => Ok(history),
            other => Err(unexpected(&other)),
        }
    }

    /// The receiver of pushed events; `None` after the first call.
    pub fn take_events(&self) -> Option<mpsc::Receiver<Event>> {
        self.events.lock().ok().and_then(|mut e| e.take())
    }

    /// Says goodbye and closes the connection.
    pub async fn quit(self) -> Result<(), ClientError> {
        match self.request(Command::Quit).await {
            Ok(_) | Err(ClientError::Closed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn unexpected(reply: &Reply) -> ClientError {
    ClientError::Protocol(format!("unexpected reply {reply:?}"))
}

fn tls_failure(
    e: std::io::Error,
    trust: &Trust,
    seen: &Mutex<crate::tls::SeenCert>,
) -> ClientError {
    let cert_refused = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
    let fingerprint = seen.lock().ok().and_then(|s| s.fingerprint.clone());
    match (cert_refused, fingerprint) {
        (true, Some(fingerprint)) => ClientError::Untrusted {
            fingerprint,
            pinned: trust.pinned.clone(),
        },
        _ => ClientError::Tls(e),
    }
}

async fn read_loop(
    mut lines: FramedRead<ReadHalf<TlsStream<TcpStream>>, LineCodec>,
    pending: Pending,
    events: mpsc::Sender<Event>,
) {
    while let Some(Ok(frame)) = lines.next().await {
        let Frame::Line(line) = frame else {
            tracing::warn!("server sent an unreadable line");
            continue;
        };
        match json::parse_server_message(&line) {
            Ok(ServerMessage::Response {
                id: Some(id),
                outcome,
            }) => {
                let waiter = pending.lock().ok().and_then(|mut p| p.remove(&id));
                if let Some(tx) = waiter {
                    let _ = tx.send(match outcome {
                        Outcome::Result(r) => Ok(r),
                        Outcome::Error(e) => Err(e),
                    });
                }
            }
            Ok(ServerMessage::Response { id: None, outcome }) => {
                tracing::warn!(?outcome, "server answered a request it could not read");
            }
            Ok(ServerMessage::Event { event }) => {
                // A consumer that does not keep up misses samples instead of stalling replies.
                let _ = events.try_send(event);
            }
            Err(e) => tracing::warn!(error = %e, "server sent an invalid message"),
        }
    }
    // Dropping the senders wakes every waiter with `Closed`.
    if let Ok(mut p) = pending.lock() {
        p.clear();
    }
}
