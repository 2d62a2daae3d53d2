"""Pictures of rotated boxes: detections or ground truth coloured by class,
and detection errors (true positives green, misses red, false positives
blue, as in SWIN-TOD's figures).

Images are BGR ``uint8`` (OpenCV); colours are BGR triples. Lines are one
pixel wide and anti-aliased by default so that boxes of a few pixels stay
readable; class names are optional small tags.
"""
import colorsys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..bbox.polygon import polygon_iou
from ..bbox.transforms import as_polygons

Color = Tuple[int, int, int]
TP_COLOR: Color = (0, 200, 0)
FN_COLOR: Color = (0, 0, 255)
FP_COLOR: Color = (255, 112, 0)
IGNORED_COLOR: Color = (160, 160, 160)


def class_palette(num_classes: int) -> List[Color]:
    """``num_classes`` bright, well separated BGR colours (hues spaced by
    the golden ratio, so neighbouring class indices differ strongly)."""
    colors = []
    for k in range(num_classes):
        r, g, b = colorsys.hsv_to_rgb((k * 0.618033988749895) % 1.0, 0.85,
                                      1.0)
        colors.append((int(b * 255), int(g * 255), int(r * 255)))
    return colors


def _as_bgr_uint8(image: np.ndarray) -> np.ndarray:
    """A writable BGR ``uint8`` copy (gray is expanded, floats clipped)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) or (H, W) image, got '
                         f'{img.shape}')
    return np.ascontiguousarray(img).copy()


def _draw_polygon(img: np.ndarray, poly: np.ndarray, color: Color,
                  thickness: int) -> None:
    pts = np.round(poly.reshape(4, 2) * 16).astype(np.int32)
    # Sub-pixel vertices (shift=4) keep tiny boxes from snapping to a grid.
    cv2.polylines(img, [pts], True, color, thickness, cv2.LINE_AA, shift=4)


def _draw_tag(img: np.ndarray, poly: np.ndarray, text: str, color: Color,
              font_scale: float, occupied: np.ndarray) -> None:
    """A small filled tag with ``text`` above the polygon's top vertex,
    left out where it would cover an earlier tag (``occupied`` marks the
    tagged pixels), so dense scenes stay readable."""
    pts = poly.reshape(4, 2)
    x, y = pts[np.argmin(pts[:, 1])]
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                     font_scale, 1)
    h, w = img.shape[:2]
    x0 = int(np.clip(x - tw / 2, 0, max(0, w - tw - 2)))
    y1 = int(np.clip(y - 2, th + base + 1, h - 1))
    y0 = max(0, y1 - th - base - 1)
    if occupied[y0:y1 + 1, x0:x0 + tw + 3].any():
        return
    occupied[y0:y1 + 1, x0:x0 + tw + 3] = True
    cv2.rectangle(img, (x0, y0), (x0 + tw + 2, y1), color, cv2.FILLED)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(img, text, (x0 + 1, y1 - base), cv2.FONT_HERSHEY_SIMPLEX,
                font_scale, ink, 1, cv2.LINE_AA)


def draw_rotated_boxes(image: np.ndarray,
                       boxes_or_polys: np.ndarray,
                       labels: Sequence[int],
                       class_names: Sequence[str],
                       scores: Optional[Sequence[float]] = None,
                       score_thr: float = 0.3,
                       palette: Optional[Sequence[Color]] = None,
                       thickness: int = 1,
                       show_labels: bool = True,
                       font_scale: float = 0.35) -> np.ndarray:
    """Draw rotated boxes coloured by class on a copy of ``image``.

    Args:
        image: (H, W, 3) BGR or (H, W) gray image.
        boxes_or_polys: (N, 5) ``xywha`` boxes or (N, 8) polygons.
        labels: (N,) class indices.
        class_names: names of the classes.
        scores: (N,) scores; boxes scoring below ``score_thr`` are not
            drawn, the others are drawn lowest score first (the best on top)
            and tagged ``name score``.
        score_thr: see ``scores``.
        palette: BGR colour per class (default :func:`class_palette`).
        thickness: line width in pixels.
        show_labels: draw the name (and score) tags; a tag that would
            cover another one (of a higher score) is left out.
        font_scale: OpenCV font scale of the tags.

    Returns:
        the drawn (H, W, 3) ``uint8`` image.
    """
    img = _as_bgr_uint8(image)
    polys = as_polygons(boxes_or_polys)
    labels = np.asarray(labels, np.int64).reshape(-1)
    if len(labels) != len(polys):
        raise ValueError(f'{len(polys)} boxes but {len(labels)} labels')
    if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(f'labels must lie in [0, {len(class_names)})')
    palette = list(palette) if palette is not None else class_palette(
        len(class_names))
    if len(palette) < len(class_names):
        raise ValueError(f'{len(palette)} colours for {len(class_names)} '
                         'classes')
    order = np.arange(len(polys))
    if scores is not None:
        scores = np.asarray(scores, np.float64).reshape(-1)
        if len(scores) != len(polys):
            raise ValueError(f'{len(polys)} boxes but {len(scores)} scores')
        order = order[scores >= score_thr]
        order = order[np.argsort(scores[order], kind='stable')]
    for i in order:
        color = tuple(int(c) for c in palette[labels[i]])
        _draw_polygon(img, polys[i], color, thickness)
    if show_labels:
        occupied = np.zeros(img.shape[:2], bool)
        for i in order[::-1]:
            text = class_names[labels[i]]
            if scores is not None:
                text += f' {scores[i]:.2f}'
            _draw_tag(img, polys[i], text,
                      tuple(int(c) for c in palette[labels[i]]), font_scale,
                      occupied)
    return img


def draw_detections(image: np.ndarray,
                    dets_per_class: Sequence[np.ndarray],
                    class_names: Sequence[str],
                    score_thr: float = 0.3,
                    **kwargs) -> np.ndarray:
    """:func:`draw_rotated_boxes` for per-class (K, 6) ``xywha, score``
    detections (the mmrotate result format); ``kwargs`` go through."""
    if len(dets_per_class) != len(class_names):
        raise ValueError(f'{len(dets_per_class)} class arrays for '
                         f'{len(class_names)} class names')
    dets = [np.asarray(d, np.float64).reshape(-1, 6) for d in dets_per_class]
    labels = np.concatenate(
        [np.full(len(d), k, np.int64) for k, d in enumerate(dets)])
    dets = np.concatenate(dets) if dets else np.zeros((0, 6))
    return draw_rotated_boxes(image, dets[:, :5], labels, class_names,
                              scores=dets[:, 5], score_thr=score_thr,
                              **kwargs)


@dataclass
class DetectionErrors:
    """Detections and ground truth sorted into error kinds; each field is
    ``(polygons (K, 8), labels (K,))``.

    Attributes:
        true_positives: detections matching a ground-truth object.
        false_positives: detections matching none (or a matched one again).
        misses: non-difficult objects no detection matched.
        ignored: difficult objects and the detections matching them (they
            count neither way, as in the DOTA evaluation).
    """
    true_positives: Tuple[np.ndarray, np.ndarray]
    false_positives: Tuple[np.ndarray, np.ndarray]
    misses: Tuple[np.ndarray, np.ndarray]
    ignored: Tuple[np.ndarray, np.ndarray]

    def counts(self) -> Dict[str, int]:
        return dict(tp=len(self.true_positives[1]),
                    fp=len(self.false_positives[1]),
                    fn=len(self.misses[1]), ignored=len(self.ignored[1]))


def _stack(items: List[Tuple[np.ndarray, int]]) -> Tuple[np.ndarray,
                                                          np.ndarray]:
    if not items:
        return np.zeros((0, 8)), np.zeros((0, ), np.int64)
    return (np.stack([p for p, _ in items]),
            np.asarray([c for _, c in items], np.int64))


def classify_detections(dets_per_class: Sequence[np.ndarray],
                        annotation,
                        iou_thr: float = 0.5,
                        score_thr: float = 0.3) -> DetectionErrors:
    """Match detections to the ground truth like the DOTA evaluation.

    Per class, detections with ``score >= score_thr`` are visited by
    decreasing score; each takes the ground-truth polygon of its class with
    the highest polygon IoU. If that IoU is ``> iou_thr``: a difficult object
    makes the detection ignored; an unmatched one makes it a true positive
    (and matched); an already matched one makes it a false positive. Lower
    IoU: false positive. Non-difficult objects left unmatched are misses.

    Args:
        dets_per_class: per class (K, 6) ``xywha, score`` (or (K, 9)
            polygons with a score).
        annotation: a :class:`rotated_tod.core.fileio.DOTAAnnotation`.
        iou_thr: IoU a match must exceed.
        score_thr: detections below are not considered.
    """
    tps, fps, misses, ignored = [], [], [], []
    gt_polys = np.asarray(annotation.polygons, np.float64).reshape(-1, 8)
    gt_labels = np.asarray(annotation.labels, np.int64)
    gt_difficult = np.asarray(annotation.difficult, bool)
    for c, dets in enumerate(dets_per_class):
        dets = np.asarray(dets, np.float64)
        dets = dets.reshape(-1, dets.shape[-1] if dets.size else 6)
        dets = dets[dets[:, -1] >= score_thr]
        dets = dets[np.argsort(-dets[:, -1], kind='stable')]
        det_polys = as_polygons(dets[:, :-1])
        members = np.nonzero(gt_labels == c)[0]
        polys = gt_polys[members]
        matched = np.zeros(len(members), bool)
        ious = polygon_iou(det_polys, polys)
        for d, poly in enumerate(det_polys):
            if len(members) and ious[d].max() > iou_thr:
                j = int(np.argmax(ious[d]))
                if gt_difficult[members[j]]:
                    ignored.append((poly, c))
                elif not matched[j]:
                    matched[j] = True
                    tps.append((poly, c))
                else:
                    fps.append((poly, c))
            else:
                fps.append((poly, c))
        for j, gt in enumerate(members):
            if gt_difficult[gt]:
                ignored.append((gt_polys[gt], c))
            elif not matched[j]:
                misses.append((gt_polys[gt], c))
    return DetectionErrors(_stack(tps), _stack(fps), _stack(misses),
                           _stack(ignored))


def draw_detection_errors(image: np.ndarray,
                          dets_per_class: Sequence[np.ndarray],
                          annotation,
                          iou_thr: float = 0.5,
                          score_thr: float = 0.3,
                          thickness: int = 1,
                          legend: bool = True) -> np.ndarray:
    """Draw true positives green, misses red, false positives blue and
    ignored (difficult) objects grey on a copy of ``image``.

    See :func:`classify_detections` for the matching. With ``legend`` the
    counts are written in the top-left corner.
    """
    errors = classify_detections(dets_per_class, annotation, iou_thr,
                                 score_thr)
    img = _as_bgr_uint8(image)
    layers = ((errors.ignored, IGNORED_COLOR), (errors.misses, FN_COLOR),
              (errors.false_positives, FP_COLOR),
              (errors.true_positives, TP_COLOR))
    for (polys, _), color in layers:
        for poly in polys:
            _draw_polygon(img, poly, color, thickness)
    if legend:
        counts = errors.counts()
        rows = ((f'TP {counts["tp"]}', TP_COLOR),
                (f'FN {counts["fn"]}', FN_COLOR),
                (f'FP {counts["fp"]}', FP_COLOR))
        for k, (text, color) in enumerate(rows):
            cv2.rectangle(img, (2, 2 + 16 * k), (70, 17 + 16 * k), (0, 0, 0),
                          cv2.FILLED)
            cv2.putText(img, text, (5, 14 + 16 * k),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.42, color, 1,
                        cv2.LINE_AA)
    return img
