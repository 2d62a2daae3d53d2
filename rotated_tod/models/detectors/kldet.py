"""KLDet made oriented: a rotated single-stage detector with KLDetHead."""
import copy
from typing import Dict, Optional

from mmrotate.models.builder import ROTATED_DETECTORS
from mmrotate.models.detectors.single_stage import RotatedSingleStageDetector


@ROTATED_DETECTORS.register_module()
class KLDet(RotatedSingleStageDetector):
    """Backbone + FPN + :class:`KLDetHead`.

    The head's receptive-field priors are computed from this detector's own
    backbone config (passed to the head as ``backbone`` unless the config
    sets it), so changing the backbone (e.g. its depth) changes the priors.
    """

    def __init__(self,
                 backbone: Dict,
                 neck: Optional[Dict] = None,
                 bbox_head: Optional[Dict] = None,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if bbox_head is None:
            raise ValueError('KLDet needs a bbox_head config')
        bbox_head = copy.deepcopy(bbox_head)
        if bbox_head.get('backbone') is None:
            bbox_head['backbone'] = copy.deepcopy(backbone)
        super().__init__(backbone, neck, bbox_head, train_cfg, test_cfg,
                         pretrained, init_cfg)
