"""Detection on whole (huge) images, on the CPU or a GPU.

:func:`inference_huge_image` cuts the image into the windows of the dataset
split (:mod:`rotated_tod.datasets.dota_split`: same rates, resizing, window
layout and padding, so a model sees at test time what it saw in training),
runs the model's own test pipeline on batches of patches on the model's
device, and merges the patch detections with the per-image logic of
:func:`rotated_tod.core.post_processing.merge.merge_image_results`.

The per-image detection text file written by ``tools/infer.py`` has one line
per detection, ``x1 y1 x2 y2 x3 y3 x4 y4 class score``: the DOTA label line
with the score in place of the difficult flag (the corners of the rotated box,
:func:`rbox_to_polygon` order), by decreasing score.
"""
import copy
import os
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv import Config
from mmcv.parallel import collate
from mmcv.runner import load_checkpoint
from mmdet.datasets import replace_ImageToTensor
from mmdet.datasets.pipelines import Compose
from mmrotate.datasets.builder import ROTATED_DATASETS
from mmrotate.models import build_detector
from tqdm import tqdm

from ..core.bbox.transforms import polygon_to_rbox, rbox_to_polygon
from ..core.fileio import (
    InputError,
    MissingInputError,
    atomic_write_text,
    read_image,
    resolve_classes,
)
from ..core.post_processing.merge import merge_image_results
from ..datasets.dota_split import (
    PadValue,
    crop_patch,
    resize_by_rate,
    scaled_size,
    sliding_windows,
)
from .train import default_device


