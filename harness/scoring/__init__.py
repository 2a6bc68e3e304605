"""Scorers: every rule of the interviewer prompt checked on every turn, with evidence."""
