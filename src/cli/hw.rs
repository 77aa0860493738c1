//! `archscope hw`: list, show and check device descriptions.

use anyhow::Result;
use archscope::hardware::{Hardware, show};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Cmd {
    /// List shipped devices.
    List,
    /// Show a device with the provenance of every figure.
    Show { name: String },
    /// Validate a hardware file.
    Check { file: String },
}

pub fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::List => print!("{}", show::list()),
        Cmd::Show { name } => print!("{}", show::describe(&Hardware::load(&name)?)),
        Cmd::Check { file } => print!("{}", show::check_summary(&Hardware::load(&file)?)),
    }
    Ok(())
}
