"""Every tool run as a user runs it (a new process) on bad input: exit status
2, one line ``error: <path>[:<line>]: <reason>`` and no traceback; and on
valid-but-unusual input: every object kept.

A new process costs seconds (torch, mmcv, mmdet, mmrotate are imported), so
each tool gets one; the variants run in-process through the same
``run_cli`` the tools' ``__main__`` calls (warnings then reach ``caplog``).
"""
import logging

import cv2
import numpy as np

from rotated_tod.apis.cli import run_cli
from rotated_tod.core.fileio import parse_dota_labels
from tests.datasets.hostile_dota import (
    BAD_LINES,
    CLASSES,
    SQUARE,
    expected_lines,
    make_hostile_dataset,
    truncated_png,
    write_image,
)
from tests.tools.cli import error_line, load_tool, run_tool, run_tool_process

SPLIT = 'data/dota/split.py'
KNOWN = 'known: plane, ship'


def _dota_folder(root, names):
    """``root/images/{name}.png`` and ``root/labelTxt/{name}.txt`` holding
    one square plane each."""
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    for k, name in enumerate(names):
        write_image(root / 'images' / f'{name}.png', seed=k)
        (root / 'labelTxt' / f'{name}.txt').write_text(f'{SQUARE} plane 0\n')
    return root / 'images', root / 'labelTxt'


def _split_args(images, labels, out, *extra):
    return [images, out, '--ann-dir', labels, '--patch-size', 64, '--gap', 0,
            '--classes', *CLASSES, *extra]


def test_split_stops_at_a_bad_line_then_resumes_skipping(tmp_path, caplog,
                                                         capsys):
    images, labels = _dota_folder(tmp_path, ['a', 'b', 'c'])
    bad = labels / 'b.txt'
    with open(bad, 'a') as f:
        f.writelines(line + '\n' for line, _, _ in BAD_LINES)
    out = tmp_path / 'out'
    proc = run_tool_process(SPLIT, _split_args(images, labels, out))
    assert error_line(proc) == (
        f'error: {bad}:2: {BAD_LINES[0][2]} (1 of 3 images done; running '
        'again resumes)')
    with caplog.at_level(logging.WARNING, logger='rotated_tod'):
        assert run_cli(load_tool(SPLIT).main, [str(a) for a in _split_args(
            images, labels, out, '--on-invalid', 'skip')]) == 0
    assert caplog.messages == [
        f'warning: {bad}:{2 + k}: {reason}; object skipped'
        for k, (_, _, reason) in enumerate(BAD_LINES)
    ] + [f'warning: 6 invalid object(s) skipped in the label files of '
         f'{labels} (on_invalid=skip)']
    assert capsys.readouterr().out.splitlines()[-1] == (
        f'3 images (1 already done), 2 patches, 2 objects written to {out}, '
        '6 invalid objects skipped')
    assert len(parse_dota_labels(str(out / 'annfiles' / 'b__1__0___0.txt'),
                                 CLASSES)) == 1


def test_split_names_a_truncated_image(tmp_path, capsys):
    images, labels = _dota_folder(tmp_path, ['a', 't'])
    truncated_png(images / 't.png')
    assert run_cli(load_tool(SPLIT).main, [str(a) for a in _split_args(
        images, labels, tmp_path / 'out')]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f'error: {images / "t.png"}: unreadable or truncated image (1 of 2 '
        'images done; running again resumes)')


