//! `psa-migrate completions` and `psa-migrate man`: shell completions (clap_complete) and man
//! pages (clap_mangen), generated from the command-line definition. Read no input.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};

use crate::app::{AppError, Cli, exit};

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Options of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into DIR (psa-migrate.1, psa-migrate-check.1, …) instead of
    /// printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "psa-migrate", &mut script);
    if args.shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 spells the state of a subcommand of a hyphenated binary one way
        // where it sets it (`psa__migrate__subcmd__check`) and another in the branches that
        // complete it (`psa__subcmd__migrate__subcmd__check`), so nothing after the
        // subcommand would complete (clap-rs/clap#6421, #6529, open). Spell both alike.
        let text = String::from_utf8_lossy(&script).replace("psa__subcmd__migrate", "psa__migrate");
        script = text.into_bytes();
    }
    out.write_all(&script)?;
    Ok(exit::CLEAN)
}

/// Prints the main man page, or writes every page into `--out`.
pub fn man(args: &ManArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let cmd = Cli::command();
    match &args.out {
        None => {
            clap_mangen::Man::new(cmd).render(out)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::Usage(format!("cannot create {}: {e}", dir.display())))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| AppError::Usage(format!("cannot write to {}: {e}", dir.display())))?;
            writeln!(out, "man pages written to {}", dir.display())?;
        }
    }
    Ok(exit::CLEAN)
}
