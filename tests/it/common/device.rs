//! A builder for the device TOML files the tests write by hand: a device, its units and memory
//! levels, every figure with its provenance. [`DeviceToml::text`] gives the file's text (for tests
//! that edit it before parsing) and [`DeviceToml::hardware`] parses it.
//!
//! Values are written as given: a string is copied verbatim (`"1e9"`, `"50e9"`), a number is
//! written with `Display`, so a test can still find and replace a figure in the text.

use archscope::hardware::Hardware;
use std::fmt::Write as _;

/// A figure: `{ value = V, source = "..." }` or `{ value = V, estimate = "..." }`. A plain
/// value converts to a figure whose source is `"test"`.
#[derive(Clone, Debug)]
pub struct Fig {
    value: String,
    key: &'static str,
    note: String,
}

impl Fig {
    /// A figure with a published or measured source.
    pub fn source(value: impl Into<Fig>, source: &str) -> Fig {
        Fig {
            key: "source",
            note: source.to_string(),
            ..value.into()
        }
    }

    /// A figure that was estimated, with how.
    pub fn estimate(value: impl Into<Fig>, how: &str) -> Fig {
        Fig {
            key: "estimate",
            note: how.to_string(),
            ..value.into()
        }
    }

    fn toml(&self) -> String {
        format!(
            "{{ value = {}, {} = {:?} }}",
            self.value, self.key, self.note
        )
    }
}

fn test_fig(value: String) -> Fig {
    Fig {
        value,
        key: "source",
        note: "test".to_string(),
    }
}

impl From<&str> for Fig {
    fn from(v: &str) -> Fig {
        test_fig(v.to_string())
    }
}

impl From<String> for Fig {
    fn from(v: String) -> Fig {
        test_fig(v)
    }
}

impl From<f64> for Fig {
    fn from(v: f64) -> Fig {
        test_fig(v.to_string())
    }
}

impl From<u64> for Fig {
    fn from(v: u64) -> Fig {
        test_fig(v.to_string())
    }
}

impl From<u32> for Fig {
    fn from(v: u32) -> Fig {
        test_fig(v.to_string())
    }
}

/// One `[[unit]]`. Starts as one core at 1 GHz with both efficiencies 1 and no kernel
/// overhead; the peaks, energies and memory levels are for the test to give.
#[derive(Clone, Debug)]
pub struct UnitToml {
    name: String,
    kind: String,
    count: Fig,
    clock_hz: Fig,
    memory: Vec<String>,
    compute_efficiency: Fig,
    bandwidth_efficiency: Fig,
    kernel_overhead_s: Fig,
    lines: Vec<String>,
    tables: Vec<(&'static str, Vec<(String, Fig)>)>,
    params: Vec<String>,
}

impl UnitToml {
    /// A unit named `name` of kind `kind` (`cpu`, `npu`, `pim`, ...).
    pub fn new(name: &str, kind: &str) -> Self {
        UnitToml {
            name: name.to_string(),
            kind: kind.to_string(),
            count: "1".into(),
            clock_hz: "1e9".into(),
            memory: Vec::new(),
            compute_efficiency: "1".into(),
            bandwidth_efficiency: "1".into(),
            kernel_overhead_s: "0".into(),
            lines: Vec::new(),
            tables: Vec::new(),
            params: Vec::new(),
        }
    }

    /// `count`.
    pub fn count(mut self, f: impl Into<Fig>) -> Self {
        self.count = f.into();
        self
    }

    /// `clock_hz`.
    pub fn clock_hz(mut self, f: impl Into<Fig>) -> Self {
        self.clock_hz = f.into();
        self
    }

    /// `memory`: the levels the unit reaches, innermost first.
    pub fn memory(mut self, levels: &[&str]) -> Self {
        self.memory = levels.iter().map(|s| s.to_string()).collect();
        self
    }

    /// `compute_efficiency`.
    pub fn kernel_overhead_s(mut self, f: impl Into<Fig>) -> Self {
        self.kernel_overhead_s = f.into();
        self
    }

    pub fn compute_efficiency(mut self, f: impl Into<Fig>) -> Self {
        self.compute_efficiency = f.into();
        self
    }

    /// `bandwidth_efficiency`.
    pub fn bandwidth_efficiency(mut self, f: impl Into<Fig>) -> Self {
        self.bandwidth_efficiency = f.into();
        self
    }

    /// Lines of TOML copied into the unit after its scalar figures and before its per-dtype
    /// tables (optional fields such as `special_ops_per_s = { f32 = { ... } }`).
    pub fn lines(mut self, text: &str) -> Self {
        self.lines.push(text.to_string());
        self
    }

