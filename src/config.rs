//! Typed settings: defaults < `hailong.toml` < `HAILONG_*` environment < flags.
//!
//! The app never reads the plain `DATABASE_URL`: that name belongs to the tests.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Where the default SQLite database lives, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/hailong.db";
/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Everything configurable about a Hailong process. The secrets (`smtp_password`,
/// `secret_key`) are [`SecretString`]s: `{:?}` shows them as `[REDACTED]` and
/// serializing the settings leaves them out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// Address and port `serve` listens on.
    pub bind: String,
    /// Log filter in `tracing` syntax, e.g. `info` or `hailong=debug`.
    pub log: String,
    /// Public base URL used in links sent by email (e.g. `https://hailong.example.vn`).
    pub base_url: Option<String>,
    /// Maximum database connections in the pool.
    pub max_connections: u32,
    /// Answers (form posts and API submissions) each client address may send
    /// per minute, counted in memory only; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Also limit loopback clients (127.0.0.1, ::1); off by default.
    pub rate_limit_loopback: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (IP addresses).
    pub trusted_proxies: Vec<String>,
    /// Seconds a client has to send a request's headers once connected
    /// (actix `client_request_timeout`); 408 and the connection closed after.
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body once its headers
    /// arrived; 408 and the connection closed after.
    pub body_timeout_secs: u64,
    /// Requests one client address may have in progress at once (from its
    /// headers to the response); 0 turns the cap off.
    pub max_connections_per_client: u32,
    /// Also cap loopback clients and trusted proxies themselves; off by default.
    pub connection_limit_loopback: bool,
    /// SMTP server for invitations; none: invitations cannot be sent.
    pub smtp_host: Option<String>,
    /// SMTP port (default: 587 for `starttls`, 465 for `tls`, 25 for `none`).
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (plain, e.g. a local relay).
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    #[serde(skip_serializing)]
    pub smtp_password: Option<SecretString>,
    /// Sender of invitations, e.g. `Khảo sát <khaosat@example.gov.vn>`.
    pub mail_from: String,
    /// Hosts (e.g. `192.168.1.10:8080` or `https://khaosat.example.vn`) whose
    /// `Host` header may name the survey address in a QR code when `base_url`
    /// is unset; the link is built from the entry, never from the request.
    pub qr_hosts: Vec<String>,
    /// The lowest `min_n` any campaign may have (the publication's k); at least 10.
    pub min_n_floor: u32,
    /// `serve` publishes campaigns on their schedule; off: only the button and the command.
    pub publication_schedule: bool,
    /// The server secret (hex, at least 32 bytes) that keys invitation
    /// tokens and spent-link tags; kept outside the database. Every process
    /// on the same database must use the same key.
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// A file holding the server secret (hex); created (mode 0600) if
    /// missing. Without this and `secret_key`: `<SQLite file>.key` beside
    /// the database, or `./data/hailong.key` for PostgreSQL.
    pub secret_key_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            bind: DEFAULT_BIND.to_owned(),
            log: "info".to_owned(),
            base_url: None,
            max_connections: 16,
            rate_limit_per_minute: 120,
            rate_limit_loopback: false,
            trusted_proxies: Vec::new(),
            header_timeout_secs: 10,
            body_timeout_secs: 30,
            max_connections_per_client: 256,
            connection_limit_loopback: false,
            smtp_host: None,
            smtp_port: None,
            smtp_security: "starttls".to_owned(),
            smtp_username: None,
            smtp_password: None,
            mail_from: "Hailong <no-reply@localhost>".to_owned(),
            qr_hosts: Vec::new(),
            min_n_floor: crate::domain::publication::MIN_N_FLOOR,
            publication_schedule: true,
            secret_key: None,
            secret_key_file: None,
        }
    }
}

/// A problem reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("min_n_floor = {0}: the floor cannot be below 10")]
    FloorTooLow(u32),
}

/// Flags given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<String>,
}

impl Settings {
    /// The absolute address of `path` (e.g. `/s/slug`) on this server, built
    /// from `base_url` only: never from a request's `Host`, `X-Forwarded-Host`
    /// or `Forwarded`, which any client can forge. `None` when `base_url` is
    /// unset or blank; callers then refuse to send or print the link.
    pub fn public_url(&self, path: &str) -> Option<String> {
        let base = self.base_url.as_deref()?.trim().trim_end_matches('/');
        if base.is_empty() {
            return None;
        }
        Some(format!("{base}/{}", path.trim_start_matches('/')))
    }

    /// Whether cookies get the `Secure` attribute: when the public address is https.
    /// Never from the request's scheme, which a client can claim with
    /// `X-Forwarded-Proto` or `Forwarded`.
    pub fn cookies_secure(&self) -> bool {
        self.base_url
            .as_deref()
            .is_some_and(|b| b.trim_start().to_ascii_lowercase().starts_with("https://"))
    }

    /// True when `base_url` is unset or blank: no absolute link can be made.
    pub fn base_url_missing(&self) -> bool {
        self.public_url("/").is_none()
    }

