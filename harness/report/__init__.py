"""The report: one self-contained HTML file (charts and a transcript viewer) or markdown headline
figures, from one or more scored runs."""
