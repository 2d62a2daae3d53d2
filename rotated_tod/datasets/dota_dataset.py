"""A DOTA-layout dataset that keeps the original quadrilaterals, parses labels
strictly, and evaluates like the DOTA server.

Compared with mmrotate's ``DOTADataset``: malformed label lines, unknown
classes and missing images are errors naming the file (and line), or with
``on_invalid='skip'`` invalid objects are dropped with a warning; no tiny
object is dropped when polygons become rotated boxes; DOTA v1.0/v1.5/v2.0
class sets; ``evaluate`` merges patch results back to full images (when
``full_ann_dir`` is given) and scores them with the devkit-exact polygon
evaluator, so the mAP in the training log is the server's number;
``format_results`` writes a checked submission.
"""
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets.custom import CustomDataset
from mmrotate.datasets.builder import ROTATED_DATASETS

from ..core.bbox.transforms import polygon_to_rbox
from ..core.fileio import (
    DOTA_V1_0_CLASSES,
    DOTAAnnotation,
    MissingInputError,
    check_on_invalid,
    handle_invalid,
    list_label_files,
    parse_dota_labels,
    parse_patch_id,
    resolve_classes,
    scan_dota_labels,
    warn_skipped,
)

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


@ROTATED_DATASETS.register_module()
class DOTAPolyDataset(CustomDataset):
    """DOTA-layout dataset (``images/`` + ``labelTxt/`` or split
    ``annfiles/``).

    Args:
        ann_file: folder of label ``.txt`` files; in test mode with no label
            files, the folder of images.
        pipeline: mmdet pipeline.
        version: angle convention of the boxes (``'le90'``, ``'le135'``,
            ``'oc'``).
        dota_version: class set when ``classes`` is not given
            (``'v1.0'``, ``'v1.5'``, ``'v2.0'``).
        difficulty: objects with a difficult flag above this are left out of
            training (default keeps all, as mmrotate does; evaluation always
            ignores difficult objects).
        full_ann_dir: label folder of the unsplit images; when given,
            ``evaluate`` merges patch results and scores full images.
        merge_iou_thr: rotated-NMS IoU used when merging patches.
        merge_nms: optional NMS config for the merge (e.g. a Gaussian NMS).
        img_suffix: image extension searched first.
        on_invalid: an invalid label line (bad format, unknown class,
            degenerate polygon) is an error (``'error'``) or its object is
            dropped with a warning naming ``file:line`` and a count at the
            end (``'skip'``; the image stays).
    """
    CLASSES = DOTA_V1_0_CLASSES

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 version: str = 'le90',
                 dota_version: str = 'v1.0',
                 classes: Optional[Sequence[str]] = None,
                 difficulty: int = 100,
                 full_ann_dir: Optional[str] = None,
                 merge_iou_thr: float = 0.1,
                 merge_nms: Optional[dict] = None,
                 img_suffix: str = '.png',
                 on_invalid: str = 'error',
                 **kwargs):
        self.on_invalid = check_on_invalid(on_invalid)
        self.version = version
        self.difficulty = difficulty
        self.full_ann_dir = full_ann_dir
        self.merge_iou_thr = merge_iou_thr
        self.merge_nms = merge_nms
        self.img_suffix = img_suffix
        super().__init__(
            ann_file,
            pipeline,
            classes=resolve_classes(classes, dota_version),
            **kwargs)

    def __len__(self) -> int:
        return len(self.data_infos)

    def _find_image(self, img_id: str, label_file: str) -> str:
        for suffix in (self.img_suffix, ) + IMAGE_SUFFIXES:
            if osp.exists(osp.join(self.img_prefix or '', img_id + suffix)):
                return img_id + suffix
        raise MissingInputError(
            label_file, f'no image {img_id}{self.img_suffix} in '
            f'{self.img_prefix}')

    def load_annotations(self, ann_folder: str) -> List[dict]:
        """One info dict per image: ``filename`` and ``ann`` with ``bboxes``
        (N, 5) float32, ``labels``, ``polygons`` (N, 8), ``difficult``."""
        label_files = list_label_files(ann_folder) if osp.isdir(
            ann_folder) else []
        infos = []
        if not label_files:
            if not self.test_mode:
                raise MissingInputError(
                    ann_folder, 'no label files (.txt) for training')
            image_dir = ann_folder if osp.isdir(ann_folder) else \
                self.img_prefix
            for name in sorted(os.listdir(image_dir)):
                if osp.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                    infos.append(
                        dict(filename=name,
                             ann=self.annotation_to_ann(
                                 DOTAAnnotation.empty())))
            return infos
        skipped = 0
        for label_file in label_files:
            img_id = osp.splitext(osp.basename(label_file))[0]
            scan = scan_dota_labels(label_file, self.CLASSES)
            skipped += handle_invalid(scan.problems, self.on_invalid)
            ann = scan.ann
            keep = ~ann.difficult | (self.difficulty >= 1)
            infos.append(
                dict(filename=self._find_image(img_id, label_file),
                     ann=self.annotation_to_ann(ann, keep)))
        warn_skipped(skipped, f'the label files of {ann_folder}')
        return infos

    def annotation_to_ann(self, ann: DOTAAnnotation,
                          keep: Optional[np.ndarray] = None) -> dict:
        """mmdet's ``ann`` dict from a parsed label file."""
        if keep is None:
            keep = np.ones(len(ann), bool)
        polygons = ann.polygons[keep]
        return dict(
            bboxes=polygon_to_rbox(polygons, self.version).astype(np.float32),
            labels=ann.labels[keep].astype(np.int64),
            polygons=polygons.astype(np.float32),
            difficult=ann.difficult[keep],
            bboxes_ignore=np.zeros((0, 5), np.float32),
            labels_ignore=np.zeros((0, ), np.int64),
            polygons_ignore=np.zeros((0, 8), np.float32))

    def _filter_imgs(self, min_size: int = 32) -> List[int]:
        """Images with objects (all images when ``filter_empty_gt`` is off)."""
        return [
            i for i, info in enumerate(self.data_infos)
            if not self.filter_empty_gt or info['ann']['labels'].size > 0
        ]

    def _set_group_flag(self) -> None:
        self.flag = np.zeros(len(self), dtype=np.uint8)

    def image_ids(self) -> List[str]:
        return [osp.splitext(info['filename'])[0] for info in self.data_infos]

    def annotations(self) -> List[DOTAAnnotation]:
        """The ground truth of every image as :class:`DOTAAnnotation`."""
        return [
            DOTAAnnotation(info['ann']['polygons'].astype(np.float64),
                           info['ann']['labels'], info['ann']['difficult'])
            for info in self.data_infos
        ]

    def merge_results(self, results: list,
                      nproc: int = 1) -> Dict[str, List[np.ndarray]]:
        """Per-patch results (list per class of (K, 6) ``xywha, score``)
        merged into full-image coordinates, keyed by image name."""
        from ..core.post_processing import merge_patch_results
        return merge_patch_results(
            self.image_ids(), results, len(self.CLASSES),
            iou_thr=self.merge_iou_thr, nms_cfg=self.merge_nms, nproc=nproc)

    def evaluate(self,
                 results: list,
                 metric: Union[str, Sequence[str]] = 'mAP',
                 logger=None,
                 iou_thr: Union[float, Sequence[float]] = 0.5,
                 use_07_metric: bool = True,
                 nproc: int = 1,
                 size_ranges: bool = True,
                 **kwargs) -> Dict[str, float]:
        """Server-style evaluation: full images (patches merged) when
        ``full_ann_dir`` is set, else the images of this dataset.

        Args:
            results: per image, per class (K, 6) ``xywha, score`` arrays.
            metric: ``'mAP'`` (DOTA Task1, devkit rules, see
                :func:`~rotated_tod.core.evaluation.eval_polygon_map`) and/or
                ``'hrsc'`` (HRSC2016: ``AP50_07``, ``AP50_12``, ``AP75_12``,
                ``AP50_95``, see :func:`~rotated_tod.core.evaluation.eval_hrsc`).
            iou_thr: threshold(s) of ``'mAP'``; with several, ``mAP`` is at
                the first and ``mAP_50``, ... and their mean (e.g.
                ``mAP_50_95``) are added.
            use_07_metric: VOC07 11-point (devkit default) or VOC12 area AP
                for ``'mAP'``.
            size_ranges: add AP by AI-TOD size range (``AP_vt``, ``AP_t``,
                ``AP_s``, ``AP_m``) for ``'mAP'``.

        Returns:
            ``mAP``, ``AP_<class>``, the per-threshold keys, and
            ``recall_<size>`` (tiny/small/medium/large, NaN without objects
            of that size), ``AP_vt/t/s/m`` (NaN without objects in the range)
            for ``'mAP'``; the four HRSC keys for ``'hrsc'``.
        """
        from ..core.evaluation import eval_hrsc, eval_polygon_map
        metrics = [metric] if isinstance(metric, str) else list(metric)
        for m in metrics:
            if m not in ('mAP', 'hrsc'):
                raise KeyError(f'metric {m} is not supported; use mAP or hrsc')
        if len(results) != len(self):
            raise ValueError(f'{len(results)} results for {len(self)} images')
        if self.full_ann_dir:
            merged = self.merge_results(results, nproc)
            ids = sorted(merged)
            dets = [merged[i] for i in ids]
            gts = [
                parse_dota_labels(osp.join(self.full_ann_dir, i + '.txt'),
                                  self.CLASSES, on_invalid=self.on_invalid)
                for i in ids
            ]
        else:
            dets, gts = results, self.annotations()
        out = {}
        if 'mAP' in metrics:
            report = eval_polygon_map(
                dets, gts, len(self.CLASSES), iou_thr=iou_thr,
                use_07_metric=use_07_metric, class_names=self.CLASSES,
                logger=logger, size_ranges=size_ranges)
            out['mAP'] = report['mAP']
            for name, row in zip(self.CLASSES, report['per_class']):
                out[f'AP_{name}'] = row['ap']
            out.update({
                key: float(value)
                for key, value in report.items()
                if key.startswith(('mAP_', 'recall_', 'AP_'))
            })
        if 'hrsc' in metrics:
            out.update(
                eval_hrsc(dets, gts, len(self.CLASSES),
                          class_names=self.CLASSES, logger=logger))
        return out

    def format_results(self,
                       results: list,
                       submission_dir: Optional[str] = None,
                       nproc: int = 1,
                       allow_missing: bool = False,
                       **kwargs) -> tuple:
        """Merge patches and write DOTA Task1/Task2 files and their zip.

        Returns:
            (files, tmp_dir): the written paths, and the temporary folder
            created when ``submission_dir`` is None (else None).
        """
        from ..core.evaluation import write_dota_submission
        tmp_dir = None
        if submission_dir is None:
            tmp_dir = tempfile.TemporaryDirectory()
            submission_dir = tmp_dir.name
        merged = self.merge_results(results, nproc)
        files = write_dota_submission(
            merged, self.CLASSES, submission_dir,
            image_ids=sorted({parse_patch_id(i)[0] for i in self.image_ids()}),
            allow_missing=allow_missing)
        return files, tmp_dir
