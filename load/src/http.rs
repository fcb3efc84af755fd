//! One keep-alive HTTP/1.1 connection per simulated client (hyper's
//! low-level client: no pool, no redirects, nothing between the measurement
//! and the wire).

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
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

/// A response: status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// A connection that reconnects when the server closed it.
pub struct Conn {
    addr: SocketAddr,
    host: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            host: addr.to_string(),
            sender: None,
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
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, HttpError> {
        self.send(Method::GET, path, None, Bytes::new()).await
    }
}
