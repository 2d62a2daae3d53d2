"""Layers import downwards only, checked statically over the source.

``rotated_tod/core/`` (and ``rotated_tod/ops/`` when present) holds the box
math, evaluation and file formats that models, datasets and apis build on:
none of its modules may import ``rotated_tod.models``, ``.datasets`` or
``.apis``, whether absolutely or relatively, at top level or inside a
function. ``bench/`` scripts are what users run: they never import
``tests``.
"""
import ast
import os
from typing import Iterator, List, Sequence

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOWER_LAYERS = ('rotated_tod/core', 'rotated_tod/ops')
UPPER_LAYERS = ('rotated_tod.models', 'rotated_tod.datasets',
                'rotated_tod.apis')


def imported_modules(source: str, module: str,
                     is_package: bool = False) -> Iterator[tuple]:
    """``(line, absolute module name)`` of every import in ``source``.

    ``module`` is the dotted name of the file (``rotated_tod.core.x``);
    relative imports are resolved against it. ``from a import b`` yields
    both ``a`` and ``a.b`` (``b`` may be a submodule).
    """
    package = module.split('.') if is_package else module.split('.')[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                if node.module:
                    base = base + node.module.split('.')
            else:
                base = node.module.split('.')
            name = '.'.join(base)
            yield node.lineno, name
            for alias in node.names:
                yield node.lineno, f'{name}.{alias.name}'


def violations(source: str, module: str, forbidden: Sequence[str],
               is_package: bool = False) -> List[str]:
    """``'line: name'`` for each import of a ``forbidden`` module (or of
    something inside it)."""
    return [f'{line}: {name}'
            for line, name in imported_modules(source, module, is_package)
            if any(name == f or name.startswith(f + '.') for f in forbidden)]


def python_files(folder: str) -> Iterator[str]:
    for root, _, files in os.walk(os.path.join(REPO, folder)):
        for name in sorted(files):
            if name.endswith('.py'):
                yield os.path.join(root, name)


def module_name(path: str) -> tuple:
    rel = os.path.relpath(path, REPO)[:-len('.py')].split(os.sep)
    if rel[-1] == '__init__':
        return '.'.join(rel[:-1]), True
    return '.'.join(rel), False


def check_folder(folder: str, forbidden: Sequence[str]) -> List[str]:
    found = []
    for path in python_files(folder):
        module, is_package = module_name(path)
        with open(path, encoding='utf-8') as f:
            source = f.read()
        found += [f'{os.path.relpath(path, REPO)}:{v}'
                  for v in violations(source, module, forbidden, is_package)]
    return found


@pytest.mark.parametrize('source, expected', [
    # two dots from core/bbox/ stay inside core/: not an upper layer
    ('from ..models import builder', []),
    ('from ...models import builder', ['1: rotated_tod.models',
                                       '1: rotated_tod.models.builder']),
    ('from ... import datasets', ['1: rotated_tod.datasets']),
    ('import rotated_tod.apis.inference as inf',
     ['1: rotated_tod.apis.inference']),
    ('def f():\n    from rotated_tod.models import build\n',
     ['2: rotated_tod.models', '2: rotated_tod.models.build']),
    ('from .. import fileio\nimport numpy\nfrom ...modelsx import a', []),
])
def test_checker_finds_upward_imports(source, expected):
    # as if in rotated_tod/core/bbox/transforms.py
    assert violations(source, 'rotated_tod.core.bbox.transforms',
                      UPPER_LAYERS) == expected


def test_checker_resolves_package_init():
    source = 'from ..models import builder'
    assert violations(source, 'rotated_tod.core', UPPER_LAYERS,
                      is_package=True) == ['1: rotated_tod.models',
                                           '1: rotated_tod.models.builder']


def test_core_imports_no_upper_layer():
    assert any(os.path.isdir(os.path.join(REPO, f)) for f in LOWER_LAYERS)
    found = [v for folder in LOWER_LAYERS for v in check_folder(folder,
                                                                UPPER_LAYERS)]
    assert found == []


def test_bench_does_not_import_tests():
    assert list(python_files('bench'))
    assert check_folder('bench', ('tests', )) == []
