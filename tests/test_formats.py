"""Every export format reads as the tool writes it, and detection picks it from the content.

Each sample below follows the public documentation named in its test (field names, nesting and
timestamp styles as documented); the real files in ../shared/realdata are read as they are.
"""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from assess import importers, store
from assess.engagement import load_engagement
from assess.importers.base import ImportError_, ReadContext
from assess.mappings import severity_map

from .conftest import realdata


def read(tmp_path, name, text, fmt=None, **ctx_options):
    path = tmp_path / name
    path.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
    reader = importers.detect(path) if fmt is None else importers.READERS[fmt]
    ctx = ReadContext(timezone="Europe/Paris", severity_map=severity_map(reader.name, None),
                      **ctx_options)
    return reader.name, reader.read(path, ctx)


def ts(text):
    return pd.Timestamp(text)


def test_pagerduty_rest_json(tmp_path):
    # developer.pagerduty.com, REST API v2 "List incidents" response
    payload = {"incidents": [{
        "id": "PT4KHLK", "type": "incident", "incident_number": 1234, "title": "The server is on fire.",
        "created_at": "2026-03-02T10:00:00+01:00", "status": "resolved", "urgency": "high",
        "priority": {"id": "P53ZZH5", "type": "priority_reference", "summary": "P2"},
        "service": {"id": "PIJ90N7", "type": "service_reference", "summary": "checkout"},
        "escalation_policy": {"id": "PT20YPA", "summary": "Eng"},
        "acknowledgements": [{"at": "2026-03-02T09:07:00Z"}, {"at": "2026-03-02T09:04:00Z"}],
        "last_status_change_at": "2026-03-02T10:00:00Z"}], "limit": 25, "offset": 0, "more": False}
    name, r = read(tmp_path, "pd.json", payload)
    assert name == "pagerduty-json" and not r.problems
    row = r.frame.iloc[0]
    assert row["key"] == "pagerduty:PT4KHLK" and row["severity"] == "SEV2"
    assert row["service"] == "checkout"
    assert row["acknowledged"] == ts("2026-03-02T09:04:00Z")  # the first acknowledgement
    assert row["resolved"] == ts("2026-03-02T10:00:00Z")  # last status change of a resolved one


def test_pagerduty_analytics_json_shares_keys_with_the_csv(tmp_path):
    # developer.pagerduty.com, Analytics "Get raw data - multiple incidents"
    payload = {"data": [{"id": "Q1AAA", "description": "DB pool exhausted",
                         "created_at": "2026-03-02T09:00:00Z", "resolved_at": None,
                         "seconds_to_first_ack": 300, "seconds_to_resolve": 5400,
                         "service_name": "api", "urgency": "high", "priority_name": "P1"}],
               "first": "2026-03-01T00:00:00Z", "more": False}
    name, r = read(tmp_path, "analytics.json", payload)
    assert name == "pagerduty-json"
    row = r.frame.iloc[0]
    assert row["key"] == "pagerduty:Q1AAA"  # the CSV download uses the same id
    assert row["acknowledged"] == ts("2026-03-02T09:05:00Z")
    assert row["resolved"] == ts("2026-03-02T10:30:00Z")
    assert row["severity"] == "SEV1"


