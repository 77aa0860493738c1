//! Systolic-array configuration: array shape, dataflow, SRAM sizes, word size and DRAM
//! bandwidth, and a reader for SCALE-Sim's INI-style `.cfg` files.
//!
//! The `.cfg` reader follows Python `configparser` conventions, as SCALE-Sim does: `[section]`
//! headers, `key = value` or `key : value` lines, keys case-insensitive, whole-line comments
//! starting with `#` or `;`, blank lines ignored, a duplicated key or section is an error.
//!
//! Keys read (section `architecture_presets` unless noted):
//!
//! | key | meaning | required |
//! |---|---|---|
//! | `ArrayHeight`, `ArrayWidth` | PE rows × columns | yes |
//! | `IfmapSramSzkB`, `FilterSramSzkB`, `OfmapSramSzkB` | SRAM sizes in KiB | yes |
//! | `Dataflow` | `os`, `ws` or `is` | yes |
//! | `Bandwidth` | DRAM words/cycle; a comma list uses its first value | with `USER` |
//! | `WordSize` | bytes per word (archscope extension; SCALE-Sim hard-codes 1) | no, default 1 |
//! | `[general] run_name` | configuration name | no |
//! | `[run_presets] InterfaceBandwidth` | `CALC` (unconstrained) or `USER` | no, default `CALC` |
//! | `[sparsity] SparsitySupport` | must be false: sparse mapping is not modelled | no |
//!
//! Other SCALE-Sim keys (offsets, request buffers, bank layout, Ramulator) are accepted and
//! ignored: they do not affect compute cycles, and the memory model here is analytical.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::SystolicError;

/// Largest accepted array dimension. A sanity bound (about a million PEs per side) that keeps
/// every per-fold cycle term far from `u64` overflow; real arrays are at most a few hundred.
pub const MAX_ARRAY_DIM: u32 = 1 << 20;

/// Largest accepted word size in bytes (a 128-bit operand). Together with
/// [`super::MAX_LAYER_MACS`] it keeps DRAM byte counts within `u64`.
pub const MAX_WORD_BYTES: u32 = 16;

/// SCALE-Sim's default SRAM sizes in KiB (ifmap, filter, ofmap), from `scale_config.__init__`
/// in SCALE-Sim v3.0.0 (`ifmap_sz_kb = 256`, `filter_sz_kb = 256`, `ofmap_sz_kb = 128`).
pub const SCALESIM_DEFAULT_SRAM_KB: (u64, u64, u64) = (256, 256, 128);

/// SCALE-Sim's word size in bytes: hard-coded as `word_size = 1` in `single_layer_sim.run`
/// (SCALE-Sim v3.0.0). Used as the default when a `.cfg` has no `WordSize` key.
pub const SCALESIM_WORD_BYTES: u32 = 1;

/// The three stationary dataflows of a systolic array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dataflow {
    /// Output stationary: each PE accumulates one output; ifmap and filter stream in.
    #[serde(rename = "os")]
    OutputStationary,
    /// Weight stationary: a filter tile is pre-loaded; ifmap streams, partial sums flow down.
    #[serde(rename = "ws")]
    WeightStationary,
    /// Input stationary: an ifmap (im2col) tile is pre-loaded; filters stream.
    #[serde(rename = "is")]
    InputStationary,
}

impl Dataflow {
    /// SCALE-Sim's spelling: `os`, `ws` or `is`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dataflow::OutputStationary => "os",
            Dataflow::WeightStationary => "ws",
            Dataflow::InputStationary => "is",
        }
    }
}

impl fmt::Display for Dataflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dataflow {
    type Err = String;
    /// Parses `os`, `ws` or `is` (case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "os" => Ok(Dataflow::OutputStationary),
            "ws" => Ok(Dataflow::WeightStationary),
            "is" => Ok(Dataflow::InputStationary),
            other => Err(format!("expected `os`, `ws` or `is`, found `{other}`")),
        }
    }
}

/// DRAM interface bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DramBandwidth {
    /// No bandwidth limit: SCALE-Sim's `InterfaceBandwidth: CALC` mode, in which SCALE-Sim
    /// runs stall-free and reports the bandwidth the layer would need. Stall cycles are 0.
    Unlimited,
    /// A limit in words per cycle, shared by the ifmap, filter and ofmap traffic
    /// (SCALE-Sim's `Bandwidth` key under `InterfaceBandwidth: USER`).
    WordsPerCycle(f64),
}

