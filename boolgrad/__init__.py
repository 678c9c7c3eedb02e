"""boolgrad: exact Boolean-derivative gradients of spike functions ``s = [u >= theta]``.

The layout (one concept per module; ``README.md`` has the map): formats, threshold and
gradient define ``g`` per pattern (spec §1-5); :mod:`.table` holds the runs (spec §6) and
:mod:`.table_io` their files; :mod:`.builders` makes tables (enumeration, closed form);
:mod:`.binades` and :mod:`.measures` give the float run form, area and peak (spec §7).
"""

from ._version import __version__
from .binades import FloatSegmentForm, float_segment_form
from .builders import build_table, build_table_from_spec, closed_form_table, closed_form_table_from_spec
from .formats import PRESETS, FixedFormat, FloatFormat, parse_format
from .gradient import GradientSpec, PointGradient, gradient_at, gradient_from_spec, make_spec
from .table import GradientTable, TableMeta
from .table_io import TableFileError
from .threshold import Threshold, make_threshold

__all__ = [
    "PRESETS",
    "FixedFormat",
    "FloatFormat",
    "FloatSegmentForm",
    "GradientSpec",
    "GradientTable",
    "PointGradient",
    "TableFileError",
    "TableMeta",
    "Threshold",
    "__version__",
    "build_table",
    "build_table_from_spec",
    "closed_form_table",
    "closed_form_table_from_spec",
    "float_segment_form",
    "gradient_at",
    "gradient_from_spec",
    "make_spec",
    "make_threshold",
    "parse_format",
]
