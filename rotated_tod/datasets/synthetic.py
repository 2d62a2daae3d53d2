"""A seeded generator of aerial-like scenes with tiny oriented objects, written
in the DOTA layout (``images/*.png`` + ``labelTxt/*.txt``), and its dataset.

Scene content (every image drawn from ``seed`` and its index only, so image
``k`` is the same whatever the number of images asked for):

* background: smooth multi-scale noise in a ground tint, fields of another
  tint, roads, and a water body where ships sit;
* ``vehicle``: 6-16 px oriented rectangles with a windscreen stripe, mostly
  in parked rows (dense, parallel, 1-3 px apart);
* ``ship``: elongated hulls 18-64 px with a pointed bow, on water;
* ``plane``: fuselage + swept wings + tail, 14-48 px;
* ``storage-tank``: round tanks 8-30 px with a rim and shadow (square boxes);
* distractors: dark blobs, short bright bars and crosses that are none of
  the classes.

The label of an object is the oriented rectangle around its drawn shape
(``x1 y1 ... x4 y4 class difficult``); objects whose short side is under
3 px are marked difficult, as DOTA's annotators do for barely visible ones.
"""
import os
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from mmrotate.datasets.builder import ROTATED_DATASETS
from tqdm import tqdm

from ..core.bbox.transforms import rbox_to_polygon
from ..core.fileio import atomic_write_image, atomic_write_text, format_dota_labels
from .dota_dataset import DOTAPolyDataset

SYNTHETIC_CLASSES = ('vehicle', 'ship', 'plane', 'storage-tank')


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                  scales=(64, 16, 4)) -> np.ndarray:
    """Sum of upsampled random fields: a cheap fractal texture in [0, 1]."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    for k, s in enumerate(scales):
        small = rng.random((max(2, h // s), max(2, w // s))).astype(np.float32)
        out += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) / (
            2**k)
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _draw_background(rng: np.random.Generator, h: int,
                     w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Ground texture with fields and roads; returns (image, water mask)."""
    tex = _smooth_noise(rng, (h, w))
    ground = np.array(rng.choice([[96, 118, 104], [110, 122, 128],
                                  [88, 104, 92]]), np.float32)
    img = ground[None, None] * (0.75 + 0.5 * tex[..., None])
    for _ in range(rng.integers(2, 6)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        fw, fh = rng.uniform(80, 300), rng.uniform(80, 300)
        box = ((cx, cy), (fw, fh), rng.uniform(0, 180))
        pts = cv2.boxPoints(box).astype(np.int32)
        tint = rng.uniform(0.8, 1.2, 3).astype(np.float32)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [pts], 1)
        img[mask > 0] *= tint
    water = np.zeros((h, w), np.uint8)
    if rng.random() < 0.8:
        # A shore: the half-plane beyond a random line, made wavy.
        a = rng.uniform(0, np.pi)
        ys, xs = np.mgrid[0:h, 0:w]
        d = (xs - w / 2) * np.cos(a) + (ys - h / 2) * np.sin(a)
        d += 25 * (_smooth_noise(rng, (h, w), (128, 32)) - 0.5)
        water = (d > rng.uniform(-0.2, 0.25) * min(h, w)).astype(np.uint8)
        wcol = np.array([118, 84, 52], np.float32)  # BGR: dark blue-green
        img[water > 0] = wcol * (0.85 + 0.3 * tex[water > 0, None])
    for _ in range(rng.integers(1, 4)):
        p0 = rng.uniform(0, [w, h]).astype(int)
        p1 = rng.uniform(0, [w, h]).astype(int)
        cv2.line(img, tuple(int(v) for v in p0), tuple(int(v) for v in p1),
                 (150, 150, 150), int(rng.integers(6, 14)))
    return img, water


def _rect(cx, cy, length, width, angle) -> np.ndarray:
    """Corner points (4, 2) of an oriented rectangle, ``angle`` in radians."""
    return rbox_to_polygon(np.array([cx, cy, length, width, angle])).reshape(4, 2)


def _draw_vehicle(img, rng, cx, cy, length, width, angle) -> np.ndarray:
    color = rng.choice([[230, 230, 230], [40, 40, 200], [200, 60, 40],
                        [30, 30, 30], [60, 200, 230]]).tolist()
    body = _rect(cx, cy, length, width, angle)
    cv2.fillPoly(img, [np.round(body * 4).astype(np.int32)], color,
                 lineType=cv2.LINE_AA, shift=2)
    ux, uy = np.cos(angle), np.sin(angle)
    wind = _rect(cx + 0.2 * length * ux, cy + 0.2 * length * uy,
                 0.18 * length, 0.8 * width, angle)
    cv2.fillPoly(img, [np.round(wind * 4).astype(np.int32)], (70, 60, 50),
                 lineType=cv2.LINE_AA, shift=2)
    return np.array([cx, cy, length, width, angle])


