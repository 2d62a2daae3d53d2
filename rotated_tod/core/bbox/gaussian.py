r"""Gaussian distances and similarities between rotated boxes.

The only place in the package where Gaussian box math lives. A box
``(cx, cy, w, h, theta)`` (``xywha``, radians) is the Gaussian
``N(mu, Sigma)`` with ``mu = (cx, cy)`` and
``Sigma = R(theta) diag(w^2/4, h^2/4) R(theta)^T``; its standard deviations
along its own axes are the half sides ``s = w/2``, ``t = h/2``.

Distances (:func:`gaussian_distance`), with ``delta = mu1 - mu2``:

- ``'gwd'``: squared 2-Wasserstein distance
  ``|delta|^2 + tr S1 + tr S2 - 2 sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))``;
- ``'kld'``: ``KL(N1 || N2) = 0.5 [tr(S2^-1 S1) + delta^T S2^-1 delta - 2
  + ln(det S2 / det S1)]`` (boxes1 is the first argument of KL);
- ``'kld_rev'``: ``KL(N2 || N1)``;
- ``'jd'``: Jeffreys divergence ``0.5 (KL12 + KL21)``;
- ``'bcd'``: Bhattacharyya distance ``delta^T Sb^-1 delta / 8
  + 0.5 ln(det Sb / sqrt(det S1 det S2))``, ``Sb = (S1 + S2) / 2``.

Numerical form. Every metric is written with the relative angle
``phi = theta1 - theta2`` (``c = cos phi``, ``n = sin phi``) and the half
sides, as sums of non-negative terms, so that nothing cancels:

- GWD shape term, with ``P = s1 s2 + t1 t2``, ``Q = s1 t2 + t1 s2``::

    B = (c^2 [(s1-s2)^2 + (t1-t2)^2] [(s1+s2)^2 + (t1+t2)^2]
         + n^2 [(s1-t2)^2 + (t1-s2)^2] [(s1+t2)^2 + (t1+s2)^2])
        / (tr S1 + tr S2 + 2 sqrt(c^2 P^2 + n^2 Q^2))

  (``tr(S1 S2) + 2 sqrt(det S1 det S2) = c^2 P^2 + n^2 Q^2``), which is exactly
  ``((w1-w2)^2 + (h1-h2)^2) / 4`` for ``phi = 0`` and exactly 0 for equal
  boxes;
- KL shape term ``0.5 [c^2 (g(s1/s2) + g(t1/t2)) + n^2 (g(s1/t2) + g(t1/s2))]``
  with ``g(x) = x^2 - 1 - 2 ln x >= 0``; the centre term is
  ``0.5 |delta in the frame of box 2 / (s2, t2)|^2``;
- BCD shape term ``0.5 log1p(c^2 (A + B + A B) + n^2 (A' + B' + A' B'))`` with
  ``A = (s1-s2)^2 / (2 s1 s2)``, ``B = (t1-t2)^2 / (2 t1 t2)``,
  ``A' = (s1-t2)^2 / (2 s1 t2)``, ``B' = (t1-s2)^2 / (2 t1 s2)``, because
  ``det(S1 + S2) = 4 s1 t1 s2 t2 (1 + that sum)``.

Everything is computed in float64 (the centre term of BCD is a quadratic
form of an arbitrary 2x2 matrix that cancels in float32 for thin boxes) and
returned in the dtype of the inputs (on the CPU this costs little: every
pairwise metric stays > 15x faster than mmcv's rotated IoU, see
bench/gaussian_metrics.py; on GPUs with slow float64 it costs more). Sides
are clamped to ``MIN_SIDE`` before use so that degenerate boxes (w or h ->
0) give finite values and gradients; square roots and logarithms only see
arguments bounded away from 0.

Pairwise (``aligned=False``) results are computed in row chunks of at most
``CHUNK_PAIRS`` pairs, so a 100k x 1k matrix only needs its output plus
a few chunk-sized temporaries.
"""
from typing import Dict, Tuple

import torch

# Sides below this (in pixels) are treated as this: keeps det S > 0.
MIN_SIDE = 1e-6
# sqrt(x) is taken as sqrt(max(x, SQRT_FLOOR)) (float64): finite gradient at 0.
SQRT_FLOOR = 1e-12
# Pairs evaluated at once in the pairwise form (float64 temporaries of
# 8 * CHUNK_PAIRS bytes each).
CHUNK_PAIRS = 1 << 16
# C of NWD = exp(-sqrt(GWD) / C), the AI-TOD value.
NWD_CONSTANT = 12.8

