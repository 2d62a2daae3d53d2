"""The command-line tools of splitting, HRSC conversion, huge-image
inference and drawing, run end to end on tiny inputs."""
import importlib.util
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from rotated_tod.apis.inference import read_detections, write_detections
from rotated_tod.core.bbox.transforms import polygon_to_rbox
from rotated_tod.core.fileio import DOTA_CLASSES, parse_dota_labels
from rotated_tod.core.visualization import class_palette, draw_detection_errors

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / 'tests' / 'data'
CLASSES = DOTA_CLASSES['v1.0']


def load_tool(relative: str):
    path = ROOT / 'tools' / relative
    spec = importlib.util.spec_from_file_location(
        'tool_' + path.stem, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dota_sample(tmp_path):
    """P1888 (real image, 64 objects) in a DOTA folder layout."""
    root = tmp_path / 'dota'
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    (root / 'images' / 'P1888.jpg').write_bytes(
        (DATA / 'dota_samples' / 'images' / 'P1888.jpg').read_bytes())
    (root / 'labelTxt' / 'P1888.txt').write_text(
        (DATA / 'dota_samples' / 'labelTxt' / 'P1888.txt').read_text())
    return root


def test_split_cli(dota_sample, tmp_path, capsys):
    split = load_tool('data/dota/split.py')
    out = tmp_path / 'split'
    totals = split.main([
        str(dota_sample / 'images'), str(out), '--ann-dir',
        str(dota_sample / 'labelTxt'), '--patch-size', '400', '--gap', '100',
        '--rates', '1', '0.5', '--skip-empty', '--pad-value', '0', '0', '255'
    ])
    assert totals['images'] == 1 and totals['objects'] >= 64
    names = sorted(p.stem for p in (out / 'annfiles').iterdir())
    assert names == sorted(p.stem for p in (out / 'images').iterdir())
    assert 'P1888__0.5__0___0' in names and 'P1888__1__312___157' in names
    border = cv2.imread(str(out / 'images' / 'P1888__0.5__0___0.png'))
    assert border.shape == (400, 400, 3)
    assert (border[-1, -1] == [0, 0, 255]).all()      # padded in red
    assert '1 images' in capsys.readouterr().out


def test_hrsc_convert_cli(tmp_path):
    convert = load_tool('data/hrsc/convert.py')
    stats = convert.main([str(DATA / 'hrsc2016'), str(tmp_path / 'hrsc'),
                          '--splits', 'test', '--copy'])
    assert stats == {'test': dict(images=1, objects=1, difficult=0)}
    ann = parse_dota_labels(str(tmp_path / 'hrsc' / 'test' / 'labelTxt' /
                                '100000003.txt'), ('ship', ))
    assert len(ann) == 1


def test_vis_cli_modes(dota_sample, tmp_path):
    vis = load_tool('vis.py')
    ann = parse_dota_labels(str(dota_sample / 'labelTxt' / 'P1888.txt'),
                            CLASSES)
    boxes = polygon_to_rbox(ann.polygons)
    dets = [np.concatenate([boxes[ann.labels == c],
                            np.ones((int((ann.labels == c).sum()), 1))],
                           1).astype(np.float32) for c in range(len(CLASSES))]
    (tmp_path / 'dets').mkdir()
    write_detections(str(tmp_path / 'dets' / 'P1888.txt'), dets, CLASSES)
    image = cv2.imread(str(dota_sample / 'images' / 'P1888.jpg'))

    gt = vis.main([str(dota_sample / 'images'), '--out',
                   str(tmp_path / 'gt'), '--gt', str(dota_sample / 'labelTxt')])
    drawn = cv2.imread(gt[0])
    assert drawn.shape == image.shape and (drawn != image).any()

    errors = vis.main([str(dota_sample / 'images'), '--out',
                       str(tmp_path / 'err'), '--gt',
                       str(dota_sample / 'labelTxt'), '--dets',
                       str(tmp_path / 'dets')])
    expected = draw_detection_errors(
        image, read_detections(str(tmp_path / 'dets' / 'P1888.txt'),
                               CLASSES), ann, 0.5, 0.3)
    np.testing.assert_array_equal(cv2.imread(errors[0]), expected)

    with open(tmp_path / 'dets.pkl', 'wb') as f:
        pickle.dump([dets], f)
    from_pickle = vis.main([str(dota_sample / 'images'), '--out',
                            str(tmp_path / 'pkl'), '--dets',
                            str(tmp_path / 'dets.pkl')])
    assert cv2.imread(from_pickle[0]).shape == image.shape
    with open(tmp_path / 'two.pkl', 'wb') as f:
        pickle.dump([dets, dets], f)
    with pytest.raises(ValueError, match='2 results for 1 images'):
        vis.main([str(dota_sample / 'images'), '--out', str(tmp_path / 'x'),
                  '--dets', str(tmp_path / 'two.pkl')])
    with pytest.raises(SystemExit):
        vis.main([str(dota_sample / 'images'), '--out', str(tmp_path / 'x'),
                  '--mode', 'errors', '--gt', str(dota_sample / 'labelTxt')])


def test_infer_cli(tmp_path):
    from mmcv.runner import save_checkpoint

    from tests.model_utils import build_model, load_config
    infer = load_tool('infer.py')
    cfg = load_config(str(
        ROOT / 'configs/baselines/rotated_retinanet_r50_fpn_1x_dota_le90.py'))
    cfg.model.backbone.depth = 18
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.model.neck.out_channels = 32
    head = cfg.model.bbox_head
    head.in_channels = head.feat_channels = 32
    head.stacked_convs = 1
    head.num_classes = 2
    cfg.model.test_cfg.update(score_thr=0.0, nms_pre=30, max_per_img=20)
    cfg.data.test.pipeline[1].img_scale = (64, 64)
    cfg.dump(str(tmp_path / 'tiny.py'))
    save_checkpoint(build_model(cfg), str(tmp_path / 'tiny.pth'),
                    meta=dict(CLASSES=('car', 'ship')))
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / 'scene.png'),
                rng.integers(0, 255, (90, 110, 3), dtype=np.uint8))
    written = infer.main([
        str(tmp_path / 'tiny.py'), str(tmp_path / 'tiny.pth'),
        str(tmp_path / 'scene.png'), '--out', str(tmp_path / 'out'),
        '--patch-size', '64', '--gap', '16', '--score-thr', '0',
        '--device', 'cpu'
    ])
    txt, png = written[0]
    dets = read_detections(txt, ('car', 'ship'))
    centres = np.concatenate([d[:, :2] for d in dets])
    assert len(centres) > 0
    # image coordinates: beyond the first 64 x 64 patch
    assert centres[:, 0].max() > 64 or centres[:, 1].max() > 64
    assert cv2.imread(png).shape == (90, 110, 3)


def test_browse_dataset_cli(tmp_path):
    from rotated_tod.datasets.synthetic import generate_synthetic_dataset
    generate_synthetic_dataset(str(tmp_path / 'syn'), 2, size=(256, 256),
                               density=2.0, progress=False)
    with_objects = [
        p.stem for p in sorted((tmp_path / 'syn' / 'labelTxt').iterdir())
        if len(p.read_text().splitlines()) > 2      # beyond the 2 headers
    ]
    browse = load_tool('browse_dataset.py')
    written = browse.main([
        str(ROOT / 'configs/_base_/datasets/synthetic.py'), '--out',
        str(tmp_path / 'browse'), '--cfg-options',
        f'data.train.ann_file={tmp_path}/syn/labelTxt/',
        f'data.train.img_prefix={tmp_path}/syn/images/'
    ])
    assert with_objects and sorted(Path(p).stem for p in written) == \
        with_objects            # training skips images without objects
    palette = np.array(class_palette(4))
    for path in written:
        img = cv2.imread(path)
        assert img.shape == (512, 512, 3)    # after the pipeline's RResize
        # the class tags are filled with the exact class colours
        exact = (img[:, :, None, :] == palette[None, None]).all(-1)
        assert exact.any()
