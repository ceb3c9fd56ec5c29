//! Token-bucket rate limits per principal and per client IP.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// A rate: `burst` requests at once, one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// The time one request's token takes to come back (1 s / 10 for `10/s`, 6 s for `10/min`).
    pub period: Duration,
    /// How many requests may arrive at once.
    pub burst: NonZeroU32,
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `"10"` (10/s, burst 10) or `"10/s,burst=20"` or `"600/min"`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid rate {s:?}: expected e.g. \"10\", \"10/s\", \"600/min\" or \"10/s,burst=20\"");
        let (rate, burst) = match s.split_once(",burst=") {
            Some((r, b)) => (r, Some(b.trim().parse::<u32>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let (count, unit) = rate.split_once('/').unwrap_or((rate, "s"));
        let count = NonZeroU32::new(count.trim().parse().map_err(|_| bad())?).ok_or_else(bad)?;
        let window = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let burst = NonZeroU32::new(burst.unwrap_or(count.get())).ok_or_else(bad)?;
        Ok(Self { period: window / count.get(), burst })
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The principal's bucket is empty.
    Principal {
        /// When to retry.
        retry_after: Duration,
    },
    /// The client IP's bucket is empty.
    Ip {
        /// When to retry.
        retry_after: Duration,
    },
}

impl Limited {
    /// When the client may retry.
    pub fn retry_after(self) -> Duration {
        match self {
            Self::Principal { retry_after } | Self::Ip { retry_after } => retry_after,
        }
    }

    /// The metrics label of the limit that was hit.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Principal { .. } => "principal",
            Self::Ip { .. } => "ip",
        }
    }
}

/// The gateway's rate limiters; cheap to clone.
#[derive(Clone, Default)]
pub struct RateLimits {
    per_principal: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    per_ip: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("per_principal", &self.per_principal.is_some())
            .field("per_ip", &self.per_ip.is_some())
            .finish()
    }
}

fn quota(rate: Rate) -> Quota {
    // `with_period` is `None` only for a zero period, which parsing never produces.
    Quota::with_period(rate.period.max(Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(rate.burst)
}

impl RateLimits {
    /// Limits per principal and per IP; `None` disables that limit.
    pub fn new(per_principal: Option<Rate>, per_ip: Option<Rate>) -> Self {
        Self {
            per_principal: per_principal.map(|r| Arc::new(DefaultKeyedRateLimiter::keyed(quota(r)))),
            per_ip: per_ip.map(|r| Arc::new(DefaultKeyedRateLimiter::keyed(quota(r)))),
        }
    }

    /// Whether any limit is configured.
    pub fn is_enabled(&self) -> bool {
        self.per_principal.is_some() || self.per_ip.is_some()
    }

    /// Takes one token for the principal and the IP, or says which limit was hit.
    ///
    /// Reads time from each limiter's own clock: building a clock (`DefaultClock::default()`)
    /// calibrates it with CPUID instructions, which in a virtual machine cost more than the
    /// whole relay of a message.
    pub fn check(&self, principal: Option<&str>, ip: Option<IpAddr>) -> Result<(), Limited> {
        if let (Some(limiter), Some(ip)) = (&self.per_ip, ip)
            && let Err(not_until) = limiter.check_key(&ip)
        {
            return Err(Limited::Ip { retry_after: not_until.wait_time_from(limiter.clock().now()) });
        }
        if let (Some(limiter), Some(principal)) = (&self.per_principal, principal)
            && let Err(not_until) = limiter.check_key(&principal.to_owned())
        {
            return Err(Limited::Principal { retry_after: not_until.wait_time_from(limiter.clock().now()) });
        }
        Ok(())
    }

    /// Drops idle keys so the maps do not grow without bound; call periodically.
    pub fn shrink(&self) {
        if let Some(l) = &self.per_principal {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        let r: Rate = "10".parse().unwrap();
        assert_eq!((r.period, r.burst.get()), (Duration::from_millis(100), 10));
        let r: Rate = "5/s,burst=20".parse().unwrap();
        assert_eq!((r.period, r.burst.get()), (Duration::from_millis(200), 20));
        let r: Rate = "600/min".parse().unwrap();
        assert_eq!(r.period, Duration::from_millis(100));
        // Rates under one per second keep their period instead of rounding up to 1/s.
        let r: Rate = "1/min".parse().unwrap();
        assert_eq!((r.period, r.burst.get()), (Duration::from_secs(60), 1));
        assert_eq!("90/min".parse::<Rate>().unwrap().period, Duration::from_secs(60) / 90);
        assert!("0".parse::<Rate>().is_err());
        assert!("ten".parse::<Rate>().is_err());
        assert!("5/fortnight".parse::<Rate>().is_err());
    }

    #[test]
    fn per_minute_rates_refill_per_minute() {
        let limits = RateLimits::new(Some("1/min".parse().unwrap()), None);
        assert!(limits.check(Some("a"), None).is_ok());
        let refused = limits.check(Some("a"), None).unwrap_err();
        assert!(refused.retry_after() > Duration::from_secs(50), "{:?}", refused.retry_after());
    }

    #[test]
    fn burst_then_refused_per_key() {
        let limits = RateLimits::new(Some("1/s,burst=2".parse().unwrap()), None);
        assert!(limits.check(Some("alice"), None).is_ok());
        assert!(limits.check(Some("alice"), None).is_ok());
        let refused = limits.check(Some("alice"), None).unwrap_err();
        assert_eq!(refused.scope(), "principal");
        assert!(refused.retry_after() <= Duration::from_secs(1));
        // Another principal has its own bucket.
        assert!(limits.check(Some("bob"), None).is_ok());
    }

    #[test]
    fn ip_limit_applies_before_principal() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let limits = RateLimits::new(None, Some("1/s,burst=1".parse().unwrap()));
        assert!(limits.check(Some("a"), Some(ip)).is_ok());
        assert_eq!(limits.check(Some("b"), Some(ip)).unwrap_err().scope(), "ip");
    }
}
