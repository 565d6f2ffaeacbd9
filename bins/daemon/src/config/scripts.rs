//! What `vrrpd check` and the daemon's start say about scripts and hooks:
//! who runs them, and what run time would refuse (keepalived
//! `script_user`, `enable_script_security`). This looks at the host (the
//! file system, `PATH` and the user database), so the loaders leave it to
//! their callers.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::diagnostics::{Diagnostic, Severity};
use super::model::{Config, Exec, Notify, RunAs};
use crate::process::{Job, RunError, find_program};

/// One script or hook of a configuration, named for messages.
struct Script<'a> {
    /// "track script `chk`" or "notify_master hook of instance `VI_1`".
    what: String,
    exec: &'a Exec,
    run_as: Option<&'a RunAs>,
}

/// Every script tracker and notify hook, in a fixed order.
fn scripts(config: &Config) -> Vec<Script<'_>> {
    let mut out: Vec<Script<'_>> = config
        .track_script
        .iter()
        .map(|(name, s)| Script {
            what: format!("track script `{name}`"),
            exec: &s.exec,
            run_as: s.run_as.as_ref(),
        })
        .collect();
    for inst in &config.instances {
        push_hooks(&mut out, &format!("instance `{}`", inst.name), &inst.notify);
    }
    for group in &config.sync_groups {
        push_hooks(
            &mut out,
            &format!("sync group `{}`", group.name),
            &group.notify,
        );
    }
    out
}

fn push_hooks<'a>(out: &mut Vec<Script<'a>>, owner: &str, notify: &'a Notify) {
    let hooks = [
        ("notify_master", &notify.active),
        ("notify_backup", &notify.backup),
        ("notify_fault", &notify.fault),
        ("notify_stop", &notify.stop),
        ("notify", &notify.any),
    ];
    for (keyword, hook) in hooks {
        if let Some(hook) = hook {
            out.push(Script {
                what: format!("{keyword} hook of {owner}"),
                exec: &hook.exec,
                run_as: hook.run_as.as_ref(),
            });
        }
    }
}

/// Warnings about the scripts of `config`, loaded from `path`, on this
/// host:
///
/// - scripts that run as vrrpd's own user (root under the shipped unit)
///   while neither `script_user` nor `enable_script_security` is set, once
///   for the file (keepalived logs "SECURITY VIOLATION" for this);
/// - each script that run time would refuse: a program that is not found,
///   an unknown user or group, or a file `enable_script_security` rejects.
pub fn script_warnings(config: &Config, path: &Path) -> Vec<Diagnostic> {
    let scripts = scripts(config);
    let warn = |message: String, hint: Option<String>| Diagnostic {
        severity: Severity::Warning,
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message,
        hint,
    };
    let mut out = Vec::new();
    let as_daemon: Vec<&Script<'_>> = scripts
        .iter()
        .filter(|s| s.run_as.is_none() && config.global.script_user.is_none())
        .collect();
    if let Some(first) = as_daemon.first() {
        if !config.global.script_security {
            out.push(warn(
                format!(
                    "{} script(s) and hook(s) run as vrrpd's own user (root under the shipped unit) with no check on who can change them, the first the {}",
                    as_daemon.len(),
                    first.what
                ),
                Some(
                    "set `script_user` to run them as an unprivileged user, and `enable_script_security` (native: `script_security = true`) to refuse scripts that others can write".into(),
                ),
            ));
        }
    }
    for s in &scripts {
        let program = s.exec.to_argv().into_iter().next().unwrap_or_default();
        let refused = find_program(&program)
            .and_then(|found| {
                let runnable = found
                    .metadata()
                    .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0);
                runnable
                    .then_some(())
                    .ok_or(RunError::NotFound(program.clone()))
            })
            .and_then(|()| {
                Job::new(s.exec, Duration::from_secs(1))
                    .configured(s.run_as, &config.global)
                    .check()
                    .map(drop)
            });
        if let Err(e) = refused {
            out.push(warn(
                format!("the {} will not run: {e}", s.what),
                Some("a track script that cannot run counts as failing".into()),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        match crate::config::check_native_str(text, Path::new("t.toml")) {
            Ok((config, _)) => config,
            Err(d) => panic!("{}", crate::config::render(&d)),
        }
    }

    const INSTANCE: &str = "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"198.18.0.1/24\"]\ntrack_script = [\"chk\"]\n";

    fn messages(text: &str) -> Vec<String> {
        script_warnings(&config(text), Path::new("t.toml"))
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn scripts_as_root_without_script_user_or_security_get_one_warning() {
        let text = format!(
            "[track_script.chk]\ncommand = [\"true\"]\n{INSTANCE}[instance.notify]\nactive = [\"true\"]\nbackup = [\"true\"]\n"
        );
        let m = messages(&text);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("3 script(s) and hook(s) run as vrrpd's own user"),
            "{m:?}"
        );
        assert!(m[0].ends_with("the first the track script `chk`"), "{m:?}");
        // script_user or script_security says who runs them: no warning.
        let with_user = format!("[global]\nscript_user = \"root\"\n{text}");
        assert_eq!(messages(&with_user), Vec::<String>::new());
        let with_security = format!("[global]\nscript_security = true\n{text}");
        assert_eq!(messages(&with_security), Vec::<String>::new());
    }

    #[test]
    fn what_run_time_would_refuse_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("chk.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o777)).unwrap();
        let text = format!(
            "[global]\nscript_security = true\n[track_script.chk]\ncommand = [\"{}\"]\n{INSTANCE}",
            script.display()
        );
        let m = messages(&text);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("the track script `chk` will not run: refusing"),
            "{m:?}"
        );
        let missing = format!(
            "[global]\nscript_user = \"root\"\n[track_script.chk]\ncommand = [\"/nonexistent/chk\"]\n{INSTANCE}"
        );
        assert_eq!(
            messages(&missing),
            vec!["the track script `chk` will not run: `/nonexistent/chk` not found"]
        );
        let stranger = format!(
            "[track_script.chk]\ncommand = [\"true\"]\nuser = \"no-such-user-vrrpd\"\n{INSTANCE}"
        );
        assert_eq!(
            messages(&stranger),
            vec!["the track script `chk` will not run: unknown user `no-such-user-vrrpd`"]
        );
    }
}
