"""Shared page pieces: data loading, sidebar filters, palette, charts, downloads.

Every page imports from this package before it draws, so numpy and pandas are imported here,
whole, first. Altair finds them through sys.modules without importing them; on a fresh server
several sessions start at once, and a chart drawn while another session's thread was still
importing them failed with "partially initialized module 'numpy' has no attribute 'ndarray'".
"""

import numpy  # noqa: F401
import pandas  # noqa: F401
