from .receptive_field_anchor import ReceptiveFieldAnchorGenerator
from .receptive_field_prior import (
                                    ReceptiveFieldPriorGenerator,
                                    backbone_receptive_fields,
                                    level_receptive_fields,
)

__all__ = [
    'ReceptiveFieldAnchorGenerator', 'ReceptiveFieldPriorGenerator',
    'backbone_receptive_fields',
    'level_receptive_fields'
]
