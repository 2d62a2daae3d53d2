#!/usr/bin/env bash
# Distributed testing over torchrun: gloo on CPU, nccl on GPU.
#   tools/dist_test.sh CONFIG CKPT NPROC [extra tools/test.py arguments]
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
PORT=${PORT:-29500}
DIR=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
PYTHONPATH="$DIR/..:${PYTHONPATH:-}" \
exec "$PYTHON" -m torch.distributed.run --nproc_per_node="$NPROC" \
    --master_port="$PORT" "$DIR/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
