from . import (  # noqa: F401
    dense_heads,
    detectors,
    losses,
    necks,
    plugins,
    roi_heads,
    utils,
)
