"""The `assess` command line: a few lines around each domain function.

Heavy libraries (pandas, plotly, WeasyPrint) are imported inside the commands that need them, so
`assess --help` and quick commands start fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from .engagement import EngagementError


class UserError(click.ClickException):
    """A mistake the user can fix: printed to stderr as one message, exit code 1."""


def user_errors(fn):
    """Turn domain errors (bad engagement, unreadable export) into a message, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EngagementError as exc:
            raise UserError(str(exc)) from None
        except Exception as exc:
            # the other domain errors, from their modules only if a command imported them (the
            # importers and the risks bring pandas: `score` and `--help` start without it)
            known = tuple(getattr(sys.modules.get(module), name, None) or EngagementError
                          for module, name in (("assess.importers.base", "ImportError_"),
                                               ("assess.questionnaires", "QuestionnaireError"),
                                               ("assess.risks", "CatalogError")))
            if isinstance(exc, known):
                raise UserError(str(exc)) from None
            # a report past its time limit (report.RenderTimeout)
            timeout = getattr(sys.modules.get("assess.report"), "RenderTimeout", None)
            if timeout is not None and isinstance(exc, timeout):
                raise UserError(str(exc)) from None
            raise

    return wrapper


ENGAGEMENT = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="assess")
def main() -> None:
    """Reliability assessment toolkit: import a client's incidents, compute the baseline,
    rank the systemic risks and write the reports.

    An engagement is a folder (see `assess init`); every command takes it as DIRECTORY.

    Example: assess demo --out /tmp/demo
    """


@main.command()
@ENGAGEMENT
@click.option("--client", default="New client", help="Client company name.")
@click.option("--consultant", default="Consultant", help="Your name.")
@click.option("--firm", default=None, help="Your firm (defaults to your name).")
@click.option("--timezone", default="UTC", help="Client's IANA time zone, e.g. Europe/Paris.")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the assessment window (default: today).")
@user_errors
def init(directory: Path, client: str, consultant: str, firm: str | None, timezone: str,
         end) -> None:
    """Create a new engagement folder with a commented engagement.yaml.

    Example: assess init acme --client "Acme" --consultant "Ana Silva" --timezone Europe/Paris
    """
    from .engagement import init_engagement

    init_engagement(directory, client=client, consultant=consultant, firm=firm,
                    timezone=timezone, end=end.date() if end else None)
    click.echo(f"Created engagement folder {directory}/ (edit {directory}/engagement.yaml)")


@main.command("import")
@ENGAGEMENT
@click.argument("files", nargs=-1, type=click.Path(exists=False, path_type=Path))
@click.option("--format", "fmt", default=None,
              help="Export format; detected from the content when omitted.")
@click.option("--strict", is_flag=True, help="Import nothing from a file with any rejected row.")
@click.option("--json", "as_json", is_flag=True, help="Print the import reports as JSON.")
@click.option("--map", "column_map", multiple=True, metavar="FIELD=COLUMN",
              help="For a generic CSV/XLSX: the column holding a canonical field (repeatable); "
                   "saved for the next file with the same columns.")
@click.option("--date-order", type=click.Choice(["dmy", "mdy"]), default=None,
              help="Day/month order of dates like 03/04/2025 when the file cannot settle it.")
@click.option("--service", default=None, help="Service a git log's deploys belong to "
                                              "(default: the file name).")
@click.option("--timezone", default=None, metavar="ZONE",
              help="IANA zone of times the file writes without an offset, or by an ambiguous "
                   "abbreviation (CST, IST); default: the engagement's. Recorded with the import.")
@click.option("--remove", "remove", multiple=True, metavar="FILE",
              help="Take an imported export out of the engagement (its stored path or file name; "
                   "repeatable): its raw copy is deleted, imports.yaml keeps a 'removed' record.")
@user_errors
def import_(directory: Path, files: tuple[Path, ...], fmt: str | None, strict: bool,
            as_json: bool, column_map: tuple[str, ...], date_order: str | None,
            service: str | None, timezone: str | None, remove: tuple[str, ...]) -> None:
    """Import incident exports or deploy logs into the engagement.

    FILES may be files, globs and folders (a folder stands for the files in it). Each file is
    read, committed and reported on its own; one that cannot be read does not stop the others,
    and the exit code is 1 when any failed, after all are reported. The raw file is kept under
    incidents/ or deploys/ exactly as received; rejected rows are listed with their row, column
    and the expected form. Re-importing never duplicates.

    Formats are listed in docs/import-formats.md; `--format` names one when detection cannot.

    Example: assess import acme pagerduty_incidents.csv jira_export.csv

    Example: assess import acme statuspage_incidents/ --timezone America/Chicago

    Example: assess import acme tracker.xlsx --map title=Subject --map detected="Opened on"

    Example: assess import acme --remove incidents/old_export.csv
    """
    from . import store
    from .engagement import load_engagement

    if not files and not remove:
        raise UserError("give the exports to import (files, globs or folders), or --remove FILE")
    mapping = {}
    for item in column_map:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise UserError(f"--map {item!r}: expected FIELD=COLUMN, e.g. --map title=Summary")
        mapping[field.strip()] = column.strip()
    if timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"--timezone {timezone!r}: expected an IANA time zone such as "
                            "America/Chicago") from None
    options = {"column_map": mapping, "date_order": date_order, "service": service,
               "timezone": timezone}
    engagement = load_engagement(directory)
    for name in remove:
        entry = store.remove_import(engagement, name)
        click.echo(f"{entry['file']}: removed (its {entry.get('rows_imported', 0)} row(s) leave "
                   "every figure; imports.yaml keeps the record)")
    if not files:
        return
    with _import_progress(store.expand(list(files)), quiet=as_json) as on_file:
        outcomes = store.import_files(engagement, list(files), fmt=fmt, strict=strict,
                                      options=options, progress=on_file)
    if as_json:
        click.echo(json.dumps([o.report.to_dict() if o.report else
                               {"file": o.path.name, "error": o.error} for o in outcomes],
                              indent=2))
    else:
        for o in outcomes:
            click.echo(_format_import(o.report) if o.report else f"{o.path.name}: NOT IMPORTED\n"
                       f"  error: {o.error}")
        if len(outcomes) > 1:
            failed = [o for o in outcomes if o.failed]
            click.echo(f"\n{len(outcomes)} file(s): {len(outcomes) - len(failed)} imported, "
                       f"{len(failed)} failed" + (": " + ", ".join(o.path.name for o in failed)
                                                  if failed else ""))
    if any(o.failed for o in outcomes):
        sys.exit(1)


