//! Sessions against a real redis-server: setup, exactly-one-instance ownership, load spread,
//! liveness, authentication, in both modes.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use mcp_core::{Principal, TransportError};
use mcp_testkit::services::RedisServer;
use mcp_transport_redis::{Mode, RedisBus, RedisSessionInfo, RedisTransportError, StaticTokens};
use support::{Instance, config, exchange, fatal_error, request, result_of, within};

async fn round_trip_and_clean_close(mode: Mode) {
    let redis = RedisServer::start().await;
    let bus = RedisBus::open(config(&redis.url(), "rt", mode)).await.unwrap();
    let mut acceptor = bus.accept().await.unwrap();
    let mut client = within("connect", bus.connect()).await.unwrap();
    let session = within("the incoming session", acceptor.next()).await.unwrap();
    assert_eq!(session.info.transport, "redis");
    assert_eq!(session.info.session_id.as_deref(), Some(client.session_id()));
    assert_eq!(session.info.principal.as_ref().unwrap().id, "anonymous");
    assert_eq!(session.info.extensions.get::<RedisSessionInfo>().unwrap().mode, mode);
    assert_eq!(client.instance(), bus.instance_id());
    let mut server = session.transport;

    client.send(request(1, serde_json::json!({"x": 1}))).await.unwrap();
    let got = within("the request", server.next()).await.unwrap().unwrap();
    assert_eq!(got.method(), Some("echo"));
    server.send(mcp_core::Message::response(1.into(), &serde_json::json!({"ok": true})).unwrap()).await.unwrap();
    let answer = within("the response", client.next()).await.unwrap().unwrap();
    assert_eq!(result_of(&answer), serde_json::json!({"ok": true}));

    // Close flushes: everything sent before the close arrives, then the stream ends cleanly.
    for i in 0..50 {
        client.feed(request(100 + i, serde_json::json!({}))).await.unwrap();
    }
    within("close", client.close()).await.unwrap();
    for i in 0..50 {
        let got = within("a request sent before close", server.next()).await.unwrap().unwrap();
        assert_eq!(got.id().unwrap().to_string(), (100 + i).to_string());
    }
    assert!(within("the end of the server's stream", server.next()).await.is_none());
}

#[tokio::test]
async fn round_trip_and_clean_close_pubsub() {
    round_trip_and_clean_close(Mode::PubSub).await;
}

#[tokio::test]
async fn round_trip_and_clean_close_durable() {
    round_trip_and_clean_close(Mode::Durable).await;
}

#[tokio::test]
async fn connecting_without_a_server_fails_at_once_naming_the_service() {
    let redis = RedisServer::start().await;
    let bus = RedisBus::open(config(&redis.url(), "nobody-home", Mode::PubSub)).await.unwrap();
    let err = within("connect", bus.connect()).await.unwrap_err();
    assert!(matches!(err, RedisTransportError::NoServer { .. }), "{err}");
    assert!(err.to_string().contains("nobody-home"), "{err}");
}

#[tokio::test]
async fn connecting_times_out_when_no_instance_takes_the_session() {
    let redis = RedisServer::start().await;
    // A durable server hears the pub/sub client's announcement but does not take it.
    let server = RedisBus::open(config(&redis.url(), "svc", Mode::Durable)).await.unwrap();
    let _acceptor = server.accept().await.unwrap();
    let mut client_config = config(&redis.url(), "svc", Mode::PubSub);
    client_config.accept_timeout = std::time::Duration::from_millis(300);
    let client = RedisBus::open(client_config).await.unwrap();
    let err = within("connect", client.connect()).await.unwrap_err();
    assert!(matches!(err, RedisTransportError::AcceptTimeout { .. }), "{err}");
    assert!(err.to_string().contains("accept_timeout"), "{err}");
}

