"""An IoU calculator returning a Gaussian similarity instead of rotated IoU,
so IoU-based assigners (mmdet/mmrotate MaxIoUAssigner, ATSS assigners, ours)
assign by NWD, KLD, GWD, ... with ``iou_calculator=dict(
type='RBboxGaussianOverlaps2D', metric='nwd')``."""
import torch
from mmrotate.core.bbox.iou_calculators.builder import ROTATED_IOU_CALCULATORS

from .gaussian import SIMILARITY_METRICS, gaussian_similarity


@ROTATED_IOU_CALCULATORS.register_module()
class RBboxGaussianOverlaps2D:
    """Gaussian similarity of rotated boxes, with the interface of mmrotate's
    ``RBboxOverlaps2D``.

    Args:
        metric: one of ``SIMILARITY_METRICS`` (default ``'nwd'``), see
            :func:`rotated_tod.core.bbox.gaussian.gaussian_similarity`; for
            the KL metrics boxes1 (the GTs in mmdet's assigners) is the first
            argument of KL.
        **params: the metric's parameters (``C`` for NWD, ``fun``/``tau``
            for the distances).
    """

    def __init__(self, metric: str = 'nwd', **params) -> None:
        if metric not in SIMILARITY_METRICS:
            raise ValueError(f'metric must be one of {SIMILARITY_METRICS}, '
                             f'got {metric!r}')
        self.metric = metric
        self.params = params
        # Validate the params now rather than at the first assignment.
        probe = torch.tensor([[0.0, 0.0, 2.0, 1.0, 0.0]])
        gaussian_similarity(probe, probe, metric, **params)

    def __call__(self, bboxes1: torch.Tensor, bboxes2: torch.Tensor,
                 mode: str = 'iou', is_aligned: bool = False,
                 version: str = 'oc') -> torch.Tensor:
        """Similarity between boxes.

        Args:
            bboxes1: (N, 5) ``xywha`` or (N, 6) ``xywha, score``, or empty.
            bboxes2: (M, 5) or (M, 6), or empty.
            mode: only ``'iou'`` (there is no Gaussian intersection over
                foreground); anything else is an error.
            is_aligned: (N,) similarities of pairs ``i <-> i`` (N == M).
            version: the angle version; Gaussians do not depend on it.

        Returns:
            (N, M), or (N,) if ``is_aligned``, in [0, 1].
        """
        if mode != 'iou':
            raise ValueError(f'RBboxGaussianOverlaps2D supports mode="iou" '
                             f'only, got {mode!r}')
        for name, boxes in (('bboxes1', bboxes1), ('bboxes2', bboxes2)):
            if boxes.size(-1) not in (0, 5, 6):
                raise ValueError(f'{name} must be (n, 5) or (n, 6), got '
                                 f'{tuple(boxes.shape)}')
        rows, cols = bboxes1.size(0), bboxes2.size(0)
        if is_aligned and rows != cols:
            raise ValueError(f'is_aligned needs as many boxes: {rows} != '
                             f'{cols}')
        if rows * cols == 0:
            shape = (rows, ) if is_aligned else (rows, cols)
            return bboxes1.new_zeros(shape)
        return gaussian_similarity(bboxes1[:, :5], bboxes2[:, :5],
                                   self.metric, aligned=is_aligned,
                                   **self.params)

    def __repr__(self) -> str:
        params = ''.join(f', {k}={v!r}' for k, v in self.params.items())
        return f'{self.__class__.__name__}(metric={self.metric!r}{params})'
