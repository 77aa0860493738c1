#!/usr/bin/env python3
"""Counts for README.md, computed from measurements.csv.

  python3 summarize.py              print the generated Markdown section
  python3 summarize.py --write      replace the generated section of README.md in place
"""
import collections
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PREDICTED = {"prefill_tokens_per_s", "decode_tokens_per_s", "latency_ms"}
BEGIN, END = "<!-- BEGIN GENERATED (summarize.py) -->", "<!-- END GENERATED -->"

# (regex on the source field, short name, what the rows are)
FAMILIES = [
    (r"quic/ai-hub-models", "Qualcomm AI Hub Models perf.yaml (github.com/quic/ai-hub-models @52c080d2)",
     "on-device inference time (ms) per model, precision and runtime (TFLite/LiteRT NPU delegate, QNN DLC, ONNX Runtime QNN EP) on Galaxy S24 and S25; Genie/QNN LLM decode rates and TTFT"),
    (r"huggingface\.co/qualcomm/", "Qualcomm AI Hub model cards on Hugging Face (huggingface.co/qualcomm/<model> pages and README commits)",
     "older Galaxy S24 inference times of the same AI Hub models (ResNet50, EfficientNet-B0, MobileNet-v3)"),
    (r"huggingface\.co/apple/", "Apple Core ML model cards on Hugging Face (apple/coreml-FastViT-T8, -MA36, coreml-detr-semantic-segmentation, coreml-depth-anything-small)",
     "Core ML Float16 inference time on iPhone 12/15 Pro Max and M1/M3 Max, Neural Engine"),
    (r"coral\.ai", "Coral Edge TPU benchmarks (coral.ai/docs/edgetpu/benchmarks, Table 1)",
     "time per inference (ms) of ImageNet CNNs on desktop CPU, desktop + USB Accelerator, embedded CPU and Dev Board"),
    (r"x2q\.net", "x2q.net Coral Edge TPU experiments (2026)", "USB Accelerator latencies on an i9-13900K host and speedups over the host CPU"),
    (r"llama\.cpp/discussions/4167", "llama.cpp discussion #4167 (Apple Silicon)", "llama-bench pp512/tg128 for LLaMA-2 7B F16/Q8_0/Q4_0 on M-series GPUs (via published.csv)"),
    (r"llama\.cpp/issues/34", "llama.cpp issue #34 (benchmarks thread)", "i9-13900K CPU thread sweep, tg128 and pp512"),
    (r"geerlingguy/ai-benchmarks/blob", "geerlingguy/ai-benchmarks README @bdf94413", "Ollama decode rates (eval rate) on Raspberry Pi 5, Macs, x86 hosts with NVIDIA GPUs"),
    (r"geerlingguy/ai-benchmarks/issues/7\b", "geerlingguy/ai-benchmarks issue #7", "Ollama decode rates on the Raspberry Pi 5 16 GB under three firmware/NUMA settings"),
    (r"geerlingguy/ai-benchmarks/issues/48|geerlingguy/ai-benchmarks #48", "geerlingguy/ai-benchmarks issue #48", "llama-bench on an M1 Ultra (via published.csv)"),
    (r"geerlingguy/ai-benchmarks/issues/", "geerlingguy/ai-benchmarks issues #20, #47, #51, #53, #54", "llama-bench pp512/pp4096/tg128 tables on SBCs, laptops and a Vulkan GPU"),
    (r"geerlingguy/sbc-reviews", "geerlingguy/sbc-reviews issue #107", "llama-bench on a Framework 12 (i3-1315U)"),
    (r"XiongjieDai", "XiongjieDai/GPU-Benchmarks-on-LLM-Inference README @aa72e0ec", "llama.cpp LLaMA 3 8B/70B decode (1024 tokens) and 1024-token prompt rates on NVIDIA GPUs and Macs"),
    (r"TensorRT-LLM/blob/[0-9a-f]+/docs/source/performance/perf-overview", "TensorRT-LLM perf-overview.md @00f37686", "Llama 3.1 8B FP8 max-load output throughput on H100 SXM and H200 (include=no)"),
    (r"TensorRT-LLM/blob/[0-9a-f]+/docs/source/performance\.md", "TensorRT-LLM performance.md @138f96d4 (v0.5/v0.6.1) and issue #281", "LLaMA 7B throughput at large batch and batch-1 first-token latency on H100 SXM, A100 SXM, L40S (include=no)"),
    (r"TensorRT-LLM/blob/[0-9a-f]+/docs/source/blogs", "TensorRT-LLM blogs H100vsA100.md and H200launch.md (v0.5.0)", "GPT-J 6B and Llama 2 13B/70B throughput and first-token latency on H100, A100, H200 (include=no)"),
    (r"jetson-generative-ai-playground/blob/[0-9a-f]+/docs/tutorial_slm", "Jetson AI Lab SLM tutorial @51e315a0", "MLC INT4 decode rates of Llama 3.2 1B/3B on Jetson AGX Orin and Orin Nano"),
    (r"jetson-generative-ai-playground", "Jetson AI Lab benchmarks page (docs/benchmarks.md @0311bad1)", "MLC INT4 decode rates on Jetson Orin Nano (original and Super)"),
    (r"jetson-containers/issues/532", "dusty-nv/jetson-containers issue #532", "Jetson AGX Orin MLC decode figures (published and reproduced)"),
    (r"jetson-containers/blob", "dusty-nv/jetson-containers packages/llm/mlc/docs.md", "example MLC prefill/decode output on an unnamed Jetson"),
    (r"holohub/issues/170", "nvidia-holoscan/holohub issue #170", "Llama 2 7B/13B/70B 4-bit decode on IGX Orin, RTX A6000 and RTX 6000 Ada with llama.cpp and TensorRT-LLM"),
    (r"pytorch/executorch/pull/11991", "ExecuTorch PR #11991", "Phi-4-mini decode on iPhone 15 Pro from the CI benchmark job"),
    (r"pytorch/executorch", "ExecuTorch examples/models/llama/README.md @00748569", "Llama 3.2 1B/3B prefill/decode on OnePlus 12 and Llama 3 8B decode on Galaxy S22/S24/OnePlus 12 (XNNPACK)"),
    (r"optimum-executorch", "optimum-executorch README @02860798", "8da4w decode rates of compact LLMs on Galaxy S22, iPhone 15 / 15 Plus / 15 Pro (ExecuTorch XNNPACK)"),
    (r"LiteRT-LM", "LiteRT-LM README (two versions, June 2025)", "Gemma 3 1B and Gemma 3n prefill/decode on Galaxy S24 Ultra CPU/GPU and an M3 MacBook Pro"),
    (r"T-MAC/blob", "T-MAC docs/profiling_data.md and README @7042f8f7", "llama.cpp vs T-MAC CPU decode on M2 Ultra, Jetson AGX Orin, Raspberry Pi 5, Surface Book 3; AGX Orin GPU comparison; X Elite prefill"),
    (r"T-MAC README|T-MAC issue", "T-MAC README and issue #32 (via published.csv)", "T-MAC and llama.cpp decode on Snapdragon 8 Gen 3 phones and Snapdragon X Elite"),
    (r"mlc-ai/llm-perf-bench", "mlc-ai/llm-perf-bench README (two versions, Oct/Nov 2023)", "int4 decode of Llama 2 7B/13B on RTX 3090 Ti/4090 (MLC, ExLlama, llama.cpp) and Llama 2 70B on 2/8 A100 (MLC, ExLlama, llama.cpp, vLLM)"),
    (r"mlc-llm", "mlc-ai/mlc-llm issues #15, #1359, #1495 (via published.csv)", "MLC-LLM prefill/decode on iPhones, Xiaomi 14 and Pixel 8 Pro"),
    (r"apple/ml-mobileone|apple/ml-fastvit", "Apple ml-mobileone and ml-fastvit READMEs", "Core ML latency of MobileOne S0-S4 and FastViT variants on an iPhone 12 Pro"),
    (r"ml-explore/", "ml-explore mlx-examples PR #1069, issues #1029 and #1281, mlx-lm PR #40", "mlx_lm prompt and generation rates on M2 Ultra, M3 Max and M4 Max"),
    (r"PowerInfer-2", "PowerInfer-2 paper (arXiv 2406.06282v3) (via published.csv)", "TurboSparse-Mixtral-47B decode on OnePlus 12; headline ratios (include=no)"),
    (r"MobileLLM", "MobileLLM paper (arXiv 2402.14905) (via published.csv)", "load/init/execute times on iPhone 13 (include=no)"),
    (r"2511\.05502", "arXiv 2511.05502 via a secondary summary (via published.csv)", "sustained rates of runtimes on an M2 Ultra (include=no)"),
]


