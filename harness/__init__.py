"""sdi-harness: simulate, score and compare LLM system-design interviewer prompts."""

__version__ = "0.1.0"
