"""HRSC2016 -> the DOTA layout used by :class:`DOTAPolyDataset`.

HRSC2016 ships ``FullDataSet/AllImages/*.bmp``, ``FullDataSet/Annotations/
*.xml`` and ``ImageSets/{trainval,test}.txt`` (one image id per line). Each
XML holds ``HRSC_Objects/HRSC_Object`` entries with the rotated box
``mbox_cx, mbox_cy, mbox_w, mbox_h, mbox_ang`` (pixels, radians; the same
``xywha`` convention as ours, as mmrotate's ``HRSCDataset`` reads it) and a
``difficult`` flag. The converter writes ``out/{split}/images/{id}.bmp``
(a symlink to the original, or a copy) and ``out/{split}/labelTxt/{id}.txt``
whose lines are the box corners (:func:`rbox_to_polygon`) with the class ``ship``
(the single-class task every HRSC2016 result is reported on). Images with no
ship get an empty label file. Errors name the XML file (and the object).
"""
import os
import os.path as osp
import shutil
import xml.etree.ElementTree as ET
from typing import Dict, List, Sequence

import numpy as np
from tqdm import tqdm

from ..core.bbox.transforms import rbox_to_polygon
from ..core.fileio import (
    DOTAAnnotation,
    InputError,
    MissingInputError,
    write_dota_labels,
)

HRSC_CLASSES = ('ship', )
BOX_FIELDS = ('mbox_cx', 'mbox_cy', 'mbox_w', 'mbox_h', 'mbox_ang')


class HRSCAnnotationError(InputError):
    """A malformed HRSC2016 XML file; the message starts with its path."""


def _first_dir(root: str, candidates: Sequence[str], what: str) -> str:
    for name in candidates:
        path = osp.join(root, name)
        if osp.isdir(path):
            return path
    raise MissingInputError(
        root, f'no {what} folder (looked for {", ".join(candidates)})')


def parse_hrsc_xml(path: str) -> DOTAAnnotation:
    """The ships of one HRSC2016 XML file as a :class:`DOTAAnnotation`
    (labels all 0, polygons from the rotated boxes). ``meta`` holds
    ``filename`` (``Img_FileName.Img_FileFmt`` when given).

    Raises:
        HRSCAnnotationError: ``path: reason`` (object index 1-based).
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise HRSCAnnotationError(f'{path}: not valid XML ({err})') from None
    boxes, difficult = [], []
    objects = root.find('HRSC_Objects')
    for k, obj in enumerate([] if objects is None else
                            objects.findall('HRSC_Object'), start=1):
        values = []
        for name in BOX_FIELDS:
            node = obj.find(name)
            if node is None or node.text is None or not node.text.strip():
                raise HRSCAnnotationError(
                    f'{path}: object {k}: missing <{name}>')
            try:
                values.append(float(node.text))
            except ValueError:
                raise HRSCAnnotationError(
                    f'{path}: object {k}: <{name}> is not a number: '
                    f'{node.text.strip()!r}') from None
        if not np.all(np.isfinite(values)):
            raise HRSCAnnotationError(
                f'{path}: object {k}: non-finite box {values}')
        if values[2] <= 0 or values[3] <= 0:
            raise HRSCAnnotationError(
                f'{path}: object {k}: box size must be positive, got '
                f'mbox_w={values[2]}, mbox_h={values[3]}')
        node = obj.find('difficult')
        flag = '0' if node is None or node.text is None else node.text.strip()
        if flag not in ('0', '1'):
            raise HRSCAnnotationError(
                f'{path}: object {k}: <difficult> must be 0 or 1, got '
                f'{flag!r}')
        boxes.append(values)
        difficult.append(flag == '1')
    meta = {}
    name = root.findtext('Img_FileName')
    if name:
        fmt = root.findtext('Img_FileFmt') or 'bmp'
        meta['filename'] = f'{name.strip()}.{fmt.strip()}'
    if not boxes:
        ann = DOTAAnnotation.empty()
        ann.meta = meta
        return ann
    polygons = rbox_to_polygon(np.asarray(boxes, np.float64))
    return DOTAAnnotation(polygons, np.zeros(len(boxes), np.int64),
                          np.asarray(difficult, bool), meta)


def read_image_set(path: str) -> List[str]:
    """Image ids of an ``ImageSets/*.txt`` file, in file order."""
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def _place_image(src: str, dst: str, copy: bool) -> None:
    if osp.lexists(dst):
        os.unlink(dst)
    if copy:
        tmp = dst + '.tmp'
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    else:
        os.symlink(osp.abspath(src), dst)


def convert_hrsc(root: str,
                 out_dir: str,
                 splits: Sequence[str] = ('trainval', 'test'),
                 copy: bool = False,
                 progress: bool = True) -> Dict[str, Dict[str, int]]:
    """Convert HRSC2016 at ``root`` into ``out_dir/{split}/{images,
    labelTxt}``.

    Args:
        root: the HRSC2016 folder (holding ``ImageSets`` and ``FullDataSet``
            or directly ``AllImages`` and ``Annotations``).
        out_dir: output folder.
        splits: image sets to convert (``ImageSets/{split}.txt``).
        copy: copy the images instead of symlinking them.
        progress: show a progress bar.

    Returns:
        per split ``dict(images=..., objects=..., difficult=...)``.
    """
    full = osp.join(root, 'FullDataSet')
    base = full if osp.isdir(full) else root
    ann_dir = _first_dir(base, ('Annotations', ), 'annotation')
    img_dir = _first_dir(base, ('AllImages', 'Images'), 'image')
    set_dir = _first_dir(root, ('ImageSets', ), 'image set')
    stats = {}
    for split in splits:
        set_file = osp.join(set_dir, split + '.txt')
        if not osp.isfile(set_file):
            raise MissingInputError(set_file, 'image set not found')
        out_img = osp.join(out_dir, split, 'images')
        out_ann = osp.join(out_dir, split, 'labelTxt')
        os.makedirs(out_img, exist_ok=True)
        os.makedirs(out_ann, exist_ok=True)
        counts = dict(images=0, objects=0, difficult=0)
        for image_id in tqdm(read_image_set(set_file), desc=f'hrsc {split}',
                             disable=not progress):
            xml = osp.join(ann_dir, image_id + '.xml')
            if not osp.isfile(xml):
                raise MissingInputError(
                    set_file, f'image {image_id} has no annotation {xml}')
            ann = parse_hrsc_xml(xml)
            src = osp.join(img_dir, ann.meta.get('filename',
                                                 image_id + '.bmp'))
            if not osp.isfile(src):
                raise MissingInputError(xml, f'image file {src} not found')
            ext = osp.splitext(src)[1]
            _place_image(src, osp.join(out_img, image_id + ext), copy)
            write_dota_labels(osp.join(out_ann, image_id + '.txt'),
                              ann.polygons,
                              [HRSC_CLASSES[c] for c in ann.labels],
                              ann.difficult)
            counts['images'] += 1
            counts['objects'] += len(ann)
            counts['difficult'] += int(ann.difficult.sum())
        stats[split] = counts
    return stats