def _draw_ship(img, rng, cx, cy, length, width, angle) -> np.ndarray:
    ux, uy = np.cos(angle), np.sin(angle)
    vx, vy = -uy, ux
    hl, hw = length / 2, width / 2
    stern = 0.7 * hl
    pts = np.array([
        [-hl, -hw], [stern, -hw], [hl, 0.0], [stern, hw], [-hl, hw]
    ])
    world = np.stack([cx + pts[:, 0] * ux + pts[:, 1] * vx,
                      cy + pts[:, 0] * uy + pts[:, 1] * vy], 1)
    hull = rng.choice([[220, 220, 220], [180, 190, 200], [60, 60, 160]])
    cv2.fillPoly(img, [np.round(world * 4).astype(np.int32)], hull.tolist(),
                 lineType=cv2.LINE_AA, shift=2)
    deck = _rect(cx - 0.15 * length * ux, cy - 0.15 * length * uy,
                 0.35 * length, 0.5 * width, angle)
    cv2.fillPoly(img, [np.round(deck * 4).astype(np.int32)], (90, 90, 90),
                 lineType=cv2.LINE_AA, shift=2)
    return np.array([cx, cy, length, width, angle])


def _draw_plane(img, rng, cx, cy, length, span, angle) -> np.ndarray:
    ux, uy = np.cos(angle), np.sin(angle)
    vx, vy = -uy, ux

    def poly(local):
        local = np.asarray(local, np.float64)
        return np.stack([cx + local[:, 0] * ux + local[:, 1] * vx,
                         cy + local[:, 0] * uy + local[:, 1] * vy], 1)

    hl, hs = length / 2, span / 2
    fw = max(1.5, 0.09 * length)
    color = (235, 235, 240)
    fuselage = poly([[-hl, -fw], [hl * 0.85, -fw], [hl, 0], [hl * 0.85, fw],
                     [-hl, fw]])
    wings = poly([[0.15 * hl, 0], [-0.25 * hl, -hs], [-0.4 * hl, -hs],
                  [-0.15 * hl, 0], [-0.4 * hl, hs], [-0.25 * hl, hs]])
    tail = poly([[-0.75 * hl, 0], [-hl, -0.35 * hs], [-hl, 0.35 * hs]])
    for part in (fuselage, wings, tail):
        cv2.fillPoly(img, [np.round(part * 4).astype(np.int32)], color,
                     lineType=cv2.LINE_AA, shift=2)
    return np.array([cx, cy, length, span, angle])


def _draw_tank(img, rng, cx, cy, diameter) -> np.ndarray:
    r = diameter / 2
    center = (int(round(cx * 4)), int(round(cy * 4)))
    cv2.circle(img, (int(round((cx + 0.2 * r) * 4)),
                     int(round((cy + 0.2 * r) * 4))), int(r * 4),
               (50, 55, 50), -1, cv2.LINE_AA, 2)
    cv2.circle(img, center, int(r * 4), (205, 210, 205), -1, cv2.LINE_AA, 2)
    cv2.circle(img, center, int(r * 4), (130, 130, 130),
               max(1, int(r / 5)), cv2.LINE_AA, 2)
    return np.array([cx, cy, diameter, diameter, 0.0])


def _draw_distractors(img, rng, h, w, count) -> None:
    for _ in range(count):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        kind = rng.integers(3)
        if kind == 0:
            cv2.circle(img, (int(x), int(y)), int(rng.integers(3, 12)),
                       (40, 50, 45), -1, cv2.LINE_AA)
        elif kind == 1:
            a = rng.uniform(0, np.pi)
            d = rng.uniform(8, 30)
            p0 = (int(x), int(y))
            p1 = (int(x + d * np.cos(a)), int(y + d * np.sin(a)))
            cv2.line(img, p0, p1, (190, 200, 170), 1, cv2.LINE_AA)
        else:
            s = int(rng.integers(3, 8))
            cv2.line(img, (int(x) - s, int(y)), (int(x) + s, int(y)),
                     (60, 70, 140), 2)
            cv2.line(img, (int(x), int(y) - s), (int(x), int(y) + s),
                     (60, 70, 140), 2)


