"""Training curves from mmcv's ``*.log.json`` files."""
import json
import os
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from ..core.fileio import InputError, MissingInputError, atomic_write_bytes


def load_json_log(path: str) -> Dict[str, Dict[str, List[float]]]:
    """Read one ``.log.json``: ``{'train'|'val': {key: [values]}}`` plus the
    x axis under ``'iter'`` (global training iteration of each record).

    Records are one JSON object per line; a malformed line is an error
    naming the file and line.
    """
    series: Dict[str, Dict[str, List[float]]] = {
        'train': defaultdict(list),
        'val': defaultdict(list)
    }
    iters_per_epoch = 0
    last_global = 0
    if not os.path.isfile(path):
        raise MissingInputError(path, 'log file not found')
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(path, f'not JSON ({err})', lineno) from None
            mode = record.get('mode')
            if mode not in series:
                continue
            if mode == 'train':
                iters_per_epoch = max(iters_per_epoch, record.get('iter', 0))
                last_global = (record.get('epoch', 1) - 1) * iters_per_epoch \
                    + record.get('iter', 0)
            series[mode]['iter'].append(last_global)
            for key, value in record.items():
                if isinstance(value, (int, float)) and key not in (
                        'epoch', 'iter', 'memory'):
                    series[mode][key].append(float(value))
    return {mode: dict(values) for mode, values in series.items()}


def plot_training_curves(log_files: Sequence[str],
                         out_file: str,
                         keys: Optional[Sequence[str]] = None,
                         legends: Optional[Sequence[str]] = None) -> List[str]:
    """Plot training losses and validation mAP of one or more runs into one
    PNG (one panel per key). Returns the keys plotted.

    Default keys: every ``loss*`` of the training records and every ``mAP``
    key of the validation records.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    logs = [load_json_log(p) for p in log_files]
    legends = list(legends or [os.path.basename(p) for p in log_files])
    if keys is None:
        found = []
        for log in logs:
            found += [k for k in log['train'] if k.startswith('loss')]
            found += [k for k in log['val'] if 'mAP' in k]
        keys = list(dict.fromkeys(found))
    if not keys:
        raise ValueError(f'no loss or mAP values in {", ".join(log_files)}')
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for log, name in zip(logs, legends):
            mode = 'val' if key in log['val'] and key not in log['train'] \
                else 'train'
            if key in log[mode]:
                ax.plot(log[mode]['iter'][-len(log[mode][key]):],
                        log[mode][key], marker='o' if mode == 'val' else None,
                        label=name)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=100)
    plt.close(fig)
    atomic_write_bytes(out_file, buf.getvalue())
    return list(keys)
