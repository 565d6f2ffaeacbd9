//! Notify hooks (keepalived's `notify_master`, `notify_backup`,
//! `notify_fault`, `notify_stop` and `notify`), per instance and per sync
//! group.
//!
//! Hooks never stall the protocol: each instance or group has a queue and a
//! task that runs its hooks one at a time, in the order of the transitions,
//! each killed (with its process group) at [`HOOK_TIMEOUT`]. Exit statuses
//! are logged.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::{Config, Hook, Notify};
use crate::process::Job;

/// How long a hook may run before its process group is killed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(30);

/// The most transitions queued for one target before new ones are dropped
/// (and logged): a hook that always hangs cannot grow memory.
pub const QUEUE_LIMIT: usize = 64;

/// What a hook is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A VRRP instance.
    Instance(String),
    /// A sync group.
    Group(String),
}

impl Target {
    /// keepalived's first trailing argument: `INSTANCE` or `GROUP`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Instance(_) => "INSTANCE",
            Target::Group(_) => "GROUP",
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        match self {
            Target::Instance(n) | Target::Group(n) => n,
        }
    }
}

/// The state a hook reports, in keepalived's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookState {
    /// Became Active (keepalived MASTER).
    Master,
    /// Became Backup.
    Backup,
    /// Entered Fault.
    Fault,
    /// Stopped.
    Stop,
    /// A reload removed the instance (keepalived's `DELETED`, with
    /// `notify_deleted`; its hook is the `notify_deleted` script).
    Deleted,
    /// Not a state: the Active router heard a lower priority (keepalived's
    /// `MASTER_RX_LOWER_PRI` event; its hook is
    /// `notify_master_rx_lower_pri`).
    MasterRxLowerPri,
    /// Not a state: the Active router's effective priority changed
    /// (keepalived's `MASTER_PRIORITY`, for notify FIFOs only).
    MasterPriority,
    /// Not a state: a Backup's (or a Fault router's) effective priority
    /// changed (keepalived's `BACKUP_PRIORITY`, for notify FIFOs only).
    BackupPriority,
}

impl HookState {
    /// `MASTER`, `BACKUP`, `FAULT` or `STOP`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HookState::Master => "MASTER",
            HookState::Backup => "BACKUP",
            HookState::Fault => "FAULT",
            HookState::Stop => "STOP",
            HookState::Deleted => "DELETED",
            HookState::MasterRxLowerPri => "MASTER_RX_LOWER_PRI",
            HookState::MasterPriority => "MASTER_PRIORITY",
            HookState::BackupPriority => "BACKUP_PRIORITY",
        }
    }

    /// The state for a router state, `None` for Initialize (not reported).
    pub fn from_router(state: vrrp_core::router::State) -> Option<Self> {
        use vrrp_core::router::State;
        match state {
            State::Active => Some(HookState::Master),
            State::Backup => Some(HookState::Backup),
            State::Fault => Some(HookState::Fault),
            State::Initialize => None,
        }
    }
}

/// One transition to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The instance or group.
    pub target: Target,
    /// The state entered.
    pub state: HookState,
    /// The state left, if it was a reported one.
    pub previous: Option<HookState>,
    /// The effective priority.
    pub priority: u8,
}

/// The jobs `notify` runs for `t`: the specific hook first, then `notify`
/// with keepalived's four trailing arguments. Each gets `VRRP_INSTANCE` or
/// `VRRP_GROUP`, `VRRP_STATE`, `VRRP_PREVIOUS_STATE`, `VRRP_PRIORITY` and,
/// when set, `VRRP_ROUTER_ID`.
pub fn jobs(config: &Config, notify: &Notify, t: &Transition) -> Vec<Job> {
    let specific = match t.state {
        HookState::Master => notify.active.as_deref(),
        HookState::Backup => notify.backup.as_deref(),
        HookState::Fault => notify.fault.as_deref(),
        HookState::Stop => notify.stop.as_deref(),
        HookState::Deleted => notify.deleted.as_deref(),
        HookState::MasterRxLowerPri => notify.master_rx_lower_pri.as_deref(),
        // Written to notify FIFOs only, as keepalived does.
        HookState::MasterPriority | HookState::BackupPriority => return Vec::new(),
    };
    let mut out = Vec::new();
    if let Some(hook) = specific {
        out.push(job(config, hook, t, false));
    }
    // An event, not a state: keepalived's generic notify does not run.
    if t.state == HookState::MasterRxLowerPri {
        return out;
    }
    if let Some(hook) = notify.any.as_deref() {
        out.push(job(config, hook, t, true));
    }
    out
}

