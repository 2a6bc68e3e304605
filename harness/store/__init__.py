"""The runs store: one folder per run plus an SQLite index of runs."""
