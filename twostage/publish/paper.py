"""``twostage paper``: regenerate ``paper/generated/`` and, with ``--pdf``, compile the companion.

Reads only the registry and the results store (``results/verdicts.json``, complete runs under
``results/<experiment>/<config-hash>/``) and writes, under ``paper/generated/``:

* ``macros.tex``      one macro per bound expression and per measured number (:mod:`.paper_tex`);
* ``claims-<paper>.tex``, ``table-<paper>.tex``  statements with their formulas; verdict tables
  (``never run`` where no verdict exists);
* ``fig-<Key>.png`` + ``figures.tex``  each claim's stored trajectories against their bounds (the
  runs name the claim in their metadata, see :mod:`twostage.publish.plots`);
* ``body.tex``        what ``paper/companion.tex`` inputs;
* ``provenance.json`` every macro and figure -> claim id, function, config hash, run, git SHA.

**Staleness by content hash.** Each output is keyed by a SHA-256 of its inputs (the claims' text and
formulas, their verdicts, the trajectories' bytes, and this code); ``.manifest.json`` keeps the keys
of the last build, and an output whose key is unchanged is neither recomputed nor rewritten (so its
mtime, which ``latexmk`` watches, stays put). Outputs that are no longer produced are removed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twostage.errors import CompileError, ToolchainMissing
from twostage.publish import tex as tx
from twostage.runs.store import atomic_write_bytes, config_hash, git_sha, read_json_dict

MANIFEST = ".manifest.json"
INSTALL_HINT = ("no LaTeX toolchain found (latexmk and pdflatex); install one with: "
                "sudo apt-get install -y texlive-latex-base texlive-latex-recommended latexmk")


@dataclass
class BuildReport:
    out: Path
    regenerated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    macros: int = 0
    figures: int = 0

    def summary(self) -> str:
        return (f"paper/generated: {len(self.regenerated)} regenerated, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed; {self.macros} macros, {self.figures} figures -> {self.out}")


def _code_hash() -> str:
    """Hash of the code that shapes the output (changes regenerate everything)."""
    from twostage.publish import plots as report_plots
    from twostage.theory import latex, latex_printer, latex_statements

    h = hashlib.sha256()
    for mod in (tx, latex, latex_printer, latex_statements, report_plots):
        h.update(Path(mod.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _digest(obj: Any, code: str) -> str:
    return hashlib.sha256((code + json.dumps(obj, sort_keys=True, default=str)).encode()).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _claim_record(c: Any) -> dict[str, Any]:
    return {"id": c.id, "paper": c.paper, "ref": c.ref, "provenance": c.provenance.value,
            "kind": c.kind.value, "statement": c.statement, "note": c.note, "tolerance": c.tolerance,
            "formula": None if c.formula is None else repr(c.formula), "order": [s for s, _ in c.symbols],
            "latex_order": c.get("latex_order")}


class _Emitter:
    """Writes an output only when the hash of its inputs changed since the last build."""

    def __init__(self, out: Path, code: str) -> None:
        self.out, self.code = out, code
        try:
            self.old = json.loads((out / MANIFEST).read_text())
        except (OSError, ValueError):
            self.old = {}
        self.new: dict[str, str] = {}
        self.report = BuildReport(out)

    def emit(self, name: str, inputs: Any, produce: Callable[[], bytes | str | None]) -> bool:
        key = _digest(inputs, self.code)
        path = self.out / name
        if self.old.get(name) == key and path.is_file():
            self.new[name] = key
            self.report.unchanged.append(name)
            return True
        data = produce()
        if data is None:
            return False
        atomic_write_bytes(path, data.encode() if isinstance(data, str) else data)
        self.new[name] = key
        self.report.regenerated.append(name)
        return True

    def finish(self) -> BuildReport:
        for name in sorted(set(self.old) - set(self.new)):
            (self.out / name).unlink(missing_ok=True)
            self.report.removed.append(name)
        text = json.dumps(self.new, indent=1, sort_keys=True) + "\n"
        if self.old != self.new or not (self.out / MANIFEST).is_file():
            atomic_write_bytes(self.out / MANIFEST, text.encode())
        return self.report


def build(paper_dir: Path, results: Path, claims: Iterable[Any] | None = None,
          checkers: Mapping[str, Callable] | None = None) -> BuildReport:
    """Regenerate ``paper_dir/generated`` from ``claims`` (default: every registered claim) and the
    results under ``results``. ``checkers`` (claim id -> checker function) names the function that
    produced each verdict in ``provenance.json`` (default: the registered checkers)."""
    from twostage.publish.plots import index_plots, plot_claim
    from twostage.runs.suite import load_verdicts

    if claims is None:
        from twostage.theory.claims import load_all

        claims = load_all().claims()
    if checkers is None:
        from twostage.verify.checks import load_checkers

        checkers = load_checkers()
    claims = sorted(claims, key=lambda c: c.paper)  # stable: registration order within a paper
    out = Path(paper_dir) / "generated"
    out.mkdir(parents=True, exist_ok=True)
    keys = tx.macro_keys(c.id for c in claims)
    verdicts = load_verdicts(Path(results))
    em = _Emitter(out, _code_hash())
    records = {c.id: _claim_record(c) for c in claims}
    sha = git_sha()

    macros_text, defined = tx.macros_tex(claims, keys, verdicts)
    em.emit("macros.tex", [[records[c.id], _shown(verdicts.get(c.id))] for c in claims], lambda: macros_text)
    papers = sorted({c.paper for c in claims})
    for p in papers:
        pcs = [c for c in claims if c.paper == p]
        em.emit(f"claims-{p}.tex", [records[c.id] for c in pcs], lambda pcs=pcs: tx.claims_tex(pcs, keys))
        em.emit(f"table-{p}.tex", [records[c.id] for c in pcs],
                lambda p=p, pcs=pcs: tx.table_tex(p, pcs, keys))

    figures, fig_prov = [], {}
    plots = index_plots(Path(results))
    for c in claims:
        specs = plots.get(c.id)
        if not specs:
            continue
        name = f"fig-{keys[c.id]}.png"
        runs = [{"run": str(s.run), "trajectory": _file_digest(s.run / "trajectory.parquet"),
                 "spec": repr(s)} for s in specs]
        title, info = f"{c.paper} {c.ref}", {}
        draw = lambda c=c, specs=specs, name=name, title=title, info=info: _plot_bytes(  # noqa: E731
            plot_claim, c.id, title, specs, out / name, info)
        if em.emit(name, [records[c.id], runs], draw):
            caption = _caption(em, name, [records[c.id], runs], info, draw)
            figures.append((c.id, name, f"{c.paper} {c.ref}: {caption}"))
            meta = read_json_dict(specs[0].run / "metadata.json")
            fig_prov[name] = {"claim": c.id, "function": "twostage.publish.plots.plot_claim",
                              "config_hash": [s.run.name for s in specs], "run": [str(s.run) for s in specs],
                              "git_sha": meta.get("git_sha")}
    experiments = _experiment_figures(em, Path(results), fig_prov)
    em.emit("figures.tex", [figures, experiments], lambda: tx.figures_tex(figures, experiments))
    has_figures = bool(figures or experiments)
    em.emit("body.tex", [papers, has_figures], lambda: tx.body_tex(papers, has_figures))

    prov = {"git_sha_of_build": sha, "macros": {}, "figures": fig_prov}
    for name, cid in defined.items():
        prov["macros"][name] = _macro_provenance(name, cid, verdicts.get(cid), checkers, sha)
    em.emit("provenance.json", prov, lambda: json.dumps(prov, indent=2, sort_keys=True, default=str) + "\n")
    report = em.finish()
    report.macros, report.figures = len(defined), len(figures) + len(experiments)
    return report


def _caption(em: _Emitter, name: str, inputs: Any, info: dict[str, Any], draw: Callable) -> str:
    """The caption of a claim's plot (what was drawn, on which axis), kept beside it as ``<name>.txt`` so
    that an unchanged figure keeps its caption without being drawn again."""
    from twostage.publish.sections import plot_caption

    def produce() -> str:
        if not info:  # the PNG was up to date but its caption is missing: draw once more to learn it
            draw()
        return plot_caption(info)

    em.emit(name + ".txt", inputs, produce)
    return (em.out / (name + ".txt")).read_text()


def _experiment_figures(em: _Emitter, results: Path, prov: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The figures ``twostage run`` wrote (:mod:`twostage.publish.gallery`), copied under generated/ as
    ``exp-<experiment>-<hash>-<name>``: ``(experiment, file name, caption)`` triples."""
    from twostage.publish.gallery import find_figures

    found = []
    for f in find_figures(results) if results.is_dir() else []:
        name = "exp-" + f.label
        src = f.run / f.name
        if em.emit(name, [_file_digest(src)], src.read_bytes):
            found.append((f.experiment, name, f"{f.caption} ({f.provenance()})"))
            prov[name] = {"claim": None, "experiment": f.experiment, "function": "twostage run",
                          "config_hash": f.run.name, "run": str(f.run), "git_sha": f.meta.get("git_sha")}
    return found


