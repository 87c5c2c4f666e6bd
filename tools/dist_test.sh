#!/usr/bin/env bash
# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
# One process per GPU (NCCL); without a GPU, NUM_PROCS CPU processes (gloo).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT.
# The interpreter: $PYTHON if set, else the project's environment
# ($FER_MM_VENV or <repo>/.venv, made by tools/setup_env.sh) when it exists,
# else the `python` on PATH.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROCS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -z ${PYTHON:-} ]]; then
  VENV="${FER_MM_VENV:-$(dirname "$HERE")/.venv}"
  if [[ -x "$VENV/bin/python" ]]; then PYTHON="$VENV/bin/python"; else PYTHON=python; fi
fi

PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROCS" \
    --master_port="$PORT" \
    "$HERE/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
