"""Splitting DOTA images: window layout, patch names, cut objects, resume,
and the split -> merge round trip on the real DOTA label samples."""
import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Polygon

from rotated_tod.core.bbox.polygon import polygon_iou
from rotated_tod.core.bbox.transforms import polygon_to_rbox, rbox_to_polygon
from rotated_tod.core.fileio import (
    DOTA_CLASSES,
    DOTAAnnotation,
    DOTALabelError,
    format_dota_labels,
    format_rate,
    parse_dota_labels,
    parse_patch_id,
    patch_name,
    polygon_area,
)
from rotated_tod.core.post_processing import merge_patch_results
from rotated_tod.datasets.dota_split import (
    SplitSettings,
    crop_patch,
    reduce_to_quadrilateral,
    sliding_windows,
    split_dataset,
    split_image,
    window_annotation,
)

DATA = Path(__file__).resolve().parents[1] / 'data' / 'dota_samples'
CLASSES = DOTA_CLASSES['v1.0']


def _rect(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def _write_sample(root: Path, name: str, size, lines, image=None):
    """An image (zeros unless given) and its label file under root."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'labelTxt').mkdir(parents=True, exist_ok=True)
    w, h = size
    img = np.zeros((h, w, 3), np.uint8) if image is None else image
    cv2.imwrite(str(root / 'images' / f'{name}.png'), img)
    (root / 'labelTxt' / f'{name}.txt').write_text(''.join(
        line + '\n' for line in lines))


def _line(poly, name='plane', difficult=0):
    return ' '.join(str(v) for v in poly) + f' {name} {difficult}'


# --- window layout and names ------------------------------------------------

@pytest.mark.parametrize('length,expected', [
    (1500, [0, 476]),            # last window moved back to the border
    (1024, [0]),
    (500, [0]),                  # smaller than a patch: one padded window
    (2672, [0, 824, 1648]),      # stride 824 fits exactly
    (1025, [0, 1]),
])
def test_sliding_windows_hand_cases(length, expected):
    windows = sliding_windows(length, 300, 1024, 200)
    assert sorted(set(windows[:, 0].tolist())) == expected
    assert (windows[:, 2] - windows[:, 0] == 1024).all()
    assert (windows[:, 3] - windows[:, 1] == 1024).all()


def test_sliding_windows_cover_with_overlap():
    rng = np.random.default_rng(0)
    for _ in range(50):
        width, height = rng.integers(1, 5000, 2)
        size = int(rng.integers(64, 1500))
        gap = int(rng.integers(0, size // 2))
        windows = sliding_windows(width, height, size, gap)
        for axis, length in ((0, width), (1, height)):
            starts = np.unique(windows[:, axis])
            assert starts[0] == 0
            assert starts[-1] + size >= length
            if length > size:
                assert starts[-1] + size == length  # ends on the border
                # neighbours overlap by at least the gap: an object no
                # longer than the gap fits whole in some window
                assert (np.diff(starts) <= size - gap).all()
                assert (np.diff(starts) > 0).all()
            expected = 1 if length <= size else math.ceil(
                (length - size) / (size - gap)) + 1
            assert len(starts) == expected


def test_patch_names_round_trip():
    assert format_rate(1.0) == '1'
    assert format_rate(0.5) == '0.5'
    assert format_rate(1.5) == '1.5'
    assert patch_name('P0001', 1.0, 0, 824) == 'P0001__1__0___824'
    for rate in (1.0, 0.5, 1.5, 1 / 3, 0.75):
        name = patch_name('P_9', rate, 12, 34)
        assert parse_patch_id(name) == ('P_9', rate, 12, 34)


def test_image_names_with_the_separator_are_refused(tmp_path):
    _write_sample(tmp_path, 'a__b', (32, 32), [])
    with pytest.raises(ValueError, match=r'a__b\.png: .*"__"'):
        split_dataset(str(tmp_path / 'images'), str(tmp_path / 'out'),
                      patch_size=16, gap=4, progress=False)


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match='gap'):
        SplitSettings(patch_size=100, gap=100)
    with pytest.raises(ValueError, match='rates'):
        SplitSettings(rates=(0.0, ))
    with pytest.raises(ValueError, match='pad_value'):
        SplitSettings(pad_value=(1, 2))


# --- cut objects -------------------------------------------------------------

def test_reduce_to_quadrilateral_known_answers():
    pentagon = np.array([[0, 0], [10, 0], [10, 9], [9, 10], [0, 10]], float)
    np.testing.assert_allclose(
        reduce_to_quadrilateral(pentagon),
        [[0, 0], [10, 0], [9.5, 9.5], [0, 10]])
    triangle = np.array([[0, 0], [10, 0], [0, 10]], float)
    np.testing.assert_allclose(
        reduce_to_quadrilateral(triangle),
        [[0, 0], [10, 0], [5, 5], [0, 10]])
    assert reduce_to_quadrilateral(np.zeros((2, 2))) is None
    # a 7-gon loses its three shortest edges one after the other
    angles = np.array([0, 0.2, 1.5, 2.9, 3.1, 4.4, 5.9])
    heptagon = np.stack([np.cos(angles), np.sin(angles)], 1)
    quad = reduce_to_quadrilateral(heptagon)
    assert quad.shape == (4, 2)
    assert Polygon(heptagon).buffer(1e-9).contains(Polygon(quad))


def test_window_annotation_iof_rules():
    ann = DOTAAnnotation(
        np.array([
            _rect(90, 40, 110, 60),   # IoF 0.5 in the left window
            _rect(85, 10, 105, 30),   # IoF 0.75 left, 0.25 right
            _rect(20, 20, 40, 30),    # inside the left window
            _rect(100, 70, 120, 80),  # touches the left window only
            _rect(85, 75, 105, 95),   # IoF 0.75, already difficult
        ], float),
        np.array([0, 1, 2, 3, 4]),
        np.array([False, False, True, False, True]),
        {'gsd': '0.5'})
    left = window_annotation(ann, (0, 0, 100, 100), (200, 100), 0.7)
    by_label = {int(k): i for i, k in enumerate(left.labels)}
    assert set(by_label) == {0, 1, 2, 4}
    expected = {0: (_rect(90, 40, 100, 60), True),
                1: (_rect(85, 10, 100, 30), False),
                2: (_rect(20, 20, 40, 30), True),
                4: (_rect(85, 75, 100, 95), True)}
    for label, (poly, difficult) in expected.items():
        got = left.polygons[by_label[label]]
        assert Polygon(got.reshape(4, 2)).equals(
            Polygon(np.reshape(poly, (4, 2))))
        assert left.difficult[by_label[label]] == difficult
    assert left.meta == {'gsd': '0.5'}
    right = window_annotation(ann, (100, 0, 200, 100), (200, 100), 0.7)
    by_label = {int(k): i for i, k in enumerate(right.labels)}
    assert set(by_label) == {0, 1, 3, 4}
    # patch coordinates: x shifted by the window origin
    assert Polygon(right.polygons[by_label[1]].reshape(4, 2)).equals(
        Polygon(np.reshape(_rect(0, 10, 5, 30), (4, 2))))
    assert right.difficult[by_label[1]]          # IoF 0.25
    assert not right.difficult[by_label[3]]      # whole


def test_window_annotation_keeps_vertex_order_and_reduces_pentagons():
    # A diamond cut by the window's top and bottom edges and its right edge:
    # the intersection has 5 vertices, IoF = 3500 / 7200.
    diamond = [40, 50, 100, -10, 160, 50, 100, 110]
    ann = DOTAAnnotation(np.array([diamond], float), np.array([0]),
                         np.array([False]))
    out = window_annotation(ann, (0, 0, 100, 100), (100, 100), 0.4)
    assert len(out) == 1 and not out.difficult[0]   # 0.486 > 0.4
    out = window_annotation(ann, (0, 0, 100, 100), (100, 100), 0.5)
    assert out.difficult[0]
    quad = out.polygons[0].reshape(4, 2)
    window = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)])
    assert window.buffer(1e-6).contains(Polygon(quad))
    assert Polygon(np.reshape(diamond, (4, 2))).buffer(1e-6).contains(
        Polygon(quad))
    # the vertex nearest the original first vertex (40, 50) comes first
    np.testing.assert_allclose(quad[0], [40, 50])


def test_sliver_below_a_tenth_of_a_pixel_is_dropped():
    ann = DOTAAnnotation(np.array([_rect(99.97, 10, 130, 20)], float),
                         np.array([0]), np.array([False]))
    out = window_annotation(ann, (0, 0, 100, 100), (200, 100), 0.7)
    assert len(out) == 0


# --- whole images ------------------------------------------------------------

def test_cut_objects_in_written_patches(tmp_path):
    _write_sample(tmp_path / 'src', 'img', (200, 100), [
        'imagesource:GoogleEarth', 'gsd:0.25',
        _line(_rect(90, 40, 110, 60), 'ship'),
        _line(_rect(85, 10, 105, 30), 'plane'),
    ])
    split_dataset(str(tmp_path / 'src' / 'images'), str(tmp_path / 'out'),
                  str(tmp_path / 'src' / 'labelTxt'), patch_size=100, gap=0,
                  progress=False)
    left = parse_dota_labels(
        str(tmp_path / 'out' / 'annfiles' / 'img__1__0___0.txt'), CLASSES)
    right = parse_dota_labels(
        str(tmp_path / 'out' / 'annfiles' / 'img__1__100___0.txt'), CLASSES)
    assert left.meta == {'imagesource': 'GoogleEarth', 'gsd': '0.25'}
    names = {CLASSES[k]: bool(d) for k, d in zip(left.labels,
                                                 left.difficult)}
    assert names == {'ship': True, 'plane': False}
    names = {CLASSES[k]: bool(d) for k, d in zip(right.labels,
                                                 right.difficult)}
    assert names == {'ship': True, 'plane': True}


def test_malformed_label_names_file_and_line(tmp_path):
    _write_sample(tmp_path, 'bad', (64, 64), [
        _line(_rect(1, 1, 9, 9)), '1 2 3 4 5 6 7 plane 0'])
    with pytest.raises(DOTALabelError, match=r'bad\.txt:2:'):
        split_dataset(str(tmp_path / 'images'), str(tmp_path / 'out'),
                      str(tmp_path / 'labelTxt'), patch_size=32, gap=8,
                      progress=False)
    os.remove(tmp_path / 'labelTxt' / 'bad.txt')
    with pytest.raises(FileNotFoundError, match=r'bad\.txt'):
        split_dataset(str(tmp_path / 'images'), str(tmp_path / 'out2'),
                      str(tmp_path / 'labelTxt'), patch_size=32, gap=8,
                      progress=False)


def test_empty_patches_kept_or_skipped(tmp_path):
    _write_sample(tmp_path, 'one', (300, 100), [_line(_rect(10, 10, 30, 30))])
    windows = sliding_windows(300, 100, 100, 20)
    kept = split_dataset(str(tmp_path / 'images'), str(tmp_path / 'kept'),
                         str(tmp_path / 'labelTxt'), patch_size=100, gap=20,
                         progress=False)
    assert kept['patches'] == len(windows) == 4
    assert len(os.listdir(tmp_path / 'kept' / 'annfiles')) == 4
    skipped = split_dataset(str(tmp_path / 'images'), str(tmp_path / 'skip'),
                            str(tmp_path / 'labelTxt'), patch_size=100,
                            gap=20, keep_empty=False, progress=False)
    assert skipped['patches'] == 1
    assert os.listdir(tmp_path / 'skip' / 'images') == ['one__1__0___0.png']


def test_padding_and_patch_pixels(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (150, 130, 3), dtype=np.uint8)
    _write_sample(tmp_path, 'px', (130, 150), [], image=image)
    split_dataset(str(tmp_path / 'images'), str(tmp_path / 'pad'),
                  patch_size=100, gap=10, pad_value=(1, 2, 3),
                  progress=False)
    patch = cv2.imread(str(tmp_path / 'pad' / 'images' /
                           'px__1__30___50.png'))
    np.testing.assert_array_equal(patch, image[50:150, 30:130])
    split_dataset(str(tmp_path / 'images'), str(tmp_path / 'big'),
                  patch_size=200, gap=10, pad_value=(1, 2, 3),
                  progress=False)
    patch = cv2.imread(str(tmp_path / 'big' / 'images' / 'px__1__0___0.png'))
    assert patch.shape == (200, 200, 3)
    np.testing.assert_array_equal(patch[:150, :130], image)
    assert (patch[150:] == [1, 2, 3]).all() and (patch[:, 130:] ==
                                                 [1, 2, 3]).all()
    assert crop_patch(image, (0, 0, 200, 200), padding=False).shape == \
        (150, 130, 3)


def test_test_mode_writes_images_only(tmp_path):
    _write_sample(tmp_path, 'a', (120, 90), [])
    totals = split_dataset(str(tmp_path / 'images'), str(tmp_path / 'out'),
                           patch_size=64, gap=16, rates=(1.0, 0.5),
                           progress=False)
    names = sorted(os.listdir(tmp_path / 'out' / 'images'))
    expected = sorted(
        patch_name('a', rate, x, y) + '.png'
        for rate, (w, h) in ((1.0, (120, 90)), (0.5, (60, 45)))
        for x, y, _, _ in sliding_windows(w, h, 64, 16))
    assert names == expected and totals['patches'] == len(expected)
    assert not (tmp_path / 'out' / 'annfiles').exists()


def test_resume_skips_finished_images(tmp_path):
    for name in ('a', 'b'):
        _write_sample(tmp_path, name, (150, 100),
                      [_line(_rect(10, 10, 40, 30))])
    args = (str(tmp_path / 'images'), str(tmp_path / 'out'),
            str(tmp_path / 'labelTxt'))
    first = split_dataset(*args, patch_size=64, gap=16, progress=False)
    assert first['skipped'] == 0 and first['patches'] > 0
    lost = tmp_path / 'out' / 'images' / 'a__1__0___0.png'
    os.remove(lost)
    again = split_dataset(*args, patch_size=64, gap=16, progress=False)
    assert again['skipped'] == 1            # b was complete
    assert again['patches'] == first['patches'] // 2   # a was redone
    assert lost.exists()
    with pytest.raises(ValueError, match='other settings.*gap'):
        split_dataset(*args, patch_size=64, gap=8, progress=False)


def test_parallel_split_equals_serial(tmp_path):
    for k, name in enumerate(('a', 'b', 'c')):
        _write_sample(tmp_path, name, (160, 120),
                      [_line(_rect(10 + k, 50, 90, 70), 'ship')])
    outputs = []
    for nproc in (1, 2):
        out = tmp_path / f'out{nproc}'
        split_dataset(str(tmp_path / 'images'), str(out),
                      str(tmp_path / 'labelTxt'), patch_size=64, gap=16,
                      nproc=nproc, progress=False)
        outputs.append({
            f: (out / 'annfiles' / f).read_text()
            for f in sorted(os.listdir(out / 'annfiles'))
        })
    assert outputs[0] == outputs[1] and len(outputs[0]) == 3 * 9


# --- split + merge round trip on the real DOTA labels -------------------------

def _vertices_inside(polys, convex_polys, tol):
    """(P, M) bool: all 4 vertices of ``polys[p]`` lie in (or within ``tol``
    of) the convex quadrilateral ``convex_polys[m]``, by their signed
    distances to its edge lines."""
    quads = convex_polys.reshape(-1, 4, 2)
    edges = np.roll(quads, -1, axis=1) - quads
    area = edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]
    inward = np.stack([-edges[..., 1], edges[..., 0]], -1) * np.sign(
        area)[:, None, None]
    inward /= np.linalg.norm(inward, axis=-1, keepdims=True)
    pts = polys.reshape(-1, 1, 4, 1, 2)            # (P, 1, vertex, 1, xy)
    offsets = pts - quads[None, :, None]           # (P, M, vertex, edge, xy)
    dist = (offsets * inward[None, :, None]).sum(-1)
    return (dist >= -tol).all(axis=(2, 3))


def _patch_results(out_dir: Path):
    """The split's own labels as detections (score: object area in image
    pixels, so a whole copy of an object outranks its cut copies)."""
    ids, results = [], []
    for f in sorted(os.listdir(out_dir / 'annfiles')):
        patch_id = f[:-4]
        ann = parse_dota_labels(str(out_dir / 'annfiles' / f), CLASSES)
        rate = parse_patch_id(patch_id)[1]
        boxes = polygon_to_rbox(ann.polygons)
        scores = polygon_area(ann.polygons) / rate**2 / 1e7
        dets = np.concatenate([boxes, scores[:, None]], 1)
        ids.append(patch_id)
        results.append([dets[ann.labels == c].astype(np.float32)
                        for c in range(len(CLASSES))])
    return ids, results


def test_split_merge_round_trip_real_labels(tmp_path):
    src = tmp_path / 'src'
    originals = {}
    for label_file in sorted((DATA / 'labelTxt').glob('*.txt')):
        ann = parse_dota_labels(str(label_file), CLASSES)
        originals[label_file.stem] = ann
        size = (int(ann.polygons[:, 0::2].max()) + 1,
                int(ann.polygons[:, 1::2].max()) + 1)
        _write_sample(src, label_file.stem, size,
                      label_file.read_text().splitlines())
    out = tmp_path / 'split'
    # gap 512: at rate 0.5 every sample object (longest 1543 px) spans at
    # most 772 px and all but one at most 512 px, so each fits whole in
    # some window.
    totals = split_dataset(str(src / 'images'), str(out),
                           str(src / 'labelTxt'), patch_size=1024, gap=512,
                           rates=(0.5, 1.0), progress=False)
    assert totals['images'] == len(originals)

    # every written object lies inside an original object of its class
    for f in sorted(os.listdir(out / 'annfiles')):
        image_id, rate, x, y = parse_patch_id(f[:-4])
        patch = parse_dota_labels(str(out / 'annfiles' / f), CLASSES)
        assert patch.meta['imagesource'] == originals[image_id].meta[
            'imagesource']
        assert math.isclose(float(patch.meta['gsd']),
                            float(originals[image_id].meta['gsd']) / rate)
        assert (patch.polygons >= -1e-6).all()
        assert (patch.polygons <= 1024 + 1e-6).all()
        back = (patch.polygons + [x, y] * 4) / rate
        ori = originals[image_id]
        for c in np.unique(patch.labels):
            inside = _vertices_inside(back[patch.labels == c],
                                      ori.polygons[ori.labels == c],
                                      tol=0.1 / rate)
            assert inside.any(1).all(), f
        with Image.open(out / 'images' / (f[:-4] + '.png')) as img:
            assert img.size == (1024, 1024)   # border patches padded

    ids, results = _patch_results(out)
    merged = merge_patch_results(ids, results, len(CLASSES), iou_thr=0.9,
                                 progress=False)
    assert sorted(merged) == sorted(originals)
    for image_id, ann in originals.items():
        for c in np.unique(ann.labels):
            dets = merged[image_id][c]
            # the rectangle fitted to each object vs. the merged boxes
            ious = polygon_iou(
                rbox_to_polygon(polygon_to_rbox(ann.polygons[ann.labels == c])),
                rbox_to_polygon(dets[:, :5].astype(np.float64)))
            best = ious.max(1)
            assert (best > 0.95).all(), (image_id, CLASSES[c], best.min())


def test_labels_written_like_the_originals(tmp_path):
    """At rate 1 a whole object is written exactly as in the source file
    (translated by the window origin)."""
    text = (DATA / 'labelTxt' / 'P1888.txt').read_text()
    ann = parse_dota_labels(str(DATA / 'labelTxt' / 'P1888.txt'), CLASSES)
    _write_sample(tmp_path, 'P1888', (712, 557), text.splitlines())
    split_dataset(str(tmp_path / 'images'), str(tmp_path / 'out'),
                  str(tmp_path / 'labelTxt'), patch_size=1024, gap=200,
                  progress=False)
    written = (tmp_path / 'out' / 'annfiles' / 'P1888__1__0___0.txt'
               ).read_text()
    assert written == format_dota_labels(
        ann.polygons, [CLASSES[k] for k in ann.labels], ann.difficult,
        ann.meta)


def test_split_image_returns_counts(tmp_path):
    _write_sample(tmp_path, 'c', (100, 100), [_line(_rect(5, 5, 20, 20))])
    settings = SplitSettings(patch_size=64, gap=16, classes=CLASSES)
    (tmp_path / 'out').mkdir()
    stats = split_image(str(tmp_path / 'images' / 'c.png'),
                        str(tmp_path / 'out'), settings,
                        str(tmp_path / 'labelTxt' / 'c.txt'))
    assert stats == dict(patches=4, objects=1, skipped=0, invalid=0)


# --- bad input ---------------------------------------------------------------

def test_skip_drops_invalid_objects_never_the_image(tmp_path, caplog):
    _write_sample(tmp_path, 'img', (64, 64), [
        _line(_rect(2, 2, 12, 12)),
        '5 5 5 5 5 5 5 5 plane 0',                 # 2: four equal points
        _line(_rect(20, 20, 30, 30), 'tank'),      # 3: unknown class
        _line(_rect(40, 40, 50, 50), 'ship', 1),
    ])
    args = (str(tmp_path / 'images'), str(tmp_path / 'out'),
            str(tmp_path / 'labelTxt'))
    with pytest.raises(DOTALabelError, match='degenerate'):
        split_dataset(*args, patch_size=64, gap=0, progress=False)
    with caplog.at_level('WARNING', logger='rotated_tod'):
        totals = split_dataset(*args, patch_size=64, gap=0, progress=False,
                               on_invalid='skip')
    assert (totals['objects'], totals['invalid']) == (2, 2)
    ann = parse_dota_labels(str(tmp_path / 'out' / 'annfiles' /
                                'img__1__0___0.txt'), CLASSES)
    assert ann.polygons.tolist() == [_rect(2, 2, 12, 12),
                                     _rect(40, 40, 50, 50)]
    label = tmp_path / 'labelTxt' / 'img.txt'
    assert caplog.messages[0].startswith(f'warning: {label}:2: degenerate')
    assert caplog.messages[1].startswith(f'warning: {label}:3: unknown class')
    assert caplog.messages[2] == (
        f'warning: 2 invalid object(s) skipped in the label files of '
        f'{tmp_path / "labelTxt"} (on_invalid=skip)')


def test_an_error_says_how_far_the_run_got_and_it_resumes(tmp_path):
    for name in ('a', 'b', 'c'):
        _write_sample(tmp_path, name, (40, 40), [_line(_rect(2, 2, 12, 12))])
    with open(tmp_path / 'labelTxt' / 'b.txt', 'a') as f:
        f.write('2 2 12 2 12 12 2 12 plane 2\n')
    args = (str(tmp_path / 'images'), str(tmp_path / 'out'),
            str(tmp_path / 'labelTxt'))
    with pytest.raises(DOTALabelError) as err:
        split_dataset(*args, patch_size=64, gap=0, progress=False)
    assert str(err.value) == (
        f'{tmp_path / "labelTxt" / "b.txt"}:2: difficult flag must be 0 or '
        "1, got '2' (1 of 3 images done; running again resumes)")
    totals = split_dataset(*args, patch_size=64, gap=0, progress=False,
                           on_invalid='skip')
    assert (totals['skipped'], totals['objects'], totals['invalid']) == \
        (1, 2, 1)


def test_labels_and_images_that_do_not_pair_up(tmp_path, caplog):
    _write_sample(tmp_path, 'a', (40, 40), [_line(_rect(2, 2, 12, 12))])
    for name in ('x', 'y'):
        (tmp_path / 'labelTxt' / f'{name}.txt').write_text(
            _line(_rect(2, 2, 12, 12)) + '\n')
    args = (str(tmp_path / 'images'), str(tmp_path / 'out'),
            str(tmp_path / 'labelTxt'))
    with caplog.at_level('WARNING', logger='rotated_tod'):
        totals = split_dataset(*args, patch_size=64, gap=0, progress=False)
    assert totals['objects'] == 1
    assert caplog.messages == [
        f'warning: 2 label file(s) of {tmp_path / "labelTxt"} have no image '
        'in the image folder and are not split: x.txt, y.txt']
    cv2.imwrite(str(tmp_path / 'images' / 'z.png'),
                np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(FileNotFoundError) as err:
        split_dataset(*args[:1], str(tmp_path / 'out2'), args[2],
                      patch_size=64, gap=0, progress=False)
    assert str(err.value) == (
        f'{tmp_path / "labelTxt" / "z.txt"}: no label file for image '
        f'{tmp_path / "images" / "z.png"}')
    assert not (tmp_path / 'out2').exists()      # stopped before any work


def test_a_worker_error_reaches_the_parent_whole(tmp_path):
    for name in ('a', 'b', 'c'):
        _write_sample(tmp_path, name, (40, 40), ['0 0 10 0 10 10 0 10 tank 0'
                                                 if name == 'b' else
                                                 _line(_rect(2, 2, 12, 12))])
    with pytest.raises(DOTALabelError) as err:
        split_dataset(str(tmp_path / 'images'), str(tmp_path / 'out'),
                      str(tmp_path / 'labelTxt'), patch_size=64, gap=0,
                      nproc=2, progress=False)
    # pickled across the process boundary: path, line and kind survive
    assert (err.value.path, err.value.line, err.value.kind) == (
        str(tmp_path / 'labelTxt' / 'b.txt'), 1, 'unknown class')
    assert err.value.note.endswith(' of 3 images done; running again resumes')
