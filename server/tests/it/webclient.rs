//! A browser-like HTTPS client of the web panel, for the tests: pinned to the daemon's
//! certificate, keeps its cookies, never follows redirects, sends the panel's own `Origin`.

use crate::common::TestDaemon;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use vigia_shared::client::Trust;

/// A browser-like client: pinned to the daemon's certificate, keeps its cookies, never follows
/// redirects (so that tests see them), and sends the panel's own `Origin` on POSTs.
pub struct Web {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Web {
    pub fn new(d: &TestDaemon) -> Self {
        Self::with_base(d, format!("https://localhost:{}", d.web_addr.port()))
    }

    pub fn with_base(d: &TestDaemon, base: String) -> Self {
        let (tls, _) = vigia_shared::tls::client_config(&Trust::pinned(&d.fingerprint)).unwrap();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .resolve(
                "localhost",
                SocketAddr::from(([127, 0, 0, 1], d.web_addr.port())),
            )
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            http,
            base,
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let res = req.send().await.unwrap();
        for c in res.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        if let Some(token) = meta_csrf(&body) {
            self.csrf = token;
        }
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn get_with(&mut self, path: &str, header: (&str, &str)) -> Page {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .header(header.0, header.1);
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_from(path, form, Some(&origin)).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        self.send(req).await
    }

    pub async fn post_json(&mut self, path: &str, body: serde_json::Value, csrf: &str) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .header("x-csrf-token", csrf)
            .json(&body);
        self.send(req).await
    }

    /// Opens the login form and posts `user` and `password` with its token.
    pub async fn try_login(&mut self, user: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let token = hidden_csrf(&form.body).expect("login form token");
        self.post(
            "/login",
            &[("user", user), ("password", password), ("csrf", &token)],
        )
        .await
    }

    pub async fn login(&mut self, user: &str, password: &str) {
        let res = self.try_login(user, password).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(res.location(), "/dashboard");
        let dash = self.get("/dashboard").await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(!self.csrf.is_empty());
    }

    pub async fn json(&mut self, path: &str) -> (StatusCode, serde_json::Value) {
        let p = self.get(path).await;
        (p.status, serde_json::from_str(&p.body).unwrap_or_default())
    }
}

pub fn meta_csrf(body: &str) -> Option<String> {
    let start = body.find(r#"<meta name="csrf-token" content=""#)? + 33;
    Some(body[start..start + 64].to_owned())
}

pub fn hidden_csrf(body: &str) -> Option<String> {
    let start = body.find(r#"name="csrf" value=""#)? + 19;
    Some(body[start..start + 64].to_owned())
}
