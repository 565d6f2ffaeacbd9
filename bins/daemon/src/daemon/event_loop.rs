//! The event loop: one task on the current tokio runtime owns every
//! router, socket and timer (the [`Shell`]), so no state is shared; the
//! ledger is the address worker's ([`super::address_worker`]), reached
//! through channels. The loop waits on the shutdown future, the precise
//! timer, the VRRP socket set (read by the loop itself, see
//! [`super::sockets`]), the address worker's reports, the trackers, the
//! control socket, reloads and netlink events, and hands each to the
//! shell.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};
use vrrp_netaddr::EventStream;

use super::DaemonError;
use super::address_worker::AddressWorker;
use super::fifo::NotifyFifos;
use super::io::{next_dump, next_reload, next_request, read_events};
use super::lifecycle;
use super::lvs_shell::{LvsInput, LvsShell};
use super::memory;
use super::sdnotify;
use super::shell::Shell;
use super::sockets::{SocketSet, Watch};
use super::timer::PreciseTimer;
use super::vips::AddressManager;
use crate::config::Config;
use crate::control::{self, Request, Response};
use crate::engine::earliest;

/// Runs `config` until `shutdown` completes; see [`super::Daemon::run`].
pub(crate) async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
    mut reloads: Option<mpsc::UnboundedReceiver<Config>>,
    mut dumps: Option<mpsc::UnboundedReceiver<crate::dump::DumpKind>>,
    loader: Option<super::ConfigLoader>,
    drop_capabilities: bool,
) -> Result<(), DaemonError> {
    tokio::pin!(shutdown);
    let global = config.global.clone();
    // The LVS half starts after the VRRP half is up (see below).
    let lvs_config = Config {
        global: config.global.clone(),
        virtual_servers: config.virtual_servers.clone(),
        ..Config::default()
    };
    // 0. keepalived's startup_script, before anything else starts.
    if let Some(hook) = &global.startup_script {
        lifecycle::run_script("startup", hook, global.startup_script_timeout, &global).await;
    }
    // 1. Clean up after a previous run.
    let addrs = AddressManager::open_and_clean(&config.global.state_dir, &config.global.firewall)?;
    // 2. Watch links and addresses before reading their state.
    let events = match EventStream::subscribe() {
        // SAFETY: the stream owns its netlink descriptor for its whole
        // life and never replaces it; the AsyncFd owns the stream.
        Ok(stream) => Some(
            unsafe { AsyncFd::register(stream) }.map_err(|e| DaemonError::Io {
                what: "registering the netlink event socket",
                source: e.into(),
            })?,
        ),
        Err(e) => {
            warn!(error = %e, "no link events: link state and VIP deletions will not be noticed");
            None
        }
    };
    let socket_set = SocketSet::new().map_err(|e| DaemonError::Io {
        what: "creating the socket set",
        source: e,
    })?;
    let (tracker_tx, mut tracker_rx) = mpsc::unbounded_channel();
    let switches_user = config.switches_user();
    let mut netlink = vrrp_netaddr::Handle::new().map_err(|e| DaemonError::Netlink(Box::new(e)))?;
    // The macvlans (and their parents' sysctls) a crashed run left.
    super::vmac_record::clean_up(&config.global.state_dir, &mut netlink);
    let _igmp = global.disable_local_igmp.then(LocalIgmpOff::apply);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let worker = AddressWorker::new(addrs, done_tx);
    let mut shell = Shell::new(&config, worker, socket_set, tracker_tx);
    // keepalived's vrrp_startup_delay: time for the network to come up.
    if !lifecycle::startup_delay(global.startup_delay, shutdown.as_mut()).await {
        shell.addresses.finish();
        if let Some(hook) = &global.shutdown_script {
            lifecycle::run_script("shutdown", hook, global.shutdown_script_timeout, &global).await;
        }
        return Ok(());
    }
    // 3. Sockets and interfaces; the routers start once capabilities are
    // dropped, so that the hooks they run inherit the reduced sets. The
    // loop does not run yet: the look-ups run here, and their handle goes.
    // keepalived's static_ipaddress, static_routes, static_rules: before
    // the instances, whatever their state.
    shell.addresses.install_statics(config.statics.clone());
    let mut events = events;
    if config.has_routing() {
        watch_routing(&mut events);
    }
    let (plan, resolutions) = shell.resolve_now(config, &mut netlink);
    drop(netlink);
    let mut timer = PreciseTimer::new().map_err(|e| DaemonError::Io {
        what: "creating the timer",
        source: e,
    })?;
    // Before the capability drop: a FIFO in a root-owned directory.
    shell.fifos = NotifyFifos::open(&global);
    // The control socket and the metrics endpoint ask the loop the same
    // questions, on one channel.
    let (control_tx, control_rx) = mpsc::channel(16);
    let mut control_rx = Some(control_rx);
    let control_task = match control::serve(
        &shell.engine.config().global.control_socket,
        control_tx.clone(),
        shell.observers.events.clone(),
    ) {
        Ok(task) => Some(task),
        Err(e) => {
            warn!(error = %e, "no control socket: vrrpctl will not reach this daemon");
            None
        }
    };
    let metrics_task = match global.metrics_listen {
        None => None,
        Some(addr) => {
            match crate::metrics::serve(addr, control_tx.clone(), shell.observers.timings.clone())
                .await
            {
                Ok(task) => {
                    info!(%addr, "serving metrics on http://{addr}/metrics");
                    Some(task)
                }
                Err(e) => {
                    warn!(error = %e, "no metrics endpoint");
                    None
                }
            }
        }
    };
    drop(control_tx);
    if drop_capabilities {
        // Every socket that needs CAP_NET_RAW to open at start is open; a
        // reload or a re-created interface opens more, which CAP_NET_RAW
        // (kept) allows. Trackers and hooks start after this, so they
        // inherit the reduced sets.
        let keep = crate::system::needed(switches_user);
        match crate::system::drop_capabilities(&keep) {
            Ok(()) => {
                let names: Vec<String> = keep.iter().map(ToString::to_string).collect();
                info!(kept = %names.join(" "), "dropped every other capability");
            }
            Err(e) => warn!(error = %e, "cannot drop capabilities; running with all of them"),
        }
    }
    // After the drop: the thread inherits the reduced sets.
    if let Err(e) = shell.addresses.start() {
        shell.addresses.finish();
        shell.fifos.close().await;
        return Err(DaemonError::Io {
            what: "starting the address worker",
            source: e,
        });
    }
    shell.fifos.start_readers(&global);
    if let Err(e) = shell.commit(plan, resolutions) {
        shell.addresses.clear();
        shell.addresses.finish();
        shell.fifos.close().await;
        return Err(e);
    }
    shell.spawn_trackers();
    // Built now rather than on first use, so that what start-up freed is
    // returned below and not left in holes under them.
    shell.engine.build_routes();
    memory::return_free_memory();
    let mut lvs = LvsShell::start(&lvs_config, Instant::now());
    drop(lvs_config);
    sdnotify::notify("READY=1");
    let mut supervisor = sdnotify::Supervisor::from_env();
    let mut supervise = supervisor.as_ref().map(|s| {
        let mut t = tokio::time::interval(s.period());
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let (running, waiting) = shell.engine.instance_count();
    info!(instances = running, waiting, "vrrpd running");

    let dump_dir = global.dump_dir.clone().unwrap_or_else(default_dump_dir);
    let loader = loader.map(|l| Arc::new(Mutex::new(l)));
    let (loaded_tx, mut loaded_rx) = mpsc::unbounded_channel();
    // The socket set's registration with tokio: dropped while the sockets
    // are held, so that arriving datagrams do not wake the thread.
    let mut watch: Option<AsyncFd<Watch>> = None;
    let result = loop {
        // While held, the sockets are read when the hold ends (a timer
        // wake-up), or before a takeover.
        if shell.engine.read_held(Instant::now()) {
            watch = None;
        } else if watch.is_none() {
            match shell.socket_set.watch() {
                Ok(w) => watch = Some(w),
                Err(e) => {
                    break Err(DaemonError::Io {
                        what: "registering the socket set",
                        source: e,
                    });
                }
            }
        }
        let next = earliest(
            earliest(
                shell.engine.poll_timeout(),
                shell.engine.read_hold_until().map(|at| (at, false)),
            ),
            lvs.as_ref()
                .and_then(LvsShell::poll_timeout)
                .map(|at| (at, false)),
        );
        let deadline = next.map(|(at, _)| at);
        let exact = next.is_some_and(|(_, exact)| exact);
        if let Err(e) = timer.arm(deadline, exact) {
            break Err(DaemonError::Io {
                what: "arming the timer",
                source: e,
            });
        }
        tokio::select! {
            biased;
            () = &mut shutdown => break Ok(()),
            r = timer.wait() => {
                if let Err(e) = r {
                    break Err(DaemonError::Io { what: "waiting on the timer", source: e });
                }
                if let Some(deadline) = timer.exact_deadline() {
                    shell.warm_takeovers(deadline);
                }
                timer.finish();
                timer.fired();
                // Whatever the timer woke for (the end of a read hold
                // among them), a takeover now due waits for what is queued
                // on the sockets to be read and judged first.
                if !shell.engine.takeovers_due(Instant::now()).is_empty() {
                    if let Err(e) = shell.read_before_takeover() {
                        break Err(DaemonError::Io { what: "polling the VRRP sockets", source: e });
                    }
                }
                shell.on_timeout(Instant::now());
                if let Some(lvs) = &mut lvs {
                    lvs.on_timeout(Instant::now());
                }
            }
            ready = readable(watch.as_ref()) => {
                let mut guard = match ready {
                    Ok(g) => g,
                    Err(e) => break Err(DaemonError::Io { what: "waiting on the VRRP sockets", source: e }),
                };
                match shell.read_sockets() {
                    // Read dry: hold, then wait for the next datagram. One
                    // that came in since is not lost; tokio sees its
                    // readiness anew.
                    Ok(true) => {
                        guard.clear_ready();
                        shell.engine.start_read_hold(Instant::now());
                    }
                    // A socket had more: the loop turns (timer first) and
                    // reads on.
                    Ok(false) => {}
                    Err(e) => break Err(DaemonError::Io { what: "polling the VRRP sockets", source: e }),
                }
            }
            () = tick(supervise.as_mut()) => {
                if let Some(s) = &mut supervisor {
                    s.tick(shell.engine.summary());
                }
            }
            Some(done) = done_rx.recv() => shell.on_address_done(done),
            Some(input) = lvs_input(lvs.as_mut()) => {
                if let Some(lvs) = &mut lvs {
                    lvs.on_input(Instant::now(), input);
                }
            }
            Some(u) = tracker_rx.recv() => shell.on_tracker(&u),
            Some(req) = next_request(&mut control_rx) => {
                let response = match req.request {
                    Request::Status => Response::Status {
                        instances: shell.engine.status(),
                    },
                    Request::Stats => Response::Stats {
                        global: shell.engine.global_discards().clone(),
                        instances: shell.engine.stats(),
                    },
                    Request::Lvs => match &lvs {
                        None => Response::Lvs { virtual_servers: Vec::new() },
                        Some(l) => {
                            // The counters come from the IPVS worker:
                            // answered by a task once they are read.
                            let status = l.status(Instant::now());
                            tokio::spawn(async move {
                                let virtual_servers = status.await;
                                let _ = req.reply.send(Response::Lvs { virtual_servers });
                            });
                            continue;
                        }
                    },
                    // Streamed by the control socket's own task.
                    Request::Watch => Response::Error {
                        message: "watch is served by the control socket".into(),
                    },
                    Request::Reload => match &loader {
                        None => Response::Reloaded {
                            ok: false,
                            message: "this daemon has no configuration file to reload".into(),
                        },
                        Some(loader) => {
                            // Read and checked off the loop; answered when
                            // it comes back as `loaded`.
                            load_off_loop(loader.clone(), req.reply, loaded_tx.clone());
                            continue;
                        }
                    },
                };
                let _ = req.reply.send(response);
            }
            Some((loaded, reply)) = loaded_rx.recv() => {
                let response = match loaded {
                    Err(message) => {
                        warn!("reload rejected: {message}");
                        Response::Reloaded { ok: false, message }
                    }
                    Ok(new) => {
                        if new.has_routing() {
                            watch_routing(&mut events);
                        }
                        reload_lvs(&mut lvs, &new);
                        // Answered once applied.
                        shell.reload(new, Some(reply));
                        continue;
                    }
                };
                let _ = reply.send(response);
            }
            Some(kind) = next_dump(&mut dumps) => {
                write_dump_off_loop(kind, &shell, &dump_dir);
            }
            Some(new) = next_reload(&mut reloads) => {
                if new.has_routing() {
                    watch_routing(&mut events);
                }
                reload_lvs(&mut lvs, &new);
                shell.reload(new, None);
            }
            evs = read_events(&mut events) => {
                for ev in evs {
                    if let Some(lvs) = &mut lvs {
                        match &ev {
                            vrrp_netaddr::Event::AddressAdded { address, .. } => {
                                lvs.on_address(address.prefix.addr(), true);
                            }
                            vrrp_netaddr::Event::AddressRemoved { address, .. } => {
                                lvs.on_address(address.prefix.addr(), false);
                            }
                            _ => {}
                        }
                    }
                    shell.on_event(ev);
                }
            }
        }
    };
    sdnotify::notify("STOPPING=1");
    // What look-ups still out find (a macvlan they created) is freed by
    // the stop below, so wait for them, briefly.
    let until = tokio::time::Instant::now() + LOOKUP_DRAIN;
    while shell.lookups_out > 0 {
        match tokio::time::timeout_at(until, done_rx.recv()).await {
            Ok(Some(done)) => shell.on_address_done(done),
            _ => break,
        }
    }
    if let Some(task) = metrics_task {
        task.abort();
    }
    if let Some(task) = control_task {
        task.abort();
        let _ = std::fs::remove_file(&shell.engine.config().global.control_socket);
    }
    shell.fifos.stop_readers().await;
    // The LVS half goes first, as keepalived's checker stops before its
    // VRRP half releases the VIPs.
    if let Some(lvs) = &mut lvs {
        lvs.stop(HOOK_DRAIN).await;
    }
    shell.stop(Instant::now());
    for notifier in shell.notifiers.values() {
        notifier.drain(HOOK_DRAIN).await;
    }
    shell.fifos.close().await;
    info!("vrrpd stopped");
    // keepalived's shutdown_script, once the addresses are gone.
    if let Some(hook) = &global.shutdown_script {
        lifecycle::run_script("shutdown", hook, global.shutdown_script_timeout, &global).await;
    }
    result
}

/// The next input of the LVS half; never without one.
/// Applies a reload's LVS half: in place when it runs, or starts it when
/// the new configuration is the first with virtual servers.
/// keepalived's dump directory: `$TMPDIR` if it is absolute, else `/tmp`.
fn default_dump_dir() -> std::path::PathBuf {
    std::env::var_os("TMPDIR")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| std::path::PathBuf::from("/tmp"))
}

/// Takes what a dump shows from the engine now, and renders and writes it
/// on the blocking pool: the loop does no file I/O.
fn write_dump_off_loop(kind: crate::dump::DumpKind, shell: &Shell, dir: &std::path::Path) {
    let instances = shell.engine.dump_instances();
    if kind == crate::dump::DumpKind::Json && instances.is_empty() {
        // keepalived writes no JSON file without an instance.
        info!("no instance: no {} written", kind.file_name());
        return;
    }
    let config = shell.engine.config().clone();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let text = crate::dump::render(kind, &config, &instances);
        match crate::dump::write(&dir, kind.file_name(), &text) {
            Ok(path) => info!(path = %path.display(), "wrote {}", kind.file_name()),
            Err(e) => warn!(dir = %dir.display(), error = %e, "cannot write {}", kind.file_name()),
        }
    });
}

