"""Regenerate sample_engagement/: a synthetic but coherent 90-day engagement (seeded, repeatable).

The client, Brightloop, is a B2B SaaS (invoicing automation for small businesses) with about 15
engineers. Its story, as the consultant will find it:
- the API's database connection pool saturates under peak load, again and again (7 incidents), and
  the postmortem action "alert on pool saturation" never got an owner;
- bad deploys late on Fridays, most rolled back, one taking invoicing down;
- the TLS certificate of the public API expired on a Sunday night and customers noticed first;
- the payment provider (Stripe) had an outage and billing had no fallback;
- customers report problems that monitoring misses (exports, webhooks, stale dashboards);
- ingest workers fill their disks with logs every four weeks;
- postmortems are late or missing, and many action items have no owner or due date.

Run: python scripts/generate_sample.py [OUT_DIR]   (default: sample_engagement/)
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
import shutil
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Europe/Paris")
END = dt.date(2026, 10, 31)
START = END - dt.timedelta(days=89)
SEED = 20261031

SERVICES = ["api", "web-app", "billing", "ingest-worker", "auth", "notifications", "search"]
PEOPLE = ["Marc Olsen", "Priya Raman", "Tom Becker", "Lea Fischer", "Sam Okafor", "Ines Moreau",
          "Jonas Weber", "Chloe Martin"]


def local(d: dt.date, h: int, m: int) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, h, m, tzinfo=TZ)


def fridays() -> list[dt.date]:
    d = START + dt.timedelta(days=(4 - START.weekday()) % 7)
    out = []
    while d <= END:
        out.append(d)
        d += dt.timedelta(days=14)
    return out


class Story:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.incidents: list[dict] = []
        self.deploys: list[dict] = []

    def add(self, **kw) -> dict:
        kw.setdefault("customers", None)
        kw.setdefault("tickets", None)
        kw.setdefault("impact", None)
        kw.setdefault("root_cause", None)
        kw.setdefault("pm", None)
        # minutes from the impact start: detected < mitigation started < mitigated < resolved
        order = [kw["ttd"], kw["ttd"] + kw["ttms"] if kw.get("ttms") else None, kw.get("ttm"),
                 kw["ttr"]]
        known = [v for v in order if v is not None]
        if known != sorted(known):
            raise ValueError(f"timeline out of order for {kw['title']!r}: {order}")
        self.incidents.append(kw)
        return kw

    # -- the story lines --------------------------------------------------------------------

    def pool_saturation(self) -> None:
        plan = [((8, 11), "SEV2", (10, 12), 38), ((8, 27), "SEV2", (11, 5), 52),
                ((9, 9), "SEV1", (18, 42), 47), ((9, 24), "SEV2", (10, 31), 41),
                ((10, 6), "SEV1", (18, 15), 64), ((10, 15), "SEV2", (11, 48), 35),
                ((10, 28), "SEV1", (18, 37), 58)]
        titles = ["[api] High 5xx error rate - database connection pool exhausted",
                  "[api] 5xx error rate above 5% - DB connection pool exhausted",
                  "[api] p95 latency > 2s, database connection pool saturated"]
        for i, ((mo, day), sev, (h, m), ttr) in enumerate(plan):
            start = local(dt.date(2026, mo, day), h, m)
            ttd, ttms = self.rng.randint(3, 7), self.rng.randint(8, 14)
            self.add(source="pagerduty", title=titles[i % 3], service="api", severity=sev,
                     start=start, ttd=ttd, tta=self.rng.randint(4, 14),
                     ttms=ttms, ttm=max(ttr - self.rng.randint(8, 15), ttd + ttms + 5), ttr=ttr,
                     detection="alert", impact="outage" if sev == "SEV1" else "partial",
                     root_cause="db-connection-pool",
                     customers=self.rng.randint(60, 240), tickets=self.rng.randint(8, 40),
                     pm={"held": i in (0, 2, 4), "delay_h": [30, 0, 96, 0, 120, 0, 0][i],
                         "actions": [("Add DB connection pool saturation alert", None, None),
                                     ("Raise pool size and add PgBouncer", "Priya Raman", 14),
                                     ("Load test the invoice export endpoint", None, 30)]})

    def friday_deploys(self) -> None:
        services = ["web-app", "billing", "api", "ingest-worker", "web-app", "billing", "api"]
        sevs = ["SEV2", "SEV1", "SEV2", "SEV3", "SEV2", "SEV2", "SEV3"]
        what = {"web-app": "Checkout page errors after release",
                "billing": "Invoice generation failing after release",
                "api": "API 500s on /v2/invoices after release",
                "ingest-worker": "Bank feed sync jobs crashing after release"}
        for i, day in enumerate(fridays()[: len(services)]):
            svc, sev = services[i], sevs[i]
            deploy_at = local(day, 17, self.rng.randint(5, 50))
            version = f"2026.{day.month:02d}.{day.day:02d}-{self.rng.randint(2, 6)}"
            self.deploys.append({"at": deploy_at, "service": svc, "version": version,
                                 "outcome": "rolled_back" if i != 3 else "success",
                                 "author": self.rng.choice(PEOPLE)})
            start = deploy_at + dt.timedelta(minutes=self.rng.randint(4, 30))
            customer = i in (1, 4)
            ttd = self.rng.randint(25, 70) if customer else self.rng.randint(2, 9)
            ttms = self.rng.randint(20, 45)
            ttm = ttd + ttms + self.rng.randint(15, 50)
            self.add(source="jira" if customer else "pagerduty",
                     title=f"{what[svc]} {version}", service=svc, severity=sev, start=start,
                     ttd=ttd, tta=self.rng.randint(5, 25), ttms=ttms,
                     ttm=ttm, ttr=ttm + self.rng.randint(55, 165),
                     detection="customer" if customer else "alert",
                     impact="outage" if sev == "SEV1" else "partial", root_cause="bad-deploy",
                     customers=self.rng.randint(20, 400), tickets=self.rng.randint(3, 25),
                     pm={"held": i % 2 == 1, "delay_h": 80 + 10 * i,
                         "actions": [("Add smoke tests to the deploy pipeline", "Tom Becker", 21),
                                     ("Freeze deploys after 16:00 on Fridays", None, None),
                                     ("Automatic rollback on error-rate alert", None, 45)]})

    def certificate(self) -> None:
        start = local(dt.date(2026, 9, 13), 2, 0)
        self.add(source="jira", title="api.brightloop.io unreachable: TLS certificate expired",
                 service="auth", severity="SEV1", start=start, ttd=355, tta=18, ttms=25, ttm=395,
                 ttr=465, detection="customer", impact="outage", root_cause="certificate-expiry",
                 customers=780, tickets=64, revenue=4200.0,
                 pm={"held": True, "delay_h": 26,
                     "actions": [("Automate certificate renewal (cert-manager)", "Jonas Weber", 10),
                                 ("Alert 21 days before any certificate expires", "Jonas Weber", 10),
                                 ("Synthetic TLS check on public endpoints", None, None)]})

    def payment_provider(self) -> None:
        start = local(dt.date(2026, 10, 21), 14, 5)
        self.add(source="pagerduty", title="[billing] Payment provider errors: Stripe API 503",
                 service="billing", severity="SEV2", start=start, ttd=4, tta=6, ttms=40, ttm=120,
                 ttr=135, detection="alert", impact="partial", root_cause="external-provider",
                 customers=310, tickets=22, revenue=9800.0,
                 pm={"held": True, "delay_h": 140,
                     "actions": [("Queue and retry failed card payments", None, None),
                                 ("Subscribe to Stripe status page in #incidents", "Sam Okafor", 7)]})

    def customer_reported(self) -> None:
        items = [("Scheduled CSV exports not delivered since last night", "ingest-worker", "SEV2"),
                 ("Dashboard totals stale: nightly aggregation job did not run", "search", "SEV3"),
                 ("Webhook deliveries delayed by more than 2 hours", "notifications", "SEV2"),
                 ("Invoice PDFs blank for customers with long line items", "billing", "SEV2"),
                 ("SSO login loop for Okta tenants", "auth", "SEV2"),
                 ("Reminder emails sent twice to end customers", "notifications", "SEV3"),
                 ("Search returns no results for invoices older than 2025", "search", "SEV3"),
                 ("Bank feed sync silently skipping accounts", "ingest-worker", "SEV2")]
        days = sorted(self.rng.sample(range(2, 88), len(items)))
        for (title, svc, sev), d in zip(items, days, strict=True):
            day = START + dt.timedelta(days=d)
            if day.weekday() >= 5:
                day += dt.timedelta(days=7 - day.weekday())
            start = local(day, self.rng.randint(6, 16), self.rng.randint(0, 59))
            ttd, ttms = self.rng.randint(90, 600), self.rng.randint(30, 120)
            ttm = ttd + ttms + self.rng.randint(30, 240)
            self.add(source="jira", title=title, service=svc, severity=sev, start=start,
                     ttd=ttd, tta=self.rng.randint(10, 60), ttms=ttms, ttm=ttm,
                     ttr=ttm + self.rng.randint(60, 900), detection="customer",
                     impact="degraded" if sev == "SEV2" else None,
                     root_cause="missing-monitoring",
                     customers=self.rng.randint(5, 150), tickets=self.rng.randint(2, 18),
                     pm={"held": sev == "SEV2" and self.rng.random() < 0.4, "delay_h": 150,
                         "actions": [("Add a business-level check for this flow", None, None)]})

    def disk(self) -> None:
        for mo, day in ((8, 19), (9, 16), (10, 13)):
            start = local(dt.date(2026, mo, day), self.rng.choice([2, 3, 4]), self.rng.randint(0, 59))
            self.add(source="pagerduty", title="[ingest-worker] Disk usage above 90% on /var/log",
                     service="ingest-worker", severity="SEV3", start=start, ttd=2,
                     tta=self.rng.randint(8, 35), ttms=30, ttm=45, ttr=self.rng.randint(50, 90),
                     detection="alert", root_cause="log-growth")

    def noise(self, n: int = 46) -> None:
        titles = [("[notifications] Queue depth high: email", "notifications"),
                  ("[search] Elevated latency on search queries", "search"),
                  ("[web-app] Synthetic check failed: login page", "web-app"),
                  ("[api] Memory usage above 85% on api pods", "api"),
                  ("[billing] Cron job failed: usage aggregation", "billing"),
                  ("[auth] Elevated 401 rate on token refresh", "auth"),
                  ("[ingest-worker] Job retries above threshold", "ingest-worker"),
                  ("[web-app] Frontend error rate elevated (Sentry)", "web-app"),
                  ("[api] Slow queries on invoices table", "api"),
                  ("[notifications] SMS provider delivery failures", "notifications")]
        for _ in range(n):
            title, svc = self.rng.choice(titles)
            d = START + dt.timedelta(days=self.rng.randint(0, 89))
            hour = self.rng.choices(range(24), weights=[2] * 7 + [5] * 12 + [3] * 5)[0]
            start = local(d, hour, self.rng.randint(0, 59))
            sev = self.rng.choices(["SEV2", "SEV3", "SEV4"], weights=[1, 6, 4])[0]
            ttr = self.rng.randint(15, 240) if sev != "SEV4" else self.rng.randint(30, 900)
            self.add(source="pagerduty", title=title, service=svc, severity=sev, start=start,
                     ttd=self.rng.randint(1, 8), tta=self.rng.randint(2, 45), ttms=None, ttm=None,
                     ttr=ttr, detection="alert", root_cause=None,
                     pm={"held": sev == "SEV2" and self.rng.random() < 0.5, "delay_h": 40,
                         "actions": [("Tune the alert threshold", "Marc Olsen", 14)]}
                     if sev == "SEV2" else None)

    def routine_deploys(self) -> None:
        d = START
        while d <= END:
            if d.weekday() < 5:
                for _ in range(self.rng.randint(2, 5)):
                    svc = self.rng.choice(SERVICES)
                    at = local(d, self.rng.randint(9, 15), self.rng.randint(0, 59))
                    outcome = self.rng.choices(["success", "failed", "rolled_back"],
                                               weights=[95, 2, 3])[0]
                    version = f"2026.{d.month:02d}.{d.day:02d}-{self.rng.randint(1, 9)}"
                    self.deploys.append({"at": at, "service": svc, "version": version,
                                         "outcome": outcome, "author": self.rng.choice(PEOPLE)})
            if d.weekday() == 4 and self.rng.random() < 0.6:
                svc = self.rng.choice(SERVICES)
                at = local(d, self.rng.randint(16, 18), self.rng.randint(0, 59))
                self.deploys.append({"at": at, "service": svc,
                                     "version": f"2026.{d.month:02d}.{d.day:02d}-9",
                                     "outcome": "success", "author": self.rng.choice(PEOPLE)})
            d += dt.timedelta(days=1)


# --- after the plan started: the exports re-taken for the day-30 check-in ---------------------

PLAN_START = dt.date(2026, 11, 9)
CHECKIN = dt.date(2026, 12, 9)


def after_plan(rng: random.Random) -> Story:
    """The month after the plan started, as the consultant finds it at the day-30 check-in:
    PgBouncer (24 Nov) ended the pool incidents after one more; the Friday freeze holds; a bad
    Tuesday deploy is rolled back in minutes; customers still report a webhook delay because the
    business alerts are blocked; the usual alert noise goes on."""
    later = Story(rng)
    later.add(source="pagerduty", title="[api] 5xx error rate above 5% - DB connection pool exhausted",
              service="api", severity="SEV2", start=local(dt.date(2026, 11, 12), 18, 21), ttd=4,
              tta=6, ttms=9, ttm=22, ttr=31, detection="alert", impact="partial",
              root_cause="db-connection-pool")
    later.add(source="pagerduty", title="[ingest-worker] Disk usage above 90% on /var/log",
              service="ingest-worker", severity="SEV3", start=local(dt.date(2026, 11, 10), 3, 12),
              ttd=2, tta=14, ttms=None, ttm=None, ttr=48, detection="alert", root_cause="log-growth")
    later.add(source="jira", title="Webhook deliveries delayed by more than 2 hours",
              service="notifications", severity="SEV2", start=local(dt.date(2026, 11, 19), 9, 40),
              ttd=170, tta=20, ttms=25, ttm=170 + 25 + 40, ttr=170 + 25 + 40 + 95,
              detection="customer", impact="degraded", root_cause="missing-monitoring",
              customers=40, tickets=9)
    deploy_at = local(dt.date(2026, 12, 1), 11, 5)
    later.deploys.append({"at": deploy_at, "service": "billing", "version": "2026.12.01-3",
                          "outcome": "rolled_back", "author": "Tom Becker"})
    later.add(source="pagerduty", title="[billing] Invoice generation failing after release 2026.12.01-3",
              service="billing", severity="SEV2", start=deploy_at + dt.timedelta(minutes=9), ttd=3,
              tta=4, ttms=5, ttm=14, ttr=40, detection="alert", impact="partial",
              root_cause="bad-deploy")
    titles = [("[notifications] Queue depth high: email", "notifications"),
              ("[search] Elevated latency on search queries", "search"),
              ("[web-app] Synthetic check failed: login page", "web-app"),
              ("[auth] Elevated 401 rate on token refresh", "auth"),
              ("[billing] Cron job failed: usage aggregation", "billing")]
    for _ in range(11):
        title, svc = rng.choice(titles)
        d = PLAN_START + dt.timedelta(days=rng.randint(0, (CHECKIN - PLAN_START).days))
        sev = rng.choices(["SEV3", "SEV4"], weights=[5, 4])[0]
        later.add(source="pagerduty", title=title, service=svc, severity=sev,
                  start=local(d, rng.randint(7, 21), rng.randint(0, 59)), ttd=rng.randint(1, 6),
                  tta=rng.randint(2, 25), ttms=None, ttm=None, ttr=rng.randint(15, 180),
                  detection="alert")
    d = dt.date(2026, 11, 2)
    while d <= CHECKIN:
        if d.weekday() < 5:
            for _ in range(rng.randint(2, 5)):
                later.deploys.append({
                    "at": local(d, rng.randint(9, 15), rng.randint(0, 59)),
                    "service": rng.choice(SERVICES),
                    "version": f"2026.{d.month:02d}.{d.day:02d}-{rng.randint(1, 9)}",
                    "outcome": rng.choices(["success", "failed", "rolled_back"], weights=[96, 2, 2])[0],
                    "author": rng.choice(PEOPLE)})
        d += dt.timedelta(days=1)
    return later


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def jira_date(t: dt.datetime) -> str:
    return t.astimezone(TZ).strftime("%d/%b/%y %I:%M %p")


def write_pagerduty(story: Story, path: Path, rng: random.Random, first_number: int = 1041) -> dict:
    header = ["id", "incident_number", "description", "service_id", "service_name",
              "escalation_policy_id", "escalation_policy_name", "created_on", "resolved_on",
              "seconds_to_first_ack", "seconds_to_resolve", "auto_resolved", "escalation_count",
              "auto_escalation_count", "acknowledge_count", "assignment_count",
              "acknowledged_by_user_ids", "acknowledged_by_user_names", "assigned_to_user_ids",
              "assigned_to_user_names", "resolved_by_user_id", "resolved_by_user_name", "urgency",
              "priority"]
    keys = {}
    pd_incidents = sorted((i for i in story.incidents if i["source"] == "pagerduty"),
                          key=lambda i: i["start"])
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for n, inc in enumerate(pd_incidents, start=first_number):
            pid = "Q" + "".join(rng.choice(alphabet) for _ in range(13))
            created = inc["start"] + dt.timedelta(minutes=inc["ttd"])
            resolved = inc["start"] + dt.timedelta(minutes=inc["ttr"])
            to_res = int((resolved - created).total_seconds())
            # PagerDuty cannot acknowledge a resolved incident
            to_ack = min(inc["tta"] * 60 + rng.randint(0, 59), max(to_res - 60, 0))
            ack_user = rng.choice(PEOPLE)
            svc_id = f"PSV{SERVICES.index(inc['service']):04d}"
            prio = {"SEV1": "P1", "SEV2": "P2", "SEV3": "P3", "SEV4": "P4"}[inc["severity"]]
            if inc["severity"] in ("SEV3", "SEV4") and rng.random() < 0.25:
                prio = ""  # no priority set: severity comes from urgency
            urgency = "high" if inc["severity"] in ("SEV1", "SEV2") else "low"
            w.writerow([pid, n, inc["title"], svc_id, inc["service"], "PESC001",
                        "Brightloop Engineering", iso(created), iso(resolved), to_ack, to_res,
                        "false", rng.randint(0, 2), 0, 1, 1, "PUSR" + str(PEOPLE.index(ack_user)),
                        ack_user, "PUSR" + str(PEOPLE.index(ack_user)), ack_user,
                        "PUSR" + str(PEOPLE.index(ack_user)), ack_user, urgency, prio])
            keys[id(inc)] = f"pagerduty:{pid}"
    return keys


def write_jira(story: Story, path: Path, rng: random.Random, first_number: int = 212) -> dict:
    header = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key",
              "Project name", "Priority", "Resolution", "Assignee", "Reporter", "Created",
              "Updated", "Resolved", "Labels", "Labels", "Component/s", "Component/s",
              "Description", "Custom field (Severity)", "Custom field (Impact Start)",
              "Custom field (Mitigated At)", "Custom field (Root Cause)",
              "Custom field (Customers Affected)", "Custom field (Support Tickets)",
              "Custom field (Revenue Impact)", "Custom field (Impact)"]
    keys = {}
    items = sorted((i for i in story.incidents if i["source"] == "jira"), key=lambda i: i["start"])
    prio = {"SEV1": "Highest", "SEV2": "High", "SEV3": "Medium", "SEV4": "Low"}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for n, inc in enumerate(items, start=first_number):
            key = f"INC-{n}"
            created = inc["start"] + dt.timedelta(minutes=inc["ttd"])
            resolved = inc["start"] + dt.timedelta(minutes=inc["ttr"])
            mitigated = inc["start"] + dt.timedelta(minutes=inc["ttm"]) if inc["ttm"] else None
            labels = ["customer-reported" if inc["detection"] == "customer" else "", "production"]
            desc = (f"Reported by support.\n{inc['customers'] or 'Several'} customers affected, "
                    f"\"{inc['title']}\". See #incident channel.")
            w.writerow([inc["title"], key, 10000 + n, "Incident", "Done", "INC", "Incidents",
                        prio[inc["severity"]], "Done", rng.choice(PEOPLE), "Support Bot",
                        jira_date(created), jira_date(resolved), jira_date(resolved), labels[0],
                        labels[1], inc["service"], "", desc, inc["severity"].replace("SEV", "Sev "),
                        jira_date(inc["start"]) if inc["detection"] == "customer" else "",
                        jira_date(mitigated) if mitigated else "", inc["root_cause"] or "",
                        inc["customers"] or "", inc["tickets"] or "",
                        inc.get("revenue") or "", inc["impact"] or ""])
            keys[id(inc)] = f"jira:{key}"
    return keys


def write_deploys(story: Story, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "service", "version", "outcome", "author"])
        for dep in sorted(story.deploys, key=lambda d: (d["at"], d["service"])):
            w.writerow([iso(dep["at"]), dep["service"], dep["version"], dep["outcome"],
                        dep["author"]])


def postmortems(story: Story, keys: dict, rng: random.Random) -> list[dict]:
    out = []
    for inc in sorted(story.incidents, key=lambda i: i["start"]):
        pm = inc.get("pm")
        if not pm or not pm["held"]:
            continue
        resolved = inc["start"] + dt.timedelta(minutes=inc["ttr"])
        held = resolved + dt.timedelta(hours=pm["delay_h"] or rng.randint(18, 44))
        entry = {
            "incident": keys[id(inc)],
            "held_at": iso(held.replace(minute=0, second=0)),
            "url": f"https://brightloop.atlassian.net/wiki/postmortems/{keys[id(inc)].split(':')[1]}",
            "root_cause": inc["root_cause"],
            "impact_start": iso(inc["start"]),
        }
        if inc.get("ttms"):
            entry["mitigation_started"] = iso(inc["start"] + dt.timedelta(minutes=inc["ttd"] + inc["ttms"]))
        if inc.get("ttm"):
            entry["mitigated"] = iso(inc["start"] + dt.timedelta(minutes=inc["ttm"]))
        entry["action_items"] = []
        for title, owner, due_days in pm["actions"]:
            item = {"title": title, "owner": owner,
                    "due": (held.date() + dt.timedelta(days=due_days)).isoformat() if due_days else None,
                    "done": bool(owner and due_days and rng.random() < 0.4)}
            entry["action_items"].append(item)
        out.append(entry)
    return out


def main(out: Path) -> None:
    rng = random.Random(SEED)
    story = Story(rng)
    story.pool_saturation()
    story.friday_deploys()
    story.certificate()
    story.payment_provider()
    story.customer_reported()
    story.disk()
    story.noise()
    story.routine_deploys()

    template = ROOT / "scripts" / "sample_template"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(template, out)
    staging = out / ".received"
    staging.mkdir()
    pd_path = staging / "pagerduty_incidents_2026-08-03_2026-10-31.csv"
    jira_path = staging / "jira_INC_incidents_export.csv"
    dep_path = staging / "deploys_2026-08-03_2026-10-31.csv"
    keys = write_pagerduty(story, pd_path, rng)
    keys.update(write_jira(story, jira_path, rng))
    write_deploys(story, dep_path)
    pms = postmortems(story, keys, rng)
    # the day-30 check-in: the exports re-taken after the plan started (their own seed, so the
    # assessment's files stay byte-identical)
    later = after_plan(random.Random(SEED + 1))
    later_rng = random.Random(SEED + 2)
    pd_later = staging / "pagerduty_incidents_2026-11-09_2026-12-09.csv"
    jira_later = staging / "jira_INC_incidents_export_2026-12-09.csv"
    dep_later = staging / "deploys_2026-11-02_2026-12-09.csv"
    write_pagerduty(later, pd_later, later_rng, first_number=1103)
    write_jira(later, jira_later, later_rng, first_number=223)
    write_deploys(later, dep_later)
    (out / "postmortems.yaml").write_text(
        "# Postmortems the consultant reviewed: when each was held, its timeline, action items.\n"
        + yaml.safe_dump({"postmortems": pms}, sort_keys=False, allow_unicode=True),
        encoding="utf-8")

    sys.path.insert(0, str(ROOT))
    from assess.engagement import load_engagement
    from assess.store import import_file

    engagement = load_engagement(out)
    for path in (pd_path, jira_path, dep_path, pd_later, jira_later, dep_later):
        report = import_file(engagement, path)
        print(f"{path.name}: {report.imported} rows, {len(report.rejected)} rejected")
    shutil.rmtree(staging)
    # imported_at is the only non-repeatable value: pin it so regeneration is byte-identical (the
    # assessment's exports on 2 November, the check-in's on 9 December)
    manifest = out / "imports.yaml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    text = manifest.read_text(encoding="utf-8")
    for entry in data["imports"]:
        day = "2026-12-09" if entry["file"].endswith(("2026-12-09.csv",)) else "2026-11-02"
        text = re.sub(rf"(- file: {re.escape(entry['file'])}\n(?:  .*\n)*?  imported_at: ).*",
                      rf"\g<1>'{day}T09:00:00+00:00'", text)
    manifest.write_text(text, encoding="utf-8")
    print(f"{len(story.incidents)} incidents, {len(story.deploys)} deploys, "
          f"{len(pms)} postmortems -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "sample_engagement")
