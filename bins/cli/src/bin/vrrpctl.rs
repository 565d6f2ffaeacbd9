//! `vrrpctl`: inspect and control vrrpd. The logic of each subcommand lives
//! in the `vrrpd` library (`vrrpd_cli::decode` for `decode`,
//! `vrrpd::control` for `status`, `stats`, `reload` and `watch`).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use vrrpd::control::{Request, Response};
use vrrpd_cli::args::vrrpctl::{Cli, Command};

fn ask(socket: &std::path::Path, request: &Request) -> Result<Response, ExitCode> {
    vrrpd::control::request(socket, request, Duration::from_secs(10)).map_err(|e| {
        eprintln!("vrrpctl: {e}");
        ExitCode::FAILURE
    })
}

fn print_json(response: &Response) -> ExitCode {
    match serde_json::to_string_pretty(response) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vrrpctl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn control(socket: &std::path::Path, command: &Command) -> ExitCode {
    let (request, json) = match command {
        Command::Status { json } => (Request::Status, *json),
        Command::Stats { json } => (Request::Stats, *json),
        Command::Reload => (Request::Reload, false),
        Command::Lvs { json } => (Request::Lvs, *json),
        Command::Decode(_) | Command::Genhash { .. } | Command::Watch { .. } => {
            return ExitCode::FAILURE;
        }
    };
    let response = match ask(socket, &request) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if json {
        return print_json(&response);
    }
    match response {
        Response::Status { instances } => {
            println!(
                "{:<16} {:<10} {:>4} {:>2} {:<10} {:>4} {:>4} {:<26} VIPS",
                "INSTANCE", "INTERFACE", "VRID", "V", "STATE", "PRIO", "EFF", "ACTIVE ROUTER"
            );
            for i in instances {
                println!(
                    "{:<16} {:<10} {:>4} {:>2} {:<10} {:>4} {:>4} {:<26} {}",
                    i.name,
                    i.interface,
                    i.vrid,
                    i.version,
                    i.state,
                    i.priority,
                    i.effective_priority,
                    i.active_router.as_deref().unwrap_or("-"),
                    i.vips.join(",")
                );
                if let Some(why) = &i.waiting {
                    println!("{:<16} waiting: {why}", "");
                }
            }
            ExitCode::SUCCESS
        }
        Response::Stats { global, instances } => {
            for (k, v) in &global {
                println!("global {k} {v}");
            }
            for i in instances {
                println!("{}:", i.name);
                // Discard reasons get a prefix: some share a name with an
                // RFC counter (auth_type_mismatch).
                for (k, v) in i.counters.iter().chain(&i.errors) {
                    println!("  {k} {v}");
                }
                for (k, v) in &i.discards {
                    println!("  discarded_{k} {v}");
                }
                for (k, v) in &i.transitions {
                    println!("  transitions_to_{k} {v}");
                }
                if let Some(t) = i.last_transition {
                    println!(
                        "  last_transition {} -> {} ({}) at {} ms",
                        t.from, t.to, t.reason, t.at_unix_ms
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Response::Reloaded { ok, message } => {
            println!("{message}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Response::Lvs { virtual_servers } => {
            for v in virtual_servers {
                println!(
                    "{}  quorum {}{}",
                    v.service,
                    if v.quorum_up { "up" } else { "down" },
                    if v.sorry_server_active {
                        ", sorry server serving"
                    } else {
                        ""
                    }
                );
                if let Some(c) = v.counters {
                    println!(
                        "  conns {} inpkts {} outpkts {} inbytes {} outbytes {}",
                        c.connections, c.packets_in, c.packets_out, c.bytes_in, c.bytes_out
                    );
                }
                for r in v.real_servers {
                    let last = match (r.last_check_passed, r.last_check_ms_ago) {
                        (Some(ok), Some(ms)) => {
                            format!("{} {ms} ms ago", if ok { "passed" } else { "failed" })
                        }
                        _ => "not checked yet".to_string(),
                    };
                    println!(
                        "  -> {:<28} {:<5} weight {:<5} {:<12} last check {last}",
                        r.addr.to_string(),
                        if r.alive { "UP" } else { "DOWN" },
                        r.weight,
                        if r.in_table {
                            "in table"
                        } else {
                            "out of table"
                        },
                    );
                    if let Some(c) = r.counters {
                        println!(
                            "     active {} inactive {} conns {} inpkts {} outpkts {} inbytes {} outbytes {}",
                            c.active_connections,
                            c.inactive_connections,
                            c.stats.connections,
                            c.stats.packets_in,
                            c.stats.packets_out,
                            c.stats.bytes_in,
                            c.stats.bytes_out
                        );
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Response::Error { message } => {
            eprintln!("vrrpctl: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `vrrpctl watch`: prints each event as it comes, until the daemon stops
/// (exit 0) or the connection fails (exit 1); Ctrl-C ends it.
fn watch(socket: &std::path::Path, json: bool) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let result = vrrpd::control::watch(socket, |event| {
        let line = if json {
            serde_json::to_string(&event).unwrap_or_default()
        } else {
            event.to_string()
        };
        // A closed pipe (`vrrpctl watch | head`) ends the stream.
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vrrpctl watch: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Watch { json } => watch(&cli.socket, json),
        ref c @ (Command::Status { .. }
        | Command::Stats { .. }
        | Command::Reload
        | Command::Lvs { .. }) => control(&cli.socket, c),
        Command::Genhash {
            url,
            virtualhost,
            sni,
            timeout,
        } => match vrrpd_cli::genhash::genhash(
            &url,
            virtualhost.as_deref(),
            sni,
            Duration::from_secs(timeout.max(1)),
        ) {
            Ok(digest) => {
                println!("{digest}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vrrpctl genhash: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Decode(args) => {
            let result = vrrpd_cli::decode::run(
                &args,
                std::io::stdin().lock(),
                std::io::stdout().lock(),
                std::io::stderr().lock(),
            );
            match result {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("vrrpctl decode: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
