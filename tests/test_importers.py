"""Importers: real-shaped exports read right; bad input gets a clear error and loses nothing.

Shapes: PagerDuty's incidents CSV download (fields created_on, resolved_on, seconds_to_first_ack,
seconds_to_resolve, urgency, auto_resolved, resolved_by_user_id as PagerDuty's own reporting
tools read them); Jira Cloud's "Export CSV (all fields)" with repeated Labels/Component/s columns
and its default dd/MMM/yy h:mm a dates.
"""

from __future__ import annotations

import pandas as pd
import pytest

from assess import importers, store
from assess.engagement import load_engagement
from assess.importers.base import ImportError_, ReadContext
from assess.mappings import severity_map

PD_HEADER = ("id,incident_number,description,service_id,service_name,escalation_policy_id,"
             "escalation_policy_name,created_on,resolved_on,seconds_to_first_ack,"
             "seconds_to_resolve,auto_resolved,urgency,priority\n")
PD_ROWS = (
    "Q1AAA,101,[api] DB pool exhausted,PSV1,api,PE1,Eng,2026-03-02T10:00:00+01:00,"
    "2026-03-02T11:30:00+01:00,300,5400,false,high,P1\n"
    "Q1BBB,102,Disk full on worker,PSV2,worker,PE1,Eng,2026-03-03T02:00:00Z,,60,,false,low,\n"
)
JIRA = (
    "Summary,Issue key,Issue id,Issue Type,Status,Priority,Created,Resolved,Labels,Labels,"
    "Component/s,Component/s,Custom field (Root Cause),Custom field (Customers Affected)\n"
    "Exports stuck,INC-7,10007,Incident,Done,High,11/Mar/26 03:26 PM,11/Mar/26 06:00 PM,"
    "customer-reported,production,ingest,api,queue-backlog,007\n"
    '"Invoices blank, for some",INC-8,10008,Incident,Done,Highest,12/Mar/26 09:05 AM,,,,billing,,,\n'
)


def ctx(name: str = "pagerduty-csv") -> ReadContext:
    return ReadContext(timezone="Europe/Paris", severity_map=severity_map(name, None))


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_pagerduty_csv_maps_to_canonical_rows(tmp_path):
    path = write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS)
    assert importers.detect(path).name == "pagerduty-csv"
    result = importers.read(path, ctx())
    df = result.frame
    assert list(df["key"]) == ["pagerduty:Q1AAA", "pagerduty:Q1BBB"]
    first = df.iloc[0]
    assert first["detected"] == pd.Timestamp("2026-03-02T09:00:00Z")
    assert first["acknowledged"] == pd.Timestamp("2026-03-02T09:05:00Z")  # + 300 s
    assert first["resolved"] == pd.Timestamp("2026-03-02T10:30:00Z")
    assert first["severity"] == "SEV1" and first["severity_original"] == "P1"
    second = df.iloc[1]
    assert second["severity"] == "SEV3" and second["severity_original"] == "low"  # from urgency
    assert pd.isna(second["resolved"]) and second["status"] == "open"
    assert str(df["detected"].dtype) == "datetime64[us, UTC]"
    assert result.problems == []


def test_jira_csv_repeated_columns_and_locale_dates(tmp_path):
    path = write(tmp_path, "jira.csv", JIRA)
    assert importers.detect(path).name == "jira-csv"
    result = importers.read(path, ctx("jira-csv"))
    df = result.frame.set_index("external_id")
    assert df.loc["INC-7", "detected"] == pd.Timestamp("2026-03-11T14:26:00Z")  # Paris, UTC+1
    assert df.loc["INC-7", "service"] == "ingest"  # first of the repeated Component/s
    assert df.loc["INC-7", "detection_source"] == "customer"  # from the repeated Labels
    assert df.loc["INC-7", "customers_affected"] == 7
    assert df.loc["INC-7", "root_cause"] == "queue-backlog"
    assert df.loc["INC-8", "title"] == "Invoices blank, for some"
    assert df.loc["INC-8", "severity"] == "SEV1"
    assert any("Europe/Paris" in n for n in result.notes)


