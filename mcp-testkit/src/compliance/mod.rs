//! The transport compliance suite: one async test function per property of the
//! [`Transport`](mcp_core::Transport) contract, and [`run_all`] to run them all.
//!
//! Every transport crate of this workspace, and anyone writing their own transport, proves the
//! contract from a `tests/compliance.rs` with one call. Give [`run_all`] a factory that builds a
//! fresh [`TransportPair`] (two connected ends, `a` and `b`) for each property, and declare in
//! the pair what the transport supports:
//!
//! ```
//! use mcp_testkit::compliance::{self, Property, TransportPair};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // tests/compliance.rs of a transport crate: `#[tokio::test] async fn compliance() { ... }`
//! let report = compliance::run_all(|| async {
//!     let (a, b) = mcp_testkit::duplex(16);
//!     TransportPair::new(a, b)
//!         // 17 messages of ~4 KiB fit in the channel; everything else must wait.
//!         .with_buffer_bound(128 * 1024)
//!         .unsupported(Property::MalformedFrame, "typed channel: there are no bytes to corrupt")
//!         .unsupported(Property::OversizedFrame, "typed channel: no size limit")
//! })
//! .await;
//! assert_eq!(report.ran.len(), 7);
//! # }
//! ```
//!
//! A byte-oriented transport adds a [`RawInjector`] (how to put arbitrary bytes on the wire
//! towards `b`, for the malformed and oversized frames) and `b`'s limit
//! ([`TransportPair::with_max_message_bytes`]; configure a small one, a few KiB, to keep the
//! test fast). A transport over a broker adds the broker with [`TransportPair::keep_alive`].
//!
//! # What is checked
//!
//! | [`Property`] | function | needs |
//! |---|---|---|
//! | round trip both ways | [`round_trip`] | |
//! | ordering | [`ordering`] | |
//! | 1,000 messages in flight | [`many_in_flight`] | |
//! | close flushes pending sends | [`close_flushes`] | |
//! | receive is cancel-safe | [`cancel_safe_receive`] | |
//! | a malformed frame is not fatal | [`malformed_frame`] | a [`RawInjector`] |
//! | an oversized frame is rejected, the stream goes on | [`oversized_frame`] | [`TransportPair::with_max_message_bytes`] |
//! | backpressure with bounded memory | [`backpressure`] | [`TransportPair::with_buffer_bound`] |
//! | the peer disappearing ends the stream | [`peer_gone`] | |
//!
//! Nothing is skipped silently: a property the pair cannot run must be declared with
//! [`TransportPair::unsupported`] and a reason, or [`run_all`] fails saying what to add. The
//! report of what ran and what was declared unsupported is printed (to stderr, which the test
//! harness shows for failing tests and with `--nocapture`) and returned.
//!
//! Each function can also be called alone: `compliance::round_trip(make_pair().await).await`.
//!
//! # Failures and waits
//!
//! A failing property panics with a message naming it and what was expected:
//! ``transport compliance property `close_flushes` failed: expected message 57, got message 58``;
//! [`run_all`] checks the remaining properties and then fails listing every failure.
//! Every wait is bounded (10 s by default, [`TransportPair::with_timeout`]) and a timeout names
//! what was awaited. The functions need a tokio runtime with the time driver
//! (`#[tokio::test]`).

mod check;
mod flow;
mod frames;
mod lifecycle;
mod messaging;
mod pair;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

pub use flow::{backpressure, cancel_safe_receive};
pub use frames::{malformed_frame, oversized_frame};
pub use lifecycle::{close_flushes, peer_gone};
pub use messaging::{many_in_flight, ordering, round_trip};
pub use pair::{DEFAULT_STALL, DEFAULT_TIMEOUT, RawInjector, TransportPair};

/// One property of the transport contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Property {
    /// Every kind of message crosses both ways unchanged ([`round_trip`]).
    RoundTrip,
    /// Messages arrive in the order they were sent ([`ordering`]).
    Ordering,
    /// 1,000 requests in flight all get their response ([`many_in_flight`]).
    ManyInFlight,
    /// Closing delivers what was queued, then ends the peer's stream ([`close_flushes`]).
    CloseFlushes,
    /// Dropping a `next()` future loses nothing ([`cancel_safe_receive`]).
    CancelSafeReceive,
    /// A malformed frame is a non-fatal error item ([`malformed_frame`]).
    MalformedFrame,
    /// An oversized frame is rejected and the stream goes on ([`oversized_frame`]).
    OversizedFrame,
    /// A peer that does not read makes the sender wait, with bounded memory ([`backpressure`]).
    Backpressure,
    /// The peer disappearing ends the stream ([`peer_gone`]).
    PeerGone,
}

