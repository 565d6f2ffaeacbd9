//! `vrrpctl`: inspect and control vrrpd. The logic of each subcommand lives
//! in the `vrrpd` library (`vrrpd::decode` for `decode`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "vrrpctl", version, about = "Inspect and control vrrpd")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode VRRP advertisements from hex or a pcap file, one JSON object
    /// per packet. Exits 0 if every VRRP packet parsed and verified, 1
    /// otherwise.
    Decode(vrrpd::decode::DecodeArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Decode(args) => {
            let result = vrrpd::decode::run(
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