def _shown(verdict: Mapping[str, Any] | None) -> Any:
    """The parts of a verdict that the macros print (a rerun with equal numbers changes nothing)."""
    if not verdict:
        return None
    worst = verdict.get("worst") if isinstance(verdict.get("worst"), dict) else {}
    shown = [verdict.get(k) for k in ("status", "margin", "examples")]
    return shown + [worst.get(k) for k in ("measured", "bound")]


def _plot_bytes(plot_claim: Callable, cid: str, title: str, specs: list, path: Path,
                info: dict[str, Any] | None = None) -> bytes | None:
    """Draw into a scratch file beside ``path`` and return the bytes (the emitter writes ``path``)."""
    scratch = path.with_name(".plot-" + path.name)
    try:
        drawn = plot_claim(cid, title, specs, scratch, info=info)
        return None if drawn is None else Path(drawn).read_bytes()
    finally:
        scratch.unlink(missing_ok=True)



def _macro_provenance(name: str, cid: str, verdict: Mapping[str, Any] | None,
                      checkers: Mapping[str, Callable], sha: str) -> dict[str, Any]:
    if name.startswith("twBound"):
        return {"claim": cid, "function": "twostage.theory.latex.claim_latex", "config_hash": None,
                "run": "twostage paper (printed from the registered SymPy formula)", "git_sha": sha}
    fn = checkers.get(cid)
    function = f"{fn.judge.__module__}.{fn.judge.__qualname__}" if fn is not None else None
    if not verdict:
        return {"claim": cid, "function": function, "config_hash": None, "run": None, "git_sha": None,
                "note": "never run"}
    worst = verdict.get("worst") or {}
    cfg = worst.get("config") if isinstance(worst, dict) else None
    return {"claim": cid, "function": function,
            "config_hash": config_hash(cfg) if cfg is not None else None,
            "run": f"results/verdicts.json at {verdict.get('at')} (profile {verdict.get('profile')}, "
                   f"seed {verdict.get('seed')}, device {verdict.get('device')})",
            "git_sha": verdict.get("git_sha")}


