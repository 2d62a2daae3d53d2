"""The leaderboard library: the imposed budget on one- and two-stage model
dicts, the run plan, the table from hand-made records, and a 2-iteration run
of one tiny row (JSON, table and chart written; a finished run is skipped)."""
import dataclasses
import json
import os
import subprocess

import pytest

from rotated_tod.apis import leaderboard as lb
from tests.conftest import REPO

TINY = lb.Budget(name='test', iters=2, batch=2, patch_size=128, gap=32,
                 backbone_width=8, neck_channels=16, head_convs=1, lr=0.001,
                 weight_decay=0.05, warmup_iters=1, checkpoint_interval=1,
                 train_scenes=1, val_scenes=1, scene_size=256, workers=0)
ROWS = [
    dict(name='Rotated RetinaNet',
         config='configs/baselines/rotated_retinanet_r50_fpn_1x_dota_le90.py',
         baseline=None, seeds=2, group='retinanet'),
    dict(name='+ KLD',
         config='configs/gaussian/'
         'rotated_retinanet_kld_r50_fpn_1x_synthetic_le90.py',
         baseline='Rotated RetinaNet', seeds=2, group='retinanet'),
    dict(name='CLA only', config='x.py', baseline='Rotated RetinaNet',
         seeds=1, group='refined_det'),
]


def test_impose_budget_one_and_two_stage():
    one_stage = dict(
        type='RotatedRetinaNet',
        backbone=dict(type='ResNet', depth=50, out_indices=(0, 1, 2, 3)),
        neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048],
                  out_channels=256, num_outs=5),
        bbox_head=dict(type='H', num_classes=15, in_channels=256,
                       feat_channels=256, stacked_convs=4,
                       norm_cfg=dict(type='GN', num_groups=32)),
        test_cfg=dict(nms_pre=2000, score_thr=0.05, max_per_img=2000))
    model = lb.impose_budget(one_stage, TINY, 4)
    assert model['backbone']['depth'] == 18
    assert model['backbone']['init_cfg'] is None
    assert model['neck']['in_channels'] == [8, 16, 32, 64]
    assert model['neck']['out_channels'] == 16
    head = model['bbox_head']
    assert (head['in_channels'], head['feat_channels'],
            head['stacked_convs'], head['num_classes']) == (16, 16, 1, 4)
    assert head['norm_cfg']['num_groups'] == 16  # divides the width
    assert model['test_cfg'] == dict(nms_pre=1000, score_thr=0.05,
                                     max_per_img=300)
    assert one_stage['bbox_head']['num_classes'] == 15  # input unchanged
    two_stage = dict(
        backbone=dict(type='ResNet', depth=50, out_indices=(1, 2, 3)),
        neck=dict(type='FPN', in_channels=[512, 1024, 2048],
                  out_channels=256),
        rpn_head=dict(in_channels=256, feat_channels=256),
        roi_head=dict(
            bbox_roi_extractor=dict(out_channels=256),
            bbox_head=dict(in_channels=256, fc_out_channels=1024,
                           num_classes=15)),
        test_cfg=dict(rpn=dict(nms_pre=2000, max_per_img=2000),
                      rcnn=dict(score_thr=0.05, max_per_img=2000)))
    model = lb.impose_budget(two_stage, TINY, 1)
    assert model['neck']['in_channels'] == [16, 32, 64]
    assert model['rpn_head'] == dict(in_channels=16, feat_channels=16)
    roi = model['roi_head']
    assert roi['bbox_roi_extractor']['out_channels'] == 16
    assert roi['bbox_head'] == dict(in_channels=16, fc_out_channels=1024,
                                    num_classes=1)
    # proposals are the method's; only final detections are capped
    assert model['test_cfg']['rpn'] == dict(nms_pre=2000, max_per_img=2000)
    assert model['test_cfg']['rcnn']['max_per_img'] == 300


def test_plan_runs_order_seeds_and_errors():
    plan = [(s, r['name'], k) for s, r, k in
            lb.plan_runs(ROWS, ['synthetic'])]
    assert plan == [('synthetic', 'Rotated RetinaNet', 0),
                    ('synthetic', '+ KLD', 0), ('synthetic', 'CLA only', 0),
                    ('synthetic', 'Rotated RetinaNet', 1),
                    ('synthetic', '+ KLD', 1)]
    assert len(lb.plan_runs(ROWS, lb.SUITES, seeds=1, only=['+ KLD'])) == 2
    with pytest.raises(ValueError, match='unknown row'):
        lb.plan_runs(ROWS, ['synthetic'], only=['nope'])
    with pytest.raises(ValueError, match='unknown suite'):
        lb.plan_runs(ROWS, ['dota'])


def record(name, seed, m, t, s_per_iter, suite='synthetic', budget=TINY):
    return dict(key=lb.run_key(suite, name, seed, budget), suite=suite,
                name=name, seed=seed, settings=dataclasses.asdict(budget),
                metrics=dict(mAP=m, mAP_50_95=m / 2, AP_vt=None, AP_t=t,
                             AP_s=m, AP_m=m),
                train_s_per_iter=s_per_iter)