PROGRESS_MIN_BYTES = 5_000_000  # a single file smaller than this imports in about a second


def _on_terminal() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def _import_progress(paths: list[Path], quiet: bool):
    """A progress bar on stderr over the files' bytes, naming the file being read; only on a
    terminal, never with --json, and not for one small file. Yields the per-file callback."""
    sizes = {p: p.stat().st_size for p in paths if p.is_file()}
    if quiet or not _on_terminal() or (len(paths) < 2 and sum(sizes.values()) < PROGRESS_MIN_BYTES):
        yield None
        return
    with click.progressbar(length=max(sum(sizes.values()), 1), label="Importing", file=sys.stderr,
                           item_show_func=lambda item: item) as bar:
        previous: list[Path] = []

        def on_file(path: Path) -> None:
            if previous:
                bar.update(sizes.get(previous.pop(), 0), None)
            previous.append(path)
            mb = sizes.get(path, 0) / 1e6
            bar.update(0, f"{path.name} ({mb:,.1f} MB)")

        yield on_file
        if previous:
            bar.update(sizes.get(previous.pop(), 0), "done")


@contextlib.contextmanager
def _report_progress(names: list[str]):
    """A progress bar on stderr over the report steps (data, charts, layout, PDF of each report);
    only on a terminal. Yields a function of (report, step)."""
    if not _on_terminal():
        yield lambda report, step: None
        return
    steps = 1 + sum(4 if n == "assessment" else 3 for n in names)
    with click.progressbar(length=steps, label="Reporting", file=sys.stderr,
                           item_show_func=lambda item: item) as bar:
        yield lambda report, step: bar.update(1, f"{report.replace('_', '-')}: {step}")


def _format_import(r) -> str:
    lines = [f"{r.file}: {r.format} ({r.encoding})"]
    if not r.committed:
        lines.append(f"  NOT IMPORTED (--strict): {len(r.rejected)} rejected row(s)")
    else:
        state = " (this exact file was already imported)" if r.already_imported else ""
        lines.append(f"  rows read {r.rows_read}, imported {r.imported}, rejected "
                     f"{len(r.rejected)}: {r.new} new, {r.updated} updated, "
                     f"{r.unchanged} unchanged{state}")
        if r.stored_as:
            lines.append(f"  stored as {r.stored_as}")
    window = r.window_sentence()
    if window:
        lines.append(f"  window: {window}")
    if r.open_incidents:
        shown = "; ".join(r.open_incidents[:10])
        more = f"; and {len(r.open_incidents) - 10} more" if len(r.open_incidents) > 10 else ""
        lines.append(f"  open: {len(r.open_incidents)} incident(s) without a resolve time: "
                     f"{shown}{more}")
    for sentence in r.quality():
        lines.append(f"  data quality: {sentence}")
    for note in r.notes:
        lines.append(f"  note: {note}")
    for t in r.timeline[:50]:
        lines.append(f"  out of order: {t}")
    if len(r.timeline) > 50:
        lines.append(f"  ... and {len(r.timeline) - 50} more out of order (use --json for all)")
    for p in r.rejected[:50]:
        lines.append(f"  rejected: {p}")
    if len(r.rejected) > 50:
        lines.append(f"  ... and {len(r.rejected) - 50} more rejected rows (use --json for all)")
    return "\n".join(lines)


@main.command()
@ENGAGEMENT
@click.option("--json", "as_json", is_flag=True, help="Print the full metrics document as JSON.")
@user_errors
def metrics(directory: Path, as_json: bool) -> None:
    """Compute the baseline metrics over the engagement's window.

    The JSON schema is documented in docs/metrics.md.

    Example: assess metrics sample_engagement --json
    """
    from .caches import remembered

    def produce() -> str:
        from .analysis import analyse

        m = analyse(directory).metrics
        return json.dumps(m, indent=2, default=str) if as_json else format_metrics(m)

    click.echo(remembered("metrics", directory, [as_json], produce))


def _fmt_min(v) -> str:
    return "n/a" if v is None else f"{v:.0f} min"


