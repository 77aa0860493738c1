//! Chooses the cost model of a compute unit. The hardware file picks it: a unit's
//! `params.model` names a cycle model; without it the hierarchical roofline applies. `score` and
//! `explore` call [`model_for`] and never need to be told which model a unit uses.

use super::CostModel;
use crate::cost::Mode;
use crate::hardware::Hardware;
use crate::roofline::Roofline;
use crate::systolic::cost::SystolicUnit;

/// Errors choosing a cost model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectError {
    /// A cycle model's parameters are missing, mistyped or inconsistent.
    #[error(transparent)]
    Params(#[from] crate::cycle::ParamError),
    /// `params.model` names a model archscope does not have.
    #[error(
        "{file}: unit `{unit}`: params.model = `{model}` is not a known cost model; expected one of: {known}"
    )]
    UnknownModel {
        /// Hardware file.
        file: String,
        /// Unit name.
        unit: String,
        /// The value given.
        model: String,
        /// Known models.
        known: String,
    },
    /// The unit's `params` do not fit its model.
    #[error("{file}: unit `{unit}`: {message}")]
    BadParams {
        /// Hardware file.
        file: String,
        /// Unit name.
        unit: String,
        /// What is wrong.
        message: String,
    },
}

/// Names accepted in `params.model`.
pub const MODELS: &[&str] = &["roofline", "systolic", "cpu", "npu-tiled", "pim", "fpga"];

/// The cost model of unit `unit` of `hw`.
pub fn model_for(
    hw: &Hardware,
    unit: usize,
    mode: Mode,
) -> Result<Box<dyn CostModel + '_>, SelectError> {
    let u = &hw.units[unit];
    match u.params.get("model").and_then(|v| v.as_str()) {
        None | Some("roofline") => Ok(Box::new(Roofline::new(hw, unit, mode))),
        Some("systolic") => SystolicUnit::new(hw, unit, mode)
            .map(|m| Box::new(m) as Box<dyn CostModel>)
            .map_err(|e| SelectError::BadParams {
                file: hw.file.clone(),
                unit: u.name.clone(),
                message: e.to_string(),
            }),
        Some("cpu") => Ok(Box::new(crate::cycle::cpu::Cpu::new(hw, unit, mode)?)),
        Some("npu-tiled") => Ok(Box::new(crate::cycle::npu::Npu::new(hw, unit, mode)?)),
        Some("pim") => Ok(Box::new(crate::cycle::pim::Pim::new(hw, unit, mode)?)),
        Some("fpga") => Ok(Box::new(crate::cycle::fpga::Fpga::new(hw, unit, mode)?)),
        Some(other) => Err(SelectError::UnknownModel {
            file: hw.file.clone(),
            unit: u.name.clone(),
            model: other.to_string(),
            known: MODELS.join(", "),
        }),
    }
}
