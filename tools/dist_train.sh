#!/usr/bin/env bash
# Distributed training over torchrun: gloo on CPU, nccl on GPU.
#   tools/dist_train.sh CONFIG NPROC [extra tools/train.py arguments]
set -euo pipefail
CONFIG=$1
NPROC=$2
PORT=${PORT:-29500}
DIR=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
PYTHONPATH="$DIR/..:${PYTHONPATH:-}" \
exec "$PYTHON" -m torch.distributed.run --nproc_per_node="$NPROC" \
    --master_port="$PORT" "$DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}"