def family(src):
    for rx, name, what in FAMILIES:
        if re.search(rx, src):
            return name, what
    return src, ""


def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def table(counter, head):
    out = [f"| {head} | rows |", "|---|---:|"]
    for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"| {k or '(empty)'} | {v} |")
    return out


def generate(rows):
    inc = [r for r in rows if r["include"] == "yes"]
    pred = [r for r in inc if r["hw"] and r["model_ref"] and r["metric"] in PREDICTED]
    split = collections.Counter(r["split"] for r in rows)
    L = [BEGIN, "", "### Totals", ""]
    L.append(f"- rows: **{len(rows)}** (train {split['train']}, test {split['test']})")
    L.append(f"- include=yes: **{len(inc)}**; include=no: {len(rows) - len(inc)}")
    L.append(f"- predictable rows (hw and model_ref set, include=yes, metric one of {', '.join(sorted(PREDICTED))}): **{len(pred)}**"
             f" (train {sum(r['split'] == 'train' for r in pred)}, test {sum(r['split'] == 'test' for r in pred)})")
    L.append(f"- rows with hw set: {sum(bool(r['hw']) for r in rows)}; with model_ref set: {sum(bool(r['model_ref']) for r in rows)}")
    L.append(f"- distinct devices (as named by the sources): {len(set(r['device'] for r in rows))}; distinct shipped hw: {len(set(r['hw'] for r in rows if r['hw']))}")
    L.append(f"- distinct runtimes: {len(set(r['runtime'] for r in rows))}; distinct sources: {len(set(family(r['source'])[0] for r in rows))}")
    L += ["", "### Predictable rows per hw and kind", "", "| hw | llm | network | total |", "|---|---:|---:|---:|"]
    per = collections.defaultdict(collections.Counter)
    for r in pred:
        per[r["hw"]][r["kind"]] += 1
    for hw in sorted(per, key=lambda h: -sum(per[h].values())):
        L.append(f"| {hw} | {per[hw]['llm']} | {per[hw]['network']} | {sum(per[hw].values())} |")
    L += ["", "### Rows per hw (all rows)", ""] + table(collections.Counter(r["hw"] for r in rows), "hw")
    L += ["", "### Rows per runtime", ""] + table(collections.Counter(r["runtime"] for r in rows), "runtime")
    km = collections.Counter(f"{r['kind']} / {r['metric']} / include={r['include']}" for r in rows)
    L += ["", "### Rows per kind / metric / include", ""] + table(km, "kind / metric / include")
    L += ["", "### Rows per device (as named by the source)", ""] + table(collections.Counter(r["device"] for r in rows), "device")
    L += ["", "### Rows per model_ref", ""] + table(collections.Counter(r["model_ref"] for r in rows), "model_ref")
    L += ["", "### Sources", "", "| source | what the rows are | rows | predictable |", "|---|---|---:|---:|"]
    fam = collections.defaultdict(lambda: [0, 0, ""])
    for r in rows:
        name, what = family(r["source"])
        fam[name][0] += 1
        fam[name][2] = what
        if r in pred:
            fam[name][1] += 1
    for name, (n, p, what) in sorted(fam.items(), key=lambda kv: -kv[1][0]):
        L.append(f"| {name} | {what} | {n} | {p} |")
    L += ["", END]
    return "\n".join(L)


def main(argv):
    rows = load(os.path.join(HERE, "measurements.csv"))
    text = generate(rows)
    if argv and argv[0] == "--write":
        path = os.path.join(HERE, "README.md")
        with open(path, encoding="utf-8") as f:
            readme = f.read()
        a, b = readme.index(BEGIN), readme.index(END) + len(END)
        with open(path, "w", encoding="utf-8") as f:
            f.write(readme[:a] + text + readme[b:])
        print(f"updated {path}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
