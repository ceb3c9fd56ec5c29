//! Wake-ups a session task gives itself while it runs.
//!
//! Much of what a session polls lives in the session task itself: handlers, the transport's
//! own work (the Streamable HTTP client's POSTs), queues between them. One of those waking
//! another while the task is being polled wakes the task itself, and tokio then requeues it as
//! a yield: at the back of the run queue, with another worker woken to come and look (on an
//! otherwise idle machine, a cross-thread wake-up and a context switch for nothing). Polling
//! through [`SelfWakes`] turns such a wake-up into one more round of the same poll instead;
//! wake-ups that arrive while the task is not running go to tokio as usual.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::task::AtomicWaker;

/// Rounds of one poll before the task yields to the runtime anyway (the runtime's own
/// cooperative budget, when spent, also wakes the task: it must not spin on that).
const ROUNDS: usize = 4;

const IDLE: u8 = 0;
const RUNNING: u8 = 1;
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
        match self.state.compare_exchange(RUNNING, WOKEN, Ordering::AcqRel, Ordering::Acquire) {
            // The running poll sees it and goes round again.
            Ok(_) | Err(WOKEN) => {}
            Err(_) => self.task.wake(),
        }
    }
}

/// See the module docs.
pub(crate) struct SelfWakes {
    flag: Arc<Flag>,
    waker: Waker,
}

impl SelfWakes {
    pub(crate) fn new() -> Self {
        let flag = Arc::new(Flag { state: AtomicU8::new(IDLE), task: AtomicWaker::new() });
        let waker = Waker::from(Arc::clone(&flag));
        Self { flag, waker }
    }

    /// Polls `f` with a waker that, while `f` runs, only marks it for another round.
    pub(crate) fn poll<T>(&self, cx: &mut Context<'_>, mut f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
        self.flag.task.register(cx.waker());
        let mut inner = Context::from_waker(&self.waker);
        for _ in 0..ROUNDS {
            self.flag.state.store(RUNNING, Ordering::Release);
            if let Poll::Ready(value) = f(&mut inner) {
                self.flag.state.store(IDLE, Ordering::Release);
                return Poll::Ready(value);
            }
            if self.flag.state.compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Poll::Pending;
            }
        }
        self.flag.state.store(IDLE, Ordering::Release);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_during_the_poll_is_another_round_and_one_after_it_reaches_the_task() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&task);
        let wakes = SelfWakes::new();
        let mut rounds = 0;
        let mut stash = None;
        let result: Poll<()> = wakes.poll(&mut cx, |cx| {
            rounds += 1;
            stash = Some(cx.waker().clone());
            if rounds == 1 {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        });
        assert!(result.is_pending());
        assert_eq!(rounds, 2, "the wake-up during the first round made a second one");
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "the task itself was not woken");
        stash.take().unwrap().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "a wake-up after the poll reaches the task");
    }

    #[test]
    fn a_poll_that_keeps_waking_itself_yields_after_a_few_rounds() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&task);
        let wakes = SelfWakes::new();
        let mut rounds = 0;
        let result: Poll<()> = wakes.poll(&mut cx, |cx| {
            rounds += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        assert!(result.is_pending());
        assert_eq!(rounds, ROUNDS);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task was woken to come back");
    }

    #[test]
    fn ready_is_returned_at_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&task);
        let wakes = SelfWakes::new();
        assert_eq!(wakes.poll(&mut cx, |_| Poll::Ready(7)), Poll::Ready(7));
    }
}
