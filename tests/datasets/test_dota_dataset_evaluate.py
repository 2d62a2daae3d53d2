import numpy as np
import pytest

from rotated_tod.core.bbox.transforms import rbox_to_polygon
from rotated_tod.core.evaluation import (
    eval_dota_task1,
    eval_polygon_map,
    read_dota_submission,
)
from rotated_tod.datasets.dota_dataset import DOTAPolyDataset

CLASSES = ('ship', 'storage-tank', 'large-vehicle')
LABELS = {
    'P0706': ('1054 1028 1063 1011 1111 1040 1112 1062 ship 1\n'
              '807 331 800 324 817 309 823 316 ship 0\n'
              '879 366 888 373 870 393 861 386 ship 0\n'),
    'P2709': ('825 2336 833 2344 785 2382 778 2372 large-vehicle 0\n'
              '1591 242 1616 242 1616 270 1591 270 storage-tank 0\n'
              '1646 270 1670 270 1670 299 1646 299 storage-tank 0\n'),
}


@pytest.fixture
def dataset(tmp_path):
    (tmp_path / 'labelTxt').mkdir()
    (tmp_path / 'images').mkdir()
    for name, text in LABELS.items():
        (tmp_path / 'labelTxt' / f'{name}.txt').write_text(text)
        (tmp_path / 'images' / f'{name}.png').write_bytes(b'')
    return DOTAPolyDataset(str(tmp_path / 'labelTxt'), [], classes=CLASSES,
                           img_prefix=str(tmp_path / 'images'), test_mode=True)


def fitted_rectangles(dataset, shrink=1.0):
    """Each object's fitted rectangle (what a detector predicts), sides
    scaled by ``shrink``, as per-image per-class (K, 6) results."""
    results = []
    for info in dataset.data_infos:
        boxes, labels = info['ann']['bboxes'], info['ann']['labels']
        per_class = []
        for c in range(len(CLASSES)):
            b = boxes[labels == c].astype(np.float64)
            b[:, 2:4] *= shrink
            per_class.append(np.column_stack([b, np.full(len(b), 0.9)]))
        results.append(per_class)
    return results


def test_evaluate_scores_against_the_quadrilaterals(dataset):
    results = fitted_rectangles(dataset)
    out = dataset.evaluate(results)
    assert out['mAP'] == pytest.approx(1.0, abs=1e-15)
    assert out['AP_ship'] == out['AP_storage-tank'] == pytest.approx(1.0,
                                                                     abs=1e-15)
    assert out['recall_tiny'] == 1.0 and out['recall_small'] == 1.0
    expected = eval_polygon_map(results, dataset.annotations(), 3)
    assert out['mAP'] == expected['mAP']


def test_evaluate_threshold_lists_and_hrsc_keys(dataset):
    # sides scaled by 0.8: IoU with the fitted rectangle 0.64, so matches
    # end between the 0.55 and 0.7 thresholds (quadrilaterals shift it a bit)
    results = fitted_rectangles(dataset, shrink=0.8)
    thrs = [round(0.5 + 0.05 * i, 2) for i in range(10)]
    out = dataset.evaluate(results, iou_thr=thrs, use_07_metric=False)
    assert out['mAP'] == out['mAP_50'] == 1.0
    assert out['mAP_95'] == 0.0
    assert out['mAP_50_95'] == pytest.approx(
        np.mean([out[f'mAP_{int(round(t * 100))}'] for t in thrs]), abs=1e-15)
    assert 0.1 < out['mAP_50_95'] < 0.5
    both = dataset.evaluate(results, metric=['mAP', 'hrsc'])
    assert both['AP50_07'] == both['mAP'] == pytest.approx(1.0, abs=1e-15)
    assert both['AP50_95'] == pytest.approx(out['mAP_50_95'], abs=1e-15)
    with pytest.raises(KeyError, match='bbox'):
        dataset.evaluate(results, metric='bbox')


def test_format_results_writes_a_submission_that_reads_back(dataset, tmp_path):
    """The ``tools/test.py --format-only --submission-dir`` path."""
    results = fitted_rectangles(dataset)
    files, tmp_dir = dataset.format_results(
        results, submission_dir=str(tmp_path / 'sub'))
    assert tmp_dir is None and 'Task1.zip' in files
    back = read_dota_submission(files['Task1.zip'], CLASSES)
    assert sorted(back) == dataset.image_ids()
    for name, per_class in zip(dataset.image_ids(), results):
        for c, dets in enumerate(per_class):
            np.testing.assert_allclose(back[name][c][:, :8],
                                       rbox_to_polygon(dets[:, :5]), atol=0.006)
    # scored from the files, the submission gets the in-memory mAP
    report = eval_dota_task1(str(tmp_path / 'sub'), str(tmp_path / 'labelTxt'),
                             CLASSES)
    assert report['mAP'] == pytest.approx(dataset.evaluate(results)['mAP'],
                                          abs=1e-15)
