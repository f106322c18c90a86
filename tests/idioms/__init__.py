"""The idiom table: short snippets of public PyTorch code, each run under PyTorch and under minidl.

* :mod:`.harness` runs one idiom under either library and compares the two results;
* :mod:`.sources` names the public files the idioms come from;
* ``table_*.py`` hold the idioms, one module per topic; :data:`IDIOMS` gathers them all;
* ``record_expectations.py`` records torch's results into ``expected.json`` so the table can also be
  checked where PyTorch is not installed.

The tests are in ``tests/test_idioms.py``.
"""

from . import (
    table_autograd,
    table_creation,
    table_data,
    table_devices,
    table_dtypes,
    table_function,
    table_indexing,
    table_inplace,
    table_issue10,
    table_linalg,
    table_math,
    table_modules,
    table_optim,
    table_reductions,
    table_saveload,
    table_scalars,
    table_shape,
)

TABLES = (
    table_creation, table_dtypes, table_devices, table_indexing, table_inplace, table_reductions,
    table_math, table_shape, table_linalg, table_scalars, table_autograd, table_function, table_modules,
    table_optim, table_saveload, table_data, table_issue10,
)  # fmt: skip

IDIOMS = [idiom for table in TABLES for idiom in table.t.idioms]
