"""boolgrad: exact Boolean-derivative gradients of spike functions ``s = [u >= theta]``."""

from .closed_form import closed_form_table
from .formats import PRESETS, FixedFormat, FloatFormat, parse_format
from .gradient import GradientSpec, PointGradient, gradient_at, make_spec
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
    "PointGradient",
    "Threshold",
    "__version__",
    "gradient_at",
    "make_spec",
    "make_threshold",
    "parse_format",
]
