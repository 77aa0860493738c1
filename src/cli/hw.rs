//! `archscope hw`: list, show and check device descriptions (a check also builds every unit's
//! cost model, so bad cycle-model parameters fail it).

use super::out;
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
        Cmd::List => out(&show::list())?,
        Cmd::Show { name } => out(&show::describe(&Hardware::load(&name)?))?,
        Cmd::Check { file } => {
            let h = Hardware::load(&file)?;
            archscope::cost_models::check_cost_models(&h)?;
            out(&show::check_summary(&h))?;
        }
    }
    Ok(())
}
