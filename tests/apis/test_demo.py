"""The demo's configuration step: the detector trains on the synthetic
patches plus the repeated harbour training region, and the held-out harbour
region is scored with the detector's classes (its ships are ``ship``)."""
import os

from rotated_tod.apis.demo import (
    HARBOUR_REPEAT,
    DemoPaths,
    demo_config,
    harbour_dataset_config,
)
from tests.conftest import REPO, TINY_CONFIG


def test_demo_config_adds_the_harbour_training_region(tmp_path):
    paths = DemoPaths(str(tmp_path / 'out'), str(tmp_path / 'syn'),
                      str(tmp_path / 'harbour'), 'image.jpg', 'labels.txt')
    cfg = demo_config(TINY_CONFIG, paths, max_iters=3)
    assert cfg.runner.max_iters == 3
    synthetic, harbour = cfg.data.train
    assert synthetic.ann_file == str(tmp_path / 'syn' / 'split' / 'train' /
                                     'annfiles') + '/'
    assert harbour['type'] == 'RepeatDataset'
    assert harbour['times'] == HARBOUR_REPEAT
    region = harbour['dataset']
    assert region['ann_file'] == str(tmp_path / 'harbour' / 'split' /
                                     'train' / 'annfiles') + '/'
    assert 'ship' in region['classes']
    # the synthetic pipeline, with the region marked as labelling ships only
    ship = list(region['classes']).index('ship')
    assert region['pipeline'][:-1] == synthetic.pipeline[:-1] + [
        dict(type='LabelledClasses', classes=[ship])]
    assert region['pipeline'][-1]['keys'] == synthetic.pipeline[-1]['keys']
    assert 'labelled_classes' in region['pipeline'][-1]['meta_keys']
    assert cfg.data.test.full_ann_dir == str(tmp_path / 'syn' / 'val' /
                                             'labelTxt') + '/'
    held_out = harbour_dataset_config(cfg, paths.harbour_root, 'val')
    assert held_out['full_ann_dir'] == str(tmp_path / 'harbour' / 'val' /
                                           'labelTxt') + '/'
    assert held_out['classes'] == region['classes']
    assert held_out['filter_empty_gt'] is False


def test_nothing_reads_the_shared_folder():
    for top in ('rotated_tod', 'tools', 'bench', 'tests'):
        for folder, _, files in os.walk(os.path.join(REPO, top)):
            for name in files:
                if name.endswith('.py'):
                    with open(os.path.join(folder, name),
                              encoding='utf-8') as f:
                        assert '../' + 'shared' not in f.read(), name