fn job(config: &Config, hook: &Hook, t: &Transition, trailing: bool) -> Job {
    let mut job = Job::new(&hook.exec, HOOK_TIMEOUT);
    if trailing {
        job.argv.extend([
            t.target.kind().to_string(),
            t.target.name().to_string(),
            t.state.as_str().to_string(),
            t.priority.to_string(),
        ]);
    }
    let name_var = match t.target {
        Target::Instance(_) => "VRRP_INSTANCE",
        Target::Group(_) => "VRRP_GROUP",
    };
    job.env.push((name_var.into(), t.target.name().into()));
    job.env.push(("VRRP_STATE".into(), t.state.as_str().into()));
    job.env.push((
        "VRRP_PREVIOUS_STATE".into(),
        t.previous.map_or("", HookState::as_str).into(),
    ));
    job.env
        .push(("VRRP_PRIORITY".into(), t.priority.to_string()));
    if let Some(id) = &config.global.router_id {
        job.env.push(("VRRP_ROUTER_ID".into(), id.clone()));
    }
    job.configured(hook.run_as.as_ref(), &config.global)
}

/// What the hook task is asked to do.
#[derive(Debug)]
enum Message {
    Run(Transition, Vec<Job>),
    /// Answered once everything queued before it has run.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

/// The queue of one instance's or group's hooks.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Message>,
}

impl Notifier {
    /// Starts the task that runs the hooks queued here, in order. Must be
    /// called inside a tokio runtime.
    pub fn spawn() -> Notifier {
        let (tx, mut rx) = mpsc::channel::<Message>(QUEUE_LIMIT);
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                match m {
                    Message::Run(t, jobs) => {
                        for job in jobs {
                            run_one(&t, job).await;
                        }
                    }
                    Message::Barrier(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Notifier { tx }
    }

    /// Queues the hooks for `t` without waiting; `false` (and a log line)
    /// if the queue is full.
    pub fn notify(&self, config: &Config, notify: &Notify, t: Transition) -> bool {
        let jobs = jobs(config, notify, &t);
        if jobs.is_empty() {
            return true;
        }
        match self.tx.try_send(Message::Run(t, jobs)) {
            Ok(()) => true,
            Err(e) => {
                let Message::Run(t, _) = e.into_inner() else {
                    return false;
                };
                tracing::warn!(
                    target = t.target.name(),
                    state = t.state.as_str(),
                    "notify queue full ({QUEUE_LIMIT}): hooks for this transition skipped"
                );
                false
            }
        }
    }

    /// Waits until every hook queued so far has run (for a clean stop),
    /// at most `limit`.
    pub async fn drain(&self, limit: Duration) {
        let (done, wait) = tokio::sync::oneshot::channel();
        let barrier = async {
            if self.tx.send(Message::Barrier(done)).await.is_ok() {
                let _ = wait.await;
            }
        };
        let _ = tokio::time::timeout(limit, barrier).await;
    }
}

async fn run_one(t: &Transition, job: Job) {
    let (target, state) = (t.target.name(), t.state.as_str());
    let program = job.argv.first().cloned().unwrap_or_default();
    match job.run().await {
        Ok(status) if status.success() => {
            tracing::debug!(target, state, program, "notify hook exited 0")
        }
        Ok(status) => {
            tracing::warn!(target, state, program, "notify hook failed: {status}")
        }
        Err(e) => tracing::warn!(target, state, program, "notify hook: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Exec;

    fn hook(script: String) -> Box<Hook> {
        Box::new(Hook {
            exec: Exec::Shell(script),
            run_as: None,
        })
    }

    #[test]
    fn hooks_run_in_order_with_keepalived_arguments_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let notify = Notify {
            active: Some(hook(format!(
                "echo \"master $VRRP_INSTANCE $VRRP_PREVIOUS_STATE $VRRP_PRIORITY\" >> {}",
                log.display()
            ))),
            any: Some(Box::new(Hook {
                exec: Exec::Argv(vec![
                    "/bin/sh".into(),
                    "-c".into(),
                    format!("echo \"any $*\" >> {}", log.display()),
                    "sh".into(),
                ]),
                run_as: None,
            })),
            ..Notify::default()
        };
        let config = Config::default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let n = Notifier::spawn();
            for (state, previous) in [
                (HookState::Master, Some(HookState::Backup)),
                (HookState::Backup, Some(HookState::Master)),
            ] {
                assert!(n.notify(
                    &config,
                    &notify,
                    Transition {
                        target: Target::Instance("VI_1".into()),
                        state,
                        previous,
                        priority: 150,
                    }
                ));
            }
            n.drain(Duration::from_secs(10)).await;
        });
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "master VI_1 BACKUP 150\nany INSTANCE VI_1 MASTER 150\nany INSTANCE VI_1 BACKUP 150\n"
        );
    }

    #[test]
    fn no_hooks_means_no_jobs() {
        let t = Transition {
            target: Target::Group("G".into()),
            state: HookState::Fault,
            previous: None,
            priority: 1,
        };
        assert!(jobs(&Config::default(), &Notify::default(), &t).is_empty());
    }
}
