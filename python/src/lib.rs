//! The Python module `archscope._archscope`: PyO3 bindings of the archscope library. Each call
//! here parses its arguments, runs the library with the GIL released (the library's own rayon
//! pool does the parallel work), and hands back the same text the command line prints (JSON,
//! CSV, the table) or the report directory it wrote; `python/archscope/__init__.py` turns those
//! into dicts and polars DataFrames. Library errors become the exception classes defined here,
//! with the library's message (file, line, field) unchanged.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

mod calls;
mod device;
mod plans;

create_exception!(
    archscope,
    ArchscopeError,
    PyException,
    "Base class of every error archscope raises; the message is the command line's."
);
create_exception!(
    archscope,
    HardwareError,
    ArchscopeError,
    "A device file that cannot be read, parsed or validated, an unknown device or unit, or a bad what-if."
);
create_exception!(
    archscope,
    ModelError,
    ArchscopeError,
    "A model that cannot be found, read or built (config, ONNX file, network parameters)."
);
create_exception!(
    archscope,
    ScoreError,
    ArchscopeError,
    "A score that cannot be computed: an infeasible phase, a bad quantization or runtime."
);
create_exception!(
    archscope,
    ExploreError,
    ArchscopeError,
    "An exploration that cannot run: a bad axis, sweep or constraint, or an output directory that exists."
);
create_exception!(
    archscope,
    MappingError,
    ArchscopeError,
    "A scratchpad mapping or operator placement that cannot be planned."
);
create_exception!(
    archscope,
    SearchError,
    ArchscopeError,
    "A neural architecture search that cannot run."
);

/// The exception class an error of the library maps to.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// [`HardwareError`].
    Hardware,
    /// [`ModelError`].
    Model,
    /// [`ScoreError`].
    Score,
    /// [`ExploreError`].
    Explore,
    /// [`MappingError`].
    Mapping,
    /// [`SearchError`].
    Search,
}

/// The Python exception of class `kind` carrying the library's message for `e`.
pub(crate) fn raise(kind: Kind, e: impl std::fmt::Display) -> PyErr {
    let msg = e.to_string();
    match kind {
        Kind::Hardware => HardwareError::new_err(msg),
        Kind::Model => ModelError::new_err(msg),
        Kind::Score => ScoreError::new_err(msg),
        Kind::Explore => ExploreError::new_err(msg),
        Kind::Mapping => MappingError::new_err(msg),
        Kind::Search => SearchError::new_err(msg),
    }
}

/// A score error as Python sees it: a device or model error keeps its own class.
pub(crate) fn score_err(e: archscope::ScoreError) -> PyErr {
    use archscope::ScoreError as E;
    match e {
        E::Hardware(e) => raise(Kind::Hardware, e),
        E::Model(e) => raise(Kind::Model, e),
        e => raise(Kind::Score, e),
    }
}

/// The module: classes, functions and exceptions.
#[pymodule]
fn _archscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ArchscopeError", py.get_type::<ArchscopeError>())?;
    m.add("HardwareError", py.get_type::<HardwareError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("ScoreError", py.get_type::<ScoreError>())?;
    m.add("ExploreError", py.get_type::<ExploreError>())?;
    m.add("MappingError", py.get_type::<MappingError>())?;
    m.add("SearchError", py.get_type::<SearchError>())?;
    m.add_class::<device::Hardware>()?;
    m.add_class::<device::Model>()?;
    m.add_function(wrap_pyfunction!(calls::score, m)?)?;
    m.add_function(wrap_pyfunction!(calls::explore, m)?)?;
    m.add_function(wrap_pyfunction!(plans::map_traffic, m)?)?;
    m.add_function(wrap_pyfunction!(plans::place, m)?)?;
    m.add_function(wrap_pyfunction!(plans::search_ofa, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