/// Parameters of one systolic array and its on-chip memories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystolicConfig {
    /// Configuration name (SCALE-Sim's `run_name`).
    pub name: String,
    /// PE rows (SCALE-Sim `ArrayHeight`).
    pub rows: u32,
    /// PE columns (SCALE-Sim `ArrayWidth`).
    pub cols: u32,
    /// Stationary dataflow.
    pub dataflow: Dataflow,
    /// Ifmap SRAM size in KiB (1024 bytes).
    pub ifmap_sram_kb: u64,
    /// Filter SRAM size in KiB.
    pub filter_sram_kb: u64,
    /// Ofmap SRAM size in KiB.
    pub ofmap_sram_kb: u64,
    /// Bytes per word (operand element).
    pub word_bytes: u32,
    /// DRAM bandwidth.
    pub dram_bandwidth: DramBandwidth,
}

impl SystolicConfig {
    /// A `rows × cols` array with SCALE-Sim's default SRAM sizes, 1-byte words and unlimited
    /// DRAM bandwidth.
    pub fn new(rows: u32, cols: u32, dataflow: Dataflow) -> Self {
        let (i, f, o) = SCALESIM_DEFAULT_SRAM_KB;
        SystolicConfig {
            name: format!("systolic_{rows}x{cols}_{dataflow}"),
            rows,
            cols,
            dataflow,
            ifmap_sram_kb: i,
            filter_sram_kb: f,
            ofmap_sram_kb: o,
            word_bytes: SCALESIM_WORD_BYTES,
            dram_bandwidth: DramBandwidth::Unlimited,
        }
    }

    /// Checks that every field is in range.
    pub fn validate(&self) -> Result<(), SystolicError> {
        let bad = |field: &'static str, message: String| {
            Err(SystolicError::InvalidConfig { field, message })
        };
        for (field, v) in [("rows", self.rows), ("cols", self.cols)] {
            if v == 0 || v > MAX_ARRAY_DIM {
                return bad(
                    field,
                    format!("expected 1..={MAX_ARRAY_DIM} PEs, found {v}"),
                );
            }
        }
        if self.word_bytes == 0 || self.word_bytes > MAX_WORD_BYTES {
            return bad(
                "word_bytes",
                format!(
                    "expected 1..={MAX_WORD_BYTES} bytes per word, found {}",
                    self.word_bytes
                ),
            );
        }
        for (field, kb) in [
            ("ifmap_sram_kb", self.ifmap_sram_kb),
            ("filter_sram_kb", self.filter_sram_kb),
            ("ofmap_sram_kb", self.ofmap_sram_kb),
        ] {
            if kb == 0 || kb.checked_mul(1024).is_none() {
                return bad(
                    field,
                    format!("expected a positive size in KiB, found {kb}"),
                );
            }
            if kb * 1024 < self.word_bytes as u64 {
                return bad(
                    field,
                    format!("{kb} KiB holds no {}-byte word", self.word_bytes),
                );
            }
        }
        if let DramBandwidth::WordsPerCycle(bw) = self.dram_bandwidth
            && !(bw.is_finite() && bw > 0.0)
        {
            return bad(
                "dram_bandwidth",
                format!("expected a positive finite number of words/cycle, found {bw}"),
            );
        }
        Ok(())
    }

    /// SRAM capacity of the ifmap, filter and ofmap buffers, in words (`KiB · 1024 / word_bytes`).
    pub fn sram_words(&self) -> (u64, u64, u64) {
        let w = |kb: u64| kb.saturating_mul(1024) / self.word_bytes.max(1) as u64;
        (
            w(self.ifmap_sram_kb),
            w(self.filter_sram_kb),
            w(self.ofmap_sram_kb),
        )
    }

    /// Reads a SCALE-Sim `.cfg` file.
    pub fn from_cfg_file(path: impl AsRef<Path>) -> Result<Self, SystolicError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SystolicError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_cfg_str(&text, &path.display().to_string())
    }

    /// Parses the text of a SCALE-Sim `.cfg` file; `file` names it in error messages.
    pub fn from_cfg_str(text: &str, file: &str) -> Result<Self, SystolicError> {
        let ini = Ini::parse(text, file)?;
        let arch = "architecture_presets";

        let name = match ini.get("general", "run_name") {
            Some(e) => e.value.clone(),
            None => "scalesim_cfg".to_string(),
        };
        let rows = ini.parse_required::<u32>(arch, "ArrayHeight", "a positive integer")?;
        let cols = ini.parse_required::<u32>(arch, "ArrayWidth", "a positive integer")?;
        let ifmap_sram_kb = ini.parse_required::<u64>(arch, "IfmapSramSzkB", "a size in KiB")?;
        let filter_sram_kb = ini.parse_required::<u64>(arch, "FilterSramSzkB", "a size in KiB")?;
        let ofmap_sram_kb = ini.parse_required::<u64>(arch, "OfmapSramSzkB", "a size in KiB")?;
        let df = ini.required(arch, "Dataflow")?;
        let dataflow = df
            .value
            .parse::<Dataflow>()
            .map_err(|e| ini.err(df, "Dataflow", &e))?;
        let word_bytes = match ini.get(arch, "WordSize") {
            Some(e) => ini.parse_entry::<u32>(e, "WordSize", "a word size in bytes")?,
            None => SCALESIM_WORD_BYTES,
        };

        let user_bw = match ini.get("run_presets", "InterfaceBandwidth") {
            None => false,
            Some(e) => match e.value.as_str() {
                "USER" => true,
                "CALC" => false,
                other => {
                    return Err(ini.err(
                        e,
                        "InterfaceBandwidth",
                        &format!("expected `USER` or `CALC`, found `{other}`"),
                    ));
                }
            },
        };
        let dram_bandwidth = if user_bw {
            let e = ini.required(arch, "Bandwidth")?;
            let first = e.value.split(',').next().unwrap_or("").trim();
            let bw: f64 = first.parse().map_err(|_| {
                ini.err(
                    e,
                    "Bandwidth",
                    &format!("expected a number of words/cycle, found `{first}`"),
                )
            })?;
            if !(bw.is_finite() && bw > 0.0) {
                return Err(ini.err(
                    e,
                    "Bandwidth",
                    &format!("expected a positive number of words/cycle, found `{first}`"),
                ));
            }
            DramBandwidth::WordsPerCycle(bw)
        } else {
            DramBandwidth::Unlimited
        };

        if let Some(e) = ini.get("sparsity", "SparsitySupport")
            && e.value.eq_ignore_ascii_case("true")
        {
            return Err(ini.err(
                e,
                "SparsitySupport",
                "sparse mapping is not modelled; expected `false`",
            ));
        }

        let cfg = SystolicConfig {
            name,
            rows,
            cols,
            dataflow,
            ifmap_sram_kb,
            filter_sram_kb,
            ofmap_sram_kb,
            word_bytes,
            dram_bandwidth,
        };
        if let Err(SystolicError::InvalidConfig { field, message }) = cfg.validate() {
            let key = match field {
                "rows" => "ArrayHeight",
                "cols" => "ArrayWidth",
                "ifmap_sram_kb" => "IfmapSramSzkB",
                "filter_sram_kb" => "FilterSramSzkB",
                "ofmap_sram_kb" => "OfmapSramSzkB",
                "word_bytes" => "WordSize",
                _ => "Bandwidth",
            };
            return Err(match ini.get(arch, key) {
                Some(e) => ini.err(e, key, &message),
                None => SystolicError::InvalidConfig { field, message },
            });
        }
        Ok(cfg)
    }
}