def init_detector(config, checkpoint: Optional[str] = None,
                  device: Optional[str] = None,
                  cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """A rotated detector from a config (path or ``Config``) and checkpoint,
    in eval mode on ``device`` (default: a GPU when visible, else the CPU),
    with ``model.cfg`` set (mmdet's ``init_detector`` for mmrotate's
    registry). ``model.CLASSES`` comes from the checkpoint, else from the
    test dataset of the config (``classes``, ``dota_version``, or the
    dataset class).
    """
    for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
        if isinstance(path, str) and '://' not in path and \
                not os.path.isfile(path):
            raise MissingInputError(path, f'{what} file not found')
    # A copy: the caller's config keeps its training settings.
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'pretrained' in cfg.model:
        cfg.model.pretrained = None
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    cfg.model.train_cfg = None
    model = build_detector(cfg.model, test_cfg=cfg.get('test_cfg'))
    classes = None
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        classes = ckpt.get('meta', {}).get('CLASSES')
    if classes is None:
        test = cfg.data.test
        classes = test.get('classes')
        if classes is None and 'dota_version' in test:
            classes = resolve_classes(None, test.dota_version)
        if classes is None:
            classes = getattr(ROTATED_DATASETS.get(test.type), 'CLASSES',
                              None)
    model.CLASSES = tuple(classes) if classes is not None else None
    model.cfg = cfg
    model.to(device or default_device())
    model.eval()
    return model


def patch_windows(width: int, height: int, patch_size: int,
                  gaps: Sequence[int], rates: Sequence[float]) -> list:
    """``(rate, window)`` for every window of every rate and gap (windows
    repeated by several gaps are listed once) over the image resized by
    :func:`resize_by_rate`."""
    out = []
    for rate in rates:
        w, h = scaled_size(width, height, rate)
        seen = set()
        for gap in gaps:
            for window in sliding_windows(w, h, patch_size, gap):
                if tuple(window) not in seen:
                    seen.add(tuple(window))
                    out.append((float(rate), window))
    return out


def _test_pipeline(model: torch.nn.Module):
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('model.cfg is missing: build the model with '
                         'rotated_tod.apis.init_detector or set model.cfg')
    pipeline = [dict(step) for step in cfg.data.test.pipeline]
    pipeline[0] = dict(pipeline[0], type='LoadImageFromWebcam')
    return Compose(replace_ImageToTensor(pipeline))


def _unwrap(value) -> list:
    """A collated ``DataContainer`` field (or the list of them made by
    ``MultiScaleFlipAug``) as the list the detector's forward takes."""
    containers = value if isinstance(value, list) else [value]
    return [dc.data[0] for dc in containers]


def inference_huge_image(model: torch.nn.Module,
                         image: Union[str, np.ndarray],
                         patch_size: int = 1024,
                         gaps: Sequence[int] = (200, ),
                         rates: Sequence[float] = (1.0, ),
                         batch_size: int = 4,
                         nms_cfg: Optional[dict] = None,
                         pad_value: PadValue = 0,
                         progress: bool = False) -> List[np.ndarray]:
    """Detect objects on an image of any size by sliding windows.

    Args:
        model: a detector in eval mode with ``model.cfg`` (as
            :func:`init_detector` returns it); its parameters' device is used.
        image: a path or a BGR ``uint8`` array (H, W, 3).
        patch_size: window side, in pixels of the image resized by a rate.
        gaps: window overlaps; each gap gives a window layout.
        rates: image scales (multi-scale testing).
        batch_size: patches per forward pass.
        nms_cfg: merge NMS (see :func:`merge_image_results`); default
            rotated IoU 0.1.
        pad_value: fill of the padded border patches (as in the split).
        progress: show a progress bar over batches.

    Returns:
        list over classes of (K, 6) float32 ``xywha, score`` in image
        coordinates, by decreasing score.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if isinstance(image, (str, os.PathLike)):
        image = read_image(image)
    pipeline = _test_pipeline(model)
    device = next(model.parameters()).device
    height, width = image.shape[:2]
    windows = patch_windows(width, height, patch_size, gaps, rates)
    resized = {rate: resize_by_rate(image, rate) for rate in rates}
    entries = []
    starts = range(0, len(windows), batch_size)
    for start in tqdm(starts, desc='patches', disable=not progress):
        batch = windows[start:start + batch_size]
        datas = [
            pipeline(dict(img=crop_patch(resized[rate], window, True,
                                         pad_value)))
            for rate, window in batch
        ]
        data = collate(datas, samples_per_gpu=len(datas))
        imgs = [img.to(device) for img in _unwrap(data['img'])]
        with torch.no_grad():
            results = model(return_loss=False, rescale=True, img=imgs,
                            img_metas=_unwrap(data['img_metas']))
        for (rate, window), result in zip(batch, results):
            entries.append((rate, int(window[0]), int(window[1]), result))
    if nms_cfg is None:
        nms_cfg = dict(type='rotated', iou_thr=0.1)
    return merge_image_results(entries, len(entries[0][3]), nms_cfg)


def format_detections(dets_per_class: Sequence[np.ndarray],
                      class_names: Sequence[str],
                      score_thr: float = 0.0) -> str:
    """The detection text file (module docstring) of one image; boxes with
    a score below ``score_thr`` are left out."""
    if len(dets_per_class) != len(class_names):
        raise ValueError(f'{len(dets_per_class)} class arrays for '
                         f'{len(class_names)} class names')
    rows = []
    for name, dets in zip(class_names, dets_per_class):
        dets = np.asarray(dets, np.float64).reshape(-1, 6)
        dets = dets[dets[:, 5] >= score_thr]
        for poly, score in zip(rbox_to_polygon(dets[:, :5]), dets[:, 5]):
            coords = ' '.join(f'{c:.2f}' for c in poly)
            rows.append((score, f'{coords} {name} {score:.4f}'))
    rows.sort(key=lambda row: -row[0])
    return ''.join(line + '\n' for _, line in rows)


def write_detections(path: str, dets_per_class: Sequence[np.ndarray],
                     class_names: Sequence[str],
                     score_thr: float = 0.0) -> None:
    """Write :func:`format_detections` atomically."""
    atomic_write_text(path, format_detections(dets_per_class, class_names,
                                              score_thr))


def read_detections(path: str,
                    class_names: Sequence[str]) -> List[np.ndarray]:
    """Read a detection text file back into per-class (K, 6) float32
    ``xywha, score`` (le90 boxes fitted to the corners).

    Raises:
        InputError: ``path:line: reason`` for a malformed line.
        MissingInputError: the file does not exist.
    """
    index = {c: i for i, c in enumerate(class_names)}
    per_class = [[] for _ in class_names]
    if not os.path.isfile(path):
        raise MissingInputError(path, 'detection file not found')
    with open(path, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    for lineno, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != 10:
            raise InputError(path, 'expected "x1 y1 ... x4 y4 class score" '
                             f'(10 fields), got {len(tokens)}', lineno)
        try:
            values = [float(t) for t in tokens[:8]] + [float(tokens[9])]
        except ValueError:
            raise InputError(path, f'non-numeric field in {line!r}',
                             lineno) from None
        if not np.all(np.isfinite(values)):
            raise InputError(path, f'non-finite value in {line!r}', lineno)
        if tokens[8] not in index:
            raise InputError(path, f'unknown class {tokens[8]!r}', lineno)
        per_class[index[tokens[8]]].append(values)
    out = []
    for rows in per_class:
        rows = np.asarray(rows, np.float64).reshape(-1, 9)
        boxes = polygon_to_rbox(rows[:, :8], 'le90')
        out.append(np.concatenate([boxes, rows[:, 8:]], 1).astype(np.float32))
    return out
