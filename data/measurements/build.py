#!/usr/bin/env python3
"""Builds measurements.csv from the row definitions below.

Every value below was read in the source named on its row; nothing is derived or estimated.
Run:  python3 build.py && python3 split.py --check measurements.csv && python3 summarize.py
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from split import split_of  # noqa: E402

HEADER = ["id", "device", "hw", "model", "model_ref", "kind", "quant", "runtime", "runtime_version",
          "unit_kind", "threads", "batch", "prompt", "generated", "context", "metric", "value", "unit",
          "source", "split", "include", "note"]

HW = {"a100-80gb", "coral-edgetpu", "desktop-x86", "galaxy-s24", "h100-sxm", "h200", "iphone15pro",
      "jetson-agx-orin", "jetson-orin-nano", "m2-ultra", "m4-max", "pixel8", "pixel9", "rpi5", "tpu-v4",
      "tpu-v5e", "rtx-4090", "rtx-3090", "rtx-a6000", "rtx-6000-ada", "l40s", "a40", "a100-pcie-80gb", "h100-pcie",
      "rtx-4080", "rtx-4000-ada", "rtx-5000-ada", "m1-max", "m3-max", "m1-pro", "stm32h7a3", "stm32l4r5", ""}
RUNTIMES = {"llama.cpp-cpu", "llama.cpp-metal", "llama.cpp-cuda", "llama.cpp-vulkan", "llama.cpp-opencl",
            "mlc-llm", "executorch-xnnpack", "executorch-qnn", "executorch-mps", "executorch-coreml",
            "litert-xnnpack", "litert-gpu", "litert-npu", "qnn", "onnxruntime-qnn", "coreml-ane", "coreml-gpu",
            "coreml-cpu", "edgetpu", "tensorrt", "tensorrt-llm", "vllm", "mlx", "pytorch", "candle-cpu",
            "t-mac", "powerinfer-2", "x-cube-ai", "other"}
LLMS = {"gemma-2b", "llama-1b", "llama-2-7b", "llama-3-8b", "llama-3b", "mixtral-8x7b", "mobilellm-125m",
        "mobilellm-350m", "phi-3-mini", "qwen1.5-1.8b", "tinyllama-1.1b"}
NETS = {"mobilenetv1", "mobilenetv2", "mobilenetv3-large", "mobilenetv3-small", "mnasnet-a1",
        *[f"efficientnet-b{i}" for i in range(8)], "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
        "squeezenet1.1", "inception-v3", "unet", "yolov3-tiny", "vit-b16", "vit-b32", "vit-l16", "deit-tiny",
        "deit-small", "bert-base", "bert-large", "resnet8", "ds-cnn", "fc-autoencoder"}
PREDICTABLE = {"prefill_tokens_per_s", "decode_tokens_per_s", "latency_ms"}

ROWS = []
_IDS = set()


def add(id, device, model, metric, value, unit, source, *, hw="", model_ref="", kind="llm", quant="",
        runtime="other", runtime_version="", unit_kind="", threads="", batch=1, prompt="", generated="",
        context="", include="yes", note=""):
    assert id not in _IDS, f"duplicate id {id}"
    _IDS.add(id)
    assert hw in HW, (id, hw)
    assert runtime in RUNTIMES, (id, runtime)
    assert kind in ("llm", "network"), (id, kind)
    base = model_ref.split("?")[0]
    if model_ref:
        assert base in (LLMS if kind == "llm" else NETS), (id, model_ref)
    assert include in ("yes", "no"), (id, include)
    if include == "no" or metric not in PREDICTABLE:
        assert note, f"{id}: include=no or unpredictable metric needs a reason in note"
    if metric not in PREDICTABLE:
        assert include == "no", f"{id}: metric {metric} is not predictable, so include must be no"
    assert unit_kind in ("cpu", "gpu", "npu", ""), (id, unit_kind)
    assert quant == quant.lower(), (id, quant)
    float(value)
    ROWS.append(dict(id=id, device=device, hw=hw, model=model, model_ref=model_ref, kind=kind, quant=quant,
                     runtime=runtime, runtime_version=runtime_version, unit_kind=unit_kind, threads=threads,
                     batch=batch, prompt=prompt, generated=generated, context=context, metric=metric,
                     value=value, unit=unit, source=source, split=split_of(id), include=include, note=note))


def pp(id, device, model, value, source, prompt, **kw):
    add(id, device, model, "prefill_tokens_per_s", value, "tokens/s", source, prompt=prompt, **kw)


def tg(id, device, model, value, source, generated="", **kw):
    add(id, device, model, "decode_tokens_per_s", value, "tokens/s", source, generated=generated, **kw)


def lat(id, device, model, value, source, **kw):
    kw.setdefault("kind", "network")
    add(id, device, model, "latency_ms", value, "ms", source, **kw)


# ---------------------------------------------------------------------------------------------
# 1. Re-expressed rows of the project's earlier file shared/measurements/published.csv (71 rows).
#    The note names the id the row had there.
# ---------------------------------------------------------------------------------------------
S4167 = "https://github.com/ggml-org/llama.cpp/discussions/4167"


def _apple(tag, device, hw, q, p, t, pub, extra=""):
    common = dict(hw=hw, model_ref="llama-2-7b", quant=q, runtime="llama.cpp-metal", unit_kind="gpu")
    pp(f"llamacpp-4167-{tag}-llama2-7b-{q}-pp512", device, "LLaMA-2 7B", p, S4167, 512,
       note=f"published.csv {pub}; all layers on GPU{extra}", **common)
    tg(f"llamacpp-4167-{tag}-llama2-7b-{q}-tg128", device, "LLaMA-2 7B", t, S4167, 128,
       note=f"published.csv {pub}; all layers on GPU{extra}", **common)


_apple("m2ultra76", "Apple M2 Ultra 76-core GPU (800 GB/s)", "m2-ultra", "f16", 1401.85, 41.02, "A1")
_apple("m2ultra76", "Apple M2 Ultra 76-core GPU (800 GB/s)", "m2-ultra", "q4_0", 1238.48, 94.27, "A2")
_apple("m2ultra76", "Apple M2 Ultra 76-core GPU (800 GB/s)", "m2-ultra", "q8_0", 1248.6, 66.6, "A3",
       "; flagged approximate (to verify) in published.csv")
_apple("m4max40", "Apple M4 Max 40-core GPU (546 GB/s)", "m4-max", "f16", 922.83, 31.64, "A4")
_apple("m4max40", "Apple M4 Max 40-core GPU (546 GB/s)", "m4-max", "q4_0", 885.68, 83.06, "A5")
_apple("m3max40", "Apple M3 Max 40-core GPU (400 GB/s)", "m3-max", "f16", 779.17, 25.09, "A6")
_apple("m3max40", "Apple M3 Max 40-core GPU (400 GB/s)", "m3-max", "q4_0", 759.70, 66.31, "A6")
_apple("m1max32", "Apple M1 Max 32-core GPU (400 GB/s)", "m1-max", "f16", 599.53, 23.03, "A7")
_apple("m1max32", "Apple M1 Max 32-core GPU (400 GB/s)", "m1-max", "q8_0", 537.37, 40.20, "A7")
_apple("m1max32", "Apple M1 Max 32-core GPU (400 GB/s)", "m1-max", "q4_0", 530.06, 61.19, "A7")
_apple("m1pro16", "Apple M1 Pro 16-core GPU (200 GB/s)", "m1-pro", "f16", 302.14, 12.75, "A8")
_apple("m1pro16", "Apple M1 Pro 16-core GPU (200 GB/s)", "m1-pro", "q4_0", 266.25, 36.41, "A8")
_apple("m1-8", "Apple M1 8-core GPU (68 GB/s)", "", "q4_0", 117.96, 14.15, "A9")

GG48 = "geerlingguy/ai-benchmarks #48 (https://github.com/geerlingguy/ai-benchmarks/issues/48)"
_m1u = dict(runtime="llama.cpp-metal", runtime_version="e9fd8dc (7825)", unit_kind="gpu", threads=16,
            quant="q4_k_m")
pp("gg48-m1ultra64-tinyllama-q4km-pp512", "Apple M1 Ultra 64-core GPU 128 GB", "TinyLlama-1.1B", 5587.84, GG48, 512,
   model_ref="tinyllama-1.1b", note="published.csv A10; Metal+BLAS build", **_m1u)
pp("gg48-m1ultra64-tinyllama-q4km-pp4096", "Apple M1 Ultra 64-core GPU 128 GB", "TinyLlama-1.1B", 4381.75, GG48,
   4096, model_ref="tinyllama-1.1b", note="published.csv A10; Metal+BLAS build", **_m1u)
tg("gg48-m1ultra64-tinyllama-q4km-tg128", "Apple M1 Ultra 64-core GPU 128 GB", "TinyLlama-1.1B", 242.56, GG48, 128,
   model_ref="tinyllama-1.1b", note="published.csv A10; Metal+BLAS build", **_m1u)
pp("gg48-m1ultra64-llama32-3b-q4km-pp512", "Apple M1 Ultra 64-core GPU 128 GB", "Llama-3.2-3B-Instruct", 2142.59,
   GG48, 512, model_ref="llama-3b", note="published.csv A11; Metal+BLAS build", **_m1u)

A17 = "paper: arXiv 2511.05502 (values via a secondary summary; see published.csv A17)"
for tag, rt, v, extra in [("mlx", "mlx", 230, "approximately 230"), ("mlc", "mlc-llm", 190, "approximately 190"),
                          ("llamacpp", "other", 150, "llama.cpp (backend not stated); approximately 150")]:
    add(f"arxiv2511-05502-m2ultra-qwen25-{tag}-sustained", "Mac Studio Apple M2 Ultra 192 GB", "Qwen-2.5 family",
        "sustained_tokens_per_s", v, "tokens/s", A17, runtime=rt, include="no",
        note=f"published.csv A17; {extra}; aggregate over a model family at unstated sizes and quant; GPU core count not stated so hw left empty")
for tag, name, lo, hi in [("ollama", "Ollama", 20, 40), ("pytorch-mps", "PyTorch-MPS", 7, 9)]:
    for bound, v in (("min", lo), ("max", hi)):
        add(f"arxiv2511-05502-m2ultra-qwen25-{tag}-sustained-{bound}", "Mac Studio Apple M2 Ultra 192 GB",
            "Qwen-2.5 family", f"sustained_tokens_per_s_{bound}", v, "tokens/s", A17,
            runtime="pytorch" if tag == "pytorch-mps" else "other", include="no",
            note=f"published.csv A17; {name}; {bound} of a stated range; aggregate over a model family; not a single measurement")

MLC1359 = "mlc-ai/mlc-llm issue #1359 2023-12 (https://github.com/mlc-ai/mlc-llm/issues/1359)"
_x14 = dict(hw="galaxy-s24", model_ref="llama-2-7b", quant="q4f16_1", runtime="mlc-llm", unit_kind="gpu")
pp("mlc1359-xiaomi14-llama2-7b-q4f16_1-prefill", "Xiaomi 14 (Snapdragon 8 Gen 3)", "Llama-2-7b-chat", 7, MLC1359, "",
   note="published.csv P1; same SoC as Galaxy S24; MLC Android OpenCL on Adreno; max-seq-len 768; prompt length not stated", **_x14)
tg("mlc1359-xiaomi14-llama2-7b-q4f16_1-decode", "Xiaomi 14 (Snapdragon 8 Gen 3)", "Llama-2-7b-chat", 10, MLC1359,
   note="published.csv P1; same SoC as Galaxy S24; MLC Android OpenCL on Adreno; max-seq-len 768", **_x14)
_i15 = dict(hw="iphone15pro", quant="q3f16_1", runtime="mlc-llm", unit_kind="gpu")
pp("mlc1359-iphone15pro-codellama7b-q3f16_1-prefill", "Apple iPhone 15 Pro (A17 Pro)", "CodeLlama-7B-Instruct", 56,
   MLC1359, "", note="published.csv P2; MLC iOS Metal; CodeLlama is not the shipped llama-2-7b (different vocab/rope) so model_ref empty", **_i15)
tg("mlc1359-iphone15pro-codellama7b-q3f16_1-decode", "Apple iPhone 15 Pro (A17 Pro)", "CodeLlama-7B-Instruct", 9,
   MLC1359, note="published.csv P2; MLC iOS Metal", **_i15)
MLC1495 = "mlc-ai/mlc-llm issue #1495 (https://github.com/mlc-ai/mlc-llm/issues/1495)"
_p8p = dict(hw="pixel8", quant="q4f16_1", runtime="mlc-llm", runtime_version="Dec 2023", unit_kind="gpu")
pp("mlc1495-pixel8pro-redpajama3b-q4f16_1-prefill", "Google Pixel 8 Pro (Tensor G3)", "RedPajama-INCITE-Chat-3B", 0.3,
   MLC1495, "", note="published.csv P3; Pixel 8 Pro has the Tensor G3 of the Pixel 8 but 12 GB; reported as encode speed; low representativeness (early Mali backend)", **_p8p)
tg("mlc1495-pixel8pro-redpajama3b-q4f16_1-decode", "Google Pixel 8 Pro (Tensor G3)", "RedPajama-INCITE-Chat-3B", 2.5,
   MLC1495, note="published.csv P3; Pixel 8 Pro has the Tensor G3 of the Pixel 8 but 12 GB; low representativeness (early Mali backend)", **_p8p)
MLC15 = "mlc-ai/mlc-llm issue #15 (https://github.com/mlc-ai/mlc-llm/issues/15)"
_i13 = dict(quant="q4f16_0", runtime="mlc-llm", runtime_version="May 2023", unit_kind="gpu")
pp("mlc15-iphone13pro-redpajama3b-q4f16_0-prefill", "Apple iPhone 13 Pro (A15)", "RedPajama-3B", 18.9, MLC15, "",
   note="published.csv P4; MLC iOS", **_i13)
tg("mlc15-iphone13pro-redpajama3b-q4f16_0-decode", "Apple iPhone 13 Pro (A15)", "RedPajama-3B", 12.0, MLC15,
   note="published.csv P4; MLC iOS", **_i13)

TMAC32 = "microsoft/T-MAC issue #32 (https://github.com/microsoft/T-MAC/issues/32)"
for rt, vals in (("t-mac", (5.60, 10.33, 13.88)), ("llama.cpp-cpu", (3.16, 3.76, 5.43))):
    for th, v in zip((1, 2, 3), vals):
        tg(f"tmac32-oneplus12-llama2-7b-w2-{rt.split('-')[0].replace('.', '')}-t{th}", "OnePlus 12 (Snapdragon 8 Gen 3)",
           "Llama-2-7B", v, TMAC32, hw="galaxy-s24", model_ref="llama-2-7b", quant="w2", runtime=rt, unit_kind="cpu",
           threads=th, note="published.csv P5; same SoC as Galaxy S24; 2-bit weights as stated by the T-MAC maintainer; high-performance mode")
for th, v in ((2, 4.46), (4, 6.61)):
    tg(f"tmac32-xiaomi14pro-llama2-7b-w4-tmac-t{th}", "Xiaomi 14 Pro (Snapdragon 8 Gen 3)", "Llama-2-7B (EfficientQAT GPTQ W4)",
       v, TMAC32, 128, hw="galaxy-s24", model_ref="llama-2-7b", quant="w4", runtime="t-mac", unit_kind="cpu",
       threads=th, note="published.csv P6; same SoC as Galaxy S24; 256-token prompt; prebuilt kernels; the user could not reproduce the README numbers")
TMACR = "microsoft/T-MAC README (https://github.com/microsoft/T-MAC)"
for q, th, v in (("w4", 2, 12.6), ("w4", 4, 18.7), ("w2", 1, 9.3), ("w2", 4, 28.4)):
    tg(f"tmac-readme-xelite-llama2-7b-{q}-t{th}", "Snapdragon X Elite (Surface Laptop 7)", "Llama-2-7B", v, TMACR, 1024,
       model_ref="llama-2-7b", quant=q, runtime="t-mac", unit_kind="cpu", threads=th,
       note="published.csv P7; input and output length 1024")
tg("tmac-readme-xelite-llama2-7b-npe-npu", "Snapdragon X Elite (Surface Laptop 7)", "Llama-2-7B", 10.4, TMACR, 1024,
   model_ref="llama-2-7b", runtime="other", unit_kind="npu",
   note="published.csv P7; runtime is Qualcomm NPE on the NPU (Qualcomm-claimed figure quoted in the T-MAC README); quant not stated")

PI2 = "paper: PowerInfer-2 (arXiv 2406.06282v3); powerinfer.ai/v2"
tg("powerinfer2-oneplus12-turbosparse-mixtral47b-decode", "OnePlus 12 (Snapdragon 8 Gen 3 24 GB)",
   "TurboSparse-Mixtral-47B", 11.68, PI2, hw="galaxy-s24", runtime="powerinfer-2",
   note="published.csv P10; same SoC as Galaxy S24 (24 GB phone); activation-sparse model with flash offload; neuron-cluster CPU+NPU; quant not stated")
for n, v in ((1, 27.8), (2, 29.2)):
    add(f"powerinfer2-oneplus12-speedup-max-{n}", "OnePlus 12 (Snapdragon 8 Gen 3 24 GB)", "TurboSparse-Mixtral-47B",
        "speedup_vs_llama_cpp_max", v, "x", PI2, hw="galaxy-s24", runtime="powerinfer-2", include="no",
        note=f"published.csv P10; headline up-to speedup vs llama.cpp (figure {n} of 2); a ratio not a measurement archscope predicts")
add("powerinfer2-oneplus12-memory-saving", "OnePlus 12 (Snapdragon 8 Gen 3 24 GB)", "models that fit in RAM",
    "memory_saving_vs_llama_cpp_mlc", 40, "%", PI2, hw="galaxy-s24", runtime="powerinfer-2", include="no",
    note="published.csv P10; approximate memory saving at similar speed; aggregate without a model")

MLLM = "paper: MobileLLM (ICML 2024 arXiv 2402.14905) layer-sharing latency table"
for tag, name, ref, vals in (("125m", "MobileLLM-125M (30 layers)", "mobilellm-125m", (39.2, 1361.7, 15.6)),
                             ("ls125m", "MobileLLM-LS-125M (layer-shared)", "", (43.6, 1388.2, 16.0)),
                             ("60l", "MobileLLM 60-layer non-shared", "", (68.6, 3347.7, 29.0))):
    for metric, v in zip(("load_ms", "init_ms", "execute_ms"), vals):
        add(f"mobilellm-iphone13-{tag}-{metric.replace('_ms', '')}", "Apple iPhone 13 (A15)", name, metric, v, "ms",
            MLLM, model_ref=ref, runtime="executorch-mps", include="no",
            note="published.csv P11; approximate; load/init/execute times of the ExecuTorch (Metal) app; execute covers an unstated number of tokens so it is not a per-token metric")

# ---------------------------------------------------------------------------------------------
# 2. Coral Edge TPU benchmark page, Table 1 (time per inference, ms). Columns: desktop CPU,
#    desktop CPU + USB Accelerator (USB 3.0), embedded CPU, Dev Board with Edge TPU.
#    The Unet Mv2 and EfficientNet-EdgeTpu rows are in the newer page version (coral.ai);
#    the other rows appear with identical values in the older one (coral.withgoogle.com).
# ---------------------------------------------------------------------------------------------
CORAL = "https://coral.ai/docs/edgetpu/benchmarks/ (Table 1; older copy https://coral.withgoogle.com/docs/edgetpu/benchmarks)"
CORAL_ROWS = [
    # tag, model as named, model_ref, desktop cpu, usb edgetpu, embedded cpu, dev board
    ("unet-mv2-128", "Unet Mv2 (128x128)", "", 27.7, 3.3, 190.7, 5.7),
    ("deeplabv3-513", "DeepLab V3 (513x513)", "", 394, 52, 1139, 241),
    ("densenet-224", "DenseNet (224x224)", "", 380, 20, 1032, 25),
    ("inception-v1-224", "Inception v1 (224x224)", "", 90, 3.4, 392, 4.1),
    ("inception-v4-299", "Inception v4 (299x299)", "", 700, 85, 3157, 102),
    ("inception-resnet-v2-299", "Inception-ResNet V2 (299x299)", "", 753, 57, 2852, 69),
    ("mobilenet-v1-224", "MobileNet v1 (224x224)", "mobilenetv1", 53, 2.4, 164, 2.4),
    ("mobilenet-v2-224", "MobileNet v2 (224x224)", "mobilenetv2", 51, 2.6, 122, 2.6),
    ("mobilenet-v1-ssd-224", "MobileNet v1 SSD (224x224)", "", 109, 6.5, 353, 11),
    ("mobilenet-v2-ssd-224", "MobileNet v2 SSD (224x224)", "", 106, 7.2, 282, 14),
    ("resnet50-v1-299", "ResNet-50 V1 (299x299)", "resnet50?res=299", 484, 49, 1763, 56),
    ("resnet50-v2-299", "ResNet-50 V2 (299x299)", "", 557, 50, 1875, 59),
    ("resnet152-v2-299", "ResNet-152 V2 (299x299)", "", 1823, 128, 5499, 151),
    ("squeezenet-224", "SqueezeNet (224x224)", "", 55, 2.1, 232, 2),
    ("vgg16-224", "VGG16 (224x224)", "", 867, 296, 4595, 343),
    ("vgg19-224", "VGG19 (224x224)", "", 1060, 308, 5538, 357),
    ("efficientnet-edgetpu-s", "EfficientNet-EdgeTpu-S", "", 5431, 5.1, 705, 5.5),
    ("efficientnet-edgetpu-m", "EfficientNet-EdgeTpu-M", "", 8469, 8.7, 1081, 10.6),
]
for tag, name, ref, cpu, usb, emb, dev in CORAL_ROWS:
    extra = ""
    if ref.startswith("resnet50"):
        extra = "; TF ResNet-50 V1 at 299x299 (archscope resnet50 is the torchvision v1.5 layout)"
    if tag.startswith("efficientnet"):
        extra = "; the page marks this model with an asterisk (its footnote was not in the copy read)"
    if tag == "squeezenet-224":
        extra = "; SqueezeNet version not stated so model_ref left empty"
    lat(f"coral-bench-desktopcpu-{tag}", "Desktop CPU (coral.ai benchmark host)", name, cpu, CORAL, runtime="other",
        unit_kind="cpu", note="TensorFlow Lite on the host CPU (delegate not stated)" + extra)
    lat(f"coral-bench-usb-{tag}", "Coral USB Accelerator (USB 3.0) on desktop host", name, usb, CORAL,
        hw="coral-edgetpu", model_ref=ref, quant="int8", runtime="edgetpu", unit_kind="npu",
        note="Edge TPU compiled int8 TFLite model; C++ benchmark; model execution only" + extra)
    lat(f"coral-bench-embeddedcpu-{tag}", "Embedded CPU (coral.ai benchmark)", name, emb, CORAL, runtime="other",
        unit_kind="cpu", note="TensorFlow Lite on an embedded Arm CPU (delegate not stated)" + extra)
    lat(f"coral-bench-devboard-{tag}", "Coral Dev Board (Edge TPU)", name, dev, CORAL, hw="coral-edgetpu",
        model_ref=ref, quant="int8", runtime="edgetpu", unit_kind="npu",
        note="Edge TPU on the Dev Board (on-board link rather than USB); C++ benchmark; model execution only" + extra)

AIHUB_S24 = [
    ('bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'float', 'onnx', 23.893, 'NPU'),
    ('bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'float', 'qnn_dlc', 16.775, 'NPU'),
    ('bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'float', 'tflite', 17.12, 'NPU'),
    ('bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'w8a16', 'onnx', 669.025, 'NPU'),
    ('bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'w8a16', 'qnn_dlc', 9.0, 'NPU'),
    ('convnext_tiny', 'ConvNext-Tiny', 'float', 'onnx', 2.254, 'NPU'),
    ('convnext_tiny', 'ConvNext-Tiny', 'float', 'qnn_dlc', 2.665, 'NPU'),
    ('convnext_tiny', 'ConvNext-Tiny', 'float', 'tflite', 2.204, 'NPU'),
    ('convnext_tiny', 'ConvNext-Tiny', 'w8a16', 'onnx', 88.472, 'NPU'),
    ('convnext_tiny', 'ConvNext-Tiny', 'w8a16', 'qnn_dlc', 2.17, 'NPU'),
    ('densenet121', 'DenseNet-121', 'float', 'onnx', 1.298, 'NPU'),
    ('densenet121', 'DenseNet-121', 'float', 'qnn_dlc', 1.24, 'NPU'),
    ('densenet121', 'DenseNet-121', 'float', 'tflite', 1.244, 'NPU'),
    ('densenet121', 'DenseNet-121', 'w8a16', 'qnn_dlc', 2.134, 'NPU'),
    ('densenet121', 'DenseNet-121', 'w8a8', 'qnn_dlc', 1.717, 'NPU'),
    ('densenet121', 'DenseNet-121', 'w8a8', 'tflite', 1.611, 'NPU'),
    ('distil_bert_base_uncased_hf', 'Distil-Bert-Base-Uncased-Hf', 'float', 'onnx', 15.081, 'NPU'),
    ('distil_bert_base_uncased_hf', 'Distil-Bert-Base-Uncased-Hf', 'float', 'qnn_dlc', 11.717, 'NPU'),
    ('distil_bert_base_uncased_hf', 'Distil-Bert-Base-Uncased-Hf', 'float', 'tflite', 11.806, 'NPU'),
    ('distil_bert_base_uncased_hf', 'Distil-Bert-Base-Uncased-Hf', 'w8a16', 'qnn_dlc', 5.106, 'NPU'),
    ('efficientnet_b0', 'EfficientNet-B0', 'float', 'onnx', 1.063, 'NPU'),
    ('efficientnet_b0', 'EfficientNet-B0', 'float', 'qnn_dlc', 1.076, 'NPU'),
    ('efficientnet_b0', 'EfficientNet-B0', 'float', 'tflite', 1.073, 'NPU'),
    ('efficientnet_b0', 'EfficientNet-B0', 'w8a16', 'onnx', 1.155, 'NPU'),
    ('efficientnet_b0', 'EfficientNet-B0', 'w8a16', 'qnn_dlc', 1.126, 'NPU'),
    ('efficientnet_b4', 'EfficientNet-B4', 'float', 'onnx', 2.451, 'NPU'),
    ('efficientnet_b4', 'EfficientNet-B4', 'float', 'qnn_dlc', 2.417, 'NPU'),
    ('efficientnet_b4', 'EfficientNet-B4', 'float', 'tflite', 2.421, 'NPU'),
    ('efficientnet_b4', 'EfficientNet-B4', 'w8a16', 'qnn_dlc', 2.328, 'NPU'),
    ('efficientvit_b2_cls', 'EfficientViT-b2-cls', 'float', 'onnx', 3.748, 'NPU'),
    ('efficientvit_b2_cls', 'EfficientViT-b2-cls', 'float', 'qnn_dlc', 3.789, 'NPU'),
    ('efficientvit_b2_cls', 'EfficientViT-b2-cls', 'float', 'tflite', 3.795, 'NPU'),
    ('googlenet', 'GoogLeNet', 'float', 'onnx', 0.743, 'NPU'),
    ('googlenet', 'GoogLeNet', 'float', 'qnn_dlc', 0.57, 'NPU'),
    ('googlenet', 'GoogLeNet', 'float', 'tflite', 0.565, 'NPU'),
    ('googlenet', 'GoogLeNet', 'w8a8', 'onnx', 0.394, 'NPU'),
    ('googlenet', 'GoogLeNet', 'w8a8', 'qnn_dlc', 0.19, 'NPU'),
    ('googlenet', 'GoogLeNet', 'w8a8', 'tflite', 0.187, 'NPU'),
    ('inception_v3', 'Inception-v3', 'float', 'onnx', 1.26, 'NPU'),
    ('inception_v3', 'Inception-v3', 'float', 'qnn_dlc', 1.02, 'NPU'),
    ('inception_v3', 'Inception-v3', 'float', 'tflite', 1.026, 'NPU'),
    ('inception_v3', 'Inception-v3', 'w8a8', 'onnx', 0.672, 'NPU'),
    ('inception_v3', 'Inception-v3', 'w8a8', 'qnn_dlc', 0.48, 'NPU'),
    ('inception_v3', 'Inception-v3', 'w8a8', 'tflite', 0.484, 'NPU'),
    ('levit', 'LeViT', 'float', 'onnx', 1.094, 'NPU'),
    ('levit', 'LeViT', 'float', 'qnn_dlc', 1.073, 'NPU'),
    ('levit', 'LeViT', 'float', 'tflite', 1.035, 'NPU'),
    ('levit', 'LeViT', 'w8a16', 'qnn_dlc', 1.005, 'NPU'),
    ('levit', 'LeViT', 'w8a16_mixed_int16', 'qnn_dlc', 1.014, 'NPU'),
    ('mnasnet05', 'MNASNet05', 'float', 'onnx', 0.493, 'NPU'),
    ('mnasnet05', 'MNASNet05', 'float', 'qnn_dlc', 0.516, 'NPU'),
    ('mnasnet05', 'MNASNet05', 'float', 'tflite', 0.519, 'NPU'),
    ('mnasnet05', 'MNASNet05', 'w8a16', 'onnx', 0.521, 'NPU'),
    ('mnasnet05', 'MNASNet05', 'w8a16', 'qnn_dlc', 0.53, 'NPU'),
    ('mobile_bert_uncased_google', 'Mobile-Bert-Uncased-Google', 'float', 'onnx', 19.921, 'NPU'),
    ('mobile_bert_uncased_google', 'Mobile-Bert-Uncased-Google', 'float', 'qnn_dlc', 20.04, 'NPU'),
    ('mobile_bert_uncased_google', 'Mobile-Bert-Uncased-Google', 'float', 'tflite', 19.366, 'NPU'),
    ('mobile_bert_uncased_google', 'Mobile-Bert-Uncased-Google', 'w8a16', 'qnn_dlc', 12.941, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'float', 'onnx', 0.523, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'float', 'qnn_dlc', 0.603, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'float', 'tflite', 0.593, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'w8a16', 'qnn_dlc', 0.572, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'w8a16_mixed_int16', 'qnn_dlc', 0.618, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'w8a8', 'qnn_dlc', 0.326, 'NPU'),
    ('mobilenet_v2', 'MobileNet-v2', 'w8a8', 'tflite', 0.289, 'NPU'),
    ('mobilenet_v3_large', 'MobileNet-v3-Large', 'float', 'onnx', 0.682, 'NPU'),
    ('mobilenet_v3_large', 'MobileNet-v3-Large', 'float', 'qnn_dlc', 0.683, 'NPU'),
    ('mobilenet_v3_large', 'MobileNet-v3-Large', 'float', 'tflite', 0.682, 'NPU'),
    ('mobilenet_v3_large', 'MobileNet-v3-Large', 'w8a16', 'onnx', 0.674, 'NPU'),
    ('mobilenet_v3_large', 'MobileNet-v3-Large', 'w8a16', 'qnn_dlc', 0.659, 'NPU'),
    ('mobilenet_v3_small', 'MobileNet-v3-Small', 'float', 'onnx', 0.515, 'NPU'),
    ('mobilenet_v3_small', 'MobileNet-v3-Small', 'float', 'qnn_dlc', 0.556, 'NPU'),
    ('mobilenet_v3_small', 'MobileNet-v3-Small', 'float', 'tflite', 0.557, 'NPU'),
    ('mobilenet_v3_small', 'MobileNet-v3-Small', 'w8a16', 'qnn_dlc', 0.544, 'NPU'),
    ('regnet', 'RegNet', 'float', 'onnx', 1.509, 'NPU'),
    ('regnet', 'RegNet', 'float', 'qnn_dlc', 1.413, 'NPU'),
    ('regnet', 'RegNet', 'float', 'tflite', 1.417, 'NPU'),
    ('regnet', 'RegNet', 'w8a8', 'onnx', 0.87, 'NPU'),
    ('regnet', 'RegNet', 'w8a8', 'qnn_dlc', 0.638, 'NPU'),
    ('regnet', 'RegNet', 'w8a8', 'tflite', 0.536, 'NPU'),
    ('resnet101', 'ResNet101', 'float', 'onnx', 2.471, 'NPU'),
    ('resnet101', 'ResNet101', 'float', 'qnn_dlc', 2.406, 'NPU'),
    ('resnet101', 'ResNet101', 'float', 'tflite', 2.399, 'NPU'),
    ('resnet101', 'ResNet101', 'w8a8', 'onnx', 1.154, 'NPU'),
    ('resnet101', 'ResNet101', 'w8a8', 'qnn_dlc', 0.986, 'NPU'),
    ('resnet101', 'ResNet101', 'w8a8', 'tflite', 0.867, 'NPU'),
    ('resnet18', 'ResNet18', 'float', 'onnx', 0.939, 'NPU'),
    ('resnet18', 'ResNet18', 'float', 'qnn_dlc', 0.929, 'NPU'),
    ('resnet18', 'ResNet18', 'float', 'tflite', 0.924, 'NPU'),
    ('resnet18', 'ResNet18', 'w8a8', 'onnx', 0.582, 'NPU'),
    ('resnet18', 'ResNet18', 'w8a8', 'qnn_dlc', 0.405, 'NPU'),
    ('resnet18', 'ResNet18', 'w8a8', 'tflite', 0.293, 'NPU'),
    ('resnet50', 'ResNet50', 'float', 'onnx', 1.724, 'NPU'),
    ('resnet50', 'ResNet50', 'float', 'qnn_dlc', 1.638, 'NPU'),
    ('resnet50', 'ResNet50', 'float', 'tflite', 1.6, 'NPU'),
    ('resnet50', 'ResNet50', 'w8a8', 'onnx', 0.864, 'NPU'),
    ('resnet50', 'ResNet50', 'w8a8', 'qnn_dlc', 0.687, 'NPU'),
    ('resnet50', 'ResNet50', 'w8a8', 'tflite', 0.576, 'NPU'),
    ('resnext50', 'ResNeXt50', 'float', 'onnx', 1.894, 'NPU'),
    ('resnext50', 'ResNeXt50', 'float', 'qnn_dlc', 1.824, 'NPU'),
    ('resnext50', 'ResNeXt50', 'float', 'tflite', 1.784, 'NPU'),
    ('resnext50', 'ResNeXt50', 'w8a8', 'onnx', 1.051, 'NPU'),
    ('resnext50', 'ResNeXt50', 'w8a8', 'qnn_dlc', 0.808, 'NPU'),
    ('resnext50', 'ResNeXt50', 'w8a8', 'tflite', 0.674, 'NPU'),
    ('shufflenet_v2', 'Shufflenet-v2', 'float', 'onnx', 0.603, 'NPU'),
    ('shufflenet_v2', 'Shufflenet-v2', 'float', 'qnn_dlc', 0.487, 'NPU'),
    ('shufflenet_v2', 'Shufflenet-v2', 'float', 'tflite', 0.494, 'NPU'),
    ('shufflenet_v2', 'Shufflenet-v2', 'w8a8', 'onnx', 0.572, 'NPU'),
    ('shufflenet_v2', 'Shufflenet-v2', 'w8a8', 'qnn_dlc', 0.336, 'NPU'),
    ('shufflenet_v2', 'Shufflenet-v2', 'w8a8', 'tflite', 0.311, 'NPU'),
    ('squeezenet1_1', 'SqueezeNet-1.1', 'float', 'onnx', 0.431, 'NPU'),
    ('squeezenet1_1', 'SqueezeNet-1.1', 'float', 'qnn_dlc', 0.446, 'NPU'),
    ('squeezenet1_1', 'SqueezeNet-1.1', 'float', 'tflite', 0.45, 'NPU'),
    ('squeezenet1_1', 'SqueezeNet-1.1', 'w8a8', 'onnx', 0.454, 'NPU'),
    ('squeezenet1_1', 'SqueezeNet-1.1', 'w8a8', 'qnn_dlc', 0.263, 'NPU'),
    ('squeezenet1_1', 'SqueezeNet-1.1', 'w8a8', 'tflite', 0.15, 'NPU'),
    ('unet_segmentation', 'Unet-Segmentation', 'float', 'onnx', 115.911, 'NPU'),
    ('unet_segmentation', 'Unet-Segmentation', 'float', 'qnn_dlc', 102.387, 'NPU'),
    ('unet_segmentation', 'Unet-Segmentation', 'float', 'tflite', 102.306, 'NPU'),
    ('unet_segmentation', 'Unet-Segmentation', 'w8a8', 'qnn_dlc', 26.4, 'NPU'),
    ('unet_segmentation', 'Unet-Segmentation', 'w8a8', 'tflite', 26.398, 'NPU'),
    ('vit', 'VIT', 'float', 'onnx', 9.059, 'NPU'),
    ('vit', 'VIT', 'float', 'qnn_dlc', 7.671, 'NPU'),
    ('vit', 'VIT', 'float', 'tflite', 5.901, 'NPU'),
    ('vit', 'VIT', 'w8a16', 'onnx', 228.999, 'NPU'),
    ('vit', 'VIT', 'w8a8', 'onnx', 226.057, 'NPU'),
    ('vit', 'VIT', 'w8a8', 'tflite', 4.707, 'NPU'),
    ('vit', 'VIT', 'w8a8_mixed_int16', 'onnx', 285.898, 'NPU'),
    ('wideresnet50', 'WideResNet50', 'float', 'onnx', 3.589, 'NPU'),
    ('wideresnet50', 'WideResNet50', 'float', 'qnn_dlc', 3.627, 'NPU'),
    ('wideresnet50', 'WideResNet50', 'float', 'tflite', 3.646, 'NPU'),
    ('wideresnet50', 'WideResNet50', 'w8a8', 'onnx', 1.529, 'NPU'),
    ('wideresnet50', 'WideResNet50', 'w8a8', 'qnn_dlc', 1.432, 'NPU'),
    ('wideresnet50', 'WideResNet50', 'w8a8', 'tflite', 1.318, 'NPU'),
    ('yolov3', 'Yolo-v3', 'float', 'onnx', 3.31, 'NPU'),
    ('yolov3', 'Yolo-v3', 'float', 'qnn_dlc', 2.785, 'NPU'),
    ('yolov3', 'Yolo-v3', 'float', 'tflite', 2.719, 'NPU'),
    ('yolov3', 'Yolo-v3', 'w8a16', 'onnx', 2.679, 'NPU'),
    ('yolov3', 'Yolo-v3', 'w8a16', 'qnn_dlc', 2.557, 'NPU'),
]
AIHUB_OTHER = [
    ('Samsung Galaxy S25', 'bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'float', 'onnx', 16.989, 'NPU'),
    ('Samsung Galaxy S25', 'bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'float', 'qnn_dlc', 12.114, 'NPU'),
    ('Samsung Galaxy S25', 'bert_base_uncased_hf', 'Bert-Base-Uncased-Hf', 'float', 'tflite', 12.391, 'NPU'),
    ('Samsung Galaxy S25', 'efficientnet_b0', 'EfficientNet-B0', 'float', 'onnx', 0.839, 'NPU'),
    ('Samsung Galaxy S25', 'efficientnet_b0', 'EfficientNet-B0', 'float', 'qnn_dlc', 0.806, 'NPU'),
    ('Samsung Galaxy S25', 'efficientnet_b0', 'EfficientNet-B0', 'float', 'tflite', 0.811, 'NPU'),
    ('Samsung Galaxy S25', 'efficientnet_b4', 'EfficientNet-B4', 'float', 'onnx', 1.933, 'NPU'),
    ('Samsung Galaxy S25', 'efficientnet_b4', 'EfficientNet-B4', 'float', 'qnn_dlc', 1.858, 'NPU'),
    ('Samsung Galaxy S25', 'efficientnet_b4', 'EfficientNet-B4', 'float', 'tflite', 1.857, 'NPU'),
    ('Samsung Galaxy S25', 'inception_v3', 'Inception-v3', 'float', 'onnx', 1.04, 'NPU'),
    ('Samsung Galaxy S25', 'inception_v3', 'Inception-v3', 'float', 'qnn_dlc', 0.849, 'NPU'),
    ('Samsung Galaxy S25', 'inception_v3', 'Inception-v3', 'float', 'tflite', 0.871, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v2', 'MobileNet-v2', 'float', 'onnx', 0.465, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v2', 'MobileNet-v2', 'float', 'qnn_dlc', 0.444, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v2', 'MobileNet-v2', 'float', 'tflite', 0.451, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v3_large', 'MobileNet-v3-Large', 'float', 'onnx', 0.528, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v3_large', 'MobileNet-v3-Large', 'float', 'qnn_dlc', 0.523, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v3_large', 'MobileNet-v3-Large', 'float', 'tflite', 0.52, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v3_small', 'MobileNet-v3-Small', 'float', 'onnx', 0.398, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v3_small', 'MobileNet-v3-Small', 'float', 'qnn_dlc', 0.405, 'NPU'),
    ('Samsung Galaxy S25', 'mobilenet_v3_small', 'MobileNet-v3-Small', 'float', 'tflite', 0.435, 'NPU'),
    ('Samsung Galaxy S25', 'resnet101', 'ResNet101', 'float', 'onnx', 2.029, 'NPU'),
    ('Samsung Galaxy S25', 'resnet101', 'ResNet101', 'float', 'qnn_dlc', 1.961, 'NPU'),
    ('Samsung Galaxy S25', 'resnet101', 'ResNet101', 'float', 'tflite', 1.95, 'NPU'),
    ('Samsung Galaxy S25', 'resnet18', 'ResNet18', 'float', 'onnx', 0.75, 'NPU'),
    ('Samsung Galaxy S25', 'resnet18', 'ResNet18', 'float', 'qnn_dlc', 0.72, 'NPU'),
    ('Samsung Galaxy S25', 'resnet18', 'ResNet18', 'float', 'tflite', 0.735, 'NPU'),
    ('Samsung Galaxy S25', 'resnet50', 'ResNet50', 'float', 'onnx', 1.387, 'NPU'),
    ('Samsung Galaxy S25', 'resnet50', 'ResNet50', 'float', 'qnn_dlc', 1.325, 'NPU'),
    ('Samsung Galaxy S25', 'resnet50', 'ResNet50', 'float', 'tflite', 1.302, 'NPU'),
    ('Samsung Galaxy S25', 'squeezenet1_1', 'SqueezeNet-1.1', 'float', 'onnx', 0.327, 'NPU'),
    ('Samsung Galaxy S25', 'squeezenet1_1', 'SqueezeNet-1.1', 'float', 'qnn_dlc', 0.326, 'NPU'),
    ('Samsung Galaxy S25', 'squeezenet1_1', 'SqueezeNet-1.1', 'float', 'tflite', 0.33, 'NPU'),
    ('Samsung Galaxy S25', 'vit', 'VIT', 'float', 'onnx', 6.352, 'NPU'),
    ('Samsung Galaxy S25', 'vit', 'VIT', 'float', 'qnn_dlc', 5.3, 'NPU'),
    ('Samsung Galaxy S25', 'vit', 'VIT', 'float', 'tflite', 3.943, 'NPU'),
]
# ---------------------------------------------------------------------------------------------
# 3. Qualcomm AI Hub Models: qai_hub_models/models/<model>/perf.yaml at commit 52c080d2 (2026-02-12).
#    inference_time_milliseconds per device, precision and target runtime, as profiled by AI Hub on
#    the physical device. The tables above were transcribed mechanically from those files.
# ---------------------------------------------------------------------------------------------
AIHUB_COMMIT = "52c080d245d2d20c634459208ff2548ce10b3c9f"
AIHUB_REF = {"mobilenet_v2": "mobilenetv2", "mobilenet_v3_large": "mobilenetv3-large",
             "mobilenet_v3_small": "mobilenetv3-small", "efficientnet_b0": "efficientnet-b0",
             "efficientnet_b4": "efficientnet-b4", "resnet18": "resnet18", "resnet50": "resnet50",
             "resnet101": "resnet101", "squeezenet1_1": "squeezenet1.1", "inception_v3": "inception-v3?res=224",
             "vit": "vit-b16", "bert_base_uncased_hf": "bert-base?seq=384"}
AIHUB_RES = {"efficientnet_b4": "380x380", "bert_base_uncased_hf": "sequence 1x384", "yolov3": "", "unet_segmentation": "224x224 (Carvana 2-class U-Net)"}
AIHUB_RT = {("tflite", "NPU"): "litert-npu", ("tflite", "GPU"): "litert-gpu", ("tflite", "CPU"): "litert-xnnpack",
            ("qnn_dlc", "NPU"): "qnn", ("onnx", "NPU"): "onnxruntime-qnn", ("onnx", "CPU"): "other"}
AIHUB_Q = {"float": "f16", "w8a8": "w8a8", "w8a16": "w8a16", "w8a16_mixed_int16": "w8a16",
           "w8a8_mixed_int16": "w8a8"}
AIHUB_RTV = {"tflite": "QAIRT 2.42 / TFLite 2.17.0", "qnn_dlc": "QAIRT 2.42", "onnx": "QAIRT 2.37.1 / ONNX Runtime 1.23.0"}


def _aihub(dev, hw, model, comp, prec, rt, ms, unit, dev_tag, same_soc=""):
    runtime = AIHUB_RT[(rt, unit)]
    note = [f"AI Hub precision '{prec}'" + (" (float models run at FP16 on the NPU)" if prec == "float" else "")]
    if "mixed_int16" in prec:
        note.append("some layers int16")
    note.append(f"AI Hub target runtime {rt}; primary compute unit {unit}")
    if model in AIHUB_RES and AIHUB_RES[model]:
        note.append(f"input {AIHUB_RES[model]}")
    if model == "inception_v3":
        note.append("AI Hub runs Inception-v3 at 224x224")
    if model == "unet_segmentation":
        note.append("padded Carvana U-Net so not the shipped unet")
    if rt == "onnx" and unit == "NPU":
        note.append("ONNX Runtime with the QNN execution provider")
    if same_soc:
        note.append(same_soc)
    lat(f"aihub-{dev_tag}-{model.replace('_', '-')}-{prec.replace('_', '-')}-{rt.replace('_', '-')}", dev, comp, ms,
        f"https://github.com/quic/ai-hub-models/blob/{AIHUB_COMMIT}/qai_hub_models/models/{model}/perf.yaml",
        hw=hw, model_ref=AIHUB_REF.get(model, ""), quant=AIHUB_Q[prec], runtime=runtime,
        runtime_version=AIHUB_RTV[rt], unit_kind=unit.lower(), note="; ".join(note))


for model, comp, prec, rt, ms, unit in AIHUB_S24:
    _aihub("Samsung Galaxy S24 (Snapdragon 8 Gen 3)", "galaxy-s24", model, comp, prec, rt, ms, unit, "s24")
for dev, model, comp, prec, rt, ms, unit in AIHUB_OTHER:
    _aihub(dev + " (Snapdragon 8 Elite)", "", model, comp, prec, rt, ms, unit, "s25")

# Older versions of the same AI Hub numbers, as published on the Hugging Face model cards (values differ
# from the perf.yaml above because they come from earlier AI Hub profiling runs; both are kept).
HF = "https://huggingface.co/qualcomm/"
for tag, card, comp, ref, q, rt, ms, src, when in [
    ("resnet50-0c67fe0-tflite", "ResNet50", "ResNet50", "resnet50", "f16", "litert-npu", 1.621, "ResNet50/commit/0c67fe042f6fd492be287de804f42afd449e43bd", "value on the line removed by this commit"),
    ("resnet50-0c67fe0-qnn", "ResNet50", "ResNet50", "resnet50", "f16", "qnn", 1.694, "ResNet50/commit/0c67fe042f6fd492be287de804f42afd449e43bd", "value on the line removed by this commit"),
    ("resnet50-0c67fe0-onnx", "ResNet50", "ResNet50", "resnet50", "f16", "onnxruntime-qnn", 1.738, "ResNet50/commit/0c67fe042f6fd492be287de804f42afd449e43bd", "value on the line removed by this commit"),
    ("resnet50-b2d6d9e-tflite", "ResNet50", "ResNet50", "resnet50", "f16", "litert-npu", 1.614, "ResNet50/commit/b2d6d9eccf5cff876317623d3d6b0318daa0ce92", "value on the line removed by this commit"),
    ("resnet50-b2d6d9e-qnn", "ResNet50", "ResNet50", "resnet50", "f16", "qnn", 1.687, "ResNet50/commit/b2d6d9eccf5cff876317623d3d6b0318daa0ce92", "value on the line removed by this commit"),
    ("resnet50-bd44eaf-tflite", "ResNet50", "ResNet50", "resnet50", "f16", "litert-npu", 1.785, "ResNet50/commit/bd44eaf688afc2d0293f8f7b7e54a38f34aa8441", "value on the line removed by this commit"),
    ("resnet50-bd44eaf-qnn", "ResNet50", "ResNet50", "resnet50", "f16", "qnn", 2.356, "ResNet50/commit/bd44eaf688afc2d0293f8f7b7e54a38f34aa8441", "value on the line removed by this commit"),
    ("effb0-card-tflite", "EfficientNet-B0", "EfficientNet-B0", "efficientnet-b0", "f16", "litert-npu", 1.041, "EfficientNet-B0", "model card page as stored"),
    ("effb0-card-qnn", "EfficientNet-B0", "EfficientNet-B0", "efficientnet-b0", "f16", "qnn", 1.02, "EfficientNet-B0", "model card page as stored"),
    ("effb0-f60294e-tflite", "EfficientNet-B0", "EfficientNet-B0", "efficientnet-b0", "f16", "litert-npu", 1.128, "EfficientNet-B0/commit/f60294efa503f34cb0424780cd0e3785c582a8ef", "value on the line removed by this commit"),
    ("mnv3l-card-tflite", "MobileNet-v3-Large", "MobileNet-v3-Large", "mobilenetv3-large", "f16", "litert-npu", 0.653, "MobileNet-v3-Large", "model card page as stored"),
    ("mnv3l-card-qnn", "MobileNet-v3-Large", "MobileNet-v3-Large", "mobilenetv3-large", "f16", "qnn", 0.65, "MobileNet-v3-Large", "model card page as stored"),
    ("mnv3l-quant-card-tflite", "MobileNet-v3-Large-Quantized", "MobileNet-v3-Large-Quantized", "mobilenetv3-large", "int8", "litert-npu", 0.249, "MobileNet-v3-Large-Quantized", "model card page as stored; INT8 precision"),
    ("mnv3s-47dfa7e-tflite", "MobileNet-v3-Small", "MobileNet-v3-Small", "mobilenetv3-small", "f16", "litert-npu", 0.536, "MobileNet-v3-Small/commit/47dfa7e0a0de7f239ddcd71bbbaa31dafae35224", "value on the line removed by this commit"),
    ("mnv3s-47dfa7e-qnn", "MobileNet-v3-Small", "MobileNet-v3-Small", "mobilenetv3-small", "f16", "qnn", 0.574, "MobileNet-v3-Small/commit/47dfa7e0a0de7f239ddcd71bbbaa31dafae35224", "value on the line removed by this commit"),
]:
    lat(f"hfcard-s24-{tag}", "Samsung Galaxy S24 (Snapdragon 8 Gen 3)", comp, ms, HF + src, hw="galaxy-s24",
        model_ref=ref, quant=q, runtime=rt, unit_kind="npu",
        note=f"Qualcomm AI Hub model card on Hugging Face ({when}); primary compute unit NPU; earlier AI Hub run than the perf.yaml rows")

# AI Hub LLM (Genie / QNN context binary) on Galaxy S24: Llama-v2-7B-Chat w4a16, context 1024.
AIHUB_LLM = f"https://github.com/quic/ai-hub-models/blob/{AIHUB_COMMIT}/qai_hub_models/models/llama_v2_7b_chat/perf.yaml"
tg("aihub-s24-llama2-7b-chat-w4a16-decode", "Samsung Galaxy S24 (Snapdragon 8 Gen 3)", "Llama-v2-7B-Chat", 12.85,
   AIHUB_LLM, hw="galaxy-s24", model_ref="llama-2-7b", quant="w4a16", runtime="qnn", unit_kind="npu", context=1024,
   note="AI Hub qnn_context_binary runtime; tokens_per_second at context_length 1024")
add("aihub-s24-llama2-7b-chat-w4a16-ttft", "Samsung Galaxy S24 (Snapdragon 8 Gen 3)", "Llama-v2-7B-Chat",
    "time_to_first_token_ms", 1495.83, "ms", AIHUB_LLM, hw="galaxy-s24", model_ref="llama-2-7b", quant="w4a16",
    runtime="qnn", unit_kind="npu", context=1024, include="no",
    note="time to first token (min=max) at context_length 1024; prompt length not stated so it cannot be turned into a prefill rate")
for dev, tag, v, ttft in (("Snapdragon X Elite CRD", "xelite", 11.2, 1919.0), ("Snapdragon 8 Elite QRD", "8elite", 17.94, 1440.0)):
    tg(f"aihub-{tag}-llama2-7b-chat-w4a16-decode", dev, "Llama-v2-7B-Chat", v, AIHUB_LLM, model_ref="llama-2-7b",
       quant="w4a16", runtime="qnn", unit_kind="npu", context=1024,
       note="AI Hub qnn_context_binary runtime; tokens_per_second at context_length 1024")

AIHUB_GENIE = [
    ('llama_v3_2_1b_instruct', 'w4', 'Snapdragon 8 Elite Gen 5 QRD', 'genie', 4096, 36.89705, 53.757, 1720.243),
    ('llama_v3_2_1b_instruct', 'w4', 'Snapdragon 8 Elite QRD', 'genie', 4096, 33.73819, 81.244, 2599.808),
    ('llama_v3_2_1b_instruct', 'w4', 'SA8295P ADP', 'genie', 4096, 11.0, 225.0, 7200.0),
    ('llama_v3_2_1b_instruct', 'w4a16', 'Snapdragon 8 Elite Gen 5 QRD', 'genie', 4096, 64.04112, 30.937, 990.003),
    ('llama_v3_2_1b_instruct', 'w4a16', 'Snapdragon 8 Elite QRD', 'genie', 4096, 53.6399, 37.0651, 1186.0832),
    ('llama_v3_2_3b_instruct', 'w4a16', 'Snapdragon 8 Elite Gen 5 QRD', 'genie', 4096, 29.48402, 58.016, 1856.531),
    ('llama_v3_2_3b_instruct', 'w4a16', 'Snapdragon 8 Elite QRD', 'genie', 4096, 23.4718, 88.195, 2822.25),
    ('llama_v3_2_3b_instruct', 'w4a16', 'Snapdragon X Elite CRD', 'genie', 4096, 18.4176, 125.936, 4029.952),
    ('llama_v3_2_3b_instruct', 'w4', 'Snapdragon 8 Elite Gen 5 QRD', 'genie', 4096, 18.00883, 131.546, 4209.475),
    ('llama_v3_2_3b_instruct', 'w4', 'Snapdragon 8 Elite QRD', 'genie', 4096, 13.83, 88.195, 2822.25),
    ('llama_v3_2_3b_instruct', 'w4', 'SA8295P ADP', 'genie', 1024, 3.523, 373.117, 2984.936),
    ('llama_v3_8b_instruct', 'w4a16', 'Snapdragon 8 Elite Gen 5 QRD', 'genie', 4096, 15.30721, 102.882, 3292.227),
    ('llama_v3_8b_instruct', 'w4a16', 'Snapdragon 8 Elite QRD', 'genie', 4096, 12.9262, 159.383, 5100.256),
    ('llama_v3_8b_instruct', 'w4a16', 'Snapdragon X Elite CRD', 'genie', 4096, 10.0367, 211.644, 6772.608),
    ('phi_3_5_mini_instruct', 'w4a16', 'Samsung Galaxy S24', 'qnn_context_binary', 4096, 13.01, 146.9056, 4700.9792),
    ('phi_3_5_mini_instruct', 'w4a16', 'Snapdragon X Elite CRD', 'qnn_context_binary', 4096, 6.2, 185.833, 5946.656),
    ('phi_3_5_mini_instruct', 'w4a16', 'Snapdragon 8 Elite QRD', 'qnn_context_binary', 4096, 14.73, 119.5948, 3827.0336),
]
AIHUB_LLM_REF = {"llama_v3_2_1b_instruct": ("llama-1b", "Llama-v3.2-1B-Instruct"),
                 "llama_v3_2_3b_instruct": ("llama-3b", "Llama-v3.2-3B-Instruct"),
                 "llama_v3_8b_instruct": ("llama-3-8b", "Llama-v3-8B-Instruct"),
                 "phi_3_5_mini_instruct": ("", "Phi-3.5-Mini-Instruct")}
for m, prec, dev, rt, ctx, tps, tmin, tmax in AIHUB_GENIE:
    ref, name = AIHUB_LLM_REF[m]
    hw = "galaxy-s24" if dev == "Samsung Galaxy S24" else ""
    dtag = {"Samsung Galaxy S24": "s24", "Snapdragon 8 Elite QRD": "8elite", "Snapdragon 8 Elite Gen 5 QRD": "8elitegen5",
            "Snapdragon X Elite CRD": "xelite", "SA8295P ADP": "sa8295p"}[dev]
    src = f"https://github.com/quic/ai-hub-models/blob/{AIHUB_COMMIT}/qai_hub_models/models/{m}/perf.yaml"
    extra = "; Phi-3.5-mini shares the Phi-3-mini architecture but is a different checkpoint so model_ref empty" if m.startswith("phi") else ""
    common = dict(hw=hw, model_ref=ref, quant=prec, runtime="qnn", runtime_version=rt, unit_kind="npu", context=ctx)
    tg(f"aihub-{dtag}-{m.replace('_', '-')}-{prec}-decode", dev, name, round(tps, 4) if isinstance(tps, float) else tps, src,
       note=f"AI Hub {rt} runtime (Qualcomm Genie / QNN on the Hexagon NPU); response rate after the first token; max context {ctx}; w4 means 4-bit weights with fp16 activations{extra}", **common)
    for bound, v, p in (("min", tmin, 128), ("max", tmax, ctx)):
        add(f"aihub-{dtag}-{m.replace('_', '-')}-{prec}-ttft-{bound}", dev, name, "time_to_first_token_ms", v, "ms", src,
            prompt=p, include="no",
            note=f"time to first token {bound} of the published range; info.yaml says the lower bound is a prompt of up to 128 tokens and the upper bound a prompt filling the {ctx}-token context; not stored as a prefill rate because the value would be derived{extra}",
            **common)


# ---------------------------------------------------------------------------------------------
# 4. Jeff Geerling's ai-benchmarks (README at commit bdf94413, 2025-12-18) and benchmark issues.
#    README tables are Ollama "eval rate" (decode) figures; issues hold llama-bench tables.
# ---------------------------------------------------------------------------------------------
GGR = "https://github.com/geerlingguy/ai-benchmarks/blob/bdf94413f5f273c985c164ac0abfafa312c4390f/README.md"
OLL = "measured with Ollama (obench.sh eval rate) which runs llama.cpp underneath; Ollama default quantization for the tag (not stated in the table)"
# (id tag, device, hw, ollama tag, model_ref, runtime, unit, value, extra note, source)
for tag, dev, hw, model, ref, rt, uk, v, extra, src in [
    ("pi5-8gb-llama32-3b", "Raspberry Pi 5 8GB", "rpi5", "llama3.2:3b", "llama-3b", "llama.cpp-cpu", "cpu", 4.61, "peak power 13.9 W", GGR + " (table Llama 3.2:3b; details in issue #1)"),
    ("pi5-16gb-llama32-3b", "Raspberry Pi 5 16GB", "", "llama3.2:3b", "llama-3b", "llama.cpp-cpu", "cpu", 4.88, "16 GB D0-stepping board (hw rpi5 is the 8 GB board); peak power 11.9 W", GGR + " (table Llama 3.2:3b)"),
    ("pi500plus-16gb-llama32-3b", "Raspberry Pi 500+ 16GB", "", "llama3.2:3b", "llama-3b", "llama.cpp-cpu", "cpu", 5.55, "peak power 13 W", GGR + " (table Llama 3.2:3b)"),
    ("pi5-16gb-deepseek-r1-14b", "Raspberry Pi 5 16GB", "", "DeepSeek R1 14b", "", "llama.cpp-cpu", "cpu", 1.20, "peak power 13.0 W", GGR + " (table DeepSeek R1 14b)"),
    ("m4-macmini-10c-llama32-3b", "Apple M4 Mac mini (10 core 32GB)", "", "llama3.2:3b", "llama-3b", "llama.cpp-metal", "gpu", 41.31, "GPU; peak power 30.1 W", GGR + " (table Llama 3.2:3b; issue #2)"),
    ("m3ultra-512gb-llama32-3b", "Mac Studio (M3 Ultra 512GB)", "", "llama3.2:3b", "llama-3b", "llama.cpp-metal", "gpu", 154.60, "GPU; peak power 223 W", GGR + " (table Llama 3.2:3b; issue #42)"),
    ("m1ultra48-llama32-3b", "Apple M1 Ultra (48 GPU core) 64GB", "", "llama3.2:3b", "llama-3b", "llama.cpp-metal", "gpu", 108.67, "GPU", GGR + " (table Llama 3.2:3b; PR #11)"),
    ("m1max-studio-llama32-3b", "M1 Max Mac Studio (10 core 64GB)", "", "llama3.2:3b", "llama-3b", "llama.cpp-metal", "gpu", 59.38, "GPU", GGR + " (table Llama 3.2:3b)"),
    ("m1max-studio-llama31-70b", "M1 Max Mac Studio (10 core 64GB)", "", "Llama 3.1:70b", "", "llama.cpp-metal", "gpu", 7.25, "GPU", GGR + " (table Llama 3.1:70b)"),
    ("m3ultra-512gb-llama31-70b", "Mac Studio (M3 Ultra 512GB)", "", "Llama 3.1:70b", "", "llama.cpp-metal", "gpu", 14.08, "GPU; peak power 243 W", GGR + " (table Llama 3.1:70b)"),
    ("13900k-rtx5090-llama32-3b", "Intel 13900K host with Nvidia RTX 5090", "", "llama3.2:3b", "llama-3b", "llama.cpp-cuda", "gpu", 271.40, "runs on the RTX 5090 GPU so hw is not desktop-x86", GGR + " (table Llama 3.2:3b; PR #18)"),
    ("13900k-rtx4090-llama32-3b", "Intel 13900K host with Nvidia RTX 4090", "", "llama3.2:3b", "llama-3b", "llama.cpp-cuda", "gpu", 216.48, "runs on the RTX 4090 GPU so hw is not desktop-x86", GGR + " (table Llama 3.2:3b; PR #11)"),
    ("265k-rtx4090-llama32-3b", "Intel 265K Custom PC (Nvidia RTX 4090)", "", "llama3.2:3b", "llama-3b", "llama.cpp-cuda", "gpu", 334.67, "peak power 261.9 W", GGR + " (table Llama 3.2:3b; issue #43)"),
    ("dgx-spark-gb10-llama32-3b", "Dell Pro Max with GB10 (Nvidia Spark)", "", "llama3.2:3b", "llama-3b", "llama.cpp-cuda", "gpu", 97.93, "peak power 128.5 W", GGR + " (table Llama 3.2:3b; issue #34)"),
    ("n150-llama32-3b", "GMKtec G3 Plus (Intel N150) 16GB", "", "llama3.2:3b", "llama-3b", "llama.cpp-cpu", "cpu", 9.06, "peak power 26.4 W", GGR + " (table Llama 3.2:3b; issue #12)"),
    ("ryzen-ai5-340-llama32-3b", "Framework 13 (Ryzen AI 5 340)", "", "llama3.2:3b", "llama-3b", "llama.cpp-cpu", "cpu", 23.81, "peak power 51.1 W", GGR + " (table Llama 3.2:3b; issue #33)"),
]:
    tg(f"gg-ollama-{tag}", dev, model, v, src, hw=hw, model_ref=ref, runtime=rt, unit_kind=uk,
       note=f"{OLL}; {extra}" + ("; CUDA backend assumed from the NVIDIA GPU" if rt == "llama.cpp-cuda" else "") + ("; Metal backend of Ollama on macOS" if rt == "llama.cpp-metal" else ""))

GG7 = "https://github.com/geerlingguy/ai-benchmarks/issues/7"
for cfg, vals in (("sdram-tweak-fw6jan", (4.59, 1.87, 1.20)), ("sdram-tweak-fw8jan", (4.88, 2.17, 1.36)), ("no-tweak", (4.51, 2.05, 1.35))):
    for (m, ref), v in zip((("llama3.2:3b", "llama-3b"), ("llama3.1:8b", ""), ("llama2:13b", "")), vals):
        tg(f"gg7-pi5-16gb-{cfg}-{m.replace(':', '-').replace('.', '')}", "Raspberry Pi 5 16GB (D0 stepping)", m, v, GG7,
           model_ref=ref, runtime="llama.cpp-cpu", unit_kind="cpu",
           note=f"{OLL}; configuration {cfg} (NUMA/SDRAM firmware settings as named in the issue); 16 GB board so hw left empty")

# llama-bench tables (llama.cpp CPU / Vulkan) in benchmark issues
for iss, dev, th, build, rt, uk, rows in [
    (54, "Radxa Dragon Q8B", 8, "", "llama.cpp-cpu", "cpu", [("tinyllama", "TinyLlama-1.1B (tinyllama-1.1b-1t-openorca Q4_K_M)", "tinyllama-1.1b", 194.49, 132.65, 38.81), ("llama32-3b", "Llama-3.2-3B-Instruct Q4_K_M", "llama-3b", 72.31, 56.83, None)]),
    (51, "MetaComputing Framework 13 Mainboard (Cix CP8180)", 12, "9c699074c (8664)", "llama.cpp-cpu", "cpu", [("tinyllama", "TinyLlama-1.1B (tinyllama-1.1b-1t-openorca Q4_K_M)", "tinyllama-1.1b", 194.05, 115.50, 40.39), ("llama32-3b", "Llama-3.2-3B-Instruct Q4_K_M", "llama-3b", 81.27, None, None)]),
    (53, "2014 MacBook Pro (Intel Core i5 4278U 8GB DDR3L-1600)", 2, "936918514 (10334)", "llama.cpp-cpu", "cpu", [("llama32-3b", "Llama-3.2-3B-Instruct Q4_K_M", "llama-3b", 17.70, 14.06, 7.68)]),
    (20, "AMD Radeon RX 580 on SiFive HiFive Premier P550", None, "e598697d (4696)", "llama.cpp-vulkan", "gpu", [("llama32-3b", "Llama-3.2-3B-Instruct Q4_K_M", "llama-3b", 346.76, 255.79, 36.23)]),
]:
    src = f"https://github.com/geerlingguy/ai-benchmarks/issues/{iss}"
    dtag = {54: "radxa-dragon-q8b", 51: "cix-cp8180", 53: "i5-4278u", 20: "rx580-p550"}[iss]
    for mtag, name, ref, p512, p4096, t128 in rows:
        common = dict(model_ref=ref, quant="q4_k_m", runtime=rt, runtime_version=build, unit_kind=uk, threads=th or "")
        nt = "llama-bench" + ("; all layers offloaded (-ngl 99)" if uk == "gpu" else "") + ("; tg128 has a large spread (plus or minus 17.62)" if iss == 20 else "")
        pp(f"gg{iss}-{dtag}-{mtag}-q4km-pp512", dev, name, p512, src, 512, note=nt, **common)
        if p4096 is not None:
            pp(f"gg{iss}-{dtag}-{mtag}-q4km-pp4096", dev, name, p4096, src, 4096, note=nt, **common)
        if t128 is not None:
            tg(f"gg{iss}-{dtag}-{mtag}-q4km-tg128", dev, name, t128, src, 128, note=nt, **common)
SBC107 = "https://github.com/geerlingguy/sbc-reviews/issues/107"
_fw12 = dict(model_ref="llama-3b", quant="q4_k_m", runtime="llama.cpp-cpu", unit_kind="cpu", threads=2)
pp("sbc107-i3-1315u-llama32-3b-q4km-pp512", "Framework 12 (Intel i3-1315U)", "Llama 3.2 3B Q4_K_M", 28.67, SBC107, 512, note="llama-bench", **_fw12)
pp("sbc107-i3-1315u-llama32-3b-q4km-pp4096", "Framework 12 (Intel i3-1315U)", "Llama 3.2 3B Q4_K_M", 23.91, SBC107, 4096, note="llama-bench", **_fw12)
tg("sbc107-i3-1315u-llama32-3b-q4km-tg128", "Framework 12 (Intel i3-1315U)", "Llama 3.2 3B Q4_K_M", 11.05, SBC107, 128, note="llama-bench", **_fw12)
GG47 = "https://github.com/geerlingguy/ai-benchmarks/issues/47"
_q30 = dict(quant="q3_k_s", runtime="llama.cpp-cpu", runtime_version="ccbc84a53 (7651)", unit_kind="cpu", threads=4)
for p, v in ((512, 10.91), (4096, 8.62)):
    pp(f"gg47-pi5-16gb-qwen3-30b-a3b-pp{p}", "Raspberry Pi 5 16GB", "Qwen3-30B-A3B-Instruct-2507 Q3_K_S 2.70bpw (byteshape)", v, GG47, p,
       note="llama-bench; 16 GB board so hw left empty; MoE with 3B active parameters", **_q30)
tg("gg47-pi5-16gb-qwen3-30b-a3b-tg128", "Raspberry Pi 5 16GB", "Qwen3-30B-A3B-Instruct-2507 Q3_K_S 2.70bpw (byteshape)", 7.99, GG47, 128,
   note="llama-bench; 16 GB board so hw left empty; MoE with 3B active parameters", **_q30)


# ---------------------------------------------------------------------------------------------
# 5. NVIDIA Jetson: Jetson AI Lab benchmarks page (Orin Nano Super table, MLC INT4), the
#    jetson-containers issue quoting the AGX Orin figures, and the Holoscan/IGX thread.
# ---------------------------------------------------------------------------------------------
JAL = "https://github.com/NVIDIA-AI-IOT/jetson-generative-ai-playground/blob/0311bad13300cc98653316eb1916dd7b0b928eb4/docs/benchmarks.md (Jetson AI Lab Benchmarks, Jetson Orin Nano Super LLM/SLM table)"
for tag, name, ref, orig, sup in [
    ("llama31-8b", "Llama 3.1 8B", "", 14, 19.14),
    ("llama32-3b", "Llama 3.2 3B", "llama-3b", 27.7, 43.07),
    ("qwen25-7b", "Qwen2.5 7B", "", 14.2, 21.75),
    ("gemma2-2b", "Gemma 2 2B", "", 21.5, 34.97),
    ("gemma2-9b", "Gemma 2 9B", "", 7.2, 9.21),
    ("phi35-3b", "Phi 3.5 3B", "", 24.7, 38.1),
    ("smollm2", "SmolLM2", "", 41, 64.5),
]:
    common = dict(model_ref=ref, quant="int4", runtime="mlc-llm", unit_kind="gpu")
    extra = "; Gemma 2 is not the shipped gemma-2b (Gemma 1)" if tag == "gemma2-2b" else ""
    tg(f"jal-orin-nano-super-{tag}-mlc-int4-decode", "Jetson Orin Nano Super Developer Kit (8GB)", name, sup, JAL,
       hw="jetson-orin-nano", note="MLC with INT4 quantization (jetson-containers mlc benchmark script); generation rate in tokens/s" + extra, **common)
    tg(f"jal-orin-nano-orig-{tag}-mlc-int4-decode", "Jetson Orin Nano Developer Kit (8GB original clocks)", name, orig, JAL,
       note="the page compares the original Jetson Orin Nano with the Super developer kit; hw jetson-orin-nano describes Super mode so left empty; MLC INT4" + extra, **common)

JC532 = "https://github.com/dusty-nv/jetson-containers/issues/532"
tg("jc532-agx-orin-64gb-llama2-7b-mlc-published", "Jetson AGX Orin 64GB (MAX-N)", "Llama2-7b", 47, JC532, hw="jetson-agx-orin",
   model_ref="llama-2-7b", quant="int4", runtime="mlc-llm", unit_kind="gpu",
   note="figure of the Jetson AI Lab benchmarks page as quoted in the issue; the maintainer states it was AGX Orin 64GB in MAX-N; MLC 4-bit (exact MLC quant code not stated)")
tg("jc532-agx-orin-64gb-gemma-mlc-published", "Jetson AGX Orin 64GB (MAX-N)", "Gemma", 75, JC532, hw="jetson-agx-orin",
   quant="int4", runtime="mlc-llm", unit_kind="gpu",
   note="figure of the Jetson AI Lab benchmarks page as quoted in the issue; Gemma size not stated in the quote so model_ref left empty")
tg("jc532-agx-orin-32gb-llama2-7b-mlc-user", "Jetson AGX Orin 32GB", "Llama2-7b", 19, JC532, model_ref="llama-2-7b",
   quant="int4", runtime="mlc-llm", unit_kind="gpu",
   note="user reproduction (approximately 19) on the 32 GB module; the maintainer points to MAX-N power mode as the likely difference; not the 64 GB hw")
tg("jc532-agx-orin-32gb-gemma-mlc-user", "Jetson AGX Orin 32GB", "Gemma", 23, JC532, quant="int4", runtime="mlc-llm",
   unit_kind="gpu", note="user reproduction (approximately 23) on the 32 GB module; Gemma size not stated")

HH170 = "https://github.com/nvidia-holoscan/holohub/issues/170"
HH_AMP = "; the Ampere A6000 is the RTX A6000 (hw rtx-a6000)"
HH_ADA = "; the 'A6000 (Ada)' is the RTX 6000 Ada Generation (hw rtx-6000-ada), NVIDIA's Ada successor of the RTX A6000"
for tag, size, ref, igx, amp_l, ada_l, amp_t, ada_t in [
    ("llama2-7b", "7B 4-bit", "llama-2-7b", 22.5, 102.8, 114.1, 137.56, 186.583),
    ("llama2-13b", "13B 4-bit", "", 13.3, 63.5, 66.3, 77.5, 105.275),
    ("llama2-70b", "70B 4-bit", "", 3.0, 14.0, 16.73, None, None),
]:
    name = f"Llama2 {size}"
    base = "prompt 'Once upon a time'; 4-bit; generation rate in tokens/s"
    tg(f"hh170-igx-orin-igpu-{tag}-llamacpp", "NVIDIA IGX Orin iGPU", name, igx, HH170, model_ref=ref, quant="w4",
       runtime="llama.cpp-cuda", unit_kind="gpu",
       note=base + "; the poster says IGX iGPU numbers are identical to AGX Orin but the board is IGX so hw left empty")
    tg(f"hh170-a6000-ampere-{tag}-llamacpp", "NVIDIA A6000 (Ampere)", name, amp_l, HH170, hw="rtx-a6000", model_ref=ref,
       quant="w4", runtime="llama.cpp-cuda", unit_kind="gpu", note=base + HH_AMP)
    tg(f"hh170-a6000-ada-{tag}-llamacpp", "NVIDIA A6000 (Ada)", name, ada_l, HH170, hw="rtx-6000-ada", model_ref=ref,
       quant="w4", runtime="llama.cpp-cuda", unit_kind="gpu", note=base + HH_ADA)
    if amp_t is not None:
        tg(f"hh170-a6000-ampere-{tag}-trtllm", "NVIDIA A6000 (Ampere)", name, amp_t, HH170, hw="rtx-a6000", model_ref=ref,
           quant="w4", runtime="tensorrt-llm", unit_kind="gpu", note=base + HH_AMP)
        tg(f"hh170-a6000-ada-{tag}-trtllm", "NVIDIA A6000 (Ada)", name, ada_t, HH170, hw="rtx-6000-ada", model_ref=ref,
           quant="w4", runtime="tensorrt-llm", unit_kind="gpu", note=base + HH_ADA)


# ---------------------------------------------------------------------------------------------
# 6. XiongjieDai/GPU-Benchmarks-on-LLM-Inference README (commit aa72e0ec, 2024-05-12): llama.cpp,
#    LLaMA 3 8B and 70B, average decode speed over 1024 generated tokens and prompt-eval speed
#    for a 1024-token prompt. Single-device rows only (multi-GPU rows left out).
# ---------------------------------------------------------------------------------------------
XD = "https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference/blob/aa72e0ec86c356c41f8281c9733e9a13c3675800/README.md"
# device, tag, hw, runtime, (tg 8B q4km, tg 8B f16, tg 70B q4km, tg 70B f16), (pp same order)
XD_ROWS = [
    ("RTX 3070 8GB", "3070", "", "llama.cpp-cuda", (70.94, None, None, None), (2283.62, None, None, None)),
    ("RTX 3080 10GB", "3080", "", "llama.cpp-cuda", (106.40, None, None, None), (3557.02, None, None, None)),
    ("RTX 3080 Ti 12GB", "3080ti", "", "llama.cpp-cuda", (106.71, None, None, None), (3556.67, None, None, None)),
    ("RTX 4070 Ti 12GB", "4070ti", "", "llama.cpp-cuda", (82.21, None, None, None), (3653.07, None, None, None)),
    ("RTX 4080 16GB", "4080", "rtx-4080", "llama.cpp-cuda", (106.22, 40.29, None, None), (5064.99, 6758.90, None, None)),
    ("RTX 4000 Ada 20GB", "rtx4000ada", "rtx-4000-ada", "llama.cpp-cuda", (58.59, 20.85, None, None), (2310.53, 2951.87, None, None)),
    ("RTX 3090 24GB", "3090", "rtx-3090", "llama.cpp-cuda", (111.74, 46.51, None, None), (3865.39, 4239.64, None, None)),
    ("RTX 4090 24GB", "4090", "rtx-4090", "llama.cpp-cuda", (127.74, 54.34, None, None), (6898.71, 9056.26, None, None)),
    ("RTX 5000 Ada 32GB", "rtx5000ada", "rtx-5000-ada", "llama.cpp-cuda", (89.87, 32.67, None, None), (4467.46, 5835.41, None, None)),
    ("RTX A6000 48GB", "a6000", "rtx-a6000", "llama.cpp-cuda", (102.22, 40.25, 14.58, None), (3621.81, 4315.18, 466.82, None)),
    ("RTX 6000 Ada 48GB", "rtx6000ada", "rtx-6000-ada", "llama.cpp-cuda", (130.99, 51.97, 18.36, None), (5560.94, 6205.44, 547.03, None)),
    ("A40 48GB", "a40", "a40", "llama.cpp-cuda", (88.95, 33.95, 12.08, None), (3240.95, 4043.05, 239.92, None)),
    ("L40S 48GB", "l40s", "l40s", "llama.cpp-cuda", (113.60, 43.42, 15.31, None), (5908.52, 2491.65, 649.08, None)),
    ("A100 PCIe 80GB", "a100pcie", "a100-pcie-80gb", "llama.cpp-cuda", (138.31, 54.56, 22.11, None), (5800.48, 7504.24, 726.65, None)),
    ("A100 SXM 80GB", "a100sxm", "a100-80gb", "llama.cpp-cuda", (133.38, 53.18, 24.33, None), (5863.92, 681.47, 796.81, None)),
    ("H100 PCIe 80GB", "h100pcie", "h100-pcie", "llama.cpp-cuda", (144.49, 67.79, 25.01, None), (7760.16, 10342.63, 984.06, None)),
    ("Apple M1 7-Core GPU 8GB", "m1-7c", "", "llama.cpp-metal", (9.72, None, None, None), (87.26, None, None, None)),
    ("Apple M1 Max 32-Core GPU 64GB", "m1max32", "m1-max", "llama.cpp-metal", (34.49, 18.43, 4.09, None), (355.45, 418.77, 33.01, None)),
    ("Apple M2 Ultra 76-Core GPU 192GB", "m2ultra76", "m2-ultra", "llama.cpp-metal", (76.28, 36.25, 12.13, 4.71), (1023.89, 1202.74, 117.76, 145.82)),
    ("Apple M3 Max 40-Core GPU 64GB", "m3max40", "m3-max", "llama.cpp-metal", (50.74, 22.39, 7.53, None), (678.04, 751.49, 62.88, None)),
]
XD_MODELS = [("llama3-8b", "LLaMA 3 8B", "llama-3-8b", "q4_k_m"), ("llama3-8b", "LLaMA 3 8B", "llama-3-8b", "f16"),
             ("llama3-70b", "LLaMA 3 70B", "", "q4_k_m"), ("llama3-70b", "LLaMA 3 70B", "", "f16")]
for dev, dtag, hw, rt, tgs, pps in XD_ROWS:
    for (mtag, name, ref, q), t, p in zip(XD_MODELS, tgs, pps):
        extra = ""
        if t is not None:
            tg(f"xd-{dtag}-{mtag}-{q}-tg1024", dev, f"{name} {q.upper()}", t, XD + " (table: average speed generating 1024 tokens)", 1024,
               hw=hw, model_ref=ref, quant=q, runtime=rt, unit_kind="gpu",
               note="llama.cpp main with all layers offloaded (-ngl 10000); average over 1024 generated tokens; RunPod cloud GPUs or the author's Macs" + extra)
        if p is not None:
            odd = "; the F16 prompt rate is far below the Q4_K_M one on this GPU in the source (kept as published)" if (dtag in ("a100sxm", "l40s") and q == "f16") else ""
            # A broken measurement: the A100 SXM's F16 prompt rate is 11x below the same table's A100 PCIe
            # (7504 t/s) and 8.6x below its own Q4_K_M rate, where an F16 GEMM runs at least as fast.
            broken = dtag == "a100sxm" and q == "f16"
            pp(f"xd-{dtag}-{mtag}-{q}-pp1024", dev, f"{name} {q.upper()}", p, XD + " (table: average 1024-token prompt eval speed)", 1024,
               hw=hw, model_ref=ref, quant=q, runtime=rt, unit_kind="gpu", include="no" if broken else "yes",
               note="llama.cpp prompt evaluation of a 1024-token prompt with all layers offloaded" + extra + odd
               + ("; excluded as a broken measurement: 681 t/s is 11x below the A100 PCIe's 7504 t/s in the same table and 8.6x below this GPU's own Q4_K_M rate (5864 t/s), where F16 prompt processing is faster than Q4_K_M on every other GPU of the table" if broken else ""))


# ---------------------------------------------------------------------------------------------
# 7. TensorRT-LLM performance overview (docs/source/performance/perf-overview.md at commit
#    00f37686): Llama 3.1 8B FP8, TP1, total output throughput under maximum load (infinite
#    request rate, trtllm-bench throughput, PyTorch backend). Saturated large-batch serving, so
#    these rows are kept with include=no.
# ---------------------------------------------------------------------------------------------
TRTP = "https://github.com/NVIDIA/TensorRT-LLM/blob/00f37686aa854010d68bcbd0f4ab000221541ca6/docs/source/performance/perf-overview.md (Llama 3.1 8B table)"
for isl, osl, h200, h100 in [(128, 128, 27911, 28312), (128, 2048, 26221, 22714), (128, 4096, 18027, 14325),
                             (500, 2000, 20770, 17660), (1000, 1000, 17744, 15220), (1000, 2000, 16828, 13899),
                             (2048, 128, 3538, 3450), (2048, 2048, 12194, 9305), (5000, 500, 3902, 3459),
                             (20000, 2000, 1804, 1351)]:
    for dev, hw, v in (("H200 SXM 141GB (DGX H200)", "h200", h200), ("H100 SXM 80GB (DGX H100)", "h100-sxm", h100)):
        add(f"trtllm-perf-{hw}-llama31-8b-fp8-tp1-isl{isl}-osl{osl}", dev, "nvidia/Llama-3.1-8B-Instruct-FP8",
            "max_load_output_throughput_tokens_per_s", v, "tokens/s", TRTP, hw=hw, quant="fp8", runtime="tensorrt-llm",
            unit_kind="gpu", prompt=isl, generated=osl, batch="", include="no",
            note=f"total output throughput with requests fed at an infinite rate (ISL {isl} / OSL {osl}); batch size chosen by the scheduler and not stated so this is not a batch-1 decode rate; Llama 3.1 8B is not the shipped llama-3-8b checkpoint")


# ---------------------------------------------------------------------------------------------
# 8. ExecuTorch Llama example README (examples/models/llama/README.md at commit 00748569):
#    XNNPACK (+KleidiAI) on Android phones, adb benchmark binary.
# ---------------------------------------------------------------------------------------------
ETR = "https://github.com/pytorch/executorch/blob/007485696ccb1cff20ed8bf8c034692406dc90b2/examples/models/llama/README.md"
for tag, name, ref, q, dec, ttft, pre in [
    ("1b-bf16", "Llama 3.2 1B BF16 (baseline)", "llama-1b", "bf16", 19.2, 1.0, 60.3),
    ("1b-spinquant", "Llama 3.2 1B SpinQuant", "llama-1b", "w4a8", 50.2, 0.3, 260.5),
    ("1b-qatlora", "Llama 3.2 1B QAT+LoRA", "llama-1b", "w4a8", 45.8, 0.3, 252.0),
    ("3b-bf16", "Llama 3.2 3B BF16 (baseline)", "llama-3b", "bf16", 7.6, 3.0, 21.2),
    ("3b-spinquant", "Llama 3.2 3B SpinQuant", "llama-3b", "w4a8", 19.7, 0.7, 89.7),
    ("3b-qatlora", "Llama 3.2 3B QAT+LoRA", "llama-3b", "w4a8", 18.5, 0.7, 88.8),
]:
    qn = "" if q == "bf16" else "; linear layers 4-bit groupwise weights (group 32) with 8-bit dynamic per-token activations (8da4w); 8-bit classifier and embedding"
    common = dict(hw="galaxy-s24", model_ref=ref, quant=q, runtime="executorch-xnnpack", unit_kind="cpu")
    base = "OnePlus 12 (Snapdragon 8 Gen 3, same SoC as Galaxy S24); adb benchmark binary; XNNPACK with KleidiAI; prompt length 64" + qn
    tg(f"et-readme-oneplus12-llama32-{tag}-decode", "OnePlus 12 (16GB)", name, dec, ETR + " (Llama 3.2 performance table)",
       note=base, **common)
    pp(f"et-readme-oneplus12-llama32-{tag}-prefill", "OnePlus 12 (16GB)", name, pre, ETR + " (Llama 3.2 performance table)", 64,
       note=base, **common)
    add(f"et-readme-oneplus12-llama32-{tag}-ttft", "OnePlus 12 (16GB)", name, "time_to_first_token_s", ttft, "s",
        ETR + " (Llama 3.2 performance table)", prompt=64, include="no",
        note=base + "; time to first token is not one of the predicted metrics (the prefill rate row carries the same run)", **common)
for dev, dtag, hw, g128, g256, extra in [
    ("Samsung Galaxy S22", "galaxy-s22", "", 7.85, 8.4, "Galaxy S22 (not a shipped device)"),
    ("Samsung Galaxy S24", "galaxy-s24", "", 10.91, 11.21, "the README does not say which S24 SoC variant (Snapdragon 8 Gen 3 or Exynos 2400) so hw left empty"),
    ("OnePlus 12", "oneplus12", "galaxy-s24", 10.85, 11.02, "OnePlus 12 has the Snapdragon 8 Gen 3 (same SoC as Galaxy S24)"),
]:
    for g, v in ((128, g128), (256, g256)):
        tg(f"et-readme-{dtag}-llama3-8b-w4a8-g{g}-decode", dev, f"Llama 3 8B groupwise 4-bit ({g})", v, ETR + " (Llama 3 8B performance table)",
           hw=hw, model_ref="llama-3-8b", quant="w4a8", runtime="executorch-xnnpack", unit_kind="cpu",
           note=f"4-bit groupwise PTQ weights (group size {g}) with 8-bit dynamic activations; 4-bit embedding (group 32); adb benchmark binary; {extra}")


# ---------------------------------------------------------------------------------------------
# 9. LiteRT-LM README performance table (1024-token prefill, 256-token decode, performance lock on
#    Android). Two README versions give different Gemma3-1B figures; both are kept.
# ---------------------------------------------------------------------------------------------
LRT_NEW = "https://github.com/google-ai-edge/LiteRT-LM/blob/ef78efcb9a4a3e9abab4dfa900683cb3042a0dac/README.md"
LRT_OLD = "https://github.com/google-ai-edge/LiteRT-LM/blob/7b009cc7a3623126b9f186c7041225fb124483c0/README.md"
for src, vtag, rows in [
    (LRT_NEW, "v0613", [("gemma3-1b", "Gemma3-1B", "m3", "CPU", 422.98, 66.89), ("gemma3-1b", "Gemma3-1B", "s24u", "CPU", 243.24, 43.56),
                        ("gemma3-1b", "Gemma3-1B", "s24u", "GPU", 1876.5, 44.57), ("gemma3n-e2b", "Gemma3n-E2B", "m3", "CPU", 232.5, 27.6),
                        ("gemma3n-e2b", "Gemma3n-E2B", "s24u", "CPU", 110.5, 16.1), ("gemma3n-e2b", "Gemma3n-E2B", "s24u", "GPU", 816.4, 15.6),
                        ("gemma3n-e4b", "Gemma3n-E4B", "m3", "CPU", 170.1, 20.1), ("gemma3n-e4b", "Gemma3n-E4B", "s24u", "CPU", 73.5, 9.2),
                        ("gemma3n-e4b", "Gemma3n-E4B", "s24u", "GPU", 548.0, 9.4)]),
    (LRT_OLD, "v0610", [("gemma3-1b", "Gemma3-1B", "m3", "CPU", 603.8, 83.0), ("gemma3-1b", "Gemma3-1B", "s24u", "CPU", 379.7, 55.9),
                        ("gemma3-1b", "Gemma3-1B", "s24u", "GPU", 2369.0, 52.5)]),
]:
    for mtag, name, dtag, be, pre, dec in rows:
        if dtag == "s24u":
            dev, hw, dn = "Samsung Galaxy S24 Ultra", "galaxy-s24", "S24 Ultra has the Snapdragon 8 Gen 3 for Galaxy of the S24 (same SoC); "
        else:
            dev, hw, dn = "MacBook Pro (2023 M3)", "", ""
        rt = "litert-gpu" if be == "GPU" else "litert-xnnpack"
        common = dict(hw=hw, quant="w4", runtime=rt, runtime_version=f"LiteRT-LM README {vtag}", unit_kind=be.lower())
        nt = dn + "LiteRT-LM; 4-bit per-channel weights; context 4096; Gemma 3 / 3n are not the shipped gemma-2b" + ("; CPU backend" if be == "CPU" else "; GPU backend")
        pp(f"litertlm-{vtag}-{dtag}-{mtag}-{be.lower()}-prefill1024", dev, name, pre, src, 1024, note=nt, **common)
        tg(f"litertlm-{vtag}-{dtag}-{mtag}-{be.lower()}-decode256", dev, name, dec, src, 256, note=nt, **common)


# ---------------------------------------------------------------------------------------------
# 10. llama.cpp issue #34 (benchmarks thread): i9-13900K CPU thread sweep (comment of 2023-08-12),
#     and the x2q.net Coral USB Accelerator post (host i9-13900K, Python perf_counter timings).
# ---------------------------------------------------------------------------------------------
LC34 = "https://github.com/ggml-org/llama.cpp/issues/34 (comment by slaren, 2023-08-12)"
for th, tgv, ppv in ((4, 12.65, 22.44), (8, 18.27, 33.67), (16, 15.66, 36.73), (24, 16.71, 47.04), (32, 15.88, 55.21)):
    common = dict(hw="desktop-x86", runtime="llama.cpp-cpu", runtime_version="2023-08", unit_kind="cpu", threads=th)
    nt = "i9-13900K with DDR5-6400 (hw desktop-x86 assumes DDR5-5600); llama.cpp CPU thread sweep; the comment names the model only as 7B (LLaMA family) and does not state the quantization, so model_ref and quant are left empty"
    tg(f"llamacpp34-13900k-7b-tg128-t{th}", "Intel Core i9-13900K (DDR5 6400)", "7B", tgv, LC34, 128, note=nt, **common)
    pp(f"llamacpp34-13900k-7b-pp512-t{th}", "Intel Core i9-13900K (DDR5 6400)", "7B", ppv, LC34, 512, note=nt, **common)

X2Q = "https://www.x2q.net/post/google-coral-edge-tpu-experiments-2026/"
for tag, name, ref, ms, sp in (("mobilenetv1", "MobileNetV1", "mobilenetv1", 3.9, 5.3), ("efficientnet-l", "EfficientNet-L (EdgeTPU)", "", 31, 9.7),
                               ("ssd-mobilenetv2", "SSD MobileNetV2", "", 12, 3.2)):
    lat(f"x2q-coral-usb-13900k-{tag}", "Coral USB Accelerator (USB 3.0) on Intel i9-13900K host", name, ms, X2Q, hw="coral-edgetpu",
        model_ref=ref, quant="int8", runtime="edgetpu", runtime_version="libedgetpu1-std 16.0 / pycoral 2.0.0", unit_kind="npu",
        note="wall-clock Python perf_counter around repeated invocations after one warm-up (includes Python and USB overhead unlike the coral.ai C++ numbers)")
    add(f"x2q-coral-usb-13900k-{tag}-speedup", "Coral USB Accelerator (USB 3.0) on Intel i9-13900K host", name, "speedup_vs_host_cpu", sp, "x",
        X2Q, hw="coral-edgetpu", model_ref=ref, kind="network", quant="int8", runtime="edgetpu", unit_kind="npu", include="no",
        note="speedup over the same model on the i9-13900K CPU as stated in the post summary; a ratio not a latency")


# ---------------------------------------------------------------------------------------------
# 11. T-MAC (microsoft/T-MAC at commit 7042f8f7): docs/profiling_data.md (token generation,
#     llama.cpp b2794 vs T-MAC on CPU) and README tables (Jetson AGX Orin GPU comparison, prefill).
# ---------------------------------------------------------------------------------------------
TMC = "7042f8f73330bd083bc1e4bc5ccb3f88a4904aee"
TMP = f"https://github.com/microsoft/T-MAC/blob/{TMC}/docs/profiling_data.md"
TMRD = f"https://github.com/microsoft/T-MAC/blob/{TMC}/README.md"
TM_DEV = {
    "M2-Ultra": ("Apple M2 Ultra (CPU)", "m2ultra", "m2-ultra", "CPU-only run; the GPU core count of the M2 Ultra is not stated but does not matter for a CPU run (both M2 Ultra variants share the 24-core CPU and 800 GB/s memory)"),
    "AGX Orin": ("NVIDIA Jetson AGX Orin (CPU)", "agxorin", "jetson-agx-orin", "Jetson AGX Orin module memory size not stated, but 12 CPU threads are used and only the 64 GB module has 12 Cortex-A78AE cores (the 32 GB module has 8), so hw jetson-agx-orin"),
    "Raspberry Pi 5": ("Raspberry Pi 5", "rpi5", "rpi5", "RAM size of the Pi 5 not stated (all Pi 5 boards share the BCM2712 and 32-bit LPDDR4X)"),
    "Surface Book 3": ("Surface Book 3", "surfacebook3", "", "x86 laptop CPU"),
}
TM_ROWS = [
    ("M2-Ultra", "bitnet3b", 1, 6.49, 22.08), ("M2-Ultra", "bitnet3b", 4, 22.09, 54.46), ("M2-Ultra", "w2", 1, 3.82, 16.68),
    ("M2-Ultra", "w2", 8, 22.06, 51.01), ("M2-Ultra", "w4", 1, 5.65, 8.97), ("M2-Ultra", "w4", 8, 31.57, 35.65),
    ("AGX Orin", "bitnet3b", 1, 1.62, 8.18), ("AGX Orin", "bitnet3b", 12, 12.34, 26.02), ("AGX Orin", "w2", 1, 0.79, 4.36),
    ("AGX Orin", "w2", 12, 7.08, 15.62), ("AGX Orin", "w4", 1, 1.04, 2.46), ("AGX Orin", "w4", 12, 7.42, 8.09),
    ("Raspberry Pi 5", "bitnet3b", 1, 1.37, 8.03), ("Raspberry Pi 5", "bitnet3b", 2, 2.71, 11.09), ("Raspberry Pi 5", "w2", 1, 0.66, 4.40),
    ("Raspberry Pi 5", "w2", 2, 1.31, 5.92), ("Raspberry Pi 5", "w4", 1, 0.85, 2.42), ("Raspberry Pi 5", "w4", 2, 1.63, 3.35),
    ("Surface Book 3", "bitnet3b", 1, 5.65, 12.65), ("Surface Book 3", "bitnet3b", 4, 14.85, 28.60), ("Surface Book 3", "w2", 1, 2.70, 6.77),
    ("Surface Book 3", "w2", 4, 7.50, 16.82), ("Surface Book 3", "w4", 1, 2.50, 3.74), ("Surface Book 3", "w4", 4, 6.52, 9.34),
]
for dkey, m, th, lcpp, tmac in TM_ROWS:
    dev, dtag, hw, dnote = TM_DEV[dkey]
    if m == "bitnet3b":
        name, ref, q_l, q_t = "BitNet-3B", "", "q2_k", "w2"
    elif m == "w2":
        name, ref, q_l, q_t = "Llama-2-7B (W2)", "llama-2-7b", "q2_k", "w2"
    else:
        name, ref, q_l, q_t = "Llama-2-7B (W4)", "llama-2-7b", "q4_0", "w4"
    base = f"token generation on the CPU; {dnote}; README: 2-bit models compared with llama.cpp Q2_K and 4-bit with Q4_0"
    tg(f"tmac-prof-{dtag}-{m}-llamacpp-t{th}", dev, name, lcpp, TMP, hw=hw, model_ref=ref, quant=q_l, runtime="llama.cpp-cpu",
       runtime_version="b2794", unit_kind="cpu", threads=th, note=base)
    tg(f"tmac-prof-{dtag}-{m}-tmac-t{th}", dev, name, tmac, TMP, hw=hw, model_ref=ref, quant=q_t, runtime="t-mac",
       runtime_version="based on llama.cpp b2794", unit_kind="cpu", threads=th, note=base + "; T-MAC without fast aggregation")

# README: Llama-2-7B (W2) on Jetson AGX Orin, MAXN, 12 CPU threads for the CPU rows
for tag, rt, uk, tps, pw, ej in (("llamacpp-cpu", "llama.cpp-cpu", "cpu", 7.08, 15.0, 2.12), ("llamacpp-gpu", "llama.cpp-cuda", "gpu", 20.03, 30.8, 1.54),
                                 ("tmac-cpu", "t-mac", "cpu", 15.62, 10.4, 0.66)):
    common = dict(model_ref="llama-2-7b", quant="w2" if rt == "t-mac" else "q2_k", runtime=rt, unit_kind=uk, threads=12 if uk == "cpu" else "")
    nt = "Jetson AGX Orin under power mode MAXN (module memory not stated so hw left empty); jetson-stats power sampling"
    tg(f"tmac-readme-agxorin-llama2-7b-w2-{tag}", "NVIDIA Jetson AGX Orin", "Llama-2-7B (W2)", tps, TMRD + " (Compared to CUDA GPU)", note=nt, **common)
    add(f"tmac-readme-agxorin-llama2-7b-w2-{tag}-power", "NVIDIA Jetson AGX Orin", "Llama-2-7B (W2)", "power_w", pw, "W", TMRD + " (Compared to CUDA GPU)",
        include="no", note=nt + "; power is not a predicted metric", **common)
    add(f"tmac-readme-agxorin-llama2-7b-w2-{tag}-energy", "NVIDIA Jetson AGX Orin", "Llama-2-7B (W2)", "energy_j_per_token", ej, "J/token", TMRD + " (Compared to CUDA GPU)",
        include="no", note=nt + "; energy per token is not a predicted metric", **common)
# README prefill table: Llama-2-7b (W2) on Surface Laptop 7 (Snapdragon X Elite), input length 256
for th, tm, ob, lc in ((4, 50.1, 21.5, 12.0), (8, 94.4, 37.7, 21.3)):
    for tag, rt, v, q, extra in (("tmac", "t-mac", tm, "w2", ""), ("llamacpp-openblas", "llama.cpp-cpu", ob, "q2_k", "; llama.cpp OpenBLAS backend"),
                                 ("llamacpp", "llama.cpp-cpu", lc, "q2_k", "; llama.cpp dequant-based low-bit kernels")):
        pp(f"tmac-readme-xelite-llama2-7b-w2-{tag}-prefill-t{th}", "Snapdragon X Elite (Surface Laptop 7)", "llama-2-7b (W2)", v,
           TMRD + " (Prefill Speedup)", 256, model_ref="llama-2-7b", quant=q, runtime=rt, unit_kind="cpu", threads=th,
           note="prefill of a 256-token input (the table calls the 256 tokens its batch size; one sequence)" + extra)


# ---------------------------------------------------------------------------------------------
# 12. optimum-executorch README (commit 02860798, table unchanged since June 2025): decode rate of
#     compact LLMs exported with custom SDPA, KV cache and 8da4w quantization (ExecuTorch XNNPACK),
#     and ExecuTorch PR #11991 (Phi-4-mini on iPhone 15 Pro).
# ---------------------------------------------------------------------------------------------
OET = "https://github.com/huggingface/optimum-executorch/blob/02860798f27cfb58e19080c7994949928e6ac7fc/README.md (Benchmarks on Mobile Devices)"
OET_DEV = [("Samsung Galaxy S22 5G (Android 13)", "s22", ""), ("Samsung Galaxy S22 Ultra 5G (Android 14)", "s22u", ""),
           ("iPhone 15 (iOS 18.0)", "iphone15", ""), ("iPhone 15 Plus (iOS 17.4.1)", "iphone15plus", ""),
           ("iPhone 15 Pro (iOS 18.4.1)", "iphone15pro", "iphone15pro")]
for mtag, name, ref, vals in [("smollm2-135m", "SmolLM2-135M", "", (202.28, 202.61, 7.47, 6.43, 29.64)),
                              ("qwen3-0.6b", "Qwen3-0.6B", "", (59.16, 56.49, 7.05, 5.48, 17.99)),
                              ("gemma-3-1b-it", "google/gemma-3-1b-it", "", (25.07, 23.89, 21.51, 21.33, 17.8)),
                              ("llama-3.2-1b", "Llama-3.2-1B", "llama-1b", (44.91, 37.39, 11.04, 8.93, 25.78)),
                              ("olmo-1b", "OLMo-1B", "", (44.98, 38.22, 14.49, 8.72, 20.24))]:
    for (dev, dtag, hw), v in zip(OET_DEV, vals):
        tg(f"optimum-et-{dtag}-{mtag}-8da4w-decode", dev, name, v, OET, hw=hw, model_ref=ref, quant="w4a8",
           runtime="executorch-xnnpack", unit_kind="cpu",
           note="Hugging Face model exported by optimum-executorch with custom SDPA and KV cache and 8da4w quantization (4-bit weights with 8-bit dynamic activations); decode rate from the ExecuTorch benchmark infrastructure; prompt length not stated"
                + ("; Galaxy S22 is not a shipped device" if dtag.startswith("s22") else ""))
tg("et-pr11991-iphone15pro-phi4-mini-decode", "iPhone 15 Pro", "Phi4-mini (optimum-executorch)", 7.11,
   "https://github.com/pytorch/executorch/pull/11991", hw="iphone15pro", runtime="executorch-xnnpack", unit_kind="cpu",
   note="tokens/s reported from the ExecuTorch CI benchmark job in the PR description; export recipe of optimum-executorch (quantization not stated in the PR text); Phi-4-mini is not the shipped phi-3-mini")


# ---------------------------------------------------------------------------------------------
# 13. Apple ml-mobileone and ml-fastvit READMEs: Core ML latency of the released models on an
#     iPhone 12 Pro (ModelBench app).
# ---------------------------------------------------------------------------------------------
MO1 = "https://github.com/apple/ml-mobileone/blob/b7f4e6d48884593c7eb46eedc53c3a097c09e957/README.md"
for v, ms in (("S0", 0.79), ("S1", 0.89), ("S2", 1.18), ("S3", 1.53), ("S4", 1.86)):
    lat(f"apple-mobileone-iphone12pro-{v.lower()}", "iPhone 12 Pro", f"MobileOne-{v}", ms, MO1, runtime="other",
        note="Core ML model (ModelBench app; compute unit not stated in the README); ImageNet-1K classifier")
FVT = "https://github.com/apple/ml-fastvit/blob/8af5928238cab99c45f64fc3e4e7b1516b8224ba/README.md"
for v, ms in (("T8", 0.8), ("T12", 1.2), ("S12", 1.4), ("SA12", 1.6), ("SA24", 2.6), ("SA36", 3.5), ("MA36", 4.6)):
    lat(f"apple-fastvit-iphone12pro-{v.lower()}", "iPhone 12 Pro", f"FastViT-{v}", ms, FVT, runtime="other",
        note="Core ML model benchmarked with the ModelBench app (compute unit not stated); rounded to 0.1 ms by the README; trained at 256x256 input")


# ---------------------------------------------------------------------------------------------
# 14. mlc-ai/llm-perf-bench README: decode rate for 256 generated tokens after the prompt
#     "What is the meaning of life?", int4 weights with fp16 activations (MLC q4f16_1, llama.cpp
#     Q4_K_M GGUF, ExLlama GPTQ). Two README versions disagree on the llama.cpp and ExLlama
#     single-GPU numbers; both are kept. Multi-GPU rows are tensor-parallel over PCIe.
# ---------------------------------------------------------------------------------------------
LPB_NEW = "https://github.com/mlc-ai/llm-perf-bench/blob/d401356f84fa9cfb564b353ca39fb31cc47d61ea/README.md"
LPB_OLD = "https://github.com/mlc-ai/llm-perf-bench/blob/027460030bf1ff2dce035d671fad1b885eb960b6/README.md"
LPB_Q = {"mlc-llm": "q4f16_1", "llama.cpp-cuda": "q4_k_m", "other": "int4"}
for src, vtag, rows in [
    (LPB_NEW, "v1114", [("llama2-7b", "Llama2-7B", "llama-2-7b", "RTX 3090 Ti", "3090ti", 186.7, 161.67, 144.93),
                        ("llama2-13b", "Llama2-13B", "", "RTX 3090 Ti", "3090ti", 107.4, 92.11, 86.65),
                        ("llama2-7b", "Llama2-7B", "llama-2-7b", "RTX 4090", "4090", 204.8, 177.46, 151.1),
                        ("llama2-13b", "Llama2-13B", "", "RTX 4090", "4090", 113.5, 105.94, 88.0)]),
    (LPB_OLD, "vold", [("llama2-7b", "Llama2-7B", "llama-2-7b", "RTX 3090 Ti", "3090ti", None, 112.72, 123.75),
                       ("llama2-13b", "Llama2-13B", "", "RTX 3090 Ti", "3090ti", None, 69.31, 76.18),
                       ("llama2-7b", "Llama2-7B", "llama-2-7b", "RTX 4090", "4090", None, 152.56, 50.13),
                       ("llama2-13b", "Llama2-13B", "", "RTX 4090", "4090", None, 93.88, 36.81)]),
]:
    for mtag, name, ref, dev, dtag, mlc, exl, lcpp in rows:
        for rt, v, rtag, extra in (("mlc-llm", mlc, "mlc", ""), ("other", exl, "exllama", "; runtime ExLlama" + (" V2" if vtag == "v1114" else "")),
                                   ("llama.cpp-cuda", lcpp, "llamacpp", "")):
            if v is None:
                continue
            tg(f"llmperfbench-{vtag}-{dtag}-{mtag}-{rtag}-tg256", f"NVIDIA {dev}", name, v, src, 256,
               hw="rtx-4090" if dtag == "4090" else "", model_ref=ref,
               quant=LPB_Q[rt], runtime=rt, unit_kind="gpu",
               note="single GPU; int4 weights and fp16 activations; 256 generated tokens after a short prompt" + extra
                    + ("; an older README version than the d401356f one, whose llama.cpp and ExLlama numbers differ" if vtag == "vold" else ""))
# multi-GPU Llama2-70B rows of the newer README (A100 x2 and x8)
for prec, q, data in (("fp16", "f16", {"A100 x 2": (17.0, None, 10.46, 15.27), "A100 x 8": (38.8, None, 9.37, 14.32)}),
                      ("int4", "int4", {"A100 x 2": (40.9, 32.64, 17.35, 21.4), "A100 x 8": (59.4, 32.23, 11.2, 17.6)})):
    for dev, (mlc, exl, lcpp, vll) in data.items():
        n = dev.split()[-1]
        for rt, v, rtag in (("mlc-llm", mlc, "mlc"), ("other", exl, "exllama"), ("llama.cpp-cuda", lcpp, "llamacpp"), ("vllm", vll, "vllm")):
            if v is None:
                continue
            qq = q if prec == "fp16" else {"mlc-llm": "q4f16_1", "llama.cpp-cuda": "q4_k_m"}.get(rt, "int4")
            tg(f"llmperfbench-v1114-a100x{n}-llama2-70b-{prec}-{rtag}-tg256", f"NVIDIA {dev} (PCIe)", "Llama2-70B", v, LPB_NEW, 256,
               quant=qq, runtime=rt, unit_kind="gpu",
               note=f"multi-GPU over PCIe ({n} GPUs, tensor parallel in MLC and vLLM); A100 memory size not stated; {prec} weights with fp16 activations; 256 generated tokens"
                    + ("; runtime ExLlama" if rt == "other" else ""))


# ---------------------------------------------------------------------------------------------
# 15. Apple Core ML model cards on Hugging Face (apple/coreml-*): inference time (ms) and dominant
#     compute unit per device, Float16 packages.
# ---------------------------------------------------------------------------------------------
def _cml(tag, card, name, dev, dtag, os_, ms, res=""):
    hw = "iphone15pro" if dtag == "iphone15promax" else ""
    extra = "; iPhone 15 Pro Max has the A17 Pro and 8 GB of the iPhone 15 Pro (same SoC)" if hw else ""
    lat(f"hf-apple-{tag}-{dtag}", dev, name, ms, f"https://huggingface.co/apple/{card}", hw=hw, quant="f16",
        runtime="coreml-ane", runtime_version=f"OS {os_}", unit_kind="npu",
        note=f"Core ML Float16 package; dominant compute unit Neural Engine per the model card{res}{extra}")

for dev, dtag, os_, t8, ma36 in (("iPhone 12 Pro Max", "iphone12promax", "17.5", 0.79, None), ("M3 Max", "m3max", "14.4", 0.62, None),
                                 ("iPhone 12 Pro Max", "iphone12promax", "18.0", None, 4.50), ("M3 Max", "m3max", "15.0", None, 2.99)):
    if t8 is not None:
        _cml("fastvit-t8", "coreml-FastViT-T8", "FastViT-T8 (FastViTT8F16)", dev, dtag, os_, t8, "; image size 256x256")
    if ma36 is not None:
        _cml("fastvit-ma36", "coreml-FastViT-MA36", "FastViT-MA36 (FastViTMA36F16)", dev, dtag, os_, ma36, "; image size 256x256")
for dev, dtag, os_, ms in (("iPhone 15 Pro Max", "iphone15promax", "17.5", 40), ("MacBook Pro (M1 Max)", "m1max", "14.5", 43)):
    _cml("detr-resnet50-semseg", "coreml-detr-semantic-segmentation", "DETRResnet50SemanticSegmentationF16", dev, dtag, os_, ms,
         "; compute units on the MacBook Pro manually set to CPU and Neural Engine" if dtag == "m1max" else "")
for dev, dtag, os_, ms in (("iPhone 12 Pro Max", "iphone12promax", "18.0", 31.10), ("iPhone 15 Pro Max", "iphone15promax", "17.4", 33.90),
                           ("MacBook Pro (M1 Max)", "m1max", "15.0", 32.80), ("MacBook Pro (M3 Max)", "m3max", "15.0", 24.58)):
    _cml("depth-anything-small", "coreml-depth-anything-small", "Depth Anything small (DepthAnythingSmallF16)", dev, dtag, os_, ms)


# ---------------------------------------------------------------------------------------------
# 16. TensorRT-LLM docs/source/performance.md (commit 138f96d4, v0.5/v0.6.1 era): LLaMA 7B
#     (Llama2-7b per the methodology section) throughput at the stated large batch sizes, and
#     batch-1 first-token latency. TensorRT-LLM issue #281: the H100/A100 data are SXM 80 GB.
# ---------------------------------------------------------------------------------------------
TRTOLD = "https://github.com/NVIDIA/TensorRT-LLM/blob/138f96d45f90b9667426f7c47297d8c06bafac73/docs/source/performance.md"
TRT281 = "GPU variant from https://github.com/NVIDIA/TensorRT-LLM/issues/281 (SXM, 80 GB)"
for dev, dtag, hw, q, rows in [
    ("H100 SXM 80GB (FP8)", "h100", "h100-sxm", "fp8", [(768, 128, 128, 19694), (112, 128, 2048, 6818), (80, 2048, 128, 2244), (48, 2048, 2048, 2740)]),
    ("L40S (FP8)", "l40s", "", "fp8", [(64, 128, 128, 3240), (64, 128, 2048, 1622), (32, 2048, 128, 581), (16, 2048, 2048, 531)]),
    ("A100 SXM 80GB (FP16)", "a100", "a100-80gb", "f16", [(384, 128, 128, 5586), (60, 128, 2048, 1928), (52, 2048, 128, 591)]),
]:
    for bs, isl, osl, v in rows:
        add(f"trtllm-perfold-{dtag}-llama7b-{q}-bs{bs}-isl{isl}-osl{osl}-throughput", dev, "LLaMA 7B (Llama2-7b)",
            "output_throughput_tokens_per_s", v, "tokens/s", TRTOLD + (f"; {TRT281}" if hw else ""), hw=hw, model_ref="llama-2-7b",
            quant=q, runtime="tensorrt-llm", runtime_version="v0.6.1" if dtag != "l40s" else "v0.5", unit_kind="gpu", batch=bs,
            prompt=isl, generated=osl, include="no",
            note=f"peak-throughput table: output tokens/s (per GPU on H100) at batch {bs}, TP1, input {isl}, output {osl}; includes prefill time so it is not a pure decode rate")
for dev, dtag, hw, q, rows in [("H100 SXM 80GB (FP8)", "h100", "h100-sxm", "fp8", [(128, 7), (2048, 36)]),
                               ("L40S (FP8)", "l40s", "", "fp8", [(128, 14), (2048, 73)]),
                               ("A100 SXM 80GB (FP16)", "a100", "a100-80gb", "f16", [(128, 16), (2048, 133)])]:
    for isl, ms in rows:
        add(f"trtllm-perfold-{dtag}-llama7b-{q}-bs1-isl{isl}-ttft", dev, "LLaMA 7B (Llama2-7b)", "time_to_first_token_ms", ms, "ms",
            TRTOLD + (f"; {TRT281}" if hw else ""), hw=hw, model_ref="llama-2-7b", quant=q, runtime="tensorrt-llm",
            runtime_version="v0.5", unit_kind="gpu", prompt=isl, include="no",
            note=f"batch-1 first-token latency for a {isl}-token input, TP1 (essentially the prefill time of the prompt; kept as a latency, not converted to a rate)")


# ---------------------------------------------------------------------------------------------
# 17. Jetson AI Lab SLM tutorial (docs/tutorial_slm.md at commit 51e315a0): Llama 3.2 decode rates
#     with the MLC container (INT4, MLC 0.1.2) via jetson-containers' mlc benchmark script.
# ---------------------------------------------------------------------------------------------
JSLM = "https://github.com/NVIDIA-AI-IOT/jetson-generative-ai-playground/blob/51e315a0e53d1a53dcf6d2fb5fbf3684be2149d0/docs/tutorial_slm.md (Llama 3.2 section)"
for ref, name, nano, agx in (("llama-1b", "Llama-3.2-1B", 54.8, 163.9), ("llama-3b", "Llama-3.2-3B", 27.7, 80.4)):
    tag = name.lower().replace(".", "")
    common = dict(model_ref=ref, quant="int4", runtime="mlc-llm", runtime_version="MLC 0.1.2 (dustynv/mlc:0.1.2-r36.3.0)", unit_kind="gpu")
    tg(f"jal-slm-agx-orin-{tag}-mlc-int4-decode", "Jetson AGX Orin", name, agx, JSLM, hw="jetson-agx-orin",
       note="INT4 MLC; module memory not stated on the page (the maintainer states the Jetson AI Lab benchmark figures were taken on AGX Orin 64GB in MAX-N, jetson-containers issue #532)", **common)
    tg(f"jal-slm-orin-nano-{tag}-mlc-int4-decode", "Jetson Orin Nano", name, nano, JSLM,
       note="INT4 MLC; the page does not say Super mode (the Llama-3.2-3B value equals the original-clock column of the benchmarks page) so hw left empty", **common)
JMLCD = "https://github.com/dusty-nv/jetson-containers/blob/04720a088da59494e7d376ec2ff1ddbe79428c28/packages/llm/mlc/docs.md"
_jm = dict(model_ref="llama-2-7b", quant="q4f16_ft", runtime="mlc-llm", runtime_version="MLC 0.1.0 container", unit_kind="gpu")
pp("jc-mlc-docs-example-llama2-7b-q4f16ft-prefill16", "Jetson (model not stated in the example)", "Llama-2-7b-hf q4f16_ft", 632.8, JMLCD, 16,
   note="example output of the benchmark script (average over 3 runs, input 16, output 128); the Jetson module is not named", **_jm)
tg("jc-mlc-docs-example-llama2-7b-q4f16ft-decode128", "Jetson (model not stated in the example)", "Llama-2-7b-hf q4f16_ft", 46.9, JMLCD, 128,
   note="example output of the benchmark script (average over 3 runs, input 16, output 128); the Jetson module is not named", **_jm)


# ---------------------------------------------------------------------------------------------
# 18. TensorRT-LLM blogs (v0.5.0, TensorRT 9.1): H100 vs A100 (GPT-J 6B, SXM 80GB, TP1) and the
#     H200 launch table (Llama 2 13B / 70B max throughput, FP8). Throughput rows and first-token
#     latencies are kept with include=no (not one of the predicted metrics).
# ---------------------------------------------------------------------------------------------
TRTB1 = "https://github.com/NVIDIA/TensorRT-LLM/blob/15ed78097ea2c14b3831ca017935a32dec54476e/docs/source/blogs/H100vsA100.md"
for dev, dtag, hw, q, rows in (("H100 SXM 80GB (FP8)", "h100", "h100-sxm", "fp8", ((64, 10907, 102), (1, 185, 7.1))),
                               ("A100 SXM 80GB (FP16)", "a100", "a100-80gb", "f16", ((64, 3679, 481), (1, 111, 12.5)))):
    for bs, tps, ttft in rows:
        add(f"trtllm-blog-h100va100-{dtag}-gptj6b-bs{bs}-throughput", dev, "GPT-J 6B", "output_throughput_tokens_per_s", tps, "tokens/s",
            TRTB1, hw=hw, quant=q, runtime="tensorrt-llm", runtime_version="v0.5.0", unit_kind="gpu", batch=bs, prompt=128,
            generated=128 if bs == 64 else "", include="no",
            note=f"output tokens/s at batch {bs}, TP1, input 128" + (", output 128" if bs == 64 else ", output length not given") + "; throughput of a serving run rather than a pure per-sequence decode rate")
        add(f"trtllm-blog-h100va100-{dtag}-gptj6b-bs{bs}-ttft", dev, "GPT-J 6B", "time_to_first_token_ms", ttft, "ms",
            TRTB1, hw=hw, quant=q, runtime="tensorrt-llm", runtime_version="v0.5.0", unit_kind="gpu", batch=bs, prompt=128, include="no",
            note=f"first-token latency at batch {bs}, TP1, input 128; not one of the predicted metrics")
TRTB2 = "https://github.com/NVIDIA/TensorRT-LLM/blob/1555478c1b417a0b34de05209862ea5a2ab9add1/docs/source/blogs/H200launch.md"
for m, bs, tp, isl, osl, v in (("llama_13b", 1024, 1, 128, 128, 11819), ("llama_13b", 128, 1, 128, 2048, 4750), ("llama_13b", 64, 1, 2048, 128, 1349),
                               ("llama_70b", 512, 1, 128, 128, 3014), ("llama_70b", 64, 1, 2048, 128, 341), ("llama_70b", 32, 1, 2048, 128, 303)):
    add(f"trtllm-blog-h200-{m.replace('_', '-')}-fp8-bs{bs}-isl{isl}-osl{osl}", "H200", m, "output_throughput_tokens_per_s", v, "tokens/s",
        TRTB2, hw="h200", quant="fp8", runtime="tensorrt-llm", runtime_version="v0.5.0", unit_kind="gpu", batch=bs, prompt=isl, generated=osl,
        include="no", note=f"max-throughput table: output tokens/s per GPU at batch {bs} (largest power of 2 that fits), TP{tp}; preliminary numbers per the blog; serving throughput, not a per-sequence decode rate")


# ---------------------------------------------------------------------------------------------
# 19. MLX (mlx_lm.generate outputs quoted in ml-explore issues/PRs).
# ---------------------------------------------------------------------------------------------
MLX1069 = "https://github.com/ml-explore/mlx-examples/pull/1069"
for tag, p, g, extra in (("wired", 27.8, 4.7, "model weights wired in memory (the PR's change)"), ("notwired", 2.35, 0.23, "before the change (weights not wired)")):
    common = dict(quant="f16", runtime="mlx", unit_kind="gpu")
    pp(f"mlx1069-m2ultra-llama3-70b-f16-{tag}-prompt16", "Apple M2 Ultra", "Meta-Llama-3-70B-Instruct (16-bit)", p, MLX1069, 16,
       note=f"mlx_lm.generate; {extra}; GPU core count and memory size of the M2 Ultra not stated", **common)
    tg(f"mlx1069-m2ultra-llama3-70b-f16-{tag}-gen100", "Apple M2 Ultra", "Meta-Llama-3-70B-Instruct (16-bit)", g, MLX1069, 100,
       note=f"mlx_lm.generate; {extra}; GPU core count and memory size of the M2 Ultra not stated", **common)
MLX40 = "https://github.com/ml-explore/mlx-lm/pull/40"
for tag, v in (("pre", 676.212), ("post", 869.279)):
    pp(f"mlxlm40-m2ultra-mistral7b-4bit-prompt33898-{tag}", "Apple M2 Ultra", "Mistral 7B (4-bit)", v, MLX40, 33898, quant="int4",
       runtime="mlx", unit_kind="gpu", note=f"prompt of 33898 tokens; {tag}-change measurement of the causal-mask PR; GPU core count not stated")
MLX1029 = "https://github.com/ml-explore/mlx-examples/issues/1029"
for rt, rv, q, rows in (("mlx", "MLX-LM 0.20.4 / MLX 0.21.1", "int4", ((260, 75.871, 309, 9.351), (4126, 79.410, 724, 8.917), (16003, 67.948, 459, 7.779))),):
    for pt, ppv, gt, tgv in rows:
        pp(f"mlx1029-m3max64-llama33-70b-4bit-mlx-pp{pt}", "Apple M3 Max 64GB", "Llama-3.3-70B-Instruct-4bit", ppv, MLX1029, pt, quant=q, runtime=rt,
           runtime_version=rv, unit_kind="gpu", note="prompt processing speed as reported by mlx_lm; temperature 0")
        tg(f"mlx1029-m3max64-llama33-70b-4bit-mlx-tg{pt}", "Apple M3 Max 64GB", "Llama-3.3-70B-Instruct-4bit", tgv, MLX1029, gt, quant=q, runtime=rt,
           runtime_version=rv, unit_kind="gpu", context=pt, note=f"token generation speed after a {pt}-token prompt as reported by mlx_lm")
MLX1281 = "https://github.com/ml-explore/mlx-examples/issues/1281"
pp("mlx1281-m4max-qwen25-72b-6bit-prompt34", "Apple M4 Max", "Qwen2.5-72B-Instruct-6bit", 39.482, MLX1281, 34, quant="w6", runtime="mlx", unit_kind="gpu",
   note="mlx_lm.generate output quoted in the issue; GPU core count not stated so hw left empty")
tg("mlx1281-m4max-qwen25-72b-6bit-gen642", "Apple M4 Max", "Qwen2.5-72B-Instruct-6bit", 7.919, MLX1281, 642, quant="w6", runtime="mlx", unit_kind="gpu",
   note="mlx_lm.generate output quoted in the issue; GPU core count not stated so hw left empty")

# ---------------------------------------------------------------------------------------------
# MLPerf Tiny v1.0 (closed division), STMicroelectronics' submissions with X-CUBE-AI 7.3.0:
# median throughput of the performance run (inferences/s) in
# closed/STMicroelectronics/results/<board>/<task>/performance/results.txt; latency = 1000 / it.
# Boards and clocks from closed/STMicroelectronics/systems/<board>/*_system_description.json.
# ---------------------------------------------------------------------------------------------
TINY10 = "https://github.com/mlcommons/tiny_results_v1.0 (closed/STMicroelectronics/results/{board}/{task}/performance/results.txt)"
TINY_TASKS = {
    "vww": ("MobileNetV1 0.25x 96x96 (visual wake words)", "mobilenetv1?width=0.25&res=96&classes=2"),
    "ic": ("ResNet-8 (CIFAR-10 image classification)", "resnet8"),
    "kws": ("DS-CNN (keyword spotting)", "ds-cnn"),
    "ad": ("FC autoencoder (anomaly detection)", "fc-autoencoder"),
}
for board, hw, dev, ips in [
    ("NUCLEO-H7A3ZI-Q", "stm32h7a3", "STM32H7A3ZI (Cortex-M7, 280 MHz)", {"vww": 19.722, "ic": 18.401, "kws": 59.667, "ad": 547.705}),
    ("NUCLEO_L4R5ZI", "stm32l4r5", "STM32L4R5ZI (Cortex-M4, 120 MHz)", {"vww": 4.339, "ic": 4.407, "kws": 13.323, "ad": 131.950}),
]:
    for task, rate in ips.items():
        name, ref = TINY_TASKS[task]
        lat(f"mlperf-tiny-v1.0-st-{hw}-{task}", dev, name, round(1000.0 / rate, 4),
            TINY10.format(board=board, task=task), hw=hw, model_ref=ref, quant="int8",
            runtime="x-cube-ai", runtime_version="X-CUBE-AI 7.3.0", unit_kind="cpu",
            note=f"median throughput {rate} inf./s")

# === END OF ROWS ===


def write(path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=HEADER, lineterminator="\n")
        w.writeheader()
        for r in ROWS:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in HEADER})


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "measurements.csv")
    write(out)
    print(f"wrote {len(ROWS)} rows to {out}")