def test_ids_keep_leading_zeros(tmp_path):
    path = write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS.replace("Q1AAA", "007"))
    df = importers.read(path, ctx()).frame
    assert df.iloc[0]["external_id"] == "007"


def test_rejected_rows_name_row_column_and_expected_form(tmp_path, engagement_dir):
    bad = PD_ROWS + "Q1CCC,103,Broken,PSV1,api,PE1,Eng,yesterday at noon,,abc,,false,high,P2\n"
    path = write(tmp_path, "pd.csv", PD_HEADER + bad)
    e = load_engagement(engagement_dir)
    report = store.import_file(e, path)
    assert report.imported == 2 and report.rows_read == 3
    messages = [str(p) for p in report.rejected]
    assert any("row 4" in m and "'created_on'" in m and "ISO 8601" in m and "yesterday" in m
               for m in messages)
    assert any("row 4" in m and "'seconds_to_first_ack'" in m and "number" in m for m in messages)
    loaded = store.load_table(e, "incidents")
    assert sorted(loaded["external_id"]) == ["Q1AAA", "Q1BBB"]  # exactly the valid rows


def test_strict_import_commits_nothing(tmp_path, engagement_dir):
    bad = PD_ROWS + "Q1CCC,103,Broken,PSV1,api,PE1,Eng,not a date,,,,false,high,P2\n"
    path = write(tmp_path, "pd.csv", PD_HEADER + bad)
    e = load_engagement(engagement_dir)
    report = store.import_file(e, path, strict=True)
    assert not report.committed and report.imported == 0 and len(report.rejected) == 1
    assert store.load_table(e, "incidents").empty
    assert not (engagement_dir / "incidents" / "pd.csv").exists()


def test_reimport_and_overlapping_export_do_not_duplicate(tmp_path, engagement_dir):
    e = load_engagement(engagement_dir)
    first = write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS)
    r1 = store.import_file(e, first)
    assert (r1.new, r1.updated, r1.unchanged) == (2, 0, 0)
    r2 = store.import_file(e, first)
    assert r2.already_imported and (r2.new, r2.updated, r2.unchanged) == (0, 0, 2)
    # a later export: Q1BBB now resolved, plus one new incident
    later_rows = PD_ROWS.replace("2026-03-03T02:00:00Z,,60,,", "2026-03-03T02:00:00Z,"
                                 "2026-03-03T03:00:00Z,60,3600,") + \
        "Q1DDD,104,New one,PSV1,api,PE1,Eng,2026-03-05T10:00:00Z,,,,false,low,P4\n"
    later = tmp_path / "later"
    later.mkdir()
    r3 = store.import_file(e, write(later, "pd.csv", PD_HEADER + later_rows))
    assert (r3.new, r3.updated, r3.unchanged) == (1, 1, 1)
    assert r3.stored_as == "incidents/pd-2.csv"  # the first raw file is kept as received
    table = store.load_table(e, "incidents")
    assert len(table) == 3
    assert table.set_index("external_id").loc["Q1BBB", "resolved"] == pd.Timestamp(
        "2026-03-03T03:00:00Z")


@pytest.mark.parametrize(
    ("encoding", "prefix", "label"),
    [("utf-8", "", "UTF-8"), ("utf-8", "\ufeff", "UTF-8 with BOM"),
     ("utf-16", "", "UTF-16"), ("cp1252", "", "Windows-1252 (cp1252)")],
)
def test_encodings_are_detected_and_reported(tmp_path, engagement_dir, encoding, prefix, label):
    text = prefix + PD_HEADER + PD_ROWS.replace("Disk full", "Disque plein à 95 % – café")
    path = write(tmp_path, "pd.csv", text, encoding)
    report = store.import_file(load_engagement(engagement_dir), path)
    assert report.encoding == label
    table = store.load_table(load_engagement(engagement_dir), "incidents")
    assert "Disque plein à 95 % – café on worker" in set(table["title"])