def test_table_means_spreads_and_deltas(tmp_path):
    records = [record('Rotated RetinaNet', 0, 0.50, 0.30, 1.0),
               record('Rotated RetinaNet', 1, 0.52, 0.34, 1.2),
               record('+ KLD', 0, 0.55, 0.40, 1.65),
               record('+ KLD', 1, 0.55, 0.40, 1.65),
               # another budget: not in this table
               record('CLA only', 0, 0.9, 0.9, 1.0,
                      budget=lb.with_iters(TINY, 3))]
    path = tmp_path / 'board.md'
    lb.write_table(records, ROWS, TINY, str(path), 'python x.py')
    text = path.read_text()
    assert 'python x.py' in text and 'CLA only' not in text
    base = next(line for line in text.splitlines()
                if line.startswith('| Rotated RetinaNet (baseline)'))
    # mean 51.0, spread 2.0 points; tiny AP 32.0 (4.0)
    assert '| 51.0 (2.0) |' in base and '| 32.0 (4.0) |' in base
    kld = next(line for line in text.splitlines()
               if line.startswith('| + KLD'))
    # +4.0 mAP50, +8.0 tiny AP, 1.65 s/iter = 1.50x the baseline's 1.1
    assert '| +4.0 | +8.0 | 1.65 | 1.50x |' in kld
    lb.write_chart(records, ROWS, TINY, str(tmp_path / 'board.png'))
    assert (tmp_path / 'board.png').read_bytes()[:4] == b'\x89PNG'


def test_two_iteration_run_then_skip(tmp_path):
    results = tmp_path / 'results' / 'board.json'
    messages = []
    kwargs = dict(rows=ROWS[:1], budget=TINY, results_path=str(results),
                  data_root=str(tmp_path / 'data'),
                  work_root=str(tmp_path / 'work'), repo_dir=REPO,
                  suites=['synthetic'], seeds=1, say=messages.append)
    records, failed = lb.run_leaderboard(**kwargs)
    assert len(records) == 1 and failed == []
    saved = json.loads(results.read_text())['records']
    assert saved == records
    rec = saved[0]
    assert rec['name'] == 'Rotated RetinaNet' and rec['seed'] == 0
    assert rec['settings']['iters'] == 2
    for key in ('mAP', 'mAP_50_95', 'AP_vt', 'AP_t', 'AP_s', 'AP_m'):
        assert key in rec['metrics']
    assert rec['train_s_per_iter'] > 0
    # The commit of the checkout (None outside a git checkout, e.g. an
    # unpacked source archive).
    head = subprocess.run(['git', '-C', REPO, 'rev-parse', 'HEAD'],
                          capture_output=True, text=True)
    expected = head.stdout.strip() if head.returncode == 0 else None
    assert rec['code']['version'] and rec['code']['commit'] == expected
    work = (tmp_path / 'work' / lb.budget_id(TINY) / 'synthetic' /
            'rotated_retinanet')
    assert (work / 'seed0' / 'iter_2.pth').exists()
    assert lb.budget_id(TINY).startswith('test_2it_')
    assert lb.budget_id(lb.with_iters(TINY, 3)) != lb.budget_id(TINY)
    # a second call finds the run done and trains nothing
    messages.clear()
    again, _ = lb.run_leaderboard(**kwargs)
    assert again == records
    assert '1 already done, 0 to run' in messages[0] and len(messages) == 1
    table = tmp_path / 'board.md'
    lb.write_table(again, ROWS, TINY, str(table), 'cmd')
    assert '| Rotated RetinaNet (baseline) | 1 |' in table.read_text()
    assert os.path.getsize(results) > 0


def _add_records(path: str, start: int, barrier) -> None:
    barrier.wait()
    for k in range(start, start + 100):
        lb.add_record(path, dict(key=f'run{k}', value=k))