def format_metrics(m: dict) -> str:
    """The readable table `assess metrics` prints: durations per severity, then every headline
    figure with its basis, confidence grade, trend and benchmark (assess/figures.py)."""
    from .figures import figures

    out = [f"Window {m['window']['first_day']} .. {m['window']['last_day']} "
           f"({m['window']['timezone']}), {m['incident_count']} incidents",
           "",
           "Medians. detect: impact start -> detected; ack: detected -> acknowledged; mitigate: "
           "detected -> mitigated;",
           "resolve: detected -> resolved; restore: impact start -> resolved. No stand-in times.",
           f"{'':10}{'n':>5}{'detect':>10}{'ack':>10}{'mitigate':>10}{'resolve':>10}"
           f"{'res. p90':>10}{'restore':>10}"]
    rows = [("all", m), ("SEV1-SEV2", m["headline"])] + list(m["by_severity"].items())
    for name, block in rows:
        n = block.get("count", m["incident_count"])
        out.append(f"{name:10}{n:>5}" + "".join(
            f"{_fmt_min(block[k]['median']):>10}"
            for k in ("mttd_minutes", "mtta_minutes", "mttm_minutes", "mttr_minutes"))
            + f"{_fmt_min(block['mttr_minutes']['p90']):>10}"
            + f"{_fmt_min(block['time_to_restore_minutes']['median']):>10}")
    out.append("")
    out.append("Figures (grade A-D: how sure; docs/metrics.md)")
    for f in figures(m, "en"):
        beside = f"  [{f['beside']}]" if f["beside"] else ""
        out.append(f"  {f['label']}: {f['display']}{beside}  grade {f['grade'] or '-'}")
        detail = [f["basis"]] + [x for x in (f["interval"], (f["trend"] or {}).get("text"),
                                            f["benchmark"]) if x]
        out.append(f"      {'; '.join(detail)}")
    out.append("")
    out.append("Availability (SLA {:.2%})".format(m["availability"]["sla_target"]))
    for r in m["availability_by_month"]:
        out.append(f"  {r['month']}{'*' if r['partial'] else ' '} {r['availability']:.3%}  "
                   f"downtime {r['downtime_minutes']:.0f} min, budget "
                   f"{r['error_budget_minutes']:.0f} min, consumed {r['budget_consumed']:.1f}x"
                   f"{'' if r['sla_met'] else '  SLA missed'}")
    a = m["availability"]
    for label, keys in (("left out, no end time", a["open_excluded"]),
                        ("carried in from before the window", a["carried_in"]),
                        ("ended before detection, counted to detection", a["end_moved_to_detection"])):
        if keys:
            more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
            out.append(f"  {label} ({len(keys)}): {', '.join(keys[:10])}{more}")
    sla = ", ".join(f"{s} {v['rate']:.0%} of {v['measured']}" if v["rate"] is not None
                    else f"{s} n/a ({v['not_recorded']} without a recorded start)"
                    for s, v in m["mitigation_sla"].items())
    pm = m["postmortems"]
    ch = m["change_failure_rate"]
    dq = m["data_quality"]
    out += [
        f"Mitigation started within target: {sla}",
        f"Postmortems: {pm['with_postmortem']}/{pm['major_incidents']} SEV1/SEV2, "
        f"{pm['within_48h']} within 48 h; action items owned {pm['action_items_with_owner_and_due']}"
        f"/{pm['action_items']}, overdue {pm['action_items_overdue']}",
        f"Changes: {ch['deploys']} deploys, {ch['remediated_deploys']} needed remediation; "
        f"{ch['change_related_incidents']} change-related incidents ({ch['recorded_cause']} by a "
        f"recorded cause, {ch['time_only']} by time), {ch['near_deploy_incidents']} started within "
        f"{ch['window_minutes']:.0f} min of a deploy",
        f"Out of hours: {m['on_call']['out_of_hours']} incidents",
        f"Data: {dq['incidents_imported']} incidents imported, {dq['in_window']} in the window, "
        f"{dq['before_window']} before, {dq['after_window']} after; "
        f"{dq['timeline_out_of_order']} with times out of order",
    ]
    out += [f"  out of order: {p['key']}: {p['issue']}" for p in dq["timeline_problems"][:20]]
    out.append(f"Maturity: {m['maturity']['level']} (the incident record; the headline is the lower "
               "of this and the interview's practices, docs/questionnaires.md)")
    out += [f"  - {r}" for r in m["maturity"]["reasons"]]
    return "\n".join(out)


@main.group()
def questionnaire() -> None:
    """The intake interview and the self-assessment: validate and read them.

    Example: assess questionnaire show intake --lang fr
    """


@questionnaire.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_errors
def questionnaire_validate(files: tuple[Path, ...]) -> None:
    """Check questionnaire files (default: the shipped ones); every problem names the file, the
    question id and what is wrong.

    Example: assess questionnaire validate questionnaires/intake.yaml
    """
    import yaml

    from .questionnaires import shipped, validate

    problems = []
    for path in files or shipped():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML ({exc})")
            continue
        found = validate(data, path.name)
        problems += found
        if not found:
            click.echo(f"{path.name}: valid")
    if problems:
        raise UserError("\n".join(problems))


@questionnaire.command("show")
@click.argument("name")
@click.option("--lang", type=click.Choice(["en", "fr"]), default="en", help="Language.")
@user_errors
def questionnaire_show(name: str, lang: str) -> None:
    """Print a questionnaire (intake or self_assessment) as the respondent reads it: the intake
    as an interview script, its question count and time, each section's minutes, each question
    with its help, the evidence to ask for, its options with score and risk, and "don't know".

    Example: assess questionnaire show self_assessment --lang fr
    """
    from .questionnaires import load, script

    click.echo("\n".join(script(load(name), lang)))


@main.command()
@ENGAGEMENT
@click.option("--json", "as_json", is_flag=True, help="Print the scores as one JSON document.")
@click.option("--lang", type=click.Choice(["en", "fr"]), default="en", help="Language of labels.")
@user_errors
def score(directory: Path, as_json: bool, lang: str) -> None:
    """Score the engagement's answers: maturity per practice area, gaps, perception gaps.

    JSON keys: respondents, profile, overall, gaps, perception_gaps (docs/questionnaires.md).

    Example: assess score sample_engagement --json
    """
    from .engagement import load_engagement
    from .questionnaires import areas, score_engagement

    engagement = load_engagement(directory)
    result = score_engagement(engagement.root)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        return
    names = areas()
    if result["overall"]:
        click.echo(f"Consultant's assessment: {result['overall']['level']} "
                   f"({result['overall']['score']:.2f} / 3)")
    for area, v in result["profile"].items():
        held = "; ".join(c["question"] for c in v["capped_by"] if c["critical"])
        click.echo(f"  {names[area][lang]:<28} {v['level']:<11} {v['score']:.2f}"
                   + (f"  held by {held}" if held else ""))
    for r in result["respondents"]:
        extra = []
        if r["dont_know"]:
            extra.append(f"{len(r['dont_know'])} answers unknown, ask for evidence: "
                         f"{', '.join(r['dont_know'])}")
        if r["counts"]["not_applicable"]:
            extra.append(f"{r['counts']['not_applicable']} not applicable")
        if r["unanswered"]:
            extra.append(f"{len(r['unanswered'])} unanswered: {', '.join(r['unanswered'])}")
        if r["unknown"]:
            extra.append(f"kept but unknown question ids: {', '.join(r['unknown'])}")
        if r["invalid"]:
            extra.append("invalid: " + "; ".join(f"{i['question']} {i['problem']}"
                                                for i in r["invalid"]))
        overall = r["overall"]
        level = f"{overall['level']} ({overall['score']:.2f})" if overall["score"] is not None else "-"
        click.echo(f"{r['respondent']} ({r['role']}, {r['file']}): {level}"
                   + "".join(f"\n    {e}" for e in extra))
    if result["gaps"]:
        click.echo("Gaps:")
        for g in result["gaps"]:
            click.echo(f"  - {g['finding'][lang]} [{g['question']}]"
                       + (" (critical)" if g.get("critical") else ""))
    if result["perception_gaps"]:
        click.echo("Perception gaps:")
        for g in result["perception_gaps"]:
            click.echo(f"  - {names[g['area']][lang]}: {g['highest']['role']} {g['highest']['share']:.0%} "
                       f"vs {g['lowest']['role']} {g['lowest']['share']:.0%}")


