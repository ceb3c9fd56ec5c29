//! WebSocket: our `WsListener` + `connect` with mcp-peer at both ends, beside a raw
//! tokio-tungstenite echo (text frames parsed and answered with the same id, the client
//! demultiplexing by id), and the memory of idle connections.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use mcp_transport_ws::{WsClientConfig, WsListener, WsServerConfig, connect};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::measure::Caller;
use crate::ours::{self, OurCaller};
use crate::raw::{self, Demux};

type ClientWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The raw echo server on 127.0.0.1:0, one task per connection; returns its `ws://` URL.
pub async fn raw_server() -> String {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let url = format!("ws://{}/", tcp.local_addr().expect("local address"));
    tokio::spawn(async move {
        while let Ok((stream, _)) = tcp.accept().await {
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
                while let Some(Ok(frame)) = ws.next().await {
                    let WsMessage::Text(text) = frame else { continue };
                    let Some(answer) = raw::echo_answer(text.as_bytes()) else { continue };
                    let answer = String::from_utf8(answer).expect("JSON is UTF-8");
                    if ws.send(WsMessage::text(answer)).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

/// A raw WebSocket client: requests as text frames, answers demultiplexed by id.
#[derive(Clone)]
pub struct RawWsCaller {
    writer: Arc<tokio::sync::Mutex<SplitSink<ClientWs, WsMessage>>>,
    demux: Demux,
}

impl RawWsCaller {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Self {
        let connecting = tokio_tungstenite::connect_async(url);
        let (ws, _) = tokio::time::timeout(Duration::from_secs(30), connecting)
            .await
            .expect("raw WebSocket connected within 30 s")
            .expect("raw WebSocket connect");
        if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_nodelay(true).expect("TCP_NODELAY");
        }
        let (writer, mut reader) = ws.split();
        let demux = Demux::default();
        let d = demux.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = reader.next().await {
                if let WsMessage::Text(text) = frame {
                    d.deliver(text.as_str().to_owned());
                }
            }
        });
        Self { writer: Arc::new(tokio::sync::Mutex::new(writer)), demux }
    }
}

impl Caller for RawWsCaller {
    async fn call(&self, seq: u64) {
        let answer = self.demux.expect(seq);
        self.writer.lock().await.send(WsMessage::text(raw::request(seq))).await.expect("raw WebSocket send");
        raw::check_answer(seq, answer).await;
    }
}

/// Our echo server on a `WsListener` at 127.0.0.1:0; returns its URL.
pub async fn our_server() -> String {
    let listener = WsListener::bind("127.0.0.1:0", WsServerConfig::default()).await.expect("bind 127.0.0.1:0");
    let url = listener.url();
    ours::serve_all(listener);
    url
}

/// Our client on `url`.
pub async fn our_client(url: &str) -> OurCaller {
    let config = WsClientConfig::default();
    let connecting = connect(url, &config);
    let transport = tokio::time::timeout(Duration::from_secs(30), connecting)
        .await
        .expect("our WebSocket connected within 30 s")
        .expect("our WebSocket connect");
    ours::client(transport).await
}

/// `n` initialized MCP sessions over WebSocket, both ends in this process.
pub async fn our_idle(url: &str, n: usize) -> Vec<OurCaller> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(our_client(url).await);
    }
    clients
}

/// `n` raw WebSocket connections, both ends in this process.
pub async fn raw_idle(url: &str, n: usize) -> Vec<RawWsCaller> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(RawWsCaller::connect(url).await);
    }
    clients
}
