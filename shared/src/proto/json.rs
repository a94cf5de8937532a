//! JSON mode: newline-delimited JSON objects, for programs.
//!
//! A request is `{"id": 1, "cmd": "list", ...fields}`; the answer carries the same id and either
//! `"result"` or `"error"`. The daemon also pushes `{"event": {...}}` lines to subscribers.
//! The first request of a session should be `{"id":0,"cmd":"hello","version":1}`.

use super::limits::MAX_JSON_DEPTH;
use super::{Command, ErrorCode, Event, Reply, WireError};
use serde::{Deserialize, Serialize};

/// A client's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client; echoed in the response so that requests can overlap.
    pub id: u64,
    #[serde(flatten)]
    pub command: Command,
}

/// A response's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Result(Reply),
    Error(WireError),
}

/// Anything the daemon sends in JSON mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerMessage {
    /// The answer to request `id` (`null` when the request could not be read at all).
    Response {
        id: Option<u64>,
        #[serde(flatten)]
        outcome: Outcome,
    },
    /// A pushed event.
    Event { event: Event },
}

/// Parses one request line, bounding its nesting depth first.
///
/// On failure returns the request id when it could be read, so the error can be matched.
pub fn parse_request(line: &str) -> Result<Request, (Option<u64>, WireError)> {
    if let Err(depth) = check_depth(line) {
        return Err((
            None,
            WireError::new(
                ErrorCode::LimitExceeded,
                format!("JSON nested too deeply (more than {MAX_JSON_DEPTH} levels, saw {depth})"),
            ),
        ));
    }
    match serde_json::from_str::<Request>(line) {
        Ok(r) => Ok(r),
        Err(e) => {
            let id = serde_json::from_str::<IdOnly>(line).ok().and_then(|i| i.id);
            let code = if line_names_unknown_cmd(line) {
                ErrorCode::UnknownCommand
            } else {
                ErrorCode::BadRequest
            };
            Err((id, WireError::new(code, format!("invalid request: {e}"))))
        }
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<u64>,
}

fn line_names_unknown_cmd(line: &str) -> bool {
    #[derive(Deserialize)]
    struct CmdOnly {
        cmd: String,
    }
    const KNOWN: &[&str] = &[
        "hello",
        "login",
        "list",
        "start",
        "stop",
        "status",
        "process",
        "output",
        "subscribe",
        "unsubscribe",
        "quit",
    ];
    serde_json::from_str::<CmdOnly>(line).is_ok_and(|c| !KNOWN.contains(&c.cmd.as_str()))
}

/// Fails with the depth reached when `text` nests objects or arrays deeper than the limit.
fn check_depth(text: &str) -> Result<(), usize> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(depth);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Renders a response line (with its `\n`).
pub fn render_response(id: Option<u64>, outcome: Result<Reply, WireError>) -> String {
    let outcome = match outcome {
        Ok(r) => Outcome::Result(r),
        Err(e) => Outcome::Error(e),
    };
    render(&ServerMessage::Response { id, outcome })
}

/// Renders any server message as one line (with its `\n`).
pub fn render(msg: &ServerMessage) -> String {
    let mut s = serde_json::to_string(msg).unwrap_or_else(|e| {
        format!(
            r#"{{"id":null,"error":{{"code":"internal","message":"cannot encode reply: {e}"}}}}"#
        )
    });
    s.push('\n');
    s
}

/// Renders a request line (with its `\n`).
pub fn render_request(req: &Request) -> String {
    let mut s = serde_json::to_string(req).unwrap_or_default();
    s.push('\n');
    s
}

/// Parses a line the daemon sent.
pub fn parse_server_message(line: &str) -> Result<ServerMessage, serde_json::Error> {
    serde_json::from_str(line)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::proto::{ListQuery, Pid, SortKey, StopRequest};
    use pretty_assertions::assert_eq;

    #[test]
    fn requests_are_flat_objects() {
        let r =
            parse_request(r#"{"id":3,"cmd":"list","sort":"cpu","desc":true,"limit":5}"#).unwrap();
        assert_eq!(r.id, 3);
        assert_eq!(
            r.command,
            Command::List(ListQuery {
                sort: SortKey::Cpu,
                desc: true,
                filter: None,
                limit: Some(5)
            })
        );
        let r = parse_request(r#"{"id":4,"cmd":"stop","pid":77}"#).unwrap();
        assert_eq!(
            r.command,
            Command::Stop(StopRequest {
                pid: Pid(77),
                signal: crate::proto::Signal::Term,
                grace_ms: None
            })
        );
        assert_eq!(
            parse_request(r#"{"id":5,"cmd":"status"}"#).unwrap().command,
            Command::Status
        );
    }

    #[test]
    fn bad_requests_keep_their_id() {
        let (id, e) = parse_request(r#"{"id":9,"cmd":"stop","pid":-1}"#).unwrap_err();
        assert_eq!(id, Some(9));
        assert_eq!(e.code, ErrorCode::BadRequest);
        let (id, e) = parse_request(r#"{"id":10,"cmd":"dance"}"#).unwrap_err();
        assert_eq!(id, Some(10));
        assert_eq!(e.code, ErrorCode::UnknownCommand);
    }

    #[test]
    fn deep_json_is_refused() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let (_, e) = parse_request(&deep).unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        // Brackets inside strings do not count.
        let ok = format!(
            r#"{{"id":1,"cmd":"login","user":"{}","password":"x"}}"#,
            "[".repeat(40)
        );
        assert!(parse_request(&ok).is_ok());
    }

    #[test]
    fn responses_round_trip() {
        let line = render_response(Some(2), Ok(Reply::Started { pid: Pid(10) }));
        assert_eq!(
            line,
            "{\"id\":2,\"result\":{\"type\":\"started\",\"pid\":10}}\n"
        );
        assert_eq!(
            parse_server_message(line.trim_end()).unwrap(),
            ServerMessage::Response {
                id: Some(2),
                outcome: Outcome::Result(Reply::Started { pid: Pid(10) })
            }
        );
        let line = render_response(None, Err(WireError::new(ErrorCode::NotUtf8, "x")));
        assert_eq!(
            line,
            "{\"id\":null,\"error\":{\"code\":\"not_utf8\",\"message\":\"x\"}}\n"
        );
    }
}
