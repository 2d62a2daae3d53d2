"""Random DOTA-like objects and detector outputs for the benchmarks.

Objects are oriented boxes ``(cx, cy, w, h, theta)`` with a log-normal long
side (median ~25 px, as DOTA's many small vehicles), an aspect ratio in
[0.3, 1] and any angle; a detector finds each object one or more times with
a few percent of noise and adds false alarms of the same sizes anywhere.
"""
import numpy as np

# Relative object frequency of the 15 DOTA-v1.0 classes (vehicles and ships
# dominate DOTA).
CLASS_WEIGHTS = np.array([8, 1, 2, 1, 30, 20, 25, 3, 1, 5, 1, 1, 6, 2, 1.0])
CLASS_FREQUENCY = CLASS_WEIGHTS / CLASS_WEIGHTS.sum()


def random_rboxes(rng: np.random.Generator, num: int, extent: tuple) -> np.ndarray:
    """(num, 5) boxes centred uniformly in ``[0, extent[0]) x [0, extent[1])``."""
    side = np.exp(rng.normal(3.2, 0.8, num))
    return np.column_stack([
        rng.uniform(0, extent, (num, 2)), side,
        side * rng.uniform(0.3, 1.0, num),
        rng.uniform(-np.pi / 2, np.pi / 2, num)])


def detections(rng: np.random.Generator, objects: np.ndarray,
               max_copies: int, noise: float, angle_noise: float,
               num_alarms: int, extent: tuple,
               alarm_score_max: float) -> np.ndarray:
    """(K, 6) ``xywha, score``: each object found 1 to ``max_copies`` times
    (centre and size jittered by ``noise`` times the size, the angle by
    ``angle_noise`` rad; scores in [0.3, 1)), then ``num_alarms`` false
    alarms in ``extent`` (scores in [0.05, ``alarm_score_max``)); sides of
    at least 1 px."""
    hits = np.repeat(objects, rng.integers(1, max_copies + 1, len(objects)), 0)
    hits = hits + rng.normal(0, 1, hits.shape) * np.column_stack(
        [hits[:, 2:4] * noise, hits[:, 2:4] * noise,
         np.full(len(hits), angle_noise)])
    found = np.concatenate([hits, random_rboxes(rng, num_alarms, extent)])
    found[:, 2:4] = np.maximum(found[:, 2:4], 1.0)
    scores = np.concatenate([rng.uniform(0.3, 1.0, len(hits)),
                             rng.uniform(0.05, alarm_score_max, num_alarms)])
    return np.column_stack([found, scores])
