# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .ensemble import soft_vote  # noqa: F401
from .metrics import *  # noqa: F401,F403
from .paired_statistics import paired_difference  # noqa: F401