    /// The survey address for a QR code requested with this `Host` header
    /// when `base_url` is unset: built from the matching `qr_hosts` entry
    /// (scheme `http` unless the entry names one), `None` for any other host.
    pub fn qr_host_url(&self, host: &str, path: &str) -> Option<String> {
        let host = host.trim();
        self.qr_hosts.iter().find_map(|entry| {
            let entry = entry.trim().trim_end_matches('/');
            let bare = entry
                .strip_prefix("https://")
                .or_else(|| entry.strip_prefix("http://"))
                .unwrap_or(entry);
            if bare.is_empty() || !bare.eq_ignore_ascii_case(host) {
                return None;
            }
            let origin = if bare.len() == entry.len() {
                format!("http://{entry}")
            } else {
                entry.to_owned()
            };
            Some(format!("{origin}/{}", path.trim_start_matches('/')))
        })
    }

    /// Loads the layers. `file` is an explicit `--config`; otherwise
    /// `HAILONG_CONFIG`, otherwise `./hailong.toml` if it exists.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("HAILONG_"))
            .collect();
        let env_file = env
            .iter()
            .find(|(k, _)| k == "HAILONG_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        let path = file.map(Path::to_path_buf).or(env_file);
        let mut settings = match path {
            Some(p) => Self::from_file(&p)?,
            None => {
                let default = Path::new("hailong.toml");
                if default.exists() {
                    Self::from_file(default)?
                } else {
                    Settings::default()
                }
            }
        };
        for (name, value) in &env {
            settings.apply_env(name, value)?;
        }
        if let Some(url) = &overrides.database_url {
            settings.database_url = url.clone();
        }
        if let Some(bind) = &overrides.bind {
            settings.bind = bind.clone();
        }
        if settings.min_n_floor < crate::domain::publication::MIN_N_FLOOR {
            return Err(ConfigError::FloorTooLow(settings.min_n_floor));
        }
        Ok(settings)
    }

    fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }

    fn apply_env(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |message: &str| ConfigError::Env {
            name: name.to_owned(),
            message: message.to_owned(),
        };
        match name {
            "HAILONG_DATABASE_URL" => self.database_url = value.to_owned(),
            "HAILONG_BIND" => self.bind = value.to_owned(),
            "HAILONG_LOG" => self.log = value.to_owned(),
            "HAILONG_BASE_URL" => self.base_url = Some(value.to_owned()),
            "HAILONG_MAX_CONNECTIONS" => {
                self.max_connections = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("expected a positive whole number"))?;
            }
            "HAILONG_RATE_LIMIT_PER_MINUTE" => {
                self.rate_limit_per_minute =
                    value.parse().map_err(|_| bad("expected a whole number"))?;
            }
            "HAILONG_RATE_LIMIT_LOOPBACK" => {
                self.rate_limit_loopback =
                    value.parse().map_err(|_| bad("expected true or false"))?;
            }
            "HAILONG_TRUSTED_PROXIES" => {
                self.trusted_proxies = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "HAILONG_HEADER_TIMEOUT_SECS" => {
                self.header_timeout_secs = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("expected a positive whole number"))?;
            }
            "HAILONG_BODY_TIMEOUT_SECS" => {
                self.body_timeout_secs = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("expected a positive whole number"))?;
            }
            "HAILONG_MAX_CONNECTIONS_PER_CLIENT" => {
                self.max_connections_per_client =
                    value.parse().map_err(|_| bad("expected a whole number"))?;
            }
            "HAILONG_CONNECTION_LIMIT_LOOPBACK" => {
                self.connection_limit_loopback =
                    value.parse().map_err(|_| bad("expected true or false"))?;
            }
            "HAILONG_SMTP_HOST" => self.smtp_host = Some(value.to_owned()),
            "HAILONG_SMTP_PORT" => {
                self.smtp_port = Some(value.parse().map_err(|_| bad("expected a port number"))?);
            }
            "HAILONG_SMTP_SECURITY" => self.smtp_security = value.to_owned(),
            "HAILONG_SMTP_USERNAME" => self.smtp_username = Some(value.to_owned()),
            "HAILONG_SMTP_PASSWORD" => self.smtp_password = Some(value.into()),
            "HAILONG_MAIL_FROM" => self.mail_from = value.to_owned(),
            "HAILONG_QR_HOSTS" => {
                self.qr_hosts = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "HAILONG_MIN_N_FLOOR" => {
                self.min_n_floor = value.parse().map_err(|_| bad("expected a whole number"))?;
            }
            "HAILONG_PUBLICATION_SCHEDULE" => {
                self.publication_schedule =
                    value.parse().map_err(|_| bad("expected true or false"))?;
            }
            "HAILONG_SECRET_KEY" => self.secret_key = Some(value.into()),
            "HAILONG_SECRET_KEY_FILE" => self.secret_key_file = Some(PathBuf::from(value)),
            // Read above, or belongs to a later layer (e.g. HAILONG_CONFIG).
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hailong.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\nlog = \"debug\"\n").unwrap();
        let env = vec![
            ("HAILONG_LOG".to_owned(), "warn".to_owned()),
            ("DATABASE_URL".to_owned(), "postgres://ignored".to_owned()),
        ];
        let s = Settings::load(
            Some(&file),
            env,
            &Overrides {
                database_url: Some("sqlite://x.db".into()),
                bind: None,
            },
        )
        .unwrap();
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.log, "warn");
        assert_eq!(s.database_url, "sqlite://x.db");
    }

    #[test]
    fn plain_database_url_is_ignored() {
        let env = vec![("DATABASE_URL".to_owned(), "postgres://x/y".to_owned())];
        let s = Settings::load(
            Some(Path::new("/nonexistent/none.toml")).filter(|_| false),
            env,
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn public_url_joins_base_url_and_path_with_one_slash() {
        let mut s = Settings::default();
        assert_eq!(s.public_url("/s/x"), None);
        s.base_url = Some("  ".into());
        assert_eq!(s.public_url("/s/x"), None);
        s.base_url = Some("https://h.example.vn/".into());
        assert_eq!(
            s.public_url("/s/x").as_deref(),
            Some("https://h.example.vn/s/x")
        );
        s.base_url = Some("https://h.example.vn/khaosat".into());
        assert_eq!(
            s.public_url("i/t").as_deref(),
            Some("https://h.example.vn/khaosat/i/t")
        );
    }

    #[test]
    fn limits_come_from_the_environment_and_zero_deadlines_are_refused() {
        let env = vec![
            ("HAILONG_BODY_TIMEOUT_SECS".to_owned(), "2".to_owned()),
            ("HAILONG_HEADER_TIMEOUT_SECS".to_owned(), "3".to_owned()),
            (
                "HAILONG_MAX_CONNECTIONS_PER_CLIENT".to_owned(),
                "0".to_owned(),
            ),
            (
                "HAILONG_CONNECTION_LIMIT_LOOPBACK".to_owned(),
                "true".to_owned(),
            ),
        ];
        let s = Settings::load(None, env, &Overrides::default()).unwrap();
        assert_eq!(
            (
                s.body_timeout_secs,
                s.header_timeout_secs,
                s.max_connections_per_client,
                s.connection_limit_loopback
            ),
            (2, 3, 0, true)
        );
        let env = vec![("HAILONG_BODY_TIMEOUT_SECS".to_owned(), "0".to_owned())];
        assert!(Settings::load(None, env, &Overrides::default()).is_err());
        let d = Settings::default();
        assert_eq!(
            (
                d.body_timeout_secs,
                d.header_timeout_secs,
                d.max_connections_per_client
            ),
            (30, 10, 256)
        );
    }

    #[test]
    fn qr_hosts_match_the_host_exactly_and_keep_their_scheme() {
        let s = Settings {
            qr_hosts: vec!["192.168.1.10:8080".into(), "https://ks.example.vn/".into()],
            ..Settings::default()
        };
        assert_eq!(
            s.qr_host_url("192.168.1.10:8080", "/s/a").as_deref(),
            Some("http://192.168.1.10:8080/s/a")
        );
        assert_eq!(
            s.qr_host_url("KS.example.vn", "/s/a").as_deref(),
            Some("https://ks.example.vn/s/a")
        );
        assert_eq!(s.qr_host_url("evil.example", "/s/a"), None);
        assert_eq!(s.qr_host_url("192.168.1.10", "/s/a"), None);
    }

    #[test]
    fn a_floor_below_ten_is_refused() {
        let env = [("HAILONG_MIN_N_FLOOR".to_owned(), "5".to_owned())];
        let err = Settings::load(None, env, &Overrides::default()).unwrap_err();
        assert!(matches!(err, ConfigError::FloorTooLow(5)));
        let env = [("HAILONG_MIN_N_FLOOR".to_owned(), "25".to_owned())];
        let ok = Settings::load(None, env, &Overrides::default()).unwrap();
        assert_eq!(ok.min_n_floor, 25);
    }

    #[test]
    fn secrets_never_print_nor_serialize() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        std::fs::write(&file, "smtp_password = \"hunter2-from-file\"\n").unwrap();
        let env = [("HAILONG_SECRET_KEY".to_owned(), "5ec7e7".repeat(11))];
        let s = Settings::load(Some(&file), env, &Overrides::default()).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            s.smtp_password.as_ref().map(|p| p.expose_secret()),
            Some("hunter2-from-file")
        );
        let shown = [
            format!("{s:?}"),
            format!("{s:#?}"),
            serde_json::to_string(&s).unwrap(),
            toml::to_string(&s).unwrap(),
        ];
        for text in shown {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("5ec7e7"), "{text}");
        }
    }

    #[test]
    fn unknown_keys_in_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("h.toml");
        std::fs::write(&file, "bnid = \"x\"\n").unwrap();
        let err = Settings::load(Some(&file), vec![], &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("bnid"), "{err}");
    }
}
