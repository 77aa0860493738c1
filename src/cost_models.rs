//! The cost-model registry: which model prices a unit, by name.
//!
//! The dependencies run one way, from here down:
//!
//! ```text
//! cost_models (this registry)
//!   -> roofline, cycle::{cpu, npu, pim, fpga, systolic} (the models)
//!     -> cost (the seam: the CostModel trait, Ledger, Mode, tensor homes, traffic, Params)
//! ```
//!
//! `cost` knows no concrete model, each model knows only `cost` (and shared helpers such as
//! [`crate::cycle::gemm_view`]), and only this module knows every model. A unit picks its model
//! with `params.model` in the hardware file; without it [`DEFAULT_MODEL`] (the roofline)
//! applies. `score`, `explore`, `placement` and the rest call [`model_for`] and ask the model
//! itself ([`CostModel::name`], [`CostModel::ceilings`], [`CostModel::thread_count`]) what they
//! need to know about it.
//!
//! Each model registers one line of [`REGISTRY`]: its name and its [`Build`] function, which
//! parses the unit's `params` (with [`crate::cost::Params`], which rejects unknown keys and
//! names the file, unit and field of any bad value) and constructs the model. Adding a model is
//! one file implementing [`CostModel`], one line here and a hardware file that names it (see
//! `docs/architecture.md`, "Adding a cost model").
//!
//! # Example: a model in one file
//!
//! A model that runs every op at one rate, `params.ops_per_s`, and moves its traffic at each
//! level's bandwidth. Registered, it would be the line
//! `Registration::new(flat::NAME, |hw, u, m| boxed(Flat::new(hw, u, m)))`; here it is built
//! directly, since a registry line lives in this file.
//!
//! ```
//! use archscope::cost::{
//!     evaluate, residency, traffic, CostModel, Infeasible, Ledger, Mode, ParamError, Params,
//!     TensorHomes,
//! };
//! use archscope::hardware::Hardware;
//! use archscope::workload::{load_llm, Graph, OpId, Phase, QuantScheme};
//!
//! /// The value of `params.model` that selects it.
//! pub const NAME: &str = "flat";
//!
//! /// Every op at `ops_per_s`; traffic at each level's peak bandwidth.
//! pub struct Flat<'a> {
//!     hw: &'a Hardware,
//!     unit: usize,
//!     mode: Mode,
//!     ops_per_s: f64,
//! }
//!
//! impl<'a> Flat<'a> {
//!     /// Reads `params.ops_per_s`; any other key is an error naming file, unit and key.
//!     pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Result<Self, ParamError> {
//!         let p = Params::of(&hw.units[unit], &hw.file);
//!         p.check_known(NAME, &["ops_per_s"])?;
//!         Ok(Flat { hw, unit, mode, ops_per_s: p.pos("ops_per_s")? })
//!     }
//! }
//!
//! impl CostModel for Flat<'_> {
//!     fn cost(&self, g: &Graph, homes: &TensorHomes, op: OpId) -> Result<Ledger, Infeasible> {
//!         let mut l = Ledger::zero();
//!         l.flops = g.op(op).kind.flops();
//!         l.bytes = traffic(self.hw, self.unit, g, homes, op)?;
//!         l.compute_bound_s = l.flops / self.ops_per_s;
//!         for &lvl in &self.hw.units[self.unit].reach {
//!             let mem = &self.hw.memories[lvl];
//!             l.memory_j += l.bytes[lvl] * mem.j_per_byte;
//!             l.memory_bound_s[lvl] = l.bytes[lvl] / mem.bytes_per_s;
//!         }
//!         l.latency_s = l.memory_bound_s.iter().fold(l.compute_bound_s, |a, &b| a.max(b));
//!         l.close_static(self.hw);
//!         Ok(l)
//!     }
//!     fn hardware(&self) -> &Hardware {
//!         self.hw
//!     }
//!     fn unit(&self) -> usize {
//!         self.unit
//!     }
//!     fn name(&self) -> &'static str {
//!         NAME
//!     }
//!     fn mode(&self) -> Mode {
//!         self.mode
//!     }
//! }
//!
//! // The hardware file's side: `[unit.params]` with `model = "flat"` and `ops_per_s = 1e12`.
//! let mut hw = Hardware::load("pixel8")?;
//! let gpu = hw.unit_index(Some("gpu"))?;
//! hw.units[gpu].params = toml::from_str("model = \"flat\"\nops_per_s = 1e12")?;
//! // Not registered: the registry names the models it has.
//! let e = archscope::cost_models::model_for(&hw, gpu, Mode::Calibrated).err().unwrap();
//! assert!(e.to_string().contains("`flat` is not a known cost model"));
//! // Built directly, it prices a graph like any other model.
//! let flat = Flat::new(&hw, gpu, Mode::Calibrated)?;
//! let llm = load_llm("llama-1b")?;
//! let g = llm.build(&QuantScheme::parse("fp16")?, Phase::Decode { context: 128 }, 1);
//! let total = evaluate(&flat, &g, &residency(&hw, gpu, &g))?.total;
//! assert_eq!(total.flops, g.ops.iter().map(|o| o.kind.flops()).sum::<f64>());
//! assert!(total.latency_s >= total.flops / 1e12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::cost::{Build, CostModel, Mode, SelectError, declared_model};
use crate::cycle::cpu::{self, Cpu};
use crate::cycle::fpga::{self, Fpga};
use crate::cycle::npu::{self, Npu};
use crate::cycle::pim::{self, Pim};
use crate::cycle::systolic::{self, SystolicUnit};
use crate::hardware::Hardware;
use crate::roofline::{self, Roofline};

