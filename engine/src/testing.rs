//! Test support shared by the engine's and the server's test suites: fresh
//! databases on both backends. Not used by the running product.

pub mod dns_server;
pub mod fixtures;
pub mod smtp_server;

use crate::db::Db;
use crate::error::{Error, Result};

/// A migrated database for one test, removed again on `cleanup`.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pg_admin_url: Option<(String, String)>,
    _dir: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    /// A temporary directory removed on drop.
    pub struct TempDir(pub std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn unique_suffix() -> String {
    use rand::Rng;
    format!("{}_{:08x}", std::process::id(), rand::rng().random::<u32>())
}

impl TestDb {
    /// A new SQLite database in a temporary folder.
    pub async fn sqlite() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("rebound-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(e.to_string()))?;
        let url = format!("sqlite://{}/rebound.db", dir.display());
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(Self {
            db,
            url,
            pg_admin_url: None,
            _dir: Some(tempfile_dir::TempDir(dir)),
        })
    }

    /// A new, empty PostgreSQL database created on the server at `admin_url`.
    pub async fn postgres(admin_url: &str) -> Result<Self> {
        let name = format!("rebound_test_{}", unique_suffix());
        let admin = Db::connect(admin_url).await?;
        crate::exec_on_pool!(&admin, p => sqlx::query(&format!("CREATE DATABASE {name}")).execute(p).await)?;
        admin.close().await;
        let url = replace_database(admin_url, &name);
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(Self {
            db,
            url,
            pg_admin_url: Some((admin_url.to_string(), name)),
            _dir: None,
        })
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some((admin_url, name)) = &self.pg_admin_url
            && let Ok(admin) = Db::connect(admin_url).await
        {
            let _ = crate::exec_on_pool!(&admin, p => sqlx::query(
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            ).execute(p).await);
            admin.close().await;
        }
    }
}

/// `postgres://u@h:p/db?x` → the same URL naming database `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // postgres://user@host:port/db → keep everything up to the last '/' after the host.
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Where the PostgreSQL tests run: `REBOUND_TEST_POSTGRES_URL`, else a server
/// answering on 127.0.0.1:5432, else `None` (the caller says loudly that the
/// PostgreSQL half was skipped). With the variable set, an unreachable server
/// is an error, not a skip.
pub async fn postgres_admin_url() -> Option<String> {
    if let Ok(url) = std::env::var("REBOUND_TEST_POSTGRES_URL") {
        return Some(url);
    }
    let probe = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        tokio::net::TcpStream::connect("127.0.0.1:5432"),
    )
    .await;
    if matches!(probe, Ok(Ok(_))) {
        Some("postgres://postgres@127.0.0.1:5432/test".to_string())
    } else {
        eprintln!(
            "\n*** POSTGRES TESTS SKIPPED: REBOUND_TEST_POSTGRES_URL is unset and nothing answers on 127.0.0.1:5432 ***\n"
        );
        None
    }
}

/// Every backend available to this test run: SQLite always, PostgreSQL when
/// reachable (see [`postgres_admin_url`]).
pub async fn all_backends() -> Vec<TestDb> {
    let mut out = Vec::new();
    match TestDb::sqlite().await {
        Ok(db) => out.push(db),
        Err(e) => panic!("cannot create a SQLite test database: {e}"),
    }
    if let Some(url) = postgres_admin_url().await {
        match TestDb::postgres(&url).await {
            Ok(db) => out.push(db),
            Err(e) => panic!("cannot create a PostgreSQL test database at {url}: {e}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