#[tokio::test]
async fn the_authenticator_decides_the_principal_which_the_owner_key_records() {
    let redis = RedisServer::start().await;
    let server = RedisBus::open(config(&redis.url(), "auth", Mode::PubSub)).await.unwrap();
    let tokens = StaticTokens::new().with("s3cret", Principal::new("ci-bot").with_tools(["echo"]));
    let mut acceptor = server.accept_with(Some(Arc::new(tokens))).await.unwrap();
    let client = RedisBus::open(config(&redis.url(), "auth", Mode::PubSub)).await.unwrap();

    let err = within("connect with a bad token", client.connect_with_token("guess")).await.unwrap_err();
    assert!(matches!(err, RedisTransportError::Rejected { .. }), "{err}");
    assert!(err.to_string().contains("invalid token") && !err.to_string().contains("guess"), "{err}");
    let err = within("connect without a token", client.connect()).await.unwrap_err();
    assert!(err.to_string().contains("token is required"), "{err}");

    let transport = within("connect with the token", client.connect_with_token("s3cret")).await.unwrap();
    let session = within("the session", acceptor.next()).await.unwrap();
    let principal = session.info.principal.clone().unwrap();
    assert_eq!(principal.id, "ci-bot");
    assert!(principal.may_use_tool("echo") && !principal.may_use_tool("exec"));

    let raw = redis::Client::open(redis.url()).unwrap();
    let mut raw = raw.get_multiplexed_async_connection().await.unwrap();
    let owner: String = redis::cmd("GET")
        .arg(format!("mcp:auth:session:{}:owner", transport.session_id()))
        .query_async(&mut raw)
        .await
        .unwrap();
    let owner: serde_json::Value = serde_json::from_str(&owner).unwrap();
    assert_eq!(owner["instance"], server.instance_id());
    assert_eq!(owner["principal"], serde_json::json!({"id": "ci-bot", "scopes": [], "tools": ["echo"]}));
    assert!(!owner.to_string().contains("s3cret"));
}

/// 3 server instances, 30 clients: every answer reaches the client that asked, each session
/// is taken by exactly one instance, every instance takes some.
async fn three_instances_thirty_clients(mode: Mode) {
    let redis = RedisServer::start().await;
    let instances: Vec<Instance> = (0..3).map(|_| Instance::start(config(&redis.url(), "fleet", mode))).collect();
    // Every instance's placement view includes the others once a heartbeat has passed.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let client_buses = [
        RedisBus::open(config(&redis.url(), "fleet", mode)).await.unwrap(),
        RedisBus::open(config(&redis.url(), "fleet", mode)).await.unwrap(),
    ];
    let mut clients = Vec::new();
    for i in 0..30 {
        let bus = client_buses[i % 2].clone();
        clients.push(tokio::spawn(async move {
            let mut client = within("connect", bus.connect()).await.expect("connect");
            let instance = exchange(&mut client, &format!("client-{i}"), 20).await;
            (client.session_id().to_owned(), instance, client)
        }));
    }
    let mut sessions = Vec::new();
    for c in clients {
        sessions.push(within("a client's run", c).await.unwrap());
    }
    let ids: HashSet<&str> = instances.iter().map(|i| i.id.as_str()).collect();
    let mut owner_of = std::collections::HashMap::new();
    for instance in &instances {
        for session in instance.taken.lock().unwrap().iter() {
            assert!(owner_of.insert(session.clone(), instance.id.clone()).is_none(), "{session} taken twice");
        }
    }
    assert_eq!(owner_of.len(), 30, "every session taken exactly once");
    for (session, instance, _) in &sessions {
        assert!(ids.contains(instance.as_str()));
        assert_eq!(&owner_of[session], instance, "the client talks to the instance that took its session");
    }
    for instance in &instances {
        let n = instance.taken.lock().unwrap().len();
        assert!(
            n >= 2,
            "load did not spread: instance {} took {n} of 30 sessions ({:?})",
            instance.id,
            instances.iter().map(|i| i.taken.lock().unwrap().len()).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn three_instances_thirty_clients_pubsub() {
    three_instances_thirty_clients(Mode::PubSub).await;
}

#[tokio::test]
async fn three_instances_thirty_clients_durable() {
    three_instances_thirty_clients(Mode::Durable).await;
}

/// An instance killed mid-run: its clients get a clear error in bounded time and open new
/// sessions on the survivors; the other clients never notice.
async fn killed_instance(mode: Mode) {
    let redis = RedisServer::start().await;
    let mut instances: Vec<Instance> = (0..3).map(|_| Instance::start(config(&redis.url(), "crash", mode))).collect();
    let bus = RedisBus::open(config(&redis.url(), "crash", mode)).await.unwrap();
    let mut clients = Vec::new();
    for i in 0..9 {
        let mut client = within("connect", bus.connect()).await.unwrap();
        exchange(&mut client, &format!("c{i}"), 3).await;
        clients.push(client);
    }
    let victim = clients[0].instance().to_owned();
    instances.iter_mut().find(|i| i.id == victim).unwrap().kill();

    for (i, client) in clients.iter_mut().enumerate() {
        if client.instance() == victim {
            let err = fatal_error(client, "the error for a session on the killed instance").await;
            assert!(matches!(err, TransportError::ConnectionLost(_)), "{err}");
            assert!(err.to_string().contains(&victim) && err.to_string().contains("open a new session"), "{err}");
            assert!(within("the end after the error", client.next()).await.is_none());
            assert!(client.send(request(0, serde_json::json!({}))).await.is_err());
            let mut again = within("a new session", bus.connect()).await.unwrap();
            assert_ne!(again.instance(), victim);
            exchange(&mut again, &format!("again{i}"), 3).await;
        } else {
            exchange(client, &format!("survivor{i}"), 3).await;
        }
    }
}

#[tokio::test]
async fn killed_instance_gives_its_clients_a_clear_error_pubsub() {
    killed_instance(Mode::PubSub).await;
}

#[tokio::test]
async fn killed_instance_gives_its_clients_a_clear_error_durable() {
    killed_instance(Mode::Durable).await;
}

#[tokio::test]
async fn a_dead_client_is_dropped_by_the_server() {
    let redis = RedisServer::start().await;
    let server = RedisBus::open(config(&redis.url(), "dead", Mode::PubSub)).await.unwrap();
    let mut acceptor = server.accept().await.unwrap();
    // The client runs on its own runtime, which then vanishes as a crashed process would.
    let url = redis.url();
    let client_runtime = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let client = runtime.block_on(async {
            let bus = RedisBus::open(config(&url, "dead", Mode::PubSub)).await.unwrap();
            bus.connect().await.unwrap()
        });
        (runtime, client)
    })
    .await
    .unwrap();
    let session = within("the session", acceptor.next()).await.unwrap();
    let (runtime, client) = client_runtime;
    runtime.shutdown_background();
    std::mem::forget(client); // a crashed process says goodbye to nobody
    let mut server_side = session.transport;
    let err = within("the server's stream to fail", server_side.next()).await.unwrap().unwrap_err();
    assert!(err.is_fatal() && err.to_string().contains("stopped heartbeating"), "{err}");
}

