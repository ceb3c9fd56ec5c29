//! Fault injection around any [`Transport`]: delay, drop, duplicate, corrupt and oversize
//! messages, and cut the connection after N messages, deterministically for a seed.
//!
//! Wrap either end of a connection in a [`FaultTransport`]; its [`Faults`] say what goes
//! wrong, with what probability, in which [`Direction`]. The same seed with the same traffic
//! makes the same faults, so a failure found with a seed reproduces; [`FaultLog`] records what
//! was done.
//!
//! Corruption and oversizing act on what the wrapped end *receives*: a typed transport has no
//! bytes to flip, so the receiver gets what a real transport yields for such a frame, a
//! non-fatal [`TransportError::Parse`] or [`TransportError::MessageTooLarge`] item in place of
//! the message. To make a real transport *send* an oversized frame, [`Faults::inflate`] pads
//! outgoing messages. Delays keep the order of messages (latency, not reordering).
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_testkit::fault::{Direction, FaultTransport, Faults};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (client, mut server) = mcp_testkit::duplex(64);
//! let faults = Faults::seeded(7).drop(Direction::Outgoing, 0.5);
//! let mut client = FaultTransport::new(client, faults);
//! let log = client.log();
//! for i in 0..10 {
//!     client.send(Message::notification("n", &serde_json::json!({ "i": i })).unwrap()).await.unwrap();
//! }
//! drop(client);
//! let mut received = 0;
//! while let Some(Ok(_)) = server.next().await {
//!     received += 1;
//! }
//! assert_eq!(received + log.count(|e| e.fault == mcp_testkit::fault::Fault::Dropped), 10);
//! # }
//! ```

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures::{Sink, Stream};
use mcp_core::{Message, RawJson, Transport, TransportError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Sleep;

/// Which way a fault applies, seen from the wrapped end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Messages the wrapped end receives.
    Incoming,
    /// Messages the wrapped end sends.
    Outgoing,
    /// Both ways.
    Both,
}

impl Direction {
    fn includes(self, other: Direction) -> bool {
        self == Direction::Both || self == other
    }
}

/// Probabilities (0.0 to 1.0) of each fault for one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Rates {
    drop: f64,
    duplicate: f64,
    delay: f64,
    max_delay: Duration,
    corrupt: f64,
    oversize: f64,
    /// Incoming: the limit a too-large item names. Outgoing: the padding added.
    oversize_bytes: usize,
}

/// What goes wrong, how often, and when the connection is cut; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Faults {
    seed: u64,
    incoming: Rates,
    outgoing: Rates,
    cut_after: Option<usize>,
}

impl Faults {
    /// No faults yet, with the random generator seeded by `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self { seed, incoming: Rates::default(), outgoing: Rates::default(), cut_after: None }
    }

    fn set(mut self, direction: Direction, apply: impl Fn(&mut Rates)) -> Self {
        if direction.includes(Direction::Incoming) {
            apply(&mut self.incoming);
        }
        if direction.includes(Direction::Outgoing) {
            apply(&mut self.outgoing);
        }
        self
    }

    /// Loses a message with probability `p`.
    #[must_use]
    pub fn drop(self, direction: Direction, p: f64) -> Self {
        self.set(direction, |r| r.drop = p)
    }

    /// Delivers a message twice with probability `p`.
    #[must_use]
    pub fn duplicate(self, direction: Direction, p: f64) -> Self {
        self.set(direction, |r| r.duplicate = p)
    }

    /// Holds a message (and those behind it) for up to `max` with probability `p`.
    #[must_use]
    pub fn delay(self, direction: Direction, p: f64, max: Duration) -> Self {
        self.set(direction, |r| {
            r.delay = p;
            r.max_delay = max;
        })
    }

    /// Replaces a received message by a non-fatal [`TransportError::Parse`] item with
    /// probability `p`, as a corrupted frame.
    #[must_use]
    pub fn corrupt(self, p: f64) -> Self {
        self.set(Direction::Incoming, |r| r.corrupt = p)
    }

    /// Replaces a received message by a non-fatal [`TransportError::MessageTooLarge`] item
    /// naming `limit` with probability `p`, as a frame over the receiver's limit.
    #[must_use]
    pub fn oversize(self, p: f64, limit: usize) -> Self {
        self.set(Direction::Incoming, |r| {
            r.oversize = p;
            r.oversize_bytes = limit;
        })
    }

    /// Pads a sent message with `bytes` of extra JSON (a `_testkitPadding` member of its
    /// params or result object) with probability `p`, so that the wrapped transport really
    /// sends a frame over the receiver's limit: tests the receiving end's limit end to end.
    /// Messages whose params or result are not objects pass unpadded.
    #[must_use]
    pub fn inflate(self, p: f64, bytes: usize) -> Self {
        self.set(Direction::Outgoing, |r| {
            r.oversize = p;
            r.oversize_bytes = bytes;
        })
    }

    /// Cuts the connection once `n` messages (both directions together) have passed: the
    /// stream yields [`TransportError::ConnectionLost`] then `None`, sends fail, and the
    /// wrapped transport is dropped so the peer sees the connection end.
    #[must_use]
    pub fn cut_after(mut self, n: usize) -> Self {
        self.cut_after = Some(n);
        self
    }
}

