"""Positives per ground-truth object, by AI-TOD size range and pyramid level,
of the leaderboard rows' label assignment (the leaderboard's budget and data).

    python bench/leaderboard_assignment.py [--only ROW ...] [--suite harbour]
        [--images 16]

One training forward pass per row on the first ``--images`` training patches
of the suite, untrained weights: the static part of each assignment (prior
geometry, metric and thresholds; a dynamic assigner such as Ali-TSM sees
untrained scores). Every call of the head's assigners is recorded; for a
head without one that assigns points by FCOS's regress ranges
(``_get_target_single``), each positive point is given to the object whose
size and angle it regresses, nearest first. Columns: objects in the range,
mean positives per object, share of objects without a positive, and the
share of the positives on each level.
"""
import argparse
import collections
import os.path as osp
import sys
from typing import Optional

import numpy as np
import torch

BENCH = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, BENCH)

import leaderboard as board  # noqa: E402  (the leaderboard CLI's paths)

SIZE_BINS = (('< 2', 0, 2), ('vt 2-8', 2, 8), ('t 8-16', 8, 16),
             ('s 16-32', 16, 32), ('m 32-64', 32, 64),
             ('>= 64', 64, float('inf')))


def record_assignments(head) -> list:
    """Wrap every assigner of ``head``; returns the list the calls go to:
    ``(assigner attribute, number of priors, gt_inds, priors)``."""
    calls = []
    for attr in dir(head):
        assigner = getattr(head, attr, None) if 'assigner' in attr else None
        if assigner is None or not hasattr(assigner, 'assign'):
            continue

        def wrapped(*args, _assign=assigner.assign, _attr=attr, **kwargs):
            result = _assign(*args, **kwargs)
            calls.append((_attr, args[0].shape[0], result.gt_inds.clone(),
                          args[0].detach().clone()))
            return result

        assigner.assign = wrapped
    return calls


def record_point_targets(head) -> list:
    """Wrap an FCOS-style head's ``_get_target_single`` (one call per image,
    all levels' points); returns the list the calls go to, as
    :func:`record_assignments`: a positive point's object is the one whose
    ``(w, h, angle)`` its box and angle targets give (FCOS gives a point to
    one object), the one nearest the point among equal ones."""
    calls = []
    single = getattr(head, '_get_target_single', None)
    if single is None or not hasattr(head, 'regress_ranges'):
        return calls

    def wrapped(gt_bboxes, gt_labels, points, *args, **kwargs):
        out = single(gt_bboxes, gt_labels, points, *args, **kwargs)
        labels, box_targets, angle_targets = out[:3]
        gt_inds = torch.zeros(len(points), dtype=torch.long)
        positive = torch.nonzero(labels < head.num_classes).reshape(-1)
        if len(positive):
            size = torch.stack([box_targets[positive, 0::2].sum(1),
                                box_targets[positive, 1::2].sum(1)], 1)
            same = (torch.cdist(size, gt_bboxes[:, 2:4], p=1) < 1e-3) & (
                (angle_targets[positive] - gt_bboxes[None, :, 4]).abs()
                < 1e-4)
            if not bool(same.any(1).all()):
                raise RuntimeError('a positive point regresses no object: '
                                   'the targets are not (l, t, r, b), angle')
            distance = torch.cdist(points[positive], gt_bboxes[:, :2])
            owner = torch.where(same, distance, distance.new_tensor(
                float('inf'))).argmin(1)
            gt_inds[positive] = owner + 1
        calls.append(('regress ranges', len(points), gt_inds))
        return out

    head._get_target_single = wrapped
    return calls


def positives_table(calls: list, gt_bboxes: list, priors_per_level: list
                    ) -> dict:
    """Per assigner and size bin: positives per object and their levels."""
    out = {}
    bounds = np.cumsum(priors_per_level)
    for attr in sorted({c[0] for c in calls}):
        mine = [c for c in calls if c[0] == attr]
        counts = collections.defaultdict(list)
        levels = collections.defaultdict(
            lambda: np.zeros(len(priors_per_level)))
        for k, (_, num_priors, gt_inds, *_) in enumerate(mine):
            gts = gt_bboxes[k % len(gt_bboxes)]
            side = torch.sqrt(gts[:, 2] * gts[:, 3]).numpy()
            inds = gt_inds.numpy()
            positive = np.nonzero(inds > 0)[0]
            owner = inds[positive] - 1
            per_gt = np.bincount(owner, minlength=len(gts))
            level = (np.searchsorted(bounds, positive, side='right')
                     if num_priors == bounds[-1] else None)
            for name, low, high in SIZE_BINS:
                members = np.nonzero((side >= low) & (side < high))[0]
                counts[name] += list(per_gt[members])
                if level is not None:
                    for j in members:
                        levels[name] += np.bincount(
                            level[owner == j],
                            minlength=len(priors_per_level))
        out[attr] = (len(mine), counts, levels)
    return out


