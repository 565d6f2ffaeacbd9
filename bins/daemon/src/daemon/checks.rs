//! The checkers' I/O: a TCP connect, an HTTP GET (over TLS for
//! `SSL_GET`, see [`http_get`]), a script. Each runs as
//! a task on the loop's runtime, bounded in time (and, for HTTP, in the
//! bytes it reads), and ends in a [`CheckOutcome`]; none blocks the loop.

use std::sync::Arc;

use super::http_get::{self, Tls};
use crate::config::Global;
use crate::config::lvs::{CheckKind, HttpCheck, MiscCheck, VirtualServer};
use crate::lvs::http::{judge, request};
use crate::lvs::{CheckOutcome, CheckerId};
use crate::process::Job;

/// Runs checker `id` of `servers` to its outcome.
pub(crate) async fn run(
    servers: Arc<[VirtualServer]>,
    id: CheckerId,
    global: Arc<Global>,
) -> CheckOutcome {
    let Some((vs, rs, checker)) = servers.get(id.virtual_server).and_then(|vs| {
        let rs = vs.real_servers.get(id.real_server)?;
        Some((vs, rs, rs.checkers.get(id.checker)?))
    }) else {
        // The engine only asks for checkers of this same list.
        return CheckOutcome::Down;
    };
    let result = match &checker.kind {
        CheckKind::Tcp(c) => http_get::connect_only(c)
            .await
            .map(|()| CheckOutcome::Up)
            .map_err(|e| e.to_string()),
        CheckKind::Http(h) => http(h).await.map(|()| CheckOutcome::Up),
        CheckKind::Misc(m) => Ok(misc(m, &global).await),
    };
    match result {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::debug!(service = %vs.key, real_server = %rs.addr, error = %e, "check failed");
            CheckOutcome::Down
        }
    }
}

/// Each url in turn, on a connection of its own; all must pass.
async fn http(h: &HttpCheck) -> Result<(), String> {
    for url in &h.urls {
        let host = url
            .virtualhost
            .as_deref()
            .or(h.virtualhost.as_deref())
            .map_or_else(|| h.connect.addr.to_string(), str::to_string);
        let tls = h.tls.then(|| Tls {
            sni: url
                .virtualhost
                .clone()
                .or_else(|| h.virtualhost.clone())
                .filter(|_| h.sni),
        });
        let request = request(url, &host, h.http_1_1);
        let response = http_get::get(&h.connect, tls.as_ref(), request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        judge(url, &response).map_err(|e| format!("{}: {e}", url.path))?;
    }
    Ok(())
}

/// Runs the script: exit 0 passes; with `misc_dynamic` 2..=255 passes
/// with weight `status - 2`; anything else, or the timeout, fails.
async fn misc(m: &MiscCheck, global: &Global) -> CheckOutcome {
    let job = Job::new(&m.script.exec, m.timeout).configured(m.script.run_as.as_ref(), global);
    match job.run().await {
        Ok(status) => match status.code() {
            Some(0) => CheckOutcome::Up,
            Some(code @ 2..=255) if m.dynamic => CheckOutcome::UpWithWeight(code as u32 - 2),
            _ => CheckOutcome::Down,
        },
        Err(e) => {
            tracing::warn!(script = %m.script.exec, error = %e, "MISC_CHECK script did not complete");
            CheckOutcome::Down
        }
    }
}
