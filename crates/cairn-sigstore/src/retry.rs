//! Bounded retries for Sigstore service calls: transport errors, timeouts, 429 and 5xx are retried
//! with exponential backoff up to [`Retry::attempts`] times; anything else fails at once.

use std::future::Future;
use std::time::Duration;

use sigstore_sign::reqwest;

use crate::error::{Error, Result, Service};

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Total attempts per request (at least 1).
    pub attempts: u32,
    /// Delay before the second attempt; doubled each time.
    pub backoff: Duration,
    /// Per-request timeout (connect + response).
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The outcome of one failed attempt.
#[derive(Debug)]
pub enum Attempt {
    /// Worth trying again (transport error, timeout, 429, 5xx).
    Transient(Box<dyn std::error::Error + Send + Sync>),
    /// Not worth trying again (4xx, malformed answer).
    Fatal(Box<dyn std::error::Error + Send + Sync>),
}

/// An HTTP status that is not a success.
#[derive(Debug, thiserror::Error)]
#[error("{what} answered HTTP {status}")]
pub struct StatusError {
    /// The status.
    pub status: u16,
    /// The request.
    pub what: String,
}

impl Attempt {
    /// A transport error (connection refused, reset, timeout): transient.
    pub fn transport(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Attempt::Transient(Box::new(e))
    }

    /// `Ok` for 2xx; transient for 429/5xx; fatal otherwise.
    pub fn check_status<S: Into<String>>(
        status: u16,
        what: impl FnOnce() -> S,
    ) -> Result<(), Self> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        let err = Box::new(StatusError {
            status,
            what: what().into(),
        });
        Err(if status == 429 || status >= 500 {
            Attempt::Transient(err)
        } else {
            Attempt::Fatal(err)
        })
    }

    /// Classifies an HTTP status carried by a client library's error.
    pub fn from_status(status: u16, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        if status == 429 || status >= 500 {
            Attempt::Transient(Box::new(e))
        } else {
            Attempt::Fatal(Box::new(e))
        }
    }
}

/// Runs `op` until it succeeds, fails fatally, or `retry.attempts` are spent.
pub async fn with_retries<T, F, Fut>(retry: &Retry, service: Service, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt>>,
{
    let attempts = retry.attempts.max(1);
    let mut delay = retry.backoff;
    let mut n = 0;
    loop {
        n += 1;
        match tokio::time::timeout(retry.timeout, op()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(Attempt::Fatal(source))) => {
                return Err(Error::Service {
                    service,
                    attempts: n,
                    source,
                });
            }
            Ok(Err(Attempt::Transient(source))) if n >= attempts => {
                return Err(Error::Service {
                    service,
                    attempts: n,
                    source,
                });
            }
            Err(_elapsed) if n >= attempts => {
                return Err(Error::Service {
                    service,
                    attempts: n,
                    source: format!("no answer within {:?}", retry.timeout).into(),
                });
            }
            Ok(Err(Attempt::Transient(e))) => {
                tracing::debug!(%service, attempt = n, error = %e, "retrying");
            }
            Err(_elapsed) => {
                tracing::debug!(%service, attempt = n, "timed out, retrying");
            }
        }
        tokio::time::sleep(delay).await;
        delay = delay.saturating_mul(2);
    }
}

/// The one HTTP client (rustls, no proxies other than the standard variables).
pub fn http_client(retry: &Retry) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(retry.timeout)
        .connect_timeout(retry.timeout)
        .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Signing {
            source: Box::new(e),
        })
}

/// Runs a future to completion on a fresh single-threaded runtime (the library API is blocking).
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can always be built")
        .block_on(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> Retry {
        Retry {
            attempts: 3,
            backoff: Duration::from_millis(1),
            timeout: Duration::from_millis(200),
        }
    }

    #[test]
    fn retries_transient_then_gives_up() {
        let calls = AtomicU32::new(0);
        let r: Result<()> = block_on(with_retries(&fast(), Service::Rekor, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(Attempt::check_status(503, || "x").expect_err("503 fails")) }
        }));
        assert!(matches!(
            r,
            Err(Error::Service {
                service: Service::Rekor,
                attempts: 3,
                ..
            })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn fatal_is_not_retried_and_success_stops() {
        let calls = AtomicU32::new(0);
        let r: Result<()> = block_on(with_retries(&fast(), Service::Fulcio, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(Attempt::check_status(401, || "x").expect_err("401 fails")) }
        }));
        assert!(matches!(r, Err(Error::Service { attempts: 1, .. })));
        let calls = AtomicU32::new(0);
        let r = block_on(with_retries(&fast(), Service::Tsa, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(Attempt::check_status(500, || "x").expect_err("500 fails"))
                } else {
                    Ok(7)
                }
            }
        }));
        assert_eq!(r.expect("second try succeeds"), 7);
    }

    #[test]
    fn timeouts_are_bounded() {
        let r: Result<()> = block_on(with_retries(&fast(), Service::Fulcio, || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        }));
        assert!(matches!(r, Err(Error::Service { attempts: 3, .. })));
    }
}
