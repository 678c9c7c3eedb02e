"""boolgrad.torch.heap: freed memory kept in the process (glibc), and the study's training sets it.

The policy is process-wide, so the glibc cases run in a fresh interpreter."""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch", reason="boolgrad.torch (the package of the heap policy) needs torch")

from boolgrad.torch import heap  # noqa: E402

MIB = 1 << 20


def _run(code):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _glibc_or_skip():
    if heap.mmapped_bytes() is None:
        pytest.skip("not glibc >= 2.33: the mmap counter cannot be read")


def test_kept_heap_serves_a_large_tensor_without_mmap():
    _glibc_or_skip()
    before, on, after, again = map(int, _run("""
        import torch
        from boolgrad.torch.heap import keep_freed_memory, mmapped_bytes
        base = mmapped_bytes()
        a = torch.ones(16 << 20)                       # 64 MiB: glibc's default maps it
        print(mmapped_bytes() - base)
        del a
        print(int(keep_freed_memory()))
        base = mmapped_bytes()
        a = torch.ones(16 << 20)                       # now from the heap
        print(mmapped_bytes() - base)
        del a
        b = torch.ones(16 << 20)
        print(mmapped_bytes() - base)
    """))
    assert before >= 64 * MIB
    assert on == 1
    assert after == 0 and again == 0


def test_study_training_keeps_freed_memory_unless_switched_off():
    _glibc_or_skip()
    off, on = map(int, _run("""
        import torch
        from boolgrad.study import train
        from boolgrad.study.data import load_dataset
        from boolgrad.study.overshoot import RunConfig
        from boolgrad.torch.heap import mmapped_bytes

        cfg = RunConfig(dataset="digits", kind="arctan", epochs=1, subset=(128, 64), hidden=(16,), probe=32)
        data = load_dataset("digits", subset=(128, 64))
        for keep in (False, True):
            train.KEEP_HEAP = keep
            train.train_group([cfg], data)
            base = mmapped_bytes()
            a = torch.ones(16 << 20)
            print(mmapped_bytes() - base)
            del a
    """))
    assert off >= 64 * MIB  # KEEP_HEAP off: the default policy still maps a large block
    assert on == 0


def test_elsewhere_than_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(heap.platform, "libc_ver", lambda: ("", ""))
    heap._glibc.cache_clear()
    heap.keep_freed_memory.cache_clear()
    try:
        assert heap.keep_freed_memory() is False
        assert heap.mmapped_bytes() is None
    finally:
        heap._glibc.cache_clear()
        heap.keep_freed_memory.cache_clear()
