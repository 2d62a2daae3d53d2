"""Helpers for tests that build detectors from configs and run them on tiny
inputs on the CPU (a few seconds per model)."""
from typing import Dict, List

import numpy as np
import torch

import rotated_tod  # noqa: F401  (registers modules, applies compat)
from rotated_tod.apis.model_builder import (  # noqa: F401  (used by tests)
    build_model,
    load_config,
    make_batch,
    num_classes_of,
    strip_pretrained,
)


def train_step(model: torch.nn.Module, batch: Dict) -> Dict[str, float]:
    """One forward/backward; returns the loss values (all must be finite)."""
    model.train()
    losses = model.forward_train(**batch)
    total, parsed = model._parse_losses(losses)
    total.backward()
    return {k: float(v) for k, v in parsed.items()}


def inference(model: torch.nn.Module, batch: Dict,
              rescale: bool = True) -> List[List[np.ndarray]]:
    """``simple_test`` on the batch images: per image, per class (K, 6)."""
    model.eval()
    with torch.no_grad():
        return model.simple_test(batch['img'], batch['img_metas'],
                                 rescale=rescale)