def test_split_keeps_every_object_of_unusual_inputs(tmp_path, caplog, capsys):
    """BOM, CRLF, gsd:null, no difficult field, an empty label file,
    grayscale / RGBA / 16-bit images, all smaller than a patch; a label file
    without image is named in a warning."""
    images, labels = tmp_path / 'images', tmp_path / 'labelTxt'
    images.mkdir()
    labels.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(images / 'gray.png'),
                rng.integers(0, 255, (30, 40), dtype=np.uint8))
    cv2.imwrite(str(images / 'rgba.png'),
                rng.integers(0, 255, (64, 50, 4), dtype=np.uint8))
    cv2.imwrite(str(images / 'deep.png'),
                rng.integers(0, 65535, (50, 50, 3), dtype=np.uint16))
    (labels / 'gray.txt').write_bytes(
        b'\xef\xbb\xbfimagesource:GoogleEarth\r\ngsd:null\r\n'
        b'2 2 12 2 12 12 2 12 plane\r\n3 15 20 15 20 25 3 25 ship\r\n')
    (labels / 'rgba.txt').write_text('')
    (labels / 'deep.txt').write_text('30 30 45 31 44 45 29 44 ship 1\n')
    (labels / 'lost.txt').write_text(f'{SQUARE} plane 0\n')
    out = tmp_path / 'out'
    with caplog.at_level(logging.WARNING, logger='rotated_tod'):
        run_tool(SPLIT, _split_args(images, labels, out))
    assert capsys.readouterr().out.splitlines()[-1] == (
        f'3 images (0 already done), 3 patches, 3 objects written to {out}')
    assert caplog.messages == [
        f'warning: 1 label file(s) of {labels} have no image in the image '
        'folder and are not split: lost.txt']
    for name, objects in (('gray', 2), ('rgba', 0), ('deep', 1)):
        ann = parse_dota_labels(str(out / 'annfiles' / f'{name}__1__0___0.txt'),
                                CLASSES)
        original = parse_dota_labels(str(labels / f'{name}.txt'), CLASSES)
        assert len(ann) == objects
        np.testing.assert_array_equal(ann.polygons, original.polygons)
        np.testing.assert_array_equal(ann.difficult, original.difficult)
        patch = cv2.imread(str(out / 'images' / f'{name}__1__0___0.png'),
                           cv2.IMREAD_UNCHANGED)
        image = cv2.imread(str(images / f'{name}.png'), cv2.IMREAD_COLOR)
        assert patch.shape == (64, 64, 3) and patch.dtype == np.uint8
        h, w = image.shape[:2]
        np.testing.assert_array_equal(patch[:h, :w], image)
    assert ann.difficult.tolist() == [True]


def test_check_tool_lists_every_problem(tmp_path):
    data = make_hostile_dataset(tmp_path)
    proc = run_tool_process('data/dota/check.py', [
        data['images'], data['labels'], '--classes', *CLASSES])
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:-1] == expected_lines(data)
    assert lines[-1].startswith('11 problem(s) in 6 file(s): bad line: 4,')


def test_check_tool_exit_status_in_process(tmp_path, capsys):
    main = load_tool('data/dota/check.py').main
    images, labels = _dota_folder(tmp_path, ['a'])
    assert run_cli(main, [str(images), str(labels), '--classes', 'plane']) == 0
    assert capsys.readouterr().out == \
        'no problem found (1 images, 1 label files, 1 valid objects)\n'
    assert run_cli(main, [str(tmp_path / 'nowhere'), str(labels)]) == 2
    assert capsys.readouterr().err == \
        f'error: {tmp_path / "nowhere"}: image folder not found\n'


def _task1(root, lines_by_class):
    root.mkdir()
    for name in CLASSES:
        (root / f'Task1_{name}.txt').write_text(lines_by_class.get(name, ''))
    return root


def test_eval_dota_bad_ground_truth_errors_or_is_skipped(tmp_path, caplog,
                                                        capsys):
    labels = tmp_path / 'labelTxt'
    labels.mkdir()
    (labels / 'img.txt').write_text(
        f'{SQUARE} plane 0\n{SQUARE} tank 0\n20 20 30 20 30 30 20 30 ship 0\n')
    dets = _task1(tmp_path / 'dets', {
        'plane': f'img 0.9 {SQUARE}\n',
        'ship': 'img 0.8 20 20 30 20 30 30 20 30\n'})
    args = [dets, labels, '--classes', *CLASSES]
    proc = run_tool_process('eval_dota.py', args)
    assert error_line(proc) == \
        f"error: {labels / 'img.txt'}:2: unknown class 'tank'; {KNOWN}"
    with caplog.at_level(logging.WARNING, logger='rotated_tod'):
        assert run_tool('eval_dota.py', args + ['--on-invalid', 'skip']) == 0
    assert caplog.messages == [
        f"warning: {labels / 'img.txt'}:2: unknown class 'tank'; {KNOWN}; "
        'object skipped',
        f'warning: 1 invalid object(s) skipped in the label files of '
        f'{labels} (on_invalid=skip)']
    printed = capsys.readouterr().out
    assert '| mAP' in printed and '1.0000 |' in printed


