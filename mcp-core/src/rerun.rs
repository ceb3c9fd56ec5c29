//! Wake-ups a future gives itself while it is being polled.
//!
//! A future that polls several things of its own often wakes itself while it runs: one part
//! hands something to another through a channel (an MCP session's handlers and queues; an HTTP
//! client connection that hyper drives, handing the request to the connection and the response
//! back). Passed on, each such wake-up reaches the task, and a task woken while it runs is
//! requeued by tokio's multi-threaded scheduler as a yield: at the back of the run queue, with
//! another worker woken to come and look (on an idle machine, a cross-thread wake-up and a
//! context switch for nothing, the largest share of a round trip on loopback). [`Rerun`] polls
//! the future again at once instead; wake-ups that arrive while it is not being polled reach the
//! task as usual. It needs no runtime.
//!
//! ```
//! use mcp_core::rerun::Rerun;
//! # futures::executor::block_on(async {
//! let answer = Rerun::new(Box::pin(async { 42 })).await;
//! assert_eq!(answer, 42);
//! # });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::task::AtomicWaker;

/// Rounds of one [`SelfWakes::poll`] before the task is handed back to the runtime anyway (work
/// that keeps waking itself, such as a future whose cooperative budget is spent, must not spin).
const ROUNDS: usize = 4;

const IDLE: u8 = 0;
const POLLING: u8 = 1;
const WOKEN: u8 = 2;

struct Flag {
    state: AtomicU8,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self.state.compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire) {
            // The poll in progress sees it and goes round again.
            Ok(_) | Err(WOKEN) => {}
            Err(_) => self.task.wake(),
        }
    }
}

/// Polls a function with a waker that turns wake-ups during the poll into another round of it
/// (see the module docs): up to four rounds, after which the task is woken to come back, so
/// work that keeps waking itself still lets other tasks run. For a hand-written `poll`
/// function; [`Rerun`] wraps a future.
pub struct SelfWakes {
    flag: Arc<Flag>,
    waker: Waker,
}

impl std::fmt::Debug for SelfWakes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfWakes").finish_non_exhaustive()
    }
}

impl Default for SelfWakes {
    fn default() -> Self {
        Self::new()
    }
}

impl SelfWakes {
    /// A new filter; keep it for the life of what it polls (the waker it hands out must stay
    /// the one registered with whatever is waited on).
    pub fn new() -> Self {
        let flag = Arc::new(Flag { state: AtomicU8::new(IDLE), task: AtomicWaker::new() });
        let waker = Waker::from(Arc::clone(&flag));
        Self { flag, waker }
    }

    /// Polls `f` with this filter's waker, again while `f` woke it during the previous round.
    pub fn poll<T>(&self, cx: &mut Context<'_>, mut f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
        self.flag.task.register(cx.waker());
        let mut inner = Context::from_waker(&self.waker);
        for _ in 0..ROUNDS {
            self.flag.state.store(POLLING, Ordering::Release);
            if let Poll::Ready(output) = f(&mut inner) {
                self.flag.state.store(IDLE, Ordering::Release);
                return Poll::Ready(output);
            }
            if self.flag.state.compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Poll::Pending;
            }
        }
        self.flag.state.store(IDLE, Ordering::Release);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A future polled again at once when it wakes itself during its poll (see the module docs and
/// [`SelfWakes`]).
pub struct Rerun<F> {
    future: F,
    wakes: SelfWakes,
}

impl<F> std::fmt::Debug for Rerun<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rerun").finish_non_exhaustive()
    }
}

impl<F> Rerun<F> {
    /// Wraps `future` (pin it first, e.g. with `Box::pin`, if it is not `Unpin`).
    pub fn new(future: F) -> Self {
        Self { future, wakes: SelfWakes::new() }
    }
}

impl<F: Future + Unpin> Future for Rerun<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let me = &mut *self;
        me.wakes.poll(cx, |cx| Pin::new(&mut me.future).poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn task() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    #[test]
    fn a_wake_during_the_poll_is_another_poll_and_one_after_it_reaches_the_task() {
        let (count, waker) = task();
        let mut polls = 0;
        let mut stash: Option<Waker> = None;
        let mut future = Rerun::new(futures::future::poll_fn(|cx| {
            polls += 1;
            stash = Some(cx.waker().clone());
            if polls == 1 {
                cx.waker().wake_by_ref();
            }
            Poll::<()>::Pending
        }));
        assert!(Pin::new(&mut future).poll(&mut Context::from_waker(&waker)).is_pending());
        drop(future);
        assert_eq!(polls, 2, "the wake-up during the first poll made a second one");
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "the task itself was not woken");
        stash.take().expect("a waker").wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "a wake-up after the poll reaches the task");
    }

    #[test]
    fn a_future_that_keeps_waking_itself_goes_back_to_the_runtime() {
        let (count, waker) = task();
        let mut polls = 0;
        let mut future = Rerun::new(futures::future::poll_fn(|cx| {
            polls += 1;
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        }));
        assert!(Pin::new(&mut future).poll(&mut Context::from_waker(&waker)).is_pending());
        drop(future);
        assert_eq!(polls, ROUNDS);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task was woken to come back");
    }

    #[test]
    fn ready_is_returned_at_once() {
        let (_count, waker) = task();
        let mut future = Rerun::new(futures::future::ready(7));
        assert_eq!(Pin::new(&mut future).poll(&mut Context::from_waker(&waker)), Poll::Ready(7));
    }
}