def test_processes_adding_records_at_once_keep_all(tmp_path):
    import multiprocessing
    path = str(tmp_path / 'results' / 'leaderboard.json')
    lb.add_record(path, dict(key='run0', value=-1))
    context = multiprocessing.get_context('spawn')
    starts = (0, 1000, 2000)
    barrier = context.Barrier(len(starts))
    workers = [context.Process(target=_add_records,
                               args=(path, start, barrier))
               for start in starts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    records = lb.load_records(path)
    keys = sorted(r['key'] for r in records)
    assert keys == sorted(f'run{k}' for s in starts for k in range(s, s + 100))
    assert next(r for r in records if r['key'] == 'run0')['value'] == 0


def test_a_run_claimed_by_another_process_is_skipped(tmp_path):
    work_dir = str(tmp_path / 'work' / lb.budget_id(TINY) / 'synthetic' /
                   'rotated_retinanet' / 'seed0')
    claim = lb.claim_run(work_dir)
    assert claim is not None and lb.claim_run(work_dir) is None
    messages = []
    records, failed = lb.run_leaderboard(
        rows=ROWS[:1], budget=TINY,
        results_path=str(tmp_path / 'board.json'),
        data_root=str(tmp_path / 'data'), work_root=str(tmp_path / 'work'),
        repo_dir=REPO, suites=['synthetic'], seeds=1, say=messages.append)
    assert records == [] and failed == []
    assert 'running in another process' in messages[-1]
    assert not os.path.exists(os.path.join(work_dir, 'iter_2.pth'))
    claim.close()
    again = lb.claim_run(work_dir)
    assert again is not None
    again.close()


def test_report_suffix_keeps_other_budgets_off_the_main_table():
    cpu, gpu = lb.BUDGETS['cpu'], lb.BUDGETS['gpu']
    assert lb.report_suffix(cpu) == ''
    # --iters equal to the budget's own is the budget itself
    assert lb.report_suffix(lb.with_iters(cpu, cpu.iters)) == ''
    assert lb.report_suffix(lb.with_iters(cpu, 3000)) == '_cpu_3000it'
    assert lb.report_suffix(gpu) == '_gpu'
    assert lb.report_suffix(lb.with_iters(gpu, 500)) == '_gpu_500it'
    assert lb.report_suffix(lb.with_val_scenes(cpu, cpu.val_scenes)) == ''
    assert lb.report_suffix(lb.with_val_scenes(
        lb.with_iters(cpu, 4500), 48)) == '_cpu_4500it_48val'
    assert lb.report_suffix(lb.with_val_scenes(gpu, 48)) == '_gpu_48val'
    # a budget of its own (a test's) is named by its settings' hash
    assert lb.report_suffix(TINY) == '_' + lb.budget_id(TINY)


def test_cli_report_of_another_budget_writes_its_own_files(tmp_path,
                                                           monkeypatch):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'leaderboard_cli', os.path.join(REPO, 'bench', 'leaderboard.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    monkeypatch.setattr(cli, 'TABLE', str(tmp_path / 'docs.v1' / 'lb.md'))
    monkeypatch.setattr(cli, 'CHART', str(tmp_path / 'docs.v1' / 'lb.png'))
    monkeypatch.setattr(cli, 'RESULTS', str(tmp_path / 'none.json'))
    (tmp_path / 'docs.v1').mkdir()
    assert cli.main(['--report-only', '--iters', '3000']) == 0
    written = sorted(p.name for p in (tmp_path / 'docs.v1').iterdir())
    assert written == ['lb_cpu_3000it.md', 'lb_cpu_3000it.png']
    text = (tmp_path / 'docs.v1' / 'lb_cpu_3000it.md').read_text()
    assert 'python bench/leaderboard.py --iters 3000' in text
    assert '3000 iterations' in text


def test_budgets_scoring_on_other_scenes_do_not_share_data(tmp_path):
    """A budget with more validation scenes writes its own data folder: a
    shared one would leave the extra scenes in the folder the default
    budget scores on."""
    tiny = dataclasses.replace(TINY, scene_size=128, train_scenes=1,
                               val_scenes=1)
    more = lb.with_val_scenes(tiny, 2)
    small = lb.prepare_suite('synthetic', str(tmp_path), tiny,
                             progress=False)
    large = lb.prepare_suite('synthetic', str(tmp_path), more,
                             progress=False)
    assert small.val_full_labels != large.val_full_labels
    assert len(os.listdir(small.val_full_labels)) == 1
    assert len(os.listdir(large.val_full_labels)) == 2
    assert lb.suite_folder('synthetic', tiny) != lb.suite_folder(
        'synthetic', dataclasses.replace(tiny, gap=16))
    assert lb.suite_folder('harbour', tiny) == lb.suite_folder(
        'harbour', more)


def test_cli_val_scenes_names_its_table_and_rejects_nonsense(
        tmp_path, monkeypatch, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'leaderboard_cli', os.path.join(REPO, 'bench', 'leaderboard.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    monkeypatch.setattr(cli, 'TABLE', str(tmp_path / 'lb.md'))
    monkeypatch.setattr(cli, 'CHART', str(tmp_path / 'lb.png'))
    monkeypatch.setattr(cli, 'RESULTS', str(tmp_path / 'none.json'))
    assert cli.main(['--report-only', '--iters', '4500',
                     '--val-scenes', '48']) == 0
    text = (tmp_path / 'lb_cpu_4500it_48val.md').read_text()
    assert 'python bench/leaderboard.py --iters 4500 --val-scenes 48' in text
    assert '48 synthetic validation scenes' in text
    with pytest.raises(SystemExit) as exit_info:
        cli.main(['--report-only', '--val-scenes', '0'])
    assert exit_info.value.code == 2
    assert 'must be a positive integer' in capsys.readouterr().err
