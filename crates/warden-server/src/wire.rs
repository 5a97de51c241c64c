//! The bytes between the socket and hyper. Hyper answers a request it cannot parse by itself, before
//! any service sees it and with no hook: a bad request line or bad header bytes get 400, headers over
//! its read buffer 431, a URI over its limit 414, each with an empty body. [`JsonRejections`] rewrites
//! exactly those answers, on their way out, into the `{code, message}` JSON that every other error of
//! the API carries, so a client has one error form to read.
//!
//! An automatic answer is told from the service's by its shape: a head alone (no body), status 400,
//! 414 or 431, and no `content-type`. Every answer of the router carries `content-type`, so none of
//! them is ever rewritten.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use warden_core::model::error::ErrorCode;

/// A connection whose automatic parse-error answers are rewritten as JSON (see the module's doc).
pub struct JsonRejections<S> {
    inner: S,
    /// A rewritten answer still to be written, and how much of it has been.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonRejections<S> {
    pub fn new(inner: S) -> JsonRejections<S> {
        JsonRejections {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> JsonRejections<S> {
    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonRejections<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonRejections<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = rewrite(buf) {
            this.pending = answer;
            // Hyper's bytes count as taken; ours go out now or on the flush that follows.
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored, so hyper hands each answer's head over in one buffer that [`rewrite`] can read.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The JSON form of one of hyper's automatic answers, or `None` for anything else.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    if !buf.starts_with(b"HTTP/1.") {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut head = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(len) = head.parse(buf).ok()? else {
        return None;
    };
    let no_body = head
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .is_none_or(|h| h.value == b"0");
    let typed = head.headers.iter().any(|h| h.name.eq_ignore_ascii_case("content-type"));
    if len != buf.len() || !no_body || typed {
        return None;
    }
    let (status, code, message) = match head.code? {
        400 => (
            "400 Bad Request",
            ErrorCode::BadRequest,
            "the request is not valid HTTP: its request line or one of its headers could not be read",
        ),
        414 => (
            "414 URI Too Long",
            ErrorCode::UriTooLong,
            "the request's path and query are longer than the server reads",
        ),
        431 => (
            "431 Request Header Fields Too Large",
            ErrorCode::HeadersTooLarge,
            "the request's headers are larger than the server reads, or there are too many of them",
        ),
        _ => return None,
    };
    let body = serde_json::json!({ "code": code.as_str(), "message": message }).to_string();
    let date = head
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("date"))
        .map(|h| format!("date: {}\r\n", String::from_utf8_lossy(h.value)))
        .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\
         {date}\r\n{body}",
        body.len()
    );
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(answer: &str) -> Option<String> {
        rewrite(answer.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn hypers_automatic_answers_become_json() {
        let out = rewritten("HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 14:00:00 GMT\r\n\r\n")
            .expect("rewritten");
        assert!(
            out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{out}"
        );
        assert!(
            out.contains("date: Mon, 07 Dec 2026 14:00:00 GMT\r\n"),
            "the date is kept: {out}"
        );
        let body = out.split_once("\r\n\r\n").unwrap().1;
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "headers_too_large");
        assert!(out.contains(&format!("content-length: {}\r\n", body.len())), "{out}");
        let out = rewritten("HTTP/1.1 400 Bad Request\r\n\r\n").expect("without any header too");
        assert!(out.contains(r#""code":"bad_request""#), "{out}");
    }

    #[test]
    fn the_services_answers_pass_untouched() {
        for answer in [
            // The router's own 400: typed, with a body.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            // A head whose body follows in the next write.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n",
            // Other statuses, a body chunk, a head cut short.
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n",
            r#"{"code":"x","message":"HTTP/1.1 400"}"#,
            "HTTP/1.1 400 Bad Request\r\ncontent-len",
            // An empty 400 followed by more bytes in the same buffer is not a head alone.
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        ] {
            assert_eq!(rewritten(answer), None, "{answer:?}");
        }
    }
}