    fn table(mut self, table: &'static str, dtype: &str, f: Fig) -> Self {
        match self.tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, rows)) => rows.push((dtype.to_string(), f)),
            None => self.tables.push((table, vec![(dtype.to_string(), f)])),
        }
        self
    }

    /// `peak_ops_per_s.<dtype>`.
    pub fn peak(self, dtype: &str, f: impl Into<Fig>) -> Self {
        self.table("peak_ops_per_s", dtype, f.into())
    }

    /// `vector_ops_per_s.<dtype>`.
    pub fn vector(self, dtype: &str, f: impl Into<Fig>) -> Self {
        self.table("vector_ops_per_s", dtype, f.into())
    }

    /// `pj_per_op.<dtype>`.
    pub fn pj_per_op(self, dtype: &str, f: impl Into<Fig>) -> Self {
        self.table("pj_per_op", dtype, f.into())
    }

    /// Lines of TOML copied into `[unit.params]` (the cost model's parameters).
    pub fn params(mut self, text: &str) -> Self {
        self.params.push(text.to_string());
        self
    }

    fn write(&self, out: &mut String) {
        let levels: Vec<String> = self.memory.iter().map(|m| format!("{m:?}")).collect();
        let _ = writeln!(out, "[[unit]]");
        let _ = writeln!(out, "name = {:?}", self.name);
        let _ = writeln!(out, "kind = {:?}", self.kind);
        let _ = writeln!(out, "count = {}", self.count.toml());
        let _ = writeln!(out, "clock_hz = {}", self.clock_hz.toml());
        let _ = writeln!(out, "memory = [{}]", levels.join(", "));
        let _ = writeln!(
            out,
            "compute_efficiency = {}",
            self.compute_efficiency.toml()
        );
        let _ = writeln!(
            out,
            "bandwidth_efficiency = {}",
            self.bandwidth_efficiency.toml()
        );
        let _ = writeln!(out, "kernel_overhead_s = {}", self.kernel_overhead_s.toml());
        for l in &self.lines {
            let _ = writeln!(out, "{l}");
        }
        for (table, rows) in &self.tables {
            let _ = writeln!(out, "[unit.{table}]");
            for (dtype, f) in rows {
                let _ = writeln!(out, "{dtype} = {}", f.toml());
            }
        }
        if !self.params.is_empty() {
            let _ = writeln!(out, "[unit.params]");
            for l in &self.params {
                let _ = writeln!(out, "{l}");
            }
        }
    }
}

/// One `[[memory]]` level.
#[derive(Clone, Debug)]
pub struct MemoryToml {
    name: String,
    capacity_bytes: Fig,
    bytes_per_s: Fig,
    pj_per_byte: Fig,
    lines: Vec<String>,
}

impl MemoryToml {
    /// A level of `capacity_bytes` at `bytes_per_s`, costing `pj_per_byte`.
    pub fn new(
        name: &str,
        capacity_bytes: impl Into<Fig>,
        bytes_per_s: impl Into<Fig>,
        pj_per_byte: impl Into<Fig>,
    ) -> Self {
        MemoryToml {
            name: name.to_string(),
            capacity_bytes: capacity_bytes.into(),
            bytes_per_s: bytes_per_s.into(),
            pj_per_byte: pj_per_byte.into(),
            lines: Vec::new(),
        }
    }

    /// Adds a line to the level's section verbatim (e.g. `read_only = true`).
    pub fn line(mut self, text: &str) -> Self {
        self.lines.push(text.to_string());
        self
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "[[memory]]");
        let _ = writeln!(out, "name = {:?}", self.name);
        let _ = writeln!(out, "capacity_bytes = {}", self.capacity_bytes.toml());
        let _ = writeln!(out, "bytes_per_s = {}", self.bytes_per_s.toml());
        let _ = writeln!(out, "pj_per_byte = {}", self.pj_per_byte.toml());
        for l in &self.lines {
            let _ = writeln!(out, "{l}");
        }
    }
}

/// A whole device file. Static power starts at 0 W.
#[derive(Clone, Debug)]
pub struct DeviceToml {
    name: String,
    description: String,
    units: Vec<UnitToml>,
    memories: Vec<MemoryToml>,
    static_w: Fig,
}

impl DeviceToml {
    /// A device with no units or memory yet.
    pub fn new(name: &str, description: &str) -> Self {
        DeviceToml {
            name: name.to_string(),
            description: description.to_string(),
            units: Vec::new(),
            memories: Vec::new(),
            static_w: "0".into(),
        }
    }

    /// Adds a unit.
    pub fn unit(mut self, u: UnitToml) -> Self {
        self.units.push(u);
        self
    }

    /// Adds a memory level (outermost last).
    pub fn memory(mut self, m: MemoryToml) -> Self {
        self.memories.push(m);
        self
    }

    /// `[power] static_w`.
    pub fn static_w(mut self, f: impl Into<Fig>) -> Self {
        self.static_w = f.into();
        self
    }

    /// The file's text: sections separated by blank lines.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "[device]");
        let _ = writeln!(out, "name = {:?}", self.name);
        let _ = writeln!(out, "description = {:?}", self.description);
        for u in &self.units {
            out.push('\n');
            u.write(&mut out);
        }
        for m in &self.memories {
            out.push('\n');
            m.write(&mut out);
        }
        out.push('\n');
        let _ = writeln!(out, "[power]");
        let _ = writeln!(out, "static_w = {}", self.static_w.toml());
        out
    }

    /// The parsed device, as if read from `file`; panics with the error if it does not parse.
    pub fn hardware(&self, file: &str) -> Hardware {
        Hardware::from_toml_str(&self.text(), file)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.text()))
    }
}

/// The toy device several tests price by hand: one f32 unit `u` of 1e12 FLOP/s (1 pJ per op)
/// on one memory level `m` of 1e12 B at 1e12 B/s (1 pJ per byte), no kernel overhead, no
/// static power. `extra` is copied into the unit (its optional fields).
pub fn flat_device(extra: &str) -> DeviceToml {
    DeviceToml::new("t", "test device")
        .unit(
            UnitToml::new("u", "cpu")
                .memory(&["m"])
                .lines(extra)
                .peak("f32", "1e12")
                .pj_per_op("f32", "1"),
        )
        .memory(MemoryToml::new("m", "1e12", "1e12", "1"))
}
