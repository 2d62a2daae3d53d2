"""The harbour suite: the spatial split of a hand-built image (objects on
each side, objects cut by the boundary, the dropped harbor class) and of the
shipped DOTA image P0706."""
import os

import cv2
import numpy as np
import pytest

from rotated_tod.core.fileio import (
    DOTA_V1_0_CLASSES,
    parse_dota_labels,
    polygon_area,
)
from rotated_tod.datasets.harbour import (
    HARBOUR_CLASSES,
    keep_classes,
    prepare_harbour_dataset,
    region_windows,
    split_regions,
)
from tests.conftest import REPO

HARBOUR = os.path.join(REPO, 'data_samples', 'harbour')


def rect(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


# A 100 x 40 image: the boundary is at x = 60.
LABELS = '\n'.join([
    'imagesource:GoogleEarth', 'gsd:0.25',
    ' '.join(map(str, rect(10, 10, 20, 20))) + ' ship 0',    # left only
    ' '.join(map(str, rect(70, 10, 80, 20))) + ' ship 0',    # right only
    # IoF 0.8 left (> 0.7: kept), 0.2 right (difficult there)
    ' '.join(map(str, rect(52, 10, 62, 20))) + ' ship 0',
    # IoF 2/3 left, 1/3 right: difficult on both sides
    ' '.join(map(str, rect(50, 25, 65, 35))) + ' ship 0',
    ' '.join(map(str, rect(30, 0, 90, 8))) + ' harbor 0',    # dropped
    ' '.join(map(str, rect(85, 25, 95, 35))) + ' ship 1',    # difficult
]) + '\n'


@pytest.fixture
def hand_built(tmp_path):
    image = np.zeros((40, 100, 3), np.uint8)
    image[:, 60:] = 200  # the held-out region is bright
    cv2.imwrite(str(tmp_path / 'H.png'), image)
    (tmp_path / 'H.txt').write_text(LABELS)
    return tmp_path / 'H.png', tmp_path / 'H.txt'


def test_region_windows():
    assert region_windows(100, 40) == dict(train=(0, 0, 60, 40),
                                           val=(60, 0, 100, 40))
    assert region_windows(1111, 1182)['val'] == (667, 0, 1111, 1182)
    with pytest.raises(ValueError):
        region_windows(100, 40, 1.0)


def test_split_regions_follows_the_split_rules(hand_built):
    ann = keep_classes(parse_dota_labels(str(hand_built[1]),
                                         DOTA_V1_0_CLASSES),
                       DOTA_V1_0_CLASSES, HARBOUR_CLASSES)
    assert len(ann) == 5 and set(ann.labels) == {0}
    regions = split_regions(ann, (100, 40))
    train, val = regions['train'], regions['val']
    # left: the left-only ship, the 0.8 part (kept), the 2/3 part (difficult)
    np.testing.assert_allclose(train.polygons[0], rect(10, 10, 20, 20))
    assert len(train) == 3
    np.testing.assert_array_equal(train.difficult, [False, False, True])
    xs = train.polygons[:, 0::2]
    assert xs.max() == 60  # cut at the boundary
    # right, in its own coordinates (x - 60): the right-only ship, the two
    # cut parts (difficult), the difficult ship
    assert len(val) == 4
    np.testing.assert_allclose(val.polygons[0], rect(10, 10, 20, 20))
    np.testing.assert_array_equal(val.difficult, [False, True, True, True])
    assert val.polygons[:, 0::2].min() == 0


def test_prepare_writes_regions_and_patches(hand_built, tmp_path):
    root = tmp_path / 'suite'
    folders = prepare_harbour_dataset(str(hand_built[0]), str(hand_built[1]),
                                      str(root), patch_size=32, gap=8,
                                      progress=False)
    val_image = cv2.imread(str(root / 'val' / 'images' / 'H_val.png'))
    assert val_image.shape == (40, 40, 3) and val_image.min() == 200
    train_image = cv2.imread(str(root / 'train' / 'images' / 'H_train.png'))
    assert train_image.shape == (40, 60, 3) and train_image.max() == 0
    val = parse_dota_labels(str(root / 'val' / 'labelTxt' / 'H_val.txt'),
                            HARBOUR_CLASSES)
    assert len(val) == 4
    assert sorted(os.listdir(folders['val_patches'] + '/images'))
    # a second call keeps everything (resume)
    before = os.path.getmtime(root / 'val' / 'images' / 'H_val.png')
    prepare_harbour_dataset(str(hand_built[0]), str(hand_built[1]), str(root),
                            patch_size=32, gap=8, progress=False)
    assert os.path.getmtime(root / 'val' / 'images' / 'H_val.png') == before


def test_shipped_harbour_image_and_split():
    image = os.path.join(HARBOUR, 'P0706.jpg')
    header = cv2.imread(image)
    assert header.shape == (1182, 1111, 3)
    assert os.path.getsize(image) < 1_000_000
    ann = parse_dota_labels(os.path.join(HARBOUR, 'P0706.txt'),
                            DOTA_V1_0_CLASSES)
    ships = keep_classes(ann, DOTA_V1_0_CLASSES, HARBOUR_CLASSES)
    assert len(ann) == 536 and len(ships) == 531
    assert 20 <= np.median(np.sqrt(polygon_area(ships.polygons))) <= 24
    regions = split_regions(ships, (1111, 1182))
    left = ships.polygons[:, 0::2].max(1) <= 667
    right = ships.polygons[:, 0::2].min(1) >= 667
    cut = ~left & ~right
    assert cut.sum() > 0 and right.sum() > 150 and left.sum() > 250
    # every ship is in a region; a cut one in both (unless its part on a
    # side has no area once written with one decimal)
    for name, whole in (('train', left), ('val', right)):
        assert whole.sum() < len(regions[name]) <= whole.sum() + cut.sum()
    assert not regions['val'].polygons[:, 0::2].min() < 0
