//! HTTP/1.1 connections of the Streamable HTTP client's own, for its POSTs to a plain `http://`
//! endpoint.
//!
//! Each connection is polled by the POST using it, and the POSTs run inside the transport's own
//! polls, so a response goes from the socket to the MCP session that polls the transport without
//! a task in between (reqwest gives every connection a task, and each hand-off between tasks is
//! a wake-up, on an idle machine often on another thread: the largest share of a round trip on
//! loopback). reqwest still does everything else: `https://`, proxies, a client the user
//! configured, the `GET` streams and `DELETE`.
//!
//! Connections are kept for reuse once a response was read to its end, at most as many as POSTs
//! may be in flight. A connection the server closed while it was idle is noticed when it is
//! taken, and a request that never went out on it is sent on another.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use http::{HeaderValue, Request, Uri};
use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::HttpClientConfig;
use super::response::{Body, HttpError, Response};

type Connection = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// The proxy variables reqwest reads for `http://` URLs: when one is set, POSTs go through
/// reqwest like every other request.
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

/// One origin's connections (see the module docs).
pub(crate) struct Direct {
    /// `host:port`, to connect to.
    addr: String,
    /// The `Host` header: the URL's host and port as written.
    host: HeaderValue,
    /// The request target: the URL's path and query.
    target: Uri,
    connect_timeout: Duration,
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
}

struct Conn {
    send: http1::SendRequest<Full<Bytes>>,
    io: Pin<Box<Connection>>,
    /// The connection future finished: closed, or failed.
    ended: bool,
}

impl Conn {
    /// Lets hyper read and write; `false` once the connection is over.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.ended && self.io.as_mut().poll(cx).is_ready() {
            self.ended = true;
        }
        !self.ended
    }
}

