#!/usr/bin/env python3
"""Regenerate the SCALE-Sim v3 cross-check fixtures used by tests/systolic_scalesim.rs.

This script is NOT run by CI. It needs the pip-installed reference simulator:

    python3 -m venv .venv-scalesim
    .venv-scalesim/bin/pip install scalesim==3.0.0 "numpy==1.26.4" "pandas<2.3" "numba<0.61"
    .venv-scalesim/bin/python tests/data/scalesim/generate.py            # expected.csv
    .venv-scalesim/bin/python tests/data/scalesim/generate.py --cnn      # resnet18_expected.csv

Inputs (all in this directory):
  configs/*.cfg                 SCALE-Sim .cfg files (CALC bandwidth mode)
  topologies/conv_cases.csv     conv-format topology (SCALE-Sim default input format)
  topologies/gemm_cases.csv     GEMM-format topology (SCALE-Sim `-i gemm`: Layer, M, N, K)
  topologies/resnet18.csv       ResNet-18 conv layers (written for archscope, see its header)

Every (config, topology) pair is simulated layer by layer through SCALE-Sim's own Python API
(config parser, topology parser, single_layer_sim), with traces disabled, and one row per layer
is written with SCALE-Sim's report values (floats printed with repr, i.e. full precision).
"""

import argparse
import csv
import glob
import os
import sys
import time

from scalesim.scale_config import scale_config
from scalesim.topology_utils import topologies
from scalesim.layout_utils import layouts
from scalesim.single_layer_sim import single_layer_sim

HERE = os.path.dirname(os.path.abspath(__file__))

COLUMNS = [
    "config", "topology", "format", "layer_index", "layer_name", "dataflow", "rows", "cols",
    "total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
    "overall_util_pct", "mapping_eff_pct", "compute_util_pct",
    "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
    "ifmap_dram_reads", "filter_dram_reads", "ofmap_dram_writes", "wall_s",
]


def run_pair(cfg_path, topo_path, gemm):
    """Simulate every layer of one topology under one config; yield one dict per layer."""
    cfg = scale_config()
    cfg.read_conf_file(cfg_path)
    topo = topologies()
    topo.load_arrays(topofile=topo_path, mnk_inputs=gemm)
    rows, cols = cfg.get_array_dims()
    for lid in range(topo.get_num_layers()):
        t0 = time.perf_counter()
        sim = single_layer_sim()
        sim.set_params(layer_id=lid, config_obj=cfg, topology_obj=topo,
                       layout_obj=layouts(), verbose=False)
        sim.run()
        sim.calc_report_data()
        wall = time.perf_counter() - t0
        overall, total, stall, util, mapeff, cutil = sim.get_compute_report_items()
        yield {
            "config": os.path.relpath(cfg_path, HERE),
            "topology": os.path.relpath(topo_path, HERE),
            "format": "gemm" if gemm else "conv",
            "layer_index": lid,
            "layer_name": topo.get_layer_name(lid),
            "dataflow": cfg.get_dataflow(),
            "rows": rows,
            "cols": cols,
            "total_cycles_incl_prefetch": int(overall),
            "total_cycles": int(total),
            "stall_cycles": int(stall),
            "overall_util_pct": repr(float(util)),
            "mapping_eff_pct": repr(float(mapeff)),
            "compute_util_pct": repr(float(cutil)),
            "ifmap_sram_reads": int(sim.ifmap_sram_reads),
            "filter_sram_reads": int(sim.filter_sram_reads),
            "ofmap_sram_writes": int(sim.ofmap_sram_writes),
            "ifmap_dram_reads": int(sim.ifmap_dram_reads),
            "filter_dram_reads": int(sim.filter_dram_reads),
            "ofmap_dram_writes": int(sim.ofmap_dram_writes),
            "wall_s": "%.3f" % wall,
        }


def write_rows(out_path, pairs):
    total_wall = 0.0
    n = 0
    with open(out_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for cfg_path, topo_path, gemm in pairs:
            t0 = time.perf_counter()
            for row in run_pair(cfg_path, topo_path, gemm):
                w.writerow(row)
                n += 1
            f.flush()
            dt = time.perf_counter() - t0
            total_wall += dt
            print("%-28s %-28s %7.1f s" % (os.path.basename(cfg_path),
                                           os.path.basename(topo_path), dt), file=sys.stderr)
    print("%d layer rows, %.1f s of simulation -> %s" % (n, total_wall, out_path), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cnn", action="store_true",
                    help="simulate topologies/resnet18.csv under configs/a32x32_os.cfg only and "
                         "write resnet18_expected.csv (takes minutes)")
    args = ap.parse_args()

    if args.cnn:
        pairs = [(os.path.join(HERE, "configs", "a32x32_os.cfg"),
                  os.path.join(HERE, "topologies", "resnet18.csv"), False)]
        t0 = time.perf_counter()
        write_rows(os.path.join(HERE, "resnet18_expected.csv"), pairs)
        print("ResNet-18 full-network wall time: %.1f s" % (time.perf_counter() - t0),
              file=sys.stderr)
        return

    pairs = []
    for cfg_path in sorted(glob.glob(os.path.join(HERE, "configs", "*.cfg"))):
        pairs.append((cfg_path, os.path.join(HERE, "topologies", "conv_cases.csv"), False))
        pairs.append((cfg_path, os.path.join(HERE, "topologies", "gemm_cases.csv"), True))
    write_rows(os.path.join(HERE, "expected.csv"), pairs)


if __name__ == "__main__":
    main()
