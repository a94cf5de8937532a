//! Web sessions: an in-memory map from a random id (256 bits, hex) to who logged in, the
//! session's CSRF token and when it was last used. Ids are never reused: a login makes a new
//! one, logout and inactivity remove it server-side, so an old cookie is worth nothing.

use crate::auth::Principal;
use crate::web::WebState;
use crate::web::error::WebError;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use rand::RngCore as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most sessions alive at once; logins beyond it are refused until some expire.
const MAX_SESSIONS: usize = 10_000;

/// Name of the session cookie: `__Host-` tells the browser it was set over HTTPS for this
/// host and path `/` only, which plain HTTP cannot promise.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-vigia_session"
    } else {
        "vigia_session"
    }
}

/// The `Set-Cookie` value that gives the browser a session cookie.
pub fn set_cookie(https: bool, name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if https {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// The value of cookie `name` in the request, if any.
pub fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// 256 random bits as lowercase hex, for session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A logged-in browser, as handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub principal: Principal,
    pub csrf: String,
}

struct Entry {
    session: Session,
    last_seen: Instant,
    /// A one-shot message for the next page (the result of a form post).
    flash: Option<String>,
}

/// All sessions of the panel.
pub struct SessionStore {
    map: Mutex<HashMap<String, Entry>>,
    timeout: Duration,
}

impl SessionStore {
    pub fn new(timeout: Duration) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session for `principal`, with a fresh id and CSRF token.
    pub fn create(&self, principal: Principal) -> Result<Session, WebError> {
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, e| now.duration_since(e.last_seen) < self.timeout);
        if map.len() >= MAX_SESSIONS {
            return Err(WebError::Busy);
        }
        let session = Session {
            id: random_token(),
            principal,
            csrf: random_token(),
        };
        map.insert(
            session.id.clone(),
            Entry {
                session: session.clone(),
                last_seen: now,
                flash: None,
            },
        );
        Ok(session)
    }

    /// The live session of `id`, its inactivity clock restarted; an expired one is removed.
    pub fn touch(&self, id: &str) -> Option<Session> {
        let mut map = self.lock();
        let now = Instant::now();
        let entry = map.get_mut(id)?;
        if now.duration_since(entry.last_seen) >= self.timeout {
            map.remove(id);
            tracing::info!("web session expired");
            return None;
        }
        entry.last_seen = now;
        Some(entry.session.clone())
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn set_flash(&self, id: &str, message: String) {
        if let Some(e) = self.lock().get_mut(id) {
            e.flash = Some(message);
        }
    }

    pub fn take_flash(&self, id: &str) -> Option<String> {
        self.lock().get_mut(id).and_then(|e| e.flash.take())
    }

    /// Number of live and not yet pruned sessions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The request's session, with the role the users file gives now; a user removed since login
/// loses the session.
fn lookup(parts: &Parts, state: &WebState) -> Option<Session> {
    let id = read_cookie(&parts.headers, cookie_name(state.https))?;
    let mut session = state.sessions.touch(id)?;
    match state.svc.auth.current_role(&session.principal.user) {
        Some(role) => {
            session.principal.role = role;
            Some(session)
        }
        None => {
            state.sessions.remove(id);
            None
        }
    }
}

/// A page request's session; without one the browser is sent to the login page.
pub struct PageSession(pub Session);

impl FromRequestParts<WebState> for PageSession {
    type Rejection = crate::web::error::PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        lookup(parts, state)
            .map(PageSession)
            .ok_or(WebError::NotLoggedIn.into())
    }
}

/// An API request's session; without one the answer is 401.
pub struct ApiSession(pub Session);

impl FromRequestParts<WebState> for ApiSession {
    type Rejection = crate::web::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        lookup(parts, state)
            .map(ApiSession)
            .ok_or(WebError::NotLoggedIn.into())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vigia_shared::Role;

    fn admin() -> Principal {
        Principal {
            user: "admin".into(),
            role: Role::Admin,
        }
    }

    #[test]
    fn ids_are_fresh_and_long() {
        let store = SessionStore::new(Duration::from_secs(60));
        let a = store.create(admin()).unwrap();
        let b = store.create(admin()).unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, a.id);
        assert_eq!(a.id.len(), 64);
    }

    #[test]
    fn sessions_expire_after_inactivity() {
        let store = SessionStore::new(Duration::from_millis(50));
        let s = store.create(admin()).unwrap();
        assert!(store.touch(&s.id).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert!(store.touch(&s.id).is_none());
        assert!(store.is_empty());
    }

    #[test]
    fn cookies_are_read_among_others() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; vigia_session=xyz; b=2".parse().unwrap());
        assert_eq!(read_cookie(&h, "vigia_session"), Some("xyz"));
        assert_eq!(read_cookie(&h, "c"), None);
    }

    #[test]
    fn https_cookies_are_secure() {
        let c = set_cookie(true, cookie_name(true), "v", None);
        assert_eq!(
            c,
            "__Host-vigia_session=v; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie(false, cookie_name(false), "v", None).contains("Secure"));
    }
}
