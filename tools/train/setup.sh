#!/usr/bin/env bash
# Install the Debian packages the training tool needs (PyTorch with OpenBLAS, NumPy,
# the regex module for \p{L} classes, matplotlib for the loss plot). Safe to rerun:
# apt-get skips packages that are already installed. Only /usr/bin/python3 sees them.
set -euo pipefail

packages=(python3-torch python3-numpy python3-regex python3-matplotlib libopenblas0-pthread)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
  echo "all packages are installed: ${packages[*]}"
fi

OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -c 'import torch, numpy, regex; print("torch", torch.__version__, "numpy", numpy.__version__)'