def delta_shares(calls: list, gt_bboxes: list, coder) -> Optional[tuple]:
    """Over the positives of the recorded assigner calls, the box coder's
    deltas: ``(mean |delta| per component (5,), mean shares of the centre
    (dx, dy) and of the angle in the squared norm)``; None without anchors or
    positives. A loss on the delta vector's norm (the smooth Wasserstein
    loss) gives each component the gradient ``delta_i / ||delta||``, an L1
    loss ``sign(delta_i)``: the shares say what each part gets of the former."""
    deltas = []
    for k, call in enumerate(calls):
        if len(call) < 4 or call[3].shape[-1] != 5:
            return None
        gt_inds, priors = call[2], call[3]
        positive = torch.nonzero(gt_inds > 0).reshape(-1)
        gts = gt_bboxes[k % len(gt_bboxes)]
        if len(positive):
            deltas.append(coder.encode(priors[positive],
                                       gts[gt_inds[positive] - 1]))
    if not deltas:
        return None
    deltas = torch.cat(deltas)
    squared = deltas.pow(2)
    norm = squared.sum(1).clamp(min=1e-12)
    return (deltas.abs().mean(0).tolist(),
            float((squared[:, :2].sum(1) / norm).mean()),
            float((squared[:, 4] / norm).mean()))


def main(argv=None) -> int:
    from mmcv.parallel import scatter
    from mmdet.datasets import build_dataloader
    from mmrotate.datasets import build_dataset
    from mmrotate.models import build_detector

    from rotated_tod.apis.leaderboard import (
        BUDGETS,
        SUITES,
        build_run_config,
        prepare_suite,
    )
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--only', nargs='+', metavar='ROW')
    parser.add_argument('--suite', default='synthetic', choices=SUITES)
    parser.add_argument('--images', type=int, default=16)
    args = parser.parse_args(argv)
    rows = board.load_rows()
    unknown = set(args.only or []) - {r['name'] for r in rows}
    if unknown:
        print(f'error: {board.ROWS_FILE}: unknown row(s) {sorted(unknown)}',
              file=sys.stderr)
        return 2
    budget = BUDGETS['cpu']
    suite = prepare_suite(args.suite, board.DATA_ROOT, budget,
                          board.HARBOUR_IMAGE, board.HARBOUR_LABELS)
    for row in rows:
        if args.only and row['name'] not in args.only:
            continue
        torch.manual_seed(0)
        np.random.seed(0)  # the same flips for every row
        cfg = build_run_config(osp.join(board.REPO, row['config']), suite,
                               budget)
        model = build_detector(cfg.model)
        model.init_weights()
        model.train()
        loader = build_dataloader(build_dataset(cfg.data.train),
                                  args.images, 0, num_gpus=1, dist=False,
                                  shuffle=False)
        data = scatter(next(iter(loader)), [-1])[0]
        # a two-stage detector's first assignment is its RPN's
        head = getattr(model, 'bbox_head', None) or model.rpn_head
        calls = record_assignments(head)
        point_calls = record_point_targets(head)
        sizes = [f.shape[-2:] for f in model.extract_feat(data['img'])]
        per_location = getattr(head, 'num_base_priors', None) or getattr(
            head, 'num_anchors', 1)
        per_level = [int(h * w * per_location) for h, w in sizes]
        model.forward_train(**data)
        calls = calls or point_calls
        if not calls:
            print(f'== {row["name"]}: {type(head).__name__} has no assigner '
                  'and no FCOS point targets')
            continue
        table = positives_table(calls, data['gt_bboxes'], per_level)
        for attr, (num_calls, counts, levels) in table.items():
            print(f'== {row["name"]} ({attr}, {num_calls} calls, priors per '
                  f'level {per_level})')
            for name, _, _ in SIZE_BINS:
                values = np.array(counts[name])
                if not len(values):
                    continue
                total = levels[name].sum()
                # no level shares where the assigner saw other priors than
                # the levels' full grids (e.g. an RPN's valid flags)
                share = ' '.join(f'{s:.2f}' for s in levels[name] / total) \
                    if total else '-'
                print(f'  {name:8s} objects {len(values):4d}  positives/object '
                      f'{values.mean():6.2f}  none {np.mean(values == 0):4.0%}'
                      f'  levels {share}')
            shares = delta_shares([c for c in calls if c[0] == attr],
                                  data['gt_bboxes'], head.bbox_coder) if \
                hasattr(head, 'bbox_coder') else None
            if shares is not None:
                print('  positives\' deltas: mean |dx dy dw dh da| '
                      + ' '.join(f'{v:.3f}' for v in shares[0])
                      + '; shares of the squared norm: centre '
                      f'{shares[1]:.2f}, angle {shares[2]:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
