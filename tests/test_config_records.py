"""Every config record in the packages is defined one way (`lean_env.config.config_record`: a
pydantic dataclass refusing unknown fields) and rejects an unknown field in one line naming it."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest
from pydantic import ValidationError

from lean_env.config import explain, is_config_record

PACKAGES = ("lean_env", "search", "training", "policy", "prover")


def _records() -> dict[str, type]:
    found = {}
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            try:
                module = importlib.import_module(info.name)
            except ImportError:   # an optional extra (vllm, lean-dojo, ray) missing here
                continue
            for name, cls in vars(module).items():
                if inspect.isclass(cls) and cls.__module__ == module.__name__ and \
                        (name.endswith("Config") or name == "SamplingParams" or is_config_record(cls)):
                    found[f"{cls.__module__}.{name}"] = cls
    return found


RECORDS = _records()


def test_the_walk_finds_the_known_records():
    names = {k.rsplit(".", 1)[1] for k in RECORDS}
    assert {"GeneratorConfig", "PlannerConfig", "CampaignConfig", "TheoremPoolConfig", "EvalConfig", "ModelConfig",
            "MergeConfig", "EnvConfig", "ReplPoolConfig", "DistributedConfig", "ScreenConfig", "SearchConfig", "RunConfig",
            "FilterConfig", "TrainerConfig", "SFTConfig", "DPOConfig", "GRPOConfig", "RecoveryConfig",
            "SamplingParams", "ResynthesisConfig"} <= names


@pytest.mark.parametrize("path", sorted(RECORDS))
def test_every_config_record_is_defined_one_way_and_refuses_unknown_fields(path):
    cls = RECORDS[path]
    assert is_config_record(cls), f"{path} is not a @config_record"
    with pytest.raises(ValidationError) as e:
        cls(not_a_setting=1)
    line = explain(e.value, "section")
    assert "\n" not in line and line == "section.not_a_setting: Unexpected keyword argument"


def test_an_unknown_setting_in_a_campaign_file_names_the_allowed_ones(tmp_path):
    """The CLI's answer to a misspelt key: one line naming it and the settings its section has."""
    import subprocess
    import sys
    from pathlib import Path

    from prover.config import ConfigError, load_config

    bad = tmp_path / "bad.yaml"
    bad.write_text("search:\n  alphaa: 1\nplanner:\n  kind: embedded\n  replan_: true\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    lines = str(e.value).splitlines()[1:]
    assert lines[0].strip().startswith("search.alphaa: unknown setting; allowed: tactics_per_expansion,")
    assert "alpha," in lines[0] and "max_expansions" in lines[0]
    assert lines[1].strip().startswith("planner.replan_: unknown setting; allowed: kind,") and "replan," in lines[1]
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "prover.cli", "campaign", "--config", str(bad)], capture_output=True,
                         text=True, cwd=tmp_path, env={"PYTHONPATH": str(root), "PATH": ""})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert [l for l in out.stderr.splitlines() if "alphaa" in l] == [
        "  search.alphaa: unknown setting; allowed: " + ", ".join(
            f.name for f in dataclasses.fields(RECORDS["search.best_first.SearchConfig"]))]