def _free(occupied: np.ndarray, box: np.ndarray, margin: float = 1.0) -> bool:
    """Whether the box's footprint (grown by ``margin``) is still free."""
    h, w = occupied.shape
    pts = _rect(box[0], box[1], box[2] + 2 * margin, box[3] + 2 * margin,
                box[4])
    if pts[:, 0].min() < 0 or pts[:, 1].min() < 0 or \
            pts[:, 0].max() >= w or pts[:, 1].max() >= h:
        return False
    mask = np.zeros_like(occupied)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    if (mask & occupied).any():
        return False
    occupied |= mask
    return True


def render_scene(seed: int, index: int,
                 size: Tuple[int, int] = (800, 800),
                 density: float = 1.0) -> Tuple[np.ndarray, List[tuple]]:
    """Draw scene ``index`` of the stream ``seed``.

    Returns:
        (image, objects): a (H, W, 3) BGR ``uint8`` image and a list of
        ``(box (5,), class_name, difficult)`` with ``box`` in xywha.
    """
    rng = np.random.default_rng([seed, index])
    h, w = size
    img, water = _draw_background(rng, h, w)
    occupied = np.zeros((h, w), np.uint8)
    objects = []
    scale = density * h * w / (800 * 800)

    def add(box, name):
        objects.append((box, name, bool(min(box[2], box[3]) < 3)))

    # Parked rows of vehicles on land.
    for _ in range(rng.poisson(14 * scale)):
        length = rng.uniform(6, 16)
        width = length * rng.uniform(0.4, 0.55)
        angle = rng.uniform(-np.pi / 2, np.pi / 2)
        row_dir = angle + np.pi / 2 if rng.random() < 0.7 else angle
        gap = width + rng.uniform(1, 3) if row_dir != angle else length + 2
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        for k in range(rng.integers(3, 11)):
            cx = x0 + k * gap * np.cos(row_dir)
            cy = y0 + k * gap * np.sin(row_dir)
            box = np.array([cx, cy, length, width, angle])
            if 0 <= cx < w and 0 <= cy < h and not water[int(cy), int(cx)] \
                    and rng.random() < 0.9 and _free(occupied, box):
                add(_draw_vehicle(img, rng, *box), 'vehicle')
    # Loose vehicles.
    for _ in range(rng.poisson(30 * scale)):
        length = rng.uniform(6, 16)
        box = np.array([rng.uniform(0, w), rng.uniform(0, h), length,
                        length * rng.uniform(0.4, 0.55),
                        rng.uniform(-np.pi / 2, np.pi / 2)])
        if not water[int(box[1]), int(box[0])] and _free(occupied, box):
            add(_draw_vehicle(img, rng, *box), 'vehicle')
    # Ships on water, some moored side by side.
    if water.any():
        ys, xs = np.nonzero(water)
        for _ in range(rng.poisson(12 * scale)):
            i = rng.integers(len(xs))
            length = float(np.clip(rng.lognormal(np.log(28), 0.4), 18, 64))
            box = np.array([xs[i], ys[i], length,
                            length * rng.uniform(0.18, 0.28),
                            rng.uniform(-np.pi / 2, np.pi / 2)])
            for k in range(rng.integers(1, 4)):
                moored = box.copy()
                moored[0] += k * (box[3] + 3) * -np.sin(box[4])
                moored[1] += k * (box[3] + 3) * np.cos(box[4])
                inside = 0 <= moored[0] < w and 0 <= moored[1] < h
                if inside and water[int(moored[1]), int(moored[0])] and \
                        _free(occupied, moored, 2):
                    add(_draw_ship(img, rng, *moored), 'ship')
    # Planes.
    for _ in range(rng.poisson(4 * scale)):
        length = float(np.clip(rng.lognormal(np.log(24), 0.35), 14, 48))
        box = np.array([rng.uniform(0, w), rng.uniform(0, h), length,
                        length * rng.uniform(0.85, 1.05),
                        rng.uniform(-np.pi / 2, np.pi / 2)])
        if not water[int(box[1]), int(box[0])] and _free(occupied, box, 2):
            drawn = _draw_plane(img, rng, *box)
            if drawn[3] > drawn[2]:  # keep w >= h for le90 labels
                drawn = np.array([drawn[0], drawn[1], drawn[3], drawn[2],
                                  drawn[4] + np.pi / 2])
            add(drawn, 'plane')
    # Storage tanks in clusters.
    for _ in range(rng.poisson(3 * scale)):
        d0 = rng.uniform(8, 30)
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        for k in range(rng.integers(1, 7)):
            cx = x0 + (k % 3) * (d0 + 4)
            cy = y0 + (k // 3) * (d0 + 4)
            box = np.array([cx, cy, d0, d0, 0.0])
            if 0 <= cx < w and 0 <= cy < h and not water[int(cy), int(cx)] \
                    and _free(occupied, box, 2):
                add(_draw_tank(img, rng, cx, cy, d0), 'storage-tank')
    _draw_distractors(img, rng, h, w, int(rng.poisson(40 * scale)))
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), objects


