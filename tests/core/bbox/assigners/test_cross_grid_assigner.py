"""CrossGridAssigner (CLA) on hand-built grids with known answers, against
mmdet's MaxIoUAssigner for stage 1 and shapely for the inside test."""
import math

import numpy as np
import pytest
import torch
from mmdet.core.bbox.assigners import MaxIoUAssigner
from mmrotate.core import build_assigner, build_prior_generator
from shapely.geometry import Point, Polygon

import rotated_tod  # noqa: F401  (registers the assigner)
from rotated_tod.core.bbox.assigners import CrossGridAssigner, PriorGrid
from rotated_tod.core.bbox.transforms import rbox_to_polygon
from rotated_tod.datasets import render_scene

STRIDE = 8
MAP = 8  # an 8 x 8 map of stride 8: a 64 x 64 image


def grid_anchors(sizes, stride=STRIDE, map_size=MAP):
    """Anchors of one level, location-major then base size: (H*W*A, 5)
    centred on ``(j * stride, i * stride)``."""
    rows = []
    for i in range(map_size):
        for j in range(map_size):
            for w, h in sizes:
                rows.append([j * stride, i * stride, w, h, 0.])
    return torch.tensor(rows)


def one_level_grid(num_base=1, stride=STRIDE, map_size=MAP):
    return PriorGrid(featmap_sizes=[(map_size, map_size)],
                     strides=[(stride, stride)], num_base_priors=[num_base],
                     origins=[(0., 0.)])


def cell_index(j, i, a=0, num_base=1, width=MAP, offset=0):
    return offset + (i * width + j) * num_base + a


def positives(result):
    return set(torch.nonzero(result.gt_inds > 0).reshape(-1).tolist())


def stage1_positives(anchors, gts):
    plain = MaxIoUAssigner(0.5, 0.4, min_pos_iou=0.,
                           iou_calculator=dict(type='RBboxOverlaps2D'))
    return positives(plain.assign(anchors, gts))


# A 12 px GT whose centre (21, 19) sits at grid (2.625, 2.375). With the
# nearest cells its cell is (j, i) = (3, 2), whose anchor is the nearest,
# with the centre 0.375 left of and below that anchor, so CLA adds the left
# neighbour (2, 2) and the lower one (3, 3) - whose centres (16, 16), (24, 24)
# are inside the GT - but not the diagonal (2, 3).
CORNER_GT = torch.tensor([[21., 19., 12., 12., 0.]])
SQUARE16 = [(16., 16.)]


def test_nearest_cells_add_exactly_the_two_neighbours():
    anchors = grid_anchors(SQUARE16)
    assert stage1_positives(anchors, CORNER_GT) == {cell_index(3, 2)}
    result = CrossGridAssigner(cells='nearest').assign(
        anchors, CORNER_GT, gt_labels=torch.tensor([2]),
        prior_grid=one_level_grid())
    expected = {cell_index(3, 2), cell_index(2, 2), cell_index(3, 3)}
    assert positives(result) == expected
    added = set(torch.nonzero(
        result.get_extra_property('cross_grid_pos')).reshape(-1).tolist())
    assert added == {cell_index(2, 2), cell_index(3, 3)}
    assert result.gt_inds[list(expected)].tolist() == [1, 1, 1]
    assert result.labels[list(expected)].tolist() == [2, 2, 2]
    # Their recorded overlap is the one with their GT: IoU of the 16 px
    # anchor at (16, 16) with the 12 px GT = 9 * 11 / (256 + 144 - 99).
    assert result.max_overlaps[cell_index(2, 2)].item() == pytest.approx(
        99 / 301, abs=1e-4)


def test_published_cells_take_the_cell_holding_the_centre():
    """The paper's rule on the same GT: the centre (2.625, 2.375) lies in
    cell (2, 2), whose anchor (16, 16) sits at the cell's corner; frac 0.625
    in x and 0.375 in y give the right neighbour (3, 2) (the stage-1
    positive) and the upper one (2, 1), whose anchor (16, 8) is 5 px above
    the GT (y in [13, 25]): one anchor is added, not two."""
    anchors = grid_anchors(SQUARE16)
    result = CrossGridAssigner(cells='published').assign(
        anchors, CORNER_GT, gt_labels=torch.tensor([2]),
        prior_grid=one_level_grid())
    assert positives(result) == {cell_index(3, 2), cell_index(2, 2)}
    added = set(torch.nonzero(
        result.get_extra_property('cross_grid_pos')).reshape(-1).tolist())
    assert added == {cell_index(2, 2)}
    assert result.labels[cell_index(2, 2)] == 2
    assert CrossGridAssigner().cells == 'published'
    with pytest.raises(ValueError, match='cells'):
        CrossGridAssigner(cells='corner')


