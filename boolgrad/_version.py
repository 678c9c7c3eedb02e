"""The package version, in a leaf module: what records and table files stamp, read without
importing the package (``pyproject.toml`` reads it statically)."""

__version__ = "0.1.0"
