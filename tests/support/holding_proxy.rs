//! A proxy on 127.0.0.1 in front of the tests' Synapse. It passes everything on, keeps the
//! answers to syncs for the test to read, and can hold back one answer with a room's full
//! member list until the test lets it go: the Matrix SDK's member-list race
//! (matrix-rust-sdk#1205) on demand, instead of by chance on a loaded machine.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT_ENCODING, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub struct HoldingProxy {
    pub port: u16,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

struct State {
    upstream: String,
    http: reqwest::Client,
    /// The next member-list answer is held back.
    hold_next: AtomicBool,
    /// An answer is being held now.
    holding: AtomicBool,
    release: watch::Sender<bool>,
    /// How many sync requests came in, and the answers that went back, in order.
    sync_requests: AtomicUsize,
    sync_answers: Mutex<Vec<Value>>,
    /// How many requests for a room's full member list came in.
    member_lists: AtomicUsize,
}

impl HoldingProxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            hold_next: AtomicBool::new(false),
            holding: AtomicBool::new(false),
            release: watch::Sender::new(false),
            sync_requests: AtomicUsize::new(0),
            sync_answers: Mutex::default(),
            member_lists: AtomicUsize::new(0),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| forward(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { port, state, task }
    }

    /// Holds back the answer to the next request for a room's full member list.
    pub fn hold_next_member_list(&self) {
        self.state.release.send_replace(false);
        self.state.hold_next.store(true, Ordering::SeqCst);
    }

    pub fn holding(&self) -> bool {
        self.state.holding.load(Ordering::SeqCst)
    }

    pub fn release(&self) {
        self.state.holding.store(false, Ordering::SeqCst);
        self.state.release.send_replace(true);
    }

    /// Whether a sync answer that `brought` matches went back and the client has asked for
    /// the next sync since: so it has taken in that answer.
    pub fn synced_past(&self, brought: impl Fn(&Value) -> bool) -> bool {
        let answers = self.state.sync_answers.lock().unwrap();
        let Some(index) = answers.iter().position(brought) else {
            return false;
        };
        // Answer `index` went to request `index + 1`; one more request means it was read.
        self.state.sync_requests.load(Ordering::SeqCst) >= index + 2
    }

    /// How many times the device behind the proxy asked for a room's full member list.
    pub fn member_lists_asked(&self) -> usize {
        self.state.member_lists.load(Ordering::SeqCst)
    }

    pub fn syncs_seen(&self) -> usize {
        self.state.sync_answers.lock().unwrap().len()
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.release();
        self.task.abort();
    }
}

async fn forward(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let is_sync = path.ends_with("/sync");
    if is_sync {
        state.sync_requests.fetch_add(1, Ordering::SeqCst);
    }
    if path.ends_with("/members") {
        state.member_lists.fetch_add(1, Ordering::SeqCst);
    }
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(answer(StatusCode::BAD_REQUEST, Bytes::new())),
    };
    let mut onward = state
        .http
        .request(method, format!("{}{}", state.upstream, path_and_query));
    for (name, value) in &headers {
        // Plain bodies, so the test can read the syncs.
        if name != HOST && name != ACCEPT_ENCODING {
            onward = onward.header(name, value);
        }
    }
    let Ok(back) = onward.body(body).send().await else {
        return Ok(answer(StatusCode::BAD_GATEWAY, Bytes::new()));
    };
    let status = back.status();
    let back_headers = back.headers().clone();
    let bytes = back.bytes().await.unwrap_or_default();
    if is_sync {
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        state.sync_answers.lock().unwrap().push(value);
    }
    if path.ends_with("/members") && state.hold_next.swap(false, Ordering::SeqCst) {
        state.holding.store(true, Ordering::SeqCst);
        let mut release = state.release.subscribe();
        let _ = release.wait_for(|released| *released).await;
    }
    let mut response = answer(status, bytes);
    for (name, value) in &back_headers {
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            response.headers_mut().append(name, value.clone());
        }
    }
    Ok(response)
}

fn answer(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
}

/// Whether a sync answer brought `user`'s `membership` ("join", "leave") of `room`.
pub fn brought(sync: &Value, room: &str, user: &str, membership: &str) -> bool {
    let room = &sync["rooms"]["join"][room];
    ["state", "timeline"].iter().any(|part| {
        room[part]["events"].as_array().is_some_and(|events| {
            events.iter().any(|event| {
                event["type"] == "m.room.member"
                    && event["state_key"] == user
                    && event["content"]["membership"] == membership
            })
        })
    })
}
