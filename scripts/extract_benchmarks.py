"""Extract benchmark *statements* (never proofs, never answers) from Lean files into the JSONL format
of data/benchmarks/README.md.

Each file holds one problem: imports and auxiliary definitions, optionally the answer to fill
(`abbrev NAME_solution : T := sorry`), a doc comment (the informal statement) and the theorem,
ending in `:= sorry` or `:= by sorry`. Read with the project's Lean lexer, so comments are never
mistaken for code:
- `formal_statement`: the theorem up to and including its `:=`, verbatim;
- `answer`: the answer declaration up to its `sorry`, verbatim (PutnamBench writes the answer in
  a comment after it: every comment outside the doc comment is dropped, so no solution is kept);
- `header`: the rest of the file before the theorem (imports, opens, variables, auxiliary
  definitions) with every comment removed;
- `informal_statement`: the doc comment before the theorem, delimiters removed.

    python scripts/extract_benchmarks.py putnambench /work/.mirror/trishullab+PutnamBench/repo
    (the repository is read at HEAD through git; see BENCHMARKS below for each one's files)
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lean_env.lexer import COMMENT, IDENT, LexError, tokenize  # noqa: E402

# name -> (GitHub repo, folder of problem files, output file, the toolchain, the Mathlib revision, licence)
BENCHMARKS = {
    "putnambench": ("trishullab/PutnamBench", "lean4/src", "putnambench.jsonl", "lean4/lean-toolchain",
                    "lean4/lake-manifest.json", "Apache-2.0 (lean4/LICENSE)"),
    "fate-m": ("frenzymath/FATE-M", "FATEM", "fate_m.jsonl", "lean-toolchain", "lake-manifest.json",
               "MIT (LICENSE)"),
    "fate-h": ("frenzymath/FATE-H", "FATEH", "fate_h.jsonl", "lean-toolchain", "lake-manifest.json",
               "MIT (LICENSE)"),
    "combibench": ("MoonshotAI/CombiBench", "lean/CombiBench", "combibench.jsonl", "lean/lean-toolchain",
                   "lean/lake-manifest.json", "MIT (LICENSE)"),
}


class Unreadable(ValueError):
    pass


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def extract(text: str) -> dict[str, str]:
    toks = tokenize(text)
    code = [t for t in toks if t.kind != COMMENT]
    decls = [i for i, t in enumerate(code) if t.kind == IDENT and t.text in ("theorem", "lemma")
             and not text[text.rfind("\n", 0, t.start) + 1:t.start].strip()]
    if not decls:
        raise Unreadable("no theorem first on its line")
    k = decls[-1]
    thm = code[k]
    name = code[k + 1].text
    tail = [t.text for t in code[k:]]
    # the theorem's own `:=`: the last one whose remainder is `sorry` or `by sorry`
    ends = [i for i in range(k, len(code)) if code[i].text == ":=" and [t.text for t in code[i + 1:]] in (
        ["sorry"], ["by", "sorry"])]
    if not ends or "sorry" not in tail:
        raise Unreadable(f"{name}: the theorem does not end in ':= sorry' / ':= by sorry'")
    assign = code[ends[-1]]
    statement = text[thm.start:assign.end]
    # the doc comment right before the theorem
    before = [t for t in toks if t.end <= thm.start]
    doc = before[-1] if before and before[-1].kind == COMMENT and before[-1].text.startswith("/-") \
        and not text[before[-1].end:thm.start].strip() else None
    informal = ""
    if doc is not None:
        informal = re.sub(r"^/--?\s*|\s*-/$", "", doc.text).strip()
    head_end = doc.start if doc is not None else thm.start
    # the answer to fill
    answer_span = None
    for i, t in enumerate(code[:k]):
        if t.kind == IDENT and t.text == "abbrev" and code[i + 1].text.endswith("_solution"):
            j = next(j for j in range(i, k) if code[j].text == ":=")
            if code[j + 1].text != "sorry":
                raise Unreadable(f"{name}: the answer {code[i + 1].text} is not `sorry`")
            start = code[i - 1].start if i > 0 and code[i - 1].text == "noncomputable" and \
                code[i - 1].column == 0 else t.start
            answer_span = (start, code[j + 1].end)
    # the header: everything before the theorem but the answer, without any comment
    cut = [(c.start, c.end) for c in toks if c.kind == COMMENT and c.end <= head_end]
    if answer_span:
        cut.append(answer_span)
    header, pos = [], 0
    for a, b in sorted(cut):
        header.append(text[pos:a])
        pos = max(pos, b)
    header.append(text[pos:head_end])
    header_text = re.sub(r"[ \t]+\n", "\n", "".join(header))
    header_text = re.sub(r"\n{3,}", "\n\n", header_text).strip() + "\n\n"
    if re.search(r"\bsorry\b", header_text):   # a second statement or answer: not one problem per file
        raise Unreadable(f"{name}: more than one statement or answer to fill in the file")
    row = {"name": name, "header": header_text, "formal_statement": statement, "informal_statement": informal}
    if answer_span:
        row["answer"] = text[answer_span[0]:answer_span[1]]
    return row


def manifest_mathlib(manifest: str) -> str:
    for pkg in json.loads(manifest).get("packages", []):
        if pkg.get("name") == "mathlib":
            return pkg.get("rev", "")
    return ""


def main(name: str, mirror: str) -> None:
    repo_name, folder, out_name, toolchain_file, manifest_file, licence = BENCHMARKS[name]
    repo = Path(mirror)
    repo = repo / ".git" if (repo / ".git").exists() else repo
    commit = git(repo, "rev-parse", "HEAD").strip()
    toolchain = git(repo, "show", f"HEAD:{toolchain_file}").strip()
    mathlib = manifest_mathlib(git(repo, "show", f"HEAD:{manifest_file}"))
    # the folder's own files only: CombiBench keeps solutions in a subfolder (with_solution/)
    files = sorted(f for f in git(repo, "ls-tree", "--name-only", "HEAD", folder + "/").split()
                   if f.endswith(".lean"))
    rows, skipped = [], []
    for f in files:
        try:
            row = extract(git(repo, "show", f"HEAD:{f}"))
        except (Unreadable, LexError, StopIteration, IndexError) as e:
            skipped.append(f"{f}: {e}")
            continue
        row.update(id=row["name"], split="test", source=f"{repo_name}@{commit}:{f}", toolchain=toolchain,
                   mathlib=mathlib)
        rows.append(row)
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{name}: duplicate theorem names")
    out = ROOT / "data" / "benchmarks" / out_name
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} statements ({sum('answer' in r for r in rows)} with an answer to fill) -> {out}; "
          f"{toolchain}, mathlib {mathlib[:12]}, {licence}; skipped {len(skipped)}")
    for s in skipped:
        print("  skipped", s)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