DISTANCE_METRICS = ('gwd', 'kld', 'kld_rev', 'jd', 'bcd')
SIMILARITY_METRICS = DISTANCE_METRICS + ('nwd', 'kfiou')
DISTANCE_FUNS = ('none', 'sqrt', 'log1p')
# f of the similarity 1 / (tau + f(d)) of each distance, by default:
# log1p for GWD (px^2, unbounded scale), identity for the divergences
# (RFLA's 1 / (1 + KL)).
DEFAULT_SIMILARITY_FUN = {
    'gwd': 'log1p', 'kld': 'none', 'kld_rev': 'none', 'jd': 'none',
    'bcd': 'none'
}


def box2gaussian(boxes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(..., 5)`` xywha boxes -> ``mu (..., 2)``, ``sigma (..., 2, 2)``.

    ``sigma = R diag(w^2/4, h^2/4) R^T`` with ``R = [[cos, -sin], [sin,
    cos]]`` (sides clamped to ``MIN_SIDE``); same dtype and device as
    ``boxes``.
    """
    _check_boxes(boxes, 'boxes')
    mu = boxes[..., :2]
    half = boxes[..., 2:4].clamp(min=MIN_SIDE) / 2
    cos, sin = torch.cos(boxes[..., 4]), torch.sin(boxes[..., 4])
    var_w, var_h = half[..., 0].square(), half[..., 1].square()
    sxx = var_w * cos.square() + var_h * sin.square()
    syy = var_w * sin.square() + var_h * cos.square()
    sxy = (var_w - var_h) * cos * sin
    sigma = torch.stack([sxx, sxy, sxy, syy], -1).reshape(
        boxes.shape[:-1] + (2, 2))
    return mu, sigma


def transform_distance(distance: torch.Tensor, fun: str) -> torch.Tensor:
    """``f(d)`` for ``fun`` in ``'none'`` (d), ``'sqrt'``
    (``sqrt(max(d, SQRT_FLOOR))``), ``'log1p'`` (``ln(1 + d)``)."""
    if fun == 'none':
        return distance
    if fun == 'sqrt':
        return _safe_sqrt(distance)
    if fun == 'log1p':
        return torch.log1p(distance)
    raise ValueError(f'fun must be one of {DISTANCE_FUNS}, got {fun!r}')


def gaussian_distance(boxes1: torch.Tensor, boxes2: torch.Tensor,
                      metric: str, aligned: bool = False) -> torch.Tensor:
    """Raw Gaussian distance between rotated boxes (module docstring).

    Args:
        boxes1: ``(..., N, 5)`` xywha boxes.
        boxes2: ``(..., M, 5)``; batch dims broadcast with those of boxes1.
        metric: one of ``DISTANCE_METRICS``; ``'kld'`` is
            ``KL(boxes1 || boxes2)``, ``'kld_rev'`` is ``KL(boxes2 || boxes1)``.
        aligned: False -> ``(..., N, M)`` all pairs; True -> boxes1 and
            boxes2 broadcast against each other, result of the broadcast
            shape without the last dim (pairs ``i <-> i``).

    Returns:
        Non-negative distances, dtype of the inputs (float64 inside).
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'metric must be one of {DISTANCE_METRICS}, got '
                         f'{metric!r}')
    return _evaluate(boxes1, boxes2, aligned,
                     lambda p1, p2: _distance(metric, p1, p2))