/// A fault that was injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The message was lost.
    Dropped,
    /// The message was delivered twice.
    Duplicated,
    /// The message was held for this long.
    Delayed(Duration),
    /// The message became a parse error item.
    Corrupted,
    /// The message became a too-large error item.
    Oversized,
    /// The connection was cut before this message.
    Cut,
}

/// One injected fault: which message (counted per direction from 0), which way, what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultEvent {
    /// [`Direction::Incoming`] or [`Direction::Outgoing`].
    pub direction: Direction,
    /// The message's position in its direction, from 0.
    pub index: usize,
    /// What was done to it.
    pub fault: Fault,
}

/// The faults a [`FaultTransport`] injected, shared with the test.
#[derive(Debug, Clone, Default)]
pub struct FaultLog(Arc<Mutex<Vec<FaultEvent>>>);

impl FaultLog {
    fn push(&self, event: FaultEvent) {
        tracing::debug!(?event.direction, event.index, ?event.fault, "fault injected");
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(event);
    }

    /// Every fault so far, in order.
    pub fn events(&self) -> Vec<FaultEvent> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// How many faults so far match `filter`.
    pub fn count(&self, filter: impl Fn(&FaultEvent) -> bool) -> usize {
        self.events().iter().filter(|e| filter(e)).count()
    }
}

/// One direction's generator, position and pending delay.
struct Lane {
    rates: Rates,
    rng: StdRng,
    index: usize,
    /// Messages decided on but not yet handed on (at most two: a duplicate).
    queue: VecDeque<Result<Message, TransportError>>,
    delay: Option<Pin<Box<Sleep>>>,
}

impl Lane {
    fn new(rates: Rates, seed: u64) -> Self {
        Self { rates, rng: StdRng::seed_from_u64(seed), index: 0, queue: VecDeque::new(), delay: None }
    }

    /// Decides the fate of `message` and queues what is to be delivered.
    fn admit(&mut self, message: Message, direction: Direction, log: &FaultLog) {
        let index = self.index;
        self.index += 1;
        // Draw every number every time, so one fault's rate does not shift another's draws.
        let draws: [f64; 5] = std::array::from_fn(|_| self.rng.random());
        let delay_fraction: f64 = self.rng.random();
        let record = |fault| log.push(FaultEvent { direction, index, fault });
        if draws[0] < self.rates.drop {
            return record(Fault::Dropped);
        }
        if draws[1] < self.rates.corrupt {
            record(Fault::Corrupted);
            let detail = format!("message {index} corrupted by fault injection");
            self.queue.push_back(Err(TransportError::Parse { detail }));
        } else if draws[2] < self.rates.oversize {
            record(Fault::Oversized);
            let bytes = self.rates.oversize_bytes;
            if direction == Direction::Outgoing {
                self.queue.push_back(Ok(inflate(message, bytes)));
            } else {
                let size = Some(message.to_vec().len().max(bytes + 1));
                let setting = Some("fault::Faults::oversize");
                self.queue.push_back(Err(TransportError::MessageTooLarge { size, limit: bytes, setting }));
            }
        } else if draws[3] < self.rates.duplicate {
            record(Fault::Duplicated);
            self.queue.push_back(Ok(message.clone()));
            self.queue.push_back(Ok(message));
        } else {
            self.queue.push_back(Ok(message));
        }
        if draws[4] < self.rates.delay {
            let delay = self.rates.max_delay.mul_f64(delay_fraction);
            record(Fault::Delayed(delay));
            self.delay = Some(Box::pin(tokio::time::sleep(delay)));
        }
    }

    /// Waits out a pending delay.
    fn poll_delay(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(sleep) = self.delay.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            self.delay = None;
        }
        Poll::Ready(())
    }
}

