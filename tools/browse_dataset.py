"""Draw a dataset's annotations as the model receives them, i.e. after the
training pipeline (resize, flips, rotation ...), like mmdet's browse_dataset.

    python tools/browse_dataset.py CONFIG --out DIR [--num 20] \
        [--skip-type Normalize DefaultFormatBundle Collect] [--cfg-options ..]

Writes DIR/{image}.png with the ground-truth boxes coloured by class.
"""
import argparse
import os.path as osp
import sys

from mmcv import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='config file')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num', type=int, default=20,
                        help='number of images to draw (-1: all)')
    parser.add_argument('--skip-type', nargs='+',
                        default=['Normalize', 'DefaultFormatBundle',
                                 'Collect'],
                        help='pipeline steps to leave out')
    parser.add_argument('--thickness', type=int, default=1)
    parser.add_argument('--no-labels', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None) -> list:
    args = parse_args(argv)
    from mmcv import Config
    from mmrotate.datasets import build_dataset
    from tqdm import tqdm

    import rotated_tod  # noqa: F401  (registers the datasets)
    from rotated_tod.core.fileio import (
        MissingInputError,
        atomic_write_image,
        read_image,
    )
    from rotated_tod.core.visualization import draw_rotated_boxes
    if not osp.isfile(args.config):
        raise MissingInputError(args.config, 'config file not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    data_cfg = cfg.data.train
    while 'dataset' in data_cfg:
        data_cfg = data_cfg.dataset
    data_cfg.pipeline = [
        step for step in data_cfg.pipeline
        if step['type'] not in args.skip_type
    ]
    dataset = build_dataset(data_cfg)
    count = len(dataset) if args.num < 0 else min(args.num, len(dataset))
    written = []
    for index in tqdm(range(count), desc='browse', unit='img'):
        try:
            item = dataset[index]
        except Exception:
            # mmdet's loader fails on a bad image with an unrelated error:
            # name the image when it is the cause, else keep the traceback
            read_image(osp.join(dataset.img_prefix or '',
                                dataset.data_infos[index]['filename']))
            raise
        drawn = draw_rotated_boxes(
            item['img'], item['gt_bboxes'], item['gt_labels'],
            dataset.CLASSES, thickness=args.thickness,
            show_labels=not args.no_labels)
        name = osp.splitext(osp.basename(item['filename']))[0]
        out = osp.join(args.out, name + '.png')
        atomic_write_image(out, drawn)
        written.append(out)
    return written


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))