def gaussian_similarity(boxes1: torch.Tensor, boxes2: torch.Tensor,
                        metric: str, aligned: bool = False,
                        **params) -> torch.Tensor:
    """Similarity in [0, 1] (1 for identical boxes) between rotated boxes.

    - ``'nwd'``: ``exp(-sqrt(GWD) / C)``; param ``C`` (default 12.8);
    - ``'gwd'``, ``'kld'``, ``'kld_rev'``, ``'jd'``, ``'bcd'``:
      ``1 / (tau + f(d))`` with d from :func:`gaussian_distance`; params
      ``fun`` in ``DISTANCE_FUNS`` (default ``DEFAULT_SIMILARITY_FUN``:
      ``'log1p'`` for GWD, ``'none'`` otherwise, so ``'kld'`` is
      ``1 / (1 + KL(boxes1 || boxes2))``) and ``tau >= 1`` (default 1);
      ``1 -`` this is mmrotate's GDLoss post-processing;
    - ``'kfiou'``: ``3 V(Sx) / (V(S1) + V(S2) - V(Sx))``, ``Sx = S1 - S1 (S1
      + S2)^-1 S1``, ``V(S) = 4 sqrt(det S)`` (KFIoU rescaled by 3 so that
      identical shapes give 1). It depends on the shapes only, not on the
      centres (the KFIoU paper aligns centres with a separate loss): use
      it for losses, not alone for assignment or NMS.

    Shapes as :func:`gaussian_distance`.
    """
    if metric not in SIMILARITY_METRICS:
        raise ValueError(f'metric must be one of {SIMILARITY_METRICS}, got '
                         f'{metric!r}')
    if metric == 'nwd':
        constant = float(_pop_params(params, metric, C=NWD_CONSTANT)['C'])
        if not constant > 0:
            raise ValueError(f'nwd: C must be > 0, got {constant}')

        def fn(p1, p2):
            gwd = _distance('gwd', p1, p2)
            return torch.exp(-_safe_sqrt(gwd) / constant)
    elif metric == 'kfiou':
        _pop_params(params, metric)

        def fn(p1, p2):
            return _kfiou(p1, p2)
    else:
        opts = _pop_params(params, metric,
                           fun=DEFAULT_SIMILARITY_FUN[metric], tau=1.0)
        fun, tau = opts['fun'], float(opts['tau'])
        if fun not in DISTANCE_FUNS:
            raise ValueError(f'fun must be one of {DISTANCE_FUNS}, got '
                             f'{fun!r}')
        if not tau >= 1:
            raise ValueError(f'tau must be >= 1 for a similarity in [0, 1], '
                             f'got {tau}')

        def fn(p1, p2):
            return 1 / (tau + transform_distance(
                _distance(metric, p1, p2), fun))
    return _evaluate(boxes1, boxes2, aligned, fn)


def whitened_offset(boxes1: torch.Tensor,
                    boxes2: torch.Tensor) -> torch.Tensor:
    """Centre offset of boxes1 in the whitened frame of boxes2 (aligned).

    ``(R2^T (mu1 - mu2)) / (w2/2, h2/2)``, shape: the broadcast of the two
    ``(..., 5)`` inputs with last dim 2; its squared norm is the Mahalanobis
    term ``delta^T S2^-1 delta``. Dtype of the inputs.
    """
    _check_boxes(boxes1, 'boxes1')
    _check_boxes(boxes2, 'boxes2')
    p1, p2 = _params(boxes1), _params(boxes2)
    along, across = _offset_in_frame(p1, p2)
    return torch.stack([along / p2['s'], across / p2['t']],
                       -1).to(_result_dtype(boxes1, boxes2))


def gaussian_scale(boxes1: torch.Tensor,
                   boxes2: torch.Tensor) -> torch.Tensor:
    """``2 (det S1 det S2)^(1/8) = (w1 h1 w2 h2)^(1/4)`` (aligned; sides
    clamped to ``MIN_SIDE``): the length mmrotate's GWD loss divides the
    Wasserstein distance by (``normalize=True``). Shape: the broadcast of the
    two ``(..., 5)`` inputs without the last dim."""
    _check_boxes(boxes1, 'boxes1')
    _check_boxes(boxes2, 'boxes2')
    p1, p2 = _params(boxes1), _params(boxes2)
    scale = 2 * (p1['s'] * p1['t'] * p2['s'] * p2['t']).pow(0.25)
    return scale.to(_result_dtype(boxes1, boxes2))


def _check_boxes(boxes: torch.Tensor, name: str) -> None:
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got '
                        f'{type(boxes).__name__}')
    if boxes.dim() == 0 or boxes.shape[-1] != 5:
        raise ValueError(f'{name} must have shape (..., 5) (cx, cy, w, h, '
                         f'theta), got {tuple(boxes.shape)}')
    if not boxes.is_floating_point():
        raise TypeError(f'{name} must be floating point, got {boxes.dtype}')