/// One `key = value` entry with the line it came from.
#[derive(Debug)]
struct IniEntry {
    value: String,
    line: u64,
}

/// A parsed INI file: lower-cased section and key names to entries.
struct Ini {
    file: String,
    sections: HashMap<String, HashMap<String, IniEntry>>,
}

impl Ini {
    fn parse(text: &str, file: &str) -> Result<Self, SystolicError> {
        let perr = |line: u64, message: String| SystolicError::Parse {
            file: file.to_string(),
            line,
            message,
        };
        let mut sections: HashMap<String, HashMap<String, IniEntry>> = HashMap::new();
        let mut current: Option<String> = None;
        for (idx, raw) in text.lines().enumerate() {
            let line_no = idx as u64 + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(perr(
                        line_no,
                        format!("expected `[section]`, found `{line}`"),
                    ));
                };
                let name = name.trim().to_ascii_lowercase();
                if sections.contains_key(&name) {
                    return Err(perr(line_no, format!("section [{name}] appears twice")));
                }
                sections.insert(name.clone(), HashMap::new());
                current = Some(name);
                continue;
            }
            let Some(section) = current.as_ref() else {
                return Err(perr(
                    line_no,
                    format!("expected a `[section]` header before `{line}`"),
                ));
            };
            // configparser splits at the first `=` or `:`, whichever comes first.
            let Some(pos) = line.find(['=', ':']) else {
                return Err(perr(
                    line_no,
                    format!("expected `key = value` or `key : value`, found `{line}`"),
                ));
            };
            let key = line[..pos].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(perr(line_no, format!("empty key in `{line}`")));
            }
            let value = line[pos + 1..].trim().to_string();
            let map = sections.get_mut(section).expect("section inserted above");
            if map.contains_key(&key) {
                return Err(perr(
                    line_no,
                    format!("key `{key}` appears twice in section [{section}]"),
                ));
            }
            map.insert(
                key,
                IniEntry {
                    value,
                    line: line_no,
                },
            );
        }
        Ok(Ini {
            file: file.to_string(),
            sections,
        })
    }

    fn get(&self, section: &str, key: &str) -> Option<&IniEntry> {
        self.sections
            .get(&section.to_ascii_lowercase())?
            .get(&key.to_ascii_lowercase())
    }

    fn required(&self, section: &str, key: &str) -> Result<&IniEntry, SystolicError> {
        self.get(section, key)
            .ok_or_else(|| SystolicError::MissingKey {
                file: self.file.clone(),
                section: section.to_string(),
                key: key.to_string(),
            })
    }

    fn err(&self, e: &IniEntry, key: &str, what: &str) -> SystolicError {
        SystolicError::Parse {
            file: self.file.clone(),
            line: e.line,
            message: format!("field `{key}`: {what}"),
        }
    }

    fn parse_entry<T: FromStr>(
        &self,
        e: &IniEntry,
        key: &str,
        expected: &str,
    ) -> Result<T, SystolicError> {
        e.value
            .parse::<T>()
            .map_err(|_| self.err(e, key, &format!("expected {expected}, found `{}`", e.value)))
    }

    fn parse_required<T: FromStr>(
        &self,
        section: &str,
        key: &str,
        expected: &str,
    ) -> Result<T, SystolicError> {
        let e = self.required(section, key)?;
        self.parse_entry(e, key, expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "\
# comment
[general]
run_name = r32_os

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
Bandwidth : 10, 20
Dataflow : ws
WordSize = 2

[run_presets]
InterfaceBandwidth: USER
";

    #[test]
    fn parses_scalesim_cfg() {
        let c = SystolicConfig::from_cfg_str(CFG, "t.cfg").unwrap();
        assert_eq!(c.name, "r32_os");
        assert_eq!((c.rows, c.cols), (32, 16));
        assert_eq!(c.dataflow, Dataflow::WeightStationary);
        assert_eq!(
            (c.ifmap_sram_kb, c.filter_sram_kb, c.ofmap_sram_kb),
            (64, 32, 16)
        );
        assert_eq!(c.word_bytes, 2);
        // First value of the comma list.
        assert_eq!(c.dram_bandwidth, DramBandwidth::WordsPerCycle(10.0));
        // 64 KiB of 2-byte words = 32768 words.
        assert_eq!(c.sram_words(), (32768, 16384, 8192));
    }

    #[test]
    fn calc_mode_is_unlimited_and_default() {
        let calc = CFG.replace("InterfaceBandwidth: USER", "InterfaceBandwidth: CALC");
        let c = SystolicConfig::from_cfg_str(&calc, "t.cfg").unwrap();
        assert_eq!(c.dram_bandwidth, DramBandwidth::Unlimited);
        let none = CFG.replace("InterfaceBandwidth: USER", "");
        let c = SystolicConfig::from_cfg_str(&none, "t.cfg").unwrap();
        assert_eq!(c.dram_bandwidth, DramBandwidth::Unlimited);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = CFG.replace("Dataflow : ws", "Dataflow : xs");
        let e = SystolicConfig::from_cfg_str(&bad, "t.cfg").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.cfg:12: field `Dataflow`: expected `os`, `ws` or `is`, found `xs`"
        );

        let bad = CFG.replace("ArrayWidth:     16", "ArrayWidth: sixteen");
        let e = SystolicConfig::from_cfg_str(&bad, "t.cfg").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.cfg:7: field `ArrayWidth`: expected a positive integer, found `sixteen`"
        );

        let bad = CFG.replace("ArrayWidth:     16\n", "");
        let e = SystolicConfig::from_cfg_str(&bad, "t.cfg").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.cfg: missing key `ArrayWidth` in section [architecture_presets]"
        );

        let bad = CFG.replace("ArrayWidth:     16", "ArrayWidth 16");
        let e = SystolicConfig::from_cfg_str(&bad, "t.cfg").unwrap_err();
        assert!(
            e.to_string().starts_with("t.cfg:7: expected `key = value`"),
            "{e}"
        );

        let bad = CFG.replace("ArrayWidth:     16", "ArrayWidth: 0");
        let e = SystolicConfig::from_cfg_str(&bad, "t.cfg").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("t.cfg:7: field `ArrayWidth`: expected 1..={MAX_ARRAY_DIM} PEs, found 0")
        );

        let bad = CFG.replace("Bandwidth : 10, 20", "Bandwidth : fast");
        let e = SystolicConfig::from_cfg_str(&bad, "t.cfg").unwrap_err();
        assert!(
            e.to_string().starts_with("t.cfg:11: field `Bandwidth`"),
            "{e}"
        );
    }

    #[test]
    fn sparsity_is_rejected() {
        let s = format!("{CFG}\n[sparsity]\nSparsitySupport : true\n");
        let e = SystolicConfig::from_cfg_str(&s, "t.cfg").unwrap_err();
        assert!(e.to_string().contains("SparsitySupport"), "{e}");
    }

    #[test]
    fn missing_file_is_io_error() {
        let e = SystolicConfig::from_cfg_file("/nonexistent/x.cfg").unwrap_err();
        assert!(matches!(e, SystolicError::Io { .. }));
    }
}
