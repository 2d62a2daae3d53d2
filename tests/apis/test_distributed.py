"""Two CPU processes over torchrun (gloo): training ends with identical
weights on both ranks, and distributed testing gathers every result."""
import os
import subprocess
import sys

import torch
from mmcv import Config

from tests.conftest import REPO, TINY_CONFIG, synthetic_data_options


def test_two_process_cpu_training_keeps_ranks_identical(tiny_synthetic,
                                                        tmp_path):
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.merge_from_dict(synthetic_data_options(tiny_synthetic))
    cfg.custom_imports = dict(
        imports=['rotated_tod', 'tests.apis.rank_weights_hook'],
        allow_failed_imports=False)
    cfg.custom_hooks = [dict(type='SaveRankWeightsHook')]
    cfg.data.samples_per_gpu = 1
    config = str(tmp_path / 'tiny_ddp.py')
    cfg.dump(config)
    work = tmp_path / 'work'
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
         '2', '--master_port', '29731',
         os.path.join(REPO, 'tools', 'train.py'), config, '--launcher',
         'pytorch', '--work-dir', str(work), '--no-validate'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0 = torch.load(work / 'rank0_weights.pth', weights_only=False)
    rank1 = torch.load(work / 'rank1_weights.pth', weights_only=False)
    initial = torch.load(work / 'iter_2.pth', weights_only=False)
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    moved = [n for n in rank0
             if not torch.equal(rank0[n], initial['state_dict'][n])]
    assert moved, 'weights did not change between iterations 2 and 4'

    results = tmp_path / 'results.pkl'
    proc = subprocess.run(
        ['bash', os.path.join(REPO, 'tools', 'dist_test.sh'), config,
         str(work / 'iter_4.pth'), '2', '--eval', 'mAP', '--out',
         str(results)],
        cwd=REPO, env=dict(env, PYTHON=sys.executable, PORT='29732'),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import mmcv
    from mmrotate.datasets import build_dataset
    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    gathered = mmcv.load(str(results))
    assert len(gathered) == len(dataset)
    assert all(len(per_image) == 4 for per_image in gathered)
    assert "'mAP'" in proc.stdout
