"""The ``spm`` command: thin click commands over the package's API, one module per concern."""

from .main import cli, main

__all__ = ["cli", "main"]