def generate_synthetic_dataset(out_dir: str,
                               num_images: int,
                               size: Tuple[int, int] = (800, 800),
                               seed: int = 0,
                               first_index: int = 0,
                               density: float = 1.0,
                               progress: bool = True) -> Dict[str, int]:
    """Write ``num_images`` scenes to ``out_dir/images`` and
    ``out_dir/labelTxt`` (image ``k`` named ``S{seed:02d}_{k:05d}``).

    Existing image/label pairs are kept (an interrupted run resumes; writes
    are atomic, so no file is ever half-written).

    Returns:
        counts per class name over the images of this call.
    """
    img_dir = os.path.join(out_dir, 'images')
    ann_dir = os.path.join(out_dir, 'labelTxt')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    counts = {c: 0 for c in SYNTHETIC_CLASSES}
    indices = range(first_index, first_index + num_images)
    for k in tqdm(indices, desc=f'synthetic {os.path.basename(out_dir)}',
                  disable=not progress):
        name = f'S{seed:02d}_{k:05d}'
        img_path = os.path.join(img_dir, name + '.png')
        ann_path = os.path.join(ann_dir, name + '.txt')
        if os.path.exists(img_path) and os.path.exists(ann_path):
            continue
        image, objects = render_scene(seed, k, size, density)
        for _, cname, _ in objects:
            counts[cname] += 1
        polys = rbox_to_polygon(np.array([o[0] for o in objects]).reshape(-1, 5))
        text = format_dota_labels(
            polys, [o[1] for o in objects], [o[2] for o in objects],
            meta={'imagesource': 'rotated_tod-synthetic', 'gsd': '0.3'})
        atomic_write_image(img_path, image)
        atomic_write_text(ann_path, text)
    return counts


@ROTATED_DATASETS.register_module()
class SyntheticTinyDataset(DOTAPolyDataset):
    """The synthetic tiny-oriented dataset (DOTA layout, classes
    ``vehicle, ship, plane, storage-tank``)."""
    CLASSES = SYNTHETIC_CLASSES
    PALETTE = [(220, 20, 60), (0, 160, 255), (255, 200, 0), (0, 200, 120)]

    def __init__(self, *args, classes: Optional[tuple] = None, **kwargs):
        super().__init__(*args, classes=classes or SYNTHETIC_CLASSES,
                         **kwargs)


def prepare_synthetic_dataset(root: str,
                              num_train: int = 24,
                              num_val: int = 4,
                              image_size: int = 1024,
                              patch_size: int = 512,
                              gap: int = 128,
                              seed: int = 0,
                              nproc: int = 1,
                              progress: bool = True) -> Dict[str, str]:
    """Generate the train/val scenes under ``root/{train,val}`` and split them
    into patches under ``root/split/{train,val}`` (the layout of
    ``configs/_base_/datasets/synthetic.py``). Train and val scenes come
    from disjoint index ranges of the same seeded stream. Both steps resume.

    Returns:
        the folders written, by name.
    """
    from .dota_split import split_dataset
    folders = {}
    ranges = {'train': (0, num_train), 'val': (num_train, num_val)}
    for split, (first, count) in ranges.items():
        full = os.path.join(root, split)
        generate_synthetic_dataset(full, count, (image_size, image_size),
                                   seed=seed, first_index=first,
                                   progress=progress)
        patches = os.path.join(root, 'split', split)
        split_dataset(
            os.path.join(full, 'images'), patches,
            ann_dir=os.path.join(full, 'labelTxt'), patch_size=patch_size,
            gap=gap, classes=SYNTHETIC_CLASSES, keep_empty=split == 'val',
            nproc=nproc, progress=progress)
        folders[split] = full
        folders[f'{split}_patches'] = patches
    return folders
