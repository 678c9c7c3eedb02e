"""boolgrad: exact Boolean-derivative gradients of spike functions ``s = [u >= theta]``."""

from .binades import FloatSegmentForm, float_segment_form
from .closed_form import closed_form_table, closed_form_table_from_spec
from .formats import PRESETS, FixedFormat, FloatFormat, parse_format
from .gradient import GradientSpec, PointGradient, gradient_at, gradient_from_spec, make_spec
from .table import GradientTable, TableFileError, TableMeta, build_table
from .threshold import Threshold, make_threshold

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "FixedFormat",
    "FloatFormat",
    "GradientSpec",
    "GradientTable",
    "TableFileError",
    "TableMeta",
    "build_table",
    "closed_form_table",
    "closed_form_table_from_spec",
    "FloatSegmentForm",
    "float_segment_form",
    "gradient_from_spec",
    "PointGradient",
    "Threshold",
    "__version__",
    "gradient_at",
    "make_spec",
    "make_threshold",
    "parse_format",
]