LANG = click.option("--lang", type=click.Choice(["en", "fr"]), default=None,
                    help="Language of titles and findings (default: the engagement's).")


def _judgement(directory: Path, lang: str | None) -> dict:
    from .analysis import analyse, judgement

    return judgement(analyse(directory), lang)


@main.command()
@ENGAGEMENT
@click.option("--json", "as_json", is_flag=True, help="Print every risk with its evidence as JSON.")
@click.option("--add-risk", "add_risk", metavar="ID",
              help="Add a risk of your own (with --title, --finding, --likelihood, --impact).")
@click.option("--edit-risk", "edit_risk", metavar="ID",
              help="Edit a risk's --title or --finding (an empty text restores the catalog's).")
@click.option("--title", default=None, help="With --add-risk or --edit-risk.")
@click.option("--finding", default=None, help="With --add-risk or --edit-risk.")
@click.option("--likelihood", type=float, default=None, help="With --add-risk: 0 to 1.")
@click.option("--impact", type=float, default=None, help="With --add-risk: 1 to 10.")
@click.option("--action", "actions", multiple=True, metavar="ACTION_ID",
              help="With --add-risk: an action of the remediation library that closes it.")
@LANG
@user_errors
def risks(directory: Path, as_json: bool, add_risk: str | None, edit_risk: str | None,
          title: str | None, finding: str | None, likelihood: float | None, impact: float | None,
          actions: tuple[str, ...], lang: str | None) -> None:
    """Rank the systemic risks, the top three first, each with its evidence.

    The catalog is assess/data/risks.yaml (or DIRECTORY/risks.yaml); the consultant's order,
    drops, edits and own risks come from DIRECTORY/overrides.yaml, which --add-risk and
    --edit-risk write (validated first). JSON keys: top, risks[] with rank, id, title, finding,
    score, likelihood, impact, has_evidence, top, reason_above, evidence (docs/risks.md).

    Example: assess risks sample_engagement --edit-risk capacity-saturation --finding "..."
    """
    if add_risk or edit_risk:
        from .plans import edit_overrides, load_catalogs

        catalog, library = load_catalogs(directory)
        if add_risk:
            missing = [n for n, v in (("--title", title), ("--finding", finding),
                                      ("--likelihood", likelihood), ("--impact", impact))
                       if v is None]
            if missing:
                raise UserError(f"--add-risk needs {', '.join(missing)}")
            edit_overrides(directory, catalog, library, risk_add={
                "id": add_risk, "title": title, "finding": finding, "likelihood": likelihood,
                "impact": impact, "actions": list(actions)})
        else:
            edit_overrides(directory, catalog, library, risk=edit_risk,
                           risk_edit={k: v for k, v in (("title", title), ("finding", finding))
                                      if v is not None})
        click.echo(f"Saved to {directory / 'overrides.yaml'}", err=True)
    from .caches import remembered

    def produce() -> str:
        ranked = _judgement(directory, lang)["risks"]
        if as_json:
            doc = {"top": [r["id"] for r in ranked if r["top"]], "risks": ranked}
            return json.dumps(doc, indent=2, ensure_ascii=False, default=str)
        return format_risks(ranked)

    click.echo(remembered("risks", directory, [as_json, lang], produce))


def format_risks(ranked: list[dict]) -> str:
    lines = []
    for r in ranked:
        if not r["top"]:
            continue
        imp = r["impact"]
        floor = f", at least {r['likelihood']:.1f} from a decisive answer" if r["decisive"] else ""
        lines.append(f"{r['rank']}. {r['title']}  (score {r['score']:.2f} = likelihood "
                     f"{r['likelihood']:.2f}{floor} x impact {imp['score']:.1f}: base {imp['base']} + "
                     f"severity-minutes {imp['severity']} + customers {imp['customers']} + revenue "
                     f"journeys {imp['revenue']} + recurrence {imp['recurrence']}"
                     + (f", raised to its potential {imp['potential']}" if imp["potential"] else "")
                     + ")")
        lines.append(f"   {r['finding']}")
        if r.get("reason_above"):
            lines.append(f"   {r['reason_above']}")
        ev = r["evidence"]
        if ev["incident_count"]:
            st = ev["strength"]
            lines.append(f"   Incidents ({ev['incident_count']}; evidence {st['recorded']} recorded, "
                         f"{st['measured']} measured, {st['inferred']} inferred):")
            for i in ev["incidents"][:5]:
                lines.append(f"     {i['key']:<28} {i['severity'] or '-':<5} {i['started'] or '':<17} "
                             f"{i['strength']:<9} {i['title'] or ''}")
            if ev["incident_count"] > 5:
                lines.append(f"     ... and {ev['incident_count'] - 5} more (--json lists them)")
        for p in ev.get("promises", [])[:3]:
            n, times = len(p["followers"]), len(p["promised"])
            lines.append(f"   Promised, not delivered: \"{p['action']}\" ({times} time"
                         f"{'' if times == 1 else 's'} from {p['promised_at']}, "
                         f"{p['why'].replace('_', ' ')}), then {n} incident{'' if n == 1 else 's'} "
                         f"of {p['class']}, {p['followers_sev1']} SEV1")
        for m in ev["metrics"]:
            lines.append(f"   Metric: {m['label']} = {m['display']} ({m['op']} {m['threshold_display']})")
        for a in ev["answers"]:
            risk = f", {a['risk']} risk" if a.get("risk") else ""
            lines.append(f"   Answer: {a['finding']} [{a['question']}: {a['value']}{risk}"
                         f"{', decisive' if a.get('decisive') else ''}]")
        lines.append("")
    lines.append("All risks:")
    for r in ranked:
        mark = "TOP" if r["top"] else ("dropped" if r.get("dropped") else
                                       ("no evidence" if not r["has_evidence"] else ""))
        lines.append(f"  {r['rank']:>2}. {r['score']:5.2f}  {r['id']:<28} {mark}")
    return "\n".join(lines)