def test_binary_renamed_csv_is_refused(tmp_path, engagement_dir):
    path = tmp_path / "export.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary\x00stuff" * 10)
    with pytest.raises(ImportError_, match="ZIP archive.*nothing was imported"):
        store.import_file(load_engagement(engagement_dir), path)
    assert not list((engagement_dir).glob("incidents/*"))


def test_unknown_content_asks_for_a_format(tmp_path):
    path = write(tmp_path, "x.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(ImportError_, match="--format"):
        importers.detect(path)


def test_ragged_row_is_rejected_not_shifted(tmp_path):
    path = write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS + "Q1EEE,105,too few cells\n")
    result = importers.read(path, ctx())
    assert len(result.frame) == 2
    assert any(p.row == 4 and "cells like the header" in p.expected for p in result.problems)


def test_unmapped_severity_is_kept_and_reported(tmp_path):
    path = write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS.replace(",high,P1", ",high,Urgent!"))
    result = importers.read(path, ctx())
    row = result.frame.iloc[0]
    assert pd.isna(row["severity"]) and row["severity_original"] == "Urgent!"
    assert any("severity_mapping" in n for n in result.notes)


def test_engagement_severity_override_applies(tmp_path):
    from .conftest import MINIMAL, write_engagement

    root = write_engagement(tmp_path / "e", MINIMAL + "severity_mapping: {pagerduty: {P2: SEV1}}\n")
    e = load_engagement(root)
    assert store.context_for("pagerduty-csv", e).severity_map["p2"] == "SEV1"


def test_deploy_csv(tmp_path):
    path = write(tmp_path, "deploys.csv",
                 "timestamp,service,version,outcome,author\n"
                 "2026-03-06T17:40:00+01:00,api,1.2.3,rolled back,Ana\n"
                 "2026-03-06 18:00,api,1.2.4,,Ana\n"
                 "2026-03-07T10:00:00Z,api,1.2.5,exploded,Ana\n")
    assert importers.detect(path).name == "deploy-csv"
    result = importers.read(path, ctx("deploy-csv"))
    assert list(result.frame["outcome"]) == ["rolled_back", "success"]
    assert result.frame.iloc[1]["deployed_at"] == pd.Timestamp("2026-03-06T17:00:00Z")  # naive=Paris
    assert [(p.row, p.column) for p in result.problems] == [(4, "outcome")]


