from ..core.fileio import (
                      DOTA_CLASSES,
                      DOTAAnnotation,
                      DOTALabelError,
                      parse_dota_labels,
                      parse_patch_id,
                      write_dota_labels,
)
from .dota_dataset import DOTAPolyDataset
from .dota_split import split_dataset
from .harbour import HARBOUR_CLASSES, prepare_harbour_dataset
from .hrsc_convert import convert_hrsc
from .labelled_classes import LabelledClasses, with_labelled_classes
from .synthetic import (
                      SYNTHETIC_CLASSES,
                      SyntheticTinyDataset,
                      generate_synthetic_dataset,
                      prepare_synthetic_dataset,
                      render_scene,
)

__all__ = [
    'DOTA_CLASSES', 'DOTAAnnotation', 'DOTALabelError', 'DOTAPolyDataset',
    'HARBOUR_CLASSES', 'LabelledClasses', 'prepare_harbour_dataset',
    'with_labelled_classes',
    'SYNTHETIC_CLASSES', 'SyntheticTinyDataset', 'convert_hrsc',
    'generate_synthetic_dataset', 'prepare_synthetic_dataset', 'split_dataset',
    'parse_dota_labels', 'parse_patch_id', 'render_scene', 'write_dota_labels'
]
