//! `map --objective traffic` for a model named as the user gives it: resolve the network spec
//! (with an optional input resolution), build its graph, plan the scratchpad, and when no plan
//! exists say which smaller input resolution would fit (scanning down in steps of 8 pixels).

use super::report::{
    self, Capacity, ResolutionHint, Solver, TrafficReport, TrafficRequest, infeasible_message,
};
use super::{AdaptOptions, MappingError};
use crate::workload::{Model, ModelError, Phase, QuantScheme, load_model, vision};
use thiserror::Error;

/// A model to plan, as the command line gives it.
#[derive(Clone, Debug)]
pub struct TrafficSpec {
    /// The model: a network spec (`mobilenetv2?width=0.75`), an LLM name or a config path.
    pub model: String,
    /// An input resolution for a vision network (not together with `res=` in `model`).
    pub resolution: Option<u64>,
    /// The phase of an LLM (networks have one forward pass).
    pub phase: Phase,
    /// Batch size.
    pub batch: u64,
    /// Quantization scheme.
    pub quant: QuantScheme,
    /// The scratchpad.
    pub capacity: Capacity,
    /// The planner.
    pub solver: Solver,
    /// Wall-clock limit of the ILP, seconds.
    pub time_limit_s: f64,
    /// How the graph becomes a mapping problem.
    pub adapt: AdaptOptions,
}

/// Why a model could not be planned.
#[derive(Debug, Error)]
pub enum TrafficError {
    /// The model did not load or build.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The planner failed.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// No plan exists; the message names the op, the sizes and a resolution that would fit.
    #[error("{0}")]
    Infeasible(String),
    /// Contradictory options.
    #[error("{0}")]
    Request(String),
}

/// `spec` with `res=R` added to its parameters.
fn with_res(model: &str, r: u64) -> String {
    let sep = if model.contains('?') { '&' } else { '?' };
    format!("{model}{sep}res={r}")
}

/// The resolution a built-in network spec runs at: its `res=` parameter or the family's own.
fn spec_resolution(spec: &str) -> Option<u64> {
    if !vision::is_builtin(spec) {
        return None;
    }
    spec.split_once('?')
        .and_then(|(_, q)| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("res="))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .or_else(|| vision::family(spec.split('?').next().unwrap_or("")).map(|f| f.res))
}

/// Plans the scratchpad for `spec` (see the module doc).
pub fn map_model(spec: &TrafficSpec) -> Result<TrafficReport, TrafficError> {
    let model = match spec.resolution {
        Some(r) => {
            if spec.model.to_ascii_lowercase().contains("res=") {
                return Err(TrafficError::Request(
                    "give the resolution either in --model (res=) or with --resolution, not both"
                        .into(),
                ));
            }
            with_res(&spec.model, r)
        }
        None => spec.model.clone(),
    };
    let (graph, current_res) = match load_model(&model)? {
        Model::Vision(m) => (m.build(&spec.quant, spec.batch)?, spec_resolution(&model)),
        Model::Llm(cfg) => {
            if spec.resolution.is_some() {
                return Err(TrafficError::Request(format!(
                    "--resolution applies to vision networks, not to LLM `{}`",
                    spec.model
                )));
            }
            (cfg.try_build(&spec.quant, spec.phase, spec.batch)?, None)
        }
    };
    let req = TrafficRequest {
        capacity: spec.capacity,
        solver: spec.solver,
        time_limit_s: spec.time_limit_s,
        adapt: spec.adapt.clone(),
    };
    match report::map_traffic(&graph, &req) {
        Ok(r) => Ok(r),
        Err(MappingError::Infeasible {
            op,
            needed_bytes,
            capacity_bytes,
        }) => {
            let hint =
                current_res.and_then(|res| resolution_hint(spec, &model, res, capacity_bytes));
            Err(TrafficError::Infeasible(infeasible_message(
                &graph.name,
                &op,
                needed_bytes,
                capacity_bytes,
                hint,
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// The largest resolution at or below `res` (down to 32) whose largest working set fits, or the
/// working set at the lowest resolution when none does.
fn resolution_hint(
    spec: &TrafficSpec,
    model: &str,
    res: u64,
    capacity_bytes: u64,
) -> Option<(u64, ResolutionHint)> {
    let m_r_at = |r: u64| {
        let Model::Vision(m) = load_model(&with_res(model, r)).ok()? else {
            return None;
        };
        report::graph_m_r(&m.build(&spec.quant, spec.batch).ok()?, &spec.adapt)
    };
    let lowest = 32.min(res);
    let found = report::largest_feasible_resolution(capacity_bytes, lowest, res, 8, |r| {
        m_r_at(r).map(|w| w.bytes)
    });
    let h = match found {
        Some(r) => ResolutionHint::Fits {
            res: r,
            m_r: m_r_at(r)?.bytes,
        },
        None => {
            let w = m_r_at(lowest)?;
            ResolutionHint::NoneFits {
                res: lowest,
                m_r: w.bytes,
                op: w.op_name,
            }
        }
    };
    Some((res, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_is_added_to_the_spec() {
        assert_eq!(with_res("mobilenetv2", 96), "mobilenetv2?res=96");
        assert_eq!(
            with_res("mobilenetv2?width=0.5", 96),
            "mobilenetv2?width=0.5&res=96"
        );
        assert_eq!(spec_resolution("mobilenetv2?width=0.5&res=96"), Some(96));
        assert_eq!(
            spec_resolution("mobilenetv2"),
            vision::family("mobilenetv2").map(|f| f.res)
        );
        assert_eq!(spec_resolution("llama-1b"), None);
    }
}
