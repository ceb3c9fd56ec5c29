//! The testkit's transport compliance suite, all nine properties, over every medium of this
//! crate: an in-process pipe, a child process, TCP and a Unix socket.

mod support;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::StreamExt;
use mcp_testkit::compliance::{self, RawInjector, TransportPair};
use mcp_transport_stdio::{ChildProcess, LinesTransport, ListenerConfig, StdioConfig, TcpAcceptor, UnixAcceptor};
use support::{example, within};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The receive limit of every pair: small, so the oversized-frame property stays fast.
const LIMIT: usize = 4096;
/// The sink's own buffer before it waits.
const WRITE_BUFFER: usize = 16 * 1024;

fn framing() -> StdioConfig {
    StdioConfig::default().with_max_message_bytes(LIMIT).with_write_buffer_bytes(WRITE_BUFFER)
}

/// One writer shared by `a`'s sink and the raw injector (the suite never uses both at once).
struct SharedWriter<W>(Arc<Mutex<W>>);

impl<W> Clone for SharedWriter<W> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for SharedWriter<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_shutdown(cx)
    }
}

/// `a`'s writer, and an injector writing raw lines through it towards `b`.
fn shared<W: AsyncWrite + Unpin + Send + 'static>(writer: W) -> (SharedWriter<W>, RawInjector) {
    let writer = SharedWriter(Arc::new(Mutex::new(writer)));
    let injecting = writer.clone();
    let injector = RawInjector::new(move |mut frame: Vec<u8>| {
        let mut writer = injecting.clone();
        async move {
            frame.push(b'\n');
            writer.write_all(&frame).await?;
            writer.flush().await
        }
    });
    (writer, injector)
}

fn assert_all_nine(report: &compliance::Report) {
    assert_eq!(report.ran.len(), 9, "{report}");
    assert!(report.unsupported.is_empty(), "{report}");
}

#[tokio::test]
async fn in_process_pipe() {
    const PIPE: usize = 64 * 1024;
    let report = compliance::run_all(|| async {
        let (a_end, b_end) = tokio::io::duplex(PIPE);
        let (a_read, a_write) = tokio::io::split(a_end);
        let (b_read, b_write) = tokio::io::split(b_end);
        let (a_write, injector) = shared(a_write);
        let a = LinesTransport::with_config(a_read, a_write, &framing());
        let b = LinesTransport::with_config(b_read, b_write, &framing());
        TransportPair::new(a, b)
            .with_raw_injector(injector)
            .with_max_message_bytes(LIMIT)
            .with_buffer_bound(PIPE + WRITE_BUFFER + 2 * LIMIT)
    })
    .await;
    assert_all_nine(&report);
}

#[tokio::test]
async fn tcp() {
    let report = compliance::run_all(|| async {
        let config = ListenerConfig::default().with_framing(framing());
        let mut acceptor = TcpAcceptor::bind_with("127.0.0.1:0", config).await.unwrap();
        let stream = tokio::net::TcpStream::connect(acceptor.local_addr().unwrap()).await.unwrap();
        let b = within("the accepted TCP session", acceptor.next()).await.unwrap().transport;
        let (read, write) = stream.into_split();
        let (write, injector) = shared(write);
        let a = LinesTransport::with_config(read, write, &framing());
        TransportPair::new(a, b)
            .with_raw_injector(injector)
            .with_max_message_bytes(LIMIT)
            // Loopback socket buffers grow with autotuning; a few MiB at most.
            .with_buffer_bound(16 << 20)
            .keep_alive(acceptor)
    })
    .await;
    assert_all_nine(&report);
}

#[tokio::test]
async fn unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let report = compliance::run_all(|| {
        n += 1;
        let path = dir.path().join(format!("pair-{n}.sock"));
        async move {
            let config = ListenerConfig::default().with_framing(framing());
            let mut acceptor = UnixAcceptor::bind_with(&path, config).unwrap();
            let stream = tokio::net::UnixStream::connect(&path).await.unwrap();
            let b = within("the accepted Unix session", acceptor.next()).await.unwrap().transport;
            let (read, write) = stream.into_split();
            let (write, injector) = shared(write);
            let a = LinesTransport::with_config(read, write, &framing());
            TransportPair::new(a, b)
                .with_raw_injector(injector)
                .with_max_message_bytes(LIMIT)
                .with_buffer_bound(4 << 20)
                .keep_alive(acceptor)
        }
    })
    .await;
    assert_all_nine(&report);
}

/// `b` is a [`ChildProcessTransport`](mcp_transport_stdio::ChildProcessTransport) running the
/// `stdio-relay` example, whose other side is a Unix socket held by the test as `a`.
#[tokio::test]
async fn child_process() {
    let relay = example("stdio-relay");
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let report = compliance::run_all(|| {
        n += 1;
        let path = dir.path().join(format!("relay-{n}.sock"));
        let relay = relay.clone();
        async move {
            let listener = tokio::net::UnixListener::bind(&path).unwrap();
            let b = ChildProcess::new(&relay).arg(&path).config(framing()).spawn().unwrap();
            let (stream, _) = within("the relay to connect", listener.accept()).await.unwrap();
            let (read, write) = stream.into_split();
            let (write, injector) = shared(write);
            let a = LinesTransport::with_config(read, write, &framing());
            TransportPair::new(a, b)
                .with_raw_injector(injector)
                .with_max_message_bytes(LIMIT)
                // Socket buffers both ways, the pipe, the relay's copy buffer.
                .with_buffer_bound(4 << 20)
        }
    })
    .await;
    assert_all_nine(&report);
}
