"""rotated_tod: tiny and oriented object detection for MMRotate 0.3.x.

Importing the package registers every module into mmrotate's registries and
applies the CPU/numpy-2 compatibility fixes for mmrotate 0.3.4
(:mod:`rotated_tod.compat`), so configs only need
``custom_imports=dict(imports=['rotated_tod'])``.
"""
import logging
import warnings

# Two import-time notices that are noise for our users and would precede a
# tool's one-line error: torch's (a CUDA_HOME without a GPU, when mmcv loads
# torch.utils.cpp_extension) and mmcv 1.x's announcement of its 2.0 rename.
logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
warnings.filterwarnings('ignore', message='On January 1, 2023, MMCV will',
                        category=UserWarning)

import mmrotate  # noqa: E402, F401  (registers mmrotate's own modules first)

from . import apis, compat, core, datasets, models  # noqa: E402, F401
from .version import __version__  # noqa: E402

compat.apply()

__all__ = ['__version__', 'apis', 'compat', 'core', 'datasets', 'models']
