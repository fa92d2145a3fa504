//! Serving the webhook so that no client can hold it: at most
//! `max_connections` connections at once (the rest wait in the listen
//! backlog), request headers within `header_timeout`, the whole request
//! (its body included) within `request_timeout` (408 after), HTTP/1.1 only.
//! hyper does the HTTP; this file only puts the bounds around it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown`, then lets the requests in
/// progress finish (each bounded by the timeouts) and closes idle
/// keep-alive connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = app.layer(TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = tokio::task::JoinSet::new();
    // Tells the connections to finish their request in progress and close,
    // rather than wait for an idle keep-alive client.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(app.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let lifetime = limits.request_timeout * 4;
        let mut stop = stop.clone();
        connections.spawn(async move {
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            // A keep-alive connection is not held forever either.
            let deadline = tokio::time::Instant::now() + lifetime;
            let served = tokio::select! {
                served = tokio::time::timeout_at(deadline, connection.as_mut()) => served,
                () = async { drop(stop.wait_for(|stopping| *stopping).await) } => {
                    connection.as_mut().graceful_shutdown();
                    tokio::time::timeout_at(deadline, connection.as_mut()).await
                }
            };
            match served {
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "connection"),
                Err(_) => tracing::debug!(%peer, "connection closed after its lifetime"),
                Ok(Ok(())) => {}
            }
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = stopping.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
