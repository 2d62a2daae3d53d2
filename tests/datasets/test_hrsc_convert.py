"""HRSC2016 XML -> DOTA layout, on a hand-written copy of its file layout."""
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rotated_tod.core.bbox.transforms import polygon_to_rbox
from rotated_tod.core.fileio import parse_dota_labels
from rotated_tod.datasets.hrsc_convert import (
    HRSCAnnotationError,
    convert_hrsc,
    parse_hrsc_xml,
)

HRSC = Path(__file__).resolve().parents[1] / 'data' / 'hrsc2016'

# (mbox_cx, mbox_cy, mbox_w, mbox_h, mbox_ang, difficult) of the XML files
BOXES = {
    '100000001': [(32.0, 24.0, 40.0, 10.0, 0.5235988, False),
                  (8.5, 6.0, 12.0, 4.0, -1.2, True)],
    '100000002': [],
    '100000003': [(30.25, 20.5, 30.0, 8.0, 1.5, False)],
}


def _corners(cx, cy, w, h, a):
    """The four corners c + R(a) (+-w/2, +-h/2), as a sorted (4, 2) array."""
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    local = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
    pts = local @ rot.T + [cx, cy]
    return pts[np.lexsort(pts.T[::-1])]


def test_convert_writes_dota_layout(tmp_path):
    stats = convert_hrsc(str(HRSC), str(tmp_path), progress=False)
    assert stats == {
        'trainval': dict(images=2, objects=2, difficult=1),
        'test': dict(images=1, objects=1, difficult=0)
    }
    for split, ids in (('trainval', ['100000001', '100000002']),
                       ('test', ['100000003'])):
        assert sorted(os.listdir(tmp_path / split / 'labelTxt')) == [
            i + '.txt' for i in ids]
        for image_id in ids:
            link = tmp_path / split / 'images' / (image_id + '.bmp')
            assert link.is_symlink()
            assert link.resolve() == (HRSC / 'FullDataSet' / 'AllImages' /
                                      (image_id + '.bmp')).resolve()
            ann = parse_dota_labels(
                str(tmp_path / split / 'labelTxt' / (image_id + '.txt')),
                ('ship', ))
            expected = BOXES[image_id]
            assert len(ann) == len(expected)
            assert (ann.labels == 0).all()
            for poly, diff, box in zip(ann.polygons, ann.difficult,
                                       expected):
                pts = poly.reshape(4, 2)
                np.testing.assert_allclose(pts[np.lexsort(pts.T[::-1])],
                                           _corners(*box[:5]), atol=0.06)
                assert bool(diff) == box[5]
                # and back: the minimum-area rectangle is the HRSC box
                cx, cy, w, h, a = polygon_to_rbox(poly[None])[0]
                np.testing.assert_allclose([cx, cy, w, h], box[:4],
                                           atol=0.1)
                assert abs(np.sin(a - box[4])) < 1e-2


def test_copy_mode_and_rerun(tmp_path):
    convert_hrsc(str(HRSC), str(tmp_path), splits=('test', ), copy=True,
                 progress=False)
    image = tmp_path / 'test' / 'images' / '100000003.bmp'
    assert image.is_file() and not image.is_symlink()
    assert image.read_bytes() == (HRSC / 'FullDataSet' / 'AllImages' /
                                  '100000003.bmp').read_bytes()
    # a second run replaces its own outputs
    convert_hrsc(str(HRSC), str(tmp_path), splits=('test', ), progress=False)
    assert image.is_symlink()


def _broken_copy(tmp_path, xml_text):
    root = tmp_path / 'hrsc'
    shutil.copytree(HRSC, root)
    xml = root / 'FullDataSet' / 'Annotations' / '100000003.xml'
    xml.write_text(xml_text)
    return root, xml


def test_errors_name_the_xml_file(tmp_path):
    good = (HRSC / 'FullDataSet' / 'Annotations' / '100000003.xml'
            ).read_text()
    root, xml = _broken_copy(tmp_path, good.replace(
        '<mbox_w>30.0</mbox_w>', ''))
    where = re.escape(str(xml))
    with pytest.raises(HRSCAnnotationError,
                       match=rf'{where}: object 1: missing <mbox_w>'):
        convert_hrsc(str(root), str(tmp_path / 'out'), progress=False)
    xml.write_text(good.replace('<mbox_h>8.0</mbox_h>',
                                '<mbox_h>eight</mbox_h>'))
    with pytest.raises(HRSCAnnotationError, match=rf'{where}: .*not a number'):
        parse_hrsc_xml(str(xml))
    xml.write_text(good.replace('<difficult>0</difficult>',
                                '<difficult>2</difficult>'))
    with pytest.raises(HRSCAnnotationError, match=rf'{where}: .*difficult'):
        parse_hrsc_xml(str(xml))
    xml.write_text(good.replace('<mbox_w>30.0</mbox_w>',
                                '<mbox_w>0</mbox_w>'))
    with pytest.raises(HRSCAnnotationError, match=rf'{where}: .*positive'):
        parse_hrsc_xml(str(xml))
    xml.write_text(good[:-30])
    with pytest.raises(HRSCAnnotationError, match=rf'{where}: not valid XML'):
        parse_hrsc_xml(str(xml))


def test_missing_files_are_named(tmp_path):
    root, xml = _broken_copy(tmp_path, 'irrelevant')
    where = re.escape(str(xml))
    os.remove(xml)
    with pytest.raises(FileNotFoundError, match='100000003 has no annotation'):
        convert_hrsc(str(root), str(tmp_path / 'out'), splits=('test', ),
                     progress=False)
    shutil.copy(HRSC / 'FullDataSet' / 'Annotations' / '100000003.xml', xml)
    os.remove(root / 'FullDataSet' / 'AllImages' / '100000003.bmp')
    with pytest.raises(FileNotFoundError, match=rf'{where}: image file'):
        convert_hrsc(str(root), str(tmp_path / 'out'), splits=('test', ),
                     progress=False)
