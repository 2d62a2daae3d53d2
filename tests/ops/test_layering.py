"""rotated_tod.ops is the lowest layer: it imports only torch, the standard
library and its own modules (static check over the source)."""
import ast
import os

import rotated_tod.ops

ALLOWED = {'math', 'typing', 'torch'}


def test_ops_import_nothing_from_the_rest_of_the_package():
    folder = os.path.dirname(rotated_tod.ops.__file__)
    files = [f for f in os.listdir(folder) if f.endswith('.py')]
    assert len(files) >= 8
    for name in files:
        with open(os.path.join(folder, name)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split('.')[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 1:  # from .sibling import ...
                    continue
                roots = [node.module.split('.')[0]]
            else:
                continue
            assert set(roots) <= ALLOWED, (name, roots)
