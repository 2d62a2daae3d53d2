"""Cross-grid label assignment (CLA) of Refined-Det: X. Rao, L. Zhou,
"Cross-Grid Label Assignment for Arbitrary-Oriented Object Detection in
Aerial Images", IEEE GRSL 21, 2024, doi:10.1109/LGRS.2024.3408148.

Stage 1 is mmdet's max-IoU assignment. Stage 2 adds, for every GT and every
pyramid level on which stage 1 gave the GT a positive, the priors of up to
three grid cells near the GT centre whose centres lie inside the GT's rotated
box.

The assigner needs to know where each prior sits on the feature grids, which
mmdet's ``assign(bboxes, gt_bboxes, gt_bboxes_ignore, gt_labels)`` does not
carry: the head passes a :class:`PriorGrid` (and the inside flags it used to
select ``bboxes``) as keyword arguments, see
:class:`rotated_tod.models.dense_heads.CrossGridRetinaHead`.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
from mmdet.core.bbox.assigners import AssignResult, MaxIoUAssigner
from mmrotate.core.bbox.builder import ROTATED_BBOX_ASSIGNERS

CELL_RULES = ('published', 'nearest')
NEIGHBOUR_AXES = ('image', 'object')
LABEL_SOURCES = ('source', 'argmax')


@dataclass
class PriorGrid:
    """Layout of multi-level priors, as made by an mmdet anchor generator.

    Level ``l`` holds ``H_l x W_l x A_l`` priors flattened location-major
    (``index = offset_l + (i * W_l + j) * A_l + a``); the priors of cell
    ``(i, j)`` are centred at ``origin_l + (j * stride_x, i * stride_y)``.

    Attributes:
        featmap_sizes: ``(H_l, W_l)`` per level.
        strides: ``(stride_x, stride_y)`` per level, in pixels.
        num_base_priors: ``A_l`` per level.
        origins: ``(x, y)`` centre of the priors of cell ``(0, 0)`` per level.
    """
    featmap_sizes: Sequence[Tuple[int, int]]
    strides: Sequence[Tuple[float, float]]
    num_base_priors: Sequence[int]
    origins: Sequence[Tuple[float, float]]

    def __post_init__(self):
        lengths = {len(self.featmap_sizes), len(self.strides),
                   len(self.num_base_priors), len(self.origins)}
        if len(lengths) != 1:
            raise ValueError('PriorGrid: featmap_sizes, strides, '
                             'num_base_priors and origins need one entry per '
                             f'level, got lengths {sorted(lengths)}')

    @property
    def num_levels(self) -> int:
        return len(self.featmap_sizes)

    @property
    def num_level_priors(self) -> list:
        return [int(h) * int(w) * int(a) for (h, w), a in zip(
            self.featmap_sizes, self.num_base_priors)]

    @classmethod
    def from_anchor_generator(cls, anchor_generator,
                              featmap_sizes: Sequence[Tuple[int, int]]
                              ) -> 'PriorGrid':
        """The grid of an mmdet/mmrotate ``AnchorGenerator`` (its base
        anchors are ``x1 y1 x2 y2``, all centred on the cell origin)."""
        origins = []
        for base in anchor_generator.base_anchors:
            origins.append((float(base[0, 0] + base[0, 2]) / 2,
                            float(base[0, 1] + base[0, 3]) / 2))
        return cls(
            featmap_sizes=[(int(h), int(w)) for h, w in featmap_sizes],
            strides=[(float(sx), float(sy))
                     for sx, sy in anchor_generator.strides],
            num_base_priors=list(anchor_generator.num_base_priors),
            origins=origins)


@ROTATED_BBOX_ASSIGNERS.register_module()
class CrossGridAssigner(MaxIoUAssigner):
    """Max-IoU assignment followed by cross-grid positives (CLA).

    Stage 2, per (GT, level) pair where stage 1 found positives, takes a
    centre cell ``(j0, i0)`` and the offset ``d`` in ``[-1/2, 1/2)^2`` of the
    GT centre ``c`` from that cell's middle, in grid units. Two rules
    (``cells``):

    - ``'published'`` (the paper's code, the default until the leaderboard
      says otherwise): image cells ``[j s, (j + 1) s)``, ``u = c / stride``,
      ``(j0, i0) = floor(u)`` and ``d = u - (j0, i0) - 1/2``: the cell that
      holds the centre, then "left if frac(u_x) < 0.5, right if > 0.5", the
      same in y. Its prior sits at ``origin + (j0, i0) stride``: the cell's
      corner with mmdet's ``center_offset=0`` (``origin = 0``), so the
      neighbour on the near side of the centre may be farther from it than
      the unused prior on the other side.
    - ``'nearest'`` (ours): ``g = (c - origin) / stride``, ``(j0, i0) =
      floor(g + 1/2)`` (the prior nearest to the centre) and ``d = g - (j0,
      i0)``: the three priors nearest to the centre among the four around
      it. With ``center_offset=0.5`` (``origin = stride / 2``) both rules
      give the same cells.

    The centre cell is clamped into the map. Along each of two unit axes
    ``e_k`` (image axes, or the GT's own axes ``R(theta) (1, 0)``,
    ``R(theta) (0, 1)`` expressed in grid units when
    ``neighbour_axes='object'``, i.e. ``R^T (p - c)`` frames) the neighbour
    ``round((j0, i0) + sign(d . e_k) e_k)`` is a candidate when it is inside
    the map and ``|d . e_k| > 1/2 - neighbour_thr`` (always, for the default
    ``neighbour_thr = 0.5``). Every prior of a candidate cell whose centre
    ``p`` is inside the rotated GT (``|R^T (p - c)| <= (w/2, h/2)``) and that
    is not a stage-1 positive nor in an ignore region becomes positive,
    regardless of its IoU (unless ``min_pos_quality`` is set).

    Args:
        pos_iou_thr, neg_iou_thr, min_pos_iou, gt_max_assign_all,
        ignore_iof_thr, ignore_wrt_candidates, match_low_quality: stage 1,
            as mmdet's :class:`MaxIoUAssigner`.
        iou_calculator: overlap of stage 1 and of the quality gate; exact
            rotated IoU (``SparseRBboxOverlaps2D``) when None; any registered
            calculator (e.g. ``dict(type='RBboxGaussianOverlaps2D',
            metric='nwd')``) works.
        cells: ``'published'`` (the paper's cells) or ``'nearest'`` (the
            three priors nearest to the centre), see above.
        neighbour_thr: in (0, 0.5]; a neighbour cell is added when the centre
            lies within ``neighbour_thr`` (in cells) of that side of its cell.
        neighbour_axes: ``'image'`` (published) or ``'object'`` (neighbours
            along the GT's own axes, so thin rotated GTs keep them).
        label_source: ``'source'`` labels an added prior with the GT whose
            centre produced it (ties between GTs go to the larger overlap,
            then the lower index); ``'argmax'`` with its max-overlap GT (the
            published code).
        min_pos_quality: if set, an added prior also needs an overlap of at
            least this with the GT it is assigned to.
        rescue_unmatched: our fix for adjacent tiny objects, whose best
            priors may all go to another GT in stage 1 (low-quality matches
            overwrite each other): such a GT also gets stage 2, on the level
            of its best prior, and a GT still without a positive then takes
            its best-overlap (> 0) prior among the non-positive ones and
            those whose GT keeps another positive. False: the published
            method, which skips such GTs.
    """

    def __init__(self,
                 pos_iou_thr: float = 0.5,
                 neg_iou_thr: float = 0.4,
                 min_pos_iou: float = 0.,
                 gt_max_assign_all: bool = True,
                 ignore_iof_thr: float = -1,
                 ignore_wrt_candidates: bool = True,
                 match_low_quality: bool = True,
                 iou_calculator: Optional[dict] = None,
                 cells: str = 'published',
                 neighbour_thr: float = 0.5,
                 neighbour_axes: str = 'image',
                 label_source: str = 'source',
                 min_pos_quality: Optional[float] = None,
                 rescue_unmatched: bool = True):
        super().__init__(
            pos_iou_thr=pos_iou_thr,
            neg_iou_thr=neg_iou_thr,
            min_pos_iou=min_pos_iou,
            gt_max_assign_all=gt_max_assign_all,
            ignore_iof_thr=ignore_iof_thr,
            ignore_wrt_candidates=ignore_wrt_candidates,
            match_low_quality=match_low_quality,
            gpu_assign_thr=-1,
            iou_calculator=iou_calculator or dict(type='SparseRBboxOverlaps2D'))
        if not 0 < neighbour_thr <= 0.5:
            raise ValueError(
                f'neighbour_thr must be in (0, 0.5], got {neighbour_thr}')
        if cells not in CELL_RULES:
            raise ValueError(
                f'cells must be one of {CELL_RULES}, got {cells!r}')
        if neighbour_axes not in NEIGHBOUR_AXES:
            raise ValueError(f'neighbour_axes must be one of '
                             f'{NEIGHBOUR_AXES}, got {neighbour_axes!r}')
        if label_source not in LABEL_SOURCES:
            raise ValueError(f'label_source must be one of {LABEL_SOURCES}, '
                             f'got {label_source!r}')
        self.cells = cells
        self.neighbour_thr = neighbour_thr
        self.neighbour_axes = neighbour_axes
        self.label_source = label_source
        self.min_pos_quality = min_pos_quality
        self.rescue_unmatched = rescue_unmatched

    def assign(self,
               bboxes: torch.Tensor,
               gt_bboxes: torch.Tensor,
               gt_bboxes_ignore: Optional[torch.Tensor] = None,
               gt_labels: Optional[torch.Tensor] = None,
               prior_grid: Optional[PriorGrid] = None,
               inside_flags: Optional[torch.Tensor] = None) -> AssignResult:
        """Assign GTs to priors.

        Args:
            bboxes: (N, 5) priors ``xywha`` (anchors, or boxes used as
                anchors); their centres are used for the inside test.
            gt_bboxes: (K, 5) GT boxes.
            gt_bboxes_ignore: (K_ign, 5) ignored regions, or None.
            gt_labels: (K,) labels, or None.
            prior_grid: where the priors sit on the feature grids (required).
            inside_flags: (sum_l H_l W_l A_l,) bool: which priors of the full
                grid ``bboxes`` holds, in order; None when it holds them all.

        Returns:
            AssignResult; ``gt_inds`` (N,) 0 negative, -1 ignored, k+1 GT k.
            Its extra properties ``cross_grid_pos`` and ``rescued_pos``
            (N,) bool mark the positives added by stage 2 and by the rescue
            of unmatched GTs. ``max_overlaps`` of an added prior
            is its overlap with the GT it is assigned to.
        """
        if prior_grid is None:
            raise ValueError(
                'CrossGridAssigner.assign needs prior_grid (where each prior '
                'sits on the feature grids); use a head that passes it, e.g. '
                'CrossGridRetinaHead or FRHead')
        full_of_given = self._full_indices(bboxes, prior_grid, inside_flags)

        overlaps = self.iou_calculator(gt_bboxes, bboxes)
        ignored = bboxes.new_zeros(bboxes.size(0), dtype=torch.bool)
        if (self.ignore_iof_thr > 0 and gt_bboxes_ignore is not None
                and gt_bboxes_ignore.numel() > 0 and bboxes.numel() > 0):
            if self.ignore_wrt_candidates:
                ignore_max, _ = self.iou_calculator(
                    bboxes, gt_bboxes_ignore, mode='iof').max(dim=1)
            else:
                ignore_max, _ = self.iou_calculator(
                    gt_bboxes_ignore, bboxes, mode='iof').max(dim=0)
            ignored = ignore_max > self.ignore_iof_thr
            overlaps[:, ignored] = -1

        result = self.assign_wrt_overlaps(overlaps, gt_labels)
        added = bboxes.new_zeros(bboxes.size(0), dtype=torch.bool)
        if gt_bboxes.size(0) > 0 and bboxes.size(0) > 0:
            added_inds, added_gts = self._cross_grid_positives(
                bboxes, gt_bboxes, overlaps, result.gt_inds, ignored,
                prior_grid, full_of_given)
            if self.label_source == 'argmax':
                added_gts = overlaps[:, added_inds].argmax(dim=0)
            added[added_inds] = True
            result.gt_inds[added_inds] = added_gts + 1
            result.max_overlaps[added_inds] = overlaps[added_gts, added_inds]
            if result.labels is not None:
                result.labels[added_inds] = gt_labels[added_gts]
        rescued = torch.zeros_like(added)
        if self.rescue_unmatched and gt_bboxes.size(0) > 0:
            self._rescue_unmatched(result, overlaps, ignored, gt_labels,
                                   rescued)
        result.set_extra_property('cross_grid_pos', added)
        result.set_extra_property('rescued_pos', rescued)
        return result

    @staticmethod
    def _rescue_unmatched(result: AssignResult, overlaps: torch.Tensor,
                          ignored: torch.Tensor,
                          gt_labels: Optional[torch.Tensor],
                          rescued: torch.Tensor) -> None:
        """Give each GT still without a positive its best-overlap prior
        among those that are not positive or whose GT keeps another
        positive (in place; marks them in ``rescued``)."""
        gt_inds = result.gt_inds
        num_gts = overlaps.size(0)
        counts = torch.bincount(gt_inds[gt_inds > 0] - 1, minlength=num_gts)
        for gt in torch.nonzero(counts == 0).reshape(-1).tolist():
            owner_count = counts[(gt_inds - 1).clamp(min=0)]
            movable = torch.where(gt_inds > 0, owner_count >= 2, ~ignored)
            score = torch.where(movable, overlaps[gt],
                                overlaps.new_tensor(-1.))
            prior = int(score.argmax())
            if score[prior] <= 0:
                continue
            if gt_inds[prior] > 0:
                counts[gt_inds[prior] - 1] -= 1
            counts[gt] = 1
            gt_inds[prior] = gt + 1
            result.max_overlaps[prior] = overlaps[gt, prior]
            if result.labels is not None:
                result.labels[prior] = gt_labels[gt]
            rescued[prior] = True

    @staticmethod
    def _full_indices(bboxes: torch.Tensor, grid: PriorGrid,
                      inside_flags: Optional[torch.Tensor]) -> torch.Tensor:
        """(N,) index of each given prior in the full grid layout."""
        num_full = sum(grid.num_level_priors)
        if inside_flags is None:
            if bboxes.size(0) != num_full:
                raise ValueError(
                    f'CrossGridAssigner: got {bboxes.size(0)} priors but '
                    f'prior_grid holds {num_full}; pass inside_flags when '
                    'only a subset of the grid is assigned')
            return torch.arange(num_full, device=bboxes.device)
        if inside_flags.numel() != num_full:
            raise ValueError(
                f'CrossGridAssigner: inside_flags has {inside_flags.numel()} '
                f'entries but prior_grid holds {num_full} priors')
        full_of_given = torch.nonzero(inside_flags.reshape(-1)).reshape(-1)
        if full_of_given.numel() != bboxes.size(0):
            raise ValueError(
                f'CrossGridAssigner: inside_flags selects '
                f'{full_of_given.numel()} priors but {bboxes.size(0)} given')
        return full_of_given.to(bboxes.device)

    def _cross_grid_positives(self, bboxes, gt_bboxes, overlaps,
                              stage1_gt_inds, ignored, grid, full_of_given):
        """Stage 2: (M,) indices of the added priors and (M,) their GTs."""
        device = bboxes.device
        num_gts, num_levels = gt_bboxes.size(0), grid.num_levels
        level_sizes = torch.tensor(grid.num_level_priors, device=device)
        level_ends = torch.cumsum(level_sizes, 0)
        level_starts = level_ends - level_sizes
        given_of_full = full_of_given.new_full((int(level_ends[-1]), ), -1)
        given_of_full[full_of_given] = torch.arange(
            full_of_given.numel(), device=device)
        level_of_given = torch.bucketize(full_of_given, level_ends, right=True)

        # (GT, level) pairs that got stage-1 positives.
        stage1_pos = stage1_gt_inds > 0
        pos_inds = torch.nonzero(stage1_pos).reshape(-1)
        pair_keys = (stage1_gt_inds[pos_inds] - 1) * num_levels + \
            level_of_given[pos_inds]
        if self.rescue_unmatched:
            # A GT whose best priors all went to other GTs in stage 1 (two
            # tiny objects sharing a best anchor) is taken on the level of
            # its best prior.
            matched = torch.zeros(num_gts, dtype=torch.bool, device=device)
            matched[stage1_gt_inds[pos_inds] - 1] = True
            lost = torch.nonzero(~matched).reshape(-1)
            best_prior = overlaps[lost].argmax(dim=1)
            pair_keys = torch.cat(
                [pair_keys, lost * num_levels + level_of_given[best_prior]])
        pair_keys = torch.unique(pair_keys)
        pair_gts, pair_levels = pair_keys // num_levels, pair_keys % num_levels

        dtype = gt_bboxes.dtype
        strides = torch.tensor(grid.strides, dtype=dtype, device=device)
        origins = torch.tensor(grid.origins, dtype=dtype, device=device)
        # (L, 2) as (W, H) so that it lines up with (x, y).
        map_wh = torch.tensor([(w, h) for h, w in grid.featmap_sizes],
                              device=device)
        num_base = torch.tensor(grid.num_base_priors, device=device)

        gts = gt_bboxes[pair_gts]
        stride, origin = strides[pair_levels], origins[pair_levels]
        wh = map_wh[pair_levels]
        if self.cells == 'published':
            # Image cells [j s, (j + 1) s), whatever the priors' origin.
            centre_grid = gts[:, :2] / stride - 0.5
        else:
            centre_grid = (gts[:, :2] - origin) / stride
        centre_cell = torch.minimum(
            torch.floor(centre_grid + 0.5).clamp(min=0), wh - 1).long()
        offset = centre_grid - centre_cell

        if self.neighbour_axes == 'image':
            axes = torch.eye(2, dtype=dtype, device=device).expand(
                gts.size(0), 2, 2)
        else:
            cos, sin = torch.cos(gts[:, 4]), torch.sin(gts[:, 4])
            axes = torch.stack([torch.stack([cos, sin], -1),
                                torch.stack([-sin, cos], -1)], 1)
            # The GT's axes in grid units (strides may differ in x and y).
            axes = axes / stride[:, None, :]
            axes = axes / axes.norm(dim=-1, keepdim=True)
        proj = (axes * offset[:, None, :]).sum(-1)  # (P, 2)
        side = torch.sign(proj) * (proj.abs() > 0.5 - self.neighbour_thr)
        neighbours = torch.round(centre_cell[:, None, :] +
                                 side[..., None] * axes).long()  # (P, 2, 2)
        cells = torch.cat([centre_cell[:, None, :], neighbours], 1)  # (P,3,2)
        cell_ok = torch.cat([side.new_ones(side.size(0), 1), side.abs()], 1)
        cell_ok = (cell_ok > 0) & (cells >= 0).all(-1) & (
            cells < wh[:, None, :]).all(-1)

        # Every base prior of every candidate cell: (P, 3, A_max).
        max_base = int(num_base.max())
        base_idx = torch.arange(max_base, device=device)
        pair_base = num_base[pair_levels]
        pair_w = wh[:, 0]
        full_idx = (level_starts[pair_levels][:, None, None] +
                    ((cells[..., 1] * pair_w[:, None] + cells[..., 0]) *
                     pair_base[:, None])[..., None] + base_idx)
        cand_ok = cell_ok[..., None] & (base_idx < pair_base[:, None, None])
        full_idx = torch.where(cand_ok, full_idx, torch.zeros_like(full_idx))
        given_idx = given_of_full[full_idx]
        cand_ok &= given_idx >= 0
        cand_gt = pair_gts[:, None, None].expand_as(given_idx)[cand_ok]
        cand_prior = given_idx[cand_ok]

        inside = self._centres_inside(bboxes[cand_prior, :2],
                                      gt_bboxes[cand_gt])
        keep = inside & ~stage1_pos[cand_prior] & ~ignored[cand_prior]
        cand_overlap = overlaps[cand_gt, cand_prior]
        if self.min_pos_quality is not None:
            keep &= cand_overlap >= self.min_pos_quality
        cand_gt, cand_prior = cand_gt[keep], cand_prior[keep]
        cand_overlap = cand_overlap[keep]
        if cand_prior.numel() == 0:
            return cand_prior, cand_gt

        # A prior claimed by several GTs goes to the largest overlap, then to
        # the lowest GT index (deterministic on every device).
        num_priors = bboxes.size(0)
        best = cand_overlap.new_full((num_priors, ), float('-inf'))
        best = best.scatter_reduce(0, cand_prior, cand_overlap, 'amax')
        is_best = cand_overlap == best[cand_prior]
        first_gt = cand_gt.new_full((num_priors, ), num_gts)
        first_gt = first_gt.scatter_reduce(
            0, cand_prior[is_best], cand_gt[is_best], 'amin')
        added_inds = torch.nonzero(first_gt < num_gts).reshape(-1)
        return added_inds, first_gt[added_inds]

    @staticmethod
    def _centres_inside(points: torch.Tensor,
                        boxes: torch.Tensor) -> torch.Tensor:
        """(M,) whether point m (M, 2) lies in rotated box m (M, 5),
        boundary included: ``|R(theta)^T (p - c)| <= (w/2, h/2)``."""
        delta = points - boxes[:, :2]
        cos, sin = torch.cos(boxes[:, 4]), torch.sin(boxes[:, 4])
        along_w = delta[:, 0] * cos + delta[:, 1] * sin
        along_h = -delta[:, 0] * sin + delta[:, 1] * cos
        return (along_w.abs() <= boxes[:, 2] / 2) & (
            along_h.abs() <= boxes[:, 3] / 2)
