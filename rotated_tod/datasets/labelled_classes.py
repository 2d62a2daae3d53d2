"""Mark the images of a dataset that labels only some classes."""
from typing import Sequence

from mmrotate.datasets.builder import ROTATED_PIPELINES

# mmdet's Collect default meta keys
COLLECT_META_KEYS = ('filename', 'ori_filename', 'ori_shape', 'img_shape',
                     'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                     'img_norm_cfg')


@ROTATED_PIPELINES.register_module()
class LabelledClasses:
    """Set ``results['labelled_classes']``: the indices of the classes the
    image's labels cover (an unlabelled object of another class may be in
    it). Collect it among the ``meta_keys``; a partial-label head
    (:class:`rotated_tod.models.dense_heads.PartialLabelRotatedRetinaHead`)
    then ignores the other classes' classification loss on the image.

    Args:
        classes: indices into the dataset's class list.
    """

    def __init__(self, classes: Sequence[int]) -> None:
        if not len(classes):
            raise ValueError('an image labels at least one class')
        self.classes = tuple(int(c) for c in classes)

    def __call__(self, results: dict) -> dict:
        results['labelled_classes'] = self.classes
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(classes={self.classes})'


def with_labelled_classes(pipeline: Sequence[dict],
                          classes: Sequence[int]) -> list:
    """A copy of a training ``pipeline`` (ending in ``Collect``) that marks
    its images as labelling only ``classes``; Collect keeps its own meta
    keys and adds ``labelled_classes``."""
    *steps, collect = [dict(step) for step in pipeline]
    if collect.get('type') != 'Collect':
        raise ValueError('the pipeline must end with Collect')
    collect['meta_keys'] = tuple(collect.get(
        'meta_keys', COLLECT_META_KEYS)) + ('labelled_classes', )
    return steps + [dict(type='LabelledClasses', classes=list(classes)),
                    collect]
