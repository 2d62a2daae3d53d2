"""Refined-Det (X. Rao, L. Zhou, "Cross-Grid Label Assignment for
Arbitrary-Oriented Object Detection in Aerial Images", IEEE GRSL 21, 2024):
Rotated RetinaNet with FRHead and cross-grid label assignment, plus flip
test-time augmentation."""
from typing import List

import torch
from mmrotate.core import rbbox2result
from mmrotate.models.builder import ROTATED_DETECTORS
from mmrotate.models.detectors import RotatedSingleStageDetector

from rotated_tod.core.bbox.flip import flip_rboxes
from rotated_tod.core.bbox.transforms import regularize_rboxes
from rotated_tod.core.post_processing import multiclass_nms_rotated


@ROTATED_DETECTORS.register_module()
class RefinedDet(RotatedSingleStageDetector):
    """Single-stage detector whose head (``FRHead``) refines its own
    predictions; training, ``simple_test`` and ``aug_test`` go through the
    head's ``forward`` / ``loss`` / ``get_bboxes``."""

    def aug_test(self, imgs: List[torch.Tensor], img_metas: List[List[dict]],
                 rescale: bool = False) -> list:
        """Test-time augmentation (flips and rescales).

        Each augmented view's boxes, before NMS, are mapped back to the
        original image (flips undone by :func:`flip_rboxes` in the angle
        convention of the head's box coder, ``angle_range``, which every
        returned box follows; scale divided out), the views are concatenated
        and merged by per-class rotated NMS (``test_cfg``). Horizontal,
        vertical and diagonal flips are supported.

        Args:
            imgs: per augmentation, (B, 3, H, W) images.
            img_metas: per augmentation, per image, the meta dicts (with
                ``flip`` / ``flip_direction`` / ``scale_factor``).
            rescale: boxes in the original image (True) or in the first
                augmentation's scale (False).

        Returns:
            Per image, per class, (k, 6) arrays ``xywha, score``.
        """
        cfg = self.test_cfg
        version = self.bbox_head.bbox_coder.angle_range
        num_imgs = len(img_metas[0])
        mlvl_boxes = [[] for _ in range(num_imgs)]
        mlvl_scores = [[] for _ in range(num_imgs)]
        for img, metas in zip(imgs, img_metas):
            outs = self.bbox_head(self.extract_feat(img))
            views = self.bbox_head.get_bboxes(
                *outs, img_metas=metas, cfg=cfg, rescale=False,
                with_nms=False)
            for img_id, ((boxes, scores), meta) in enumerate(zip(views, metas)):
                if meta.get('flip', False):
                    boxes = flip_rboxes(boxes, meta['img_shape'],
                                        meta['flip_direction'], version)
                else:
                    boxes = regularize_rboxes(boxes, version)
                boxes[:, :4] = boxes[:, :4] / boxes.new_tensor(
                    meta['scale_factor'])
                mlvl_boxes[img_id].append(boxes)
                mlvl_scores[img_id].append(scores)

        results = []
        for img_id in range(num_imgs):
            det_bboxes, det_labels = multiclass_nms_rotated(
                torch.cat(mlvl_boxes[img_id]), torch.cat(mlvl_scores[img_id]),
                cfg.score_thr, cfg.nms, cfg.max_per_img)
            if not rescale:
                det_bboxes[:, :4] *= det_bboxes.new_tensor(
                    img_metas[0][img_id]['scale_factor'])
            results.append(
                rbbox2result(det_bboxes, det_labels,
                             self.bbox_head.num_classes))
        return results
