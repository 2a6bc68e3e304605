"""Loading of user-written inputs: prompt versions, personas and suites."""
