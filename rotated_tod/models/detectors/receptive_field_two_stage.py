"""Oriented R-CNN and RoI Transformer whose RPN anchors are sized by the
receptive fields of their own backbone (SWIN-TOD's RPN, after RFLA)."""
import copy
from typing import Dict, Optional

from mmrotate.models.builder import ROTATED_DETECTORS
from mmrotate.models.detectors import OrientedRCNN, RoITransformer


def with_backbone(rpn_head: Dict, backbone: Dict) -> Dict:
    """A copy of ``rpn_head`` whose ``ReceptiveFieldAnchorGenerator`` has
    ``backbone`` set (unless the config sets it); other anchor generators
    are left alone."""
    rpn_head = copy.deepcopy(rpn_head)
    generator = rpn_head.get('anchor_generator') or {}
    if (generator.get('type') == 'ReceptiveFieldAnchorGenerator'
            and generator.get('backbone') is None):
        generator['backbone'] = copy.deepcopy(backbone)
    return rpn_head


@ROTATED_DETECTORS.register_module()
class ReceptiveFieldOrientedRCNN(OrientedRCNN):
    """``OrientedRCNN`` passing its backbone config to the RPN's
    ``ReceptiveFieldAnchorGenerator``, so changing the backbone (e.g. its
    depth) changes the anchors."""

    def __init__(self, backbone: Dict, rpn_head: Dict, roi_head: Dict,
                 train_cfg: Optional[Dict], test_cfg: Dict,
                 neck: Optional[Dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(backbone, with_backbone(rpn_head, backbone),
                         roi_head, train_cfg, test_cfg, neck, pretrained,
                         init_cfg)


@ROTATED_DETECTORS.register_module()
class ReceptiveFieldRoITransformer(RoITransformer):
    """``RoITransformer`` passing its backbone config to the RPN's
    ``ReceptiveFieldAnchorGenerator``."""

    def __init__(self, backbone: Dict, rpn_head: Dict, roi_head: Dict,
                 train_cfg: Optional[Dict], test_cfg: Dict,
                 neck: Optional[Dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(backbone, with_backbone(rpn_head, backbone),
                         roi_head, train_cfg, test_cfg, neck, pretrained,
                         init_cfg)
