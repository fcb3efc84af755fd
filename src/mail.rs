//! Sending email over SMTP (lettre), configured in `hailong.toml`:
//! `smtp_host`, `smtp_port`, `smtp_security` (`starttls`, `tls`, `none`),
//! `smtp_username`, `smtp_password`, `mail_from`.
//!
//! The process builds one [`Mailer`] at start-up ([`Mailer::configured`]): none when no
//! `smtp_host` is set. [`Mailer::in_memory`] keeps messages in an [`Outbox`] instead, for
//! tests that need no SMTP server.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::stub::AsyncStubTransport;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::Settings;

/// A problem configuring or sending mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no SMTP server is configured (smtp_host)")]
    NotConfigured,
    #[error("invalid smtp_security {0:?}: use starttls, tls or none")]
    Security(String),
    #[error("invalid address {0:?}")]
    Address(String),
    #[error("cannot encode the message body")]
    Body,
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot build message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("invalid content type {0:?}")]
    ContentType(String),
}

/// A file sent with a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The name the recipient sees (ASCII is safest).
    pub filename: String,
    /// A MIME type such as `text/csv; charset=utf-8`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Where messages go, and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

#[derive(Clone)]
enum Transport {
    /// An SMTP connection pool.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Messages kept in memory (see [`Outbox`]).
    Memory(AsyncStubTransport),
}

/// What an in-memory [`Mailer`] was given to send.
#[derive(Clone)]
pub struct Outbox(AsyncStubTransport);

/// One message in an [`Outbox`]: the envelope's recipients and the whole message as sent
/// (headers and encoded body).
#[derive(Debug, Clone)]
pub struct Sent {
    pub to: Vec<String>,
    pub data: String,
}

impl Outbox {
    /// The messages sent so far, oldest first.
    pub async fn messages(&self) -> Vec<Sent> {
        self.0
            .messages()
            .await
            .into_iter()
            .map(|(envelope, data)| Sent {
                to: envelope.to().iter().map(|a| a.to_string()).collect(),
                data,
            })
            .collect()
    }
}

impl Mailer {
    /// The mailer the settings describe: `None` when no `smtp_host` is set; an error when
    /// the rest of the mail settings are wrong.
    pub fn configured(s: &Settings) -> Result<Option<Mailer>, MailError> {
        match Mailer::from_settings(s) {
            Ok(m) => Ok(Some(m)),
            Err(MailError::NotConfigured) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A mailer that keeps every message in memory, and the outbox to read them from.
    pub fn in_memory(from: &str) -> Result<(Mailer, Outbox), MailError> {
        let stub = AsyncStubTransport::new_ok();
        let from = from
            .parse()
            .map_err(|_| MailError::Address(from.to_owned()))?;
        let mailer = Mailer {
            transport: Transport::Memory(stub.clone()),
            from,
        };
        Ok((mailer, Outbox(stub)))
    }

    /// Builds the transport from the settings (no connection is made yet).
    pub fn from_settings(s: &Settings) -> Result<Mailer, MailError> {
        let host = s.smtp_host.as_deref().ok_or(MailError::NotConfigured)?;
        let mut builder = match s.smtp_security.as_str() {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(25),
            other => return Err(MailError::Security(other.to_owned())),
        };
        if let Some(port) = s.smtp_port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(pass)) = (&s.smtp_username, &s.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                pass.expose_secret().to_owned(),
            ));
        }
        let from = s
            .mail_from
            .parse()
            .map_err(|_| MailError::Address(s.mail_from.clone()))?;
        Ok(Mailer {
            transport: Transport::Smtp(builder.build()),
            from,
        })
    }

    async fn deliver(&self, message: Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp(t) => {
                t.send(message).await?;
            }
            // The stub transport never fails when made with `new_ok`.
            Transport::Memory(t) => {
                let _ = t.send(message).await;
            }
        }
        Ok(())
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(
                // Quoted-printable keeps links readable in any mail client.
                Body::new_with_encoding(body, ContentTransferEncoding::QuotedPrintable)
                    .map_err(|_| MailError::Body)?,
            )?;
        self.deliver(message).await
    }

    /// Sends a plain-text message with files attached (`multipart/mixed`; each file base64
    /// encoded, so any bytes arrive intact).
    pub async fn send_with_attachments(
        &self,
        to: &str,
        subject: &str,
        body: String,
        attachments: Vec<Attachment>,
    ) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(
            Body::new_with_encoding(body, ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| MailError::Body)?,
        );
        let mut parts = MultiPart::mixed().singlepart(text);
        for a in attachments {
            let content_type = ContentType::parse(&a.content_type)
                .map_err(|_| MailError::ContentType(a.content_type.clone()))?;
            let body = Body::new_with_encoding(a.bytes, ContentTransferEncoding::Base64)
                .map_err(|_| MailError::Body)?;
            parts = parts
                .singlepart(lettre::message::Attachment::new(a.filename).body(body, content_type));
        }
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(parts)?;
        self.deliver(message).await
    }
}
