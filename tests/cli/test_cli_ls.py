"""`faceedit-bench ls recipes` reads a recipe's numbers from the recipe itself."""

from faceedit_bench.cli.ls import collect
from faceedit_bench.cli.main import main
from faceedit_bench.training.recipes import CPU_64


def test_recipe_steps_come_from_the_recipe(capsys):
    listing = collect("recipes")["recipes"]
    assert listing["cpu-64"]["steps"] == CPU_64.values["steps"]  # type: ignore[index]
    assert main(["ls", "recipes"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "cpu-64" in x)
    assert f"{CPU_64.values['steps']:,} steps" in line and "1,200" not in line
