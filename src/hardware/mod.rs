//! Hardware: where a workload runs. A device is compute units plus memory levels plus power,
//! read from a TOML file ([`raw`]) and validated into a typed [`Hardware`] with clear errors
//! (file, line, field, what was expected).
//!
//! `--hw` takes a path, a file name found in `hardware-db/` (shipped files are embedded, so
//! `--hw pixel8.toml` works from anywhere), or a short name (`pixel8`).

pub mod raw;
pub mod show;
pub mod what_if;

pub use raw::{Figure, RawHardware, UnitKind};
pub use what_if::set_field;

use crate::util::text::{TextError, line_at, read_utf8};
use crate::workload::{DType, DTypeTable};
use std::collections::HashSet;
use std::path::Path;

/// Most memory levels a device may have (the ledger keeps a fixed array per level).
pub const MAX_LEVELS: usize = 8;

// Ranges of the figures every model divides by or multiplies with. A figure outside them is a
// typo or a hostile file (a subnormal bandwidth makes every latency infinite; 10^19 cores make
// explore's thread list endless), so it is refused with the file, line and field.

/// Most cores, SMs or PEs in one unit: the largest real one is Cerebras WSE-3's 900,000 cores
/// (a 256×256 systolic array has 65,536 PEs, an H100 132 SMs); 10^7 is 11× the largest.
pub const MAX_UNIT_COUNT: f64 = 1e7;
/// Lowest bandwidth of a memory level, bytes/s: a serial EEPROM on a 100 kHz I²C bus reads
/// about 10 kB/s; 10^3 B/s is 10× slower than that, and far above the subnormals.
pub const MIN_BYTES_PER_S: f64 = 1e3;
/// Highest bandwidth of a memory level, bytes/s: Cerebras WSE-3's on-wafer SRAM gives 21 PB/s
/// (2.1·10^16); 10^18 leaves 48× headroom for what-ifs.
pub const MAX_BYTES_PER_S: f64 = 1e18;
/// Lowest peak of a unit, ops/s (`peak_ops_per_s`, `vector_ops_per_s`, `special_ops_per_s`,
/// `block_quant_ops_per_s`): an 8-bit microcontroller at 1 MHz does about 10^6; 10^3 is 1,000×
/// below it.
pub const MIN_OPS_PER_S: f64 = 1e3;
/// Highest peak of a unit, ops/s: Cerebras WSE-3 peaks at 1.25·10^17 FLOP/s; 10^20 leaves 800×
/// headroom for what-ifs that scale the core count or clock.
pub const MAX_OPS_PER_S: f64 = 1e20;
/// Lowest clock, Hz: the slowest cores modelled run at hundreds of MHz; 1 kHz is far below any
/// compute unit.
pub const MIN_CLOCK_HZ: f64 = 1e3;
/// Highest clock, Hz: shipping cores run below 6 GHz; 10^12 (1 THz) is 170× that.
pub const MAX_CLOCK_HZ: f64 = 1e12;

/// Errors loading a hardware description.
#[derive(Debug, thiserror::Error)]
pub enum HardwareError {
    /// The file could not be read, or is not UTF-8 (the error gives the byte offset).
    #[error("{file}: cannot read: {cause}")]
    Io {
        /// File.
        file: String,
        /// Cause (in the message, not a separate source, so that it is printed once).
        cause: TextError,
    },
    /// A directory where a device file was expected.
    #[error(
        "{path}: is a directory; expected a device file (.toml), a file name in hardware-db/ or a short name"
    )]
    Directory {
        /// The path given.
        path: String,
    },
    /// TOML syntax error, unknown field, missing field or wrong type.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{file}:{line}: field `{field}`: {message}")]
    Invalid {
        /// File.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// Dotted field path, e.g. `unit[cpu-big].clock_hz`.
        field: String,
        /// What was expected.
        message: String,
    },
    /// No such file or shipped device.
    #[error("unknown hardware `{name}`: no such file, and not in hardware-db ({known})")]
    NotFound {
        /// What was asked for.
        name: String,
        /// Shipped devices.
        known: String,
    },
    /// A `--unit` that the device does not have.
    #[error("device `{device}` has no unit `{unit}`; it has: {units}")]
    NoSuchUnit {
        /// Device.
        device: String,
        /// Unit asked for.
        unit: String,
        /// Units present.
        units: String,
    },
    /// A what-if field path (`--sweep`) that names nothing in the file.
    #[error("{file}: no field `{field}`: {message}")]
    NoSuchField {
        /// File.
        file: String,
        /// The path as given, e.g. `memory[dram].bytes_per_s`.
        field: String,
        /// Which part does not exist, and what does.
        message: String,
    },
}