# ----------------------------------------------------------------------------------- PDF


def toolchain() -> str | None:
    """Path of ``latexmk`` when it and ``pdflatex`` are on PATH, else ``None``."""
    mk, tex = shutil.which("latexmk"), shutil.which("pdflatex")
    return mk if mk and tex else None


def compile_pdf(paper_dir: Path, main: str = "companion.tex", timeout: float = 300) -> Path:
    """Compile ``paper_dir/main`` with latexmk (pdflatex, non-interactive); returns the PDF path."""
    mk = toolchain()
    if mk is None:
        raise ToolchainMissing(INSTALL_HINT)
    paper_dir = Path(paper_dir)
    if not (paper_dir / main).is_file():
        raise FileNotFoundError(f"{paper_dir / main} not found")
    build_dir = paper_dir / "build"
    cmd = [mk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           f"-outdir={build_dir.name}", main]
    proc = subprocess.run(cmd, cwd=paper_dir, capture_output=True, text=True, errors="replace",
                          timeout=timeout)
    pdf = build_dir / (Path(main).stem + ".pdf")
    if proc.returncode != 0 or not pdf.is_file():
        log = build_dir / (Path(main).stem + ".log")
        rx = re.compile(r"^(!|\S+\.tex:\d+:)")
        errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if rx.match(ln)]
        first = errors[0] if errors else f"latexmk exited with {proc.returncode}"
        raise CompileError(f"LaTeX failed: {first.strip()} (log: {log})")
    return pdf


def overfull_boxes(log: Path) -> list[str]:
    """The ``Overfull \\hbox`` warnings of a LaTeX log: text or displays running into the margin
    (``tests/app/test_paper.py`` holds the companion to none)."""
    text = Path(log).read_bytes().decode("utf-8", errors="replace")
    return [ln.strip() for ln in text.splitlines() if ln.startswith("Overfull \\hbox")]


def pdf_pages(pdf: Path) -> int:
    """Number of pages: ``pdfinfo`` when available, else count ``/Type /Page`` objects (also inside
    compressed object streams)."""
    exe = shutil.which("pdfinfo")
    if exe:
        out = subprocess.run([exe, str(pdf)], capture_output=True, text=True, timeout=30).stdout
        for line in out.splitlines():
            if line.startswith("Pages:"):
                return int(line.split()[1])
    return count_pages(Path(pdf).read_bytes())


def count_pages(data: bytes) -> int:
    """Count page objects in raw PDF bytes, decompressing Flate streams (object streams of PDF 1.5).

    >>> count_pages(b"1 0 obj << /Type /Page /Parent 2 0 R >> endobj 3 0 obj << /Type /Pages >> endobj")
    1
    """
    import zlib

    pattern = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
    n = len(pattern.findall(data))
    for m in re.finditer(rb"stream\r?\n", data):
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            continue
        try:
            n += len(pattern.findall(zlib.decompress(data[start:end])))
        except zlib.error:
            continue
    return n
