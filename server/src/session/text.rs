//! Text mode: one command a line, one reply (of one or more lines) per command, in order.

use super::{Session, SessionError, frame_error, not_authenticated};
use crate::dispatch::{self, Caller, Mode};
use tokio::io::{AsyncRead, AsyncWrite};
use vigia_shared::codec::Frame;
use vigia_shared::proto::{Command, Reply, WireError, text};

impl<S: AsyncRead + AsyncWrite + Send + 'static> Session<S> {
    pub(super) async fn run_text(&mut self, first: Frame) -> Result<(), SessionError> {
        let mut frame = first;
        loop {
            let (reply, quit) = self.text_reply(frame).await;
            self.write(reply).await?;
            if quit {
                return Ok(());
            }
            frame = match self.next_frame(false).await? {
                Some(f) => f,
                None => return Ok(()),
            };
        }
    }

    /// The reply lines for one frame, and whether the session ends after them.
    async fn text_reply(&mut self, frame: Frame) -> (String, bool) {
        let line = match frame {
            Frame::Line(l) => l,
            other => {
                let e = frame_error(&other).unwrap_or_else(not_authenticated);
                return (text::render_error(&e), false);
            }
        };
        let parsed = text::parse(&line);
        let outcome: Result<Reply, WireError> = match (parsed, &self.principal) {
            (Ok(Command::Quit), _) => return (text::render(&Reply::Bye), true),
            (Ok(Command::Login { user, password }), _) => {
                self.login(&user, &password, Mode::Text).await
            }
            // Before login, nothing else is even parsed for the client's benefit.
            (Err(_), None) if !line_is_login(&line) => Err(not_authenticated()),
            (Ok(_), None) => Err(not_authenticated()),
            (Err(e), _) => Err(WireError::from(&e)),
            (Ok(cmd), Some(principal)) => {
                let caller = Caller {
                    principal,
                    peer: self.peer,
                    mode: Mode::Text,
                };
                dispatch::handle(cmd, &caller, &self.svc).await
            }
        };
        match outcome {
            Ok(reply) => (text::render(&reply), false),
            Err(e) => (text::render_error(&e), false),
        }
    }
}

fn line_is_login(line: &str) -> bool {
    line.trim_start()
        .get(..5)
        .is_some_and(|k| k.eq_ignore_ascii_case("login"))
}