/// `message` with `bytes` of padding in its params or result object.
fn inflate(mut message: Message, bytes: usize) -> Message {
    let pad = |raw: Option<&RawJson>| -> Option<RawJson> {
        let mut value = raw.map_or_else(|| serde_json::json!({}), RawJson::to_value);
        value.as_object_mut()?.insert("_testkitPadding".into(), "x".repeat(bytes).into());
        RawJson::try_from(value).ok()
    };
    match &mut message {
        Message::Request(r) => r.params = pad(r.params.as_ref()).or(r.params.take()),
        Message::Notification(n) => n.params = pad(n.params.as_ref()).or(n.params.take()),
        Message::Response(r) => {
            if let Some(padded) = pad(Some(&r.result)) {
                r.result = padded;
            }
        }
        Message::Error(_) | Message::Batch(_) => {}
    }
    message
}

/// A [`Transport`] that injects [`Faults`] into another; see the [module docs](self).
pub struct FaultTransport<T> {
    inner: Option<Pin<Box<T>>>,
    incoming: Lane,
    outgoing: Lane,
    cut_after: Option<usize>,
    passed: usize,
    /// Whether the stream has reported the cut (then it yields `None`).
    cut_reported: bool,
    log: FaultLog,
}

impl<T: Transport> FaultTransport<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, faults: Faults) -> Self {
        Self {
            inner: Some(Box::pin(inner)),
            incoming: Lane::new(faults.incoming, faults.seed),
            outgoing: Lane::new(faults.outgoing, faults.seed ^ 0x9E37_79B9_7F4A_7C15),
            cut_after: faults.cut_after,
            passed: 0,
            cut_reported: false,
            log: FaultLog::default(),
        }
    }

    /// The record of injected faults (a shared handle: take it before handing the transport on).
    pub fn log(&self) -> FaultLog {
        self.log.clone()
    }

    /// Counts one message; cuts the connection when the budget is spent. Returns whether the
    /// message may pass.
    fn admit_one(&mut self, direction: Direction) -> bool {
        if self.inner.is_none() {
            return false;
        }
        if self.cut_after.is_some_and(|n| self.passed >= n) {
            let index = if direction == Direction::Incoming { self.incoming.index } else { self.outgoing.index };
            self.log.push(FaultEvent { direction, index, fault: Fault::Cut });
            self.inner = None;
            return false;
        }
        self.passed += 1;
        true
    }

    fn cut_error(&self) -> TransportError {
        TransportError::ConnectionLost(format!(
            "cut by fault injection after {} messages",
            self.cut_after.unwrap_or(self.passed)
        ))
    }

    /// Hands queued outgoing messages to the inner sink, after any delay.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        while !self.outgoing.queue.is_empty() {
            ready!(self.outgoing.poll_delay(cx));
            let Some(inner) = self.inner.as_mut() else { return Poll::Ready(Err(self.cut_error())) };
            ready!(inner.as_mut().poll_ready(cx))?;
            if let Some(Ok(message)) = self.outgoing.queue.pop_front() {
                inner.as_mut().start_send(message)?;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T> std::fmt::Debug for FaultTransport<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultTransport")
            .field("passed", &self.passed)
            .field("cut", &self.inner.is_none())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Sink<Message> for FaultTransport<T> {
    type Error = TransportError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match this.inner.as_mut() {
            Some(inner) => inner.as_mut().poll_ready(cx),
            None => Poll::Ready(Err(this.cut_error())),
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        let this = self.get_mut();
        if !this.admit_one(Direction::Outgoing) {
            return Err(this.cut_error());
        }
        this.outgoing.admit(item, Direction::Outgoing, &this.log);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match this.inner.as_mut() {
            Some(inner) => inner.as_mut().poll_flush(cx),
            None => Poll::Ready(Err(this.cut_error())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        match this.inner.as_mut() {
            Some(inner) => inner.as_mut().poll_close(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl<T: Transport> Stream for FaultTransport<T> {
    type Item = Result<Message, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if !this.incoming.queue.is_empty() {
                ready!(this.incoming.poll_delay(cx));
                return Poll::Ready(this.incoming.queue.pop_front());
            }
            let Some(inner) = this.inner.as_mut() else {
                if this.cut_reported {
                    return Poll::Ready(None);
                }
                this.cut_reported = true;
                return Poll::Ready(Some(Err(this.cut_error())));
            };
            match ready!(inner.as_mut().poll_next(cx)) {
                Some(Ok(message)) => {
                    if this.admit_one(Direction::Incoming) {
                        this.incoming.admit(message, Direction::Incoming, &this.log);
                    }
                }
                other => return Poll::Ready(other),
            }
        }
    }
}