/// One registered cost model.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    /// The value of `params.model` that selects it.
    pub name: &'static str,
    /// Parses a unit's `params` and builds the model for it.
    pub build: Build,
}

impl Registration {
    /// A registry line.
    pub const fn new(name: &'static str, build: Build) -> Registration {
        Registration { name, build }
    }
}

/// The model of units whose `params` name none.
pub const DEFAULT_MODEL: &str = roofline::NAME;

/// Every cost model, one line each: its name and how to build it.
#[rustfmt::skip]
pub const REGISTRY: &[Registration] = &[
    Registration::new(roofline::NAME, |hw, u, m| Ok(Box::new(Roofline::new(hw, u, m)))),
    Registration::new(systolic::NAME, |hw, u, m| boxed(SystolicUnit::new(hw, u, m))),
    Registration::new(cpu::NAME,      |hw, u, m| boxed(Cpu::new(hw, u, m))),
    Registration::new(npu::NAME,      |hw, u, m| boxed(Npu::new(hw, u, m))),
    Registration::new(pim::NAME,      |hw, u, m| boxed(Pim::new(hw, u, m, model_for))),
    Registration::new(fpga::NAME,     |hw, u, m| boxed(Fpga::new(hw, u, m))),
];

/// A built model, boxed behind the trait, or the error building it.
fn boxed<'a, M: CostModel + 'a, E: Into<SelectError>>(
    built: Result<M, E>,
) -> Result<Box<dyn CostModel + 'a>, SelectError> {
    match built {
        Ok(m) => Ok(Box::new(m)),
        Err(e) => Err(e.into()),
    }
}

/// The names of the registered models, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|r| r.name)
}

/// The cost model of unit `unit` of `hw`: the one its `params.model` names, else the default.
pub fn model_for(
    hw: &Hardware,
    unit: usize,
    mode: Mode,
) -> Result<Box<dyn CostModel + '_>, SelectError> {
    let u = &hw.units[unit];
    let name = declared_model(u).unwrap_or(DEFAULT_MODEL);
    let entry =
        REGISTRY
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| SelectError::UnknownModel {
                file: hw.file.clone(),
                unit: u.name.clone(),
                model: name.to_string(),
                known: names().collect::<Vec<_>>().join(", "),
            })?;
    (entry.build)(hw, unit, mode)
}

/// Builds the cost model of every unit of `hw`, in both modes, so that a bad or unknown model
/// parameter fails when the device is checked rather than at its first score. The error names
/// the file, the unit and the parameter.
pub fn check_cost_models(hw: &Hardware) -> Result<(), SelectError> {
    for unit in 0..hw.units.len() {
        for mode in [Mode::Calibrated, Mode::Ideal] {
            model_for(hw, unit, mode)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_the_default_is_registered() {
        let all: Vec<&str> = names().collect();
        for (i, n) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(n), "`{n}` registered twice");
        }
        assert!(all.contains(&DEFAULT_MODEL));
    }

    #[test]
    fn every_shipped_device_passes_the_check_and_a_bad_parameter_fails_it() {
        for d in crate::hardware::known_devices() {
            let hw = Hardware::load(d).unwrap();
            check_cost_models(&hw).unwrap_or_else(|e| panic!("{d}: {e}"));
        }
        // The NPU of neupims with a 0-row array: the model rejects it, naming file, unit, field.
        let (file, text) = Hardware::find_text("neupims").unwrap();
        let from = "array_rows = ";
        assert!(text.contains(from));
        let bad = text.replacen(from, "array_rows = 0 #", 1);
        let hw = Hardware::from_toml_str(&bad, &file).unwrap();
        let e = check_cost_models(&hw).unwrap_err();
        assert!(matches!(e, SelectError::Params(_)), "{e}");
        let s = e.to_string();
        assert!(s.contains("unit `npu`: params.array_rows:"), "{s}");
    }

    #[test]
    fn each_model_reports_the_name_it_is_registered_under() {
        // One shipped device per model; the model built for that unit answers with its name.
        for (device, unit, name) in [
            ("pixel8", "gpu", "roofline"),
            ("pixel8", "cpu-big", "cpu"),
            ("tpu-v4", "tpu", "systolic"),
            ("neupims", "npu", "npu-tiled"),
            ("hbm-pim", "pim", "pim"),
            ("zcu104", "fabric", "fpga"),
        ] {
            let hw = Hardware::load(device).unwrap();
            let u = hw.unit_index(Some(unit)).unwrap();
            let m = model_for(&hw, u, Mode::Calibrated).unwrap();
            assert_eq!((m.name(), m.unit()), (name, u), "{device}/{unit}");
        }
    }
}
