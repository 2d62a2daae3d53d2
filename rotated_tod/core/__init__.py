from . import anchor, bbox, evaluation, hook, post_processing, visualization  # noqa: F401