# A 22 px GT centred at (18, 18) = grid (2.25, 2.25): only the anchor (2, 2)
# at (16, 16), fully inside it, passes stage 1 (IoU 256 / 484 = 0.53; the
# anchors at (24, 16), (16, 24): 208 / 532 = 0.39). The centre is in the
# upper-left quarter of its image cell, so the paper's rule adds the left
# and upper neighbours (8, 16), (16, 8); it is 0.25 right of and below its
# nearest anchor, so the nearest rule adds (24, 16), (16, 24). All four
# lie inside the GT ([7, 29]^2).
CENTRE_GT = torch.tensor([[18., 18., 22., 22., 0.]])


@pytest.mark.parametrize('cells,neighbours', [
    ('published', [(1, 2), (2, 1)]),
    ('nearest', [(3, 2), (2, 3)]),
])
def test_the_two_rules_add_opposite_neighbours(cells, neighbours):
    anchors = grid_anchors(SQUARE16)
    assert stage1_positives(anchors, CENTRE_GT) == {cell_index(2, 2)}
    result = CrossGridAssigner(cells=cells).assign(
        anchors, CENTRE_GT, prior_grid=one_level_grid())
    expected = {cell_index(j, i) for j, i in neighbours}
    assert positives(result) == {cell_index(2, 2)} | expected
    assert set(torch.nonzero(result.get_extra_property(
        'cross_grid_pos')).reshape(-1).tolist()) == expected


def test_published_and_nearest_cells_agree_for_centred_priors():
    """With priors at the cell centres (``center_offset=0.5``, origin
    stride / 2) the paper's cell holding the centre is the nearest prior's
    cell, so both rules add the same positives."""
    rng = np.random.default_rng(1)
    rows = [[(j + 0.5) * STRIDE, (i + 0.5) * STRIDE, 16., 16., 0.]
            for i in range(MAP) for j in range(MAP)]
    anchors = torch.tensor(rows)
    grid = PriorGrid(featmap_sizes=[(MAP, MAP)], strides=[(STRIDE, STRIDE)],
                     num_base_priors=[1], origins=[(4., 4.)])
    num_added = 0
    for _ in range(20):
        n = int(rng.integers(1, 5))
        gts = torch.tensor(np.stack([
            rng.uniform(0, 64, n), rng.uniform(0, 64, n),
            rng.uniform(8, 30, n), rng.uniform(6, 20, n),
            rng.uniform(-math.pi / 2, math.pi / 2, n)], 1),
            dtype=torch.float32)
        published = CrossGridAssigner(cells='published').assign(
            anchors, gts, prior_grid=grid)
        nearest = CrossGridAssigner(cells='nearest').assign(
            anchors, gts, prior_grid=grid)
        assert torch.equal(published.gt_inds, nearest.gt_inds)
        num_added += int(published.get_extra_property('cross_grid_pos').sum())
    assert num_added > 0


def test_neighbour_threshold_limits_neighbours_to_the_cell_edges():
    anchors = grid_anchors(SQUARE16)
    # |offset| from the cell centre is 0.375 cells in x and y: kept when it
    # exceeds 0.5 - thr.
    near = CrossGridAssigner(cells='nearest', neighbour_thr=0.2).assign(
        anchors, CORNER_GT, prior_grid=one_level_grid())
    assert len(positives(near)) == 3
    far = CrossGridAssigner(cells='nearest', neighbour_thr=0.1).assign(
        anchors, CORNER_GT, prior_grid=one_level_grid())
    assert positives(far) == {cell_index(3, 2)}
    with pytest.raises(ValueError, match='neighbour_thr'):
        CrossGridAssigner(neighbour_thr=0.7)


