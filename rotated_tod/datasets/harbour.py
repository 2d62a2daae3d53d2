"""The harbour suite: one real DOTA image split spatially into a training
ground and a held-out region.

The image is DOTA-v1.0's P0706 (Xia et al., "DOTA: A Large-scale Dataset for
Object Detection in Aerial Images", CVPR 2018), a marina of 1111 x 1182
pixels with 531 labelled ships (median ``sqrt(area)`` 22 px). The left
``train_fraction`` (60 %) of its width is training ground, the rest is held
out. The class set is ``('ship',)``: the 5 ``harbor`` objects (piers, not
tiny objects) are dropped from both regions, so their pixels are background.

An object cut by the boundary follows the rules of our DOTA split
(:func:`rotated_tod.datasets.dota_split.window_annotation`): each region gets
the object's part inside it, difficult when its IoF (area inside / object
area) is at or below ``iof_thr``. Each region is then split into patches like
the synthetic dataset (``root/{train,val}`` full regions,
``root/split/{train,val}`` patches), so the held-out AP is computed on the
whole held-out region with the patch detections merged.

Where the image and its label file live is the caller's business (the
repository ships them in ``data_samples/harbour/``).
"""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import numpy as np

from ..core.fileio import (
    DOTA_V1_0_CLASSES,
    DOTAAnnotation,
    atomic_write_image,
    parse_dota_labels,
    read_image,
    write_dota_labels,
)
from .dota_split import split_dataset, window_annotation

HARBOUR_CLASSES = ('ship', )
REGIONS = ('train', 'val')


def region_windows(width: int, height: int, train_fraction: float = 0.6
                   ) -> Dict[str, Tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` of the training region (left) and the held-out
    region (right); the boundary is ``round(train_fraction * width)``."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f'train_fraction must be in (0, 1), got '
                         f'{train_fraction}')
    boundary = int(round(train_fraction * width))
    return dict(train=(0, 0, boundary, height),
                val=(boundary, 0, width, height))


def keep_classes(ann: DOTAAnnotation, classes: Sequence[str],
                 keep: Sequence[str]) -> DOTAAnnotation:
    """The objects of ``ann`` (labels index ``classes``) whose class is in
    ``keep``, relabelled as indices into ``keep``."""
    names = np.array(classes, dtype=object)[ann.labels]
    mask = np.isin(names, list(keep))
    index = {c: i for i, c in enumerate(keep)}
    labels = np.array([index[n] for n in names[mask]], np.int64)
    return DOTAAnnotation(ann.polygons[mask], labels, ann.difficult[mask],
                          dict(ann.meta))


def split_regions(ann: DOTAAnnotation, image_size: Tuple[int, int],
                  train_fraction: float = 0.6, iof_thr: float = 0.7
                  ) -> Dict[str, DOTAAnnotation]:
    """The objects of each region, in the region's own coordinates.

    Args:
        ann: the objects of the whole image.
        image_size: ``(width, height)``.
        train_fraction, iof_thr: see the module docstring.
    """
    windows = region_windows(*image_size, train_fraction)
    return {name: window_annotation(ann, windows[name], image_size, iof_thr)
            for name in REGIONS}


def prepare_harbour_dataset(image_path: str,
                            label_path: str,
                            root: str,
                            patch_size: int = 512,
                            gap: int = 128,
                            train_fraction: float = 0.6,
                            iof_thr: float = 0.7,
                            progress: bool = True) -> Dict[str, str]:
    """Write the two regions under ``root/{train,val}/{images,labelTxt}`` and
    their patches under ``root/split/{train,val}`` (the layout of the
    synthetic dataset). Existing region files are kept; the patch split
    resumes.

    Returns:
        the folders written, by name (``train``, ``val``, ``train_patches``,
        ``val_patches``).
    """
    image = read_image(image_path)
    height, width = image.shape[:2]
    ann = keep_classes(parse_dota_labels(label_path, DOTA_V1_0_CLASSES),
                       DOTA_V1_0_CLASSES, HARBOUR_CLASSES)
    windows = region_windows(width, height, train_fraction)
    regions = split_regions(ann, (width, height), train_fraction, iof_thr)
    stem = osp.splitext(osp.basename(image_path))[0]
    folders = {}
    for name in REGIONS:
        full = osp.join(root, name)
        img_dir, ann_dir = osp.join(full, 'images'), osp.join(full, 'labelTxt')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        region_id = f'{stem}_{name}'
        img_out = osp.join(img_dir, region_id + '.png')
        ann_out = osp.join(ann_dir, region_id + '.txt')
        if not (osp.exists(img_out) and osp.exists(ann_out)):
            x0, y0, x1, y1 = windows[name]
            atomic_write_image(img_out, image[y0:y1, x0:x1])
            region = regions[name]
            write_dota_labels(ann_out, region.polygons,
                              [HARBOUR_CLASSES[c] for c in region.labels],
                              region.difficult, region.meta)
        patches = osp.join(root, 'split', name)
        split_dataset(img_dir, patches, ann_dir=ann_dir,
                      patch_size=patch_size, gap=gap, iof_thr=iof_thr,
                      classes=HARBOUR_CLASSES, keep_empty=name == 'val',
                      progress=progress)
        folders[name] = full
        folders[f'{name}_patches'] = patches
    return folders