@main.command()
@ENGAGEMENT
@click.option("--json", "as_json", is_flag=True, help="Print the plan and roadmap as JSON.")
@click.option("--status", "statuses", multiple=True, metavar="ACTION=STATUS[@DATE]",
              help="Record an action's status in DIRECTORY/overrides.yaml before printing: planned, "
                   "'in progress', done, dropped or blocked, with the date it was reached "
                   "(default today for done). Repeatable.")
@LANG
@user_errors
def plan(directory: Path, as_json: bool, statuses: tuple[str, ...], lang: str | None) -> None:
    """The 30-day reset plan by week and the 0-7 / 7-30 / 30-90-day roadmap.

    Every action has an owner (role, or the person named in DIRECTORY/overrides.yaml or
    engagement.yaml's team), a status, a due date levelled on its owner's capacity from the
    engagement's start_date (default: the Monday after today), the risks it addresses and its
    check. What does not fit anyone's week, the decisions it needs and the error-budget rule are
    printed after the plan. JSON keys: start_date, top_risks, reset_plan[], roadmap[], actions[],
    diagnostic[], capacity, decisions[], error_budget_rule, overdue[], postmortem_items[],
    warnings (docs/plans.md).

    Example: assess plan sample_engagement --status saturation-alerts=done@2026-11-12
    """
    if statuses:
        _record_statuses(directory, statuses)
    p = _judgement(directory, lang)["plan"]
    if as_json:
        click.echo(json.dumps(p, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(format_plan(p))


def _record_statuses(directory: Path, statuses: tuple[str, ...]) -> None:
    """ACTION=STATUS[@DATE] written to overrides.yaml, one decision each."""
    import datetime as dt

    from . import plans

    catalog, library = plans.load_catalogs(directory)
    for item in statuses:
        aid, sep, rest = item.partition("=")
        word, _, day = rest.partition("@")
        word = word.strip().lower().replace("-", " ").replace("_", " ")
        if not sep or not aid.strip() or word not in plans.STATUSES:
            raise click.BadParameter(f"{item!r}: expected ACTION=STATUS[@YYYY-MM-DD], STATUS one of "
                                     f"{', '.join(plans.STATUSES)}", param_hint="--status")
        try:
            date = dt.date.fromisoformat(day.strip()) if day.strip() else (
                dt.date.today() if word == "done" else None)
        except ValueError:
            raise click.BadParameter(f"{item!r}: {day!r} is not a date (YYYY-MM-DD)",
                                     param_hint="--status") from None
        plans.edit_overrides(directory, catalog, library, action=aid.strip(), status=(word, date))
        click.echo(f"Recorded in overrides.yaml: {aid.strip()} {word}" + (f" on {date}" if date else ""),
                   err=True)


def _action_line(a: dict) -> str:
    marks = [a["status"]] if a["status"] != "planned" else []
    if a.get("done_date"):
        marks[-1:] = [f"{a['status']} {a['done_date']}"]
    if a.get("overdue"):
        marks.append("OVERDUE")
    if a.get("fits") is False:
        marks.append("does not fit")
    shown = f" ({', '.join(marks)})" if marks else ""
    return f"[{a['due']}] {a['title']} - {a['owner_display']}{shown}"


def format_plan(p: dict) -> str:
    start = f"30-day reset plan, from {p['start_date']}"
    lines = [start + (" (the Monday after today: set start_date in engagement.yaml to fix it):"
                      if p.get("start_date_default") else ":")]
    for w in p["reset_plan"]:
        lines.append(f"  Week {w['week']} - {w['title']} (ends {w['ends']})")
        for a in w.get("diagnostic") or []:
            lines.append(f"    [done] {a['title']} - {a['owner_display']} (the engagement's diagnostic)")
        for a in w["actions"]:
            lines.append(f"    {_action_line(a)}")
    lines.append("Roadmap:")
    for h in p["roadmap"]:
        lines.append(f"  {h['title']} (by {h['due']}): {len(h['actions'])} action(s)")
        for a in h["actions"]:
            risks_ = f" [{', '.join(a['risks'])}]" if a["risks"] else ""
            lines.append(f"    {_action_line(a)}{risks_}")
            lines.append(f"        check: {a['verify']['text']}")
            if a["verify"].get("watch") and a["verify"]["watch"] != a["verify"]["text"]:
                lines.append(f"        watch: {a['verify']['watch']}")
            for g in a.get("postmortem") or []:
                state = "done" if g["done"] else "open"
                lines.append(f"        postmortem ({state}): {g['title']} [{', '.join(g['incidents'])}]")
    cap = p.get("capacity") or {}
    if cap.get("people"):
        lines.append("Load per person and week (person-days / capacity), weeks 1-13:")
        for person in cap["people"]:
            if person["load"]:
                weeks = " ".join(f"{w['load']:g}/{w['capacity']:g}" for w in person["weeks"])
                lines.append(f"  {person['name']:<20} {weeks}")
    rule = p.get("error_budget_rule")
    if rule:
        lines.append(f"Error-budget rule: {rule['text']}")
    if p.get("decisions"):
        lines.append("Decisions needed (the plan does not overload anyone):")
        for d in p["decisions"]:
            lines.append(f"  - {d.get('action') or d.get('role')}: {d['text']}")
    for w in p["warnings"]:
        lines.append(f"Warning: {w}")
    return "\n".join(lines)


HOME = click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="ASSESS_HOME",
                    default=Path("assess-home"), show_default=True,
                    help="The web app's folder: assess.db, engagements/, uploads/ (env ASSESS_HOME).")


def _database(home: Path):
    """The web app's database, migrated to the current schema (SQLite in HOME or DATABASE_URL)."""
    import os

    from .web.db import Database, database_url

    home.mkdir(parents=True, exist_ok=True)
    db = Database(database_url(home, os.environ.get("DATABASE_URL")))
    db.upgrade()
    return db


@main.command()
@HOME
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes.")
@click.option("--insecure-cookies", is_flag=True,
              help="Allow the session cookie over plain http (local use without TLS).")
@click.option("--no-worker", is_flag=True,
              help="Start no report worker here (workers run elsewhere: `assess worker`).")
def serve(home: Path, host: str, port: int, workers: int, insecure_cookies: bool, no_worker: bool) -> None:
    """Start the web app under gunicorn (migrating the database first), and one report worker
    beside it (`assess worker`) unless --no-worker.

    Behind TLS in production; on a laptop over http://127.0.0.1 pass --insecure-cookies.
    Requests must name a trusted host: ASSESS_PUBLIC_URL and ASSESS_TRUSTED_HOSTS, else this
    machine's loopback names and --host.

    Example: assess serve --home ~/assess --port 8000 --insecure-cookies
    """
    import os
    import subprocess

    from gunicorn.app.base import BaseApplication

    from .web import secret_key
    from .web.serving import install_error_headers

    _database(home).dispose()
    secret_key(home.resolve())  # made once here, before the workers start
    if insecure_cookies:
        os.environ["ASSESS_INSECURE_COOKIES"] = "1"
    os.environ["ASSESS_HOME"] = str(home.resolve())
    if (not os.environ.get("ASSESS_TRUSTED_HOSTS") and not os.environ.get("ASSESS_PUBLIC_URL")
            and host not in ("0.0.0.0", "::", "127.0.0.1", "localhost")):
        os.environ["ASSESS_TRUSTED_HOSTS"] = f"localhost,127.0.0.1,{host}"
    install_error_headers()  # gunicorn's own 400/414 answers carry the security headers

    class App(BaseApplication):
        def load_config(self):
            settings = {"bind": f"{host}:{port}", "workers": workers, "timeout": 120, "accesslog": "-",
                        "control_socket_disable": True, "limit_request_line": 8190,
                        # self-assessment tokens never reach the access log
                        "logger_class": "assess.web.serving.RedactingLogger"}
            if Path("/dev/shm").is_dir():
                settings["worker_tmp_dir"] = "/dev/shm"
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            from .web import create_app

            return create_app(home)

    click.echo(f"assess web app on http://{host}:{port}/ (home {home.resolve()}, {workers} workers)")
    if not insecure_cookies:
        click.echo("The session cookie is Secure: serve behind TLS, or pass --insecure-cookies to sign in "
                   "over plain http on this machine.")
    worker = None
    if not no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "assess", "worker", "--home", str(home.resolve())])
        click.echo(f"Report worker started (pid {worker.pid}); --no-worker when workers run elsewhere.")
    try:
        App().run()
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


