"""Playbook tests: scenarios in YAML that pin down what the playbooks must do.

``edo-rules test tests/*.yaml`` loads each file (:func:`load_test`), runs it on a
scratch store (:func:`run_test`) and prints every failure as
``file:line: at 2024-05-06 09:00: expected … got …`` with the engine's explain.
The file format is ``schemas/playbook-test.schema.json``; see docs/playbooks.md.
"""

from edo_rules.playbook.loader import is_test_file
from edo_rules.testing._compare import Failure
from edo_rules.testing._run import TestResult, run_test
from edo_rules.testing._spec import TestSpec, load_test, test_schema

__all__ = [
    "Failure",
    "TestResult",
    "TestSpec",
    "is_test_file",
    "load_test",
    "run_test",
    "test_schema",
]