def test_quality_gate_on_added_positives():
    anchors = grid_anchors(SQUARE16)
    grid = one_level_grid()
    # Both neighbours have IoU 99 / 301 = 0.329 with the GT.
    assert len(positives(CrossGridAssigner(
        cells='nearest', min_pos_quality=0.32).assign(
            anchors, CORNER_GT, prior_grid=grid))) == 3
    assert positives(CrossGridAssigner(
        cells='nearest', min_pos_quality=0.34).assign(
        anchors, CORNER_GT, prior_grid=grid)) == {cell_index(3, 2)}


def test_anchor_outside_rotated_box_is_never_added():
    anchors = grid_anchors(SQUARE16)
    # Same centre, 5.8 px box: every candidate centre is >= 3 px away in x
    # or y, so none is inside; only the stage-1 positive remains.
    gt = torch.tensor([[21., 19., 5.8, 5.8, 0.]])
    result = CrossGridAssigner().assign(anchors, gt,
                                        prior_grid=one_level_grid())
    assert positives(result) == stage1_positives(anchors, gt)
    assert not result.get_extra_property('cross_grid_pos').any()


@pytest.mark.parametrize('cells', ['published', 'nearest'])
@pytest.mark.parametrize('axes', ['image', 'object'])
def test_added_centres_inside_gt_on_random_scenes(axes, cells):
    """Every added prior's centre is covered by its GT's polygon (shapely)
    and no stage-1 decision is changed."""
    rng = np.random.default_rng(0)
    anchors = grid_anchors([(16., 16.), (22.6, 11.3), (11.3, 22.6)])
    grid = one_level_grid(num_base=3)
    assigner = CrossGridAssigner(cells=cells, neighbour_axes=axes)
    num_added = 0
    for _ in range(20):
        n = int(rng.integers(1, 6))
        gts = torch.tensor(np.stack([
            rng.uniform(-4, 68, n), rng.uniform(-4, 68, n),
            rng.uniform(3, 40, n), rng.uniform(2, 12, n),
            rng.uniform(-math.pi / 2, math.pi / 2, n)], 1), dtype=torch.float32)
        result = assigner.assign(anchors, gts, prior_grid=grid)
        plain = MaxIoUAssigner(0.5, 0.4, min_pos_iou=0.,
                               iou_calculator=dict(type='RBboxOverlaps2D'))
        stage1 = plain.assign(anchors, gts).gt_inds
        added = result.get_extra_property('cross_grid_pos')
        rescued = result.get_extra_property('rescued_pos')
        kept = ~added & ~rescued
        assert torch.equal(result.gt_inds[kept], stage1[kept])
        assert (stage1[added] <= 0).all()
        for idx in torch.nonzero(added).reshape(-1).tolist():
            gt = gts[result.gt_inds[idx] - 1]
            polygon = Polygon(rbox_to_polygon(gt.double().numpy()).reshape(4, 2))
            centre = Point(anchors[idx, :2].double().numpy())
            assert polygon.buffer(1e-4).covers(centre)
            num_added += 1
    assert num_added > 0


def test_thin_rotated_gt_keeps_positives_only_with_object_axes():
    # A 24 x 4 GT at 45 degrees centred at (26, 26) = grid (3.25, 3.25): the
    # image-axis neighbours (4, 3), (3, 4) are 5.7 px off its axis (outside
    # its 2 px half-height); along its own axis the neighbour is the diagonal
    # cell (4, 4), centre (32, 32), 8.5 px along the axis (half-length 12).
    anchors = grid_anchors(SQUARE16)
    gt = torch.tensor([[26., 26., 24., 4., math.pi / 4]])
    grid = one_level_grid()
    assert stage1_positives(anchors, gt) == {cell_index(3, 3)}
    image = CrossGridAssigner(cells='nearest', neighbour_axes='image').assign(
        anchors, gt, prior_grid=grid)
    assert positives(image) == {cell_index(3, 3)}
    obj = CrossGridAssigner(cells='nearest', neighbour_axes='object').assign(
        anchors, gt, prior_grid=grid)
    assert positives(obj) == {cell_index(3, 3), cell_index(4, 4)}


