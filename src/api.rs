//! The one-call facade of the library: [`score`](crate::score()) prices any model on any device
//! and returns a [`Report`] that prints itself through [`crate::render`].

use crate::cost::Mode;
use crate::hardware::Hardware;
use crate::render::{OnDevice, Render};
use crate::runtime::{Runtime, Scales};
use crate::score::{Score, ScoreError, ScoreRequest, VisionScore, score_llm, score_vision};
use crate::workload::{Model, QuantScheme};

impl Default for ScoreRequest {
    /// The command line's defaults: batch 1, a 512-token prompt, a 1024-token context, both
    /// phases, the device's default unit, the calibrated roofline.
    fn default() -> Self {
        ScoreRequest {
            batch: 1,
            prompt: 512,
            context: 1024,
            prefill: true,
            decode: true,
            unit: None,
            mode: Mode::Calibrated,
            runtime: Runtime::ideal(),
            threads: None,
            scales: Scales::default(),
            calibration: None,
        }
    }
}

/// The score of a model: its phases (an LLM) or its forward pass (a network).
#[derive(Clone, Debug)]
pub enum Report {
    /// An LLM's prefill and decode.
    Llm(Score),
    /// A network's forward pass.
    Vision(VisionScore),
}

impl Report {
    /// The report with the device it was priced on, ready to [`render`](crate::render::render).
    pub fn on<'a>(&'a self, hw: &'a Hardware) -> Box<dyn Render + 'a> {
        match self {
            Report::Llm(score) => Box::new(OnDevice { score, hw }),
            Report::Vision(score) => Box::new(OnDevice { score, hw }),
        }
    }
}

impl Model {
    /// The kind of workload a runtime is chosen for: an LLM, or a network with one forward pass.
    pub fn workload_kind(&self) -> crate::runtime::WorkloadKind {
        match self {
            Model::Llm(_) => crate::runtime::WorkloadKind::Llm,
            Model::Vision(_) => crate::runtime::WorkloadKind::Network,
        }
    }
}

/// Scores `model` on `hw` with the quantization `quant`: one call for LLMs and networks alike.
pub fn score(
    hw: &Hardware,
    model: &Model,
    quant: &QuantScheme,
    req: &ScoreRequest,
) -> Result<Report, ScoreError> {
    Ok(match model {
        Model::Llm(m) => Report::Llm(score_llm(hw, m, quant, req)?),
        Model::Vision(m) => Report::Vision(score_vision(hw, m, quant, req)?),
    })
}
