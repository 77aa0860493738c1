"""The Python package against the command line: the same inputs give the same bytes (score's JSON
and CSV, explore's Parquet, the plans' JSON), a what-if moves what it should, and bad input
raises the right exception with the CLI's message. Run from the repository root (scripts/test.sh
does), with ARCHSCOPE_BIN naming the CLI built by `cargo test --release`."""

import io
import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

import archscope as a

ROOT = Path(__file__).resolve().parents[2]
ONNX = "tests/data/encoder_block.onnx?sequence=16"


def cli_bin() -> str:
    b = os.environ.get("ARCHSCOPE_BIN") or str(
        Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "archscope")
    if not Path(b).is_file():
        pytest.fail(f"the CLI is not built at {b}; run `cargo build --release` or set ARCHSCOPE_BIN")
    return b


def cli(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([cli_bin(), *args], capture_output=True, text=True, cwd=ROOT)
    if ok:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode != 0, r.stdout
    return r


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    # The CLI resolves relative paths and calibrations/ from the working directory; so does the
    # package.
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def pixel8():
    return a.Hardware.load("pixel8")


# --- values equal the CLI's


@pytest.mark.parametrize("model,flags", [
    ("llama-1b", {"quant": "q4_0"}),
    ("llama-1b", {"quant": "fp16", "unit": "gpu", "phase": "decode", "context": 2048}),
    ("mobilenetv2?res=160", {}),
    (ONNX, {"quant": "w8a8", "batch": 2}),
])
def test_score_equals_cli_json_and_csv(pixel8, model, flags):
    s = a.score(pixel8, a.Model.load(model), **flags)
    args = ["score", "--hw", "pixel8", "--model", model]
    for k, v in flags.items():
        args += [f"--{k}", str(v)]
    j = cli(*args, "--format", "json").stdout
    c = cli(*args, "--format", "csv").stdout
    assert s.json_text == j
    assert s.json == json.loads(j)
    assert s.csv_text == c
    assert s.ops.equals(pl.read_csv(io.StringIO(c), infer_schema_length=None))
    assert s.table == cli(*args).stdout
    # The ops table has the CSV's columns, one row per op of every phase.
    assert s.ops.height == sum(len(p["ops"]) for p in s.json["phases"])
    assert list(s.phases) == [p["phase"] for p in s.json["phases"]]


def test_load_from_paths_and_names():
    by_path = a.Hardware.load(ROOT / "hardware-db" / "pixel8.toml")
    assert by_path.name == "pixel8" and len(by_path.units) == 5
    assert [m["name"] for m in by_path.memories] == ["l2-big", "l2-mid", "slc", "dram"]
    m = a.Model.load(Path("tests/data/encoder_block.onnx?sequence=16"))
    assert m.kind == "network"
    assert a.Model.load("llama-1b").kind == "llm"


def test_score_llm_metrics_and_footprint(pixel8):
    s = a.score(pixel8, "llama-1b", quant="q4_0")
    d = s.phases["decode"]
    # One token per decode step at batch 1: tokens per second is the inverse of the latency.
    assert d["tokens_per_s"] == pytest.approx(1.0 / d["latency_s"], rel=1e-12)
    f = s.footprint
    assert f["total_bytes"] >= f["weights_bytes"] + f["kv_cache_bytes"]
    # The per-op latencies add up to the phase latency.
    by_phase = s.ops.group_by("phase").agg(pl.col("latency_s").sum())
    for row in by_phase.iter_rows(named=True):
        assert row["latency_s"] == pytest.approx(s.phases[row["phase"]]["latency_s"], rel=1e-9)


def test_to_pandas(pixel8):
    pd = pytest.importorskip("pandas")
    df = a.score(pixel8, "mobilenetv2").to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["phase", "op", "kind", "layer", "dtype", "flops", "bytes",
                                "latency_s", "energy_j", "bound", "unit"]


# --- what-ifs


def test_halving_dram_bandwidth_doubles_dram_bound_decode_time(pixel8):
    dram = next(m for m in pixel8.memories if m["name"] == "dram")
    slow = pixel8.with_value("memory[dram].bytes_per_s", dram["bytes_per_s"] / 2)
    assert next(m for m in slow.memories if m["name"] == "dram")["bytes_per_s"] == dram[
        "bytes_per_s"] / 2
    assert slow.edits == [("memory[dram].bytes_per_s", dram["bytes_per_s"] / 2)]
    kw = dict(quant="q4_0", unit="gpu", phase="decode", ideal=True)
    fast_ops = a.score(pixel8, "llama-1b", **kw).ops
    slow_ops = a.score(slow, "llama-1b", **kw).ops
    # On the textbook roofline an op bound by DRAM takes bytes / bandwidth: half the bandwidth,
    # twice the time. The traffic itself does not change.
    joined = fast_ops.join(slow_ops, on="op", suffix="_slow")
    assert joined.height == fast_ops.height
    dram_bound = joined.filter(pl.col("bound") == "memory:dram")
    assert dram_bound.height > 0
    for r in dram_bound.iter_rows(named=True):
        assert r["latency_s_slow"] == pytest.approx(2 * r["latency_s"], rel=1e-12)
    assert (joined["bytes"] == joined["bytes_slow"]).all()
    # The device as loaded is unchanged.
    assert next(m for m in pixel8.memories if m["name"] == "dram") == dram


def test_what_if_is_revalidated(pixel8):
    with pytest.raises(a.HardwareError, match=r"memory\[dram\]"):
        pixel8.with_value("memory[dram].bytes_per_s", -1.0)
    with pytest.raises(a.HardwareError, match="no field"):
        pixel8.with_value("memory[dram].no_such_field", 1.0)


# --- explore equals the CLI's Parquet


def test_explore_frames_equal_cli_parquet(tmp_path, pixel8):
    flags = ["--quant", "fp16,q4_0", "--units", "gpu,cpu-big", "--context", "1024,2048"]
    cli("explore", "--hw", "pixel8", "--model", "llama-1b", *flags, "--out",
        str(tmp_path / "cli"), "--quiet")
    r = a.explore(pixel8, "llama-1b", quant=["fp16", "q4_0"], units=["gpu", "cpu-big"],
                  context=[1024, 2048], out=tmp_path / "py")
    for name, frame in (("points", r.points), ("front", r.front)):
        want = pl.read_parquet(tmp_path / "cli" / f"{name}.parquet")
        assert frame.equals(want), name
        assert frame.equals(pl.read_parquet(tmp_path / "py" / f"{name}.parquet"))
    assert r.points.height > r.front.height > 0
    assert (tmp_path / "py" / "report.html").is_file()
    # Without out= nothing is left behind, and the frames are the same.
    r2 = a.explore(pixel8, "llama-1b", quant=["fp16", "q4_0"], units=["gpu", "cpu-big"],
                   context=[1024, 2048])
    assert r2.path is None and r2.points.equals(r.points)


def test_explore_what_if_is_a_single_value_sweep(tmp_path, pixel8):
    slow = pixel8.with_value("memory[dram].bytes_per_s", 2e10)
    cli("explore", "--hw", "pixel8", "--model", "mobilenetv2", "--units", "gpu", "--batch", "1,4",
        "--sweep", "memory[dram].bytes_per_s=2e10", "--out", str(tmp_path / "cli"), "--quiet")
    r = a.explore(slow, "mobilenetv2", units="gpu", batch=[1, 4], out=tmp_path / "py")
    assert r.points.equals(pl.read_parquet(tmp_path / "cli" / "points.parquet"))


# --- plans


def test_map_traffic_equals_cli():
    p = a.map_traffic("mobilenetv2", "1MiB", resolution=128, solver="heuristic")
    want = json.loads(cli("map", "--objective", "traffic", "--model", "mobilenetv2",
                          "--scratchpad", "1MiB", "--resolution", "128", "--solver", "heuristic",
                          "--format", "json").stdout)
    drop = lambda d: {k: v for k, v in d.items() if k not in ("solve_s", "plan")}  # noqa: E731
    assert drop(p.json) == drop(want)
    assert p.frames["tensors"].height == len(want["tensors"])


def test_place_equals_cli(pixel8):
    p = a.place(pixel8, "llama-1b", phase="decode", time_limit_s=30.0)
    want = json.loads(cli("map", "--hw", "pixel8", "--model", "llama-1b", "--phase", "decode",
                          "--time-limit", "30", "--format", "json").stdout)

    def drop(x):
        if isinstance(x, dict):
            return {k: drop(v) for k, v in x.items() if k != "solve_s"}
        if isinstance(x, list):
            return [drop(v) for v in x]
        return x

    assert drop(p.json) == drop(want)
    ops = p.frames["decode.placement.ops"]
    assert ops.height == len(want[0]["placement"]["ops"])
    assert (ops["finish_s"] >= ops["start_s"]).all()


def test_search_ofa_equals_cli(tmp_path):
    args = dict(preset="tutorial", population=40, generations=2, max_macs_m=300.0)
    r = a.search_ofa(out=tmp_path / "py", **args)
    cli("search", "ofa", "--macs-only", "--preset", "tutorial", "--population", "40",
        "--generations", "2", "--max-macs-m", "300", "--out", str(tmp_path / "cli"))
    assert r.best.equals(pl.read_csv(tmp_path / "cli" / "best.csv", infer_schema_length=None))
    assert r.front.equals(pl.read_csv(tmp_path / "cli" / "front.csv", infer_schema_length=None))
    assert (r.best["macs_m"] <= 300.0).all()


# --- errors


def test_exception_hierarchy():
    for e in (a.HardwareError, a.ModelError, a.ScoreError, a.ExploreError, a.MappingError,
              a.SearchError):
        assert issubclass(e, a.ArchscopeError)
    assert issubclass(a.ArchscopeError, Exception)


def cli_error(*args: str) -> str:
    return cli(*args, ok=False).stderr


def test_unknown_device_and_model_carry_the_cli_message():
    with pytest.raises(a.HardwareError) as e:
        a.Hardware.load("no-such-device")
    assert "unknown hardware `no-such-device`" in str(e.value)
    assert str(e.value) in cli_error("score", "--hw", "no-such-device", "--model", "llama-1b")
    with pytest.raises(a.ModelError) as e:
        a.Model.load("no-such-model")
    assert str(e.value) in cli_error("score", "--hw", "pixel8", "--model", "no-such-model")


def test_bad_device_file_names_file_line_and_field(tmp_path):
    text = (ROOT / "hardware-db" / "pixel8.toml").read_text()
    lines = text.splitlines()
    n = next(i for i, l in enumerate(lines) if l.strip().startswith("clock_hz"))
    lines[n] = 'clock_hz = { value = -1.0, source = "a test" }'
    bad = tmp_path / "bad.toml"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(a.HardwareError) as e:
        a.Hardware.load(str(bad))
    msg = str(e.value)
    assert msg.startswith(f"{bad}:{n + 1}:"), msg
    assert "clock_hz" in msg
    assert msg in cli_error("score", "--hw", str(bad), "--model", "llama-1b")


def test_unknown_unit_and_infeasible_score(pixel8):
    with pytest.raises(a.HardwareError, match="has no unit `nope`"):
        a.score(pixel8, "llama-1b", unit="nope")
    with pytest.raises(a.ScoreError) as e:
        a.score(pixel8, "llama-1b", quant="w4a16-g128")
    assert str(e.value) in cli_error("score", "--hw", "pixel8", "--model", "llama-1b", "--quant",
                                     "w4a16-g128")


def test_mapping_that_does_not_fit():
    with pytest.raises(a.MappingError) as e:
        a.map_traffic("mobilenetv2", "512KiB", solver="heuristic")
    assert "does not fit" in str(e.value)
    assert str(e.value) in cli_error("map", "--objective", "traffic", "--model", "mobilenetv2",
                                     "--scratchpad", "512KiB", "--solver", "heuristic")


def test_placement_runtime_that_does_not_run_the_format(pixel8):
    with pytest.raises(a.MappingError) as e:
        a.place(pixel8, "llama-1b", runtime="llama.cpp-cpu", quant="w4a16-g128")
    assert str(e.value).startswith("--runtime llama.cpp-cpu --quant w4a16-g128: ")
    assert str(e.value) in cli_error("map", "--hw", "pixel8", "--model", "llama-1b", "--runtime",
                                     "llama.cpp-cpu", "--quant", "w4a16-g128")


def test_explore_refuses_to_overwrite(tmp_path, pixel8):
    out = tmp_path / "r"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(a.ExploreError, match="already exists"):
        a.explore(pixel8, "mobilenetv2", units="gpu", batch=1, out=out)
    assert (out / "mine.txt").read_text() == "keep"


@pytest.mark.parametrize("call,exc,name", [
    (lambda hw: a.score(hw, "llama-1b", batch="1"), TypeError, "batch"),
    (lambda hw: a.score(hw, "llama-1b", batch=0), ValueError, "batch"),
    (lambda hw: a.score(hw, "llama-1b", context=-5), ValueError, "context"),
    (lambda hw: a.score(hw, "llama-1b", phase="both-ways"), ValueError, "phase"),
    (lambda hw: a.score(hw, "llama-1b", ideal=1), TypeError, "ideal"),
    (lambda hw: a.score(3, "llama-1b"), TypeError, "hw"),
    (lambda hw: a.score(hw, None), TypeError, "model"),
    (lambda hw: hw.with_value("memory[dram].bytes_per_s", "fast"), TypeError, "value"),
    (lambda hw: a.explore(hw, "llama-1b", contexts=[1]), TypeError, "contexts"),
    (lambda hw: a.explore(hw, "llama-1b", context=[0]), ValueError, "context"),
    (lambda hw: a.map_traffic("mobilenetv2", "1MiB", solver="fast"), ValueError, "solver"),
    (lambda hw: a.place(hw, "llama-1b", minimize="cost"), ValueError, "minimize"),
    (lambda hw: a.search_ofa(out=3), TypeError, "out"),
])
def test_bad_arguments_name_the_argument(pixel8, call, exc, name):
    with pytest.raises(exc, match=name):
        call(pixel8)


# --- the GIL


def test_evaluation_releases_the_gil(tmp_path, pixel8):
    """While explore runs in one thread, another thread keeps running Python. If the call held
    the GIL, the other thread could run only within one switch interval (5 ms) of the call's
    start and after its end, never in the middle of a call that lasts much longer."""
    import sys
    import threading
    import time

    from archscope import _archscope as core

    model = a.Model.load("llama-1b")
    span = {}

    def work():
        span["start"] = time.perf_counter()
        core.explore(pixel8, model, tmp_path / "r", False,
                     {"sweep": ["memory[dram].bytes_per_s=25e9..200e9:12"]})
        span["end"] = time.perf_counter()

    t = threading.Thread(target=work)
    stamps = []
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
    t.join()
    margin = 10 * sys.getswitchinterval()
    assert span["end"] - span["start"] > 4 * margin, "the call was too short to tell"
    middle = [s for s in stamps if span["start"] + margin < s < span["end"] - margin]
    assert len(middle) > 0
