//! The two inputs of every call: [`Hardware`] (a device, with what-if edits) and [`Model`] (a
//! workload), loaded the way the command line's `--hw` and `--model` load them.

use crate::{Kind, raise};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A validated device: a file in hardware-db/, a short name or a path, with what-if edits.
#[pyclass(module = "archscope._archscope", frozen)]
pub struct Hardware {
    /// What was given to [`Hardware::load`] (a short name or a path).
    pub given: String,
    /// Where the text came from.
    pub file: String,
    /// The device file's text, before edits.
    pub text: String,
    /// What-if edits: (field path, value), in the order given.
    pub edits: Vec<(String, f64)>,
    /// The validated device.
    pub hw: archscope::Hardware,
}

impl Hardware {
    /// The edits as `--sweep` takes a single value: `FIELD=VALUE`.
    pub fn sweeps(&self) -> Vec<String> {
        self.edits
            .iter()
            .map(|(p, v)| format!("{p}={v:e}"))
            .collect()
    }
}

#[pymethods]
impl Hardware {
    /// Loads a device: a short name (`pixel8`), a file name in hardware-db/, or a path to a
    /// TOML file (a str or a path-like). Raises HardwareError with the file, line and field of
    /// a bad file.
    #[staticmethod]
    fn load(py: Python<'_>, name: std::path::PathBuf) -> PyResult<Hardware> {
        let name = name.to_string_lossy();
        let name = name.as_ref();
        let (file, text) = py
            .detach(|| archscope::Hardware::find_text(name))
            .map_err(|e| raise(Kind::Hardware, e))?;
        let hw = archscope::Hardware::from_toml_str(&text, &file)
            .map_err(|e| raise(Kind::Hardware, e))?;
        Ok(Hardware {
            given: name.to_string(),
            file,
            text,
            edits: Vec::new(),
            hw,
        })
    }

    /// A copy with one numeric field set, addressed as `--sweep` addresses it
    /// (`memory[dram].bytes_per_s`, `unit[gpu].clock_hz`, `power.static_w`); the edited device
    /// is validated again, so an impossible value raises HardwareError.
    fn with_value(&self, path: &str, value: f64) -> PyResult<Hardware> {
        let mut edits = self.edits.clone();
        edits.push((path.to_string(), value));
        let fields: Vec<(&str, f64)> = edits.iter().map(|(p, v)| (p.as_str(), *v)).collect();
        let hw = archscope::Hardware::with_fields(&self.text, &self.file, &fields)
            .map_err(|e| raise(Kind::Hardware, e))?;
        Ok(Hardware {
            given: self.given.clone(),
            file: self.file.clone(),
            text: self.text.clone(),
            edits,
            hw,
        })
    }

    /// The device's short name.
    #[getter]
    fn name(&self) -> &str {
        &self.hw.name
    }

    /// Where the device file came from (with the what-if edits appended).
    #[getter]
    fn file(&self) -> &str {
        &self.hw.file
    }

    /// The device's description.
    #[getter]
    fn description(&self) -> &str {
        &self.hw.description
    }

    /// The what-if edits applied so far, as (field path, value) pairs.
    #[getter]
    fn edits(&self) -> Vec<(String, f64)> {
        self.edits.clone()
    }

    /// The compute units: one dict each (name, kind, count, clock_hz, memories it reaches,
    /// peak_ops_per_s by dtype, default).
    #[getter]
    fn units<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (i, u) in self.hw.units.iter().enumerate() {
            let d = PyDict::new(py);
            d.set_item("name", &u.name)?;
            let kind = serde_json::to_value(u.kind).ok();
            d.set_item("kind", kind.as_ref().and_then(|v| v.as_str()))?;
            d.set_item("count", u.count)?;
            d.set_item("clock_hz", u.clock_hz)?;
            let reach: Vec<&str> = u
                .reach
                .iter()
                .map(|&l| self.hw.memories[l].name.as_str())
                .collect();
            d.set_item("memories", reach)?;
            let peaks = PyDict::new(py);
            for (dtype, v) in u.peak.iter() {
                peaks.set_item(dtype.name(), v)?;
            }
            d.set_item("peak_ops_per_s", peaks)?;
            d.set_item("default", i == self.hw.default_unit)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The memory levels: one dict each (name, capacity_bytes, usable_bytes, bytes_per_s,
    /// j_per_byte, software_managed).
    #[getter]
    fn memories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for m in &self.hw.memories {
            let d = PyDict::new(py);
            d.set_item("name", &m.name)?;
            d.set_item("capacity_bytes", m.capacity_bytes)?;
            d.set_item("usable_bytes", m.usable_bytes)?;
            d.set_item("bytes_per_s", m.bytes_per_s)?;
            d.set_item("j_per_byte", m.j_per_byte)?;
            d.set_item("software_managed", m.software_managed)?;
            list.append(d)?;
        }
        Ok(list)
    }

    fn __repr__(&self) -> String {
        format!(
            "Hardware({:?}, units={}, memories={}, edits={})",
            self.hw.name,
            self.hw.units.len(),
            self.hw.memories.len(),
            self.edits.len()
        )
    }
}

/// A workload: an LLM or a network, named as the command line's `--model` names it.
#[pyclass(module = "archscope._archscope", frozen)]
pub struct Model {
    /// What was given to [`Model::load`].
    pub spec: String,
    /// The loaded model.
    pub model: archscope::Model,
}

#[pymethods]
impl Model {
    /// Loads a model: a short LLM name (`llama-1b`), a Hugging Face config.json or .gguf path,
    /// a built-in network with parameters (`mobilenetv2?res=160`), or an ONNX file with
    /// symbolic dimensions set (`model.onnx?sequence=128`). Raises ModelError.
    #[staticmethod]
    fn load(py: Python<'_>, spec: std::path::PathBuf) -> PyResult<Model> {
        let spec = spec.to_string_lossy();
        let spec = spec.as_ref();
        let model = py
            .detach(|| archscope::load_model(spec))
            .map_err(|e| raise(Kind::Model, e))?;
        Ok(Model {
            spec: spec.to_string(),
            model,
        })
    }

    /// The spec the model was loaded from.
    #[getter]
    fn spec(&self) -> &str {
        &self.spec
    }

    /// `llm` or `network`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.model {
            archscope::Model::Llm(_) => "llm",
            archscope::Model::Vision(_) => "network",
        }
    }

    /// The model's name.
    #[getter]
    fn name(&self) -> String {
        match &self.model {
            archscope::Model::Llm(m) => m.name.clone(),
            archscope::Model::Vision(m) => m.name.clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!("Model({:?}, kind={:?})", self.spec, self.kind())
    }
}
