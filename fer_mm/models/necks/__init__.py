# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .dan_attention import DANAttentionNeck

__all__ = ['DANAttentionNeck']