@main.command()
@HOME
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Report jobs rendered at once by this worker (each uses about 300 MB).")
def worker(home: Path, jobs: int) -> None:
    """Run report jobs from the task queue: SQLite in HOME (queue.db) on one machine, Redis when
    REDIS_URL is set (workers on other machines share ASSESS_HOME and DATABASE_URL).

    A job whose worker is killed goes back on the queue (at most 3 attempts), then fails with
    the reason. Stops on Ctrl-C or SIGTERM, finishing the job in hand.

    Example: REDIS_URL=redis://queue:6379/0 assess worker --home /srv/assess
    """
    import logging
    import os

    from .web.jobs import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _database(home).dispose()
    where = "Redis (REDIS_URL)" if os.environ.get("REDIS_URL") else f"SQLite ({home.resolve() / 'queue.db'})"
    click.echo(f"assess worker: home {home.resolve()}, queue {where}, {jobs} job(s) at a time")
    run_worker(home, jobs)


@main.group()
def user() -> None:
    """Consultant accounts of the web app.

    Example: assess user create camille@northbeam.io --name "Camille Laurent"
    """


@user.command("create")
@HOME
@click.argument("email")
@click.option("--name", required=True, help="Full name, shown in the app.")
@click.option("--password", help="Password (asked twice when omitted); at least 10 characters. "
              "Prefer --password-stdin: a password on the command line stays in the shell history.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (its first line), e.g. from a secret store.")
def user_create(home: Path, email: str, name: str, password: str | None, password_stdin: bool) -> None:
    """Create a consultant account (the first one is always made here).

    Example: assess user create camille@northbeam.io --name "Camille Laurent"

    Example: printf '%s\\n' "$PASSWORD" | assess user create camille@northbeam.io \\
      --name "Camille Laurent" --password-stdin
    """
    from .web.auth import create_user

    if password_stdin:
        if password is not None:
            raise UserError("give the password once: --password or --password-stdin, not both")
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UserError("--password-stdin: standard input is empty; expected the password "
                            "on its first line")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(_database(home), email, name, password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"Account created for {email.strip().lower()}.")


@main.group()
def db() -> None:
    """The web app's database.

    Example: assess db upgrade --home ~/assess
    """


@db.command("upgrade")
@HOME
def db_upgrade(home: Path) -> None:
    """Apply the database migrations (Alembic); safe to run again.

    Example: assess db upgrade --home ~/assess
    """
    database = _database(home)
    click.echo(f"Database at revision {database.revision()} ({database.url.split('@')[-1]}).")


@main.group()
def engagement() -> None:
    """The web app's engagements as folders: list them, bring a folder in, write one out.

    Example: assess engagement import acme --owner camille@northbeam.io
    """


@engagement.command("list")
@HOME
def engagement_list(home: Path) -> None:
    """List the web app's engagements: id, owner, client, folder.

    Example: assess engagement list --home ~/assess
    """
    from sqlalchemy import select

    from .web.db import EngagementRow, User

    database = _database(home)
    with database.session() as s:
        rows = s.execute(select(EngagementRow.id, User.email, EngagementRow.client, EngagementRow.folder)
                         .join(User, User.id == EngagementRow.owner_id).order_by(EngagementRow.id)).all()
    for eid, email, client, folder in rows:
        click.echo(f"{eid:>4}  {email:<30} {client:<30} {home / 'engagements' / folder}")


