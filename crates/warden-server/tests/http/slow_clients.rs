//! Slow clients cannot hold the server: a half-sent request or a short body is cut off after the header
//! and body timeouts, many of them at once leave `/healthz` answering, and the connection limit bounds
//! what one peer can hold. Protocol-level refusals are JSON like every other error.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::*;

/// Opens `n` connections that each send part of a request and then stall.
async fn stall(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            break;
        };
        let part: &[u8] = if i % 2 == 0 {
            // Headers that never end.
            b"POST /api/auth/sign-up HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\nX-Slow: "
        } else {
            // A body shorter than announced.
            b"POST /api/auth/sign-up HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":"
        };
        if s.write_all(part).await.is_ok() {
            held.push(s);
        }
    }
    held
}

both!(many_stalled_connections_leave_healthz_answering, |t| async move {
    let addr = t.server.base.trim_start_matches("http://").to_owned();
    let held = stall(&addr, 300).await;
    assert!(held.len() >= 250, "the stalled connections were opened: {}", held.len());
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let r = c.get(format!("{}/healthz", t.server.base)).send().await;
    assert!(
        r.as_ref().is_ok_and(|r| r.status() == 200),
        "healthz answers beside 300 stalled connections: {r:?} after {:?}",
        started.elapsed()
    );
    drop(held);
});

/// Reads what the server sends on `s` until it closes the connection, for at most `within`.
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, s.read_to_end(&mut got)).await;
    read.ok().map(|_| String::from_utf8_lossy(&got).into_owned())
}

both!(
    a_half_sent_request_is_cut_off_after_the_header_timeout,
    |t| async move {
        let server = t.server_with(|a| a.header_timeout_ms = Some(500), limits(|_| {})).await;
        let addr = server.base.trim_start_matches("http://").to_owned();
        let mut s = stall(&addr, 1).await.pop().expect("a connection");
        let started = Instant::now();
        let answer = read_until_closed(&mut s, Duration::from_secs(5)).await;
        assert!(answer.is_some(), "the server closed the stalled connection");
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }
);

both!(
    a_short_body_is_answered_408_as_json_after_the_body_timeout,
    |t| async move {
        let server = t.server_with(|a| a.body_timeout_ms = Some(500), limits(|_| {})).await;
        let addr = server.base.trim_start_matches("http://").to_owned();
        let mut held = stall(&addr, 2).await;
        let mut s = held.pop().expect("the short-body connection");
        let answer = read_until_closed(&mut s, Duration::from_secs(5))
            .await
            .expect("answered and closed within the body timeout");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    }
);

both!(a_connection_beyond_the_limit_is_answered_503_as_json, |t| async move {
    let server = t.server_with(|a| a.max_connections = Some(16), limits(|_| {})).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let held = stall(&addr, 16).await;
    assert_eq!(held.len(), 16);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(&addr).await.unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut extra, Duration::from_secs(5))
        .await
        .expect("answered at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains(r#""code":"overloaded""#) && answer.contains("retry-after: 1"),
        "{answer}"
    );
    drop(held);
    // Once they are gone, the server answers again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = reqwest::get(format!("{}/healthz", server.base)).await.unwrap();
    assert_eq!(r.status(), 200);
});

/// Sends `request` on a fresh connection and reads the answer until the server closes it.
async fn raw(addr: &str, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before it has read everything (a head over the limit).
    let _ = s.write_all(request).await;
    read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("answered and closed")
}

/// The `{code, message}` body of a raw answer, after checking it is JSON like every other error.
fn json_error(answer: &str) -> serde_json::Value {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{answer}");
    assert!(head.contains(&format!("content-length: {}", body.len())), "{answer}");
    assert!(head.contains("connection: close"), "{answer}");
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains(' ')),
        "a message in words: {answer}"
    );
    body
}

both!(
    requests_that_are_not_valid_http_are_answered_with_json_errors,
    |t| async move {
        let addr = t.server.base.trim_start_matches("http://").to_owned();

        let answer = raw(&addr, b"BREW /pot\x01 HTCPCP/1.0\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert_eq!(json_error(&answer)["code"], "bad_request", "{answer}");

        let answer = raw(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad\x01Header: v\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert_eq!(json_error(&answer)["code"], "bad_request", "{answer}");

        let big = format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(512 * 1024)
        );
        let answer = raw(&addr, big.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        let body = json_error(&answer);
        assert_eq!(body["code"], "headers_too_large", "{answer}");
        assert_documented("get", "/api/sessions", 431, &answer);

        let long = format!("GET /api/sessions/{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
        let answer = raw(&addr, long.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 414 "), "{answer}");
        assert_eq!(json_error(&answer)["code"], "uri_too_long", "{answer}");
        assert_documented("get", "/api/sessions/x", 414, &answer);

        // Ordinary answers pass through untouched.
        let answer = raw(&addr, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
        assert_eq!(json_error(&answer)["code"], "not_found");
    }
);
