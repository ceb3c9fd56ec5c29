//! Flow control: a window of data messages per direction, so a reader that stops reading
//! makes the *sender* wait instead of overflowing a NATS subscription (where core NATS would
//! drop messages).
//!
//! Each side announces its receive window in the handshake and reports, on its control subject,
//! how many data messages it has handed to the application so far (a cumulative count, so a
//! lost report is repaired by the next one; one goes out at least every heartbeat interval). A
//! side publishes only while fewer than the peer's window are unreported.

/// Both directions' counters of one session.
#[derive(Debug)]
pub(crate) struct Credit {
    /// Data messages published.
    sent: u64,
    /// Of those, how many the peer has consumed, as far as we know.
    acked: u64,
    /// How many unacknowledged messages the peer accepts.
    peer_window: u64,
    /// Added to the peer's reports after an interruption, which may have lost messages the peer
    /// will never count: the reports restart from where we stood.
    offset: i128,
    /// The peer's last report, raw.
    last_report: u64,
    /// Our receive window.
    window: u64,
    /// Data messages handed to the application.
    consumed: u64,
    /// The last count reported to the peer.
    reported: u64,
}

impl Credit {
    pub(crate) fn new(window: u64, peer_window: Option<u64>) -> Self {
        Self {
            sent: 0,
            acked: 0,
            peer_window: peer_window.unwrap_or(u64::MAX).max(1),
            offset: 0,
            last_report: 0,
            window,
            consumed: 0,
            reported: 0,
        }
    }

    /// Whether one more data message may be published now.
    pub(crate) fn may_send(&self) -> bool {
        self.sent - self.acked < self.peer_window
    }

    pub(crate) fn on_sent(&mut self) {
        self.sent += 1;
    }

    /// The peer reports having consumed `consumed` messages in all.
    pub(crate) fn on_report(&mut self, consumed: u64) {
        self.last_report = self.last_report.max(consumed);
        let effective = (i128::from(self.last_report) + self.offset).clamp(0, i128::from(self.sent));
        self.acked = self.acked.max(u64::try_from(effective).unwrap_or(0));
    }

    /// Messages in flight may be lost: count them as consumed rather than wait forever for
    /// reports that will not come. At worst the peer briefly holds two windows.
    pub(crate) fn on_interruption(&mut self) {
        self.offset = i128::from(self.sent) - i128::from(self.last_report);
        self.acked = self.sent;
    }

    /// One message handed to the application; the count to report, when a report is due.
    pub(crate) fn on_consumed(&mut self) -> Option<u64> {
        self.consumed += 1;
        (self.consumed - self.reported >= (self.window / 4).max(1)).then(|| self.take_report())
    }

    /// The count to report on a heartbeat, if anything changed since the last report.
    pub(crate) fn report_due(&mut self) -> Option<u64> {
        (self.consumed != self.reported).then(|| self.take_report())
    }

    fn take_report(&mut self) -> u64 {
        self.reported = self.consumed;
        self.consumed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_bounds_what_is_unacknowledged() {
        let mut c = Credit::new(8, Some(3));
        for _ in 0..3 {
            assert!(c.may_send());
            c.on_sent();
        }
        assert!(!c.may_send());
        c.on_report(1);
        assert!(c.may_send());
        c.on_sent();
        assert!(!c.may_send());
        c.on_report(0); // stale reports never take credit back
        assert!(!c.may_send());
    }

    #[test]
    fn an_interruption_forgives_lost_messages_within_bounds() {
        let mut c = Credit::new(8, Some(2));
        c.on_sent();
        c.on_sent();
        c.on_report(1);
        c.on_sent();
        assert!(!c.may_send(), "3 sent, 1 consumed, window 2");
        c.on_interruption(); // messages 2 and 3 may be lost: the peer would never count them
        assert!(c.may_send());
        c.on_sent();
        c.on_sent();
        assert!(!c.may_send());
        c.on_report(2); // one more counted after the interruption: one of ours is through
        assert!(c.may_send());
        c.on_report(100); // never beyond what was sent
        c.on_sent();
        c.on_sent();
        assert!(!c.may_send());
    }

    #[test]
    fn reports_go_out_every_quarter_window_and_on_heartbeats() {
        let mut c = Credit::new(8, None);
        assert_eq!(c.on_consumed(), None);
        assert_eq!(c.on_consumed(), Some(2));
        assert_eq!(c.report_due(), None);
        assert_eq!(c.on_consumed(), None);
        assert_eq!(c.report_due(), Some(3));
        assert!(Credit::new(1, None).on_consumed().is_some());
    }
}