impl Property {
    /// Every property, in the order [`run_all`] checks them.
    pub const ALL: [Property; 9] = [
        Property::RoundTrip,
        Property::Ordering,
        Property::ManyInFlight,
        Property::CloseFlushes,
        Property::CancelSafeReceive,
        Property::MalformedFrame,
        Property::OversizedFrame,
        Property::Backpressure,
        Property::PeerGone,
    ];

    /// The property's name, the same as its function's.
    pub fn name(self) -> &'static str {
        match self {
            Property::RoundTrip => "round_trip",
            Property::Ordering => "ordering",
            Property::ManyInFlight => "many_in_flight",
            Property::CloseFlushes => "close_flushes",
            Property::CancelSafeReceive => "cancel_safe_receive",
            Property::MalformedFrame => "malformed_frame",
            Property::OversizedFrame => "oversized_frame",
            Property::Backpressure => "backpressure",
            Property::PeerGone => "peer_gone",
        }
    }

    /// Runs this property's check on `pair`.
    ///
    /// # Panics
    /// When the transport does not have the property; the message says what was expected.
    pub async fn check(self, pair: TransportPair) {
        match self {
            Property::RoundTrip => round_trip(pair).await,
            Property::Ordering => ordering(pair).await,
            Property::ManyInFlight => many_in_flight(pair).await,
            Property::CloseFlushes => close_flushes(pair).await,
            Property::CancelSafeReceive => cancel_safe_receive(pair).await,
            Property::MalformedFrame => malformed_frame(pair).await,
            Property::OversizedFrame => oversized_frame(pair).await,
            Property::Backpressure => backpressure(pair).await,
            Property::PeerGone => peer_gone(pair).await,
        }
    }

    /// What the pair lacks to run this property, if anything.
    fn missing(self, pair: &TransportPair) -> Option<&'static str> {
        match self {
            Property::MalformedFrame if pair.raw_to_b.is_none() => {
                Some("a raw injector (TransportPair::with_raw_injector)")
            }
            Property::OversizedFrame if pair.max_message_bytes.is_none() => {
                Some("b's message limit (TransportPair::with_max_message_bytes)")
            }
            Property::Backpressure if pair.max_buffered_bytes.is_none() => {
                Some("a buffer bound (TransportPair::with_buffer_bound)")
            }
            _ => None,
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`run_all`] did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The properties checked, all of which passed.
    pub ran: Vec<Property>,
    /// The properties the pair declared unsupported, with its reasons.
    pub unsupported: Vec<(Property, String)>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ran: Vec<&str> = self.ran.iter().map(|p| p.name()).collect();
        write!(f, "transport compliance: {} passed ({})", ran.len(), ran.join(", "))?;
        for (property, reason) in &self.unsupported {
            write!(f, "\n  not supported: {property}: {reason}")?;
        }
        Ok(())
    }
}

/// Runs every [`Property`] on a fresh pair from `factory`, and reports (to stderr and in the
/// returned [`Report`]) what ran and what the pairs declared unsupported.
///
/// A failing property does not stop the run: the others are still checked, each on its own
/// pair, and the run then fails listing every failed property and why.
///
/// # Panics
/// When any property fails, naming each and what was expected; and when a pair can run
/// neither a property nor declares it unsupported (the message says what to add).
pub async fn run_all<F, Fut>(mut factory: F) -> Report
where
    F: FnMut() -> Fut,
    Fut: Future<Output = TransportPair>,
{
    let mut report = Report::default();
    let mut failed: Vec<(Property, String)> = Vec::new();
    for property in Property::ALL {
        let pair = factory().await;
        if let Some(reason) = pair.unsupported_reason(property) {
            report.unsupported.push((property, reason.to_owned()));
            continue;
        }
        if let Some(missing) = property.missing(&pair) {
            panic!(
                "transport compliance property `{property}` cannot run: the pair needs {missing}, \
                 or declare it with TransportPair::unsupported(Property::{property:?}, \"why\")"
            );
        }
        tracing::debug!(%property, "compliance: checking");
        match AssertUnwindSafe(property.check(pair)).catch_unwind().await {
            Ok(()) => report.ran.push(property),
            Err(panic) => failed.push((property, panic_message(panic.as_ref()))),
        }
    }
    eprintln!("{report}");
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|(p, why)| format!("  {p}: {why}")).collect();
        panic!(
            "transport compliance: {} of {} properties failed:\n{}",
            failed.len(),
            failed.len() + report.ran.len(),
            list.join("\n")
        );
    }
    report
}

/// The text of a panic payload.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panicked".to_owned())
}
