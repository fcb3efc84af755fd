//! One keep-alive HTTP/1.1 connection per simulated client (hyper's
//! low-level client: no pool, no redirects, nothing between the measurement
//! and the wire), with the cookies the server set (a browser's draft cookie).

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, COOKIE, HOST, LOCATION, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connect: {0}")]
    Connect(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("the connection closed")]
    Closed,
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
}

/// A response: status, where a redirect goes, and body.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: Bytes,
}

/// A connection that reconnects when the server closed it, and keeps the cookies the
/// server set (name and value; one client, one site).
pub struct Conn {
    addr: SocketAddr,
    host: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    cookies: Vec<(String, String)>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            host: addr.to_string(),
            sender: None,
            cookies: Vec::new(),
        }
    }

    /// Forgets every cookie (a new respondent on the same connection).
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// Keeps a `Set-Cookie` header's name and value (an empty value, or `Max-Age=0`,
    /// removes it).
    fn keep_cookie(&mut self, header: &str) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
            return;
        };
        let removed = value.is_empty() || parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        self.cookies.retain(|(n, _)| n != name);
        if !removed {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, HttpError> {
        let usable = match &mut self.sender {
            Some(s) => s.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or(HttpError::Closed)
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Answer, HttpError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, &self.host);
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            req = req.header(COOKIE, jar.join("; "));
        }
        let req = req.body(Full::new(body))?;
        let sender = self.sender().await?;
        let result = sender.send_request(req).await;
        let res = match result {
            Ok(res) => res,
            Err(e) => {
                self.sender = None;
                return Err(e.into());
            }
        };
        let status = res.status();
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set: Vec<String> = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for header in &set {
            self.keep_cookie(header);
        }
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            location,
            body,
        })
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, HttpError> {
        self.send(Method::GET, path, None, Bytes::new()).await
    }
}
