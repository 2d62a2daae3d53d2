"""Train, resume, test and plot through the CLIs on tiny synthetic data."""
import glob
import json
import os

import cv2
import torch

from tests.conftest import TINY_CONFIG, synthetic_data_options
from tests.tools.cli import run_tool


def _options(root, **extra):
    opts = synthetic_data_options(root)
    opts.update(extra)
    return [f'{k}={v}' for k, v in opts.items()]


def _train_records(work_dir):
    log = sorted(glob.glob(os.path.join(work_dir, '*.log.json')))[-1]
    with open(log) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if r.get('mode') == 'train'], \
        [r for r in records if r.get('mode') == 'val']


def test_train_resume_test_and_curves(tiny_synthetic, tmp_path):
    work = tmp_path / 'run'
    run_tool('train.py', [TINY_CONFIG, '--work-dir', work, '--cfg-options'] +
             _options(tiny_synthetic))
    assert (work / 'iter_2.pth').exists() and (work / 'iter_4.pth').exists()
    train, val = _train_records(str(work))
    assert [r['iter'] for r in train] == [1, 2, 3, 4]
    assert val and 0.0 <= val[-1]['mAP'] <= 1.0

    ckpt = torch.load(work / 'iter_2.pth', map_location='cpu',
                      weights_only=False)
    assert ckpt['optimizer']['state']

    resumed = tmp_path / 'resumed'
    run_tool('train.py', [
        TINY_CONFIG, '--work-dir', resumed, '--resume-from',
        work / 'iter_2.pth', '--no-validate', '--cfg-options'
    ] + _options(tiny_synthetic))
    train_resumed, _ = _train_records(str(resumed))
    # Continues at iteration 3 with the saved learning-rate schedule.
    assert [r['iter'] for r in train_resumed] == [3, 4]
    assert train_resumed[0]['lr'] == train[2]['lr']

    metrics_file = tmp_path / 'results.pkl'
    run_tool('test.py', [
        TINY_CONFIG, work / 'iter_4.pth', '--eval', 'mAP', '--out',
        metrics_file, '--cfg-options'
    ] + _options(tiny_synthetic))
    assert metrics_file.exists()

    submission = tmp_path / 'submission'
    run_tool('test.py', [
        TINY_CONFIG, work / 'iter_4.pth', '--format-only',
        '--submission-dir', submission, '--cfg-options'
    ] + _options(tiny_synthetic))
    names = sorted(os.listdir(submission))
    assert 'Task1.zip' in names
    assert sorted(os.listdir(submission / 'Task1')) == [
        'Task1_plane.txt', 'Task1_ship.txt', 'Task1_storage-tank.txt',
        'Task1_vehicle.txt'
    ]

    curves = tmp_path / 'curves.png'
    run_tool('analyze_logs.py', sorted(glob.glob(str(work / '*.log.json'))) +
             ['--out', curves])
    image = cv2.imread(str(curves))
    assert image is not None and image.shape[0] > 200
