//! Text views of devices for `archscope hw`: the list of shipped devices, one device with the
//! provenance of every figure, and the one-line verdict of a file check.

use super::{Hardware, known_devices};
use std::fmt::Write as _;

/// One line per shipped device: its name and description, or why its file is invalid.
pub fn list() -> String {
    let mut s = String::new();
    for name in known_devices() {
        let _ = match Hardware::load(name) {
            Ok(h) => writeln!(s, "{:<18} {}", name, h.description),
            Err(e) => writeln!(s, "{name:<18} (invalid: {e})"),
        };
    }
    s
}

/// A device: its units (kind, count, clock, peaks, the levels each reaches), its memory levels,
/// its static power and the provenance of every figure.
pub fn describe(h: &Hardware) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}\nfile: {}", h.name, h.description, h.file);
    for (i, u) in h.units.iter().enumerate() {
        let reach: Vec<&str> = u
            .reach
            .iter()
            .map(|&l| h.memories[l].name.as_str())
            .collect();
        let peaks: Vec<String> = u
            .peak
            .iter()
            .map(|(d, v)| format!("{d} {:.3e}", v))
            .collect();
        let rt = &u.runtimes;
        let runtimes = match (&rt.llm, &rt.network) {
            (None, None) => String::new(),
            (l, n) => format!(
                "; runtimes: LLMs {}, networks {} ({})",
                l.as_deref().unwrap_or("ideal"),
                n.as_deref().unwrap_or("ideal"),
                rt.note
            ),
        };
        let _ = writeln!(
            s,
            "unit {}{}: {:?} ×{} @ {:.2} GHz, peak ops/s [{}], reaches {}{runtimes}",
            u.name,
            if i == h.default_unit {
                " (default)"
            } else {
                ""
            },
            u.kind,
            u.count,
            u.clock_hz / 1e9,
            peaks.join(", "),
            reach.join(" → ")
        );
    }
    for m in &h.memories {
        let _ = writeln!(
            s,
            "memory {}: {:.3e} B (usable {:.3e}), {:.3e} B/s, {:.2} pJ/B{}",
            m.name,
            m.capacity_bytes,
            m.usable_bytes,
            m.bytes_per_s,
            m.j_per_byte * 1e12,
            if m.read_only {
                ", read-only (weights read in place)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(s, "static power {} W\n\nprovenance:", h.static_w);
    for p in &h.provenance {
        let _ = writeln!(s, "  {:<40} {:>12.4e}  {}", p.field, p.value, p.note);
    }
    s
}

/// The verdict of `hw check` on a device that loaded: what it holds.
pub fn check_summary(h: &Hardware) -> String {
    format!(
        "{}: ok ({} units, {} memory levels, {} figures with provenance)\n",
        h.file,
        h.units.len(),
        h.memories.len(),
        h.provenance.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_of_a_shipped_device() {
        let h = Hardware::load("pixel8").unwrap();
        let d = describe(&h);
        assert!(d.starts_with(&format!("{} — ", h.name)), "{d}");
        // One line per unit and per memory level, and one per figure with provenance.
        assert_eq!(
            d.lines().filter(|l| l.starts_with("unit ")).count(),
            h.units.len()
        );
        assert_eq!(
            d.lines().filter(|l| l.starts_with("memory ")).count(),
            h.memories.len()
        );
        let after = d.split("provenance:\n").nth(1).unwrap();
        assert_eq!(after.lines().count(), h.provenance.len());
        assert_eq!(d.matches("(default)").count(), 1);
        assert!(list().lines().any(|l| l.starts_with("pixel8 ")));
        assert!(check_summary(&h).contains(&format!("{} units", h.units.len())));
    }
}
