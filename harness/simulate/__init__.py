"""The simulator: candidate personas against an interviewer prompt over a simulated clock."""
