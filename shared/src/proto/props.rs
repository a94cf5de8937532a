//! Property tests of the parsers and codecs: whatever bytes arrive, nothing panics, nothing is
//! accepted past its bounds, and what is rendered parses back to the same thing.

use super::json::{self, Request};
use super::limits::{MAX_LINE, MAX_PASSWORD, MAX_USER};
use super::text;
use super::{Command, ListQuery, Pid, ProcessInfo, Reply, Signal, StartRequest, StopRequest};
use crate::codec::{Frame, LineCodec};
use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

fn command() -> impl Strategy<Value = Command> {
    let word = "[ -~]{1,20}";
    prop_oneof![
        Just(Command::Status),
        Just(Command::Quit),
        (
            any::<u32>(),
            any::<bool>(),
            proptest::option::of(0u32..5000)
        )
            .prop_map(|(s, desc, limit)| Command::List(ListQuery {
                sort: Default::default(),
                desc,
                filter: (s % 3 == 0).then(|| format!("f{s}")),
                limit,
            })),
        (word, word).prop_map(|(user, password)| Command::Login { user, password }),
        proptest::collection::vec(word, 1..8)
            .prop_map(|argv| Command::Start(StartRequest { argv, cwd: None })),
        (1u32..i32::MAX as u32, proptest::option::of(0u64..60_000)).prop_map(|(p, grace_ms)| {
            Command::Stop(StopRequest {
                pid: Pid(p),
                signal: Signal::Kill,
                grace_ms,
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_parse_never_panics_and_respects_bounds(line in "\\PC{0,300}") {
        if let Ok(Command::Login { user, password }) = text::parse(&line) {
            prop_assert!(user.len() <= MAX_USER && password.len() <= MAX_PASSWORD);
            prop_assert!(!user.contains(':'));
        }
    }

    #[test]
    fn login_lines_keep_every_colon_of_the_password(
        user in "[a-z][a-z0-9_]{0,20}",
        password in "[ -~]{0,60}",
    ) {
        let parsed = text::parse(&format!("LOGIN:{user}:{password}"));
        prop_assert_eq!(parsed, Ok(Command::Login { user, password }));
    }

    #[test]
    fn start_lines_split_into_the_words_they_quote(argv in proptest::collection::vec("[ -~]{1,12}", 1..6)) {
        let line = format!("START:{}", shell_words::join(&argv));
        match text::parse(&line) {
            Ok(Command::Start(req)) => prop_assert_eq!(req.argv, argv),
            other => prop_assert!(false, "{line} gave {other:?}"),
        }
    }

    #[test]
    fn list_rows_stay_one_line_of_five_fields(
        names in proptest::collection::vec("\\PC{0,30}|[\\t\\n\\r]{1,3}", 1..20),
    ) {
        let processes: Vec<ProcessInfo> = names
            .iter()
            .enumerate()
            .map(|(i, n)| ProcessInfo { pid: Pid(i as u32 + 1), user: n.clone(), cpu: 1.5, mem: 42, name: n.clone() })
            .collect();
        let out = text::render(&Reply::Processes { total: processes.len() as u32, processes: processes.clone() });
        let lines: Vec<&str> = out.lines().collect();
        prop_assert_eq!(lines.len(), processes.len() + 1);
        for row in &lines[1..] {
            prop_assert_eq!(row.split('\t').count(), 5);
        }
    }

    #[test]
    fn json_parse_never_panics(line in "\\PC{0,400}") {
        let _ = json::parse_request(&line);
    }

    #[test]
    fn json_requests_round_trip(id in any::<u64>(), cmd in command()) {
        let line = json::render_request(&Request { id, command: cmd.clone() });
        let back = json::parse_request(&line).map_err(|(_, e)| e);
        prop_assert_eq!(back.map(|r| (r.id, r.command)), Ok((id, cmd)));
    }

    #[test]
    fn deep_json_is_refused_not_recursed(depth in 17usize..5000) {
        let line = format!("{{\"id\":1,\"cmd\":\"status\",\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        prop_assert!(json::parse_request(&line).is_err());
    }

    #[test]
    fn the_codec_yields_bounded_frames_from_any_chunks(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..40),
        max in 1usize..64,
    ) {
        let mut codec = LineCodec::new(max);
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            while let Ok(Some(frame)) = codec.decode(&mut buf) {
                if let Frame::Line(l) = frame {
                    prop_assert!(l.len() <= max);
                    prop_assert!(!l.contains('\n'));
                }
            }
        }
    }

    #[test]
    fn the_codec_returns_each_line_as_sent(lines in proptest::collection::vec("[ -~]{0,50}", 1..20)) {
        let mut codec = LineCodec::new(MAX_LINE);
        let mut buf = BytesMut::from(format!("{}\n", lines.join("\n")).as_bytes());
        let mut got = Vec::new();
        while let Ok(Some(Frame::Line(l))) = codec.decode(&mut buf) {
            got.push(l);
        }
        prop_assert_eq!(got, lines);
    }
}
