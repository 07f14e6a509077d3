//! The response body: a whole buffer, or a watch stream that sends its events and then stays
//! open, idle, until the client goes away or the watch's `timeoutSeconds` runs out.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

pub struct ServeBody(Inner);

enum Inner {
    Full(Option<Bytes>),
    Watch { events: VecDeque<Bytes>, deadline: Option<Pin<Box<tokio::time::Sleep>>> },
}

impl ServeBody {
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        ServeBody(Inner::Full(Some(bytes.into())))
    }

    /// `events` first, then nothing until `timeout` (never, when `None`).
    pub fn watch(events: Vec<Bytes>, timeout: Option<std::time::Duration>) -> Self {
        ServeBody(Inner::Watch { events: events.into(), deadline: timeout.map(|t| Box::pin(tokio::time::sleep(t))) })
    }
}

impl Body for ServeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().0 {
            Inner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Inner::Watch { events, deadline } => {
                if let Some(e) = events.pop_front() {
                    return Poll::Ready(Some(Ok(Frame::data(e))));
                }
                // Idle: hyper drops the body when the client closes the connection, and the
                // timer (when there is one) ends the stream as the API server does.
                match deadline {
                    Some(d) => d.as_mut().poll(cx).map(|()| None),
                    None => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.0, Inner::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Inner::Full(None) => SizeHint::with_exact(0),
            Inner::Watch { .. } => SizeHint::default(),
        }
    }
}
