"""Scorers: every rule of the interviewer prompt checked on every turn, with evidence."""

# Bumped whenever a scorer's behaviour changes: stored scores from another version are stale,
# and runs scored by different versions are not comparable.
SCORER_VERSION = "6"
