//! Mail from the test's side: the app's in-memory outbox, or a real SMTP server on
//! loopback ([`start_sink`]) for the tests that are about SMTP itself.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hailong::mail::Outbox;
pub use hailong::mail::Sent as Received;
use mail_parser::{MessageParser, MimeHeaders};

/// What the app sent: read from its in-memory outbox or from an SMTP sink.
#[derive(Clone)]
pub enum Inbox {
    Memory(Outbox),
    Smtp(Arc<Mutex<Vec<Received>>>),
}

impl Inbox {
    /// The messages received so far, oldest first.
    pub async fn messages(&self) -> Vec<Received> {
        match self {
            Inbox::Memory(outbox) => outbox.messages().await,
            Inbox::Smtp(store) => store.lock().unwrap().clone(),
        }
    }

    /// Waits (up to 10 s) until `n` messages have arrived (mail is often sent after the
    /// answer) and checks that no more did; the messages.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.messages().await;
            if got.len() >= n || Instant::now() > deadline {
                assert_eq!(got.len(), n, "messages received");
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The text of a message, decoded from its transfer encoding (its first text part).
pub fn decoded(data: &str) -> String {
    let message = MessageParser::default()
        .parse(data.as_bytes())
        .expect("a MIME message");
    message.body_text(0).expect("a text part").into_owned()
}

/// The decoded bytes of the attachment named `filename`.
pub fn attachment(data: &str, filename: &str) -> Vec<u8> {
    let message = MessageParser::default()
        .parse(data.as_bytes())
        .expect("a MIME message");
    message
        .attachments()
        .find(|a| a.attachment_name() == Some(filename))
        .unwrap_or_else(|| panic!("no attachment {filename}"))
        .contents()
        .to_vec()
}

/// A minimal SMTP server on 127.0.0.1 that keeps what it receives; its port.
pub fn start_sink() -> (u16, Inbox) {
    start_slow_sink(Duration::ZERO)
}

/// Like [`start_sink`], waiting `delay` before its greeting and again before accepting
/// each message: a slow mail server.
pub fn start_slow_sink(delay: Duration) -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let store = inbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let store = store.clone();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let _ = out.write_all(b"220 sink ESMTP\r\n");
                let mut to = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = out.write_all(b"354 go ahead\r\n");
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if reader.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        std::thread::sleep(delay);
                        store.lock().unwrap().push(Received {
                            to: std::mem::take(&mut to),
                            data,
                        });
                        b"250 OK queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    if out.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, Inbox::Smtp(inbox))
}

/// Points the settings at an SMTP server on loopback (plain SMTP, no TLS).
pub fn smtp_on(s: &mut hailong::config::Settings, port: u16) {
    s.smtp_host = Some("127.0.0.1".into());
    s.smtp_port = Some(port);
    s.smtp_security = "none".into();
    s.mail_from = "Hailong <no-reply@example.vn>".into();
}
