//! GET requests to the API server: counted, retried on 429/5xx with backoff that honours
//! `Retry-After`, and with error statuses turned into [`ApiError`] values the collector can
//! tell apart (403 skips a kind, 404 means not served, 410 restarts a list).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{Request, StatusCode, header};

/// At most this many tries for one request (the first and two retries).
pub const MAX_TRIES: u32 = 3;
/// A server asking us to wait longer than this is not waited on.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status.
    #[error("{code} {reason}: {message}")]
    Status { code: u16, reason: String, message: String },
    /// The request did not get an answer (connection refused, reset, TLS).
    #[error("{0}")]
    Transport(String),
}

impl ApiError {
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Status { code, .. } => Some(*code),
            ApiError::Transport(_) => None,
        }
    }
    pub fn is_forbidden(&self) -> bool {
        // 401 is a credential problem for every kind at once; 403 is RBAC for one kind.
        self.code() == Some(403)
    }
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }
    pub fn is_gone(&self) -> bool {
        self.code() == Some(410)
    }
}

/// The `metav1.Status` body of an error answer.
#[derive(serde::Deserialize, Default)]
struct StatusBody {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A counting, retrying GET client over a kube [`kube::Client`].
#[derive(Clone)]
pub struct Api {
    client: kube::Client,
    requests: Arc<AtomicU64>,
    /// First backoff when the server gives no `Retry-After`; doubled per retry.
    backoff: Duration,
}

impl Api {
    pub fn new(client: kube::Client) -> Self {
        Api { client, requests: Arc::new(AtomicU64::new(0)), backoff: Duration::from_millis(250) }
    }

    /// Use a shorter first backoff (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GET `path_and_query`; the body of a 2xx answer.
    pub async fn get(&self, path_and_query: &str, accept: &str) -> Result<bytes::Bytes, ApiError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.get_once(path_and_query, accept).await {
                Ok(body) => return Ok(body),
                Err((err, retry_after)) => {
                    let retriable = match &err {
                        ApiError::Status { code, .. } => *code == 429 || (500..600).contains(code),
                        ApiError::Transport(_) => true,
                    };
                    if !retriable || tries >= MAX_TRIES {
                        return Err(err);
                    }
                    let wait = retry_after.unwrap_or(self.backoff * 2u32.pow(tries - 1)).min(MAX_RETRY_AFTER);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn get_once(&self, path_and_query: &str, accept: &str) -> Result<bytes::Bytes, (ApiError, Option<Duration>)> {
        let request = Request::get(path_and_query)
            .header(header::ACCEPT, accept)
            .body(kube::client::Body::empty())
            .map_err(|e| (ApiError::Transport(format!("bad request {path_and_query}: {e}")), None))?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self.client.send(request).await.map_err(|e| (ApiError::Transport(e.to_string()), None))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| (ApiError::Transport(format!("reading the answer: {e}")), None))?;
        if status.is_success() {
            return Ok(body);
        }
        Err((status_error(status, &body), retry_after))
    }
}

fn status_error(status: StatusCode, body: &[u8]) -> ApiError {
    let parsed: StatusBody = serde_json::from_slice(body).unwrap_or_default();
    let fallback = || String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string();
    ApiError::Status {
        code: status.as_u16(),
        reason: parsed.reason.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string()),
        message: parsed.message.unwrap_or_else(fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bodies_are_read_when_json_and_quoted_when_not() {
        let e = status_error(StatusCode::FORBIDDEN, br#"{"kind":"Status","reason":"Forbidden","message":"no"}"#);
        assert!(e.is_forbidden());
        assert_eq!(e.to_string(), "403 Forbidden: no");
        let e = status_error(StatusCode::GONE, b"expired");
        assert!(e.is_gone());
        assert_eq!(e.to_string(), "410 Gone: expired");
    }
}