fn reload_lvs(lvs: &mut Option<LvsShell>, new: &Config) {
    match lvs {
        Some(l) => l.reload(Instant::now(), new),
        None => *lvs = LvsShell::start(new, Instant::now()),
    }
}

async fn lvs_input(lvs: Option<&mut LvsShell>) -> Option<LvsInput> {
    match lvs {
        Some(l) => l.results.recv().await,
        None => std::future::pending().await,
    }
}

/// Waits until the watched socket set is readable; forever without a
/// watch (while the sockets are held).
async fn readable(
    watch: Option<&AsyncFd<Watch>>,
) -> std::io::Result<tokio::io::unix::AsyncFdReadyGuard<'_, Watch>> {
    match watch {
        Some(w) => w.readable().await,
        None => std::future::pending().await,
    }
}

/// How long `vrrpctl reload` waits for the configuration to be read and
/// checked (an `include` on a hung file system) before it is rejected.
const RELOAD_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A configuration read for a reload, and where its answer goes.
type Loaded = (Result<Config, String>, oneshot::Sender<Response>);

/// Runs `loader` on tokio's blocking pool, bounded by
/// [`RELOAD_READ_TIMEOUT`], and hands the result to the loop through `tx`:
/// reading the files never blocks the loop.
fn load_off_loop(
    loader: Arc<Mutex<super::ConfigLoader>>,
    reply: oneshot::Sender<Response>,
    tx: mpsc::UnboundedSender<Loaded>,
) {
    tokio::spawn(async move {
        let job = tokio::task::spawn_blocking(move || {
            let loader = loader
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (*loader)()
        });
        let result = match tokio::time::timeout(RELOAD_READ_TIMEOUT, job).await {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(e)) => Err(format!("reading the configuration failed: {e}")),
            Err(_) => Err(format!(
                "reading the configuration took over {RELOAD_READ_TIMEOUT:?}: reload rejected"
            )),
        };
        let _ = tx.send((result, reply));
    });
}