def test_vis_names_an_empty_image(tmp_path):
    images, labels = _dota_folder(tmp_path, ['zero'])
    (images / 'zero.png').write_bytes(b'')
    proc = run_tool_process('vis.py', [images, '--out', tmp_path / 'out',
                                       '--gt', labels, '--classes', *CLASSES])
    assert error_line(proc) == \
        f'error: {images / "zero.png"}: empty image file (0 bytes)'


def test_infer_names_a_missing_checkpoint(tmp_path):
    config = 'configs/baselines/rotated_retinanet_r50_fpn_1x_dota_le90.py'
    write_image(tmp_path / 'a.png')
    proc = run_tool_process('infer.py', [
        config, tmp_path / 'none.pth', tmp_path / 'a.png', '--out',
        tmp_path / 'out', '--device', 'cpu'])
    assert error_line(proc) == \
        f'error: {tmp_path / "none.pth"}: checkpoint file not found'


def _browse_args(tmp_path, images, labels):
    return ['configs/_base_/datasets/synthetic.py', '--out', tmp_path / 'out',
            '--cfg-options', f'data.train.ann_file={labels}/',
            f'data.train.img_prefix={images}/']


def test_browse_dataset_names_the_label_line_through_the_registry(tmp_path):
    images, labels = _dota_folder(tmp_path, ['a'])
    (labels / 'a.txt').write_text(f'{SQUARE} tank 0\n')
    proc = run_tool_process('browse_dataset.py',
                            _browse_args(tmp_path, images, labels))
    # mmcv's registry re-raises as "SyntheticTinyDataset: ..."; the line
    # printed is the original error
    assert error_line(proc).startswith(
        f"error: {labels / 'a.txt'}:1: unknown class 'tank'; known: ")


def test_browse_dataset_names_a_truncated_image_in_process(tmp_path, capsys):
    images, labels = _dota_folder(tmp_path, ['a'])
    (labels / 'a.txt').write_text(f'{SQUARE} ship 0\n')
    truncated_png(images / 'a.png')
    tool = load_tool('browse_dataset.py')
    code = run_cli(tool.main, [str(a) for a in _browse_args(tmp_path, images,
                                                            labels)])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f'error: {images}/a.png: unreadable or truncated image'


def test_hrsc_convert_names_a_broken_xml(tmp_path):
    root = tmp_path / 'HRSC2016'
    for sub in ('FullDataSet/Annotations', 'FullDataSet/AllImages',
                'ImageSets'):
        (root / sub).mkdir(parents=True)
    (root / 'ImageSets' / 'test.txt').write_text('100000001\n')
    xml = root / 'FullDataSet' / 'Annotations' / '100000001.xml'
    xml.write_text('<HRSC_Image><HRSC_Objects>')
    write_image(root / 'FullDataSet' / 'AllImages' / '100000001.bmp')
    proc = run_tool_process('data/hrsc/convert.py', [
        root, tmp_path / 'out', '--splits', 'test'])
    assert error_line(proc).startswith(f'error: {xml}: not valid XML (')


def test_make_synthetic_refuses_other_settings_in_the_same_folder(tmp_path):
    args = [tmp_path / 'syn', '--train', 1, '--val', 1, '--image-size', 64,
            '--patch-size', 32, '--gap', 8]
    run_tool('data/make_synthetic.py', args)
    proc = run_tool_process('data/make_synthetic.py', args[:-1] + [4])
    settings = tmp_path / 'syn' / 'split' / 'train' / 'split_settings.json'
    assert error_line(proc) == (
        f'error: {settings}: {settings.parent} holds a split made with other '
        'settings (gap); use another output folder')


def test_train_names_the_label_line_in_process(tmp_path, capsys):
    from tests.conftest import TINY_CONFIG
    images, labels = _dota_folder(tmp_path, ['a'])
    (labels / 'a.txt').write_text(f'{SQUARE} plane 0\n{SQUARE} tank 0\n')
    code = run_cli(load_tool('train.py').main, [
        TINY_CONFIG, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
        f'data.train.ann_file={labels}/', f'data.train.img_prefix={images}/'])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        f"error: {labels}/a.txt:2: unknown class 'tank'; known: ")


def test_analyze_logs_names_the_bad_line_in_process(tmp_path, capsys):
    log = tmp_path / 'run.log.json'
    log.write_text('{"mode": "train", "iter": 1, "loss": 1.0}\n{"mode": \n')
    code = run_cli(load_tool('analyze_logs.py').main,
                   [str(log), '--out', str(tmp_path / 'curves.png')])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        f'error: {log}:2: not JSON (')