/// A provenance record kept for display (`hw show`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Provenance {
    /// Dotted field path.
    pub field: String,
    /// Value.
    pub value: f64,
    /// `source: ...` or `estimate: ...`.
    pub note: String,
}

/// The default runtimes of a unit, by workload kind (names of runtimes in `runtimes/`; the
/// runtime module loads and checks them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitRuntimes {
    /// Runtime for LLMs.
    pub llm: Option<String>,
    /// Runtime for networks (CNNs, ViTs, encoders).
    pub network: Option<String>,
    /// `source: ...` or `estimate: ...` of the choice.
    pub note: String,
}

/// A validated compute unit.
#[derive(Clone, Debug)]
pub struct Unit {
    /// Name, unique in the device.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// Cores / SMs / PEs / banks.
    pub count: f64,
    /// Clock, Hz.
    pub clock_hz: f64,
    /// Matrix-engine peak ops/s by dtype.
    pub peak: DTypeTable<f64>,
    /// Vector peak ops/s by dtype (falls back to `peak`).
    pub vector_peak: DTypeTable<f64>,
    /// Sustained transcendental evaluations per second by dtype (empty when not given).
    pub special: DTypeTable<f64>,
    /// Dynamic energy per op by dtype, joules.
    pub j_per_op: DTypeTable<f64>,
    /// Memory levels reached, as indices into [`Hardware::memories`], innermost first.
    pub reach: Vec<usize>,
    /// Achievable compute fraction.
    pub compute_efficiency: f64,
    /// Achievable bandwidth fraction.
    pub bandwidth_efficiency: f64,
    /// Per-kernel overhead, seconds.
    pub kernel_overhead_s: f64,
    /// Achievable bandwidth fraction per memory level (index as in [`Hardware::memories`]),
    /// where the file gives one; other levels use `bandwidth_efficiency`.
    pub level_bandwidth_efficiency: [Option<f64>; MAX_LEVELS],
    /// The calibrated kernel terms: rates and efficiencies of particular kernels that a
    /// calibration measures (all absent on a datasheet-only unit).
    pub kernel: KernelTerms,
    /// The runtimes that run each workload kind on this unit by default.
    pub runtimes: UnitRuntimes,
    /// Kind-specific parameters for cycle models.
    pub params: toml::Table,
}

/// A unit's calibrated kernel terms: optional figures, each priced by the roofline model in
/// calibrated mode, that describe how particular kernels of a runtime run on the unit beyond
/// its peaks and efficiencies (`calibrate` measures them; a datasheet-only unit has none).
/// Every term is absent by default, and an absent term costs nothing, so a unit built in code
/// takes `KernelTerms::default()` and sets only the terms it has.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelTerms {
    /// Fraction of a level's bandwidth at which GEMM operands are packed (`None`: no packing
    /// term).
    pub pack_bandwidth_efficiency: Option<f64>,
    /// Packing efficiency per memory level (index as in [`Hardware::memories`]) where the file
    /// gives one; other levels use `pack_bandwidth_efficiency`.
    pub level_pack_bandwidth_efficiency: [Option<f64>; MAX_LEVELS],
    /// Row stride, bytes, whose multiples make packed rows conflict in the first level
    /// (`None`: no conflict class).
    pub pack_conflict_stride_bytes: Option<f64>,
    /// Packing efficiency per level of operands with conflicting rows (other levels use
    /// `level_pack_bandwidth_efficiency`).
    pub level_pack_conflict_bandwidth_efficiency: [Option<f64>; MAX_LEVELS],
    /// Bytes per second of a GEMV's input-vector re-reads from the second level when the
    /// vector and a weight row overflow a core's share of the first (`None`: no term).
    pub reuse_refetch_bytes_per_s: Option<f64>,
    /// Depth a GEMM micro-kernel pass costs beyond its own (`None`: no term).
    pub gemm_depth_overhead: Option<f64>,
    /// Elements per second of a strided gather (`None`: no term).
    pub strided_gather_elems_per_s: Option<f64>,
    /// Elements per second of a serial (one-accumulator) row reduction (`None`: no term).
    pub serial_reduce_elems_per_s: Option<f64>,
    /// Sustained MACs per second of depthwise convolution (`None`: the vector peak applies).
    pub depthwise_macs_per_s: Option<f64>,
    /// Sustained ops/s of products over block-quantized weights, by weight dtype (empty when
    /// not given).
    pub block_quant: DTypeTable<f64>,
}

