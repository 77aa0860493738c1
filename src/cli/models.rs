//! `archscope models`: the shipped LLM configs and built-in networks.

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
        Cmd::List => print!("{}", catalog::list()),
        Cmd::Show { name } => println!(
            "{}",
            serde_json::to_string_pretty(&catalog::describe(&name)?)?
        ),
    }
    Ok(())
}
