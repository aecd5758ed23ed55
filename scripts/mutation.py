"""Mutation testing of the policy modules (`make mutation`): mutmut per group of mutation/modules.toml, a score per
module, and the diff of every survivor that mutation/equivalent.txt does not explain.

Each group runs in a fresh temporary copy of the working tree (tracked and untracked-but-not-ignored files), so the
project's own pyproject.toml is never edited and no mutants/ folder appears in it. Not part of `make test`.

    python scripts/mutation.py                          # every group
    python scripts/mutation.py bot/schedule.py          # only the groups that mutate these files
    python scripts/mutation.py --fail-under 90          # exit 1 if a module scores below 90%

Score = detected / (all run - equivalent), where detected = killed, timed out or crashed; "no tests" counts as missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "mutation" / "modules.toml"
EQUIVALENT = ROOT / "mutation" / "equivalent.txt"
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}


@dataclass(frozen=True)
class Equivalent:
    name: str
    line: str
    reason: str


@dataclass
class Module:
    name: str
    statuses: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, list[str]] = field(default_factory=dict)


def read_equivalents(path: Path) -> dict[str, Equivalent]:
    found = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        # The mutated line may itself hold " | " (a type union): the name is first, the reason last.
        name, _, rest = raw.partition(" | ")
        line, _, reason = rest.rpartition(" | ")
        parts = [name.strip(), line.strip(), reason.strip()]
        if not all(parts):
            raise SystemExit(f"{path}:{number}: write 'mutant name | mutated line | reason', got {raw!r}")
        found[parts[0]] = Equivalent(*parts)
    return found


def toml_value(value: object) -> str:
    return json.dumps(value)  # strings and lists of strings: JSON and TOML spell them the same


def copy_tree(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def run_group(work: Path, settings: dict[str, object], group: dict[str, list[str]], mutmut: str) -> list[Module]:
    own = {key: value for key, value in group.items() if key not in ("files", "tests")}  # a group's own settings
    table = {**settings, **own, "only_mutate": group["files"], "pytest_add_cli_args_test_selection": group["tests"]}
    pyproject = (ROOT / "pyproject.toml").read_text()
    lines = "\n".join(f"{key} = {toml_value(value)}" for key, value in table.items())
    (work / "pyproject.toml").write_text(f"{pyproject}\n[tool.mutmut]\n{lines}\n")
    shutil.rmtree(work / "mutants", ignore_errors=True)
    log = work / "mutmut.log"
    with log.open("w") as out:
        done = subprocess.run([mutmut, "run"], cwd=work, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.stdout.write(log.read_text()[-3000:])
        raise SystemExit(f"mutmut failed on {', '.join(group['files'])} (exit {done.returncode})")
    from mutmut.stats import status_by_exit_code

    modules = []
    for path in group["files"]:
        meta = work / "mutants" / (path + ".meta")
        module = Module(module_name(path))
        if meta.exists():
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            module.statuses = {key: status_by_exit_code[code] for key, code in codes.items()}
        for key, status in module.statuses.items():
            if status not in DETECTED and status not in NOT_RUN:
                shown = subprocess.run([mutmut, "show", key], cwd=work, capture_output=True, text=True).stdout
                module.diffs[key] = [
                    line for line in shown.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
                ]
        modules.append(module)
    return modules


def added_line(diff: list[str]) -> str:
    """The mutant in one line: what it adds, or "dropped: ..." for a mutant that only deletes."""
    added = [line[1:].strip() for line in diff if line.startswith("+")]
    if added:
        return " ".join(added)
    return "dropped: " + " ".join(line[1:].strip() for line in diff if line.startswith("-"))


def report(modules: list[Module], equivalents: dict[str, Equivalent], fail_under: float | None) -> int:
    header = f"{'module':32} {'score':>6} {'killed':>6} {'surv':>5} {'notest':>6} {'equiv':>5} {'total':>5}"
    print(header)
    print("-" * len(header))
    low, unexplained, stale = [], [], []
    for module in modules:
        counts = Counter(module.statuses.values())
        equivalent = 0
        for key, diff in module.diffs.items():
            entry = equivalents.get(key)
            if entry and added_line(diff) == entry.line:
                equivalent += 1
            else:
                unexplained.append((key, module.statuses[key], diff, entry))
        for key, entry in equivalents.items():
            if key.startswith(module.name + ".") and key in module.statuses and key not in module.diffs:
                stale.append((entry, module.statuses[key]))
        run = sum(n for status, n in counts.items() if status not in NOT_RUN)
        detected = sum(n for status, n in counts.items() if status in DETECTED)
        denominator = run - equivalent
        score = 100.0 * detected / denominator if denominator else 100.0
        if fail_under is not None and score < fail_under:
            low.append((module.name, score))
        print(
            f"{module.name:32} {score:5.1f}% {detected:6} {counts['survived']:5} {counts['no tests']:6} "
            f"{equivalent:5} {sum(counts.values()):5}"
        )
    for key, status, diff, entry in unexplained:
        note = f" (equivalent.txt expects: {entry.line})" if entry else ""
        print(f"\n== {key}: {status}{note}")
        print("\n".join(diff))
    for entry, status in stale:
        print(f"\nstale equivalent.txt entry (now {status}): {entry.name}")
    for name, score in low:
        print(f"FAIL {name}: {score:.1f}% < {fail_under}%", file=sys.stderr)
    return 1 if low else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="only the groups that mutate these files (default: every group)")
    parser.add_argument("--fail-under", type=float, default=None, help="minimum score per module, in percent")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (for `mutmut browse` there)")
    args = parser.parse_args()

    config = tomllib.loads(CONFIG.read_text())
    groups = config["group"]
    if args.files:
        unknown = set(args.files) - {f for g in groups for f in g["files"]}
        if unknown:
            raise SystemExit(f"not in {CONFIG.relative_to(ROOT)}: {', '.join(sorted(unknown))}")
        groups = [g for g in groups if set(g["files"]) & set(args.files)]
    equivalents = read_equivalents(EQUIVALENT)
    mutmut = str(Path(sys.executable).with_name("mutmut"))

    work = Path(tempfile.mkdtemp(prefix="partnerbot-mutation-"))
    # A stopped run (kill, or make's own SIGTERM) still removes its copy: SystemExit runs the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modules: list[Module] = []
    try:
        copy_tree(work)
        for group in groups:
            started = time.monotonic()
            found = run_group(work, config["mutmut"], group, mutmut)
            print(f"mutated {', '.join(group['files'])}: {time.monotonic() - started:.0f} s", flush=True)
            modules += found
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    return report(modules, equivalents, args.fail_under)


if __name__ == "__main__":
    sys.exit(main())