/// A validated memory level.
#[derive(Clone, Debug)]
pub struct MemoryLevel {
    /// Name, unique in the device.
    pub name: String,
    /// Capacity, bytes.
    pub capacity_bytes: f64,
    /// Usable capacity, bytes.
    pub usable_bytes: f64,
    /// Peak bandwidth, bytes/s.
    pub bytes_per_s: f64,
    /// Access energy, joules per byte.
    pub j_per_byte: f64,
    /// True for a software-managed scratchpad, false for a cache (`managed` in the file).
    pub software_managed: bool,
    /// True for read-only storage that holds the weights in place (`read_only` in the file: a
    /// microcontroller's flash); no other tensor may live there.
    pub read_only: bool,
}

/// A validated device.
#[derive(Clone, Debug)]
pub struct Hardware {
    /// Short name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Compute units.
    pub units: Vec<Unit>,
    /// Memory levels.
    pub memories: Vec<MemoryLevel>,
    /// Static power, watts.
    pub static_w: f64,
    /// Index of the default unit.
    pub default_unit: usize,
    /// Where it was loaded from.
    pub file: String,
    /// Every figure with its provenance.
    pub provenance: Vec<Provenance>,
}

impl HardwareError {
    /// The [`HardwareError::Parse`] of TOML text `text` of file `file`.
    pub fn parse(file: &str, text: &str, e: &toml::de::Error) -> HardwareError {
        HardwareError::Parse {
            file: file.to_string(),
            line: crate::util::text::toml_error_line(text, e),
            message: e.message().to_string(),
        }
    }
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    provenance: Vec<Provenance>,
}

