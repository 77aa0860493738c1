"""Type stubs of the archscope package (see __init__.py for the docs of each call)."""

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import polars as pl

__version__: str

class ArchscopeError(Exception):
    """Base class of every error archscope raises; the message is the command line's."""

class HardwareError(ArchscopeError):
    """A bad device file, an unknown device or unit, or a what-if the validator rejects."""

class ModelError(ArchscopeError):
    """A model that cannot be found, read or built."""

class ScoreError(ArchscopeError):
    """A score that cannot be computed: infeasible phase, bad quantization or runtime."""

class ExploreError(ArchscopeError):
    """An exploration that cannot run: bad axis, sweep or constraint, existing output."""

class MappingError(ArchscopeError):
    """A scratchpad mapping or operator placement that cannot be planned."""

class SearchError(ArchscopeError):
    """A neural architecture search that cannot run."""

class Hardware:
    """A validated device, with what-if edits."""

    @staticmethod
    def load(name: Union[str, os.PathLike[str]]) -> Hardware:
        """A short name (``pixel8``), a file in hardware-db/ or a path to a TOML file."""
    def with_value(self, path: str, value: float) -> Hardware:
        """A copy with ``path`` (``memory[dram].bytes_per_s``) set to ``value``, re-validated."""
    @property
    def name(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def edits(self) -> List[Tuple[str, float]]: ...
    @property
    def units(self) -> List[Dict[str, Any]]:
        """One dict per unit: name, kind, count, clock_hz, memories, peak_ops_per_s, default."""
    @property
    def memories(self) -> List[Dict[str, Any]]:
        """One dict per level: name, capacity_bytes, usable_bytes, bytes_per_s, j_per_byte,
        software_managed."""

class Model:
    """A workload, loaded as ``--model`` loads it."""

    @staticmethod
    def load(spec: Union[str, os.PathLike[str]]) -> Model:
        """``llama-1b``, a config.json or .gguf path, ``mobilenetv2?res=160``, ``x.onnx?sequence=128``."""
    @property
    def spec(self) -> str: ...
    @property
    def kind(self) -> str:
        """``llm`` or ``network``."""
    @property
    def name(self) -> str: ...

class Score:
    """The score of a model on a device (``archscope score``)."""

    json_text: str
    csv_text: str
    json: Dict[str, Any]
    ops: pl.DataFrame
    table: str
    @property
    def phases(self) -> Dict[str, Dict[str, Any]]: ...
    @property
    def footprint(self) -> Dict[str, Any]: ...
    def to_pandas(self) -> Any: ...

class Exploration:
    """Points and front of ``explore``."""

    points: pl.DataFrame
    front: pl.DataFrame
    summary: str
    path: Optional[Path]

class Plan:
    """A scratchpad plan or an operator placement."""

    json_text: str
    json: Any
    frames: Dict[str, pl.DataFrame]

class SearchResult:
    """An OFA search's summary, best subnets and fronts."""

    text: str
    path: Path
    summary: Dict[str, Any]
    best: pl.DataFrame
    front: pl.DataFrame

PHASES: Tuple[str, str, str]

def score(
    hw: Union[Hardware, str],
    model: Union[Model, str],
    *,
    phase: str = "both",
    quant: Optional[str] = None,
    unit: Optional[str] = None,
    batch: int = 1,
    prompt: int = 512,
    context: int = 1024,
    ideal: bool = False,
    runtime: Optional[str] = None,
    threads: Optional[int] = None,
) -> Score:
    """Scores ``model`` on ``hw`` (``archscope score``)."""

def explore(
    hw: Union[Hardware, str],
    model: Union[Model, str],
    *,
    out: Union[str, os.PathLike[str], None] = None,
    force: bool = False,
    **axes: Any,
) -> Exploration:
    """Sweeps a design space (``archscope explore``); axes are its flags with ``_`` for ``-``."""

def map_traffic(
    model: Union[Model, str],
    scratchpad: str,
    *,
    phase: str = "prefill",
    batch: int = 1,
    prompt: int = 512,
    context: int = 1024,
    quant: Optional[str] = None,
    solver: str = "ilp",
    time_limit_s: float = 60.0,
    resolution: Optional[int] = None,
    include_weights: bool = False,
    granularity: Optional[int] = None,
    fuse: bool = True,
) -> Plan:
    """Plans a scratchpad (``archscope map --objective traffic``)."""

def place(
    hw: Union[Hardware, str],
    model: Union[Model, str],
    *,
    phase: str = "prefill",
    batch: int = 1,
    prompt: int = 512,
    context: int = 1024,
    quant: Optional[str] = None,
    minimize: str = "makespan",
    j_per_s: float = 0.0,
    latency_budget_ms: Optional[float] = None,
    power_budget_w: Optional[float] = None,
    time_limit_s: float = 60.0,
    units: Optional[List[str]] = None,
    sub_batches: Optional[int] = None,
    monolithic: bool = False,
    ideal: bool = False,
    runtime: Optional[str] = None,
) -> Plan:
    """Places an LLM's ops on the device's units (``archscope map --objective placement``)."""

def search_ofa(
    hw: Union[Hardware, str, None] = None,
    *,
    out: Union[str, os.PathLike[str]],
    space: str = "mbv3-w1.2",
    unit: Optional[str] = None,
    ideal: bool = False,
    precision: str = "f32",
    runtime: Optional[str] = None,
    resolutions: Optional[List[int]] = None,
    max_latency_ms: Optional[Sequence[float]] = None,
    max_energy_mj: Optional[float] = None,
    max_memory: Optional[str] = None,
    max_macs_m: Optional[float] = None,
    objective: str = "constrained",
    acc_predictor: Union[str, os.PathLike[str], None] = None,
    preset: str = "ofa",
    population: Optional[int] = None,
    generations: Optional[int] = None,
    random: bool = False,
    seed: int = 0,
    force: bool = False,
) -> SearchResult:
    """Searches once-for-all subnets (``archscope search ofa``)."""
