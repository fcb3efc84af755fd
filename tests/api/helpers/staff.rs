//! Staff accounts from the test's side: making them, signing in, reading CSRF
//! tokens from pages, API tokens.

use hailong::services::audit::Actor;
use hailong::services::staff::{self, NewUser};
use reqwest::{Client, StatusCode};

use super::{TestApp, csrf_of};

/// The password of every account the helpers make.
pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh browser: keeps cookies, does not follow redirects.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // Dropped before the server's 5 s keep-alive closes them (see helpers/app.rs).
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

impl TestApp {
    /// Makes an account with this role (password [`PASSWORD`], no locality limit).
    pub async fn add_user(&self, email: &str, role: &str) {
        self.add_user_in(email, role, None).await;
    }

    /// Makes an account with this role limited to these localities (`None`: all of them),
    /// password [`PASSWORD`]; the stored account.
    pub async fn add_user_in(
        &self,
        email: &str,
        role: &str,
        localities: Option<Vec<String>>,
    ) -> entity::staff_user::Model {
        let db = self.db.connect().await;
        staff::create(
            &db,
            &Actor::cli(),
            NewUser {
                email,
                role,
                password: PASSWORD,
                localities,
            },
        )
        .await
        .expect("create account")
    }

    /// Posts the sign-in form from `c` (with the page's CSRF token); the answer as it comes.
    pub async fn try_login(&self, c: &Client, email: &str, password: &str) -> reqwest::Response {
        let token = self.page_csrf(c, "/staff/login").await;
        c.post(self.url("/staff/login"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
                ("next", "/staff"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A new browser signed in as `email` (password [`PASSWORD`]).
    pub async fn login(&self, email: &str) -> Client {
        let c = client();
        let res = self.try_login(&c, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login of {email}");
        c
    }

    /// The page at `path` as `c` sees it (its body, whatever the status).
    pub async fn page(&self, c: &Client, path: &str) -> String {
        c.get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The CSRF token of the page at `path`, fetched by `c`.
    pub async fn page_csrf(&self, c: &Client, path: &str) -> String {
        csrf_of(&self.page(c, path).await)
    }

    /// A bearer token for a new account with this role (password [`PASSWORD`]).
    pub async fn token_for(&self, email: &str, role: &str) -> String {
        let user = self.add_user_in(email, role, None).await;
        let db = self.db.connect().await;
        staff::create_token(&db, &Actor::cli(), user.id, "test")
            .await
            .expect("create token")
            .1
    }
}
