import importlib.util
import json
import os

import numpy as np
import pytest

from rotated_tod.core.evaluation import eval_dota_task1, write_dota_submission
from rotated_tod.core.fileio import DOTA_CLASSES, parse_dota_labels

TOOL = os.path.join(os.path.dirname(__file__), '..', '..', 'tools',
                    'eval_dota.py')
LABELS = {
    'P0706': ('imagesource:GoogleEarth\ngsd:0.255589285596\n'
              '1054 1028 1063 1011 1111 1040 1112 1062 ship 1\n'
              '807 331 800 324 817 309 823 316 ship 0\n'
              '879 366 888 373 870 393 861 386 ship 0\n'),
    'P2709': ('825 2336 833 2344 785 2382 778 2372 large-vehicle 0\n'
              '1591 242 1616 242 1616 270 1591 270 storage-tank 0\n'
              '1646 270 1670 270 1670 299 1646 299 storage-tank 0\n'),
}


def load_tool():
    spec = importlib.util.spec_from_file_location('eval_dota_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dataset(tmp_path):
    """Label files and a submission: every object found except one ship,
    plus one false alarm."""
    labels = tmp_path / 'labelTxt'
    labels.mkdir()
    classes = DOTA_CLASSES['v1.0']
    results = {}
    for name, text in LABELS.items():
        (labels / f'{name}.txt').write_text(text)
        ann = parse_dota_labels(str(labels / f'{name}.txt'), classes)
        per_class = []
        for c in range(len(classes)):
            polys = ann.polygons[ann.labels == c]
            per_class.append(np.column_stack(
                [polys, np.linspace(0.9, 0.5, len(polys))]))
        results[name] = per_class
    ship = classes.index('ship')
    results['P0706'][ship] = np.concatenate([
        results['P0706'][ship][:2],
        [[0, 0, 10, 0, 10, 10, 0, 10, 0.95]]])
    write_dota_submission(results, classes, str(tmp_path / 'sub'))
    return tmp_path


def test_cli_prints_and_writes_the_report(dataset, capsys):
    tool = load_tool()
    out = dataset / 'report.json'
    code = tool.main([str(dataset / 'sub' / 'Task1.zip'),
                      str(dataset / 'labelTxt'), '--out', str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    expected = eval_dota_task1(str(dataset / 'sub'), str(dataset / 'labelTxt'),
                               DOTA_CLASSES['v1.0'])
    assert report['mAP'] == expected['mAP']
    rows = {r['class']: r for r in report['per_class']}
    # ship: FP (0.95), TP on the difficult one is ignored, TP: recall 1/2,
    # precision 0 then 1/2 -> VOC07 points 0 .. .5 reach 1/2
    assert rows['ship']['ap'] == pytest.approx(6 * 0.5 / 11, abs=1e-15)
    assert rows['storage-tank']['ap'] == pytest.approx(1.0, abs=1e-15)
    assert rows['plane']['recall'] is None  # NaN: no plane objects
    printed = capsys.readouterr().out
    assert '| storage-tank' in printed and 'mAP' in printed
    # worker processes read the zip's members: the same report
    forked = dataset / 'forked.json'
    assert tool.main([str(dataset / 'sub' / 'Task1.zip'),
                      str(dataset / 'labelTxt'), '--workers', '2', '--out',
                      str(forked)]) == 0
    assert forked.read_text() == out.read_text()


def test_cli_options(dataset, capsys):
    tool = load_tool()
    code = tool.main([str(dataset / 'sub'), str(dataset / 'labelTxt'),
                      '--classes', 'ship', 'storage-tank', 'large-vehicle',
                      '--voc12', '--iou-thr', '0.5', '0.75'])
    assert code == 0
    printed = capsys.readouterr().out
    assert 'VOC12 area' in printed and 'mAP_50_75' in printed
    assert '| plane' not in printed


def test_cli_reports_errors(dataset, capsys):
    from rotated_tod.apis.cli import run_cli
    code = run_cli(load_tool().main,
                   [str(dataset / 'nowhere'), str(dataset / 'labelTxt')])
    assert code == 2
    assert capsys.readouterr().err == \
        f'error: {dataset / "nowhere"}: no such folder or zip file\n'
