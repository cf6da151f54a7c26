"""The peak memory of a test's child process, for the tests that bound it."""

from __future__ import annotations

from pathlib import Path


def peak_mib() -> float:
    """This process's peak resident memory, all of it (native libraries too), in MiB.

    ``VmHWM`` belongs to the process's own address space. ``ru_maxrss`` would not do: the
    kernel carries the spawning process's peak across ``exec``, so a child of a large pytest
    process reports its parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux")