def big_pagerduty(path, n, bad_line=None):
    """n PagerDuty rows (over the fast-path threshold for n of a few thousand)."""
    lines = [PD_HEADER.rstrip("\n")]
    for i in range(n):
        created = pd.Timestamp("2026-03-01T00:00:00+01:00") + pd.Timedelta(minutes=7 * i)
        resolved = "" if i % 5 == 0 else (created + pd.Timedelta("1h")).isoformat()
        lines.append(f"Q{i:08d},{i},\"[svc{i % 7}] alert, {i % 50}\",PS{i % 7},svc{i % 7},PE,Eng,"
                     f"{created.isoformat()},{resolved},"
                     f"{i % 600 + 0.5},{3600 + i},false,{'high' if i % 2 else 'low'},"
                     f"{'' if i % 3 == 0 else f'P{i % 5 + 1}'}")
    if bad_line is not None:
        lines[bad_line - 1] = lines[bad_line - 1].replace("2026-", "20X6-", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_columnar_fast_path_matches_the_row_reader(tmp_path):
    from assess.importers import columnar
    from assess.importers.pagerduty import PagerDutyCsv

    path = big_pagerduty(tmp_path / "big.csv", 6000)
    assert path.stat().st_size > columnar.FAST_PATH_BYTES
    reader = PagerDutyCsv()
    fast = reader.read_fast(path, ctx())
    assert fast is not None
    rows = reader.read_rows(path, ctx())
    pd.testing.assert_frame_equal(fast.frame, rows.frame)
    assert fast.frame.iloc[5]["provenance"] == "big.csv:7"
    # resolved_on is created + 1 h but seconds_to_resolve is 3600 + i: PagerDuty's duration wins
    # and both paths name the rows where the two disagree by more than a minute: i > 60 with a
    # resolved_on (none when i % 5 == 0): 5939 - 1187 = 4752
    assert fast.frame.iloc[100]["resolved"] == fast.frame.iloc[100]["detected"] + pd.Timedelta(
        seconds=3700)
    disagree = [n for n in fast.notes if "disagrees" in n]
    assert disagree and disagree[0].startswith("4752 row(s)")
    assert [n for n in rows.notes if "disagrees" in n][0].startswith("4752 row(s)")


def test_fast_path_falls_back_so_a_bad_row_is_reported_with_its_line(tmp_path):
    from assess.importers.pagerduty import PagerDutyCsv

    path = big_pagerduty(tmp_path / "big.csv", 6000, bad_line=4321)
    assert PagerDutyCsv().read_fast(path, ctx()) is None
    result = importers.read(path, ctx())
    assert len(result.frame) == 5999
    assert [(p.row, p.column) for p in result.problems] == [(4321, "created_on")]


# --- checks on every import: window, open incidents, timeline order, many files, removal ------

WINDOW_ROWS = (  # the engagement's window: 1 Jan - 31 Mar 2026, Europe/Paris
    "Q1EEE,105,Before the window,PSV1,api,PE1,Eng,2025-12-31T22:30:00Z,"
    "2025-12-31T23:00:00Z,,,false,high,P2\n"          # 23:30 on 31 Dec in Paris
    "Q1FFF,106,After the window,PSV1,api,PE1,Eng,2026-03-31T22:30:00Z,,,,false,high,P2\n"  # 1 Apr
    "Q1GGG,107,Resolved before it began,PSV1,api,PE1,Eng,2026-03-10T10:00:00Z,"
    "2026-03-10T09:00:00Z,,,false,high,P2\n"
)


def test_import_report_counts_the_window_names_open_incidents_and_lists_times_out_of_order(
        tmp_path, engagement_dir):
    e = load_engagement(engagement_dir)
    path = write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS + WINDOW_ROWS)
    report = store.import_file(e, path)
    w = report.window
    assert (w["total"], w["inside"], w["before"], w["after"]) == (5, 3, 1, 1)
    assert report.window_sentence().startswith("3 of 5 incidents fall in 1 Jan 2026 - 31 Mar 2026")
    assert sorted(report.open_incidents) == ["pagerduty:Q1BBB: Disk full on worker",
                                             "pagerduty:Q1FFF: After the window"]
    assert report.timeline == ["pd.csv:6 (pagerduty:Q1GGG): resolved time is 60 min before detected"]
    assert any("1 pair(s) of times out of order" in q for q in report.quality())
    as_json = report.to_dict()
    assert as_json["window"]["inside"] == 3 and len(as_json["open_incidents"]) == 2
    # nothing is dropped: the out-of-order incident is imported and named
    assert "pagerduty:Q1GGG" in set(store.load_table(e, "incidents")["key"])


def test_a_file_wholly_outside_the_window_says_check_the_window(tmp_path, engagement_dir):
    e = load_engagement(engagement_dir)
    rows = "Q9AAA,1,Old,PSV1,api,PE1,Eng,2024-05-01T10:00:00Z,2024-05-01T11:00:00Z,,,false,high,P2\n"
    report, _ = store.preview_file(e, write(tmp_path, "old.csv", PD_HEADER + rows))
    assert report.window_sentence() == ("0 of 1 incidents fall in 1 Jan 2026 - 31 Mar 2026 "
                                        "(1 before, 0 after): check the window (window.end in "
                                        "engagement.yaml) or the file")


