//! Text views of runtimes for `archscope runtimes`: the list of shipped runtimes with what each
//! runs, and one runtime's file as written (every figure with its `source` or `estimate`).

use super::{IDEAL, Runtime, RuntimeError, known_runtimes};
use std::fmt::Write as _;

/// One line per shipped runtime: name, error class, unit kinds, workload kinds, description.
pub fn list() -> Result<String, RuntimeError> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<20} {:<12} {:<16} {:<13} description",
        "runtime", "class", "units", "workloads"
    );
    let ideal = Runtime::ideal();
    let _ = writeln!(
        s,
        "{:<20} {:<12} {:<16} {:<13} {}",
        IDEAL, "-", "any", "any", ideal.description
    );
    for name in known_runtimes().iter().filter(|n| n.as_str() != IDEAL) {
        let rt = Runtime::load(name)?;
        let units: Vec<String> = rt
            .units
            .iter()
            .map(|u| format!("{u:?}").to_lowercase())
            .collect();
        let workloads: Vec<&str> = rt.workloads.iter().map(|w| w.name()).collect();
        let _ = writeln!(
            s,
            "{:<20} {:<12} {:<16} {:<13} {}",
            rt.name,
            rt.class,
            units.join(","),
            workloads.join(","),
            rt.description
        );
    }
    Ok(s)
}

/// The text of runtime `name` (a shipped name or a file), after checking that it loads.
pub fn text(name: &str) -> Result<String, RuntimeError> {
    if name == IDEAL {
        return Ok(format!(
            "{IDEAL}: {}\n(no file: the unit's own figures apply)\n",
            Runtime::ideal().description
        ));
    }
    let (file, body) = Runtime::find_text(name)?;
    Runtime::from_toml_str(&body, &file)?;
    Ok(format!("# {file}\n{body}"))
}