/// How long a clean stop waits for the worker's answers to look-ups.
const LOOKUP_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a clean stop waits for queued notify hooks.
const HOOK_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Has the event stream report deleted routes and rules too (idempotent).
fn watch_routing(events: &mut Option<AsyncFd<EventStream>>) {
    if let Some(stream) = events.as_mut() {
        if let Err(e) = stream.get_mut().watch_routing() {
            warn!(error = %e, "routes and rules deleted by someone else will not be noticed");
        }
    }
}

/// keepalived's `disable_local_igmp`: IGMP reports for 224.0.0.0/24 off
/// from before the loop runs, and back on when the run ends, whichever
/// way (they stay off after a crash, as with keepalived).
struct LocalIgmpOff {
    was_on: bool,
}

impl LocalIgmpOff {
    fn apply() -> Self {
        let was_on = match vrrp_netaddr::sysctl::set_local_igmp_reports(false) {
            Ok(was_on) => {
                info!(
                    was_on,
                    "IGMP reports for 224.0.0.0/24 off (disable_local_igmp)"
                );
                was_on
            }
            Err(e) => {
                warn!(error = %e, "cannot turn local IGMP reports off (disable_local_igmp)");
                false
            }
        };
        LocalIgmpOff { was_on }
    }
}

impl Drop for LocalIgmpOff {
    fn drop(&mut self) {
        if self.was_on {
            if let Err(e) = vrrp_netaddr::sysctl::set_local_igmp_reports(true) {
                warn!(error = %e, "cannot turn local IGMP reports back on");
            }
        }
    }
}

/// The supervisor's next tick; never without one.
async fn tick(interval: Option<&mut tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