impl Checker<'_> {
    fn invalid(
        &self,
        span: Option<std::ops::Range<usize>>,
        field: &str,
        message: String,
    ) -> HardwareError {
        HardwareError::Invalid {
            file: self.file.to_string(),
            line: span.map_or(0, |s| line_at(self.text.as_bytes(), s.start)),
            field: field.to_string(),
            message,
        }
    }

    /// An optional positive figure (checked as [`Checker::figure`] when present).
    fn optional(
        &mut self,
        f: &Option<Figure>,
        field: &str,
        max: Option<f64>,
    ) -> Result<Option<f64>, HardwareError> {
        f.as_ref()
            .map(|f| self.figure(f, field, max, false))
            .transpose()
    }

    /// A per-level table of fractions in (0, 1] (`field.<level>`), indexed as the device's
    /// memories; every level named must be one the unit reaches.
    fn level_table(
        &mut self,
        table: &std::collections::BTreeMap<String, Figure>,
        field: &str,
        reach: &[usize],
        memories: &[MemoryLevel],
    ) -> Result<[Option<f64>; MAX_LEVELS], HardwareError> {
        let mut out = [None; MAX_LEVELS];
        for (level, fig) in table {
            let field = format!("{field}.{level}");
            let e = self.figure(fig, &field, Some(1.0), false)?;
            match reach.iter().copied().find(|&i| memories[i].name == *level) {
                Some(i) => out[i] = Some(e),
                None => {
                    return Err(self.invalid(
                        Some(fig.value.span()),
                        &field,
                        format!(
                            "unit reaches no memory level `{level}`; it reaches: {}",
                            reach
                                .iter()
                                .map(|&i| memories[i].name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// [`Checker::figure`] within `[min, max]`, both inclusive.
    fn figure_in(
        &mut self,
        f: &Figure,
        field: &str,
        min: f64,
        max: f64,
    ) -> Result<f64, HardwareError> {
        let v = self.figure(f, field, Some(max), false)?;
        if v < min {
            return Err(self.invalid(
                Some(f.value.span()),
                field,
                format!("expected at least {min:e}, found {v:e}"),
            ));
        }
        Ok(v)
    }

    /// The default runtimes of a unit (`[unit.runtimes]` of unit `f`): names that are not
    /// blank, and a `source` or an `estimate` for the choice. Whether each names a runtime that
    /// exists and runs on the unit is checked where runtimes are loaded.
    fn unit_runtimes(
        &mut self,
        raw: Option<&raw::RawUnitRuntimes>,
        f: &str,
        span: std::ops::Range<usize>,
    ) -> Result<UnitRuntimes, HardwareError> {
        let Some(r) = raw else {
            return Ok(UnitRuntimes::default());
        };
        let field = format!("{f}.runtimes");
        let note = match (&r.source, &r.estimate) {
            (Some(s), None) if !s.trim().is_empty() => format!("source: {s}"),
            (None, Some(e)) if !e.trim().is_empty() => format!("estimate: {e}"),
            _ => {
                return Err(self.invalid(
                    Some(span),
                    &field,
                    "the default runtimes need exactly one non-empty `source` (where the stack is documented) or `estimate` (why it is chosen)".into(),
                ));
            }
        };
        let name = |v: &Option<toml::Spanned<String>>, kind: &str| match v {
            None => Ok(None),
            Some(n) if n.get_ref().trim().is_empty() => Err(self.invalid(
                Some(n.span()),
                &format!("{field}.{kind}"),
                "expected a runtime name (see `archscope runtimes`), found an empty string".into(),
            )),
            Some(n) => Ok(Some(n.get_ref().trim().to_string())),
        };
        let out = UnitRuntimes {
            llm: name(&r.llm, "llm")?,
            network: name(&r.network, "network")?,
            note: String::new(),
        };
        if out.llm.is_none() && out.network.is_none() {
            return Err(self.invalid(
                Some(span),
                &field,
                "name a runtime for `llm`, `network` or both".into(),
            ));
        }
        Ok(UnitRuntimes { note, ..out })
    }

    /// Checks provenance and range of one figure; `max` is an inclusive upper bound.
    fn figure(
        &mut self,
        f: &Figure,
        field: &str,
        max: Option<f64>,
        allow_zero: bool,
    ) -> Result<f64, HardwareError> {
        let v = *f.value.get_ref();
        let span = Some(f.value.span());
        if !v.is_finite() {
            return Err(self.invalid(span, field, format!("expected a finite number, found {v}")));
        }
        if v < 0.0 || (v == 0.0 && !allow_zero) {
            let want = if allow_zero {
                "zero or more"
            } else {
                "a positive number"
            };
            return Err(self.invalid(span, field, format!("expected {want}, found {v}")));
        }
        if let Some(m) = max {
            if v > m {
                return Err(self.invalid(span, field, format!("expected at most {m}, found {v}")));
            }
        }
        let note = match (&f.source, &f.estimate) {
            (Some(s), None) if !s.trim().is_empty() => format!("source: {s}"),
            (None, Some(e)) if !e.trim().is_empty() => format!("estimate: {e}"),
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    span,
                    field,
                    "give either `source` or `estimate`, not both".into(),
                ));
            }
            _ => {
                return Err(self.invalid(
                    span,
                    field,
                    "every figure needs a non-empty `source` (where it is published) or `estimate` (how it was derived)".into(),
                ));
            }
        };
        self.provenance.push(Provenance {
            field: field.to_string(),
            value: v,
            note,
        });
        Ok(v)
    }

    /// A per-dtype table of figures, each times `scale`; `range` bounds the figures (before
    /// scaling) when given.
    fn dtype_table(
        &mut self,
        map: &std::collections::BTreeMap<String, Figure>,
        field: &str,
        scale: f64,
        range: Option<(f64, f64)>,
    ) -> Result<DTypeTable<f64>, HardwareError> {
        let mut t = DTypeTable::empty();
        for (k, f) in map {
            let name = format!("{field}.{k}");
            let d = DType::parse(k).ok_or_else(|| {
                self.invalid(
                    Some(f.value.span()),
                    &name,
                    format!(
                        "unknown dtype `{k}`; expected one of f32, f16, bf16, fp8, i8, i4, i16, i32"
                    ),
                )
            })?;
            let v = match range {
                Some((lo, hi)) => self.figure_in(f, &name, lo, hi)?,
                None => self.figure(f, &name, None, false)?,
            };
            t.set(d, v * scale);
        }
        Ok(t)
    }

    /// The device has memory levels (at most [`MAX_LEVELS`]) and units.
    fn sections(&self, raw: &RawHardware) -> Result<(), HardwareError> {
        if raw.memory.is_empty() {
            return Err(self.invalid(
                None,
                "memory",
                "a device needs at least one [[memory]] level".into(),
            ));
        }
        if raw.memory.len() > MAX_LEVELS {
            return Err(self.invalid(
                Some(raw.memory[MAX_LEVELS].name.span()),
                "memory",
                format!("at most {MAX_LEVELS} memory levels are supported"),
            ));
        }
        if raw.unit.is_empty() {
            return Err(self.invalid(None, "unit", "a device needs at least one [[unit]]".into()));
        }
        Ok(())
    }

    /// The trimmed name of a `[[section]]` entry and its field prefix (`section[name]`): not
    /// empty, and not in `seen` (a `what` of that name is a duplicate); it joins `seen`.
    fn section_name(
        &self,
        name: &toml::Spanned<String>,
        section: &str,
        what: &str,
        seen: &mut HashSet<String>,
    ) -> Result<(String, String), HardwareError> {
        let n = name.get_ref().trim().to_string();
        let f = format!("{section}[{n}]");
        if n.is_empty() {
            return Err(self.invalid(
                Some(name.span()),
                &format!("{section}.name"),
                "name must not be empty".into(),
            ));
        }
        if !seen.insert(n.clone()) {
            return Err(self.invalid(
                Some(name.span()),
                &format!("{f}.name"),
                format!("duplicate {what} `{n}`"),
            ));
        }
        Ok((n, f))
    }

    /// The `[[memory]]` levels, in file order: names present and unique, figures checked.
    fn memory_levels(&mut self, raw: &[raw::RawMemory]) -> Result<Vec<MemoryLevel>, HardwareError> {
        let mut memories = Vec::new();
        let mut names = HashSet::new();
        for m in raw {
            let (n, f) = self.section_name(&m.name, "memory", "memory level", &mut names)?;
            memories.push(self.memory_level(m, n, &f)?);
        }
        Ok(memories)
    }

    /// One memory level named `n` (`f` names it in errors).
    fn memory_level(
        &mut self,
        m: &raw::RawMemory,
        n: String,
        f: &str,
    ) -> Result<MemoryLevel, HardwareError> {
        let capacity = self.figure(
            &m.capacity_bytes,
            &format!("{f}.capacity_bytes"),
            None,
            false,
        )?;
        let usable = match &m.usable_bytes {
            Some(u) => self.figure(u, &format!("{f}.usable_bytes"), Some(capacity), false)?,
            None => capacity,
        };
        Ok(MemoryLevel {
            name: n,
            capacity_bytes: capacity,
            usable_bytes: usable,
            bytes_per_s: self.figure_in(
                &m.bytes_per_s,
                &format!("{f}.bytes_per_s"),
                MIN_BYTES_PER_S,
                MAX_BYTES_PER_S,
            )?,
            j_per_byte: self.figure(&m.pj_per_byte, &format!("{f}.pj_per_byte"), None, true)?
                * 1e-12,
            software_managed: m
                .managed
                .as_ref()
                .is_some_and(|k| *k.get_ref() == raw::Managed::Software),
            read_only: m.read_only,
        })
    }

    /// The `[[unit]]`s, in file order: names present and unique, each checked against the
    /// device's `memories`.
    fn units(
        &mut self,
        raw: &[raw::RawUnit],
        memories: &[MemoryLevel],
    ) -> Result<Vec<Unit>, HardwareError> {
        let mut units = Vec::new();
        let mut unames = HashSet::new();
        for u in raw {
            let (n, f) = self.section_name(&u.name, "unit", "unit", &mut unames)?;
            units.push(self.unit(u, n, &f, memories)?);
        }
        Ok(units)
    }

    /// One unit named `n` (`f` names it in errors). Figures are checked (and their provenance
    /// recorded) in a fixed order: size and clock, per-dtype rates and energies, reach,
    /// per-level tables, efficiencies and overhead, the scalar kernel terms, runtimes.
    fn unit(
        &mut self,
        u: &raw::RawUnit,
        n: String,
        f: &str,
        memories: &[MemoryLevel],
    ) -> Result<Unit, HardwareError> {
        let count = self.figure(&u.count, &format!("{f}.count"), Some(MAX_UNIT_COUNT), false)?;
        let clock_hz = self.figure_in(
            &u.clock_hz,
            &format!("{f}.clock_hz"),
            MIN_CLOCK_HZ,
            MAX_CLOCK_HZ,
        )?;
        let ops = Some((MIN_OPS_PER_S, MAX_OPS_PER_S));
        let (peak, vector_peak) = self.unit_peaks(u, f)?;
        let special = self.dtype_table(
            &u.special_ops_per_s,
            &format!("{f}.special_ops_per_s"),
            1.0,
            ops,
        )?;
        let block_quant = self.dtype_table(
            &u.block_quant_ops_per_s,
            &format!("{f}.block_quant_ops_per_s"),
            1.0,
            ops,
        )?;
        let j_per_op = self.unit_energies(u, f, &vector_peak)?;
        let reach = self.unit_reach(u, f, memories)?;
        let level_bandwidth_efficiency = self.level_table(
            &u.level_bandwidth_efficiency,
            &format!("{f}.level_bandwidth_efficiency"),
            &reach,
            memories,
        )?;
        let kernel_tables = KernelTerms {
            level_pack_bandwidth_efficiency: self.level_table(
                &u.level_pack_bandwidth_efficiency,
                &format!("{f}.level_pack_bandwidth_efficiency"),
                &reach,
                memories,
            )?,
            level_pack_conflict_bandwidth_efficiency: self.level_table(
                &u.level_pack_conflict_bandwidth_efficiency,
                &format!("{f}.level_pack_conflict_bandwidth_efficiency"),
                &reach,
                memories,
            )?,
            block_quant,
            ..KernelTerms::default()
        };
        Ok(Unit {
            name: n,
            kind: u.kind,
            count,
            clock_hz,
            peak,
            vector_peak,
            special,
            j_per_op,
            reach,
            compute_efficiency: self.figure(
                &u.compute_efficiency,
                &format!("{f}.compute_efficiency"),
                Some(1.0),
                false,
            )?,
            bandwidth_efficiency: self.figure(
                &u.bandwidth_efficiency,
                &format!("{f}.bandwidth_efficiency"),
                Some(1.0),
                false,
            )?,
            kernel_overhead_s: self.figure(
                &u.kernel_overhead_s,
                &format!("{f}.kernel_overhead_s"),
                None,
                true,
            )?,
            level_bandwidth_efficiency,
            kernel: self.kernel_terms(u, f, kernel_tables)?,
            params: u.params.clone().unwrap_or_default(),
            runtimes: self.unit_runtimes(u.runtimes.as_ref(), f, u.name.span())?,
        })
    }

    /// A unit's matrix peaks (at least one dtype) and vector peaks (the matrix peak for each
    /// dtype the file gives no vector peak).
    fn unit_peaks(
        &mut self,
        u: &raw::RawUnit,
        f: &str,
    ) -> Result<(DTypeTable<f64>, DTypeTable<f64>), HardwareError> {
        let ops = Some((MIN_OPS_PER_S, MAX_OPS_PER_S));
        let peak = self.dtype_table(&u.peak_ops_per_s, &format!("{f}.peak_ops_per_s"), 1.0, ops)?;
        if peak.iter().next().is_none() {
            return Err(self.invalid(
                Some(u.name.span()),
                &format!("{f}.peak_ops_per_s"),
                "needs at least one dtype".into(),
            ));
        }
        let mut vector_peak = self.dtype_table(
            &u.vector_ops_per_s,
            &format!("{f}.vector_ops_per_s"),
            1.0,
            ops,
        )?;
        for (d, v) in peak.iter() {
            if vector_peak.get(d).is_none() {
                vector_peak.set(d, v);
            }
        }
        Ok((peak, vector_peak))
    }

    /// A unit's energy per op, joules, by dtype: one for every dtype it computes.
    fn unit_energies(
        &mut self,
        u: &raw::RawUnit,
        f: &str,
        vector_peak: &DTypeTable<f64>,
    ) -> Result<DTypeTable<f64>, HardwareError> {
        let j_per_op = self.dtype_table(&u.pj_per_op, &format!("{f}.pj_per_op"), 1e-12, None)?;
        for (d, _) in vector_peak.iter() {
            if j_per_op.get(d).is_none() {
                return Err(self.invalid(
                    Some(u.name.span()),
                    &format!("{f}.pj_per_op.{d}"),
                    format!("the unit computes `{d}` but pj_per_op has no `{d}`; every dtype the unit computes needs an energy"),
                ));
            }
        }
        Ok(j_per_op)
    }

    /// The memory levels a unit reaches, as indices into `memories`, innermost first: at least
    /// one, each existing and listed once.
    fn unit_reach(
        &mut self,
        u: &raw::RawUnit,
        f: &str,
        memories: &[MemoryLevel],
    ) -> Result<Vec<usize>, HardwareError> {
        if u.memory.is_empty() {
            return Err(self.invalid(
                Some(u.name.span()),
                &format!("{f}.memory"),
                "a unit must reach at least one memory level".into(),
            ));
        }
        let mut reach = Vec::new();
        for m in &u.memory {
            match memories.iter().position(|x| x.name == *m.get_ref()) {
                Some(i) if reach.contains(&i) => {
                    return Err(self.invalid(
                        Some(m.span()),
                        &format!("{f}.memory"),
                        format!("memory level `{}` listed twice", m.get_ref()),
                    ));
                }
                Some(i) => reach.push(i),
                None => {
                    return Err(self.invalid(
                        Some(m.span()),
                        &format!("{f}.memory"),
                        format!(
                            "memory level `{}` does not exist; the device has: {}",
                            m.get_ref(),
                            memories
                                .iter()
                                .map(|x| x.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        if reach.iter().all(|&i| memories[i].read_only) {
            return Err(self.invalid(
                Some(u.name.span()),
                &format!("{f}.memory"),
                "every level the unit reaches is read_only; add a writable level (e.g. `sram`) for activations, inputs and outputs".into(),
            ));
        }
        Ok(reach)
    }

    /// The scalar calibrated kernel terms of a unit (each optional), over `tables`: its
    /// per-level and per-dtype terms, checked earlier beside the unit's other tables.
    fn kernel_terms(
        &mut self,
        u: &raw::RawUnit,
        f: &str,
        tables: KernelTerms,
    ) -> Result<KernelTerms, HardwareError> {
        Ok(KernelTerms {
            pack_conflict_stride_bytes: self.optional(
                &u.pack_conflict_stride_bytes,
                &format!("{f}.pack_conflict_stride_bytes"),
                None,
            )?,
            reuse_refetch_bytes_per_s: self.optional(
                &u.reuse_refetch_bytes_per_s,
                &format!("{f}.reuse_refetch_bytes_per_s"),
                None,
            )?,
            gemm_depth_overhead: self.optional(
                &u.gemm_depth_overhead,
                &format!("{f}.gemm_depth_overhead"),
                None,
            )?,
            strided_gather_elems_per_s: self.optional(
                &u.strided_gather_elems_per_s,
                &format!("{f}.strided_gather_elems_per_s"),
                None,
            )?,
            pack_bandwidth_efficiency: self.optional(
                &u.pack_bandwidth_efficiency,
                &format!("{f}.pack_bandwidth_efficiency"),
                Some(1.0),
            )?,
            serial_reduce_elems_per_s: self.optional(
                &u.serial_reduce_elems_per_s,
                &format!("{f}.serial_reduce_elems_per_s"),
                None,
            )?,
            depthwise_macs_per_s: self.optional(
                &u.depthwise_macs_per_s,
                &format!("{f}.depthwise_macs_per_s"),
                None,
            )?,
            ..tables
        })
    }
}

impl Hardware {
    /// Parses and validates hardware text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Hardware, HardwareError> {
        let raw: RawHardware =
            toml::from_str(text).map_err(|e| HardwareError::parse(file, text, &e))?;
        Self::validate(raw, text, file)
    }

    /// Loads a file from disk.
    pub fn from_file(path: &Path) -> Result<Hardware, HardwareError> {
        let file = path.display().to_string();
        if path.is_dir() {
            return Err(HardwareError::Directory { path: file });
        }
        let text = read_utf8(path).map_err(|cause| HardwareError::Io {
            file: file.clone(),
            cause,
        })?;
        Self::from_toml_str(&text, &file)
    }

    /// Resolves `--hw`: a path, a file name in `hardware-db/`, or a short name.
    pub fn load(name: &str) -> Result<Hardware, HardwareError> {
        let (file, text) = Self::find_text(name)?;
        Self::from_toml_str(&text, &file)
    }

    /// Finds the text of a device file by path, file name or short name; returns (file label, text).
    pub fn find_text(name: &str) -> Result<(String, String), HardwareError> {
        let path = Path::new(name);
        if path.is_file() {
            let text = read_utf8(path).map_err(|cause| HardwareError::Io {
                file: name.to_string(),
                cause,
            })?;
            return Ok((name.to_string(), text));
        }
        let file = format!("{}.toml", name.trim_end_matches(".toml"));
        let local = Path::new("hardware-db").join(&file);
        if local.is_file() {
            let text = read_utf8(&local).map_err(|cause| HardwareError::Io {
                file: local.display().to_string(),
                cause,
            })?;
            return Ok((local.display().to_string(), text));
        }
        match crate::embedded::HARDWARE_DB
            .iter()
            .find(|(f, _)| *f == file)
        {
            Some((f, text)) => Ok((format!("hardware-db/{f}"), text.to_string())),
            None if path.is_dir() => Err(HardwareError::Directory {
                path: name.to_string(),
            }),
            None => Err(HardwareError::NotFound {
                name: name.to_string(),
                known: known_devices().join(", "),
            }),
        }
    }

    fn validate(raw: RawHardware, text: &str, file: &str) -> Result<Hardware, HardwareError> {
        let mut ck = Checker {
            file,
            text,
            provenance: Vec::new(),
        };
        ck.sections(&raw)?;
        let memories = ck.memory_levels(&raw.memory)?;
        let units = ck.units(&raw.unit, &memories)?;
        let static_w = ck.figure(&raw.power.static_w, "power.static_w", None, true)?;
        let default_unit = match &raw.device.default_unit {
            None => 0,
            Some(d) => units
                .iter()
                .position(|u| u.name == *d.get_ref())
                .ok_or_else(|| {
                    ck.invalid(
                        Some(d.span()),
                        "device.default_unit",
                        format!("no unit named `{}`", d.get_ref()),
                    )
                })?,
        };
        let name = raw.device.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(ck.invalid(
                Some(raw.device.name.span()),
                "device.name",
                "name must not be empty".into(),
            ));
        }
        Ok(Hardware {
            name,
            description: raw.device.description.clone(),
            units,
            memories,
            static_w,
            default_unit,
            file: file.to_string(),
            provenance: ck.provenance,
        })
    }

    /// Index of the unit named `name`, or the default unit when `None`.
    pub fn unit_index(&self, name: Option<&str>) -> Result<usize, HardwareError> {
        match name {
            None => Ok(self.default_unit),
            Some(n) => self.units.iter().position(|u| u.name == n).ok_or_else(|| {
                HardwareError::NoSuchUnit {
                    device: self.name.clone(),
                    unit: n.to_string(),
                    units: self
                        .units
                        .iter()
                        .map(|u| u.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            }),
        }
    }

    /// The outermost memory level a unit reaches (its main memory).
    pub fn main_memory(&self, unit: usize) -> &MemoryLevel {
        &self.memories[self.main_level(unit)]
    }

    /// Index of the main memory of `unit`: the outermost level it reaches that is not read-only
    /// (where inputs, outputs, KV caches and spilled activations live).
    pub fn main_level(&self, unit: usize) -> usize {
        let reach = &self.units[unit].reach;
        reach
            .iter()
            .rev()
            .copied()
            .find(|&l| !self.memories[l].read_only)
            .expect("validated: a unit reaches a writable level")
    }

    /// The read-only level that holds the weights of `unit` in place (the innermost such level
    /// it reaches), if it reaches one: a microcontroller's flash.
    pub fn weight_store(&self, unit: usize) -> Option<usize> {
        (self.units[unit].reach.iter())
            .copied()
            .find(|&l| self.memories[l].read_only)
    }
}

/// Short names of the shipped devices.
pub fn known_devices() -> Vec<&'static str> {
    crate::embedded::HARDWARE_DB
        .iter()
        .map(|(f, _)| f.trim_end_matches(".toml"))
        .collect()
}
