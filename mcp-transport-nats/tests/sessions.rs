//! Sessions against a real nats-server: routing under concurrency, instances dying, closing,
//! limits and authentication.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{Message, Principal, TransportError};
use mcp_testkit::services::NatsServer;
use mcp_transport_nats::{
    NatsAcceptor, NatsClientConfig, NatsError, NatsServerConfig, SessionSubjects, StaticTokens, connect,
};
use serde_json::json;
use support::{Instance, WAIT, call, fast_heartbeat, nats, result_of, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_clients_on_three_instances_get_their_own_answers() {
    let server = NatsServer::start().await;
    let config = NatsServerConfig::new("routing").heartbeat(fast_heartbeat());
    let instances = [
        Instance::start(&server.url(), "i0", config.clone()).await,
        Instance::start(&server.url(), "i1", config.clone()).await,
        Instance::start(&server.url(), "i2", config).await,
    ];
    // One NATS connection for all thirty client sessions, as one process would have.
    let client = nats(&server.url()).await;
    let mut tasks = Vec::new();
    for c in 0..30 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let config = NatsClientConfig::new("routing").heartbeat(fast_heartbeat());
            let mut t = within(format!("client {c} to connect"), connect(&client, config)).await.expect("connect");
            // The same request ids in every session, all in flight at once.
            for id in 1..=20 {
                t.feed(Message::request(id, "echo", &json!({ "client": c, "n": id })).unwrap()).await.unwrap();
            }
            t.flush().await.unwrap();
            let mut seen = HashSet::new();
            let mut served_by = HashSet::new();
            for _ in 1..=20 {
                let m = within(format!("an answer for client {c}"), t.next()).await.unwrap().unwrap();
                let Message::Response(r) = &m else { panic!("client {c} got {m}") };
                let result = r.result.to_value();
                assert_eq!(result["params"]["client"], c, "client {c} got another client's answer: {m}");
                assert_eq!(result["params"]["n"], json!(r.id.to_string().parse::<i64>().unwrap()), "{m}");
                assert_eq!(result["session"], t.session_id(), "answered by another session: {m}");
                seen.insert(r.id.clone());
                served_by.insert(result["instance"].as_str().unwrap().to_owned());
            }
            assert_eq!(seen.len(), 20, "client {c} got duplicate answers");
            assert_eq!(served_by.len(), 1, "client {c}'s session moved between instances: {served_by:?}");
            t.close().await.unwrap();
            served_by.into_iter().next().unwrap()
        }));
    }
    let mut per_instance: HashMap<String, usize> = HashMap::new();
    for task in tasks {
        *per_instance.entry(within("a client task", task).await.unwrap()).or_default() += 1;
    }
    for instance in &instances {
        let n = per_instance.get(&instance.name).copied().unwrap_or(0);
        assert!(n >= 1, "instance {} got no session: {per_instance:?}", instance.name);
        assert_eq!(n, instance.session_count(), "sessions counted by {}", instance.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_ends_its_sessions_and_clients_reconnect_to_a_live_one() {
    let server = NatsServer::start().await;
    let config = NatsServerConfig::new("failover").heartbeat(fast_heartbeat());
    let doomed = Instance::start(&server.url(), "doomed", config.clone()).await;
    let _survivor = Instance::start(&server.url(), "survivor", config).await;
    let client = nats(&server.url()).await;
    let client_config = NatsClientConfig::new("failover").heartbeat(fast_heartbeat());

    let mut on_doomed = Vec::new();
    let mut on_survivor = Vec::new();
    for i in 0..40 {
        if !on_doomed.is_empty() && !on_survivor.is_empty() && i >= 10 {
            break;
        }
        let mut t = connect(&client, client_config.clone()).await.unwrap();
        let answer = result_of(&call(&mut t, 1, json!({})).await);
        if answer["instance"] == "doomed" { on_doomed.push(t) } else { on_survivor.push(t) }
    }
    assert!(!on_doomed.is_empty() && !on_survivor.is_empty(), "sessions did not spread over both instances");

    doomed.kill();
    for t in &mut on_doomed {
        match within("the end of a session whose instance died", t.next()).await {
            Some(Err(TransportError::ConnectionLost(why))) => {
                assert!(why.contains("server instance") && why.contains("open a new session"), "{why}")
            }
            other => panic!("expected ConnectionLost, got {other:?}"),
        }
        assert!(within("the stream's end", t.next()).await.is_none());
        let err = t.send(Message::request(2, "echo", &json!({})).unwrap()).await.unwrap_err();
        assert!(err.is_fatal(), "{err}");
    }
    // A new session lands on the live instance, and the old live sessions are unharmed.
    let mut fresh = connect(&client, client_config).await.unwrap();
    assert_eq!(result_of(&call(&mut fresh, 1, json!({})).await)["instance"], "survivor");
    for t in &mut on_survivor {
        assert_eq!(result_of(&call(t, 7, json!({})).await)["instance"], "survivor");
    }
}

#[tokio::test]
async fn a_dead_client_is_dropped_by_the_server() {
    let server = NatsServer::start().await;
    let server_nats = nats(&server.url()).await;
    let mut acceptor =
        NatsAcceptor::bind(server_nats, NatsServerConfig::new("dead-client").heartbeat(fast_heartbeat()))
            .await
            .unwrap();
    // The client lives on its own NATS connection, which then disappears without a goodbye.
    let client_nats = nats(&server.url()).await;
    let client = connect(&client_nats, NatsClientConfig::new("dead-client")).await.unwrap();
    let mut session = within("a session", acceptor.next()).await.unwrap();
    assert_eq!(acceptor.active_sessions(), 1);
    std::mem::forget(client); // no close message
    client_nats.drain().await.unwrap();
    match within("the server to notice the dead client", session.transport.next()).await {
        Some(Err(TransportError::ConnectionLost(why))) => assert!(why.contains("client"), "{why}"),
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
    drop(session);
    within("the session slot to be released", async {
        while acceptor.active_sessions() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_silent_server_fails_the_heartbeat() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    // A fake instance that accepts sessions but never answers a ping (a hung process).
    let mut connects = nc.queue_subscribe("mcp.hung.connect", "mcp.hung".into()).await.unwrap();
    let fake = nc.clone();
    tokio::spawn(async move {
        let mut subs = Vec::new();
        while let Some(req) = connects.next().await {
            subs.push(fake.subscribe("mcp.hung.s.S1.ctl").await.unwrap());
            let reply = json!({ "version": 1, "session": { "id": "S1", "subject": "mcp.hung.s.S1" } });
            fake.publish(req.reply.unwrap(), reply.to_string().into()).await.unwrap();
        }
    });
    nc.flush().await.unwrap();
    let heartbeat = mcp_transport_nats::Heartbeat::new(Duration::from_millis(100), 3);
    let mut t = connect(&nc, NatsClientConfig::new("hung").heartbeat(heartbeat)).await.unwrap();
    match within("the heartbeat to fail", t.next()).await {
        Some(Err(TransportError::ConnectionLost(why))) => assert!(why.contains("answered no heartbeat"), "{why}"),
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
}

#[tokio::test]
async fn close_is_clean_both_ways() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let mut acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("closing")).await.unwrap();
    let info_subjects;
    {
        let mut client = connect(&nc, NatsClientConfig::new("closing")).await.unwrap();
        let mut session = within("a session", acceptor.next()).await.unwrap();
        assert_eq!(session.info.transport, "nats");
        assert_eq!(session.info.session_id.as_deref(), Some(client.session_id()));
        info_subjects = session.info.extensions.get::<SessionSubjects>().cloned().unwrap();
        for i in 0..5 {
            client.feed(Message::notification("n", &json!({ "i": i })).unwrap()).await.unwrap();
        }
        within("close", client.close()).await.unwrap();
        for i in 0..5 {
            let m = within("a message sent before close", session.transport.next()).await.unwrap().unwrap();
            assert_eq!(m.to_string(), Message::notification("n", &json!({ "i": i })).unwrap().to_string());
        }
        assert!(within("the end after the client's close", session.transport.next()).await.is_none());
    }
    assert!(info_subjects.inbound.starts_with("mcp.closing.s."), "{info_subjects:?}");

    // The server closing ends the client's stream.
    let mut client = connect(&nc, NatsClientConfig::new("closing")).await.unwrap();
    let session = within("a session", acceptor.next()).await.unwrap();
    drop(session);
    assert!(within("the end after the server dropped the session", client.next()).await.is_none());
}

#[tokio::test]
async fn no_server_is_a_clear_error() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let err = connect(&nc, NatsClientConfig::new("nobody")).await.unwrap_err();
    assert!(matches!(err, NatsError::NoServer { .. }), "{err:?}");
    assert!(err.to_string().contains("mcp.nobody.connect"), "{err}");
    let err = connect(&nc, NatsClientConfig::new("bad.name")).await.unwrap_err();
    assert!(matches!(err, NatsError::InvalidName { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_messages_get_a_clear_non_fatal_error_naming_the_limit() {
    let server = NatsServer::builder().max_payload(4096).start().await;
    let nc = nats(&server.url()).await;
    assert_eq!(nc.max_payload(), 4096);
    let _instance = Instance::start(&server.url(), "i", NatsServerConfig::new("limits")).await;
    let mut t = connect(&nc, NatsClientConfig::new("limits")).await.unwrap();

    // A request too large to send: its caller gets an error response naming the limit, and
    // the sink does not fail (a frame error never comes out of a sink).
    let big = Message::request(1, "echo", &json!({ "blob": "y".repeat(8000) })).unwrap();
    t.send(big).await.unwrap();
    match within("the local answer to the oversized request", t.next()).await {
        Some(Ok(Message::Error(e))) => {
            assert_eq!(e.id, Some(1.into()));
            assert!(e.error.message.contains("4 KiB limit") && e.error.message.contains("max_payload"), "{e:?}");
        }
        other => panic!("expected an error response for request 1, got {other:?}"),
    }
    assert_eq!(result_of(&call(&mut t, 2, json!({ "ok": true })).await)["params"]["ok"], true);

    // A notification too large to send: the peer's stream gets a non-fatal MessageTooLarge
    // (which the echo server answers with its error response, id null).
    t.send(Message::notification("huge", &json!({ "blob": "z".repeat(8000) })).unwrap()).await.unwrap();
    match within("the server's answer to the oversized-notification notice", t.next()).await {
        Some(Ok(Message::Error(e))) => {
            assert_eq!(e.id, None);
            assert!(e.error.message.contains("exceeds the 4 KiB limit"), "{e:?}");
        }
        other => panic!("expected the server's error for the notice, got {other:?}"),
    }

    // A response too large for NATS: the server's send fails, and the client gets an error
    // response for its request instead of waiting forever.
    t.send(Message::request(3, "big", &json!({ "size": 10_000 })).unwrap()).await.unwrap();
    match within("the answer to the oversized response", t.next()).await {
        Some(Ok(Message::Error(e))) => {
            assert_eq!(e.id, Some(3.into()));
            assert!(e.error.message.contains("4 KiB limit"), "{}", e.error.message);
        }
        other => panic!("expected an error response, got {other:?}"),
    }
    assert_eq!(result_of(&call(&mut t, 4, json!({ "still": "alive" })).await)["params"]["still"], "alive");
}

#[tokio::test]
async fn malformed_payloads_are_frame_errors_and_the_session_goes_on() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let mut acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("garbage")).await.unwrap();
    let mut client = connect(&nc, NatsClientConfig::new("garbage")).await.unwrap();
    let mut session = within("a session", acceptor.next()).await.unwrap();
    let inbound = session.info.extensions.get::<SessionSubjects>().unwrap().inbound.clone();
    nc.publish(inbound, "not json".into()).await.unwrap();
    match within("the frame error", session.transport.next()).await {
        Some(Err(e)) => assert!(!e.is_fatal() && e.error_response().is_some(), "{e}"),
        other => panic!("expected a parse error item, got {other:?}"),
    }
    client.send(Message::notification("after", &json!({})).unwrap()).await.unwrap();
    let m = within("the message after the garbage", session.transport.next()).await.unwrap().unwrap();
    assert_eq!(m.method(), Some("after"));
}

#[tokio::test]
async fn connect_tokens_are_checked_and_name_the_principal() {
    let server = NatsServer::start().await;
    let tokens = StaticTokens::new().with("alice-token", Principal::new("alice").with_tools(["echo"]));
    let _instance = Instance::start(&server.url(), "i", NatsServerConfig::new("secure").verifier(tokens)).await;
    let nc = nats(&server.url()).await;

    for (token, what) in [(None, "no token"), (Some("wrong"), "a wrong token")] {
        let mut config = NatsClientConfig::new("secure");
        if let Some(token) = token {
            config = config.token(token);
        }
        match connect(&nc, config).await {
            Err(NatsError::Rejected { code, message }) => {
                assert_eq!(code, "unauthorized", "{what}");
                assert!(!message.contains("alice-token"), "{message}");
            }
            other => panic!("{what} must be refused, got {other:?}"),
        }
    }
    let mut t = connect(&nc, NatsClientConfig::new("secure").token("alice-token")).await.unwrap();
    assert_eq!(result_of(&call(&mut t, 1, json!({})).await)["principal"], "alice");
    assert!(!format!("{:?}", NatsClientConfig::new("x").token("alice-token")).contains("alice-token"));
}

#[tokio::test]
async fn a_full_instance_refuses_with_busy() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let mut acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("full").max_sessions(1)).await.unwrap();
    let first = connect(&nc, NatsClientConfig::new("full")).await.unwrap();
    let _session = within("a session", acceptor.next()).await.unwrap();
    match connect(&nc, NatsClientConfig::new("full").connect_timeout(WAIT)).await {
        Err(NatsError::Rejected { code, message }) => {
            assert_eq!(code, "busy");
            assert!(message.contains("maximum of 1 sessions"), "{message}");
        }
        other => panic!("expected busy, got {other:?}"),
    }
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_mid_request_gives_an_answer_or_a_clear_error() {
    let mut server = NatsServer::start().await;
    // Long enough a grace for both sides to reconnect; short pings to notice the reconnect.
    let heartbeat = mcp_transport_nats::Heartbeat::new(Duration::from_millis(100), 80);
    let server_nats = nats(&server.url()).await;
    let mut acceptor =
        NatsAcceptor::bind(server_nats, NatsServerConfig::new("restart").heartbeat(heartbeat)).await.unwrap();
    let client_nats = nats(&server.url()).await;
    let mut client = connect(&client_nats, NatsClientConfig::new("restart").heartbeat(heartbeat)).await.unwrap();
    let mut session = within("a session", acceptor.next()).await.unwrap();

    client.send(Message::request(1, "slow", &json!({})).unwrap()).await.unwrap();
    let Some(Ok(Message::Request(req))) = within("the slow request at the server", session.transport.next()).await
    else {
        panic!("expected the request")
    };
    within("the NATS server restart", server.restart()).await;
    // The server answers after the restart; the answer may arrive, or the interruption fails it.
    session.transport.send(Message::response(req.id, &json!({ "done": true })).unwrap()).await.unwrap();
    let outcome = within("an answer or an error for the request in flight", client.next()).await;
    eprintln!("request in flight across the restart: {outcome:?}");
    match outcome {
        Some(Ok(Message::Response(r))) => assert_eq!(r.id, 1.into()),
        Some(Ok(Message::Error(e))) => {
            assert_eq!(e.id, Some(1.into()));
            assert!(e.error.message.contains("interrupted while request 1 was in flight"), "{}", e.error.message);
        }
        other => panic!("expected the answer or an error response for request 1, got {other:?}"),
    }

    // The session survived the restart: a new request is answered.
    let serve = tokio::spawn(async move {
        while let Some(item) = session.transport.next().await {
            match item {
                Ok(Message::Request(r)) => {
                    let answer = Message::response(r.id, &json!({ "again": true })).unwrap();
                    // The client may already have failed request 2 and closed: then this fails.
                    if session.transport.send(answer).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("the server session failed after the restart: {e}"),
            }
        }
    });
    client.send(Message::request(2, "again", &json!({})).unwrap()).await.unwrap();
    loop {
        match within("the answer to a request after the restart", client.next()).await {
            Some(Ok(Message::Response(r))) if r.id == 2.into() => break,
            // A late interruption notice may still fail request 2 if it raced the reconnect.
            Some(Ok(Message::Error(e))) if e.id == Some(2.into()) => {
                assert!(e.error.message.contains("interrupted"), "{}", e.error.message);
                break;
            }
            Some(Ok(Message::Response(r))) if r.id == 1.into() => continue,
            other => panic!("expected the answer to request 2, got {other:?}"),
        }
    }
    drop(client);
    within("the server session to end", serve).await.unwrap();
}

#[tokio::test]
async fn nats_level_auth_comes_from_the_url_or_connect_options() {
    let server = NatsServer::builder().token("nats-secret").start().await;
    let port = server.port();
    let url: mcp_transport_nats::NatsUrl = format!("nats://nats-secret@127.0.0.1:{port}/authed").parse().unwrap();
    assert!(!url.to_string().contains("nats-secret"), "{url}");
    let nc = within("a connection with the URL's token", url.connect()).await.unwrap();
    let mut acceptor = NatsAcceptor::bind(nc.clone(), url.server_config()).await.unwrap();
    let _client = connect(&nc, url.client_config()).await.unwrap();
    within("a session", acceptor.next()).await.unwrap();

    let wrong: mcp_transport_nats::NatsUrl = format!("nats://guess@127.0.0.1:{port}/authed").parse().unwrap();
    match within("a refused connection", wrong.connect_with(wrong.connect_options())).await {
        Err(err @ NatsError::Connect { .. }) => {
            let shown = err.to_string();
            assert!(shown.contains(&format!("127.0.0.1:{port}")) && !shown.contains("guess"), "{shown}");
        }
        other => panic!("a wrong token must be refused, got {:?}", other.map(|_| "a client")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_is_told_when_only_the_servers_connection_was_interrupted() {
    let server = NatsServer::start().await;
    let heartbeat = mcp_transport_nats::Heartbeat::new(Duration::from_millis(100), 50);
    let server_nats = nats(&server.url()).await;
    let mut acceptor =
        NatsAcceptor::bind(server_nats.clone(), NatsServerConfig::new("blip").heartbeat(heartbeat)).await.unwrap();
    let client_nats = nats(&server.url()).await;
    let mut client = connect(&client_nats, NatsClientConfig::new("blip").heartbeat(heartbeat)).await.unwrap();
    let mut session = within("a session", acceptor.next()).await.unwrap();

    client.send(Message::request(1, "slow", &json!({})).unwrap()).await.unwrap();
    within("the request at the server", session.transport.next()).await.unwrap().unwrap();
    // Only the server instance's connection breaks; the client's never does, so only the
    // server's `interrupted` notice can tell it that its request may be lost.
    server_nats.force_reconnect().await.unwrap();
    match within("the error for the request in flight", client.next()).await {
        Some(Ok(Message::Error(e))) => {
            assert_eq!(e.id, Some(1.into()));
            assert!(e.error.message.contains("server instance's NATS connection was interrupted"), "{e:?}");
        }
        other => panic!("expected an error response for request 1, got {other:?}"),
    }
    // The session goes on.
    client.send(Message::notification("still/here", &json!({})).unwrap()).await.unwrap();
    let m = within("a message after the blip", session.transport.next()).await.unwrap().unwrap();
    assert_eq!(m.method(), Some("still/here"));
}

#[tokio::test]
async fn dropping_a_transport_still_delivers_what_it_accepted() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let mut acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("dropping")).await.unwrap();
    let mut client = connect(&nc, NatsClientConfig::new("dropping")).await.unwrap();
    let mut session = within("a session", acceptor.next()).await.unwrap();
    for i in 0..50 {
        client.feed(Message::notification("n", &json!({ "i": i })).unwrap()).await.unwrap();
    }
    drop(client); // no close()
    for i in 0..50 {
        let m = within(format!("message {i} sent before the drop"), session.transport.next()).await.unwrap().unwrap();
        assert_eq!(m.to_string(), Message::notification("n", &json!({ "i": i })).unwrap().to_string());
    }
    assert!(within("the end after the drop", session.transport.next()).await.is_none());
}

#[tokio::test]
async fn a_silent_client_fails_the_servers_heartbeat() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let heartbeat = mcp_transport_nats::Heartbeat::new(Duration::from_millis(100), 3);
    let mut acceptor =
        NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("mute").heartbeat(heartbeat)).await.unwrap();
    // A fake client (a hung process): it subscribes to its inbox but never answers a ping.
    let _inbox = nc.subscribe("mcp.mute.c.I1").await.unwrap();
    let _control = nc.subscribe("mcp.mute.c.I1.ctl").await.unwrap();
    let reply =
        nc.request("mcp.mute.connect", json!({ "version": 1, "inbox": "I1" }).to_string().into()).await.unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&reply.payload).unwrap();
    assert!(reply["session"]["subject"].as_str().unwrap().starts_with("mcp.mute.s."), "{reply}");
    let mut session = within("a session", acceptor.next()).await.unwrap();
    match within("the server's heartbeat to fail", session.transport.next()).await {
        Some(Err(TransportError::ConnectionLost(why))) => {
            assert!(why.contains("client") && why.contains("answered no heartbeat"), "{why}")
        }
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
}