@pytest.mark.parametrize('cells', ['published', 'nearest'])
def test_object_axes_equal_image_axes_for_axis_aligned_gts(cells):
    anchors = grid_anchors(SQUARE16)
    grid = one_level_grid()
    gts = torch.tensor([[21., 19., 12., 12., 0.], [45., 37., 20., 9., 0.]])
    image = CrossGridAssigner(cells=cells, neighbour_axes='image').assign(
        anchors, gts, prior_grid=grid)
    obj = CrossGridAssigner(cells=cells, neighbour_axes='object').assign(
        anchors, gts, prior_grid=grid)
    assert torch.equal(image.gt_inds, obj.gt_inds)


def test_several_anchors_per_location():
    sizes = [(16., 16.), (22.6, 11.3), (11.3, 22.6)]
    anchors = grid_anchors(sizes)
    cells = [(3, 2), (2, 2), (3, 3)]
    assert stage1_positives(anchors, CORNER_GT) <= {
        cell_index(j, i, a, 3) for j, i in cells for a in range(3)}
    result = CrossGridAssigner(cells='nearest').assign(
        anchors, CORNER_GT, prior_grid=one_level_grid(3))
    assert positives(result) == {
        cell_index(j, i, a, 3) for j, i in cells for a in range(3)}


def test_only_levels_with_stage1_positives_and_subset_of_grid():
    # Level 0: stride 8, 16 px anchors; level 1: stride 16, 64 px anchors,
    # whose IoU with the 12 px GT (< 0.04) never wins stage 1.
    level0 = grid_anchors(SQUARE16)
    level1 = grid_anchors([(64., 64.)], stride=16, map_size=4)
    anchors = torch.cat([level0, level1])
    grid = PriorGrid(featmap_sizes=[(8, 8), (4, 4)],
                     strides=[(8, 8), (16, 16)], num_base_priors=[1, 1],
                     origins=[(0., 0.), (0., 0.)])
    result = CrossGridAssigner(cells='nearest').assign(anchors, CORNER_GT,
                                                       prior_grid=grid)
    assert positives(result) == {
        cell_index(3, 2), cell_index(2, 2), cell_index(3, 3)}

    # Drop cell (2, 2) from the given priors (as a head's inside flags do):
    # indices are then those of the remaining priors.
    inside = torch.ones(len(anchors), dtype=torch.bool)
    inside[cell_index(2, 2)] = False
    result = CrossGridAssigner(cells='nearest').assign(
        anchors[inside], CORNER_GT, prior_grid=grid, inside_flags=inside)
    kept = torch.nonzero(inside).reshape(-1)
    assert {int(kept[i]) for i in positives(result)} == {
        cell_index(3, 2), cell_index(3, 3)}


def test_empty_gt_gives_all_negatives():
    anchors = grid_anchors(SQUARE16)
    result = CrossGridAssigner().assign(
        anchors, torch.zeros(0, 5), gt_labels=torch.zeros(0).long(),
        prior_grid=one_level_grid())
    assert result.num_gts == 0
    assert (result.gt_inds == 0).all()
    assert not result.get_extra_property('cross_grid_pos').any()


def test_gts_on_image_borders():
    anchors = grid_anchors(SQUARE16)
    # Centre beyond the last anchor column/row (grid 7.75): its cell is
    # clamped to (7, 7) and the right/lower neighbours do not exist.
    # Centre at x = -1 (grid -0.125): cell 0, the left neighbour does not
    # exist; in y (grid 3.75) the lower neighbour (0, 4) is added.
    gts = torch.tensor([[62., 62., 14., 14., 0.], [-1., 30., 14., 14., 0.]])
    result = CrossGridAssigner(cells='nearest').assign(
        anchors, gts, prior_grid=one_level_grid())
    pos = positives(result)
    assert cell_index(7, 7) in pos
    assert result.gt_inds[cell_index(7, 7)] == 1
    assert {i for i in pos if result.gt_inds[i] == 2} == {
        cell_index(0, 3), cell_index(0, 4)}
    assert {i for i in pos if result.gt_inds[i] == 1} == {cell_index(7, 7)}


