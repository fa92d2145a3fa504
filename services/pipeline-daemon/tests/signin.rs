//! People signing in to the real `dumcel-pipeline serve` against a real
//! OpenID Connect provider: the npm package oidc-provider
//! (dev/services/oidc.sh), whose development sign-in form is filled in over
//! HTTP the way a browser would, cookies and redirects included. Checks the
//! session cookie, who the person is (their login and groups as principals),
//! that access follows the repository's `access` block, that an action
//! without the CSRF token is refused, and signing out.

mod common;

use std::collections::HashMap;

use common::harness::{Daemon, Harness, Target, free_port, wait_for_port};
use common::oidc::Provider;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

const SECRET: &str = common::oidc::CLIENT_SECRET;

/// What a browser keeps: cookies per host and port.
#[derive(Default)]
struct Browser {
    jar: HashMap<String, HashMap<String, String>>,
    /// Every Set-Cookie line serve sent, as sent.
    set_by_serve: Vec<String>,
}

fn host_of(url: &str) -> String {
    url.split('/').nth(2).unwrap_or_default().to_owned()
}

impl Browser {
    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, url: &str) -> reqwest::Response {
        let host = host_of(url);
        let cookies: Vec<String> = self
            .jar
            .get(&host)
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = if cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, cookies.join("; "))
        };
        let response = request.send().await.unwrap();
        for line in response.headers().get_all(SET_COOKIE) {
            let line = line.to_str().unwrap().to_owned();
            let (name, value) = line
                .split(';')
                .next()
                .and_then(|p| p.split_once('='))
                .unwrap();
            let jar = self.jar.entry(host.clone()).or_default();
            if line.contains("Max-Age=0") || line.contains("expires=Thu, 01 Jan 1970") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
            if url.contains("/auth/") && !url.contains("/interaction/") {
                self.set_by_serve.push(line.clone());
            }
        }
        response
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        self.send(Self::client().get(url), url).await
    }

    /// Signs in as `login` through serve's /auth/login and the provider's
    /// forms; what serve answered at the end (after its redirect to
    /// `/api/v1/me`).
    async fn sign_in(&mut self, serve: &str, login: &str) -> (u16, Value) {
        let mut url = format!("{serve}/auth/login?return_to=/api/v1/me");
        for _ in 0..20 {
            let response = self.get(&url).await;
            if response.status().is_redirection() {
                let next = response.headers()[LOCATION].to_str().unwrap().to_owned();
                url = if next.starts_with('/') {
                    format!("http://{}{next}", host_of(&url))
                } else {
                    next
                };
                continue;
            }
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            if !url.contains("/interaction/") {
                return (
                    status,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                );
            }
            // The provider's form: sign in, then consent.
            let action = between(&text, "action=\"", "\"");
            let prompt = between(&text, "name=\"prompt\" value=\"", "\"");
            let form: Vec<(&str, &str)> = match prompt.as_str() {
                "login" => vec![("prompt", "login"), ("login", login), ("password", "x")],
                "consent" => vec![("prompt", "consent")],
                other => panic!("an interaction page asking {other:?}:\n{text}"),
            };
            // Letters only: nothing to escape.
            let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let post = Self::client()
                .post(&action)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.join("&"));
            let response = self.send(post, &action).await;
            assert!(response.status().is_redirection(), "{}", response.status());
            url = response.headers()[LOCATION].to_str().unwrap().to_owned();
        }
        panic!("the sign-in never ended: at {url}");
    }

    fn session(&self, serve: &str) -> Option<&String> {
        self.jar.get(&host_of(serve))?.get("dumcel_session")
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .map(|i| i + start.len())
        .unwrap_or_default();
    text[from..]
        .split(end)
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn start_serve(h: &mut Harness) -> Daemon {
    h.daemon("serve", &[("E2E_SIGNIN_SECRET", SECRET)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_and_see_and_steer_what_their_groups_allow() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let serve_url = format!("http://127.0.0.1:{port}");
    let logs = tempfile::tempdir().unwrap();
    let provider = Provider::start(
        &format!("{serve_url}/auth/callback"),
        r#"{"alice": ["octo", "ops"], "bob": ["elsewhere"]}"#,
        &logs.path().join("oidc.log"),
    );
    let mut h = Harness::on(Target::Docker, &provider.api_block(port));
    h.edit_config(
        "  previews  = true\n",
        "  previews  = true\n  access {\n    view   = [\"group:octo\"]\n    deploy = [\"user:alice\"]\n  }\n",
    );
    let mut serve = start_serve(&mut h);
    wait_for_port(port, &mut serve);
    let project = format!("{serve_url}/api/v1/projects/{}", h.project);

    // Alice signs in: a session cookie, HttpOnly and SameSite, and she is
    // user:alice with a group per group the provider gave.
    let mut alice = Browser::default();
    let (status, me) = alice.sign_in(&serve_url, "alice").await;
    assert_eq!(status, 200, "{me}\n{}", serve.log());
    assert_eq!(me["name"], "user:alice");
    assert_eq!(
        me["principals"],
        serde_json::json!(["user:alice", "group:octo", "group:ops"])
    );
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let session_line = alice
        .set_by_serve
        .iter()
        .find(|l| l.starts_with("dumcel_session="))
        .unwrap();
    assert!(session_line.contains("HttpOnly"), "{session_line}");
    assert!(session_line.contains("SameSite=Lax"), "{session_line}");
    let session = alice.session(&serve_url).unwrap().clone();
    let with_session = |request: reqwest::RequestBuilder| {
        request.header(COOKIE, format!("dumcel_session={session}"))
    };
    let http = Browser::client();
    let one = with_session(http.get(&project)).send().await.unwrap();
    assert_eq!(one.status(), 200);

    // An action: refused without the CSRF token (a page elsewhere could
    // make the browser send the cookie), let through with it (here to a
    // 404: the environment does not exist; nothing is queued either way).
    let destroy = format!("{project}/environments/preview-nope/destroy");
    let refused = with_session(http.post(&destroy)).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("X-CSRF-Token"));
    let wrong = with_session(http.post(&destroy))
        .header("x-csrf-token", "0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let allowed = with_session(http.post(&destroy))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 404, "{}", allowed.text().await.unwrap());
    assert!(h.queued_pushes().is_empty());

    // Bob is in no group the project names: he sees neither it nor its actions.
    let mut bob = Browser::default();
    let (status, me) = bob.sign_in(&serve_url, "bob").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["principals"],
        serde_json::json!(["user:bob", "group:elsewhere"])
    );
    let bob_session = bob.session(&serve_url).unwrap().clone();
    let as_bob = |request: reqwest::RequestBuilder| {
        request.header(COOKIE, format!("dumcel_session={bob_session}"))
    };
    let listed = as_bob(http.get(format!("{serve_url}/api/v1/projects")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["projects"], serde_json::json!([]));
    assert_eq!(
        as_bob(http.get(&project)).send().await.unwrap().status(),
        403
    );

    // A callback that this browser did not start, or a forged state: refused.
    let forged = http
        .get(format!("{serve_url}/auth/callback?code=x&state=y"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    // No session, no way in; a made-up session neither.
    assert_eq!(http.get(&project).send().await.unwrap().status(), 401);
    let made_up = http
        .get(&project)
        .header(COOKIE, "dumcel_session=00ff")
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), 401);

    // Signing out ends the session (with the CSRF token, like any action).
    let out = with_session(http.post(format!("{serve_url}/auth/logout")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(
        with_session(http.get(&project))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Neither the client secret nor a session token reaches serve's log.
    let log = serve.log();
    assert!(log.contains("signed in"), "{log}");
    for secret in [
        SECRET,
        session.as_str(),
        bob_session.as_str(),
        csrf.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret in the log:\n{log}");
    }
}