def test_many_files_each_reported_one_failure_does_not_stop_the_others(tmp_path, engagement_dir):
    from click.testing import CliRunner

    from assess.cli import main

    good1 = write(tmp_path, "a_pd.csv", PD_HEADER + PD_ROWS)
    bad = write(tmp_path, "b_notes.txt", "just some notes, not an export\n")
    later = PD_ROWS.replace("Q1AAA", "Q2AAA").replace("Q1BBB", "Q2BBB")
    good2 = write(tmp_path, "c_pd.csv", PD_HEADER + later)
    result = CliRunner().invoke(main, ["import", str(engagement_dir), str(good1), str(bad),
                                       str(good2)])
    assert result.exit_code == 1
    assert "b_notes.txt: NOT IMPORTED" in result.output
    assert "c_pd.csv: pagerduty-csv" in result.output  # read after the failure
    assert "3 file(s): 2 imported, 1 failed: b_notes.txt" in result.output
    table = store.load_table(load_engagement(engagement_dir), "incidents")
    assert len(table) == 4


def test_a_folder_of_statuspage_incident_files_imports_in_one_command(tmp_path, engagement_dir):
    import json

    from click.testing import CliRunner

    from assess.cli import main

    folder = tmp_path / "incidents"
    folder.mkdir()
    for i in range(30):
        doc = {"page": {"id": "p", "time_zone": "Etc/UTC"}, "incident": {
            "id": f"inc{i:03d}", "name": f"Incident {i}", "status": "resolved", "impact": "minor",
            "created_at": f"2026-02-{1 + i % 28:02d}T10:00:00Z",
            "resolved_at": f"2026-02-{1 + i % 28:02d}T10:{i:02d}:00Z",
            "incident_updates": [{"status": "resolved",
                                  "created_at": f"2026-02-{1 + i % 28:02d}T10:{i:02d}:00Z"}]}}
        (folder / f"{i:03d}.json").write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(engagement_dir), str(folder)])
    assert result.exit_code == 0, result.output
    assert "30 file(s): 30 imported, 0 failed" in result.output
    table = store.load_table(load_engagement(engagement_dir), "incidents")
    assert len(table) == 30 and table["resolved"].notna().all()


def test_remove_takes_an_export_out_and_keeps_the_record(tmp_path, engagement_dir):
    from click.testing import CliRunner

    from assess.cli import main

    e = load_engagement(engagement_dir)
    store.import_file(e, write(tmp_path, "pd.csv", PD_HEADER + PD_ROWS))
    store.import_file(e, write(tmp_path, "jira.csv", JIRA))
    assert len(store.load_table(e, "incidents")) == 4
    result = CliRunner().invoke(main, ["import", str(engagement_dir), "--remove", "pd.csv"])
    assert result.exit_code == 0, result.output
    assert "incidents/pd.csv: removed" in result.output
    assert not (engagement_dir / "incidents" / "pd.csv").exists()
    keys = set(store.load_table(e, "incidents")["key"])
    assert keys == {"jira:INC-7", "jira:INC-8"}
    every = store.read_manifest(e, include_removed=True)
    assert [x["file"] for x in every if x.get("removed")] == ["incidents/pd.csv"]
    assert [x["file"] for x in store.read_manifest(e)] == ["incidents/jira.csv"]
    # the same export can come back later
    again = store.import_file(e, tmp_path / "pd.csv")
    assert not again.already_imported and again.new == 2
    unknown = CliRunner().invoke(main, ["import", str(engagement_dir), "--remove", "nope.csv"])
    assert unknown.exit_code == 1 and "no imported file 'nope.csv'" in unknown.output


def test_jira_incident_types_come_from_the_engagement(tmp_path, engagement_dir):
    yaml_path = engagement_dir / "engagement.yaml"
    yaml_path.write_text(yaml_path.read_text() + "jira_incident_types: [Bug]\n")
    text = JIRA.replace(",Incident,Done,High,", ",Bug,Done,High,")
    report, frame = store.preview_file(load_engagement(engagement_dir),
                                       write(tmp_path, "jira.csv", text))
    assert list(frame["key"]) == ["jira:INC-7"]
    assert any("1 row(s) skipped as not incidents by Issue Type: Incident 1" in n
               for n in report.notes)
    yaml_path.write_text(yaml_path.read_text().replace("[Bug]", "Bug"))
    with pytest.raises(Exception, match="jira_incident_types"):
        store.preview_file(load_engagement(engagement_dir), write(tmp_path, "jira.csv", text))
