//! Property tests for the newline-JSON codec: chunking never changes what is decoded, and no
//! input makes it panic or buffer without bound.

use bytes::BytesMut;
use mcp_core::codec::{LineCodec, encode_line};
use mcp_core::jsonrpc::Notification;
use mcp_core::{ErrorObject, Message, RequestId, TransportError};
use proptest::prelude::*;

/// Decodes `input` fed in chunks at the given split points, then the end of input.
fn decode_chunked(codec: &mut LineCodec, input: &[u8], splits: &[usize]) -> Vec<Result<Message, String>> {
    let mut cuts: Vec<usize> = splits.iter().map(|s| s % (input.len() + 1)).collect();
    cuts.push(input.len());
    cuts.sort_unstable();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        let chunk = cut - start;
        buf.extend_from_slice(&input[start..cut]);
        start = cut;
        while let Some(item) = codec.decode(&mut buf) {
            out.push(item.map_err(|e: TransportError| e.to_string()));
        }
        // Memory stays bounded: never more than the limit plus the chunk just added.
        assert!(buf.len() <= codec.max_message_bytes() + chunk, "buffered {} bytes", buf.len());
    }
    while let Some(item) = codec.decode_eof(&mut buf) {
        out.push(item.map_err(|e| e.to_string()));
    }
    out
}

fn arb_message() -> impl Strategy<Value = Message> {
    let text = "[ -~\\n\\t\u{e9}\u{1F600}]{0,40}";
    prop_oneof![
        (any::<i64>(), "[a-z/]{1,20}", text).prop_map(|(id, m, t)| Message::request(
            id,
            m,
            &serde_json::json!({ "t": t })
        )
        .unwrap()),
        ("[a-z/]{1,20}", text)
            .prop_map(|(m, t)| Message::notification(m, &serde_json::json!({ "t": t, "n": [1, 2] })).unwrap()),
        ("[a-zA-Z0-9]{1,12}", text).prop_map(|(id, t)| Message::response(
            id.into(),
            &serde_json::json!({ "content": [{ "type": "text", "text": t }] })
        )
        .unwrap()),
    ]
}

/// Messages of every kind whose strings need escaping: quotes, backslashes, control
/// characters, non-ASCII.
fn arb_any_message() -> impl Strategy<Value = Message> {
    let text = "[ -~\\n\\t\\r\"\\\\\u{0}\u{1f}\u{7f}\u{e9}\u{2028}\u{1F600}]{0,24}";
    let id = prop_oneof![any::<i64>().prop_map(RequestId::Number), text.prop_map(RequestId::String)];
    let single = prop_oneof![
        (id.clone(), text, text)
            .prop_map(|(id, m, t)| Message::request(id, m, &serde_json::json!({ "t": t })).unwrap()),
        (text, prop::option::of(text)).prop_map(|(m, t)| match t {
            Some(t) => Message::notification(m, &serde_json::json!([t, 1.5, null, true])).unwrap(),
            None => Message::Notification(Notification { method: m, params: None, related_request: None }),
        }),
        (id.clone(), text).prop_map(|(id, t)| Message::response(id, &serde_json::json!({ "text": t })).unwrap()),
        (prop::option::of(id), any::<i64>(), text, prop::option::of(text)).prop_map(|(id, code, m, data)| {
            let error = ErrorObject::new(code, m);
            Message::error(
                id,
                match data {
                    Some(d) => error.with_data(&d),
                    None => error,
                },
            )
        }),
    ];
    prop_oneof![
        3 => single.clone(),
        1 => prop::collection::vec(single, 1..4).prop_map(Message::Batch),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_wire_encoder_writes_what_serde_writes_and_decodes_back(msg in arb_any_message()) {
        let wire = msg.to_vec();
        prop_assert_eq!(&wire, &serde_json::to_vec(&msg).unwrap());
        prop_assert!(!wire.contains(&b'\n'));
        prop_assert_eq!(Message::from_slice(&wire).unwrap(), msg);
    }

    #[test]
    fn any_chunking_yields_the_same_messages(
        msgs in prop::collection::vec(arb_message(), 1..20),
        splits in prop::collection::vec(any::<usize>(), 0..30),
        crlf in any::<bool>(),
    ) {
        let mut input = Vec::new();
        for m in &msgs {
            let mut line = encode_line(m);
            if crlf {
                line.pop();
                line.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(&line);
        }
        let decoded = decode_chunked(&mut LineCodec::new(), &input, &splits);
        let want: Vec<Result<Message, String>> = msgs.into_iter().map(Ok).collect();
        prop_assert_eq!(decoded, want);
    }

    #[test]
    fn random_bytes_never_panic_and_stay_bounded(
        input in prop::collection::vec(any::<u8>(), 0..4096),
        splits in prop::collection::vec(any::<usize>(), 0..10),
        limit in 1usize..512,
    ) {
        let mut codec = LineCodec::new().with_max_message_bytes(limit);
        let _ = decode_chunked(&mut codec, &input, &splits);
    }

    #[test]
    fn oversized_lines_are_reported_once_and_the_stream_goes_on(
        sizes in prop::collection::vec(0usize..300, 1..10),
        splits in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let limit = 100;
        let good = encode_line(&Message::notification("ok", &serde_json::json!({})).unwrap());
        let mut input = Vec::new();
        for &size in &sizes {
            input.extend(std::iter::repeat_n(b'x', size));
            input.push(b'\n');
            input.extend_from_slice(&good);
        }
        let decoded = decode_chunked(&mut LineCodec::new().with_max_message_bytes(limit), &input, &splits);
        let too_large = decoded.iter().filter(|d| matches!(d, Err(e) if e.contains("exceeds"))).count();
        let parse_errors = decoded.iter().filter(|d| matches!(d, Err(e) if e.contains("malformed"))).count();
        let ok = decoded.iter().filter(|d| d.is_ok()).count();
        prop_assert_eq!(too_large, sizes.iter().filter(|&&s| s > limit).count());
        // Lines of x's within the limit are not JSON: one parse error each (empty lines are skipped).
        prop_assert_eq!(parse_errors, sizes.iter().filter(|&&s| s > 0 && s <= limit).count());
        prop_assert_eq!(ok, sizes.len());
    }
}
