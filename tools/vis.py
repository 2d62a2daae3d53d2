"""Draw ground truth, detections, or detection errors onto images.

    # ground truth (DOTA labelTxt)
    python tools/vis.py IMG_DIR --out DIR --gt ANN_DIR
    # detections: a folder of tools/infer.py .txt files, or a results pickle
    # ({image: per-class (K, 6) arrays} as merge_patch_results returns, or a
    # list in the order of the sorted image names of IMG_DIR)
    python tools/vis.py IMG_DIR --out DIR --dets DETS [--score-thr 0.3]
    # errors: true positives green, misses red, false positives blue
    python tools/vis.py IMG_DIR --out DIR --gt ANN_DIR --dets DETS \
        [--iou-thr 0.5]

Writes DIR/{image}.png for every image (or those named by --images).
"""
import argparse
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw rotated boxes')
    parser.add_argument('img_dir', help='folder of images')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--gt', help='folder of DOTA label files')
    parser.add_argument('--dets', help='folder of detection .txt files or '
                        'a results pickle')
    parser.add_argument('--mode', choices=['gt', 'dets', 'errors'],
                        help='default: errors with --gt and --dets, else '
                        'whichever is given')
    parser.add_argument('--images', nargs='+', help='only these image ids')
    parser.add_argument('--dota-version', default='v1.0',
                        choices=['v1.0', 'v1.5', 'v2.0'])
    parser.add_argument('--classes', nargs='+',
                        help='class names (overrides --dota-version)')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='IoU a true positive must exceed')
    parser.add_argument('--thickness', type=int, default=1)
    parser.add_argument('--no-labels', action='store_true',
                        help='no class tags')
    args = parser.parse_args(argv)
    if args.mode is None:
        args.mode = 'errors' if args.gt and args.dets else (
            'dets' if args.dets else 'gt')
    if args.mode in ('gt', 'errors') and not args.gt:
        parser.error(f'--mode {args.mode} needs --gt')
    if args.mode in ('dets', 'errors') and not args.dets:
        parser.error(f'--mode {args.mode} needs --dets')
    return args


def load_detections(dets: str, image_ids: list, all_ids: list,
                    class_names) -> dict:
    """``{image_id: per-class (K, 6)}`` for ``image_ids`` from a folder of
    text files or a pickle (a list pickle is aligned with ``all_ids``)."""
    from rotated_tod.apis.inference import read_detections
    from rotated_tod.core.fileio import InputError, MissingInputError
    if osp.isdir(dets):
        return {
            i: read_detections(osp.join(dets, i + '.txt'), class_names)
            for i in image_ids
        }
    if not osp.isfile(dets):
        raise MissingInputError(dets, 'no detection folder or results file')
    import mmcv
    try:
        results = mmcv.load(dets)
    except Exception as err:  # whatever the file holds, it is not results
        raise InputError(dets, f'not a results file ({type(err).__name__}: '
                         f'{err})') from err
    if isinstance(results, dict):
        missing = [i for i in image_ids if i not in results]
        if missing:
            raise InputError(dets, f'no results for images {missing[:5]}')
        return results
    if len(results) != len(all_ids):
        raise InputError(dets, f'{len(results)} results for '
                         f'{len(all_ids)} images in the image folder')
    return dict(zip(all_ids, results))


def main(argv=None) -> list:
    args = parse_args(argv)
    from tqdm import tqdm

    from rotated_tod.core.fileio import (
        MissingInputError,
        atomic_write_image,
        parse_dota_labels,
        read_image,
        resolve_classes,
    )
    from rotated_tod.core.visualization import (
        draw_detection_errors,
        draw_detections,
        draw_rotated_boxes,
    )
    from rotated_tod.datasets.dota_split import list_images
    classes = resolve_classes(args.classes, args.dota_version)
    paths = {osp.splitext(osp.basename(p))[0]: p
             for p in list_images(args.img_dir)}
    image_ids = sorted(paths)
    if args.images:
        unknown = [i for i in args.images if i not in paths]
        if unknown:
            raise MissingInputError(args.img_dir,
                                    f'no images {", ".join(unknown)}')
        image_ids = list(args.images)
    dets = load_detections(args.dets, image_ids, sorted(paths), classes) \
        if args.mode != 'gt' else {}
    written = []
    for image_id in tqdm(image_ids, desc='draw', unit='img'):
        image = read_image(paths[image_id])
        if args.mode != 'dets':
            ann = parse_dota_labels(osp.join(args.gt, image_id + '.txt'),
                                    classes)
        if args.mode == 'gt':
            drawn = draw_rotated_boxes(image, ann.polygons, ann.labels,
                                       classes, thickness=args.thickness,
                                       show_labels=not args.no_labels)
        elif args.mode == 'dets':
            drawn = draw_detections(image, dets[image_id], classes,
                                    args.score_thr,
                                    thickness=args.thickness,
                                    show_labels=not args.no_labels)
        else:
            drawn = draw_detection_errors(image, dets[image_id], ann,
                                          args.iou_thr, args.score_thr,
                                          thickness=args.thickness)
        out = osp.join(args.out, image_id + '.png')
        atomic_write_image(out, drawn)
        written.append(out)
    return written


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))
