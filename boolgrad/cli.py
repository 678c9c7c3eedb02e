"""Command line: ``boolgrad table | show | eval | plot | demo | prove | study | reproduce``.

Every bad input (unknown format, NaN/inf threshold, a theta outside the range with
``--exact-threshold``, a sweep over 32 bits, a pattern outside the format, an unwritable
output path, an unreadable or forged table) exits with status 2 and one line on stderr,
checked before long work starts; Ctrl-C exits with 130 and writes nothing.  Every file is
written atomically (:mod:`boolgrad.atomic`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import re
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]


class UsageError(Exception):
    """A bad command line or input: reported in one line, exit status 2."""


#: what argparse takes for a negative number rather than an option: -1, -1.5, -1e-3, -inf, -nan
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf(inity)?|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER  # so `--u 1 -inf` reads -inf as a value

    def error(self, message):  # one line, no usage dump
        raise UsageError(message)


def _nonnegative_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return n


def _writable(path):
    """An output path, checked before any work (exit 2 naming it if it cannot be written)."""
    if path is None:
        return None
    from .atomic import check_writable

    return check_writable(path)


# -- shared option groups ---------------------------------------------------------------


def _gradient_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", help="fixed<W>.<F>, ufixed<W>.<F>, e<E>m<M>[fn] or a preset (float32, ...)")
    p.add_argument("--threshold", "-t", required=True, type=float, help="theta (a real number)")
    p.add_argument("--comparator", choices=("ge", "gt"), default="ge", help="s = [u >= theta] or [u > theta]")
    p.add_argument("--convention", choices=("secant", "paper"), default="secant",
                   help="secant: (s(b|2^i) - s(b&~2^i)) / D_i, every term >= 0 (default); "
                   "paper: 1 / D_i as Yoo & Jeong 2025, sign-bit terms negative")
    p.add_argument("--wrt", choices=("u", "theta"), default="u", help="differentiate in u or in theta")
    p.add_argument("--exact-threshold", action="store_true", help="compare against theta itself, not its rounding")
    p.add_argument("--exclude-bits", dest="excluded_bits", type=_bit_list, default=None, metavar="I,J",
                   help="bits left out of g (default: the convention's)")


def _bit_list(text: str):
    if text.strip() == "":
        return ()
    try:
        return tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bits must be comma-separated integers, got {text!r}") from None


def _spec_kwargs(a) -> dict:
    from .gradient import OPTION_NAMES

    return {k: getattr(a, k) for k in OPTION_NAMES}


def _fmt_float(x: float) -> str:
    return f"{x:.10g}"


def _print_summary(table, out=None) -> None:
    out = out or sys.stdout
    s = table.summary()
    pat = s["theta_pattern"]
    pat_txt = "none (exact threshold)" if pat is None else f"0x{pat:0{(table.fmt.bits + 3) // 4}x}"
    print(f"format        {s['format']}  ({table.fmt.bits} bits, {s['patterns']} non-NaN patterns)", file=out)
    print(f"spike         s = [u {'>=' if s['comparator'] == 'ge' else '>'} theta], "
          f"convention {s['convention']}, wrt {s['wrt']}, excluded bits {s['excluded_bits'] or 'none'}", file=out)
    print(f"theta         requested {s['theta_requested']!r}, used {s['theta_used']!r} (pattern {pat_txt})", file=out)
    print(f"runs          {s['runs']}", file=out)
    if s["extreme"] == "trough":  # a threshold gradient: its most negative value matters
        print(f"trough        g = {s['peak_g']!r} at u = {s['peak_at']!r} (most negative)", file=out)
    else:
        print(f"peak          g = {s['peak_g']!r} at u = {s['peak_at']!r}", file=out)
    print(f"area          {s['area']!r}", file=out)


def _mask_text(mask: int, fmt) -> str:
    """Mask bits, most significant first (grouped sign|exponent|mantissa for floats)."""
    return fmt.group_mask_bits(format(int(mask), f"0{fmt.bits}b"))


# -- subcommands ------------------------------------------------------------------------


def _cmd_table(a) -> int:
    from .builders import build_table_from_spec, closed_form_table_from_spec
    from .builders.backends import pick_backend
    from .builders.enumerate import MAX_SWEEP_BITS, check_sweepable
    from .gradient import make_spec

    spec = make_spec(a.format, a.threshold, **_spec_kwargs(a))
    method = a.method
    if method == "auto":
        method = "enumerate" if spec.bits <= MAX_SWEEP_BITS else "closed-form"
    if method == "enumerate":
        check_sweepable(spec.fmt)
        pick_backend(a.device, spec.fmt.n_ranks)  # an unknown or missing device fails now
    _writable(a.output)
    _writable(a.csv)
    t0 = time.perf_counter()
    if method == "closed-form":
        table = closed_form_table_from_spec(spec)
        how = "closed form"
    else:
        table = build_table_from_spec(spec, device=a.device, progress=False if a.no_progress else None)
        info = table.sweep_info
        how = f"enumeration on {info.backend}, sweep {info.seconds:.3f} s, {info.patterns_per_s / 1e6:.1f} M patterns/s"
    dt = time.perf_counter() - t0
    _print_summary(table)
    print(f"built by      {how}; {dt:.3f} s in all")
    if a.output:
        print(f"saved         {table.save(a.output)}")
    if a.csv:
        print(f"csv           {table.to_csv(a.csv)}")
    if a.output is None and a.csv is None:
        print("not saved     (give -o FILE.npz and/or --csv FILE.csv to keep the table)")
    return 0


def _cmd_show(a) -> int:
    from .table import GradientTable

    _writable(a.csv)
    table = GradientTable.load(a.file)
    _print_summary(table)
    fmt = table.fmt
    n = table.n_runs
    rows = range(n) if a.all or n <= 2 * a.head else [*range(a.head), None, *range(n - a.head, n)]
    g_first = table.gradient(table.first)
    print(f"\n{'run':>5} {'first value':>18} {'last value':>18} {'patterns':>12}  {'g(first)':>14}  mask")
    for k in rows:
        if k is None:
            print(f"{'...':>5}  ({n - 2 * a.head} runs not shown; --all lists every run)")
            continue
        print(f"{k:5d} {_fmt_float(table.first_value[k]):>18} {_fmt_float(table.last_value[k]):>18} "
              f"{int(table.counts[k]):12d}  {_fmt_float(g_first[k]):>14}  {_mask_text(table.mask[k], fmt)}")
    if a.csv:
        print(f"\ncsv written to {table.to_csv(a.csv)}")
    return 0


def _parse_pattern(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer pattern: {text!r}") from None


def _cmd_eval(a) -> int:
    from .gradient import gradient_from_spec, make_spec

    if not a.u and not a.pattern:
        raise UsageError("give values with --u and/or patterns with --pattern")
    spec = make_spec(a.format, a.threshold, **_spec_kwargs(a))
    fmt = spec.fmt
    thr = spec.threshold
    width = (fmt.bits + 3) // 4
    for p in a.pattern or []:
        if not 0 <= p < fmt.n_patterns:
            raise UsageError(f"pattern {p} is outside 0..0x{fmt.n_patterns - 1:x} of {fmt.name}")
    inputs = [("value", np.asarray(a.u or [], dtype=np.float64)), ("pattern", np.asarray(a.pattern or [], dtype=np.uint64))]
    print(f"{fmt.name}: s = [u {'>=' if thr.comparator == 'ge' else '>'} theta], theta requested {thr.requested!r}, "
          f"used {thr.used!r}; convention {spec.convention}, wrt {spec.wrt}, excluded {list(spec.excluded) or 'none'}")
    for label, x in inputs:
        if not x.size:
            continue
        r = gradient_from_spec(spec, x, terms=True)
        for k in range(x.size):
            given = repr(float(x[k])) if label == "value" else f"0x{int(x[k]):0{width}x}"
            print(f"\n{label} {given}: pattern 0x{int(r.patterns[k]):0{width}x}, u = {float(r.values[k])!r}, "
                  f"s = {int(r.spike[k])}, mask = {_mask_text(int(r.mask[k]), fmt)}, g = {float(r.g[k])!r}"
                  + (f", degenerate terms = {int(r.degenerate[k])}" if int(r.degenerate[k]) else ""))
            print(f"  {'bit':>3} {'role':>5} {'chi':>3} {'D_i':>24} {'c_i':>24}  in g")
            for i in range(fmt.bits - 1, -1, -1):
                chi = bool(r.chi[k, i])
                if not (chi or a.all_bits):
                    continue
                used = "yes" if chi and i not in spec.excluded else ("excluded" if chi else "-")
                print(f"  {i:3d} {fmt.bit_role(i):>5} {int(chi):3d} {float(r.D[k, i])!r:>24} "
                      f"{float(r.c[k, i]) if chi else 0.0!r:>24}  {used}")
    return 0


def _cmd_plot(a) -> int:
    from .plot import check_plot_path, plot_table
    from .table import GradientTable

    check_plot_path(a.output)
    table = GradientTable.load(a.file)
    print(f"plot written to {plot_table(table, a.output)}")
    return 0


def _cmd_demo(a) -> int:
    from .builders import build_table
    from .builders.backends import pick_backend
    from .plot import plot_table

    pick_backend(a.device)
    out = Path(a.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)

    can_plot = importlib.util.find_spec("matplotlib") is not None
    if not can_plot:
        print("note: plots skipped (matplotlib is not installed: pip install 'boolgrad[plot]')", file=sys.stderr)
    for name, conv in (("float16", "secant"), ("ufixed16.12", "secant")):
        t0 = time.perf_counter()
        table = build_table(name, 0.3, convention=conv, device=a.device)
        dt = time.perf_counter() - t0
        print(f"== {name}, theta = 0.3 ({dt * 1000:.0f} ms)")
        _print_summary(table)
        path = table.save(out / f"{name}_theta0.3.npz")
        print(f"saved         {path}")
        if can_plot:
            print(f"plot          {plot_table(table, out / f'{name}_theta0.3.png')}")
        print()
    _demo_crossings(out, can_plot)
    return 0


def _demo_crossings(out: Path, can_plot: bool) -> None:
    """What a threshold crossing receives from each gradient kind at a coarse and a fine step
    (the crossing theory, :mod:`boolgrad.study.crossings`: numpy only)."""
    from .paper.numbers import CROSSING_KINDS, DU_COARSE, DU_FINE, THETA, crossing_receipts

    rec = crossing_receipts((DU_COARSE, DU_FINE))
    print(f"crossings     theta = {THETA}: mean ds/du at the last sample below theta, "
          "uniform in [theta - dU, theta)")
    print(f"{'kind':22s} {f'dU = {DU_COARSE:g} (coarse)':>20} {f'dU = {DU_FINE:g} (fine)':>20}")
    for k, (c, f) in rec.items():
        print(f"{k:22s} {c:20.4g} {f:20.4g}")
    print("(Boolean kinds: float32 tables clamped at 500, as Yoo & Jeong train; boolean_matched: fixed16.F "
          "with 2^-F ~ dU)")
    if not can_plot:
        return
    from matplotlib.figure import Figure

    from .atomic import atomic_write

    du = np.logspace(-4, 0, 25)
    curves = crossing_receipts(tuple(du), CROSSING_KINDS)
    fig = Figure(figsize=(6.5, 3.6), constrained_layout=True)
    ax = fig.subplots()
    for k, ys in curves.items():
        ax.plot(du, np.maximum(ys, 1e-6), "-", label=k)
    for d in (DU_COARSE, DU_FINE):
        ax.axvline(d, color="k", ls=":", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="per-step increment dU at the crossing",
           ylabel="mean ds/du at the sample below theta", title=f"crossing theory, theta = {THETA}")
    ax.legend(fontsize=7)
    path = out / "crossings.png"
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110, metadata={"Software": None})
    print(f"plot          {path}")


def _cmd_prove(a) -> int:
    try:
        from . import proofs
    except ImportError:
        raise UsageError("the proofs need sympy: pip install 'boolgrad[proofs]'") from None
    return proofs.main(["--slow"] if a.slow else [])


def _build_parser() -> _Parser:
    from . import __version__
    from .builders.backends import ALIASES, BACKENDS

    devices = ", ".join(["auto", *ALIASES, *BACKENDS])
    p = _Parser(prog="boolgrad", description="Exact Boolean-derivative gradients of spike functions.")
    p.add_argument("--version", action="version", version=f"boolgrad {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("table", help="build a gradient table (every pattern, or closed form)")
    _gradient_options(t)
    t.add_argument("-o", "--output", help="save the table (.npz)")
    t.add_argument("--csv", help="also write the runs as CSV")
    t.add_argument("--device", default="auto",
                   help=f"sweep backend ({devices}); auto picks the fastest available for the size")
    t.add_argument("--method", choices=("auto", "enumerate", "closed-form"), default="auto",
                   help="auto: enumerate up to 32 bits, closed form beyond")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(run=_cmd_table)

    s = sub.add_parser("show", help="summarise a saved table and list its runs")
    s.add_argument("file")
    s.add_argument("--all", action="store_true", help="list every run")
    s.add_argument("--head", type=_nonnegative_int, default=20, help="runs shown at each end (default 20)")
    s.add_argument("--csv", help="write the runs as CSV")
    s.set_defaults(run=_cmd_show)

    e = sub.add_parser("eval", help="g, mask and per-bit terms at given values or patterns")
    _gradient_options(e)
    e.add_argument("--u", type=float, nargs="+", help="values (rounded to the format)")
    e.add_argument("--pattern", type=_parse_pattern, nargs="+", help="raw patterns (0x.. or decimal)")
    e.add_argument("--all-bits", action="store_true", help="show bits with chi = 0 too")
    e.set_defaults(run=_cmd_eval)

    pl = sub.add_parser("plot", help="plot g against u (log scale, theta marked)")
    pl.add_argument("file")
    pl.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg (written exactly there)")
    pl.set_defaults(run=_cmd_plot)

    d = sub.add_parser("demo", help="float16 and ufixed16.12 tables at theta = 0.3, saved and plotted; "
                       "what a threshold crossing receives per gradient kind")
    d.add_argument("-o", "--output", default="boolgrad-demo", help="output folder (default boolgrad-demo)")
    d.add_argument("--device", default="auto", help=f"sweep backend ({devices})")
    d.set_defaults(run=_cmd_demo)

    pr = sub.add_parser("prove", help="run the sympy proofs and their numeric checks")
    pr.add_argument("--slow", action="store_true", help="include the slow theorems")
    pr.set_defaults(run=_cmd_prove)

    from .study.cli import add_parser as add_study_parser  # ``boolgrad study ...``

    add_study_parser(sub)

    from .paper.reproduce import add_parser as add_reproduce_parser  # ``boolgrad reproduce``

    add_reproduce_parser(sub)
    return p


@contextlib.contextmanager
def _sigterm_interrupts():
    """While the command runs, ``kill PID`` stops it as Ctrl-C does (``KeyboardInterrupt``), so a
    sweep terminates its worker processes (:func:`boolgrad.study.executor.stop_workers`) instead
    of leaving them running; the previous handler is restored after.  Main thread only (where
    Python allows a handler)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    """Entry point of the ``boolgrad`` command; returns the exit status."""
    from .table_io import TableFileError

    try:
        with _sigterm_interrupts():
            args = _build_parser().parse_args(argv)
            return args.run(args)
    except KeyboardInterrupt:
        print("boolgrad: interrupted; no file was left half-written (a study resumes where it stopped)",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.: not an error of ours
        sys.stderr.close()
        return 0
    except (UsageError, TableFileError, ValueError, RuntimeError, OSError) as exc:
        print(f"boolgrad: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