@engagement.command("import")
@HOME
@ENGAGEMENT
@click.option("--owner", required=True, help="E-mail of the consultant who will own it.")
@user_errors
def engagement_import(home: Path, directory: Path, owner: str) -> None:
    """Bring an engagement folder (made with `assess init`) into the web app, answers included.
    The folder is copied; the original is left as it is.

    Example: assess engagement import acme --owner camille@northbeam.io
    """
    from sqlalchemy import select

    from .web.db import User
    from .web.service import Workspace, import_folder

    database = _database(home)
    with database.write() as s:
        user = s.scalar(select(User).where(User.email == owner.strip().lower()))
        if user is None:
            raise UserError(f"no account for {owner}: create it with `assess user create`")
        row = import_folder(Workspace(home, database), s, user.id, directory)
        eid, folder = row.id, row.folder
    click.echo(f"Engagement {eid} created for {owner}: {home / 'engagements' / folder}")


@engagement.command("export")
@HOME
@click.argument("engagement_id", type=int)
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def engagement_export(home: Path, engagement_id: int, out: Path) -> None:
    """Write an engagement out as a complete folder (the web app's answers included), ready for
    `assess report` or git.

    Example: assess engagement export 3 ~/clients/acme
    """
    from .web.db import EngagementRow
    from .web.service import Workspace, sync_answers

    database = _database(home)
    ws = Workspace(home, database)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: not empty; choose a new folder")
    with database.write() as s:
        row = s.get(EngagementRow, engagement_id)
        if row is None:
            raise UserError(f"no engagement {engagement_id} (see `assess engagement list`)")
        sync_answers(ws, s, row)
        shutil.copytree(ws.folder(row), out, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".assess.lock", "*.tmp"))
    click.echo(f"Engagement {engagement_id} written to {out}")


@main.command()
@HOME
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Archive to write (default: HOME/backups/assess-backup-<UTC time>.tar.gz).")
def backup(home: Path, out: Path | None) -> None:
    """Back up the web app: a consistent copy of the database and every engagement folder.

    SQLite is copied with its online backup API (safe while the app runs); with DATABASE_URL on
    PostgreSQL, pg_dump writes the dump into the archive.

    Example: assess backup --home ~/assess --out /backups/assess.tar.gz
    """
    from .web.backup import make_backup

    try:
        path = make_backup(home, out)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"Backup written: {path} ({path.stat().st_size / 1e6:.1f} MB)")


@main.command()
@ENGAGEMENT
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the PDFs (default: DIRECTORY/reports).")
@click.option("--lang", type=click.Choice(["en", "fr"]), default=None,
              help="Report language (default: the engagement's).")
@click.option("--report", "which", type=click.Choice(["all", "assessment", "due-diligence"]),
              default="all", show_default=True,
              help="The full assessment, the investors' due-diligence summary, or both.")
@click.option("--no-archival", is_flag=True,
              help="Plain PDF instead of PDF/A-3b (archival, for data rooms).")
@click.option("--time-limit", type=click.FloatRange(min=0), default=120, show_default=True,
              metavar="SECONDS", help="Stop after this many seconds per report, analysis included "
              "(0: no limit).")
@user_errors
def report(directory: Path, out: Path | None, lang: str | None, which: str, no_archival: bool,
           time_limit: float) -> None:
    """Render the PDF reports of an engagement: the assessment and the due-diligence summary.

    PDF/A-3b with the incidents (CSV), metrics, risks and plan (JSON) attached. The time limit
    bounds the whole run: loading, analysis, judgement and every render.

    Example: assess report sample_engagement --out /tmp/reports --lang fr
    """
    from .analysis import analyse, judgement
    from .report import render
    from .report import time_limit as limit

    names = ["assessment", "due_diligence"] if which == "all" else [which.replace("-", "_")]
    done = []
    with limit(time_limit * len(names), f"the report of {directory}"), \
            _report_progress(names) as step:
        step("analysis", "loading the data")
        analysis = analyse(directory)
        lang = lang or analysis.engagement.language
        j = judgement(analysis, lang)
        for name in names:
            rendered = render(analysis, out or directory / "reports", name, lang, judgement=j,
                              archival=not no_archival, limit_seconds=None,
                              progress=functools.partial(step, name))
            done.append((name, rendered))
    for name, rendered in done:  # after the bar, which writes on the same terminal
        click.echo(f"{name.replace('_', '-').capitalize()} report: {rendered.path.resolve()} "
                   f"({rendered.pages} pages)")
    if "assessment" in names:
        # the first assessment reported is the baseline every check-in compares with
        from .checkin import freeze

        path, written = freeze(analysis, j)
        if written:
            click.echo(f"Baseline frozen: {path} (check-ins compare with it; `assess baseline "
                       f"{directory} --force` replaces it)")


@main.command()
@ENGAGEMENT
@click.option("--force", is_flag=True, help="Replace a baseline already frozen.")
@user_errors
def baseline(directory: Path, force: bool) -> None:
    """Freeze the engagement's baseline: the figures, risks and plan as reported.

    Written to DIRECTORY/baseline.json (the first `assess report` does it too); every check-in
    compares with it, never with a recomputation.

    Example: assess baseline sample_engagement
    """
    from .analysis import analyse
    from .checkin import freeze

    path, written = freeze(analyse(directory), force=force)
    click.echo(f"Baseline frozen: {path}" if written else
               f"{path} exists: the baseline stays as it was frozen (--force replaces it)")


