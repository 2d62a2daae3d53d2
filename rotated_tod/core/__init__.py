from . import anchor, bbox, evaluation, post_processing, visualization  # noqa: F401
