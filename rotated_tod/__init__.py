"""rotated_tod: tiny and oriented object detection for MMRotate 0.3.x.

Importing the package registers every module into mmrotate's registries and
applies the CPU/numpy-2 compatibility fixes for mmrotate 0.3.4
(:mod:`rotated_tod.compat`), so configs only need
``custom_imports=dict(imports=['rotated_tod'])``.
"""
import mmrotate  # noqa: F401  (registers mmrotate's own modules first)

from . import apis, compat, core, datasets, models  # noqa: F401
from .version import __version__

compat.apply()

__all__ = ['__version__', 'apis', 'compat', 'core', 'datasets', 'models']