@main.command()
@ENGAGEMENT
@click.option("--as-of", "as_of", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The check-in date (YYYY-MM-DD): the window runs from the plan's start to it.")
@click.option("--json", "as_json", is_flag=True, help="Print the check-in document as JSON.")
@click.option("--report", "with_report", is_flag=True, help="Also render the progress report PDF.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the PDF (default: DIRECTORY/reports).")
@click.option("--lang", type=click.Choice(["en", "fr"]), default=None)
@user_errors
def checkin(directory: Path, as_of: Any, as_json: bool, with_report: bool, out: Path | None,
            lang: str | None) -> None:
    """Measure progress at day 30 or 90 against the frozen baseline.

    Re-import the exports up to the check-in date first. The figures the plan's checks name and
    the headline figures are set beside the baseline, each action's status beside its due date,
    each risk beside its rank (docs/checkin.md).

    Example: assess checkin sample_engagement --as-of 2026-12-09 --report
    """
    from .checkin import checkin as run
    from .engagement import load_engagement

    e = load_engagement(directory)
    c = run(e, as_of.date(), lang)
    if as_json:
        click.echo(json.dumps({k: v for k, v in c.items() if k != "metrics"}, indent=2,
                              default=str, ensure_ascii=False))
    else:
        click.echo(format_checkin(c))
    if with_report:
        from .progress import render_progress

        r = render_progress(e, c, out or directory / "reports", lang)
        click.echo(f"Progress report: {r.path.resolve()} ({r.pages} pages)")


def format_checkin(c: dict[str, Any]) -> str:
    """The readable check-in `assess checkin` prints."""
    lines = [f"Check-in of {c['as_of']}, day {c['day']} of the plan: {c['incident_count']} incidents "
             f"since {c['window']['first_day']} (baseline: {c['baseline']['incident_count']} in "
             f"{c['baseline']['window']['days']} days, frozen {c['baseline']['frozen_at'][:10]})"]
    if not c["coverage"]["covered"]:
        lines.append(f"  NOT MEASURABLE: the exports end on {c['coverage']['last_incident']} "
                     f"(incidents) / {c['coverage']['last_deploy']} (deploys); import them up to "
                     f"{c['as_of']} first")
    t = c["targets"]
    lines.append(f"Targets: {t['met']} met, {t['not_yet']} not yet, {t['not_measurable']} not "
                 "measurable")
    for f in c["figures"]:
        target = (f" target {f['target']['op']} {f['target']['display']}: "
                  + ("met" if f["met"] else "not yet" if f["met"] is False else "n/a")) \
            if f["target"] else ""
        if f["met"] is False:
            target += f" ({f['direction']})"
        lines.append(f"  {f['label']}: {f['before_display']} -> {f['after_display']} "
                     f"({f['direction']}){target}")
    n = c["action_counts"]
    lines.append(f"Actions: {n['done']} done ({n['done_late']} after their due date), "
                 f"{n['in progress']} in progress, {n['planned']} planned, {n['blocked']} blocked, "
                 f"{n['dropped']} dropped; {n['late']} late")
    for x in c["actions"]:
        if x["late"]:
            lines.append(f"  late {x['days_late']:>3} d  {x['id']:<28} due {x['due']}  "
                         f"{x['owner'] or ''}{'  - ' + x['note'] if x['note'] else ''}")
    for r in c["risks"]:
        if r["was_top"] or r["moved"] != "same":
            after = f"#{r['after_rank']} {r['after_score']:.2f}" if r["after_rank"] else "-"
            lines.append(f"Risk {r['id']}: #{r['before_rank']} {r['before_score']:.2f} -> {after} "
                         f"({r['moved']})")
    return "\n".join(lines)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Folder for the demo engagement and its reports.")
@user_errors
def demo(out: Path) -> None:
    """Run a whole engagement on the bundled sample client, end to end.

    Creates OUT/engagement from the sample's settings, answers and postmortems and replays the
    engagement as it happened: imports the exports the consultant had by the report date (at the
    times the sample's manifest records), computes the baseline, writes the PDFs dated that day,
    freezes the baseline, then imports the exports re-taken after the plan started and runs the
    day-30 check-in with its progress report.

    Example: assess demo --out /tmp/demo
    """
    import datetime as dt

    from . import store
    from .analysis import analyse
    from .engagement import load_engagement
    from .paths import data_dir
    from .report import render_all

    sample = data_dir("sample_engagement")
    work = out / "engagement"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(sample, work, ignore=shutil.ignore_patterns(
        "imports.yaml", "incidents", "deploys", "reports", "baseline.json"))
    engagement = load_engagement(work)
    click.echo(f"Engagement: {engagement.client} ({work})")
    report_day = engagement.report_date or dt.date.today()
    replay = [(sample / e["file"], dt.datetime.fromisoformat(str(e["imported_at"])))
              for e in store.read_manifest(load_engagement(sample))]
    had = [(raw, when) for raw, when in replay if when.date() <= report_day]
    later = [(raw, when) for raw, when in replay if when.date() > report_day]
    for raw, when in had:
        click.echo(_format_import(store.import_file(engagement, raw, imported_at=when)))
    analysis = analyse(engagement)
    click.echo("")
    click.echo(format_metrics(analysis.metrics))
    from .analysis import judgement

    click.echo("")
    j = judgement(analysis)
    click.echo(format_risks(j["risks"]).split("\nAll risks:")[0].rstrip())
    click.echo("")
    for rendered in render_all(analysis, out / "reports", judgement=j):
        label = "Due-diligence summary" if "diligence" in rendered.path.name else "Assessment report"
        click.echo(f"{label}: {rendered.path.resolve()} ({rendered.pages} pages)")
    # day 30: the sample carries the exports re-taken after the plan started and the statuses
    from .checkin import checkin as run_checkin
    from .checkin import freeze
    from .progress import render_progress

    freeze(analysis, j, frozen_at=dt.datetime.combine(report_day, dt.time(12), dt.UTC))
    click.echo("")
    for raw, when in later:
        click.echo(_format_import(store.import_file(engagement, raw, imported_at=when)))
    as_of = dt.date.fromisoformat(str(j["plan"]["start_date"])) + dt.timedelta(days=29)
    c = run_checkin(engagement, as_of)
    click.echo("")
    click.echo(format_checkin(c).split("\nRisk ")[0])
    rendered = render_progress(engagement, c, out / "reports")
    click.echo(f"Progress report (day {c['day']}): {rendered.path.resolve()} ({rendered.pages} pages)")


if __name__ == "__main__":
    main()
