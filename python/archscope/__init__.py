"""archscope from Python: score, explore, map and search on the Rust core.

The compiled module ``archscope._archscope`` does the work with the GIL released (the library's
own rayon pool runs the parallel parts) and hands back the same text the command line prints:
JSON, CSV, the terminal table, or the report directory ``explore`` writes. This module turns
those into dicts and polars DataFrames, so a value here is the CLI's value, byte for byte before
parsing. Errors are ``ArchscopeError`` subclasses carrying the CLI's message (file, line, field);
an argument of the wrong type raises ``TypeError`` and one out of range ``ValueError``, each
naming the argument.

Quick start::

    import archscope as a
    hw = a.Hardware.load("pixel8")
    s = a.score(hw, a.Model.load("llama-1b"), quant="w4a16-g128")
    s.phases["decode"]["tokens_per_s"], s.ops.head()
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import polars as pl

from . import _archscope as _core
from ._archscope import (
    ArchscopeError,
    ExploreError,
    Hardware,
    HardwareError,
    MappingError,
    Model,
    ModelError,
    ScoreError,
    SearchError,
    __version__,
)

__all__ = [
    "ArchscopeError",
    "Exploration",
    "ExploreError",
    "Hardware",
    "HardwareError",
    "MappingError",
    "Model",
    "ModelError",
    "Plan",
    "Score",
    "ScoreError",
    "SearchError",
    "SearchResult",
    "explore",
    "map_traffic",
    "place",
    "score",
    "search_ofa",
    "__version__",
]

PHASES = ("prefill", "decode", "both")


# --- argument checks: TypeError for a wrong type, ValueError for a wrong value, each naming the
# --- argument.


def _int(name: str, v: Any, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name}: expected an int, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"{name}: expected at least {minimum}, got {v}")
    return v


def _opt_int(name: str, v: Any, minimum: int = 1) -> Optional[int]:
    return None if v is None else _int(name, v, minimum)


def _num(name: str, v: Any, minimum: float = 0.0) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name}: expected a number, got {type(v).__name__}")
    if not (float(v) >= minimum) or v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{name}: expected a finite number of at least {minimum}, got {v}")
    return float(v)


def _opt_num(name: str, v: Any, minimum: float = 0.0) -> Optional[float]:
    return None if v is None else _num(name, v, minimum)


def _str(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"{name}: expected a str, got {type(v).__name__}")
    return v


def _opt_str(name: str, v: Any) -> Optional[str]:
    return None if v is None else _str(name, v)


def _bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{name}: expected a bool, got {type(v).__name__}")
    return v


def _choice(name: str, v: Any, choices: Sequence[str]) -> str:
    _str(name, v)
    if v not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {v!r}")
    return v


def _hw(v: Any, name: str = "hw") -> Hardware:
    if isinstance(v, Hardware):
        return v
    if isinstance(v, (str, os.PathLike)):
        return Hardware.load(os.fspath(v))
    raise TypeError(f"{name}: expected a Hardware or a device name or path, got {type(v).__name__}")


def _model(v: Any) -> Model:
    if isinstance(v, Model):
        return v
    if isinstance(v, (str, os.PathLike)):
        return Model.load(os.fspath(v))
    raise TypeError(f"model: expected a Model or a model spec, got {type(v).__name__}")


# --- results


class Score:
    """The score of a model on a device: what ``archscope score`` prints.

    Attributes:
        json: the CLI's ``--format json`` output, parsed.
        phases: phase name (``prefill``, ``decode`` or ``forward``) to its metrics.
        footprint: the memory footprint (weights, KV cache or activations, total), bytes.
        ops: one row per op, the columns and units of ``--format csv``, as a polars DataFrame.
        table: the CLI's terminal table.
    """

    def __init__(self, json_text: str, csv_text: str, table: str) -> None:
        self.json_text = json_text
        self.csv_text = csv_text
        self.json: Dict[str, Any] = json.loads(json_text)
        self.ops: pl.DataFrame = pl.read_csv(io.StringIO(csv_text), infer_schema_length=None)
        self.table: str = table

    @property
    def phases(self) -> Dict[str, Dict[str, Any]]:
        """Phase name to its metrics (latency, energy, throughput, bound, ...)."""
        return {p["phase"]: p for p in self.json.get("phases", [])}

    @property
    def footprint(self) -> Dict[str, Any]:
        """The memory footprint (weights, KV cache, activation peak, total; bytes) and whether it fits."""
        return self.json.get("memory", {})

    def to_pandas(self) -> "Any":
        """The per-op table as a pandas DataFrame (needs pandas and pyarrow)."""
        return self.ops.to_pandas()

    def __repr__(self) -> str:
        return f"Score({', '.join(self.phases)}; {self.ops.height} ops)"


class Exploration:
    """What ``explore`` found.

    Attributes:
        points: every point, as ``points.parquet`` holds it.
        front: the Pareto front, best first, as ``front.parquet`` holds it.
        summary: the CLI's terminal summary.
        path: the report directory, or ``None`` when none was asked for (``out=None``).
    """

    def __init__(self, points: pl.DataFrame, front: pl.DataFrame, summary: str,
                 path: Optional[Path]) -> None:
        self.points = points
        self.front = front
        self.summary = summary
        self.path = path

    def __repr__(self) -> str:
        return f"Exploration({self.points.height} points, {self.front.height} on the front)"


class Plan:
    """A scratchpad plan (``map_traffic``) or an operator placement (``place``).

    Attributes:
        json: the CLI's ``--format json`` output, parsed (a placement: one entry per phase).
        frames: every table in the JSON as a polars DataFrame, by its dotted path (a list of
            flat records, nested records flattened to ``totals.energy_j``): for a placement
            ``decode.placement.ops`` (op, unit index, start, finish) and
            ``decode.baselines.single``; for a scratchpad plan ``tensors``, ``baselines`` and
            ``plan.residencies``.
    """

    def __init__(self, json_text: str) -> None:
        self.json_text = json_text
        self.json: Any = json.loads(json_text)
        self.frames: Dict[str, pl.DataFrame] = {}
        if isinstance(self.json, list):
            for i, run in enumerate(self.json):
                name = run.get("phase", str(i)) if isinstance(run, dict) else str(i)
                _collect_frames(run, name, self.frames)
        else:
            _collect_frames(self.json, "", self.frames)

    def __repr__(self) -> str:
        return f"Plan(frames: {', '.join(self.frames) or 'none'})"


def _flat(record: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A record with scalar values, nested records flattened one level; None if it has lists."""
    out: Dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, (dict, list)):
                    return None
                out[f"{k}.{k2}"] = v2
        elif isinstance(v, list):
            return None
        else:
            out[k] = v
    return out


