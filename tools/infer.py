"""Detect objects on huge images with sliding windows (CPU or GPU).

    python tools/infer.py CONFIG CKPT IMAGE [IMAGE ...] --out DIR \
        [--patch-size 1024] [--gap 200] [--rates 1.0] [--batch-size 4] \
        [--score-thr 0.3] [--device cpu]

For each image writes DIR/{image}.txt, one detection per line
``x1 y1 x2 y2 x3 y3 x4 y4 class score`` (DOTA label line with the score in
place of the difficult flag, by decreasing score; tools/vis.py reads it),
and DIR/{image}.png with the detections drawn. An unreadable image stops the
run with one line naming it and how many images were done before it.
"""
import argparse
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Sliding-window inference on huge images')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--patch-size', type=int, default=1024)
    parser.add_argument('--gap', type=int, nargs='+', default=[200],
                        help='window overlap(s)')
    parser.add_argument('--rates', type=float, nargs='+', default=[1.0],
                        help='image scales')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detections below are not written or drawn')
    parser.add_argument('--merge-iou-thr', type=float, default=0.1,
                        help='rotated-IoU threshold of the merge NMS')
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ... (default: a '
                        'GPU when visible)')
    return parser.parse_args(argv)


def main(argv=None) -> list:
    args = parse_args(argv)
    from tqdm import tqdm

    from rotated_tod.apis.inference import (
        inference_huge_image,
        init_detector,
        write_detections,
    )
    from rotated_tod.core.fileio import (
        InputError,
        atomic_write_image,
        read_image,
    )
    from rotated_tod.core.visualization import draw_detections
    model = init_detector(args.config, args.checkpoint, args.device)
    classes = model.CLASSES
    written = []
    for path in tqdm(args.images, desc='images', unit='img'):
        try:
            image = read_image(path)
        except InputError as err:
            err.note = (f'{len(written)} of {len(args.images)} images done, '
                        f'their results are in {args.out}')
            raise
        dets = inference_huge_image(
            model, image, patch_size=args.patch_size, gaps=args.gap,
            rates=args.rates, batch_size=args.batch_size,
            nms_cfg=dict(type='rotated', iou_thr=args.merge_iou_thr))
        if classes is None or len(classes) != len(dets):
            classes = [f'class{k}' for k in range(len(dets))]
        name = osp.splitext(osp.basename(path))[0]
        txt = osp.join(args.out, name + '.txt')
        write_detections(txt, dets, classes, args.score_thr)
        drawn = draw_detections(image, dets, classes, args.score_thr)
        png = osp.join(args.out, name + '.png')
        atomic_write_image(png, drawn)
        written.append((txt, png))
    return written


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))
