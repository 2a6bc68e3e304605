"""The deterministic scorers of the ten built-in rules of `sdi.scores/1`, one check each
(`check(view) -> RuleResult`); each built-in rubric names its check (`scorer:`), see
harness.scoring.registry."""