def _pop_params(params: Dict, metric: str, **defaults) -> Dict:
    unknown = set(params) - set(defaults)
    if unknown:
        raise TypeError(f'metric {metric!r} takes params {sorted(defaults)}, '
                        f'got unknown {sorted(unknown)}')
    return {**defaults, **params}


def _result_dtype(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.dtype:
    return torch.promote_types(boxes1.dtype, boxes2.dtype)


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x.clamp(min=SQRT_FLOOR))


def _params(boxes: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Per-box float64 quantities the pairwise formulas are written in."""
    boxes = boxes.to(torch.float64)
    half = boxes[..., 2:4].clamp(min=MIN_SIDE) / 2
    theta = boxes[..., 4]
    return dict(x=boxes[..., 0], y=boxes[..., 1], s=half[..., 0],
                t=half[..., 1], cos=torch.cos(theta), sin=torch.sin(theta))


def _evaluate(boxes1: torch.Tensor, boxes2: torch.Tensor, aligned: bool,
              fn) -> torch.Tensor:
    """Apply ``fn(params1, params2)`` to aligned or all pairs (chunked)."""
    _check_boxes(boxes1, 'boxes1')
    _check_boxes(boxes2, 'boxes2')
    if boxes1.device != boxes2.device:
        raise ValueError(f'boxes on different devices: {boxes1.device} and '
                         f'{boxes2.device}')
    dtype = _result_dtype(boxes1, boxes2)
    if aligned:
        return fn(_params(boxes1), _params(boxes2)).to(dtype)
    if boxes1.dim() < 2 or boxes2.dim() < 2:
        raise ValueError(f'pairwise boxes must be (..., N, 5) and (..., M, '
                         f'5), got {tuple(boxes1.shape)} and '
                         f'{tuple(boxes2.shape)}')
    batch = torch.broadcast_shapes(boxes1.shape[:-2], boxes2.shape[:-2])
    num1, num2 = boxes1.shape[-2], boxes2.shape[-2]
    p1 = {k: v.unsqueeze(-1) for k, v in _params(boxes1).items()}
    p2 = {k: v.unsqueeze(-2) for k, v in _params(boxes2).items()}
    batch_size = 1
    for size in batch:
        batch_size *= size
    rows = max(1, CHUNK_PAIRS // max(1, num2 * batch_size))
    if rows >= num1:
        return fn(p1, p2).expand(batch + (num1, num2)).to(dtype)
    out = boxes1.new_empty(batch + (num1, num2), dtype=dtype)
    for start in range(0, num1, rows):
        chunk = {k: v[..., start:start + rows, :] for k, v in p1.items()}
        out[..., start:start + rows, :] = fn(chunk, p2)
    return out


def _relative_angle(p1: Dict, p2: Dict) -> Tuple[torch.Tensor, torch.Tensor]:
    """``cos^2`` and ``sin^2`` of ``theta1 - theta2``."""
    cos = p1['cos'] * p2['cos'] + p1['sin'] * p2['sin']
    sin = p1['sin'] * p2['cos'] - p1['cos'] * p2['sin']
    return cos.square(), sin.square()


def _offset_in_frame(p1: Dict, p2: Dict) -> Tuple[torch.Tensor, torch.Tensor]:
    """``R2^T (mu1 - mu2)``: the offset along and across box 2's w axis."""
    dx, dy = p1['x'] - p2['x'], p1['y'] - p2['y']
    return (dx * p2['cos'] + dy * p2['sin'],
            dy * p2['cos'] - dx * p2['sin'])


def _gwd(p1: Dict, p2: Dict) -> torch.Tensor:
    cos2, sin2 = _relative_angle(p1, p2)
    s1, t1, s2, t2 = p1['s'], p1['t'], p2['s'], p2['t']
    trace_sum = s1.square() + t1.square() + s2.square() + t2.square()
    same = (s1 * s2 + t1 * t2).square()
    cross = (s1 * t2 + t1 * s2).square()
    numerator = (cos2 * ((s1 - s2).square() + (t1 - t2).square())
                 * ((s1 + s2).square() + (t1 + t2).square())
                 + sin2 * ((s1 - t2).square() + (t1 - s2).square())
                 * ((s1 + t2).square() + (t1 + s2).square()))
    shape = numerator / (trace_sum + 2 * torch.sqrt(cos2 * same
                                                     + sin2 * cross))
    dx, dy = p1['x'] - p2['x'], p1['y'] - p2['y']
    return dx.square() + dy.square() + shape


def _excess(ratio: torch.Tensor) -> torch.Tensor:
    """``g(x) = x^2 - 1 - 2 ln x`` (>= 0, 0 at x = 1)."""
    return (ratio.square() - 1 - 2 * torch.log(ratio)).clamp(min=0)


def _kld(p1: Dict, p2: Dict) -> torch.Tensor:
    """``KL(N1 || N2)``."""
    cos2, sin2 = _relative_angle(p1, p2)
    s1, t1, s2, t2 = p1['s'], p1['t'], p2['s'], p2['t']
    shape = (cos2 * (_excess(s1 / s2) + _excess(t1 / t2))
             + sin2 * (_excess(s1 / t2) + _excess(t1 / s2)))
    along, across = _offset_in_frame(p1, p2)
    centre = (along / s2).square() + (across / t2).square()
    return 0.5 * (centre + shape)


def _bhattacharyya_excess(p1: Dict, p2: Dict) -> torch.Tensor:
    """``det(S1 + S2) / (4 sqrt(det S1 det S2)) - 1`` (>= 0)."""
    cos2, sin2 = _relative_angle(p1, p2)
    s1, t1, s2, t2 = p1['s'], p1['t'], p2['s'], p2['t']
    a = (s1 - s2).square() / (2 * s1 * s2)
    b = (t1 - t2).square() / (2 * t1 * t2)
    a_cross = (s1 - t2).square() / (2 * s1 * t2)
    b_cross = (t1 - s2).square() / (2 * t1 * s2)
    return cos2 * (a + b + a * b) + sin2 * (a_cross + b_cross
                                            + a_cross * b_cross)


def _bcd(p1: Dict, p2: Dict) -> torch.Tensor:
    excess = _bhattacharyya_excess(p1, p2)
    det_sum = 4 * p1['s'] * p1['t'] * p2['s'] * p2['t'] * (1 + excess)
    # delta^T (S1 + S2)^-1 delta = delta^T adj(S1 + S2) delta / det(S1 + S2)
    var1_w, var1_h = p1['s'].square(), p1['t'].square()
    var2_w, var2_h = p2['s'].square(), p2['t'].square()
    sxx = (var1_w * p1['cos'].square() + var1_h * p1['sin'].square()
           + var2_w * p2['cos'].square() + var2_h * p2['sin'].square())
    syy = (var1_w * p1['sin'].square() + var1_h * p1['cos'].square()
           + var2_w * p2['sin'].square() + var2_h * p2['cos'].square())
    sxy = ((var1_w - var1_h) * p1['cos'] * p1['sin']
           + (var2_w - var2_h) * p2['cos'] * p2['sin'])
    dx, dy = p1['x'] - p2['x'], p1['y'] - p2['y']
    quad = (syy * dx.square() - 2 * sxy * dx * dy
            + sxx * dy.square()).clamp(min=0)
    return quad / (4 * det_sum) + 0.5 * torch.log1p(excess)


def _distance(metric: str, p1: Dict, p2: Dict) -> torch.Tensor:
    if metric == 'gwd':
        return _gwd(p1, p2)
    if metric == 'kld':
        return _kld(p1, p2)
    if metric == 'kld_rev':
        return _kld(p2, p1)
    if metric == 'jd':
        return 0.5 * (_kld(p1, p2) + _kld(p2, p1))
    return _bcd(p1, p2)


def _kfiou(p1: Dict, p2: Dict) -> torch.Tensor:
    """``3 V(Sx) / (V1 + V2 - V(Sx))`` with ``det Sx = det S1 det S2 /
    det(S1 + S2)``, so ``V(Sx) = 2 sqrt(s1 t1 s2 t2 / (1 + excess))``."""
    area1, area2 = p1['s'] * p1['t'], p2['s'] * p2['t']
    excess = _bhattacharyya_excess(p1, p2)
    volume = 2 * torch.sqrt(area1 * area2 / (1 + excess))
    return 3 * volume / (4 * area1 + 4 * area2 - volume)