def test_label_source_source_vs_argmax():
    # Anchor (2, 2) is a cross-grid candidate of the corner GT (A) only, but
    # overlaps the wide GT B (centre (7, 14), whose own neighbours are on
    # its left/upper side) more.
    anchors = grid_anchors(SQUARE16)
    gts = torch.cat([CORNER_GT, torch.tensor([[7., 14., 30., 16., 0.]])])
    target = cell_index(2, 2)
    overlaps = build_assigner(dict(type='CrossGridAssigner')).iou_calculator(
        gts, anchors)
    assert overlaps[1, target] > overlaps[0, target]
    assert target not in stage1_positives(anchors, gts)
    grid = one_level_grid()
    source = CrossGridAssigner(cells='nearest', label_source='source').assign(
        anchors, gts, gt_labels=torch.tensor([0, 1]), prior_grid=grid)
    argmax = CrossGridAssigner(cells='nearest', label_source='argmax').assign(
        anchors, gts, gt_labels=torch.tensor([0, 1]), prior_grid=grid)
    assert source.gt_inds[target] == 1 and source.labels[target] == 0
    assert argmax.gt_inds[target] == 2 and argmax.labels[target] == 1
    with pytest.raises(ValueError, match='label_source'):
        CrossGridAssigner(label_source='nearest')


def test_missing_or_inconsistent_grid_is_a_clear_error():
    anchors = grid_anchors(SQUARE16)
    with pytest.raises(ValueError, match='prior_grid'):
        CrossGridAssigner().assign(anchors, CORNER_GT)
    with pytest.raises(ValueError, match='holds 256'):
        CrossGridAssigner().assign(anchors, CORNER_GT,
                                   prior_grid=one_level_grid(num_base=4))
    with pytest.raises(ValueError, match='one entry per level'):
        PriorGrid([(8, 8)], [(8, 8)], [1, 1], [(0, 0)])


def test_prior_grid_matches_anchor_generator_layout():
    generator = build_prior_generator(dict(
        type='RotatedAnchorGenerator', octave_base_scale=4,
        scales_per_octave=1, ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32]))
    sizes = [(9, 7), (5, 4), (3, 2)]
    grid = PriorGrid.from_anchor_generator(generator, sizes)
    anchors = generator.grid_priors(sizes, device='cpu')
    assert grid.num_level_priors == [len(a) for a in anchors]
    for level, (h, w) in enumerate(sizes):
        centres = anchors[level][:, :2].reshape(h, w, 3, 2)
        stride = grid.strides[level]
        origin = grid.origins[level]
        i, j = 2, w - 1
        assert centres[i, j, 1].tolist() == [
            origin[0] + j * stride[0], origin[1] + i * stride[1]]


def test_rescue_gt_whose_best_anchor_went_to_another_gt():
    # B (index 1), 1 px right of / 2 px above the corner GT A, wins A's only
    # best anchor (3, 2) in stage 1; A's cross-grid cells (2, 2), (3, 3)
    # hold its centre and overlap A more than B (0.329 vs 0.316, 0.266).
    anchors = grid_anchors(SQUARE16)
    gts = torch.cat([CORNER_GT, torch.tensor([[22., 17., 12., 12., 0.]])])
    grid = one_level_grid()
    published = CrossGridAssigner(cells='nearest',
                                  rescue_unmatched=False).assign(
        anchors, gts, prior_grid=grid)
    assert not (published.gt_inds == 1).any()
    rescued = CrossGridAssigner(cells='nearest').assign(anchors, gts,
                                                        prior_grid=grid)
    assert set(torch.nonzero(rescued.gt_inds == 1).reshape(-1).tolist()) == {
        cell_index(2, 2), cell_index(3, 3)}
    assert rescued.gt_inds[cell_index(3, 2)] == 2


def test_rescue_without_inside_candidates_takes_a_spare_best_anchor():
    # A 3 px GT centred between four anchor points: no anchor centre lies
    # inside it, and the 16 px GT B on the same centre wins its four tied
    # best anchors (2, 2), (3, 2), (2, 3), (3, 3). A takes one of them
    # (the first of the ties) and B keeps three.
    anchors = grid_anchors(SQUARE16)
    gts = torch.tensor([[20., 20., 3., 3., 0.], [20., 20., 16., 16., 0.]])
    grid = one_level_grid()
    tied = {cell_index(2, 2), cell_index(3, 2), cell_index(2, 3),
            cell_index(3, 3)}
    published = CrossGridAssigner(cells='nearest',
                                  rescue_unmatched=False).assign(
        anchors, gts, prior_grid=grid)
    assert positives(published) == tied
    assert not (published.gt_inds == 1).any()
    result = CrossGridAssigner(cells='nearest').assign(anchors, gts,
                                        gt_labels=torch.tensor([3, 1]),
                                        prior_grid=grid)
    assert positives(result) == tied
    assert torch.nonzero(result.gt_inds == 1).reshape(-1).tolist() == [
        cell_index(2, 2)]
    assert result.labels[cell_index(2, 2)] == 3
    assert result.get_extra_property('rescued_pos')[cell_index(2, 2)]
    assert (result.gt_inds == 2).sum() == 3


