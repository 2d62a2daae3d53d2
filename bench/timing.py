"""Timing for the benchmarks: CPU seconds of this process, which other
processes loading the machine change far less than wall-clock seconds."""
import time
from typing import Any, Callable, Tuple


def timed(func: Callable, *args, **kwargs) -> Tuple[Any, float, float]:
    """``(func(*args, **kwargs), CPU seconds, wall seconds)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    return result, time.process_time() - cpu, time.perf_counter() - wall
