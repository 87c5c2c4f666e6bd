# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .classifiers import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
