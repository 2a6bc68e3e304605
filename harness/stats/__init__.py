"""Statistics on scored runs: consistency of one run, comparison of prompt versions, power, and
the CI gate. The public API (stable; the HTML report builds on it):

- `consistency_report(run) -> ConsistencyReport`                     (consistency.py)
- `compare_runs(runs, *, allow_drift, margins, n_boot, seed, tail) -> Comparison` (compare.py)
- `load_gate_config(path) -> GateConfig`, `evaluate_gates(comparison, config) -> GateReport`,
  `gate_markdown`, `gate_junit`, `write_gate_outputs`                 (gate.py)
- `run_sequential(config, sides_at) -> GateReport`: repeats in stages (sequential.py)
- `plan_rate(...) -> RatePlan`, `plan_from_run(...) -> list[MetricPlan]`,
  `repeats_to_settle(...) -> RepeatsNeeded`                           (power.py)
- `interview_table(runs)`, `rule_table(interviews)`: the tidy frames everything is computed from
  (tables.py)

All result models are pydantic and JSON-serialisable (`.to_json()` or `model_dump_json()`).
"""

from harness.stats.compare import Comparison, Contrast, MetricComparison, compare_runs
from harness.stats.consistency import ConsistencyReport, consistency_report
from harness.stats.gate import (
    GateConfig,
    GateReport,
    GateResult,
    evaluate_gates,
    gate_junit,
    gate_markdown,
    load_gate_config,
    write_gate_outputs,
)
from harness.stats.power import RatePlan, RepeatsNeeded, plan_from_run, plan_rate
from harness.stats.sequential import Sides, run_sequential
from harness.stats.tables import interview_table, rule_table

__all__ = [
    "Comparison",
    "ConsistencyReport",
    "Contrast",
    "GateConfig",
    "GateReport",
    "GateResult",
    "MetricComparison",
    "RatePlan",
    "RepeatsNeeded",
    "Sides",
    "compare_runs",
    "consistency_report",
    "evaluate_gates",
    "gate_junit",
    "gate_markdown",
    "interview_table",
    "load_gate_config",
    "plan_from_run",
    "plan_rate",
    "rule_table",
    "run_sequential",
    "write_gate_outputs",
]
