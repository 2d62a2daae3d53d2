import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_CONFIG = os.path.join(REPO, 'tests', 'data', 'configs',
                           'tiny_synthetic_retinanet.py')


@pytest.fixture(scope='session')
def tiny_synthetic(tmp_path_factory) -> str:
    """Three 256 px synthetic scenes (2 train, 1 val) split into 128 px
    patches; returns the dataset root."""
    from rotated_tod.datasets import prepare_synthetic_dataset
    root = str(tmp_path_factory.mktemp('synthetic'))
    prepare_synthetic_dataset(root, num_train=2, num_val=1, image_size=256,
                              patch_size=128, gap=32, progress=False)
    return root


def synthetic_data_options(root: str) -> dict:
    """cfg_options pointing a synthetic config at the data under ``root``."""
    split = os.path.join(root, 'split')
    options = {
        'data.train.ann_file': os.path.join(split, 'train', 'annfiles/'),
        'data.train.img_prefix': os.path.join(split, 'train', 'images/'),
    }
    for part in ('val', 'test'):
        options.update({
            f'data.{part}.ann_file': os.path.join(split, 'val', 'annfiles/'),
            f'data.{part}.img_prefix': os.path.join(split, 'val', 'images/'),
            f'data.{part}.full_ann_dir': os.path.join(root, 'val',
                                                      'labelTxt/'),
        })
    return options
