//! The server secret: a key kept outside the database that makes invitation
//! tokens and spent-link tags unlinkable for anyone holding only the
//! database file and the logs.
//!
//! Where it comes from, first found wins: the `secret_key` setting (hex,
//! `HAILONG_SECRET_KEY`), the file named by `secret_key_file`, else a file
//! beside the SQLite database (`<db file>.key`) or, for PostgreSQL,
//! `./data/hailong.key`. A missing file is created with a random key (mode
//! 0600) and one log line says so. Several processes on one database must
//! share the key (the same file or the same setting): a link derived by one
//! is checked by another.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::auth::random_token;
use crate::config::Settings;
use crate::db::backend_of;
use sea_orm::DatabaseBackend;

/// Fewest bytes a key may have.
pub const MIN_KEY_BYTES: usize = 32;

/// Where the key file goes for PostgreSQL when none is configured.
pub const DEFAULT_PG_KEY_FILE: &str = "data/hailong.key";

/// A problem reading or creating the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("secret_key must be hex of at least {MIN_KEY_BYTES} bytes")]
    Invalid,
    #[error("secret key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("secret key file {0} must hold hex of at least {MIN_KEY_BYTES} bytes")]
    BadFile(PathBuf),
}

/// The server secret. Its bytes never leave this module.
#[derive(Clone)]
pub struct SecretKey(Arc<[u8]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// A key from hex text (at least [`MIN_KEY_BYTES`] bytes).
    pub fn from_hex(text: &str) -> Result<SecretKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Invalid)?;
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::Invalid);
        }
        Ok(SecretKey(bytes.into()))
    }

    /// `HMAC-SHA256(key, purpose | 0x00 | data)` in lowercase hex. The
    /// purpose separates uses (`token`, `lookup`, `spent`), so no value of
    /// one use can be computed from another's without the key.
    pub fn tag(&self, purpose: &str, data: &[u8]) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The file the key is read from (or created in) for these settings.
pub fn key_path(settings: &Settings) -> PathBuf {
    if let Some(file) = &settings.secret_key_file {
        return file.clone();
    }
    if backend_of(&settings.database_url) == Some(DatabaseBackend::Sqlite)
        && let Ok(opts) = sqlx::sqlite::SqliteConnectOptions::from_str(&settings.database_url)
    {
        let file = opts.get_filename();
        if !file.as_os_str().is_empty() && file.as_os_str() != ":memory:" {
            let mut path = file.as_os_str().to_owned();
            path.push(".key");
            return PathBuf::from(path);
        }
    }
    PathBuf::from(DEFAULT_PG_KEY_FILE)
}

fn cache() -> &'static Mutex<HashMap<PathBuf, SecretKey>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, SecretKey>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The server secret for these settings: from `secret_key`, else from its
/// file (created with a random key if missing). Read once per file and
/// process.
pub fn load(settings: &Settings) -> Result<SecretKey, KeyError> {
    if let Some(hex) = &settings.secret_key {
        return SecretKey::from_hex(hex.expose_secret());
    }
    let path = key_path(settings);
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = cache.get(&path) {
        return Ok(key.clone());
    }
    let key = read_or_create(&path)?;
    cache.insert(path, key.clone());
    Ok(key)
}

fn read_or_create(path: &Path) -> Result<SecretKey, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return SecretKey::from_hex(&text).map_err(|_| KeyError::BadFile(path.into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Written whole to a file of its own, then linked into place: another
    // process starting at the same moment either wins the link (and this one
    // reads its key) or finds the complete file.
    let random = || random_token().map_err(|e| io(e.into()));
    let hex = random()?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", random()?));
    let tmp = PathBuf::from(tmp);
    {
        let mut options = std::fs::File::options();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(format!("{hex}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io)?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(
                path = %path.display(),
                "created a new server secret key; keep it outside database backups and give \
                 every process on this database the same key"
            );
            SecretKey::from_hex(&hex)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(io)?;
            SecretKey::from_hex(&text).map_err(|_| KeyError::BadFile(path.into()))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn short_or_non_hex_keys_are_refused() {
        assert!(SecretKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(SecretKey::from_hex(&"ab".repeat(32)).is_ok());
    }

    #[test]
    fn a_key_file_is_created_beside_the_sqlite_file_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let settings = Settings {
            database_url: format!("sqlite://{}", db.display()),
            ..Settings::default()
        };
        let path = key_path(&settings);
        assert_eq!(path, dir.path().join("x.db.key"));
        let first = read_or_create(&path).unwrap();
        let again = read_or_create(&path).unwrap();
        assert_eq!(first.tag("t", b"x"), again.tag("t", b"x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn purposes_give_different_tags() {
        let key = SecretKey::from_hex(&"01".repeat(32)).unwrap();
        assert_ne!(key.tag("lookup", b"t"), key.tag("spent", b"t"));
        assert_eq!(key.tag("lookup", b"t").len(), 64);
    }
}
