"""Timing for the benchmarks: CPU seconds of this process and of the worker
processes it waited for (which other processes loading the machine change
far less than wall-clock seconds), and wall-clock seconds."""
import os
import time
from typing import Any, Callable, Tuple


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(func: Callable, *args, **kwargs) -> Tuple[Any, float, float]:
    """``(func(*args, **kwargs), CPU seconds, wall seconds)``; the CPU
    seconds include those of the child processes ``func`` waited for."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = func(*args, **kwargs)
    return result, _cpu_seconds() - cpu, time.perf_counter() - wall
