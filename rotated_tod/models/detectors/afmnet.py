"""AFMNet made oriented (our design after the published outline)."""
import copy
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from mmcv.cnn import PLUGIN_LAYERS
from mmcv.utils import build_from_cfg
from mmdet.models.detectors.base import BaseDetector
from mmrotate.core import rbbox2result
from mmrotate.models.builder import ROTATED_DETECTORS, build_head
from torch import nn

from rotated_tod.core.post_processing import fuse_head_detections

from .rotated_tood import RotatedTOOD


@ROTATED_DETECTORS.register_module()
class AFMNet(RotatedTOOD):
    """AFMNet ("Adaptive Fine-Grained Feature Mining and RoI Feature
    Interaction Network for Small Object Detection in Aerial Images",
    ICASSP 2025 submission; code unreleased) for rotated boxes.

    The published outline (a config and a README) gives a TOOD detector with
    ATSS then task-aligned assignment, an extra TOOD head at stride 4
    carrying the switches for fine-grained mining and RoI feature
    interaction, two 1-channel mask predictors supervised by oval masks at
    strides 8 and 16, and both heads' detections fused at test. Everything
    below that the outline leaves open is our design:

    - heads: :class:`RotatedTOODHead` on P3-P7 (``bbox_head``) and, with
      ``small_head``, a second one on P2 (the FPN's level built from C2 by a
      lateral conv and the top-down path), with the same design, its own
      ``test_cfg`` (``test_cfg.small_head``) and ``train_cfg`` (the
      detector's unless its config gives one); its losses are suffixed
      ``_s4``;
    - masks (``mask_branch``, :class:`EllipseMaskBranch`): predicted on the
      main head's levels of its strides, re-weighting them ``x (1 + m)``
      before the head; supervised by rotated-ellipse targets;
    - mining / interaction: the ``mining`` / ``interaction`` options of each
      head (the published config attaches them to the stride-4 head; our
      configs use them in both heads), the mining guided by the mask of the
      nearest stride (:meth:`EllipseMaskBranch.guidance`);
    - test: each head's detections after its own NMS, pooled and fused by
      class-wise rotated NMS (``test_cfg.fusion``: ``nms``,
      ``max_per_img``; :func:`fuse_head_detections`).

    The neck must output ``len(small_head.strides) + len(bbox_head.strides)``
    levels, the stride-4 ones first (e.g. mmdet's FPN with ``start_level=0``
    and ``num_outs=6`` on a ResNet).
    """

    def __init__(self,
                 backbone: Dict,
                 neck: Dict,
                 bbox_head: Dict,
                 small_head: Optional[Dict] = None,
                 mask_branch: Optional[Dict] = None,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(backbone, neck, bbox_head, train_cfg, test_cfg,
                         pretrained, init_cfg)
        self.small_head = None
        if small_head is not None:
            small_head = copy.deepcopy(small_head)
            small_head.setdefault('train_cfg', train_cfg)
            if small_head.get('test_cfg') is None:
                if test_cfg is None or test_cfg.get('small_head') is None:
                    raise ValueError('the stride-4 head needs '
                                     'test_cfg.small_head')
                small_head['test_cfg'] = test_cfg['small_head']
            if test_cfg is None or test_cfg.get('fusion') is None:
                raise ValueError('two heads need test_cfg.fusion (nms, '
                                 'max_per_img)')
            self.small_head = build_head(small_head)
        self.mask_branch = None
        if mask_branch is not None:
            self.mask_branch = build_from_cfg(
                mask_branch, PLUGIN_LAYERS,
                dict(in_channels=self.bbox_head.in_channels))
            missing = set(self.mask_branch.strides) - set(
                self.bbox_head.strides)
            if missing:
                raise ValueError(f'mask strides {sorted(missing)} are not '
                                 f'among the head strides '
                                 f'{self.bbox_head.strides}')

    def heads(self) -> Iterator[nn.Module]:
        yield self.bbox_head
        if self.small_head is not None:
            yield self.small_head

    def features(self, img: torch.Tensor) -> Tuple[
            List[torch.Tensor], List[torch.Tensor],
            Optional[List[torch.Tensor]], Optional[List[torch.Tensor]],
            Optional[List[torch.Tensor]]]:
        """Neck levels split between the heads, masks applied.

        Returns:
            main-head levels (mask re-weighted), stride-4 levels, mask
            logits (per mask stride) and the mining guidance of each head
            (None where a head does not mine or there are no masks).
        """
        levels = list(self.extract_feat(img))
        num_small = 0 if self.small_head is None else len(
            self.small_head.strides)
        small, main = levels[:num_small], levels[num_small:]
        if len(main) != len(self.bbox_head.strides):
            raise ValueError(
                f'the neck gives {len(levels)} levels; the heads need '
                f'{num_small} + {len(self.bbox_head.strides)}')
        logits = main_guidance = small_guidance = None
        if self.mask_branch is not None:
            index = [self.bbox_head.strides.index(s)
                     for s in self.mask_branch.strides]
            logits = self.mask_branch([main[i] for i in index])
            reweighted = self.mask_branch.reweight([main[i] for i in index],
                                                   logits)
            for i, feature in zip(index, reweighted):
                main[i] = feature
            main_guidance = self._guidance(self.bbox_head, logits, main)
            if self.small_head is not None:
                small_guidance = self._guidance(self.small_head, logits,
                                                small)
        return main, small, logits, main_guidance, small_guidance

    def _guidance(self, head: nn.Module, logits: Sequence[torch.Tensor],
                  feats: Sequence[torch.Tensor]
                  ) -> Optional[List[torch.Tensor]]:
        if head.mining is None:
            return None
        return self.mask_branch.guidance(logits, head.strides,
                                         [f.shape[-2:] for f in feats])

    def forward_dummy(self, img: torch.Tensor) -> tuple:
        """Raw outputs of both heads (for FLOP counting)."""
        main, small, _, main_guidance, small_guidance = self.features(img)
        outs = self.bbox_head(main, main_guidance)
        if self.small_head is not None:
            outs = outs + self.small_head(small, small_guidance)
        return outs

    def forward_train(self,
                      img: torch.Tensor,
                      img_metas: List[dict],
                      gt_bboxes: List[torch.Tensor],
                      gt_labels: List[torch.Tensor],
                      gt_bboxes_ignore: Optional[List[torch.Tensor]] = None
                      ) -> Dict[str, torch.Tensor]:
        """Losses of the main head, the stride-4 head (``*_s4``) and the
        masks."""
        BaseDetector.forward_train(self, img, img_metas)
        main, small, logits, main_guidance, small_guidance = \
            self.features(img)
        losses = self.bbox_head.forward_train(
            main, img_metas, gt_bboxes, gt_labels, gt_bboxes_ignore,
            guidance=main_guidance)
        if self.small_head is not None:
            small_losses = self.small_head.forward_train(
                small, img_metas, gt_bboxes, gt_labels, gt_bboxes_ignore,
                guidance=small_guidance)
            losses.update({f'{k}_s4': v for k, v in small_losses.items()})
        if self.mask_branch is not None:
            losses.update(self.mask_branch.loss(logits, gt_bboxes))
        return losses

    def simple_test(self, img: torch.Tensor, img_metas: List[dict],
                    rescale: bool = False) -> List[List]:
        """Per image, per class (K, 6) arrays of the fused detections."""
        main, small, _, main_guidance, small_guidance = self.features(img)
        results = self.bbox_head.get_bboxes(
            *self.bbox_head(main, main_guidance), img_metas, rescale=rescale)
        if self.small_head is not None:
            small_results = self.small_head.get_bboxes(
                *self.small_head(small, small_guidance), img_metas,
                rescale=rescale)
            fusion = self.test_cfg['fusion']
            results = [
                fuse_head_detections([a, b], fusion['nms'],
                                     fusion.get('max_per_img', -1))
                for a, b in zip(results, small_results)
            ]
        return [
            rbbox2result(dets, labels, self.bbox_head.num_classes)
            for dets, labels in results
        ]

    def aug_test(self, imgs, img_metas, rescale=False):
        raise NotImplementedError('AFMNet has no test-time augmentation')
