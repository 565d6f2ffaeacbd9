//! Writes the man pages and shell completions of `vrrpd`, `vrrpctl`, `vip`
//! and `garp`, rendered from their clap definitions (`vrrpd_cli::args`),
//! for the Debian package:
//!
//! ```text
//! cargo run -p vrrpd-cli --example gen-assets -- OUTDIR
//!
//! OUTDIR/man/vrrpd.8, vrrpd-check.8, ... vrrpctl-status.8, ... vip-add.8, ... garp.8
//! OUTDIR/completions/bash/vrrpd      (/usr/share/bash-completion/completions/)
//! OUTDIR/completions/zsh/_vrrpd      (/usr/share/zsh/vendor-completions/)
//! OUTDIR/completions/fish/vrrpd.fish (/usr/share/fish/vendor_completions.d/)
//! ```
//!
//! Each binary has a page in section 8 (system administration commands),
//! and so does each of its subcommands (`vrrpctl-status.8`), which the
//! binary's page lists. The pages carry the crate's version, not the git
//! revision, so they do not change with every commit.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Command;
use clap_complete::Shell;
use clap_mangen::Man;

/// The SEE ALSO section of binary `name`'s page: the other three, and
/// keepalived's and the configuration format's documentation.
fn see_also(name: &str) -> String {
    let mut pages: Vec<String> = ["vrrpd", "vrrpctl", "vip", "garp"]
        .iter()
        .filter(|&&other| other != name)
        .map(|other| format!("\\fB{other}\\fR(8)"))
        .collect();
    pages.push("\\fBkeepalived\\fR(8)".to_string());
    format!(
        ".SH \"SEE ALSO\"\n{}\n.PP\nThe configuration format: /usr/share/doc/vrrpd/configuration.md\n",
        pages.join(", ")
    )
}

/// Renders the page of `cmd` and, under `name-sub`, of each subcommand;
/// the binary's own page (`top`) ends with SEE ALSO.
fn man_pages(cmd: &Command, top: bool, dir: &Path, written: &mut Vec<PathBuf>) -> io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        man_pages(sub, false, dir, written)?;
    }
    let man = Man::new(cmd.clone())
        .section("8")
        .source(concat!("vrrpd ", env!("CARGO_PKG_VERSION")))
        .manual("System Manager's Manual");
    let mut page = Vec::new();
    man.render(&mut page)?;
    if top {
        page.extend_from_slice(see_also(cmd.get_name()).as_bytes());
    }
    let path = dir.join(man.get_filename());
    fs::write(&path, page)?;
    written.push(path);
    Ok(())
}

/// Writes the completion script of `cmd` for `shell` as `path`.
fn completion(
    cmd: &Command,
    shell: Shell,
    path: PathBuf,
    written: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let mut cmd = cmd.clone();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    fs::write(&path, script)?;
    written.push(path);
    Ok(())
}

fn generate(out: &Path) -> io::Result<Vec<PathBuf>> {
    let man = out.join("man");
    let bash = out.join("completions/bash");
    let zsh = out.join("completions/zsh");
    let fish = out.join("completions/fish");
    for dir in [&man, &bash, &zsh, &fish] {
        fs::create_dir_all(dir)?;
    }
    let mut written = Vec::new();
    for cmd in vrrpd_cli::args::commands() {
        // The binaries' `help` subcommand gets no page of its own, and the
        // crate's version heads the pages (see the module's comment).
        let mut page = cmd
            .clone()
            .version(env!("CARGO_PKG_VERSION"))
            .disable_help_subcommand(true);
        // Names the subcommands' pages `vrrpctl-status` and propagates the
        // global options to them.
        page.build();
        man_pages(&page, true, &man, &mut written)?;

        let name = cmd.get_name().to_string();
        completion(&cmd, Shell::Bash, bash.join(&name), &mut written)?;
        completion(&cmd, Shell::Zsh, zsh.join(format!("_{name}")), &mut written)?;
        completion(
            &cmd,
            Shell::Fish,
            fish.join(format!("{name}.fish")),
            &mut written,
        )?;
    }
    Ok(written)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: gen-assets OUTDIR");
        return ExitCode::from(2);
    };
    match generate(Path::new(&out)) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-assets: {}: {e}", Path::new(&out).display());
            ExitCode::FAILURE
        }
    }
}
