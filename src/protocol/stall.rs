//! How long a try may go without visible progress before it is a stall (`requestTimeoutMs`).
//!
//! The client sees an upload's bytes leave only when the runtime takes them from the body,
//! and the runtime takes a send buffer's worth (up to a few MiB on Linux) at once, long
//! before they are on the wire. Bytes taken are therefore given the time they need at a
//! slow rate, `BYTES_PER_TIMEOUT` every `requestTimeoutMs`, before the wait counts: the
//! stall timer fires `requestTimeoutMs` after the bytes taken so far could have gone out at
//! that rate. A link that moves at least that fast is never a timeout; one that stops is,
//! once what it was given has had its time.

/// The slowest rate the allowance is made for: this many bytes every `requestTimeoutMs`
/// (4.3 KiB/s at the default 60 s, 170 KiB/s at 1.5 s).
pub const BYTES_PER_TIMEOUT: f64 = 256.0 * 1024.0;

/// At most this much of a watched body is counted as still on its way: the largest send
/// buffer common kernels grow to (Linux's `tcp_wmem` maximum). Bytes beyond it the runtime
/// takes only as earlier ones leave, which the client sees.
pub const SEND_BUFFER: f64 = 4.0 * 1024.0 * 1024.0;

/// The stall clock of one try: bytes taken and not yet counted as gone.
#[derive(Clone, Debug)]
pub struct SendClock {
    timeout_ms: f64,
    /// Bytes that may still be on their way, at `at_ms`.
    queued: f64,
    at_ms: f64,
}

impl SendClock {
    pub fn new(timeout_ms: f64) -> SendClock {
        SendClock { timeout_ms, queued: 0.0, at_ms: 0.0 }
    }

    /// The runtime took `bytes` more of the body at `now_ms` (`limit`: how many may be on their
    /// way at most, `SEND_BUFFER` for a watched body, infinite for a body handed over whole).
    /// Returns how long from now the try may go without more progress.
    pub fn taken(&mut self, now_ms: f64, bytes: f64, limit: f64) -> f64 {
        let gone = (now_ms - self.at_ms).max(0.0) * BYTES_PER_TIMEOUT / self.timeout_ms;
        let left = if self.queued > gone { self.queued - gone } else { 0.0 };
        self.queued = (left + bytes).min(limit);
        self.at_ms = now_ms;
        self.wait_ms()
    }

    /// `requestTimeoutMs`, plus the time the bytes still queued need at the slow rate.
    pub fn wait_ms(&self) -> f64 {
        wait_ms(self.timeout_ms, self.queued)
    }
}

/// How long a try may go without progress with `queued` bytes possibly still on their way.
pub fn wait_ms(timeout_ms: f64, queued: f64) -> f64 {
    timeout_ms * (1.0 + queued / BYTES_PER_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * KIB;

    #[test]
    fn nothing_taken_is_the_plain_timeout() {
        assert_eq!(SendClock::new(1500.0).wait_ms(), 1500.0);
    }

    #[test]
    fn a_body_taken_at_once_gets_its_time_then_the_timeout() {
        // 1 MiB at 256 KiB per 1.5 s: 6 s to go out, then 1.5 s for the answer.
        let mut clock = SendClock::new(1500.0);
        assert_eq!(clock.taken(0.0, MIB, SEND_BUFFER), 7500.0);
        // 3 MiB: 18 s, then 1.5 s.
        let mut clock = SendClock::new(1500.0);
        let mut wait = 0.0;
        for piece in 0..48 {
            wait = clock.taken(piece as f64, 64.0 * KIB, SEND_BUFFER);
        }
        assert!((wait - (19_500.0 - 47.0)).abs() < 1.0, "{wait}");
    }

    #[test]
    fn time_passing_counts_bytes_as_gone() {
        let mut clock = SendClock::new(1000.0);
        clock.taken(0.0, 512.0 * KIB, SEND_BUFFER);
        // After 1 s, 256 KiB are counted as gone; 256 KiB more come: 512 KiB queued.
        assert_eq!(clock.taken(1000.0, 256.0 * KIB, SEND_BUFFER), 3000.0);
        // Long after, all gone: only the new piece counts.
        assert_eq!(clock.taken(60_000.0, 64.0 * KIB, SEND_BUFFER), 1250.0);
    }

    #[test]
    fn a_watched_body_counts_at_most_a_send_buffer() {
        let mut clock = SendClock::new(1000.0);
        for _ in 0..1024 {
            clock.taken(0.0, 64.0 * KIB, SEND_BUFFER);
        }
        assert_eq!(clock.wait_ms(), 1000.0 * (1.0 + SEND_BUFFER / BYTES_PER_TIMEOUT));
        // An unwatched body counts whole.
        let mut clock = SendClock::new(1000.0);
        assert_eq!(clock.taken(0.0, 16.0 * MIB, f64::INFINITY), 65_000.0);
    }

    #[test]
    fn a_link_at_the_slow_rate_is_never_a_stall() {
        // Pieces taken as a link at the slow rate lets them go (a full send buffer ahead of
        // them): the wait never runs out between them, nor before the answer.
        let mut clock = SendClock::new(1500.0);
        let piece = 64.0 * KIB;
        let every = 1500.0 * piece / BYTES_PER_TIMEOUT;
        let mut deadline = clock.taken(0.0, 4.0 * MIB, SEND_BUFFER);
        for step in 1..200 {
            let now = step as f64 * every;
            assert!(now < deadline, "stalled at {now} ms, deadline {deadline}");
            deadline = now + clock.taken(now, piece, SEND_BUFFER);
        }
        // The send buffer (the last piece in it) goes out by then; the answer has 1.5 s more.
        let drained = 199.0 * every + 1500.0 * SEND_BUFFER / BYTES_PER_TIMEOUT;
        assert!(deadline >= drained + 1500.0 - 1.0, "{deadline} < {drained} + 1500");
    }
}
