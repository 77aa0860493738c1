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
