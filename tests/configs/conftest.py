"""Data shared by the method config tests: one tiny dataset of each kind
the configs are written for."""
import os
import shutil

import pytest

from rotated_tod.datasets.hrsc_convert import convert_hrsc
from tests.conftest import REPO

SAMPLE = os.path.join(REPO, 'tests', 'data', 'mmrotate_samples')


@pytest.fixture(scope='session')
def data_roots(tiny_synthetic, tmp_path_factory) -> dict:
    """Per dataset kind (``dota``, ``hrsc``, ``synthetic``): the train
    (annotations, images) folders, the test ones, and the test set's extra
    options as config text."""
    root = tmp_path_factory.mktemp('config_data')
    dota_ann = root / 'dota_annfiles'
    dota_ann.mkdir()
    shutil.copy(os.path.join(SAMPLE, 'labelTxt', 'P0004__1__0___0.txt'),
                dota_ann)
    dota = (str(dota_ann) + '/', os.path.join(SAMPLE, 'images') + '/')
    hrsc = root / 'hrsc'
    convert_hrsc(os.path.join(REPO, 'tests', 'data', 'hrsc2016'), str(hrsc),
                 progress=False)
    split = os.path.join(tiny_synthetic, 'split')
    return dict(
        dota=(dota, dota, 'full_ann_dir=None'),
        hrsc=((f'{hrsc}/trainval/labelTxt/', f'{hrsc}/trainval/images/'),
              (f'{hrsc}/test/labelTxt/', f'{hrsc}/test/images/'), ''),
        synthetic=((f'{split}/train/annfiles/', f'{split}/train/images/'),
                   (f'{split}/val/annfiles/', f'{split}/val/images/'),
                   f"full_ann_dir={tiny_synthetic + '/val/labelTxt/'!r}"))
