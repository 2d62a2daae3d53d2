"""Detectors built from configs without pretrained weights, and random
batches to run them on: what benchmarks and tests of a model need.

No weights can be downloaded where this runs, so every
``init_cfg=dict(type='Pretrained')`` (and every ``pretrained=``) of the
model config is removed before building; the weights are then the
deterministic initialisation of ``torch.manual_seed(seed)``.
"""
import logging
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch
from mmcv import Config


def strip_pretrained(node: Any) -> None:
    """Remove every ``init_cfg=dict(type='Pretrained')`` and ``pretrained``
    of a (nested) config in place."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        if 'pretrained' in node:
            node['pretrained'] = None
        for value in node.values():
            strip_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            strip_pretrained(value)


def load_config(path: str) -> Config:
    """The config at ``path`` with pretrained initialisation removed."""
    cfg = Config.fromfile(path)
    strip_pretrained(cfg.model)
    return cfg


def build_model(cfg: Config, seed: int = 0) -> torch.nn.Module:
    """The detector of ``cfg.model``, initialised under ``seed``."""
    from mmrotate.models import build_detector
    logging.getLogger('mmcv').setLevel(logging.WARNING)
    torch.manual_seed(seed)
    model = build_detector(
        cfg.model, train_cfg=cfg.get('train_cfg'),
        test_cfg=cfg.get('test_cfg'))
    model.init_weights()
    return model


def make_batch(num_classes: int,
               num_imgs: int = 2,
               size: Tuple[int, int] = (128, 128),
               boxes_per_img: int = 4,
               seed: int = 0) -> Dict[str, Any]:
    """A ``forward_train`` batch: normal-noise images of ``size`` (h, w) and
    ``boxes_per_img`` rotated GT boxes each (le90 ``xywha``, 6-40 px long,
    4-12 px wide: tiny and elongated), labels uniform over the classes."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = torch.from_numpy(
        rng.normal(size=(num_imgs, 3, h, w)).astype(np.float32))
    metas, gt_bboxes, gt_labels = [], [], []
    for _ in range(num_imgs):
        metas.append(
            dict(img_shape=(h, w, 3), ori_shape=(h, w, 3),
                 pad_shape=(h, w, 3), scale_factor=np.ones(4, np.float32),
                 flip=False, batch_input_shape=(h, w)))
        n = boxes_per_img
        boxes = np.stack([
            rng.uniform(16, w - 16, n), rng.uniform(16, h - 16, n),
            rng.uniform(6, 40, n), rng.uniform(4, 12, n),
            rng.uniform(-np.pi / 2, np.pi / 2 - 1e-3, n)
        ], 1)
        gt_bboxes.append(torch.from_numpy(boxes.astype(np.float32)))
        gt_labels.append(
            torch.from_numpy(rng.integers(0, num_classes, n)).long())
    return dict(img=img, img_metas=metas, gt_bboxes=gt_bboxes,
                gt_labels=gt_labels)


def num_classes_of(cfg: Config) -> Optional[int]:
    """``num_classes`` of the config's (first) head, None without one."""
    for key in ('bbox_head', 'roi_head'):
        head = cfg.model.get(key)
        if head is None:
            continue
        if 'num_classes' in head:
            return head['num_classes']
        bbox = head.get('bbox_head')
        if isinstance(bbox, (list, tuple)):
            bbox = bbox[0]
        if bbox is not None:
            return bbox['num_classes']
    return None