def test_opsgenie_alerts_with_epoch_milliseconds(tmp_path):
    # docs.opsgenie.com Alert API "List alerts": report.ackTime/closeTime in ms after creation;
    # createdAt in epoch milliseconds as some exports and webhooks send it
    payload = {"data": [
        {"id": "70413a06-38d6-4c85-92b8-5ebc900d42e2", "tinyId": "1791", "alias": "event_573",
         "message": "Our servers are in danger", "status": "closed", "acknowledged": True,
         "createdAt": 1772442000000, "priority": "P1", "tags": ["service:api", "OverwriteQuietHours"],
         "report": {"ackTime": 15702, "closeTime": 60503, "acknowledgedBy": "a@b.c"}},
        {"id": "abc", "tinyId": "1792", "message": "Queue lag", "status": "open",
         "acknowledged": False, "createdAt": "2026-03-02T10:00:00.000Z", "priority": "P4",
         "entity": "worker", "report": {}},
    ], "took": 0.605, "requestId": "9ae63dd7"}
    name, r = read(tmp_path, "og.json", payload)
    assert name == "opsgenie-json" and not r.problems
    a, b = r.frame.iloc[0], r.frame.iloc[1]
    assert a["detected"] == ts("2026-03-02T09:00:00Z")
    assert a["acknowledged"] == ts("2026-03-02T09:00:15.702Z")
    assert a["resolved"] == ts("2026-03-02T09:01:00.503Z")
    assert a["service"] == "api" and a["severity"] == "SEV1" and a["detection_source"] == "alert"
    assert b["service"] == "worker" and pd.isna(b["resolved"]) and b["severity"] == "SEV4"


def test_statuspage_incidents_json_with_page_offsets(tmp_path):
    # developer.statuspage.io public API /api/v2/incidents.json (timestamps in the page's offset)
    payload = {"page": {"id": "4lzycl8t1x0c", "name": "Emma", "time_zone": "America/Chicago"},
               "incidents": [{
                   "id": "x0ljvc9m1wxj", "name": "Intermittent sending trouble", "status": "resolved",
                   "created_at": "2019-02-20T12:00:19.418-06:00", "started_at": "2019-02-20T11:50:00-06:00",
                   "monitoring_at": "2019-02-20T13:11:24.478-06:00",
                   "resolved_at": "2019-02-20T13:40:58.572-06:00", "impact": "critical",
                   "shortlink": "http://stspg.io/7a0d3a4d2",
                   "incident_updates": [
                       {"status": "resolved", "created_at": "2019-02-20T13:40:58.572-06:00"},
                       {"status": "identified", "created_at": "2019-02-20T12:32:43.413-06:00"}],
                   "components": [{"name": "Sending"}]}]}
    name, r = read(tmp_path, "incidents.json", payload)
    assert name == "statuspage-json"
    row = r.frame.iloc[0]
    assert row["impact_start"] == ts("2019-02-20T17:50:00Z")
    assert row["detected"] == ts("2019-02-20T18:00:19.418Z")
    assert row["acknowledged"] == ts("2019-02-20T18:32:43.413Z")
    assert row["mitigated"] == ts("2019-02-20T19:11:24.478Z")
    assert row["severity"] == "SEV1" and row["impact"] == "outage" and row["service"] == "Sending"
    assert any("America/Chicago" in n for n in r.notes)


def update(month_day: str, clock: str, status: str, text: str) -> str:
    """One update as Statuspage writes it in a feed body, HTML-escaped as in the XML."""
    month, day = month_day.split()
    body = (f"<p><small>{month} <var data-var='date'>{day}</var>, <var data-var='time'>{clock}"
            f"</var> UTC</small><br><strong>{status}</strong> - {text}</p>")
    return body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ATOM = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">
  <id>tag:status.example.com,2005:/history</id>
  <title>Example Status - Incident History</title>
  <updated>2026-02-18T11:30:00Z</updated>
  <entry>
    <id>tag:status.example.com,2005:Incident/28160321</id>
    <published>2026-02-18T10:57:38Z</published>
    <updated>2026-02-18T11:30:00Z</updated>
    <link rel="alternate" type="text/html" href="https://status.example.com/incidents/2ncm1y5j4vs2"/>
    <title>Groups are not clickable</title>
    <content type="html">{update("Feb 18", "11:30", "Resolved", "Fixed.")}{
        update("Feb 18", "11:05", "Monitoring", "A fix is live.")}{
        update("Feb 18", "10:57", "Investigating", "Looking.")}</content>
  </entry>