/// Closed sessions leave no key, stream or subscription behind.
async fn closed_sessions_leave_nothing_in_redis(mode: Mode) {
    let redis = RedisServer::start().await;
    let server = Instance::start(config(&redis.url(), "leak", mode));
    let bus = RedisBus::open(config(&redis.url(), "leak", mode)).await.unwrap();
    for i in 0..5 {
        let mut client = within("connect", bus.connect()).await.unwrap();
        exchange(&mut client, &format!("c{i}"), 5).await;
        within("close", client.close()).await.unwrap();
    }
    let raw = redis::Client::open(redis.url()).unwrap();
    let mut raw = raw.get_multiplexed_async_connection().await.unwrap();
    within("the sessions' keys and subscriptions to go", async {
        loop {
            let keys: Vec<String> = redis::cmd("KEYS").arg("mcp:leak:session:*").query_async(&mut raw).await.unwrap();
            let channels: Vec<String> =
                redis::cmd("PUBSUB").arg("CHANNELS").arg("mcp:leak:session:*").query_async(&mut raw).await.unwrap();
            if keys.is_empty() && channels.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(server.taken.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn closed_sessions_leave_nothing_in_redis_pubsub() {
    closed_sessions_leave_nothing_in_redis(Mode::PubSub).await;
}

#[tokio::test]
async fn closed_sessions_leave_nothing_in_redis_durable() {
    closed_sessions_leave_nothing_in_redis(Mode::Durable).await;
}

/// Junk on the connect channel is ignored; the acceptor goes on taking sessions.
#[tokio::test]
async fn junk_announcements_are_ignored() {
    let redis = RedisServer::start().await;
    let server = Instance::start(config(&redis.url(), "junk", Mode::PubSub));
    let raw = redis::Client::open(redis.url()).unwrap();
    let mut raw = raw.get_multiplexed_async_connection().await.unwrap();
    let huge = vec![b'{'; 1 << 20];
    let junk: [&[u8]; 6] = [
        b"not json",
        b"{\"v\":2,\"session\":\"00000000000000000000000000000000\",\"mode\":\"pubsub\"}",
        b"{\"v\":1,\"session\":\"../../etc:owner\",\"mode\":\"pubsub\"}",
        b"{\"v\":1,\"session\":\"abc\",\"mode\":\"pubsub\"}",
        b"\xff\xfe",
        &huge,
    ];
    for payload in junk {
        let n: i64 = redis::cmd("PUBLISH").arg("mcp:junk:connect").arg(payload).query_async(&mut raw).await.unwrap();
        assert_eq!(n, 1);
    }
    let bus = RedisBus::open(config(&redis.url(), "junk", Mode::PubSub)).await.unwrap();
    let mut client = within("connect after junk", bus.connect()).await.unwrap();
    exchange(&mut client, "after-junk", 3).await;
    // The acceptor handled the junk before the real announcement, which came after it.
    let keys: Vec<String> = redis::cmd("KEYS").arg("mcp:junk:session:*").query_async(&mut raw).await.unwrap();
    assert!(keys.iter().all(|k| k.contains(client.session_id())), "junk created keys: {keys:?}");
    assert_eq!(server.taken.lock().unwrap().len(), 1);
}
