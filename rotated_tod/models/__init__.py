from . import dense_heads, detectors, losses, necks, plugins, roi_heads  # noqa: F401