# Scenes 6 and 9 each hold a tiny vehicle whose best anchors all go to a
# neighbour in max-IoU assignment.
SCENES = (0, 6, 9)


def tiny_gt_positive_counts():
    """Positives per tiny GT (sqrt(w h) < 16) of synthetic scenes with the
    Refined-Det anchors (P3-P7, one square anchor of 4 strides)."""
    from tests.model_utils import load_config
    cfg = load_config('configs/refined_det/refined_det_r50_fpn_1x_dota_le90.py')
    generator = build_prior_generator(cfg.model.bbox_head.anchor_generator)
    sizes = [(math.ceil(512 / s), math.ceil(512 / s)) for s in (8, 16, 32,
                                                               64, 128)]
    anchors = torch.cat(generator.grid_priors(sizes, device='cpu'))
    grid = PriorGrid.from_anchor_generator(generator, sizes)
    assigners = dict(
        plain=MaxIoUAssigner(0.5, 0.4, min_pos_iou=0.,
                             iou_calculator=dict(type='RBboxOverlaps2D')),
        published=build_assigner(
            dict(cfg.model.train_cfg.assigner, rescue_unmatched=False)),
        cla=build_assigner(cfg.model.train_cfg.assigner),
        nearest=build_assigner(
            dict(cfg.model.train_cfg.assigner, cells='nearest')))
    counts = {name: [] for name in assigners}
    for index in SCENES:
        _, objects = render_scene(0, index, size=(512, 512))
        gts = torch.tensor(np.array([box for box, _, _ in objects]),
                           dtype=torch.float32).reshape(-1, 5)
        tiny = torch.nonzero(torch.sqrt(gts[:, 2] * gts[:, 3]) < 16)
        for name, assigner in assigners.items():
            kwargs = {} if name == 'plain' else dict(prior_grid=grid)
            gt_inds = assigner.assign(anchors, gts, **kwargs).gt_inds
            counts[name] += [int((gt_inds == k + 1).sum())
                             for k in tiny.reshape(-1).tolist()]
    return {name: np.array(c) for name, c in counts.items()}


def test_every_tiny_synthetic_gt_gets_a_positive():
    counts = tiny_gt_positive_counts()
    print(f'\n[CLA] {len(counts["cla"])} tiny GTs (<16 px) in synthetic '
          f'512x512 scenes {SCENES}, positives per GT:')
    for name, c in counts.items():
        print(f'[CLA]   {name:9s} mean {c.mean():.2f}, zero for '
              f'{(c == 0).sum()}, one for {(c == 1).sum()}, min {c.min()}')
    assert len(counts['cla']) >= 50
    assert (counts['plain'] == 0).sum() >= 2
    assert (counts['cla'] >= 1).all() and (counts['nearest'] >= 1).all()
    assert (counts['published'] >= counts['plain']).all()
    assert counts['cla'].sum() > counts['plain'].sum()
    assert counts['nearest'].sum() > counts['plain'].sum()


def test_gaussian_similarity_as_overlap():
    """With NWD as the overlap, stage 1 is max-NWD assignment and the
    cross-grid cells (which depend only on the grid and the GT) are added on
    top of it."""
    anchors = grid_anchors(SQUARE16)
    # C = 8: NWD(GT, anchor (3, 2)) = 0.53 is the only one above 0.5.
    nwd = dict(type='RBboxGaussianOverlaps2D', metric='nwd', C=8.)
    result = CrossGridAssigner(cells='nearest', iou_calculator=nwd).assign(
        anchors, CORNER_GT, prior_grid=one_level_grid())
    stage1 = positives(MaxIoUAssigner(0.5, 0.4, min_pos_iou=0.,
                                      iou_calculator=nwd).assign(
                                          anchors, CORNER_GT))
    assert stage1 == {cell_index(3, 2)}
    assert positives(result) == {
        cell_index(3, 2), cell_index(2, 2), cell_index(3, 3)}
