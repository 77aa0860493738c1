//! `archscope models`: the shipped LLM configs and built-in networks.

use super::out;
use anyhow::Result;
use archscope::workload::catalog;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Cmd {
    /// List shipped LLMs and built-in networks.
    List,
    /// Show a model's shape and parameter count (any name `--model` accepts).
    Show { name: String },
}

pub fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::List => out(&catalog::list())?,
        Cmd::Show { name } => out(&format!(
            "{}
",
            serde_json::to_string_pretty(&catalog::describe(&name)?)?
        ))?,
    }
    Ok(())
}