</feed>
"""


def test_statuspage_atom_history_feed(tmp_path):
    # a Statuspage /history.atom feed: one entry per incident, updates listed in the HTML body
    name, r = read(tmp_path, "history.atom", ATOM)
    assert name == "statuspage-feed" and not r.problems
    row = r.frame.iloc[0]
    assert row["key"] == "statuspage:2ncm1y5j4vs2"  # the same key as the JSON API's incident
    assert row["detected"] == ts("2026-02-18T10:57:00Z")
    assert row["mitigated"] == ts("2026-02-18T11:05:00Z")
    assert row["resolved"] == ts("2026-02-18T11:30:00Z")


def test_statuspage_rss_feed_and_entity_declarations_refused(tmp_path):
    rss = ("<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item>"
           "<title>API errors</title><pubDate>Tue, 17 Feb 2026 09:00:00 +0000</pubDate>"
           "<link>https://status.example.com/incidents/abc123</link><guid>https://status.example.com/incidents/abc123</guid>"
           f"<description>{update('Feb 17', '09:00', 'Investigating', 'x')}</description>"
           "</item></channel></rss>")
    name, r = read(tmp_path, "history.rss", rss)
    assert name == "statuspage-feed"
    assert r.frame.iloc[0]["key"] == "statuspage:abc123" and r.frame.iloc[0]["status"] == "investigating"
    bomb = ("<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>"
            "<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>&b;</title></entry></feed>")
    with pytest.raises(ImportError_, match="DOCTYPE or entities"):
        read(tmp_path, "evil.atom", bomb)


def test_incidentio_v2_timestamps_and_skips(tmp_path):
    # api-docs.incident.io "List Incidents V2": incident_timestamp_values by timestamp name
    def tsv(name, value):
        return {"incident_timestamp": {"id": name, "name": name, "rank": 1}, "value": {"value": value}}

    payload = {"incidents": [
        {"id": "01FDAG4SAP5TYPT98WGR2N7W91", "reference": "INC-123", "name": "Checkout errors",
         "mode": "standard", "created_at": "2026-03-02T09:10:00Z",
         "severity": {"name": "Critical", "rank": 1},
         "incident_status": {"name": "Closed", "category": "closed"},
         "incident_timestamp_values": [tsv("Impact started", "2026-03-02T09:00:00Z"),
                                       tsv("Reported", "2026-03-02T09:05:00Z"),
                                       tsv("Accepted", "2026-03-02T09:06:00Z"),
                                       tsv("Fixed", "2026-03-02T09:40:00Z"),
                                       tsv("Resolved", "2026-03-02T10:00:00Z")],
         "custom_field_entries": [
             {"custom_field": {"name": "Affected services"},
              "values": [{"value_catalog_entry": {"name": "payments"}}]},
             {"custom_field": {"name": "Customers affected"}, "values": [{"value_numeric": "1200"}]}],
         "postmortem_document_url": "https://docs.example.com/pm/123"},
        {"id": "T1", "reference": "INC-124", "name": "Drill", "mode": "test",
         "created_at": "2026-03-03T09:10:00Z", "incident_status": {"category": "closed"}},
        {"id": "D1", "reference": "INC-125", "name": "Dup", "mode": "standard",
         "created_at": "2026-03-03T09:10:00Z", "incident_status": {"category": "merged"}},
    ], "pagination_meta": {"page_size": 25}}
    name, r = read(tmp_path, "incidentio.json", payload)
    assert name == "incidentio-json" and r.rows_read == 3 and len(r.frame) == 1
    assert any("2 record(s) skipped" in n for n in r.notes)  # counted, never silently dropped
    row = r.frame.iloc[0]
    assert row["impact_start"] == ts("2026-03-02T09:00:00Z")
    assert row["detected"] == ts("2026-03-02T09:05:00Z")
    assert row["mitigated"] == ts("2026-03-02T09:40:00Z")
    assert row["severity"] == "SEV1" and row["service"] == "payments"
    assert row["customers_affected"] == 1200


def test_firehydrant_json_milestones_and_csv(tmp_path):
    # docs.firehydrant.com API "List incidents": milestones[{type, occurred_at}]
    payload = {"data": [{
        "id": "f6a1", "name": "Login failures", "number": 42, "severity": "SEV2",
        "started_at": "2026-03-02T08:55:00Z", "current_milestone": "resolved",
        "milestones": [{"type": "started", "occurred_at": "2026-03-02T09:00:00Z"},
                       {"type": "detected", "occurred_at": "2026-03-02T09:02:00Z"},
                       {"type": "acknowledged", "occurred_at": "2026-03-02T09:03:00Z"},
                       {"type": "first_action", "occurred_at": "2026-03-02T09:10:00Z"},
                       {"type": "mitigated", "occurred_at": "2026-03-02T09:30:00Z"},
                       {"type": "resolved", "occurred_at": "2026-03-02T10:00:00Z"}],
        "services": [{"name": "auth"}], "customers_impacted": 40}], "pagination": {"count": 1}}
    name, r = read(tmp_path, "fh.json", payload)
    assert name == "firehydrant-json"
    row = r.frame.iloc[0]
    assert row["impact_start"] == ts("2026-03-02T09:00:00Z")  # the milestone wins
    assert row["mitigation_started"] == ts("2026-03-02T09:10:00Z")
    assert row["severity"] == "SEV2" and row["service"] == "auth" and row["customers_affected"] == 40
    csv = ("id,name,number,severity,started_at,detected_at,acknowledged_at,first_action_at,"
           "mitigated_at,resolved_at,services,customers_impacted\n"
           "f6a1,Login failures,42,SEV2,2026-03-02T09:00:00Z,2026-03-02T09:02:00Z,,"
           "2026-03-02T09:10:00Z,2026-03-02T09:30:00Z,2026-03-02T10:00:00Z,\"auth, web\",forty\n")
    name, r = read(tmp_path, "fh.csv", csv)
    assert name == "firehydrant-csv"
    assert [str(p) for p in r.problems] == [
        "fh.csv, row 2, column 'customers_impacted': expected a whole number (got 'forty')"]


def test_rootly_jsonapi(tmp_path):
    # docs.rootly.com API "List incidents" (JSON:API: data[].attributes)
    payload = {"data": [{"id": "d1", "type": "incidents", "attributes": {
        "title": "Elevated 500s", "sequential_id": 7, "kind": "normal", "status": "resolved",
        "started_at": "2026-03-02T09:00:00Z", "detected_at": "2026-03-02T09:04:00Z",
        "acknowledged_at": "2026-03-02T09:06:00Z", "mitigated_at": "2026-03-02T09:20:00Z",
        "resolved_at": "2026-03-02T09:50:00Z",
        "severity": {"data": {"id": "s", "type": "severities",
                              "attributes": {"name": "SEV0", "severity": "critical"}}},
        "services": {"data": [{"id": "x", "type": "services", "attributes": {"name": "api"}}]}}},
        {"id": "d2", "type": "incidents", "attributes": {"title": "Test", "kind": "test",
                                                          "started_at": "2026-03-02T09:00:00Z"}}],
        "meta": {"total_count": 2}}
    name, r = read(tmp_path, "rootly.json", payload)
    assert name == "rootly-json" and len(r.frame) == 1
    row = r.frame.iloc[0]
    assert row["severity"] == "SEV1" and row["service"] == "api"
    assert row["detected"] == ts("2026-03-02T09:04:00Z") and row["mitigated"] == ts("2026-03-02T09:20:00Z")


def test_grafana_oncall_alert_groups(tmp_path):
    # grafana.com/docs/oncall "Alert groups HTTP API": results[]
    payload = {"count": 1, "next": None, "previous": None, "results": [{
        "id": "I68T24C13IFW1", "integration_id": "CFRPV98RPR1U8", "route_id": "RIYGUJXCPFHXY",
        "alerts_count": 3, "state": "resolved", "created_at": "2020-05-19T12:37:01.430444Z",
        "resolved_at": "2020-05-19T13:37:01.429805Z", "acknowledged_at": None,
        "title": "Memory above 90% threshold",
        "labels": [{"key": {"name": "severity"}, "value": {"name": "critical"}}]}]}
    name, r = read(tmp_path, "oncall.json", payload)
    assert name == "grafana-oncall-json"
    row = r.frame.iloc[0]
    assert row["severity"] == "SEV1" and pd.isna(row["acknowledged"])
    assert row["resolved"] == ts("2020-05-19T13:37:01.429805Z")


def test_github_issues_only_incident_labelled(tmp_path):
    # docs.github.com REST "List repository issues"
    def issue(number, labels, closed=None, pr=False):
        d = {"url": f"https://api.github.com/repos/acme/ops/issues/{number}",
             "repository_url": "https://api.github.com/repos/acme/ops",
             "html_url": f"https://github.com/acme/ops/issues/{number}", "number": number,
             "title": f"Issue {number}", "state": "closed" if closed else "open",
             "labels": [{"name": n} for n in labels], "created_at": "2026-03-02T09:00:00Z",
             "closed_at": closed}
        if pr:
            d["pull_request"] = {"url": "x"}
        return d

    payload = [issue(1, ["incident", "sev2", "service:api"], "2026-03-02T11:00:00Z"),
               issue(2, ["bug"]), issue(3, ["incident"], pr=True),
               issue(4, ["Incident", "customer-reported"])]
    name, r = read(tmp_path, "issues.json", payload)
    assert name == "github-issues-json"
    assert list(r.frame["key"]) == ["github:acme/ops#1", "github:acme/ops#4"]
    assert r.frame.iloc[0]["severity"] == "SEV2" and r.frame.iloc[0]["service"] == "api"
    assert r.frame.iloc[1]["detection_source"] == "customer"
    assert any("2 record(s) skipped" in n for n in r.notes)


def test_gcp_realdata_reads_every_incident():
    path = realdata("gcp_incidents_2023-03-09.json")
    reader = importers.detect(path)
    assert reader.name == "gcp-json"
    r = reader.read(path, ReadContext(severity_map=severity_map(reader.name, None)))
    raw = json.loads(path.read_text())
    assert r.rows_read == len(raw) == len(r.frame) and not r.problems
    assert r.frame["key"].is_unique
    counts = r.frame["severity"].value_counts().to_dict()
    raw_counts = pd.Series([i["severity"] for i in raw]).map(
        {"high": "SEV1", "medium": "SEV2", "low": "SEV3"}).value_counts().to_dict()
    assert counts == raw_counts
    first = raw[2]
    row = r.frame.set_index("external_id").loc[first["id"]]
    assert row["impact_start"] == pd.Timestamp(first["begin"])
    assert row["resolved"] == pd.Timestamp(first["end"])
    assert (r.frame["impact"] == "outage").sum() == sum(
        i["status_impact"] == "SERVICE_OUTAGE" for i in raw)
    assert (r.frame["status"] == "open").sum() == sum(not i.get("end") for i in raw)


def test_servicenow_realdata_keeps_latest_state_per_number():
    path = realdata("servicenow_incident_event_log_subset.csv")
    reader = importers.detect(path)
    assert reader.name == "servicenow-csv"
    r = reader.read(path, ReadContext(timezone="UTC", severity_map=severity_map(reader.name, None)))
    raw = pd.read_csv(path, dtype=str)
    assert r.rows_read == len(raw)
    assert len(r.frame) == raw["number"].nunique() and r.frame["key"].is_unique
    assert not r.problems
    assert any("day/month/year" in n for n in r.notes)
    # INC0000045: opened 29-02-2016 01:16, latest row resolved 29-02-2016 11:29
    row = r.frame.set_index("external_id").loc["INC0000045"]
    assert row["detected"] == pd.Timestamp("2016-02-29T01:16:00Z")
    assert row["resolved"] == pd.Timestamp("2016-02-29T11:29:00Z")
    latest = raw[raw["number"] == "INC0000045"].iloc[-1]
    assert row["status"] == latest["incident_state"].lower()
    assert row["severity"] == {"1": "SEV1", "2": "SEV2", "3": "SEV3", "4": "SEV4"}[latest["priority"][0]]


def test_statuspage_realdata_summary():
    path = realdata("atlassian_jira_summary_snapshot_raw.json")
    reader = importers.detect(path)
    assert reader.name == "statuspage-json"
    r = reader.read(path, ReadContext(severity_map=severity_map(reader.name, None)))
    raw = json.loads(path.read_text())["incidents"]
    assert len(r.frame) == len(raw) and not r.problems
    assert list(r.frame["external_id"]) == [i["id"] for i in raw]
    impacts = {"minor": "SEV3", "major": "SEV2", "critical": "SEV1", "none": "SEV4"}
    assert list(r.frame["severity"]) == [impacts[i["impact"]] for i in raw]
    assert r.frame["resolved"].isna().all()  # both were still open in the snapshot


def test_realdata_imports_through_the_cli_store_and_reimport_adds_nothing(engagement_dir):
    engagement = load_engagement(engagement_dir)
    path = realdata("servicenow_incident_event_log_subset.csv")
    first = store.import_file(engagement, path)
    again = store.import_file(engagement, path)
    assert first.new == 890 and again.new == 0 and again.unchanged == 890
    assert len(store.load_table(engagement, "incidents")) == 890


# --- generic CSV / XLSX ----------------------------------------------------------------------

GENERIC = ("Ref;Subject;Opened on;Closed on;Prio;System\n"
           "T-1;Checkout down;03/04/2026 10:00;03/04/2026 11:00;Critical;shop\n"
           "T-2;Slow search;13/04/2026 09:00;;Medium;search\n")


def test_generic_csv_needs_a_mapping_then_remembers_it(tmp_path, engagement_dir):
    engagement = load_engagement(engagement_dir)
    path = tmp_path / "tracker.csv"
    path.write_text(GENERIC, encoding="utf-8")
    with pytest.raises(ImportError_, match="generic-csv"):
        store.import_file(engagement, path)
    report = store.import_file(engagement, path, options={"column_map": {
        "external_id": "Ref", "title": "Subject", "detected": "Opened on"}})
    assert report.format == "generic-csv" and report.imported == 2 and not report.rejected
    table = store.load_table(engagement, "incidents").set_index("external_id")
    # 13/04 settles the file as day-first: 03/04 is the 3rd of April, in Paris (UTC+2)
    assert table.loc["T-1", "detected"] == pd.Timestamp("2026-04-03T08:00:00Z")
    assert table.loc["T-1", "resolved"] == pd.Timestamp("2026-04-03T09:00:00Z")  # "Closed on"
    assert table.loc["T-1", "severity"] == "SEV1" and table.loc["T-1", "service"] == "shop"
    # the next export of the same shape needs no mapping
    later = tmp_path / "tracker-april.csv"
    later.write_text(GENERIC.replace("T-2;Slow search", "T-3;Slow search"), encoding="utf-8")
    report = store.import_file(engagement, later)
    assert report.format == "generic-csv" and report.new == 1 and report.unchanged == 1


def test_ambiguous_dates_stop_the_import_unless_the_order_is_given(tmp_path, engagement_dir):
    engagement = load_engagement(engagement_dir)
    path = tmp_path / "ambiguous.csv"
    path.write_text("title,detected\nA,03/04/2026 10:00\nB,05/06/2026 10:00\n", encoding="utf-8")
    with pytest.raises(ImportError_, match="day/month or month/day.*--date-order"):
        store.import_file(engagement, path, fmt="generic-csv")
    assert store.read_manifest(engagement) == []  # nothing imported
    report = store.import_file(engagement, path, fmt="generic-csv", options={"date_order": "mdy"})
    assert report.imported == 2
    table = store.load_table(engagement, "incidents")  # re-read with the recorded order
    assert sorted(table["detected"]) == [pd.Timestamp("2026-03-04T09:00:00Z"),
                                         pd.Timestamp("2026-05-06T08:00:00Z")]


def test_contradictory_dates_are_refused(tmp_path):
    with pytest.raises(ImportError_, match="both day-first"):
        read(tmp_path, "x.csv", "title,detected\nA,13/04/2026\nB,04/13/2026\n", fmt="generic-csv")


def test_xlsx_with_mapping_and_zip_bomb_refused(tmp_path, engagement_dir):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Incident", "Started", "Sev", "Code"])
    ws.append(["DB failover", pd.Timestamp("2026-03-05 14:00").to_pydatetime(), "P2", "007"])
    ws.append(["Cert expired", "not a date", "P1", "008"])
    path = tmp_path / "incidents.xlsx"
    wb.save(path)
    engagement = load_engagement(engagement_dir)
    report = store.import_file(engagement, path, options={"column_map": {"external_id": "Code"}})
    assert report.format == "generic-xlsx" and report.imported == 1
    assert [str(p) for p in report.rejected] == [
        "incidents.xlsx, row 3, column 'Started': expected a timestamp (an ISO 8601 date such as "
        "2025-12-31 14:05) (got 'not a date')"]
    row = store.load_table(engagement, "incidents").iloc[0]
    assert row["external_id"] == "007"  # stays text
    assert row["impact_start"] == pd.Timestamp("2026-03-05T13:00:00Z")  # Paris wall clock
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(ImportError_, match="zip bomb"):
        store.import_file(engagement, bomb, options={"column_map": {"title": "x"}})


# --- deploy logs -------------------------------------------------------------------------------

def test_git_log_tab_format_and_reverts(tmp_path):
    log = ("a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2\t2026-03-02T17:42:00+01:00\tAna\tAdd retries\n"
           "b1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2\t2026-03-02T18:10:00+01:00\tAna\t"
           "Revert \"Add retries\"\n"
           "c1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2\tyesterday\tBo\tBroken line\n")
    name, r = read(tmp_path, "api.gitlog", log)
    assert name == "git-log"
    assert list(r.frame["outcome"]) == ["rolled_back", "success"]
    assert set(r.frame["service"]) == {"api"}
    assert r.frame.iloc[0]["deployed_at"] == ts("2026-03-02T16:42:00Z")
    assert [p.row for p in r.problems] == [3]


def test_git_log_default_format_with_service(tmp_path):
    log = ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nAuthor: Ana Silva <ana@example.com>\n"
           "Date:   Thu Mar 5 17:42:00 2026 +0100\n\n    Bump pool size\n\n"
           "commit 8fceb02d0ae598e95dc970b74767f19372d61af8\nMerge: 1 2\n"
           "Author: Bo <bo@example.com>\nDate:   Wed Mar 4 09:00:00 2026 +0100\n\n    Merge #12\n")
    name, r = read(tmp_path, "log.txt", log, service="billing")
    assert name == "git-log"
    assert list(r.frame["service"]) == ["billing", "billing"]
    assert r.frame.iloc[0]["deployed_at"] == ts("2026-03-05T16:42:00Z")
    assert r.frame.iloc[1]["author"] == "Bo"


def test_malformed_json_names_line_and_column(tmp_path):
    with pytest.raises(ImportError_, match=r"line 2, column \d+: not valid JSON"):
        read(tmp_path, "broken.json", '{"incidents": [\n {"id": 1,, }]}', fmt="statuspage-json")


def test_json_record_problems_name_record_and_field(tmp_path):
    payload = {"data": [{"id": "a", "tinyId": "1", "message": "ok", "createdAt": "2026-03-02T09:00:00Z"},
                        {"id": "b", "tinyId": "2", "message": "bad", "createdAt": "last tuesday"}]}
    _, r = read(tmp_path, "og.json", payload)
    assert len(r.frame) == 1
    assert str(r.problems[0]).startswith("og.json, record 2, field 'createdAt': expected a timestamp")


# --- every JSON shape a client hands over ------------------------------------------------------

ENVELOPES = [  # (corpus or real file, the envelope key that holds the records)
    ("exports/firehydrant-json/list_incidents.json", "data"),
    ("exports/rootly-json/list_incidents.json", "data"),
    ("exports/opsgenie-json/alerts_envelope.json", "data"),
    ("exports/pagerduty-json/rest_pages_appended.json", "incidents"),
    ("realdata:grafana_oncall_alertgroups_doc_example.json", "results"),
    ("realdata:incidentio_openapi_v2_incidents_example.json", "incidents"),
    ("realdata:emma_statuspage_incidents.json", "incidents"),
    ("realdata:pagerduty_api_incidents_example.json", "incidents"),
]


def _shapes(envelopes: list[dict], key: str) -> dict[str, str]:
    """The same records as a bare list, slurped pages, appended pages and JSON Lines."""
    records = [r for env in envelopes for r in env[key]]
    half = max(1, len(records) // 2)
    first = {**envelopes[0], key: records[:half]}
    second = {**envelopes[0], key: records[half:]}
    return {
        "bare list": json.dumps(records, indent=1),
        "slurped pages": json.dumps([first, second]),
        "appended pages": json.dumps(first, indent=2) + "\n" + json.dumps(second, indent=2),
        "JSON Lines": "\n".join(json.dumps(r) for r in records) + "\n",
    }


@pytest.mark.parametrize(("source", "key"), ENVELOPES, ids=[s.split("/")[-1] for s, _ in ENVELOPES])
def test_every_json_shape_reads_like_the_envelope(tmp_path, source, key):
    from pathlib import Path

    from assess.importers.jsonapi import load_json

    path = (realdata(source.split(":", 1)[1]) if source.startswith("realdata:")
            else Path(__file__).parent / source)
    reader = importers.detect(path)
    ctx = ReadContext(timezone="UTC", severity_map=severity_map(reader.name, None))
    want = reader.read(path, ctx).frame.drop(columns="provenance")
    envelopes = [d for d in load_json(path).documents if isinstance(d, dict)]
    for shape, text in _shapes(envelopes, key).items():
        variant = tmp_path / f"{shape.replace(' ', '_')}.json"
        variant.write_text(text, encoding="utf-8")
        found = importers.detect(variant)
        assert found.name == reader.name, f"{shape}: detected as {found.name}"
        got = found.read(variant, ctx)
        pd.testing.assert_frame_equal(got.frame.drop(columns="provenance"), want,
                                      obj=f"{shape} of {path.name}")


def test_unreadable_shapes_say_what_was_found(tmp_path):
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([{"incidents": [], "more": False}, {"id": "x"}]))
    with pytest.raises(ImportError_, match="a list mixing pages \\(1\\) and other items \\(1\\)"):
        importers.READERS["pagerduty-json"].read(mixed, ReadContext())
    numbers = tmp_path / "numbers.json"
    numbers.write_text("[1, 2]\n[3]\n")
    with pytest.raises(ImportError_, match="two JSON documents one after the other, with no "
                                           "records"):
        importers.READERS["opsgenie-json"].read(numbers, ReadContext())
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"status": "ok", "count": 0}))
    with pytest.raises(ImportError_, match="one JSON object with keys status, count, and no list"):
        importers.READERS["grafana-oncall-json"].read(one, ReadContext())
