from .feature_align_fpn import FeatureAlignFPN  # noqa: F401
