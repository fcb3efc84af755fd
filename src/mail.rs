//! Sending email over SMTP (lettre), configured in `hailong.toml`:
//! `smtp_host`, `smtp_port`, `smtp_security` (`starttls`, `tls`, `none`),
//! `smtp_username`, `smtp_password`, `mail_from`.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
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

/// An SMTP connection pool and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
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
            transport: builder.build(),
            from,
        })
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
        self.transport.send(message).await?;
        Ok(())
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
        self.transport.send(message).await?;
        Ok(())
    }
}