def _collect_frames(doc: Any, path: str, frames: Dict[str, pl.DataFrame]) -> None:
    """Adds every list of flat records under ``doc`` to ``frames`` by dotted path."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            _collect_frames(v, f"{path}.{k}" if path else k, frames)
    elif isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        rows = [_flat(x) for x in doc]
        if all(r is not None for r in rows):
            frames[path] = pl.DataFrame(rows, infer_schema_length=None)


class SearchResult:
    """An OFA search: its summary (``summary.json``), its best subnets and fronts.

    Attributes:
        summary: ``summary.json``, parsed.
        best: ``best.csv``: the best subnet of each run.
        front: ``front.csv``: each run's accuracy-versus-cost Pareto front.
        text: what the CLI printed.
        path: the output directory.
    """

    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.summary: Dict[str, Any] = json.loads((path / "summary.json").read_text())
        self.best = pl.read_csv(path / "best.csv", infer_schema_length=None)
        self.front = pl.read_csv(path / "front.csv", infer_schema_length=None)

    def __repr__(self) -> str:
        return f"SearchResult({self.best.height} runs, {self.front.height} front rows)"


# --- calls


def score(hw: Union[Hardware, str], model: Union[Model, str], *, phase: str = "both",
          quant: Optional[str] = None, unit: Optional[str] = None, batch: int = 1,
          prompt: int = 512, context: int = 1024, ideal: bool = False,
          runtime: Optional[str] = None, threads: Optional[int] = None) -> Score:
    """Scores ``model`` on ``hw``: ``archscope score`` with the same arguments.

    Args:
        hw: a Hardware, or a device name or path.
        model: a Model, or a model spec.
        phase: ``prefill``, ``decode`` or ``both`` (LLMs; networks have one forward pass).
        quant: quantization scheme (default fp16, or a .gguf file's own types).
        unit: compute unit (default: the device's default unit).
        batch, prompt, context: sequences per step, prompt tokens, KV-cache length.
        ideal: the textbook roofline (bare peaks, no overhead, no runtime).
        runtime: ``ideal``, a shipped runtime or a runtime file (default: the device's).
        threads: CPU threads (default: all the unit's cores).
    """
    json_text, csv_text, table = _core.score(
        _hw(hw), _model(model), _choice("phase", phase, PHASES), _opt_str("quant", quant),
        _opt_str("unit", unit), _int("batch", batch), _int("prompt", prompt),
        _int("context", context), _bool("ideal", ideal), _opt_str("runtime", runtime),
        _opt_int("threads", threads))
    return Score(json_text, csv_text, table)


_LIST_AXES = {"quant": str, "runtime": str, "units": str, "prefill_units": str,
              "decode_units": str, "batch": int, "prompt": int, "context": int, "sweep": str,
              "objectives": str, "front_by": str, "threads": str}
_SCALAR_AXES = {"samples": int, "seed": int, "max_memory": str, "min_tokens_per_s": float,
                "max_latency_s": float, "ideal": bool, "ilp": bool, "placement_time_s": float,
                "no_calibration": bool, "shard": str}


def _axes(axes: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in axes.items():
        if k in _LIST_AXES:
            kind = _LIST_AXES[k]
            items = list(v) if isinstance(v, (list, tuple)) else [v]
            for x in items:
                if kind is int:
                    _int(k, x)
                elif kind is str and not isinstance(x, (str, int)) or isinstance(x, bool):
                    raise TypeError(f"{k}: expected str values, got {type(x).__name__}")
            out[k] = [str(x) if kind is str else x for x in items]
        elif k in _SCALAR_AXES:
            kind = _SCALAR_AXES[k]
            if kind is bool:
                _bool(k, v)
            elif kind is int:
                _int(k, v, 0 if k == "seed" else 1)
            elif kind is float:
                v = _num(k, v)
            else:
                _str(k, v)
            out[k] = v
        else:
            known = ", ".join(sorted(list(_LIST_AXES) + list(_SCALAR_AXES)))
            raise TypeError(f"explore() got an unexpected keyword argument {k!r} (known: {known})")
    return out


def explore(hw: Union[Hardware, str], model: Union[Model, str], *,
            out: Union[str, os.PathLike, None] = None, force: bool = False,
            **axes: Any) -> Exploration:
    """Sweeps a design space: ``archscope explore`` with the same arguments.

    Keyword arguments name the CLI's flags with ``_`` for ``-``: ``quant``, ``runtime``,
    ``units``, ``prefill_units``, ``decode_units``, ``batch``, ``prompt``, ``context``,
    ``sweep`` (``"memory[dram].bytes_per_s=25e9..200e9:8:log"``), ``threads``, ``objectives``,
    ``front_by`` (lists or single values), and ``samples``, ``seed``, ``max_memory``,
    ``min_tokens_per_s``, ``max_latency_s``, ``ideal``, ``ilp``, ``placement_time_s``,
    ``no_calibration``, ``shard``. A device's what-if edits (``with_value``) become
    single-value sweeps. With ``out``, the report directory is written there (as the CLI's
    ``--out``; an existing one needs ``force=True``); without, it is written to a temporary
    directory and removed once read.
    """
    h, m = _hw(hw), _model(model)
    args = _axes(axes)
    force = _bool("force", force)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="archscope-") as tmp:
            return _explored(h, m, Path(tmp) / "report", False, args, keep=False)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out: expected a path, got {type(out).__name__}")
    return _explored(h, m, Path(out), force, args, keep=True)


def _explored(h: Hardware, m: Model, out: Path, force: bool, args: Dict[str, Any],
              keep: bool) -> Exploration:
    summary, path = _core.explore(h, m, out, force, args)
    p = Path(path)
    if p.is_file():  # a shard's part
        points = pl.read_parquet(p)
        return Exploration(points, points.clear(), summary, p if keep else None)
    points = pl.read_parquet(p / "points.parquet")
    front = pl.read_parquet(p / "front.parquet")
    return Exploration(points, front, summary, p if keep else None)


def map_traffic(model: Union[Model, str], scratchpad: str, *, phase: str = "prefill",
                batch: int = 1, prompt: int = 512, context: int = 1024,
                quant: Optional[str] = None, solver: str = "ilp", time_limit_s: float = 60.0,
                resolution: Optional[int] = None, include_weights: bool = False,
                granularity: Optional[int] = None, fuse: bool = True) -> Plan:
    """Plans a scratchpad: ``archscope map --objective traffic``.

    Args:
        model: a Model or spec (a network or an LLM).
        scratchpad: its size (``65536``, ``512KiB``) or a budget of the model (``mr``, ``mp``,
            ``mh``).
        phase: ``prefill`` or ``decode`` (LLMs).
        quant: quantization (default w8a8, as in the COSMA evaluation).
        solver: ``ilp``, ``heuristic``, ``dc``, ``default`` or ``arena``.
        time_limit_s: the ILP's wall-clock limit.
        resolution: a network's input resolution (default: its own).
        include_weights: map weights too instead of streaming them.
        granularity: allocation granularity in bytes (default: the CLI's).
        fuse: fuse activation functions into their producer.
    """
    json_text = _core.map_traffic(
        _model(model), _str("scratchpad", scratchpad),
        _choice("phase", phase, ("prefill", "decode")), _int("batch", batch),
        _int("prompt", prompt), _int("context", context), _opt_str("quant", quant),
        _choice("solver", solver, ("ilp", "heuristic", "dc", "default", "arena")),
        _num("time_limit_s", time_limit_s), _opt_int("resolution", resolution),
        _bool("include_weights", include_weights), _opt_int("granularity", granularity),
        _bool("fuse", fuse))
    return Plan(json_text)


def place(hw: Union[Hardware, str], model: Union[Model, str], *, phase: str = "prefill",
          batch: int = 1, prompt: int = 512, context: int = 1024, quant: Optional[str] = None,
          minimize: str = "makespan", j_per_s: float = 0.0,
          latency_budget_ms: Optional[float] = None, power_budget_w: Optional[float] = None,
          time_limit_s: float = 60.0, units: Optional[List[str]] = None,
          sub_batches: Optional[int] = None, monolithic: bool = False, ideal: bool = False,
          runtime: Optional[str] = None) -> Plan:
    """Places an LLM's ops on a device's units: ``archscope map --objective placement``.

    ``Plan.json`` is the CLI's JSON (one entry per phase); ``Plan.frames`` holds its tables
    (``prefill.placement.ops``: each op's unit, start and finish; the single-unit baselines).
    """
    phases = ["prefill", "decode"] if _choice("phase", phase, PHASES) == "both" else [phase]
    if units is not None and (not isinstance(units, (list, tuple))
                              or not all(isinstance(u, str) for u in units)):
        raise TypeError("units: expected a list of unit names")
    json_text = _core.place(
        _hw(hw), _model(model), phases, _int("batch", batch), _int("prompt", prompt),
        _int("context", context), _opt_str("quant", quant),
        _choice("minimize", minimize, ("makespan", "latency", "energy", "weighted")),
        _num("j_per_s", j_per_s), _opt_num("latency_budget_ms", latency_budget_ms),
        _opt_num("power_budget_w", power_budget_w), _num("time_limit_s", time_limit_s),
        None if units is None else list(units), _opt_int("sub_batches", sub_batches),
        _bool("monolithic", monolithic), _bool("ideal", ideal), _opt_str("runtime", runtime))
    return Plan(json_text)


def search_ofa(hw: Union[Hardware, str, None] = None, *, out: Union[str, os.PathLike],
               space: str = "mbv3-w1.2", unit: Optional[str] = None, ideal: bool = False,
               precision: str = "f32", runtime: Optional[str] = None,
               resolutions: Optional[List[int]] = None,
               max_latency_ms: Optional[List[float]] = None,
               max_energy_mj: Optional[float] = None, max_memory: Optional[str] = None,
               max_macs_m: Optional[float] = None, objective: str = "constrained",
               acc_predictor: Union[str, os.PathLike, None] = None, preset: str = "ofa",
               population: Optional[int] = None, generations: Optional[int] = None,
               random: bool = False, seed: int = 0, force: bool = False) -> SearchResult:
    """Searches once-for-all subnets: ``archscope search ofa``.

    With ``hw`` the subnets are priced on that device (a device as loaded; what-if edits are
    refused); without, by MACs alone. The run's files go to ``out``.
    """
    h = None if hw is None else _hw(hw)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out: expected a path, got {type(out).__name__}")
    budgets = [] if max_latency_ms is None else [
        _num("max_latency_ms", b) for b in (max_latency_ms if isinstance(max_latency_ms, (list, tuple)) else [max_latency_ms])]
    res = None if resolutions is None else [_int("resolutions", r) for r in resolutions]
    text = _core.search_ofa(
        h, _opt_str("unit", unit), _bool("ideal", ideal), _str("precision", precision),
        _opt_str("runtime", runtime), _str("space", space), res, budgets,
        _opt_num("max_energy_mj", max_energy_mj), _opt_str("max_memory", max_memory),
        _opt_num("max_macs_m", max_macs_m),
        _choice("objective", objective, ("constrained", "mnas-soft", "mnas-hard", "pareto")),
        None if acc_predictor is None else os.fspath(acc_predictor), os.fspath(out),
        _str("preset", preset), _opt_int("population", population),
        _opt_int("generations", generations), _bool("random", random), _int("seed", seed, 0),
        _bool("force", force))
    return SearchResult(text, Path(out))
