from .receptive_field_prior import (
                                    ReceptiveFieldPriorGenerator,
                                    backbone_receptive_fields,
                                    level_receptive_fields,
)

__all__ = [
    'ReceptiveFieldPriorGenerator', 'backbone_receptive_fields',
    'level_receptive_fields'
]
