# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .version import __version__

__all__ = ['__version__']
