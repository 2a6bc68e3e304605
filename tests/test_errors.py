"""InputError: the one error type for bad input."""

from __future__ import annotations

import pickle

from harness.errors import InputError


def test_input_error_names_file_and_field_and_survives_a_process_boundary() -> None:
    err = InputError("suites/x.yaml", "prompts[1]", "prompt file not found")
    assert str(err) == "suites/x.yaml: prompts[1]: prompt file not found"
    again = pickle.loads(pickle.dumps(err))
    assert (again.path, again.field, again.message) == (err.path, err.field, err.message)
    assert str(again) == str(err)