impl Direct {
    /// Connections for `url`, or `None` when reqwest is to send its POSTs: not plain `http://`,
    /// credentials in the URL, a proxy in the environment, or a reqwest client of the user's.
    pub(crate) fn for_url(url: &reqwest::Url, config: &HttpClientConfig) -> Option<Self> {
        let proxied = PROXY_VARIABLES.iter().any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        if url.scheme() != "http" || config.http.is_some() || proxied {
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let host = url.host_str()?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut target = url.path().to_owned();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        Some(Self {
            addr: format!("{host}:{}", url.port_or_known_default()?),
            host: HeaderValue::from_str(&authority).ok()?,
            target: Uri::try_from(target).ok()?,
            connect_timeout: config.connect_timeout,
            idle: Mutex::new(Vec::new()),
            max_idle: config.max_in_flight,
        })
    }

    /// A `POST` of `body` with `headers` (`Host` is added), answered when the response head
    /// arrived; its body is read by polling the returned response.
    pub(crate) async fn post(self: &Arc<Self>, headers: http::HeaderMap, body: Bytes) -> Result<Response, HttpError> {
        let mut request = Request::post(self.target.clone()).body(Full::new(body))?;
        *request.headers_mut() = headers;
        request.headers_mut().insert(http::header::HOST, self.host.clone());
        // Bounded: each round takes an idle connection out of the pool, or opens a new one
        // (and a request that fails on a new connection is not retried).
        loop {
            let (mut conn, reused) = match self.take_idle().await {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            let mut sending = pin!(conn.send.try_send_request(request));
            let sent = poll_fn(|cx| {
                let open = conn.poll_io(cx);
                match sending.as_mut().poll(cx) {
                    Poll::Pending if !open => Poll::Ready(None),
                    other => other.map(Some),
                }
            })
            .await;
            match sent {
                Some(Ok(response)) => {
                    let (head, body) = response.into_parts();
                    let body: Body = if body.is_end_stream() {
                        // No body (a 202, say): the connection is free at once.
                        self.put_idle(conn);
                        Box::pin(futures::stream::empty())
                    } else {
                        Box::pin(DrivenBody { body, conn: Some(conn), pool: Arc::clone(self) })
                    };
                    return Ok(Response { status: head.status, headers: head.headers, body });
                }
                Some(Err(mut failed)) => match failed.take_message() {
                    // It never went out: the pooled connection was closed under us.
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(failed.into_error().into()),
                },
                None => return Err("the connection closed before the response arrived".into()),
            }
        }
    }

    /// An idle connection that is still open.
    async fn take_idle(&self) -> Option<Conn> {
        loop {
            let mut conn = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()?;
            // Polled once: a close (or anything unexpected) the server sent meanwhile ends it.
            if poll_fn(|cx| Poll::Ready(conn.poll_io(cx))).await && !conn.send.is_closed() {
                return Some(conn);
            }
        }
    }

    async fn connect(&self) -> Result<Conn, HttpError> {
        let connecting = TcpStream::connect(&*self.addr);
        let tcp = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| format!("connecting to {} timed out after {:?}", self.addr, self.connect_timeout))??;
        // Small messages both ways: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        let (send, io) = http1::Builder::new().handshake(TokioIo::new(tcp)).await?;
        Ok(Conn { send, io: Box::pin(io), ended: false })
    }

    fn put_idle(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle && !conn.ended && !conn.send.is_closed() {
            idle.push(conn);
        }
    }
}

/// A response body that drives its connection as it is read, and gives the connection back to
/// the pool once read to its end (dropped before that, it closes the connection).
struct DrivenBody {
    body: Incoming,
    conn: Option<Conn>,
    pool: Arc<Direct>,
}

impl Stream for DrivenBody {
    type Item = Result<Bytes, HttpError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let me = &mut *self;
        if let Some(conn) = &mut me.conn {
            conn.poll_io(cx);
        }
        loop {
            match Pin::new(&mut me.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                    // Trailers, or an empty chunk.
                    _ => {}
                },
                Poll::Ready(Some(Err(err))) => {
                    me.conn = None;
                    return Poll::Ready(Some(Err(err.into())));
                }
                Poll::Ready(None) => {
                    if let Some(conn) = me.conn.take() {
                        me.pool.put_idle(conn);
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn direct(url: &str) -> Arc<Direct> {
        let url = reqwest::Url::parse(url).unwrap();
        Arc::new(Direct::for_url(&url, &HttpClientConfig::default()).expect("a plain http URL"))
    }

    async fn body_text(response: Response) -> String {
        let chunks: Vec<_> = response.body.collect().await;
        let bytes: Vec<u8> = chunks.into_iter().flat_map(|c| c.expect("a chunk").to_vec()).collect();
        String::from_utf8(bytes).unwrap()
    }

    /// An HTTP/1.1 server that echoes each request's body, answering `answers_per_connection`
    /// requests on a connection before closing it; counts connections.
    async fn echo_server(answers_per_connection: usize) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp?x=1", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    for _ in 0..answers_per_connection {
                        let mut request = Vec::new();
                        let mut buf = [0u8; 4096];
                        // Head and a Content-Length body (the tests' bodies are small).
                        let body = loop {
                            let Ok(n) = tcp.read(&mut buf).await else { return };
                            if n == 0 {
                                return;
                            }
                            request.extend_from_slice(&buf[..n]);
                            let text = String::from_utf8_lossy(&request).to_string();
                            if let Some(end) = text.find("\r\n\r\n") {
                                let len: usize = text
                                    .lines()
                                    .find_map(|l| {
                                        l.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned)
                                    })
                                    .map_or(0, |v| v.trim().parse().unwrap());
                                if request.len() >= end + 4 + len {
                                    assert!(text.starts_with("POST /mcp?x=1 HTTP/1.1\r\n"), "{text}");
                                    assert!(text.to_ascii_lowercase().contains("\r\nhost: 127.0.0.1:"), "{text}");
                                    break request[end + 4..end + 4 + len].to_vec();
                                }
                            }
                        };
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                        if tcp.write_all(head.as_bytes()).await.is_err() || tcp.write_all(&body).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn a_connection_read_to_its_end_is_used_again() {
        let (url, accepted) = echo_server(usize::MAX).await;
        let direct = direct(&url);
        for i in 0..5 {
            let response = direct.post(http::HeaderMap::new(), format!("call {i}").into()).await.unwrap();
            assert_eq!(response.status, http::StatusCode::OK);
            assert_eq!(body_text(response).await, format!("call {i}"));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "five POSTs, one connection");
    }

    #[tokio::test]
    async fn an_answer_without_a_body_frees_its_connection_at_once() {
        let (url, accepted) = echo_server(usize::MAX).await;
        let direct = direct(&url);
        for _ in 0..3 {
            // An empty echo is a head with content-length 0, like a 202 to a notification; the
            // response is dropped unread, as the client does with a 202.
            let response = direct.post(http::HeaderMap::new(), Bytes::new()).await.unwrap();
            assert_eq!(response.status, http::StatusCode::OK);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "three bodiless answers, one connection");
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_while_idle_is_replaced() {
        let (url, accepted) = echo_server(1).await;
        let direct = direct(&url);
        for i in 0..3 {
            let response = direct.post(http::HeaderMap::new(), format!("call {i}").into()).await.unwrap();
            assert_eq!(body_text(response).await, format!("call {i}"));
            // Let the server's close arrive before the next POST takes the connection.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_body_dropped_before_its_end_closes_its_connection() {
        let (url, accepted) = echo_server(usize::MAX).await;
        let direct = direct(&url);
        drop(direct.post(http::HeaderMap::new(), "unread".into()).await.unwrap());
        let response = direct.post(http::HeaderMap::new(), "read".into()).await.unwrap();
        assert_eq!(body_text(response).await, "read");
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "the unread response's connection was not reused");
    }

    #[tokio::test]
    async fn nothing_listening_is_an_error_not_a_hang() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        drop(listener);
        let direct = direct(&url);
        let result = tokio::time::timeout(Duration::from_secs(10), direct.post(http::HeaderMap::new(), "x".into()))
            .await
            .expect("an answer within 10 s");
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn a_server_that_hangs_up_instead_of_answering_is_an_error_not_a_hang() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                drop(tcp);
            }
        });
        let direct = direct(&url);
        let result = tokio::time::timeout(Duration::from_secs(10), direct.post(http::HeaderMap::new(), "x".into()))
            .await
            .expect("an answer within 10 s");
        assert!(result.is_err(), "a POST nobody answered succeeded");
        assert!(direct.idle.lock().unwrap().is_empty(), "a failed connection went back to the pool");
    }

    #[test]
    fn only_plain_http_without_credentials_or_a_client_of_the_users_is_sent_directly() {
        let config = HttpClientConfig::default();
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let proxied = PROXY_VARIABLES.iter().any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        assert_eq!(Direct::for_url(&url("http://127.0.0.1:8080/mcp"), &config).is_some(), !proxied);
        assert_eq!(
            Direct::for_url(&url("http://[::1]/mcp"), &config).map(|d| d.addr),
            (!proxied).then(|| "[::1]:80".to_owned())
        );
        assert!(Direct::for_url(&url("https://127.0.0.1:8443/mcp"), &config).is_none());
        assert!(Direct::for_url(&url("http://user:secret@127.0.0.1:8080/mcp"), &config).is_none());
        let custom = HttpClientConfig::default().http_client(config.build_http().unwrap());
        assert!(Direct::for_url(&url("http://127.0.0.1:8080/mcp"), &custom).is_none());
    }
}
