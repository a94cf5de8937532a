//! One client connection after its TLS handshake: the wire mode is sniffed from the first line
//! (`{` starts JSON mode, anything else is the text protocol), then a mode-specific loop reads
//! bounded frames, runs commands through the dispatcher and writes replies, each phase under
//! its own timeout.

mod json;
mod text;

use crate::auth::Principal;
use crate::dispatch::Mode;
use crate::services::Services;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use vigia_shared::codec::{Frame, LineCodec};
use vigia_shared::proto::limits::MAX_LINE;
use vigia_shared::proto::{ErrorCode, Reply, WireError};

/// Why a session ended early.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("timed out {0}")]
    Timeout(&'static str),
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
}

type Reader<S> = FramedRead<ReadHalf<S>, LineCodec>;
type Writer<S> = FramedWrite<WriteHalf<S>, LineCodec>;

/// State shared by both modes.
pub(crate) struct Session<S> {
    svc: Services,
    peer: SocketAddr,
    principal: Option<Principal>,
    reader: Reader<S>,
    writer: Writer<S>,
    shutdown: CancellationToken,
}

/// Serves one connection until the client quits, goes idle too long, or the daemon stops.
#[tracing::instrument(name = "session", skip_all, fields(peer = %peer))]
pub async fn serve<S>(stream: S, peer: SocketAddr, svc: Services, shutdown: CancellationToken)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let mut session = Session {
        svc,
        peer,
        principal: None,
        reader: FramedRead::new(read, LineCodec::new(MAX_LINE)),
        writer: FramedWrite::new(write, LineCodec::new(MAX_LINE)),
        shutdown,
    };
    let first = match session.next_frame(false).await {
        Ok(Some(f)) => f,
        Ok(None) => return,
        Err(e) => {
            tracing::debug!(error = %e, "closing before the first line");
            session.say_goodbye_on_timeout(&e).await;
            return;
        }
    };
    let json = matches!(&first, Frame::Line(l) if l.starts_with('{'));
    let open =
        session
            .svc
            .metrics
            .sessions
            .with_label_values(&[if json { "json" } else { "text" }]);
    open.inc();
    let result = if json {
        session.run_json(first).await
    } else {
        session.run_text(first).await
    };
    match result {
        Ok(()) => tracing::debug!("session ended"),
        Err(e) => {
            tracing::debug!(error = %e, "session closed");
            session.say_goodbye_on_timeout(&e).await;
        }
    }
    open.dec();
    let _ = SinkExt::<String>::close(&mut session.writer).await;
}

impl<S: AsyncRead + AsyncWrite + Send + 'static> Session<S> {
    fn read_timeout(&self, busy: bool) -> Option<Duration> {
        match (&self.principal, busy) {
            (None, _) => Some(self.svc.config.login_timeout),
            (Some(_), true) => None,
            (Some(_), false) => Some(self.svc.config.idle_timeout),
        }
    }

    /// The next frame, `None` at end of stream or on shutdown. `busy` (a live subscription)
    /// lifts the idle limit of an authenticated session.
    async fn next_frame(&mut self, busy: bool) -> Result<Option<Frame>, SessionError> {
        let limit = self.read_timeout(busy);
        let read = async {
            match limit {
                Some(d) => tokio::time::timeout(d, self.reader.next())
                    .await
                    .map_err(|_| SessionError::Timeout("waiting for a command")),
                None => Ok(self.reader.next().await),
            }
        };
        tokio::select! {
            _ = self.shutdown.cancelled() => Ok(None),
            r = read => match r? {
                None => Ok(None),
                Some(Ok(f)) => Ok(Some(f)),
                Some(Err(e)) => Err(e.into()),
            },
        }
    }

    async fn write(&mut self, text: String) -> Result<(), SessionError> {
        tokio::time::timeout(self.svc.config.write_timeout, self.writer.send(text))
            .await
            .map_err(|_| SessionError::Timeout("writing a reply"))??;
        Ok(())
    }

    async fn say_goodbye_on_timeout(&mut self, e: &SessionError) {
        if let SessionError::Timeout("waiting for a command") = e {
            let line = if self.principal.is_some() {
                "ERR idle for too long, closing\n"
            } else {
                "ERR not logged in in time, closing\n"
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), self.writer.send(line)).await;
        }
    }

    /// Checks a password and, on success, makes the session that user's.
    async fn login(&mut self, user: &str, password: &str, mode: Mode) -> Result<Reply, WireError> {
        let p = self.svc.login(user, password, self.peer, mode).await?;
        let reply = Reply::LoggedIn {
            user: p.user.clone(),
            role: p.role,
        };
        self.principal = Some(p);
        Ok(reply)
    }
}

fn frame_error(frame: &Frame) -> Option<WireError> {
    match frame {
        Frame::Line(_) => None,
        Frame::TooLong => Some(WireError::new(
            ErrorCode::TooLong,
            format!("line too long (at most {MAX_LINE} bytes)"),
        )),
        Frame::NotUtf8 => Some(WireError::new(
            ErrorCode::NotUtf8,
            "line is not valid UTF-8",
        )),
    }
}

fn not_authenticated() -> WireError {
    WireError::new(ErrorCode::NotAuthenticated, "not authenticated")
}
