#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Create (or refresh) the isolated environment fer_mm runs in: a virtualenv with
# the pinned OpenMMLab stack (torch, mmengine, mmcv 2.1.0 with compiled ops,
# mmpretrain, mmagic) and fer_mm itself in editable mode.
#
#   bash tools/setup_env.sh            # idempotent; seconds when nothing changed
#
# Environment variables:
#   FER_MM_VENV   where the virtualenv lives          (default: <repo>/.venv)
#   FER_MM_CACHE  where built wheels are cached       (default: ~/.cache/fer_mm)
#   PYTHON        the interpreter the venv is made of (default: python3, 3.11)
#   MAX_JOBS      parallel compile jobs for mmcv      (default: nproc)
#   FORCE_CUDA    1 builds mmcv's CUDA ops (needs nvcc / CUDA_HOME); on a machine
#                 where torch sees a GPU the CUDA build is chosen automatically.
#                 The wheel cache is keyed by the build flavour, so CPU and CUDA
#                 builds never overwrite each other.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FER_MM_VENV:-$REPO/.venv}"
CACHE="${FER_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fer_mm}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION=2.1.0
MMPRETRAIN_VERSION=1.2.0
MMAGIC_VERSION=1.2.0

log() { printf '[setup_env] %s\n' "$*" >&2; }
t0=$(date +%s)

# The stamp covers everything that decides the environment's content.
stamp_src="$(cat "$REPO/requirements/stack.txt" "$REPO/requirements/tests.txt" \
  "$REPO/tools/setup_env.sh" "$REPO/setup.py")"
stamp="$(printf '%s' "$stamp_src" | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.fer_mm_stamp"

check_imports() {
  "$VENV/bin/python" - <<'PY'
import mmcv.ops  # noqa: F401  (compiled ops present)
import mmpretrain  # noqa: F401
import mmagic.models  # noqa: F401
import fer_mm  # noqa: F401
import torch, mmcv, mmengine
print(f'[setup_env] OK: torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmpretrain {mmpretrain.__version__}, '
      f'fer_mm {fer_mm.__version__}')
PY
}

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
  # Re-point the editable install in case the repository moved, then verify.
  if check_imports; then
    log "environment up to date ($VENV), $(($(date +%s) - t0)) s"
    exit 0
  fi
  log "environment stamp matches but imports fail: rebuilding"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade 'pip<26'

log "installing the pinned stack (requirements/stack.txt, requirements/tests.txt)"
"${PIP[@]}" install -q -r "$REPO/requirements/stack.txt" -r "$REPO/requirements/tests.txt"

# ---------------------------------------------------------------- mmcv with ops
torch_ver="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
py_tag="$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
flavour=cpu
if [[ "${FORCE_CUDA:-0}" == "1" ]] || "$VENV/bin/python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  flavour=cuda
fi
wheel_dir="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$torch_ver-$py_tag-$flavour"
if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
  log "building mmcv $MMCV_VERSION with $flavour ops (about 12 min on 2 cores; cached in $wheel_dir)"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
    "mmcv==$MMCV_VERSION" -d "$build"
  tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
  src="$build/mmcv-$MMCV_VERSION"
  # torch >= 2.6 headers require C++20; mmcv 2.1.0 hard-codes C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  mkdir -p "$wheel_dir"
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    FORCE_CUDA="$([[ $flavour == cuda ]] && echo 1 || echo 0)" \
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$wheel_dir.tmp" .)
  mv "$wheel_dir.tmp"/mmcv-*.whl "$wheel_dir"/ && rm -rf "$wheel_dir.tmp"
fi
"${PIP[@]}" install -q --no-deps --force-reinstall "$wheel_dir"/mmcv-*.whl

# mmpretrain / mmagic declare dependencies that break this stack (mediapipe,
# opencv-python, newer diffusers); their real import-time needs are pinned above.
"${PIP[@]}" install -q --no-deps "mmpretrain==$MMPRETRAIN_VERSION" "mmagic==$MMAGIC_VERSION"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$REPO"

check_imports
echo "$stamp" >"$stamp_file"
log "done in $(($(date +%s) - t0)) s"
